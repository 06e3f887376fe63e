"""The rows of ``chatops report``: every message and every action of a period, streamed from the database.

One SQL query (a ``UNION ALL`` of the period's messages and audit lines, ordered by time)
read through a server-side cursor in batches, so an export of a year holds one batch in
memory, never the period. The per-conversation values (tags, first answer) are correlated
subqueries on the conversation's own index, evaluated by the database for the rows it
returns. This module knows nothing about files: :mod:`.export` writes what it yields.

What a row says (the ``COLUMNS`` of the export, in order):

==================================  ==========================================================
``time_utc``                        when it happened, ISO 8601 in UTC (``…Z``), milliseconds: a
                                    customer's or platform message when the bot received it, a
                                    team reply when the platform accepted it (not yet accepted:
                                    when it was written), an action when it was done
``time_local``                      the same instant in the team's timezone, with its offset
``record``                          ``message`` or ``action``
``id``                              the message's or the audit line's id (unique per record)
``kind``                            a message: ``inbound`` (the customer), ``outbound`` (the team,
                                    from Slack), ``external`` (answered directly on the platform);
                                    an action: its name (``claimed``, ``tagged``, ``reply_sent``,
                                    ``rota.shift_added``, …; see ``chatops.events``)
``conversation_id``                 the conversation (empty for actions about none, e.g. ``rota.*``)
``source``                          where the conversation is (``facebook``, ``webhook``, …)
``author``                          inbound: the customer's name (and handle); outbound: who sent
                                    it; external: the account's name; action: who did it
``author_id``                       the author's id on the platform (a Slack user id for
                                    outbound); an action's actor
``agent``                           the Slack user who sent the reply or did the action
                                    (``bot:<plugin>`` for the bot); empty for customers, the
                                    platform and ``system``
``text``                            a message's text; an action's detail as compact JSON
``permalink``                       the message's link on its platform, when known
``card``                            the conversation's Slack card as ``channel/ts``
``status``                          the conversation's status now (new, claimed, replied, resolved)
``delivery``                        outbound only: ``pending``, ``sending``, ``sent``, ``failed``
``tags``                            the conversation's tags now, sorted, comma-separated
``first_response_seconds``          the conversation's first response time (the digest's
                                    definition: start to first answer by a person or on the
                                    platform), wall clock; empty while unanswered
``first_response_service_seconds``  the same in the rota's service hours; empty when they are
                                    not configured or it is unanswered
``conversation_created_utc``        when the conversation started (its first customer message)
==================================  ==========================================================

"Now" and "unanswered" are as the export is run (``as_of``), as in the digest's figures.
"""

from __future__ import annotations

import json
import re
from collections import OrderedDict
from collections.abc import AsyncGenerator
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import aliased

from chatops.events import BOT_ACTOR_PREFIX
from chatops.models import AuditEntry, Conversation, ConversationTag, Direction, Message, Tag, UTCDateTime
from chatops.models import Delivery as DeliveryState

from .figures import Hours
from .periods import Window
from .sqltime import ms_of

#: The export's columns, in order (documented in the module docstring; the README copies them).
COLUMNS: tuple[str, ...] = (
    "time_utc",
    "time_local",
    "record",
    "id",
    "kind",
    "conversation_id",
    "source",
    "author",
    "author_id",
    "agent",
    "text",
    "permalink",
    "card",
    "status",
    "delivery",
    "tags",
    "first_response_seconds",
    "first_response_service_seconds",
    "conversation_created_utc",
)
#: Rows fetched from the cursor at a time (and the progress bar's step).
BATCH = 1000
#: Conversations whose service-hours figure is remembered (rows of one conversation cluster in time).
_SERVICE_CACHE = 4096
#: Between tag names in the aggregate: a control character no cleaned tag contains.
_TAG_SEPARATOR = "\x1f"
#: A Slack user id (U…, W…): an action by a person, not by a customer or the system.
_SLACK_USER = re.compile(r"[UW][A-Z0-9]{2,}")
_OUTBOUND = Direction.OUTBOUND.value


class LogRow(NamedTuple):
    """One row of the log, as Python values (the writers format them).

    A named tuple rather than a frozen dataclass: a year's export makes millions of them.
    """

    at: datetime
    record: str
    id: int
    kind: str
    conversation_id: int | None
    source: str | None
    author: str | None
    author_id: str | None
    agent: str | None
    text: str
    permalink: str | None
    card: str | None
    status: str | None
    delivery: str | None
    tags: tuple[str, ...]
    #: Seconds from the conversation's start to its first answer (None: unanswered).
    first_response: float | None
    #: The same in service hours (None: unanswered, or no service hours configured).
    first_response_service: float | None
    conversation_created: datetime | None


