"""Overflow channels: while a flood waits for the inbox channel's pace, new cards go where they can be posted soonest.

Slack takes about one message per second per channel; ``[crisis] overflow_channels`` adds
channels, and so cards per second. Only new cards move: a card's updates and its thread
follow the card (``conversations.slack_channel``), and so do escalations posted in its
thread. On a quiet day (fewer than ``[crisis] overflow_backlog`` cards waiting) every card
stays in the inbox channel, even when two arrive within the same second.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence


class OverflowChannels:
    """Chooses the channel of a new card: the inbox channel, or the overflow channel that may post soonest."""

    def __init__(
        self,
        channels: Sequence[str],
        *,
        ready_in: Callable[[str], float],
        waiting: Callable[[], int],
        backlog: int,
    ) -> None:
        """``ready_in``: seconds until a channel may take a post (the worker's pace);
        ``waiting``: how many card posts wait now (the backlog monitor's last count)."""
        self.channels = list(channels)
        self.ready_in = ready_in
        self.waiting = waiting
        self.backlog = backlog

    def choose(self, inbox: str) -> str:
        """Where a new card of a source whose inbox is ``inbox`` goes now."""
        if not self.channels or self.ready_in(inbox) <= 0.0 or self.waiting() < self.backlog:
            return inbox
        # min() keeps the first of equals: the inbox channel wins a tie.
        return min([inbox, *(c for c in self.channels if c != inbox)], key=self.ready_in)


__all__ = ["OverflowChannels"]
