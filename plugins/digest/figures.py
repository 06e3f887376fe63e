"""The digest's figures for one window, counted by the database (see the README's definitions).

Every figure is a SQL aggregate over the core's tables, read-only, the same on SQLite and
PostgreSQL; nothing loads every message into Python. The definitions, in short:

- a conversation belongs to the window its first customer message arrived in
  (``conversations.created_at``: when the bot received it);
- it is *answered* when a reply from the team reached the source by ``as_of``: a reply a
  person sent from Slack that the platform accepted (``messages.delivery = 'sent'``,
  ``sent_by`` a Slack user, never a plugin's automatic reply), or an answer made directly on
  the platform (``direction = 'external'``);
- *first response time*: from the conversation's start to its first answer; in service hours
  too when the rota's are configured;
- a *breach*: a first answer later than the target, or no answer once the target has passed
  by ``as_of``;
- *negative*: a conversation carrying one of ``negative_tags``, or with a customer message a
  classifier marked ``messages.extra["sentiment"] = "negative"`` (its
  ``extra["sentiment_score"]``, -1 to 1, orders the worst first).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Protocol

from sqlalchemy.ext.asyncio import AsyncSession

from .periods import Window


@dataclass(frozen=True, slots=True)
class Durations:
    """How long something took, over ``count`` conversations, in seconds (None when count is 0).

    Percentiles are nearest-rank: the median of 1, 2, 3, 4 is 2; computed the same way on both databases.
    """

    count: int = 0
    median: float | None = None
    p90: float | None = None


@dataclass(frozen=True, slots=True)
class Linked:
    """A conversation a digest links to (its card), with what identifies it to a reader."""

    conversation_id: int
    source: str
    #: The post or channel it is on (``context_text`` or ``channel_name``), may be empty.
    label: str
    #: The first customer's name or handle, may be empty.
    author: str
    created_at: datetime
    slack_channel: str | None
    slack_ts: str | None
    #: The classifier's lowest sentiment score on it, when it has one.
    score: float | None = None


@dataclass(frozen=True, slots=True)
class Fan:
    """One of the most active customers: by conversations started or joined in the window."""

    name: str
    handle: str | None
    sources: tuple[str, ...]
    conversations: int
    messages: int


@dataclass(frozen=True, slots=True)
class PersonFigures:
    """One teammate in the window.

    ``handled``: conversations they sent an answer to during the window (any arrival day);
    ``first_answers``/``first_response``: conversations of the window whose first answer was theirs.
    """

    user: str
    handled: int
    first_answers: int
    first_response: Durations


@dataclass(frozen=True, slots=True)
class Figures:
    """Everything the digest says about one window."""

    window: Window
    #: New conversations per source, most first.
    by_source: tuple[tuple[str, int], ...] = ()
    #: Customer messages received (first messages and follow-ups).
    messages: int = 0
    answered: int = 0
    first_response: Durations = field(default_factory=Durations)
    #: The same in service hours; None when the rota's service hours are not configured.
    first_response_service: Durations | None = None
    #: Answered within the target (in service time when configured).
    within_target: int = 0
    breaches: int = 0
    #: Conversations resolved during the window (last resolution), and how long from start to it.
    resolution: Durations = field(default_factory=Durations)
    escalations: int = 0
    negative: int = 0
    fans: tuple[Fan, ...] = ()
    people: tuple[PersonFigures, ...] = ()
    #: Tags on the window's conversations, most used first.
    tags: tuple[tuple[str, int], ...] = ()

    @property
    def conversations(self) -> int:
        """New conversations, all sources."""
        return sum(count for _source, count in self.by_source)

    @property
    def unanswered(self) -> int:
        """The window's conversations without an answer by ``as_of``."""
        return self.conversations - self.answered

    @property
    def response_rate(self) -> float | None:
        """Answered share of the window's conversations (None for an empty window)."""
        return self.answered / self.conversations if self.conversations else None

    @property
    def within_target_share(self) -> float | None:
        """Share of the window's conversations answered within the target."""
        return self.within_target / self.conversations if self.conversations else None

    @property
    def negative_share(self) -> float | None:
        """Share of the window's conversations that are negative."""
        return self.negative / self.conversations if self.conversations else None

    @property
    def empty(self) -> bool:
        """Nothing happened: no conversation, message, answer, resolution or escalation."""
        return not (self.by_source or self.messages or self.people or self.resolution.count or self.escalations)


@dataclass(frozen=True, slots=True)
class Backlog:
    """What is open now: how many, the oldest, and the worst negative ones (links)."""

    open: int = 0
    oldest: Linked | None = None
    worst_negative: tuple[Linked, ...] = ()


@dataclass(frozen=True, slots=True)
class DayPoint:
    """One day of the chart."""

    day: date
    conversations: int
    median_first_response: float | None


class Hours(Protocol):
    """Service hours as the rota plugin gives them (``chatops_plugins.rota.service_hours.ServiceHours``)."""

    @property
    def configured(self) -> bool: ...

    def periods(self, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]: ...


@dataclass(frozen=True, slots=True)
class Options:
    """How figures are counted: the target, what is negative, how many to list, the service hours."""

    target_seconds: int
    negative_tags: tuple[str, ...] = ("complaint",)
    top: int = 5
    list_limit: int = 3
    #: The rota's service hours when configured, else None (wall-clock only).
    hours: Hours | None = None
    #: Only these sources (None: all). Room for digests per brand.
    sources: tuple[str, ...] | None = None


async def window_figures(session: AsyncSession, window: Window, options: Options) -> Figures:
    """The figures of ``window``."""
    raise NotImplementedError("figures: being written")


async def backlog(session: AsyncSession, now: datetime, options: Options) -> Backlog:
    """The open backlog at ``now``."""
    raise NotImplementedError("figures: being written")


async def daily_points(session: AsyncSession, windows: list[Window], options: Options) -> list[DayPoint]:
    """Conversations in and median first response (wall clock) per day, for the chart."""
    raise NotImplementedError("figures: being written")