def answer_time(message: Any) -> sa.ColumnElement[datetime]:
    """When ``message`` (a ``Message`` alias) answered its conversation, or NULL when it is no answer.

    The digest's definition: a reply a person sent from Slack that the platform accepted
    (never a plugin's automatic ``bot:…`` reply), or an answer made on the platform itself.
    """
    return sa.case(
        (
            sa.and_(
                message.direction == Direction.OUTBOUND.value,
                message.delivery == DeliveryState.SENT.value,
                message.sent_by.is_not(None),
                message.sent_by.not_like(f"{BOT_ACTOR_PREFIX}%"),
            ),
            message.sent_at,
        ),
        (message.direction == Direction.EXTERNAL.value, message.received_at),
        else_=sa.null(),
    )


def _events(window: Window) -> sa.Subquery:
    """The period's messages and audit lines as one relation (``at``, ``record``, ``id``, …)."""
    # A team reply counts when the platform accepted it; until then (pending, failed) when it was written.
    at: sa.ColumnElement[datetime] = sa.case(
        (Message.direction == Direction.OUTBOUND.value, sa.func.coalesce(Message.sent_at, Message.received_at)),
        else_=Message.received_at,
    )
    # One type for the union's column, so SQLite's stored strings come back as aware datetimes.
    at = sa.type_coerce(at, UTCDateTime)
    messages = sa.select(
        at.label("at"),
        sa.literal("message").label("record"),
        Message.id.label("id"),
        Message.direction.label("kind"),
        Message.conversation_id.label("conversation_id"),
        Message.source.label("source"),
        Message.author_name.label("author_name"),
        Message.author_handle.label("author_handle"),
        Message.author_id.label("author_id"),
        Message.sent_by.label("sent_by"),
        Message.text.label("text"),
        Message.permalink.label("permalink"),
        Message.delivery.label("delivery"),
    ).where(
        # A message's time is its received_at or its sent_at: this half lets the indexes on both
        # (core migration 0005) find the period's candidates; the exact test follows.
        sa.or_(
            sa.and_(Message.received_at >= window.start, Message.received_at < window.end),
            sa.and_(Message.sent_at >= window.start, Message.sent_at < window.end),
        ),
        at >= window.start,
        at < window.end,
    )
    actions = sa.select(
        sa.type_coerce(AuditEntry.at, UTCDateTime),
        sa.literal("action"),
        AuditEntry.id,
        AuditEntry.action,
        AuditEntry.conversation_id,
        sa.null(),
        AuditEntry.actor,
        sa.null(),
        sa.null(),
        sa.null(),
        # The detail as the database holds it (JSON text); re-serialised the same way for both databases.
        sa.cast(AuditEntry.detail, sa.Text),
        sa.null(),
        sa.null(),
    ).where(AuditEntry.at >= window.start, AuditEntry.at < window.end)
    return sa.union_all(messages, actions).subquery("events")


def count_query(window: Window) -> sa.Select[int, int]:
    """How many rows the period has, and how many conversations they are about."""
    events = _events(window)
    return sa.select(sa.func.count(), sa.func.count(sa.distinct(events.c.conversation_id))).select_from(events)


def rows_query(window: Window) -> sa.Select[Any]:
    """The period's rows in order (time, messages before actions at the same instant, then id)."""
    events = _events(window)
    conv = aliased(Conversation, name="conv")
    answer = aliased(Message, name="answer")
    answered_at = answer_time(answer)
    first_answer = (
        sa.select(sa.func.min(answered_at))
        .where(answer.conversation_id == conv.id, answered_at.is_not(None), answered_at <= window.as_of)
        .correlate(conv)
        .scalar_subquery()
    )
    tags = (
        sa.select(sa.func.aggregate_strings(Tag.name, _TAG_SEPARATOR))
        .select_from(ConversationTag)
        .join(Tag, Tag.id == ConversationTag.tag_id)
        .where(ConversationTag.conversation_id == conv.id)
        .correlate(conv)
        .scalar_subquery()
    )
    return (
        sa.select(
            events,
            conv.source.label("conversation_source"),
            conv.status,
            conv.slack_channel,
            conv.slack_ts,
            conv.created_at.label("conversation_created"),
            sa.type_coerce(first_answer, UTCDateTime).label("first_answer"),
            tags.label("tags"),
        )
        .select_from(events.outerjoin(conv, conv.id == events.c.conversation_id))
        # 'message' sorts after 'action': descending puts a message before the lines it caused.
        .order_by(events.c.at, events.c.record.desc(), events.c.id)
    )


