"""Draws the Slack messages delivery posts: cards, minimal cards, thread posts, escalations.

It receives what drawing needs (words, timezone, the sources, the card's availability and
the plugins' decorations) so that delivery depends on this, not on the app.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any

from chatops.cards import CardData, MessageView
from chatops.config import Settings
from chatops.i18n import Translator
from chatops.slack.card import (
    CardContext,
    render_card,
    render_escalation,
    render_minimal_card,
    render_thread_message,
)
from chatops.sources import Capability, Source

log = logging.getLogger(__name__)

#: For a card, each capability of its source: None if usable now, else why not (``Workflow.availability``).
Availability = Callable[[CardData], Mapping[Capability, str | None]]
#: The plugins' extra blocks for a card (``chatops_card_blocks``), one list per plugin.
Decorations = Callable[[CardData], Awaitable[Sequence[Sequence[Mapping[str, Any]] | None]]]


class SlackCardRenderer:
    """The :class:`chatops.delivery.CardRenderer` of the running bot."""

    def __init__(
        self,
        settings: Settings,
        t: Translator,
        sources: Mapping[str, Source],
        *,
        availability: Availability,
        decorations: Decorations,
    ) -> None:
        self.settings = settings
        self.t = t
        self.sources = sources
        self.availability = availability
        self.decorations = decorations

    def inbox_channel(self, source: str) -> str:
        """The Slack channel where a source's cards go."""
        found = self.sources.get(source)
        return (found.inbox_channel if found else None) or self.settings.slack.inbox_channel

    def source_name(self, source: str) -> str:
        """How people see a source's name (its display name, or the name itself when not enabled)."""
        found = self.sources.get(source)
        return found.display_name if found else source

    def context(self, card: CardData | None, source: str) -> CardContext:
        """Words, timezone and the source's abilities for rendering."""
        return CardContext(
            t=self.t,
            tz=self.settings.team.tz,
            source_name=self.source_name(source),
            capabilities=self.availability(card) if card is not None else {},
            hide_deletes=bool(found.hide_deletes) if (found := self.sources.get(source)) else False,
        )

    async def render_card(self, card: CardData) -> dict[str, Any]:
        """Card arguments for chat.postMessage / chat.update, with plugins' decorations."""
        extra: list[Mapping[str, Any]] = []
        for blocks in await self.decorations(card):
            if blocks is None:
                continue
            if not isinstance(blocks, Sequence) or isinstance(blocks, str | bytes):
                # A plugin returned one block, a number, …: drop it, never the card.
                log.warning(
                    "card %s: a plugin's decoration is a %s, not a list of blocks: dropped",
                    card.conversation_id,
                    type(blocks).__name__,
                )
                continue
            extra.extend(blocks)
        return render_card(card, self.context(card, card.source), extra)

    def render_minimal(self, card: CardData) -> dict[str, Any]:
        """The minimal card, shown when Slack refuses the full one or drawing it fails."""
        return render_minimal_card(card, self.context(card, card.source))

    def render_thread_message(self, message: MessageView, source: str, note: str | None) -> dict[str, Any]:
        """A thread post under a card."""
        return render_thread_message(message, self.context(None, source), note)

    def render_escalation(self, card: CardData, user: str, reason: str, card_url: str | None) -> dict[str, Any]:
        """The escalation channel post."""
        return render_escalation(
            card,
            self.context(None, card.source),
            user=user,
            reason=reason,
            leads=self.settings.slack.escalation_leads,
            card_url=card_url,
        )
