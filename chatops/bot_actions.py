"""What a plugin may do to a conversation, acting as the bot.

A plugin routes new cards to the person on shift, answers out of hours, leaves a
note in a card's thread or redraws a card after its decoration changed. Each of
these is written to the audit log with the actor ``bot:<plugin>``, so the record
says who did it, and plugins hear of it as an event like any other change.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from chatops.events import bot_actor
from chatops.workflow import Outcome

if TYPE_CHECKING:
    from chatops.cards import CardData
    from chatops.store import Store
    from chatops.workflow import Workflow

#: A Slack user id, as ``assign`` takes it (``U…``, or ``W…`` on Enterprise Grid).
SLACK_USER_ID = re.compile(r"[UW][A-Z0-9]{2,}")
#: Longest note a plugin may add to a card's thread (Slack's section text limit leaves room for the prefix).
MAX_NOTE_LENGTH = 2800


class BotActions:
    """One plugin's hands on the conversations (``ctx.conversations``)."""

    def __init__(self, plugin: str, workflow: Workflow, store: Store) -> None:
        self.plugin = plugin
        self.actor = bot_actor(plugin)
        self._workflow = workflow
        self._store = store

    async def card(self, conversation_id: int) -> CardData | None:
        """The conversation as its card shows it (messages, owner, tags, status), or None if it is gone."""
        return await self._workflow.card(conversation_id)

    async def assign(self, conversation_id: int, user: str, *, replace: bool = False) -> bool:
        """Make Slack user ``user`` the owner; True when it changed.

        A conversation someone owns keeps its owner unless ``replace`` (a person working on
        a card is never interrupted by routing). The audit log says ``assigned`` by ``bot:<plugin>``.
        """
        if not SLACK_USER_ID.fullmatch(user):
            # Shown as <@user> on the card: a name would be a broken mention, mrkdwn might ping a channel.
            raise ValueError(f"assign needs a Slack user id (U… or W…), not {user!r}")
        result = await self._store.assign(conversation_id, user, self.actor, replace=replace)
        return result.ok

    async def auto_reply(self, conversation_id: int, text: str) -> Outcome:
        """Queue a public reply on the source, as the bot, without becoming the owner.

        The same checks as a person's reply apply (the source can reply, the text fits);
        a refusal comes back as ``Outcome(ok=False, message_key=…)``. The reply is sent,
        retried and shown on the card like any other.
        """
        card = await self._workflow.card(conversation_id)
        if card is None:
            return Outcome.refused("ephemeral.unknown")
        return await self._workflow.answer(card, self.actor, "reply", text, claim=False)

    async def note(self, conversation_id: int, text: str) -> bool:
        """Add a note to the card's thread (shown as from this plugin); False when the conversation is gone."""
        if not text.strip():
            raise ValueError("a note needs some text")
        return await self._store.queue_note(conversation_id, self.actor, text[:MAX_NOTE_LENGTH])

    async def refresh_card(self, conversation_id: int) -> None:
        """Redraw the card (asks every plugin for its decorations again)."""
        await self._store.refresh_card(conversation_id)
