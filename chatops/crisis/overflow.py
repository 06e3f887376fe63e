"""Overflow channels: while a flood waits for the inbox channel's pace, new cards go where they can be posted soonest.

Slack takes about one message per second per channel; ``[crisis] overflow_channels`` adds
channels, and so cards per second. Only new cards move: a card's updates and its thread
follow the card (``conversations.slack_channel``), and so do escalations posted in its
thread. On a quiet day (fewer than ``[crisis] overflow_backlog`` cards waiting) every card
stays in the inbox channel, even when two arrive within the same second.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence

log = logging.getLogger(__name__)

#: Answers meaning a channel takes no posts at all (not this one message): the overflow leaves it alone for a while.
CHANNEL_REFUSED = frozenset(
    {"channel_not_found", "not_in_channel", "is_archived", "restricted_action", "restricted_action_read_only_channel"}
)
#: How long an overflow channel that refused a post is left out of the choice.
REFUSED_SECONDS = 60.0


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
        self.clock: Callable[[], float] = time.monotonic
        #: Overflow channels that refused a post, and until when they are left out.
        self._refused_until: dict[str, float] = {}

    def choose(self, inbox: str) -> str:
        """Where a new card of a source whose inbox is ``inbox`` goes now."""
        if not self.channels or self.ready_in(inbox) <= 0.0 or self.waiting() < self.backlog:
            return inbox
        now = self.clock()
        usable = [c for c in self.channels if c != inbox and self._refused_until.get(c, 0.0) <= now]
        # min() keeps the first of equals: the inbox channel wins a tie.
        return min([inbox, *usable], key=self.ready_in)

    def refused(self, channel: str, error: str) -> None:
        """Slack answered ``error`` to a post in ``channel``: leave an overflow channel that takes no posts alone.

        A channel that fails every post looks "ready" at once (only posts that went through
        count against its pace), so without this it would take nearly every card of the flood,
        each failing until given up, while the inbox and the other channels work. The inbox
        channel is never left out: the cards belong there, and its own failures are the
        usual retries and alerts.
        """
        if error not in CHANNEL_REFUSED or channel not in self.channels:
            return
        if self._refused_until.get(channel, 0.0) <= self.clock():
            log.warning(
                "overflow channel %s refused a post (%s); leaving it out for %.0fs", channel, error, REFUSED_SECONDS
            )
        self._refused_until[channel] = self.clock() + REFUSED_SECONDS


__all__ = ["CHANNEL_REFUSED", "REFUSED_SECONDS", "OverflowChannels"]
