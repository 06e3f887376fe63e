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

How they are counted, precisely:

- the first answer is the earliest of the answers above (``sent_at`` for a reply,
  ``received_at`` for one on the platform) at or before ``as_of``; ``conversations.first_response_at``
  is not used (it includes automatic replies); simultaneous answers go by message id;
- durations are whole milliseconds (each stored time rounded half up, then subtracted), so both
  databases give the same numbers; median and p90 are nearest-rank (the k-th smallest,
  k = ceil(q·n));
- service time between a and b is S(b) − S(a), S(t) summing each open period's part before t;
  with service hours configured, the target and breaches are counted in it;
- ``as_of`` cuts answers, resolutions, people's replies, and the tags and classifier marks that
  make a conversation negative; messages in and escalations count by their time in the window;
- resolution: per conversation with a ``resolved`` audit line in the window (by ``as_of``), its
  last one there, minus the conversation's start: resolved, reopened and resolved again counts once;
- people: *handled* counts conversations a person's delivered reply went to during the window;
  an answer on the platform belongs to nobody; automatic replies (``sent_by`` ``bot:…``) to nobody;
- the backlog is the status now (``status IN OPEN_STATUSES``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any, Protocol

from sqlalchemy import (
    CTE,
    BigInteger,
    ColumnElement,
    FromClause,
    Row,
    Select,
    SQLColumnExpression,
    String,
    Subquery,
    and_,
    case,
    distinct,
    func,
    literal,
    or_,
    select,
    text,
    true,
    union,
    union_all,
)
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from chatops.models import (
    OPEN_STATUSES,
    AuditEntry,
    Conversation,
    ConversationTag,
    Delivery,
    Direction,
    Escalation,
    Message,
    Tag,
)

from .periods import Window
from .sqltime import binary_text, epoch_ms, json_number, ms_of, nearest_rank


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


# --- The queries -------------------------------------------------------------------------------
#
# Every time is compared as stored (indexes apply) and every duration is a difference of
# integer milliseconds (sqltime.epoch_ms), so SQLite and PostgreSQL give the same numbers.

#: A select of any columns.
_Query = Select[*tuple[Any, ...]]

_OUTBOUND = Direction.OUTBOUND.value
_INBOUND = Direction.INBOUND.value
_EXTERNAL = Direction.EXTERNAL.value
#: ``sent_by`` of a plugin's automatic reply (the rota's out-of-hours one is ``bot:rota``).
_BOT_SENDER = "bot:%"
_SENTIMENT, _SENTIMENT_NEGATIVE, _SENTIMENT_SCORE = "sentiment", "negative", "sentiment_score"


def _in_sources(column: SQLColumnExpression[str], options: Options) -> ColumnElement[bool]:
    """``column`` is one of the wanted sources (always true when all are wanted)."""
    return true() if options.sources is None else column.in_(options.sources)


def _person_reply(as_of: datetime) -> ColumnElement[bool]:
    """A message that is a person's reply the platform accepted by ``as_of``."""
    return and_(
        Message.direction == _OUTBOUND,
        Message.delivery == Delivery.SENT.value,
        Message.sent_by.not_like(_BOT_SENDER),
        Message.sent_at <= as_of,
    )


def _answer(as_of: datetime) -> ColumnElement[bool]:
    """A message that answers its conversation by ``as_of``: a person's reply, or an answer on the platform."""
    return or_(_person_reply(as_of), and_(Message.direction == _EXTERNAL, Message.received_at <= as_of))


def _window_conversations(window: Window, options: Options) -> _Query:
    """The ids of the window's conversations."""
    return select(Conversation.id.label("id")).where(
        Conversation.created_at >= window.start,
        Conversation.created_at < window.end,
        _in_sources(Conversation.source, options),
    )


def _first_answer_at(as_of: datetime, conversation_id: SQLColumnExpression[int]) -> ColumnElement[Any]:
    """When conversation ``conversation_id`` was first answered by ``as_of`` (NULL when it was not).

    The minimum over its few messages, found through ``ix_messages_conversation``: cheaper
    than :func:`_first_answer_id` (no ordering), for when who answered does not matter.
    """
    at = case((Message.direction == _OUTBOUND, Message.sent_at), else_=Message.received_at)
    return select(func.min(at)).where(Message.conversation_id == conversation_id, _answer(as_of)).scalar_subquery()


def _first_answer_id(as_of: datetime, conversation_id: SQLColumnExpression[int]) -> ColumnElement[int]:
    """The id of conversation ``conversation_id``'s first answer by ``as_of`` (NULL when none).

    Looked up through ``ix_messages_conversation`` (a few messages per conversation), never by
    ranking every message; the earliest answer time first, simultaneous ones by message id
    (the order they were stored in), so its time is the minimum of the answer times.
    """
    at = case((Message.direction == _OUTBOUND, Message.sent_at), else_=Message.received_at)
    return (
        select(Message.id)
        .where(Message.conversation_id == conversation_id, _answer(as_of))
        .order_by(at, Message.id)
        .limit(1)
        .scalar_subquery()
    )


def _answered_rows(window: Window, options: Options) -> CTE:
    """One row per conversation of the window: its source, start and first answer by ``as_of`` (ms), and whose it was.

    ``by`` is the person for a reply from Slack, NULL for an answer on the platform (nobody's).
    One lookup per conversation finds the first answer's id (:func:`_first_answer_id`); its
    time and sender are then read by primary key. Both steps are MATERIALIZED: the lookups run
    once per conversation however often the statement reads a row (both databases would
    otherwise inline them, PostgreSQL once per use of a value).
    """
    starts = (
        select(
            Conversation.id.label("id"),
            Conversation.source.label("source"),
            Conversation.created_at.label("created_at"),
            _first_answer_id(window.as_of, Conversation.id).label("answer_id"),
        )
        .where(
            Conversation.created_at >= window.start,
            Conversation.created_at < window.end,
            _in_sources(Conversation.source, options),
        )
        .cte("starts")
        .prefix_with("MATERIALIZED")
    )
    # Materialized too: each value is read more than once below, and would look its answer up each time.
    return _with_first_answer(starts, starts.c.source.label("source")).cte("window_rows").prefix_with("MATERIALIZED")


def _with_first_answer(starts: CTE, *keep: ColumnElement[Any]) -> _Query:
    """``starts`` (conversations' ``id``, ``created_at``, ``answer_id``) with start and answer in ms, and who answered.

    The answer's time and sender are read by primary key, one scalar lookup each: as a join,
    PostgreSQL's planner (which cannot tell how many conversations a window holds) may hash
    the whole messages table instead. ``starts`` is a MATERIALIZED CTE, so ``answer_id`` is
    looked up once per conversation; ``keep`` are more of its columns to carry along.
    """
    answer = aliased(Message, name="answer")
    outbound = answer.direction == _OUTBOUND
    mine = answer.id == starts.c.answer_id
    at = select(case((outbound, answer.sent_at), else_=answer.received_at)).where(mine).scalar_subquery()
    by = select(case((outbound, answer.sent_by))).where(mine).scalar_subquery()
    return select(
        starts.c.id.label("id"),
        *keep,
        epoch_ms(starts.c.created_at).label("created_ms"),
        epoch_ms(at).label("answered_ms"),
        by.label("by"),
    )


class _ServiceClock:
    """Service time in SQL: S(t), the service milliseconds between the first period's start and ``t``.

    The service seconds between a and b are S(b) − S(a). The periods are the rota's, computed in
    Python for the stretch that matters and handed to SQL as a small table of millisecond pairs.
    """

    def __init__(self, hours: Hours, start: datetime, end: datetime) -> None:
        pairs = [(ms_of(begin), ms_of(finish)) for begin, finish in hours.periods(start, end)]
        self.pairs = [(b, e) for b, e in pairs if e > b]
        self.table: CTE | None = None
        if self.pairs:
            rows = [select(literal(b, BigInteger).label("b"), literal(e, BigInteger).label("e")) for b, e in self.pairs]
            self.table = (rows[0] if len(rows) == 1 else union_all(*rows)).cte("service_periods")

    def at(self, t_ms: ColumnElement[int]) -> ColumnElement[int]:
        """S(``t_ms``): Σ over periods of clamp(t − begin, 0, length)."""
        if self.table is None:
            return literal(0, BigInteger)
        b, e = self.table.c.b, self.table.c.e
        clamped = case((t_ms <= b, 0), (t_ms >= e, e - b), else_=t_ms - b)
        return select(func.coalesce(func.sum(clamped), 0)).select_from(self.table).scalar_subquery()


def _ranked(values: ColumnElement[Any], group: ColumnElement[Any] | None = None) -> list[ColumnElement[Any]]:
    """``values``' rank among the non-NULL ones (1 = smallest) and how many there are, per ``group``.

    NULLs are ranked apart (databases order them differently), so a rank only means something
    where the value is not NULL.
    """
    partition: list[ColumnElement[Any]] = [] if group is None else [group]
    is_null = case((values.is_(None), 1), else_=0)
    return [
        func.row_number().over(partition_by=[*partition, is_null], order_by=values),
        func.count(values).over(partition_by=partition or None),
    ]


def _percentiles(
    value: ColumnElement[Any], rank: ColumnElement[Any], n: ColumnElement[Any]
) -> list[ColumnElement[Any]]:
    """Aggregates picking the nearest-rank median and p90 of ranked ``value`` rows (see :func:`_ranked`)."""
    known = value.is_not(None)
    return [
        func.max(case((and_(known, rank == nearest_rank(n, 50)), value))),
        func.max(case((and_(known, rank == nearest_rank(n, 90)), value))),
    ]


def _durations(values: ColumnElement[Any], source: FromClause, where: ColumnElement[bool]) -> _Query:
    """count, median and p90 (nearest rank) of ``values`` (ms) over ``source`` rows matching ``where``."""
    rank, n = _ranked(values)
    ranked = (
        select(values.label("d"), rank.label("rn"), n.label("n"))
        .select_from(source)
        .where(where, values.is_not(None))
        .subquery("ranked")
    )
    return select(func.count(), *_percentiles(ranked.c.d, ranked.c.rn, ranked.c.n))


def _as_durations(count: Any, median: Any, p90: Any) -> Durations:
    """Durations from a count and two millisecond values."""
    if not count or median is None or p90 is None:
        return Durations()
    return Durations(int(count), median / 1000, p90 / 1000)


def _elapsed(later: ColumnElement[Any], earlier: ColumnElement[Any]) -> ColumnElement[Any]:
    """``later - earlier`` in ms, never below zero: a reply stamped before its conversation (a
    replica whose clock is behind) took no time, rather than a negative time that would pass
    as within any target."""
    return case((later < earlier, 0), else_=later - earlier)


@asynccontextmanager
async def _tuned(session: AsyncSession) -> AsyncIterator[None]:
    """Settings for the digest's reads, undone afterwards.

    PostgreSQL: no JIT compilation. The per-conversation lookups make the planner's cost
    estimates large (it cannot know each conversation has a handful of messages), which
    crosses ``jit_above_cost``: compiling then took 1–1.7 s per statement for queries that run
    in 0.1–0.3 s. ``SET LOCAL`` ends with the transaction.

    SQLite is left as the bot configures it. A memory map (``PRAGMA mmap_size``) halved the
    backlog's time on a 1M-message file, but turns a disk read error into a crash of the
    whole bot, and the setting would outlive the digest on the pooled connection.
    """
    if session.get_bind().dialect.name == "postgresql":
        await session.execute(text("SET LOCAL jit = off"))
    yield


async def window_figures(session: AsyncSession, window: Window, options: Options) -> Figures:
    """The figures of ``window`` (see the module docstring for every definition)."""
    async with _tuned(session):
        return await _window_figures(session, window, options)


async def _window_figures(session: AsyncSession, window: Window, options: Options) -> Figures:
    summary, firsts, by_source = await _conversation_figures(session, window, options)
    answered_count, within, breaches, median, p90, service_count, service_median, service_p90 = summary
    conversations = _window_conversations(window, options)
    return Figures(
        window=window,
        by_source=tuple(sorted(by_source, key=lambda item: (-item[1], item[0]))),
        messages=await _messages(session, window, options),
        answered=int(answered_count),
        first_response=_as_durations(answered_count, median, p90),
        first_response_service=(
            _as_durations(service_count, service_median, service_p90) if options.hours is not None else None
        ),
        within_target=int(within),
        breaches=int(breaches),
        resolution=await _resolution(session, window, options),
        escalations=await _escalations(session, window, options),
        negative=await _negative_count(session, conversations, window.as_of, options),
        fans=await _fans(session, window, options),
        people=await _people(session, window, options, firsts),
        tags=await _tags(session, conversations, window.as_of, options),
    )


#: A row of :func:`_conversation_figures`' statement: which part it belongs to.
_SUMMARY, _FIRSTS, _SOURCES = 0, 1, 2


async def _conversation_figures(
    session: AsyncSession, window: Window, options: Options
) -> tuple[tuple[Any, ...], dict[str, tuple[int, Any, Any]], list[tuple[str, int]]]:
    """What the window's conversations say, in one statement over one lookup of each one's first answer.

    Returns the summary (answered, within target, breaches, median, p90, and the same three in
    service time), each person's first answers (user -> count, median, p90 in ms) and the
    conversations per source. The rows of :func:`_answered_rows` are made once and read by
    three arms of a UNION ALL, told apart by their first column.
    """
    rows = _answered_rows(window, options)
    as_of_ms = ms_of(window.as_of)
    target_ms = options.target_seconds * 1000
    answered = rows.c.answered_ms.is_not(None)
    frt = _elapsed(rows.c.answered_ms, rows.c.created_ms)
    # How long it waited for its answer, or has waited by as_of without one.
    waited_until = func.coalesce(rows.c.answered_ms, as_of_ms)
    waited = _elapsed(waited_until, rows.c.created_ms)
    service: ColumnElement[Any]
    if options.hours is not None:
        # Periods from the window's start to whichever is later of its end and as_of: every
        # created_at and answer time counted lies in between.
        clock = _ServiceClock(options.hours, window.start, max(window.end, window.as_of))
        waited = _elapsed(clock.at(waited_until), clock.at(rows.c.created_ms))
        service = case((answered, waited))
    else:
        # Unused without service hours; a typed NULL keeps one statement shape.
        service = case((answered, literal(None, BigInteger)))
    # Materialized: the service time is summed over the periods once per conversation.
    timed = (
        select(
            rows.c.source.label("source"),
            rows.c.by.label("by"),
            frt.label("frt"),
            waited.label("waited"),
            service.label("service"),
        )
        .cte("timed")
        .prefix_with("MATERIALIZED")
    )
    frt_rank, frt_n = _ranked(timed.c.frt)
    service_rank, service_n = _ranked(timed.c.service)
    # Each person's first answers ranked among theirs (by is NULL for unanswered ones and
    # answers on the platform: that group is not read).
    by_rank, by_n = _ranked(timed.c.frt, timed.c.by)
    ranks = select(
        timed.c.source,
        timed.c.by,
        timed.c.frt,
        timed.c.waited,
        timed.c.service,
        frt_rank.label("frt_rank"),
        frt_n.label("frt_n"),
        service_rank.label("service_rank"),
        service_n.label("service_n"),
        by_rank.label("by_rank"),
        by_n.label("by_n"),
    )
    # Materialized: the three arms below read it, the ranks are computed once.
    per_row = ranks.cte("per_row").prefix_with("MATERIALIZED")
    r = per_row.c
    no_text = literal(None, String)
    no_number = literal(None, BigInteger)
    summary = select(
        literal(_SUMMARY).label("part"),
        no_text.label("name"),
        func.count(r.frt).label("n"),
        func.coalesce(func.sum(case((and_(r.frt.is_not(None), r.waited <= target_ms), 1), else_=0)), 0).label("within"),
        func.coalesce(func.sum(case((r.waited > target_ms, 1), else_=0)), 0).label("breaches"),
        *_percentiles(r.frt, r.frt_rank, r.frt_n),
        func.count(r.service).label("service_n"),
        *_percentiles(r.service, r.service_rank, r.service_n),
    )
    by_person = (
        select(
            literal(_FIRSTS),
            r.by,
            func.count(),
            literal(0),
            literal(0),
            *_percentiles(r.frt, r.by_rank, r.by_n),
            literal(0),
            no_number,
            no_number,
        )
        .where(r.by.is_not(None))
        .group_by(r.by)
    )
    by_source = select(
        literal(_SOURCES), r.source, func.count(), literal(0), literal(0), no_number, no_number, literal(0), no_number,
        no_number,
    ).group_by(r.source)  # fmt: skip
    found = (await session.execute(union_all(summary, by_person, by_source))).all()
    head = next(tuple(row[2:]) for row in found if row[0] == _SUMMARY)
    firsts = {str(row[1]): (int(row[2]), row[5], row[6]) for row in found if row[0] == _FIRSTS}
    sources = [(str(row[1]), int(row[2])) for row in found if row[0] == _SOURCES]
    return head, firsts, sources


async def _messages(session: AsyncSession, window: Window, options: Options) -> int:
    """Customer messages received in the window (first ones and follow-ups)."""
    found = await session.scalar(
        select(func.count()).where(
            Message.direction == _INBOUND,
            Message.received_at >= window.start,
            Message.received_at < window.end,
            _in_sources(Message.source, options),
        )
    )
    return int(found or 0)


async def _resolution(session: AsyncSession, window: Window, options: Options) -> Durations:
    """From start to the last resolution in the window (by ``as_of``), over conversations resolved in it."""
    last = (
        select(AuditEntry.conversation_id.label("conversation_id"), func.max(AuditEntry.at).label("at"))
        .where(
            AuditEntry.action == "resolved",
            AuditEntry.at >= window.start,
            AuditEntry.at < window.end,
            AuditEntry.at <= window.as_of,
            AuditEntry.conversation_id.is_not(None),
        )
        .group_by(AuditEntry.conversation_id)
        .cte("resolved")
        .prefix_with("MATERIALIZED")
    )
    # The conversation's start by primary key, one lookup per resolved one (NULL when it is not
    # one of the wanted sources: such rows are left out, as a join would). As a join,
    # PostgreSQL hashed every conversation ever to find a week's.
    started = (
        select(epoch_ms(Conversation.created_at))
        .where(Conversation.id == last.c.conversation_id, _in_sources(Conversation.source, options))
        .scalar_subquery()
    )
    took = _elapsed(epoch_ms(last.c.at), started)
    measured = select(took.label("took")).cte("measured").prefix_with("MATERIALIZED")
    found = (await session.execute(_durations(measured.c.took, measured, true()))).one()
    return _as_durations(*found)


async def _escalations(session: AsyncSession, window: Window, options: Options) -> int:
    """Escalations raised in the window."""
    query = (
        select(func.count())
        .select_from(Escalation)
        .where(Escalation.escalated_at >= window.start, Escalation.escalated_at < window.end)
    )
    if options.sources is not None:
        query = query.join(Conversation, Conversation.id == Escalation.conversation_id).where(
            _in_sources(Conversation.source, options)
        )
    return int(await session.scalar(query) or 0)


async def _negative_count(session: AsyncSession, conversations: _Query, as_of: datetime, options: Options) -> int:
    """The window's conversations (``conversations``: a select of their ids) that are negative by ``as_of``."""
    negative = _negative_ids_for(conversations, options, as_of)
    return int(await session.scalar(select(func.count()).select_from(negative)) or 0)


def _negative_ids_for(ids: _Query, options: Options, as_of: datetime | None) -> Subquery:
    """The negative ones among ``ids`` (a select of conversation ids), one row each."""
    sentiment = Message.extra[_SENTIMENT].as_string() == _SENTIMENT_NEGATIVE
    by_message = select(Message.conversation_id.label("id")).where(
        Message.conversation_id.in_(ids), Message.direction == _INBOUND, sentiment
    )
    if as_of is not None:
        by_message = by_message.where(Message.received_at <= as_of)
    if not options.negative_tags:
        return by_message.distinct().subquery("negative")
    by_tag = (
        select(ConversationTag.conversation_id.label("id"))
        .join(Tag, Tag.id == ConversationTag.tag_id)
        .where(ConversationTag.conversation_id.in_(ids), Tag.name.in_(options.negative_tags))
    )
    if as_of is not None:
        by_tag = by_tag.where(ConversationTag.added_at <= as_of)
    # UNION (not ALL) keeps one row per conversation.
    return union(by_tag, by_message).subquery("negative")


async def _fans(session: AsyncSession, window: Window, options: Options) -> tuple[Fan, ...]:
    """The most active customers of the window: by conversations they wrote in, then messages."""
    if options.top <= 0:
        return ()
    written = and_(
        Message.direction == _INBOUND,
        Message.received_at >= window.start,
        Message.received_at < window.end,
        Message.author_id.is_not(None),
        _in_sources(Message.source, options),
    )
    # An author is an account on one platform: the same id on two sources is two people.
    # The name and handle an author had on their latest message of the window.
    latest = (
        select(
            Message.source.label("source"),
            Message.author_id.label("author_id"),
            Message.author_name.label("name"),
            Message.author_handle.label("handle"),
            func.row_number()
            .over(
                partition_by=(Message.source, Message.author_id),
                order_by=(Message.received_at.desc(), Message.id.desc()),
            )
            .label("rn"),
        )
        .where(written)
        .subquery("latest")
    )
    totals = (
        select(
            Message.source.label("source"),
            Message.author_id.label("author_id"),
            func.count(distinct(Message.conversation_id)).label("conversations"),
            func.count().label("messages"),
        )
        .where(written)
        .group_by(Message.source, Message.author_id)
        .subquery("totals")
    )
    name = func.coalesce(latest.c.name, latest.c.handle, totals.c.author_id)
    top = (
        await session.execute(
            select(totals.c.source, name, latest.c.handle, totals.c.conversations, totals.c.messages)
            .join(
                latest,
                and_(
                    latest.c.source == totals.c.source,
                    latest.c.author_id == totals.c.author_id,
                    latest.c.rn == 1,
                ),
            )
            .order_by(
                totals.c.conversations.desc(),
                totals.c.messages.desc(),
                binary_text(name),
                binary_text(totals.c.source),
                binary_text(totals.c.author_id),
            )
            .limit(options.top)
        )
    ).all()
    return tuple(
        Fan(
            name=str(row[1]),
            handle=row[2],
            sources=(str(row[0]),),
            conversations=int(row[3]),
            messages=int(row[4]),
        )
        for row in top
    )


async def _people(
    session: AsyncSession, window: Window, options: Options, firsts: dict[str, tuple[int, Any, Any]]
) -> tuple[PersonFigures, ...]:
    """Each teammate's conversations handled in the window and the window's first answers that were theirs.

    ``firsts``: user -> (first answers, median, p90 in ms), from :func:`_conversation_figures`.
    The most active first: most handled, then most first answers, then by name in byte order
    (as ``COLLATE "C"`` / ``BINARY`` would: Python's code point order is UTF-8's byte order).
    """
    if options.top <= 0:
        return ()
    handled = {
        str(user): int(count)
        for user, count in await session.execute(
            select(Message.sent_by, func.count(distinct(Message.conversation_id)))
            .where(
                _person_reply(window.as_of),
                Message.sent_at >= window.start,
                Message.sent_at < window.end,
                _in_sources(Message.source, options),
            )
            .group_by(Message.sent_by)
        )
    }
    none = (0, None, None)
    users = sorted(
        set(handled) | set(firsts),
        key=lambda user: (-handled.get(user, 0), -firsts.get(user, none)[0], user),
    )
    return tuple(
        PersonFigures(
            user=str(user),
            handled=handled.get(user, 0),
            first_answers=firsts.get(user, none)[0],
            first_response=_as_durations(*firsts.get(user, none)),
        )
        for user in users[: options.top]
    )


async def _tags(
    session: AsyncSession, conversations: _Query, as_of: datetime, options: Options
) -> tuple[tuple[str, int], ...]:
    """Tags on the window's conversations (put on by ``as_of``), most used first."""
    if options.top <= 0:
        return ()
    count = func.count()
    found = await session.execute(
        select(Tag.name, count)
        .join(ConversationTag, ConversationTag.tag_id == Tag.id)
        .where(ConversationTag.conversation_id.in_(conversations), ConversationTag.added_at <= as_of)
        .group_by(Tag.name)
        .order_by(count.desc(), binary_text(Tag.name))
        .limit(options.top)
    )
    return tuple((str(name), int(n)) for name, n in found)


# --- The backlog ---------------------------------------------------------------------------------


def _linked_query(where: ColumnElement[bool]) -> _Query:
    """Conversations matching ``where`` with what a link to them shows, their lowest score and customer messages."""
    inbound = and_(Message.conversation_id == Conversation.id, Message.direction == _INBOUND)
    first_author = (
        select(func.coalesce(Message.author_name, Message.author_handle, ""))
        .where(inbound)
        .order_by(Message.received_at, Message.id)
        .limit(1)
        .scalar_subquery()
    )
    score = select(func.min(json_number(Message.extra, _SENTIMENT_SCORE))).where(inbound).scalar_subquery()
    messages = select(func.count()).where(inbound).scalar_subquery()
    return select(
        Conversation.id,
        Conversation.source,
        func.coalesce(func.nullif(Conversation.context_text, ""), Conversation.channel_name, "").label("label"),
        first_author.label("author"),
        Conversation.created_at,
        Conversation.slack_channel,
        Conversation.slack_ts,
        score.label("score"),
        messages.label("messages"),
    ).where(where)


def _as_linked(row: Row[*tuple[Any, ...]]) -> Linked:
    return Linked(
        conversation_id=int(row.id),
        source=str(row.source),
        label=str(row.label or ""),
        author=str(row.author or ""),
        created_at=row.created_at,
        slack_channel=row.slack_channel,
        slack_ts=row.slack_ts,
        score=None if row.score is None else float(row.score),
    )


async def backlog(session: AsyncSession, now: datetime, options: Options) -> Backlog:
    """The open backlog at ``now``: how many are open, the oldest, the worst negative ones.

    Open is the status now (``status IN OPEN_STATUSES``), created by ``now``.
    """
    async with _tuned(session):
        return await _backlog(session, now, options)


async def _backlog(session: AsyncSession, now: datetime, options: Options) -> Backlog:
    is_open = and_(
        Conversation.status.in_(OPEN_STATUSES),
        Conversation.created_at <= now,
        _in_sources(Conversation.source, options),
    )
    # How many, and when the oldest started, in one pass over the open ones; the oldest is then
    # found by that time through the index on created_at (not by sorting them all).
    count, oldest_at = (
        await session.execute(
            select(func.count(), func.min(Conversation.created_at)).select_from(Conversation).where(is_open)
        )
    ).one()
    if not count:
        return Backlog()
    oldest_row = (
        await session.execute(
            _linked_query(and_(is_open, Conversation.created_at == oldest_at))
            .order_by(Conversation.created_at, Conversation.id)
            .limit(1)
        )
    ).one()
    worst: tuple[Linked, ...] = ()
    if options.list_limit > 0:
        worst = await _worst_negative(session, is_open, options)
    return Backlog(open=int(count), oldest=_as_linked(oldest_row), worst_negative=worst)


async def _worst_negative(session: AsyncSession, is_open: ColumnElement[bool], options: Options) -> tuple[Linked, ...]:
    """The open negative conversations, worst first (lowest score, unscored last; most messages; oldest).

    One pass over the open conversations' customer messages gives each its lowest score, its
    message count and whether the classifier marked any negative; the few listed are then
    looked up for their links.
    """
    negative_message = case((Message.extra[_SENTIMENT].as_string() == _SENTIMENT_NEGATIVE, 1), else_=0)
    per_conversation = (
        select(
            Conversation.id.label("id"),
            Conversation.created_at.label("created_at"),
            func.min(json_number(Message.extra, _SENTIMENT_SCORE)).label("score"),
            func.count().label("messages"),
            func.max(negative_message).label("classified"),
        )
        .join(Message, and_(Message.conversation_id == Conversation.id, Message.direction == _INBOUND))
        .where(is_open)
        .group_by(Conversation.id, Conversation.created_at)
        .subquery("open_inbound")
    )
    c = per_conversation.c
    negative: ColumnElement[bool] = c.classified == 1
    if options.negative_tags:
        tagged = (
            select(ConversationTag.conversation_id)
            .join(Tag, Tag.id == ConversationTag.tag_id)
            .where(Tag.name.in_(options.negative_tags))
        )
        negative = or_(negative, c.id.in_(tagged))
    order = (case((c.score.is_(None), 1), else_=0), c.score, c.messages.desc(), c.created_at, c.id)
    worst = select(c.id, c.score, c.messages, c.created_at).where(negative).order_by(*order).limit(options.list_limit)
    listed = worst.subquery("worst")
    found = await session.execute(
        _linked_query(true())
        .order_by(
            case((listed.c.score.is_(None), 1), else_=0),
            listed.c.score,
            listed.c.messages.desc(),
            listed.c.created_at,
            listed.c.id,
        )
        .join(listed, listed.c.id == Conversation.id)
    )
    return tuple(_as_linked(row) for row in found)


# --- The chart ------------------------------------------------------------------------------------


async def daily_points(session: AsyncSession, windows: list[Window], options: Options) -> list[DayPoint]:
    """Conversations in and median first response (wall clock, as of each window's ``as_of``) per day.

    Each day is counted exactly as :func:`window_figures` counts a window (the chart's tests
    compare them), but all the days that share an ``as_of`` (the chart's do: it is now) in one
    statement: the conversations from the first day's start to the last day's end, each given
    its day by a range join against a small table of the days' ``[start, end)``, first answers
    looked up once, ranked per day.
    """
    async with _tuned(session):
        return await _daily_points(session, windows, options)


async def _daily_points(session: AsyncSession, windows: list[Window], options: Options) -> list[DayPoint]:
    found: dict[int, tuple[int, Any]] = {}
    by_as_of: dict[datetime, list[int]] = {}
    for i, window in enumerate(windows):
        by_as_of.setdefault(window.as_of, []).append(i)
    for as_of, indexes in by_as_of.items():
        found.update(await _days_counted(session, [(i, windows[i]) for i in indexes], as_of, options))
    points = []
    for i, window in enumerate(windows):
        total, median = found.get(i, (0, None))
        points.append(DayPoint(window.first_day, total, None if median is None else median / 1000))
    return points


async def _days_counted(
    session: AsyncSession, days: list[tuple[int, Window]], as_of: datetime, options: Options
) -> dict[int, tuple[int, Any]]:
    """Per day (its index in ``days``): conversations started and their median first response by ``as_of`` (ms).

    Days without a conversation are left out.
    """
    stored = Conversation.created_at.type
    table = union_all(
        *(
            select(
                literal(i).label("day"),
                literal(window.start, stored).label("day_start"),
                literal(window.end, stored).label("day_end"),
            )
            for i, window in days
        )
    ).cte("days")
    rows = (
        select(
            table.c.day.label("day"),
            epoch_ms(Conversation.created_at).label("created_ms"),
            epoch_ms(_first_answer_at(as_of, Conversation.id)).label("answered_ms"),
        )
        .join(table, and_(Conversation.created_at >= table.c.day_start, Conversation.created_at < table.c.day_end))
        .where(
            # The whole stretch, so the index on created_at bounds the scan whatever the join order.
            Conversation.created_at >= min(window.start for _i, window in days),
            Conversation.created_at < max(window.end for _i, window in days),
            _in_sources(Conversation.source, options),
        )
        # Materialized: the first answers are looked up once per conversation.
        .cte("day_rows")
        .prefix_with("MATERIALIZED")
    )
    frt = _elapsed(rows.c.answered_ms, rows.c.created_ms)
    rank, n = _ranked(frt, rows.c.day)
    ranked = select(rows.c.day.label("day"), frt.label("d"), rank.label("rn"), n.label("n")).subquery("ranked")
    median, _p90 = _percentiles(ranked.c.d, ranked.c.rn, ranked.c.n)
    result = await session.execute(select(ranked.c.day, func.count(), median).group_by(ranked.c.day))
    return {int(day): (int(total), middle) for day, total, middle in result}