async def count(session: AsyncSession, window: Window) -> tuple[int, int]:
    """``(rows, conversations)`` of the period."""
    found = (await session.execute(count_query(window))).one()
    return int(found[0]), int(found[1])


class _ServiceSeconds:
    """First response in service hours, per conversation, remembered for the last few thousand."""

    def __init__(self, hours: Hours | None) -> None:
        self.hours = hours
        self._known: OrderedDict[int, float] = OrderedDict()

    def __call__(self, conversation_id: int, start: datetime, answered: datetime) -> float | None:
        if self.hours is None:
            return None
        found = self._known.get(conversation_id)
        if found is None:
            found = sum((end - begin).total_seconds() for begin, end in self.hours.periods(start, answered))
            self._known[conversation_id] = found
            if len(self._known) > _SERVICE_CACHE:
                self._known.popitem(last=False)
        else:
            self._known.move_to_end(conversation_id)
        return found


async def stream(
    session: AsyncSession, window: Window, hours: Hours | None, *, batch: int = BATCH
) -> AsyncGenerator[list[LogRow], None]:
    """The period's rows, ``batch`` at a time, in order, from a server-side cursor.

    Read through the session's connection (Core), not the ORM: the rows are plain tuples,
    and the ORM's per-row loading would cost more than the query.
    """
    service = _ServiceSeconds(hours)
    connection = await session.connection()
    result = await connection.stream(rows_query(window).execution_options(yield_per=batch))
    try:
        async for part in result.partitions(batch):
            yield [_row(found, service) for found in part]
    finally:
        await result.close()


_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def _from_ms(ms: int) -> datetime:
    """An instant from :func:`~.sqltime.ms_of`'s whole milliseconds."""
    return _EPOCH + timedelta(milliseconds=ms)


def _row(found: Any, service: _ServiceSeconds) -> LogRow:
    """One database row (in :func:`rows_query`'s column order) as a :class:`LogRow`."""
    (
        at,
        record,
        id_,
        kind,
        conversation_id,
        source,
        author_name,
        author_handle,
        author_id,
        sent_by,
        text,
        permalink,
        delivery,
        conversation_source,
        status,
        slack_channel,
        slack_ts,
        created,
        first_answer,
        tags,
    ) = found
    wall = service_seconds = None
    if created is not None and first_answer is not None:
        # As the digest counts: each time in whole milliseconds first, and never below zero (a
        # reply stamped before its conversation by a replica whose clock is behind took no time).
        start, answered = ms_of(created), ms_of(first_answer)
        wall = max(0, answered - start) / 1000
        service_seconds = service(conversation_id, _from_ms(start), _from_ms(max(start, answered)))
    if record == "message":
        if kind == _OUTBOUND:
            # The core leaves a reply's author_name empty: the Slack user who sent it wrote it.
            author, author_id, agent = author_name or sent_by, author_id or sent_by, sent_by
        else:
            if author_name and author_handle and author_handle != author_name:
                author = f"{author_name} ({author_handle})"
            else:
                author = author_name or author_handle
            agent = delivery = None
        text = text or ""
    else:
        # An action: ``author_name`` holds the actor, ``text`` the detail.
        author = author_id = author_name
        agent = author_name if author_name.startswith(BOT_ACTOR_PREFIX) or _SLACK_USER.fullmatch(author_name) else None
        text = _compact_json(text)
        source = conversation_source
    return LogRow(
        at,
        record,
        id_,
        kind,
        conversation_id,
        source,
        author,
        author_id,
        agent,
        text,
        permalink,
        f"{slack_channel}/{slack_ts}" if slack_channel and slack_ts else None,
        status,
        delivery,
        tuple(sorted(tags.split(_TAG_SEPARATOR))) if tags else (),
        wall,
        service_seconds,
        created,
    )


def _compact_json(stored: str | None) -> str:
    """An audit line's detail as compact JSON with sorted keys (``""`` when it has none)."""
    if not stored:
        return ""
    try:
        detail = json.loads(stored)
    except ValueError:
        return stored
    if not detail:
        return ""
    return json.dumps(detail, ensure_ascii=False, sort_keys=True, separators=(",", ":"))
