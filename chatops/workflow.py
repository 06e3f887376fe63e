"""The rules: who may do what to a conversation, and what follows.

Slack handlers (and plugins acting as the bot) call these methods and show the
outcome; the store makes each change atomically, with its audit line, and plugins
hear of every change from that line once it is committed (see ``chatops.events``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from chatops.cards import CardData, load_card
from chatops.sources import Capability

if TYPE_CHECKING:
    from chatops.config import WorkflowConfig
    from chatops.i18n import Translator
    from chatops.sources import Source
    from chatops.store import Store

ANSWER_KINDS = {"reply": Capability.REPLY, "private_reply": Capability.PRIVATE_REPLY}


@dataclass(frozen=True, slots=True)
class Outcome:
    """The result of an action: done, or refused with a message for the person who tried."""

    ok: bool
    message_key: str | None = None
    values: dict[str, Any] = field(default_factory=dict)

    @classmethod
    def refused(cls, key: str, **values: Any) -> Outcome:
        """A refusal explained by the i18n text ``key``."""
        return cls(False, key, values)


DONE = Outcome(True)


class Workflow:
    """Applies the team's rules on top of the store."""

    def __init__(self, store: Store, sources: Mapping[str, Source], t: Translator, config: WorkflowConfig) -> None:
        self.store = store
        self.sources = sources
        self.t = t
        self.config = config

    async def card(self, conversation_id: int) -> CardData | None:
        """The current card data, or None if the conversation is gone."""
        return await load_card(self.store.db, conversation_id)

    def availability(self, card: CardData) -> dict[Capability, str | None]:
        """For each capability the card's source has: None if usable now, else why not."""
        source = self.sources.get(card.source)
        if source is None:
            return {}
        target = card.target()
        return {cap: source.unavailable_reason(cap, target) for cap in source.capabilities}

    async def claim(self, conversation_id: int, user: str) -> Outcome:
        """Take ownership; refused when someone else already has it."""
        result = await self.store.claim(conversation_id, user)
        if not result.ok:
            if not result.exists:
                return Outcome.refused("ephemeral.unknown")
            if result.assignee == user:
                return DONE
            return Outcome.refused("ephemeral.already_claimed", user=f"<@{result.assignee}>")
        return DONE

    async def unclaim(self, conversation_id: int, user: str) -> Outcome:
        """Give ownership back; only the owner may."""
        result = await self.store.unclaim(conversation_id, user)
        if not result.ok:
            if not result.exists:
                return Outcome.refused("ephemeral.unknown")
            if result.assignee is None:
                return Outcome.refused("ephemeral.not_claimed")
            return Outcome.refused("ephemeral.not_owner", user=f"<@{result.assignee}>")
        return DONE

    def check_answer(self, card: CardData, kind: str, text: str) -> Outcome:
        """Validate an answer before it is stored (empty, too long, not possible on the source)."""
        source = self.sources.get(card.source)
        capability = ANSWER_KINDS.get(kind)
        label = self.t(f"button.{kind}") if kind in ANSWER_KINDS else kind
        if source is None or capability is None or capability not in source.capabilities:
            return Outcome.refused("ephemeral.unavailable", action=label, reason=card.source)
        reason = source.unavailable_reason(capability, card.target())
        if reason:
            return Outcome.refused("ephemeral.unavailable", action=label, reason=reason)
        if not text.strip():
            return Outcome.refused("error.empty")
        length = source.reply_length(text)
        if length > source.max_reply_length:
            return Outcome.refused(
                "error.too_long", length=length, source=source.display_name, limit=source.max_reply_length
            )
        return DONE

    async def answer(self, card: CardData, user: str, kind: str, text: str, *, claim: bool = True) -> Outcome:
        """Store an answer and queue it for the platform (the text is safe before it is sent).

        ``claim=False`` leaves an unowned card unowned (an automatic reply by a plugin).
        """
        checked = self.check_answer(card, kind, text)
        if not checked.ok:
            return checked
        source = self.sources[card.source]
        once = kind == "private_reply" and source.private_reply_once
        message_id = await self.store.queue_answer(
            card.conversation_id, user, kind, text, card.root.id, once=once, claim=claim
        )
        if message_id is None:
            return Outcome.refused("ephemeral.already_answered", action=self.t(f"button.{kind}"))
        return DONE

    async def retry(self, message_id: int, user: str) -> Outcome:
        """Send a failed answer again."""
        if not await self.store.retry_answer(message_id, user):
            return Outcome.refused("ephemeral.not_failed")
        return DONE

    async def set_hidden(self, card: CardData, user: str, hidden: bool) -> Outcome:
        """Ask the platform to hide or unhide the customer's message."""
        source = self.sources.get(card.source)
        label = self.t("button.hide" if hidden else "button.unhide")
        if source is None or Capability.HIDE not in source.capabilities:
            return Outcome.refused("ephemeral.unavailable", action=label, reason=card.source)
        reason = source.unavailable_reason(Capability.HIDE, card.target())
        if reason:
            return Outcome.refused("ephemeral.unavailable", action=label, reason=reason)
        await self.store.queue_hide(card.conversation_id, card.root.id, user, hidden)
        return DONE

    async def set_tags(
        self,
        conversation_id: int,
        user: str,
        chosen: Iterable[str],
        typed: str | None,
        *,
        offered: Iterable[str] | None = None,
    ) -> Outcome:
        """Replace the conversation's tags with those chosen plus any typed new ones.

        ``offered`` (the options the Tag modal showed) limits what may be removed: a tag the
        person was not shown (past Slack's 100 options, or added by someone else meanwhile) stays.
        """
        names = list(chosen)
        new = [n for n in (typed or "").split(",") if n.strip()]
        if new and not self.config.allow_new_tags:
            return Outcome.refused("error.new_tags_off")
        await self.store.set_tags(conversation_id, user, names + new, removable=offered)
        return DONE

    async def tag_vocabulary(self) -> list[str]:
        """Configured tags plus every tag the team has used."""
        return sorted(set(self.config.tags) | set(await self.store.known_tags()))

    async def escalate(self, conversation_id: int, user: str, reason: str) -> Outcome:
        """Raise the conversation to the leads with a reason."""
        if not reason.strip():
            return Outcome.refused("error.empty")
        if await self.store.escalate(conversation_id, user, reason.strip()) is None:
            return Outcome.refused("ephemeral.already_escalated")
        return DONE

    async def resolve(self, conversation_id: int, user: str) -> Outcome:
        """Close the conversation (idempotent)."""
        await self.store.resolve(conversation_id, user)
        return DONE

    async def reopen(self, conversation_id: int, user: str) -> Outcome:
        """Open a resolved conversation again (idempotent)."""
        await self.store.reopen(conversation_id, user)
        return DONE
