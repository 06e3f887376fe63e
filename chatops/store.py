"""The few atomic operations on conversations, each one transaction with its outbox rows.

Every operation that changes what a card shows writes, in the same transaction,
the outbox job that will show it and an audit entry saying who did it. Rules about
*who may* do what live in ``chatops.workflow``; this module only makes each change
happen exactly once, race-free, on SQLite and PostgreSQL alike.
"""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import bindparam, case, delete, func, select, update
from sqlalchemy import insert as sa_insert
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncSession

from chatops import pg_ingest, sqlite_ingest
from chatops.cards import answered_kinds
from chatops.db import Database
from chatops.events import PENDING_EVENTS, ConversationEvent
from chatops.group_commit import GroupCommit
from chatops.models import (
    Assignment,
    AuditEntry,
    Conversation,
    ConversationTag,
    Delivery,
    Direction,
    Escalation,
    Message,
    OutboxJob,
    OutboxStatus,
    SourceState,
    Status,
    Tag,
    table_of,
    utcnow,
)
from chatops.priority import score_of
from chatops.sources import (
    Author,
    InboundEvent,
    InboundMessage,
    IngestResult,
    MessageEdited,
    MessageRemoved,
    SendResult,
    Target,
)

log = logging.getLogger(__name__)

# Outbox job kinds; delivery dispatches on these.
POST_CARD = "card.post"
UPDATE_CARD = "card.update"
POST_THREAD = "thread.post"
SEND_ANSWER = "answer.send"
SET_HIDDEN = "hidden.set"
POST_ESCALATION = "escalation.post"
POST_ALERT = "alert.post"
POST_NOTE = "note.post"

MAX_TAG_LENGTH = 64
#: Groups of customers' messages written at once on PostgreSQL (see :meth:`Store.ingest`). One: a group is
#: now four round trips, and two at once only made each group smaller, costing more CPU per message for
#: no more throughput (benchmarks/ingest.py on 2 CPUs: 0.29 against 0.36 ms per request at 16 connections).
POSTGRES_GROUPS_IN_FLIGHT = 1


@dataclass(frozen=True, slots=True)
class _Bump:
    """What a follow-up did to its conversation: reopened it, and the priority it now has."""

    reopened: bool
    priority: int


@dataclass(frozen=True, slots=True)
class ClaimResult:
    """Outcome of a claim: ``ok`` if this person now owns it, else who does."""

    ok: bool
    assignee: str | None
    exists: bool = True


def _insert(session: AsyncSession, table: Any) -> Any:
    """INSERT that understands ON CONFLICT on the session's engine."""
    dialect = session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)


@functools.cache
def _ingest_statements(dialect: str) -> tuple[Any, Any]:
    """The two INSERTs of every ingest, built once per dialect and run with parameters.

    Building them per message with ``.values(...)`` cost more than a third of the
    ingest time (profiled); the statement shape never changes, only the values. Each
    returns its row's natural key beside the id, so that a batch knows which row is whose.
    """
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    # On the tables, not the mapped classes: the ORM's bulk INSERT path walked every row's
    # attributes again and took about a third of a group's CPU time (profiled); the rows are
    # plain column values already, and Core applies the columns' defaults all the same.
    conversations, messages = table_of(Conversation), table_of(Message)
    conversation = (
        insert(conversations)
        .on_conflict_do_nothing(index_elements=["source", "thread_id"])
        .returning(conversations.c.id, conversations.c.source, conversations.c.thread_id)
    )
    message = (
        insert(messages)
        .on_conflict_do_nothing(index_elements=["source", "external_id"])
        .returning(messages.c.id, messages.c.source, messages.c.external_id)
    )
    return conversation, message


def _conversation_values(msg: InboundMessage, now: datetime) -> dict[str, Any]:
    """The row a message's new conversation starts with."""
    return {
        "source": msg.source,
        "thread_id": msg.thread_id,
        "channel_name": msg.channel_name,
        "context_text": msg.context.text if msg.context else None,
        "context_url": msg.context.url if msg.context else None,
        "status": Status.NEW.value,
        "priority": score_of(msg.extra),
        "followup_pending": False,
        "created_at": now,
        "updated_at": now,
        "last_inbound_at": now,
    }


def _message_values(conv_id: int, msg: InboundMessage, direction: Direction, now: datetime) -> dict[str, Any]:
    """The row of a stored message."""
    return {
        "conversation_id": conv_id,
        "source": msg.source,
        "external_id": msg.external_id,
        "direction": direction.value,
        "author_id": msg.author.id,
        "author_name": msg.author.name,
        "author_handle": msg.author.handle,
        "author_url": msg.author.url,
        "text": msg.text,
        "permalink": msg.url,
        "source_created_at": msg.created_at,
        "received_at": now,
        "extra": msg.extra,
        "kind": "comment",
        "hidden": False,
        "delivery_attempts": 0,
    }


class Store:
    """Transactions over the chatops tables; ``wake`` is called after work was queued."""

    def __init__(self, db: Database, wake: Callable[[], None] = lambda: None, *, reply_to_us_score: int = 0) -> None:
        self.db = db
        self._wake = wake
        #: Added to a follow-up's priority when the team had answered the conversation (see chatops.priority).
        self.reply_to_us_score = reply_to_us_score
        #: Customers' messages arriving at once (a webhook flood) share transactions: see :meth:`ingest`.
        self._customer_messages: GroupCommit[InboundMessage, IngestResult] = GroupCommit(
            lambda: self.db,
            self._store_customer_messages,
            committed=self._woken_by,
            # SQLite takes one writer at a time; PostgreSQL could take several groups at once (see the constant).
            in_flight=1 if db.is_sqlite else POSTGRES_GROUPS_IN_FLIGHT,
        )
        #: SQLite in a file: groups of new threads in one trip to the writer (see _start_threads_in_one_trip).
        self._new_threads = sqlite_ingest.NewThreads(db.engine.dialect) if db.sqlite_writer is not None else None

    def wake(self) -> None:
        """Tell delivery that work was queued."""
        self._wake()

    # -- helpers ---------------------------------------------------------------

    @staticmethod
    def add_audit(session: AsyncSession, conversation_id: int | None, actor: str, action: str, **detail: Any) -> None:
        """Add an audit line to the caller's transaction; plugins hear of it once it commits."""
        row = _audit_row(conversation_id, actor, action, detail)
        session.add(AuditEntry(**row))
        _announce(session, [row])

    @staticmethod
    def add_job(
        session: AsyncSession,
        kind: str,
        conversation_id: int | None = None,
        message_id: int | None = None,
        payload: dict[str, Any] | None = None,
    ) -> None:
        """Add an outbox job to the caller's transaction: it happens only if the transaction commits."""
        session.add(OutboxJob(**_job_row(kind, conversation_id, message_id, payload)))

    async def _enqueue_card_update(self, session: AsyncSession, conversation_id: int) -> None:
        # One pending, not-yet-picked update already renders the latest state.
        waiting = await session.scalar(_waiting_card_update(), {"b_conversation_id": conversation_id})
        if waiting is None:
            await session.execute(_core_insert(OutboxJob), [_job_row(UPDATE_CARD, conversation_id, None)])

    # -- inbound -----------------------------------------------------------------

    async def ingest(self, msg: InboundMessage) -> IngestResult:
        """Store a message once (by source + external id), and queue its card or thread post.

        Returns once the message is committed. A customer's message is stored together with
        those arriving at the same moment (group commit, :mod:`chatops.group_commit`): one
        transaction and one commit for a whole burst of webhooks instead of one each, and one
        wake-up of the delivery worker. Each result is what storing the message alone, in
        arrival order, would have given.
        """
        if not msg.from_account:
            return await self._customer_messages.submit(msg)
        async with self.db.write() as session:
            result = await self._ingest_account_answer(session, msg, utcnow())
        if result.message_id is not None and not result.duplicate:
            self._wake()
        return result

    async def _store_customer_messages(
        self, session: AsyncSession, msgs: Sequence[InboundMessage]
    ) -> list[IngestResult]:
        """One group of :meth:`ingest`: its customers' messages, in the group's transaction."""
        now = utcnow()
        started = await self._start_threads_in_one_trip(session, msgs, now)
        if started is not None:
            return started
        # Rows go in at commit rather than before each follow-up's query (as in ingest_many).
        with session.no_autoflush:
            return await self._ingest_customer_messages(session, msgs, now)

    async def _start_threads_in_one_trip(
        self, session: AsyncSession, msgs: Sequence[InboundMessage], now: datetime
    ) -> list[IngestResult] | None:
        """SQLite: a group whose messages each start a new thread (a flood of new comments), in one trip.

        Stored by :class:`chatops.sqlite_ingest.NewThreads` on the writer's connection, as
        :meth:`_ingest_customer_messages` would store it. None when that does not apply (PostgreSQL,
        an in-memory database, a thread or message there already): the group then goes that way.
        """
        if self._new_threads is None or self.db.sqlite_writer is None:
            return None
        if len({(m.source, m.thread_id) for m in msgs}) != len(msgs):
            return None
        if len({(m.source, m.external_id) for m in msgs}) != len(msgs):
            return None
        threads = [
            sqlite_ingest.NewThread(
                conversation=_conversation_values(m, now),
                message=_message_values(0, m, Direction.INBOUND, now),
                actor=_author_label(m.author),
                priority=score_of(m.extra),
            )
            for m in msgs
        ]
        store = functools.partial(self._new_threads.store, threads=threads, job_kind=POST_CARD, audit_at=utcnow())
        stored = await self.db.write_in_one_trip(session, store)
        if stored is None:
            return None
        _announce(session, stored.audits)
        return [IngestResult(c, m, new_conversation=True) for c, m in stored.ids]

    def _woken_by(self, results: Sequence[IngestResult]) -> None:
        """Wake delivery once for a committed group, when it queued anything."""
        if any(r.message_id is not None and not r.duplicate for r in results):
            self._wake()

    async def drain(self) -> None:
        """Wait until the messages handed to :meth:`ingest` so far are written (stopping uses it)."""
        await self._customer_messages.drain()

    async def ingest_many(self, events: Sequence[InboundEvent]) -> list[IngestResult]:
        """Store a batch of inbound events, in order, in ONE transaction: all of them or none.

        A platform's webhook batch (Meta sends up to 1,000 changes in one request) stored one
        transaction per event waited for the write lock and a commit 400 times, and took longer
        than Meta waits for an answer. Each result is what :meth:`ingest`, :meth:`apply_edit` or
        :meth:`apply_removal` would have returned for the event alone.
        """
        now = utcnow()
        results: list[IngestResult] = []
        async with self.db.write() as session:
            # Audit and outbox rows are flushed together at commit instead of before every statement:
            # a handful of multi-row INSERTs instead of two round trips per event. (A follow-up's
            # check for a waiting card update may then miss one queued in this batch, and queue a
            # second: the card is rendered twice, never wrong.)
            with session.no_autoflush:
                run: list[InboundMessage] = []
                for event in [*events, None]:
                    if isinstance(event, InboundMessage) and not event.from_account:
                        run.append(event)
                        continue
                    if run:
                        results.extend(await self._ingest_customer_messages(session, run, now))
                        run = []
                    if event is not None:
                        results.append(await self._ingest_one(session, event, now))
        if any(r.message_id is not None and not r.duplicate for r in results):
            self._wake()
        return results

    async def _ingest_one(self, session: AsyncSession, event: InboundEvent, now: datetime) -> IngestResult:
        if isinstance(event, MessageEdited):
            return await self._change_message(
                session, event.source, event.external_id, "edited", text=event.text, edited_at=event.edited_at or now
            )
        if isinstance(event, MessageRemoved):
            return await self._change_message(
                session, event.source, event.external_id, "removed", removed_at=event.removed_at or now
            )
        # Customer messages never come here: ingest_many stores runs of them as one batch.
        assert event.from_account, "customer messages are stored by _ingest_customer_messages"
        return await self._ingest_account_answer(session, event, now)

    async def _ingest_customer_messages(
        self, session: AsyncSession, msgs: Sequence[InboundMessage], now: datetime
    ) -> list[IngestResult]:
        """Store customer messages in the caller's transaction, in order, as if one after another.

        A message starts a conversation (and its card) unless its thread has one; a message
        stored before is a duplicate; one stored before in another thread (a source that changed
        its mind about a reply's parent) stays where it was, and the conversation just made for
        it is deleted again (nothing points at it yet), so nothing new is kept. One INSERT of the
        conversations, one SELECT of the ids of those that existed, one INSERT of the messages,
        one SELECT locking the conversations followed up and one of their waiting card updates:
        per-statement round trips, not rows, were the cost of a large webhook batch.

        Rows that other transactions may want too are taken in one order (conversations by
        thread, then by id), so that two batches stored at once on PostgreSQL (two replicas, or
        two groups of :meth:`ingest`) wait for each other instead of deadlocking.
        """
        dialect = session.get_bind().dialect.name
        # PostgreSQL: constant statements with arrays (chatops.pg_ingest); SQLite: executemany with
        # RETURNING, which SQLAlchemy sends as a few multi-row INSERTs ("insertmanyvalues").
        postgres = dialect == "postgresql"
        insert_conv, insert_msg = _ingest_statements(dialect)
        threads: dict[tuple[str, str], InboundMessage] = {}
        for msg in msgs:
            threads.setdefault((msg.source, msg.thread_id), msg)
        first: dict[tuple[str, str], InboundMessage] = {}
        for msg in msgs:
            first.setdefault((msg.source, msg.external_id), msg)
        new_rows = [_conversation_values(threads[key], now) for key in sorted(threads)]
        # One message per thread (a flood of new comments): on PostgreSQL, one statement tries it all
        # at once, for when every thread is new: each message stored then starts its conversation and
        # none is a follow-up, so its audit line and POST_CARD job go in with it (BEGIN, one statement,
        # COMMIT). When a thread had a conversation already, that statement stored the new ones only;
        # the messages go the general way below.
        starts_only = False
        audit_at = utcnow()
        created_rows: Sequence[Any]
        inserted: Sequence[Any] = []
        if postgres and len(first) == len(threads):
            created_rows, inserted = await pg_ingest.insert_new_threads(
                session,
                new_rows,
                [{**_message_values(0, m, Direction.INBOUND, now), "thread_id": m.thread_id} for m in first.values()],
                [_author_label(m.author) for m in first.values()],
                [score_of(m.extra) for m in first.values()],
                now,
                audit_at=audit_at,
                job_kind=POST_CARD,
                pending=OutboxStatus.PENDING.value,
            )
            starts_only = len(created_rows) == len(threads)
        elif postgres:
            created_rows = await pg_ingest.insert_conversations(session, new_rows, now)
        else:
            created_rows = (await session.execute(insert_conv, new_rows)).all()
        conv_of: dict[tuple[str, str], int] = {(source, thread): conv_id for conv_id, source, thread in created_rows}
        new_convs = set(conv_of.values())
        for source in {key[0] for key in threads if key not in conv_of}:
            wanted = [key[1] for key in threads if key[0] == source and key not in conv_of]
            found = await session.execute(
                select(Conversation.id, Conversation.thread_id).where(
                    Conversation.source == source, Conversation.thread_id.in_(wanted)
                )
            )
            conv_of.update({(source, thread): conv_id for conv_id, thread in found.all()})
        stored: dict[tuple[str, str], int] = {}
        if not starts_only:
            rows = [
                _message_values(conv_of[(m.source, m.thread_id)], m, Direction.INBOUND, now) for m in first.values()
            ]
            if postgres:
                inserted = await pg_ingest.insert_messages(session, rows, now)
            else:
                inserted = (await session.execute(insert_msg, rows)).all()
        stored.update({(source, ext): message_id for message_id, source, ext in inserted})
        # Conversations made only for messages already stored elsewhere are undone.
        used = {conv_of[(m.source, m.thread_id)] for m in first.values() if (m.source, m.external_id) in stored}
        unused = new_convs - used
        if unused:
            await session.execute(delete(Conversation).where(Conversation.id.in_(unused)))
        # What each message is: a duplicate (no id), the start of a new conversation, or a follow-up.
        carded: set[int] = set()
        plan: list[tuple[InboundMessage, int, int | None, bool]] = []
        for msg in msgs:
            conv_id = conv_of[(msg.source, msg.thread_id)]
            message_id = stored.pop((msg.source, msg.external_id), None)  # popped: a repeat here is a duplicate
            starts = message_id is not None and conv_id in new_convs and conv_id not in carded
            if starts:
                carded.add(conv_id)
            plan.append((msg, conv_id, message_id, starts))
        followed = sorted({conv_id for _, conv_id, message_id, starts in plan if message_id is not None and not starts})
        convs = await _lock_conversations(session, followed)
        waiting = await _waiting_card_updates(session, [c for c in followed if c not in new_convs])
        results: list[IngestResult] = []
        audits: list[dict[str, Any]] = []
        jobs: list[dict[str, Any]] = []
        for msg, conv_id, message_id, starts in plan:
            if message_id is None:
                key = (msg.source, msg.external_id)
                known = conv_id if conv_id not in unused else await self._conversation_of(session, *key)
                results.append(IngestResult(known, None, duplicate=True))
                continue
            audits.append(
                _audit_row(conv_id, _author_label(msg.author), "received", {"message_id": message_id}, at=audit_at)
            )
            if starts:
                jobs.append(_job_row(POST_CARD, conv_id, None, priority=score_of(msg.extra)))
                results.append(IngestResult(conv_id, message_id, new_conversation=True))
                continue
            bump = self._bump_for_followup(convs[conv_id], now, score_of(msg.extra))
            if bump.reopened:
                audits.append(_audit_row(conv_id, "customer", "reopened", {"reason": "follow-up"}))
            jobs.append(_job_row(POST_THREAD, conv_id, message_id, priority=bump.priority))
            if conv_id not in waiting:
                # One pending, not-yet-picked update already renders the latest state.
                waiting.add(conv_id)
                jobs.append(_job_row(UPDATE_CARD, conv_id, None))
            results.append(IngestResult(conv_id, message_id))
        if starts_only:  # stored with the messages already
            _announce(session, audits)
            return results
        if postgres and audits and jobs:
            await pg_ingest.insert_audit_and_jobs(session, audits, jobs, OutboxStatus.PENDING.value)
            _announce(session, audits)
            return results
        # Plain executemany (no RETURNING) into the tables: the cheapest way in for hundreds of rows.
        if audits:
            await session.execute(sa_insert(table_of(AuditEntry)), audits)
            _announce(session, audits)
        if jobs:
            await session.execute(sa_insert(table_of(OutboxJob)), jobs)
        return results

    @staticmethod
    async def _conversation_of(session: AsyncSession, source: str, external_id: str) -> int | None:
        return await session.scalar(
            select(Message.conversation_id).where(Message.source == source, Message.external_id == external_id)
        )

    async def _insert_message(
        self, session: AsyncSession, conv_id: int, msg: InboundMessage, direction: Direction, now: datetime
    ) -> int | None:
        values = _message_values(conv_id, msg, direction, now)
        stmt = _ingest_statements(session.get_bind().dialect.name)[1]
        return await session.scalar(stmt, values)

    def _bump_for_followup(self, conv: Conversation, now: datetime, score: int) -> _Bump:
        """A customer wrote again: the card needs attention, and a resolved one reopens.

        ``conv`` is locked by the caller. The follow-up's ``score`` raises the conversation's
        priority, and more so when the team had answered (a reply to our reply). The caller
        writes the "reopened" audit line after the message's "received", so that the log and
        the events plugins hear keep that order.
        """
        conv.last_inbound_at = now
        conv.followup_pending = True
        reopened = conv.status == Status.RESOLVED.value
        if conv.first_response_at is not None:
            score += self.reply_to_us_score
        conv.priority = max(conv.priority or 0, score)
        if conv.status in (Status.RESOLVED.value, Status.REPLIED.value):
            conv.status = Status.CLAIMED.value if conv.assignee else Status.NEW.value
            conv.resolved_at = None
        return _Bump(reopened, conv.priority)

    async def _ingest_account_answer(self, session: AsyncSession, msg: InboundMessage, now: datetime) -> IngestResult:
        """Record an answer the team's own account made directly on the platform."""
        conv_id = await session.scalar(
            select(Conversation.id).where(Conversation.source == msg.source, Conversation.thread_id == msg.thread_id)
        )
        if conv_id is None:
            # The account's own posts and comments outside customer threads are not work.
            return IngestResult(None, None)
        already = await session.scalar(
            select(Message.id).where(Message.source == msg.source, Message.external_id == msg.external_id)
        )
        if already is not None:
            return IngestResult(conv_id, already, duplicate=True)
        message_id = await self._insert_message(session, conv_id, msg, Direction.EXTERNAL, now)
        if message_id is None:
            return IngestResult(conv_id, None, duplicate=True)
        conv = await _lock_conversation(session, conv_id)
        conv.first_response_at = conv.first_response_at or now
        conv.followup_pending = False
        if conv.status in (Status.NEW.value, Status.CLAIMED.value):
            conv.status = Status.REPLIED.value
        self.add_audit(session, conv_id, _author_label(msg.author), "answered_on_platform", message_id=message_id)
        self.add_job(session, POST_THREAD, conv_id, message_id)
        await self._enqueue_card_update(session, conv_id)
        return IngestResult(conv_id, message_id)

    async def apply_edit(self, event: MessageEdited) -> IngestResult:
        """Record a new text for a stored message (``conversation_id`` is None when it is unknown)."""
        async with self.db.write() as session:
            result = await self._change_message(
                session,
                event.source,
                event.external_id,
                "edited",
                text=event.text,
                edited_at=event.edited_at or utcnow(),
            )
        if result.message_id is not None and not result.duplicate:
            self._wake()
        return result

    async def apply_removal(self, event: MessageRemoved) -> IngestResult:
        """Mark a stored message as removed by its author (``conversation_id`` is None when it is unknown)."""
        async with self.db.write() as session:
            result = await self._change_message(
                session, event.source, event.external_id, "removed", removed_at=event.removed_at or utcnow()
            )
        if result.message_id is not None and not result.duplicate:
            self._wake()
        return result

    async def _change_message(
        self, session: AsyncSession, source: str, external_id: str, action: str, **values: Any
    ) -> IngestResult:
        msg = await session.scalar(select(Message).where(Message.source == source, Message.external_id == external_id))
        if msg is None:
            return IngestResult(None, None)
        unchanged = (action == "edited" and msg.text == values["text"]) or (
            action == "removed" and msg.removed_at is not None
        )
        if unchanged:
            return IngestResult(msg.conversation_id, msg.id, duplicate=True)  # a redelivery
        previous = msg.text
        for key, value in values.items():
            setattr(msg, key, value)
        detail: dict[str, Any] = {"message_id": msg.id}
        if action == "edited":
            detail["previous_text"] = previous
        self.add_audit(session, msg.conversation_id, msg.author_name or "customer", action, **detail)
        self.add_job(session, POST_THREAD, msg.conversation_id, msg.id, {"note": action})
        await self._enqueue_card_update(session, msg.conversation_id)
        return IngestResult(msg.conversation_id, msg.id)

    async def claim(self, conversation_id: int, user: str) -> ClaimResult:
        """Make ``user`` the owner, only if nobody owns it (one conditional UPDATE: race-free)."""
        now = utcnow()
        async with self.db.write() as session:
            result = await session.execute(_claim(), {"b_id": conversation_id, "b_user": user, "b_at": now})
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return await _current_owner(session, conversation_id)
            await session.execute(
                _core_insert(Assignment),
                [{"conversation_id": conversation_id, "assignee": user, "assigned_by": user, "assigned_at": now}],
            )
            await _add_audit_now(session, conversation_id, user, "claimed")
            await self._enqueue_card_update(session, conversation_id)
        self._wake()
        return ClaimResult(True, user)

    async def assign(self, conversation_id: int, assignee: str, actor: str, *, replace: bool = False) -> ClaimResult:
        """Make ``assignee`` the owner on someone else's behalf (``actor``, e.g. ``bot:rota``).

        An owned conversation keeps its owner unless ``replace``: a plugin routing new cards
        must not take a card from the person working on it. ``ok`` is False when nothing
        changed (owned, already theirs, or gone); ``assignee`` is then the owner.
        """
        now = utcnow()
        async with self.db.write() as session:
            conv = await session.get(Conversation, conversation_id, with_for_update={"key_share": True})
            if conv is None:
                return ClaimResult(False, None, exists=False)
            previous = conv.assignee
            if previous == assignee or (previous is not None and not replace):
                return ClaimResult(False, previous)
            if previous is not None:
                await _release_assignment(session, conversation_id, now)
            _take_ownership(session, conv, assignee, actor, now)
            conv.updated_at = now
            self.add_audit(session, conversation_id, actor, "assigned", assignee=assignee, previous=previous)
            await self._enqueue_card_update(session, conversation_id)
        self._wake()
        return ClaimResult(True, assignee)

    async def queue_note(self, conversation_id: int, actor: str, text: str) -> bool:
        """Queue a note in the card's thread (posted once the card is); False when the conversation is gone."""
        async with self.db.write() as session:
            if await session.get(Conversation, conversation_id) is None:
                return False
            self.add_audit(session, conversation_id, actor, "noted", text=text)
            self.add_job(session, POST_NOTE, conversation_id, None, {"text": text, "actor": actor})
        self._wake()
        return True

    async def refresh_card(self, conversation_id: int) -> None:
        """Queue a redraw of the card (a plugin's decoration changed)."""
        async with self.db.write() as session:
            await self._enqueue_card_update(session, conversation_id)
        self._wake()

    async def unclaim(self, conversation_id: int, user: str) -> ClaimResult:
        """Release ownership, only if ``user`` is the owner."""
        now = utcnow()
        async with self.db.write() as session:
            result = await session.execute(_unclaim(), {"b_id": conversation_id, "b_user": user, "b_at": now})
            if result.rowcount != 1:  # type: ignore[attr-defined]
                return await _current_owner(session, conversation_id)
            await _release_assignment(session, conversation_id, now)
            await _add_audit_now(session, conversation_id, user, "unclaimed")
            await self._enqueue_card_update(session, conversation_id)
        self._wake()
        return ClaimResult(True, None)

    async def queue_answer(
        self,
        conversation_id: int,
        user: str,
        kind: str,
        text: str,
        in_reply_to_id: int | None = None,
        *,
        once: bool = False,
        claim: bool = True,
    ) -> int | None:
        """Store an answer (reply or private reply) before sending it, and queue the send.

        With ``once``, returns None instead when an answer of this kind to the same message
        is already sent or on its way (platforms that allow one private reply per comment).
        ``user`` is who answers: a Slack user id, or ``bot:<plugin>`` for an automatic reply,
        which passes ``claim=False`` so that the card stays free for a person.
        """
        now = utcnow()
        async with self.db.write() as session:
            conv = await _lock_conversation(session, conversation_id)
            target_id = in_reply_to_id or await self._latest_inbound_id(session, conversation_id)
            if once and target_id is not None and kind in await answered_kinds(session, target_id):
                return None
            msg = Message(
                conversation_id=conversation_id,
                source=conv.source,
                external_id=None,
                direction=Direction.OUTBOUND.value,
                author_id=user,
                text=text,
                kind=kind,
                in_reply_to_id=target_id,
                sent_by=user,
                delivery=Delivery.PENDING.value,
                received_at=now,
                extra={},
                hidden=False,
                delivery_attempts=0,
            )
            session.add(msg)
            await session.flush()
            if conv.assignee is None and claim:
                # Whoever answers an unowned card owns it: the card shows who is on it.
                _take_ownership(session, conv, user, user, now)
                self.add_audit(session, conversation_id, user, "claimed", by="answer")
            self.add_audit(session, conversation_id, user, f"{kind}_queued", message_id=msg.id)
            self.add_job(session, SEND_ANSWER, conversation_id, msg.id)
            await self._enqueue_card_update(session, conversation_id)
            message_id = msg.id
        self._wake()
        return message_id

    async def _latest_inbound_id(self, session: AsyncSession, conversation_id: int) -> int | None:
        return await session.scalar(
            select(Message.id)
            .where(Message.conversation_id == conversation_id, Message.direction == Direction.INBOUND.value)
            .order_by(Message.id.desc())
            .limit(1)
        )

    async def retry_answer(self, message_id: int, user: str) -> bool:
        """Queue a failed answer again; False when it is not in a failed state (already retried)."""
        async with self.db.write() as session:
            result = await session.execute(
                update(Message)
                .where(Message.id == message_id, Message.delivery == Delivery.FAILED.value)
                .values(delivery=Delivery.PENDING.value, delivery_error=None)
                .returning(Message.conversation_id)
            )
            conv_id = result.scalar_one_or_none()
            if conv_id is None:
                return False
            self.add_audit(session, conv_id, user, "retry", message_id=message_id)
            self.add_job(session, SEND_ANSWER, conv_id, message_id)
            await self._enqueue_card_update(session, conv_id)
        self._wake()
        return True

    async def queue_hide(self, conversation_id: int, message_id: int, user: str, hidden: bool) -> None:
        """Queue hiding or unhiding the customer's message on the platform."""
        async with self.db.write() as session:
            action = "hide_requested" if hidden else "unhide_requested"
            self.add_audit(session, conversation_id, user, action, message_id=message_id)
            self.add_job(session, SET_HIDDEN, conversation_id, message_id, {"hidden": hidden, "requested_by": user})
        self._wake()

    async def set_tags(
        self, conversation_id: int, user: str, names: Iterable[str], *, removable: Iterable[str] | None = None
    ) -> tuple[list[str], list[str]]:
        """Make the conversation's tags exactly ``names``; returns (added, removed).

        With ``removable``, only tags among those may be removed; others are kept.
        """
        wanted = sorted({_clean_tag(n) for n in names if _clean_tag(n)})
        may_remove = None if removable is None else {_clean_tag(n) for n in removable}
        async with self.db.write() as session:
            await session.get_one(Conversation, conversation_id)
            current = dict(
                (
                    await session.execute(
                        select(Tag.name, Tag.id)
                        .join(ConversationTag, ConversationTag.tag_id == Tag.id)
                        .where(ConversationTag.conversation_id == conversation_id)
                    )
                ).all()
            )
            added = [n for n in wanted if n not in current]
            removed = [n for n in current if n not in wanted and (may_remove is None or n in may_remove)]
            for name in added:
                await session.execute(
                    _insert(session, Tag).values(name=name, created_at=utcnow()).on_conflict_do_nothing()
                )
                tag_id = await session.scalar(select(Tag.id).where(Tag.name == name))
                session.add(ConversationTag(conversation_id=conversation_id, tag_id=tag_id, added_by=user))
            if removed:
                await session.execute(
                    delete(ConversationTag).where(
                        ConversationTag.conversation_id == conversation_id,
                        ConversationTag.tag_id.in_([current[n] for n in removed]),
                    )
                )
            if added or removed:
                self.add_audit(session, conversation_id, user, "tagged", added=added, removed=removed)
                await self._enqueue_card_update(session, conversation_id)
        if added or removed:
            self._wake()
        return added, removed

    async def known_tags(self) -> list[str]:
        """Every tag name used so far, alphabetically."""
        async with self.db.read() as session:
            return list((await session.scalars(select(Tag.name).order_by(Tag.name))).all())

    async def escalate(self, conversation_id: int, user: str, reason: str) -> int | None:
        """Record an escalation and queue its post to the leads' channel; None if it is escalated already."""
        now = utcnow()
        async with self.db.write() as session:
            conv = await _lock_conversation(session, conversation_id)
            if conv.escalated_at is not None:
                return None  # a second dialog submitted from a card that was not updated yet
            escalation = Escalation(conversation_id=conversation_id, reason=reason, escalated_by=user, escalated_at=now)
            session.add(escalation)
            await session.flush()
            conv.escalated_at = now
            self.add_audit(session, conversation_id, user, "escalated", reason=reason, escalation_id=escalation.id)
            self.add_job(session, POST_ESCALATION, conversation_id, payload={"escalation_id": escalation.id})
            await self._enqueue_card_update(session, conversation_id)
            escalation_id = escalation.id
        self._wake()
        return escalation_id

    async def resolve(self, conversation_id: int, user: str) -> bool:
        """Close the conversation; False when it was already resolved."""
        return await self._set_status(conversation_id, user, "resolved", resolve=True)

    async def reopen(self, conversation_id: int, user: str) -> bool:
        """Open a resolved conversation again; False when it was not resolved."""
        return await self._set_status(conversation_id, user, "reopened", resolve=False)

    async def _set_status(self, conversation_id: int, user: str, action: str, *, resolve: bool) -> bool:
        now = utcnow()
        async with self.db.write() as session:
            conv = await _lock_conversation(session, conversation_id)
            if (conv.status == Status.RESOLVED.value) == resolve:
                return False
            if resolve:
                conv.status = Status.RESOLVED.value
                conv.resolved_at = now
                conv.followup_pending = False
            else:
                conv.status = Status.CLAIMED.value if conv.assignee else Status.NEW.value
                conv.resolved_at = None
            conv.updated_at = now
            self.add_audit(session, conversation_id, user, action)
            await self._enqueue_card_update(session, conversation_id)
        self._wake()
        return True

    # -- delivery results ----------------------------------------------------------

    async def record_card_posted(self, conversation_id: int, channel: str, ts: str) -> None:
        """Remember where the card is, so it is updated in place and never posted twice."""
        async with self.db.write() as session:
            await session.execute(
                update(Conversation)
                .where(Conversation.id == conversation_id)
                .values(slack_channel=channel, slack_ts=ts)
            )

    async def record_thread_posted(self, message_id: int, ts: str) -> None:
        """Remember the Slack thread reply that shows a message."""
        async with self.db.write() as session:
            await session.execute(update(Message).where(Message.id == message_id).values(slack_ts=ts))

    async def begin_sending(self, message_id: int) -> bool:
        """Mark a pending answer as being sent; False when it is not pending (another worker has it)."""
        async with self.db.write() as session:
            result = await session.execute(
                update(Message)
                .where(Message.id == message_id, Message.delivery == Delivery.PENDING.value)
                .values(delivery=Delivery.SENDING.value)
            )
            return result.rowcount == 1  # type: ignore[attr-defined]

    async def record_answer_sent(self, message_id: int, result: SendResult) -> int:
        """Mark an answer as accepted by the platform; returns its conversation id."""
        now = utcnow()
        async with self.db.write() as session:
            msg = await session.get_one(Message, message_id, with_for_update={"key_share": True})
            msg.delivery = Delivery.SENT.value
            msg.delivery_error = None
            msg.sent_at = now
            msg.external_id = await self._claim_external_id(session, msg, result.external_id)
            msg.permalink = result.url
            conv = await _lock_conversation(session, msg.conversation_id)
            conv.first_response_at = conv.first_response_at or now
            conv.followup_pending = False
            if conv.status in (Status.NEW.value, Status.CLAIMED.value):
                conv.status = Status.REPLIED.value
            conv.updated_at = now
            self.add_audit(session, conv.id, msg.sent_by or "system", f"{msg.kind}_sent", message_id=msg.id)
            self.add_job(session, POST_THREAD, conv.id, msg.id)
            await self._enqueue_card_update(session, conv.id)
            conv_id = conv.id
        self._wake()
        return conv_id

    async def _claim_external_id(self, session: AsyncSession, msg: Message, external_id: str | None) -> str | None:
        """The platform id to keep for a sent answer, settling a clash with a row that has it already.

        The platform's echo of this very answer (the Page's comment arriving by webhook)
        can be stored first, as an answer made on the platform: it is this answer, so
        the echo row goes. Any other clash (a receiver reusing ids) keeps no id rather
        than failing, which would send the answer again.
        """
        if not external_id:
            return None
        clash = await session.scalar(
            select(Message).where(
                Message.source == msg.source, Message.external_id == external_id, Message.id != msg.id
            )
        )
        if clash is None:
            return external_id
        if clash.direction == Direction.EXTERNAL.value and clash.conversation_id == msg.conversation_id:
            self.add_audit(session, msg.conversation_id, "system", "echo_merged", message_id=msg.id, echo_id=clash.id)
            await session.delete(clash)
            await session.flush()
            return external_id
        log.warning(
            "%s answer %s: platform id %s already belongs to message %s", msg.source, msg.id, external_id, clash.id
        )
        return None

    async def record_answer_error(
        self, message_id: int, error: str, *, final: bool, only_if_open: bool = False
    ) -> int | None:
        """Show a send failure on the card; ``final`` failures wait for someone to press Retry.

        A failure that is not final puts the answer back to pending for the next attempt.
        ``only_if_open`` leaves an answer that is already sent or failed alone (used when a
        job is given up).
        """
        async with self.db.write() as session:
            msg = await session.get_one(Message, message_id, with_for_update={"key_share": True})
            if only_if_open and msg.delivery not in (Delivery.PENDING.value, Delivery.SENDING.value):
                return None
            msg.delivery_error = error
            msg.delivery_attempts += 1
            msg.delivery = Delivery.FAILED.value if final else Delivery.PENDING.value
            self.add_audit(
                session,
                msg.conversation_id,
                "system",
                f"{msg.kind}_failed" if final else f"{msg.kind}_attempt_failed",
                message_id=msg.id,
                error=error,
            )
            await self._enqueue_card_update(session, msg.conversation_id)
            conv_id = msg.conversation_id
        self._wake()
        return conv_id

    async def record_hidden(self, message_id: int, hidden: bool, actor: str, error: str | None) -> int:
        """Record the outcome of a hide/unhide on the platform."""
        async with self.db.write() as session:
            msg = await session.get_one(Message, message_id, with_for_update={"key_share": True})
            if error is None:
                msg.hidden = hidden
                self.add_audit(
                    session, msg.conversation_id, actor, "hidden" if hidden else "unhidden", message_id=msg.id
                )
            else:
                self.add_audit(
                    session,
                    msg.conversation_id,
                    actor,
                    "hide_failed" if hidden else "unhide_failed",
                    message_id=msg.id,
                    error=error,
                )
            msg.extra = {**msg.extra, "hide_error": error}
            await self._enqueue_card_update(session, msg.conversation_id)
            conv_id = msg.conversation_id
        self._wake()
        return conv_id

    async def record_escalation_posted(self, escalation_id: int, channel: str, ts: str) -> None:
        """Remember the escalation post (for a link back)."""
        async with self.db.write() as session:
            await session.execute(
                update(Escalation).where(Escalation.id == escalation_id).values(slack_channel=channel, slack_ts=ts)
            )

    # -- reading -------------------------------------------------------------------

    async def target(self, message_id: int) -> Target:
        """The customer's message an answer refers to, as a source plugin sees it."""
        async with self.db.read() as session:
            msg = await session.get_one(Message, message_id)
            conv = await session.get_one(Conversation, msg.conversation_id)
            return _target(conv, msg, await answered_kinds(session, msg.id))

    async def answer_target(self, answer_id: int) -> tuple[Message, Target]:
        """An outbound answer and the customer's message it answers."""
        async with self.db.read() as session:
            answer = await session.get_one(Message, answer_id)
            conv = await session.get_one(Conversation, answer.conversation_id)
            original_id = answer.in_reply_to_id
            original = await session.get_one(Message, original_id) if original_id else None
            if original is None:
                raise LookupError(f"answer {answer_id} has no message to answer")
            return answer, _target(conv, original, await answered_kinds(session, original.id))

    async def thread_of(self, source: str, external_id: str) -> str | None:
        """The thread id of the conversation holding ``source``'s message ``external_id``, or None."""
        async with self.db.read() as session:
            return await session.scalar(
                select(Conversation.thread_id)
                .join(Message, Message.conversation_id == Conversation.id)
                .where(Message.source == source, Message.external_id == external_id)
                .limit(1)
            )

    async def get_state(self, plugin: str, key: str) -> str | None:
        """A plugin's durable value (cursor), or None."""
        async with self.db.read() as session:
            row = await session.get(SourceState, (plugin, key))
            return row.value if row else None

    async def set_state(self, plugin: str, key: str, value: str) -> None:
        """Store a plugin's durable value."""
        async with self.db.write() as session:
            stmt = _insert(session, SourceState).values(plugin=plugin, key=key, value=value, updated_at=utcnow())
            await session.execute(
                stmt.on_conflict_do_update(
                    index_elements=["plugin", "key"], set_={"value": value, "updated_at": utcnow()}
                )
            )


async def _lock_conversation(session: AsyncSession, conversation_id: int) -> Conversation:
    """Lock a conversation row for an update that leaves its key alone.

    FOR NO KEY UPDATE (not FOR UPDATE): inserting a message takes a KEY SHARE lock
    on its conversation through the foreign key, and FOR UPDATE would deadlock two
    concurrent follow-ups that each hold one. Messages are locked the same way for
    the same reason (answers and outbox rows point at them). SQLite ignores row locks.
    """
    return await session.get_one(Conversation, conversation_id, with_for_update={"key_share": True})


async def _lock_conversations(session: AsyncSession, ids: Sequence[int]) -> dict[int, Conversation]:
    """Lock conversations as :func:`_lock_conversation` does, all in one statement and in id order."""
    if not ids:
        return {}
    found = await session.scalars(
        select(Conversation).where(Conversation.id.in_(ids)).order_by(Conversation.id).with_for_update(key_share=True)
    )
    return {conv.id: conv for conv in found}


async def _waiting_card_updates(session: AsyncSession, ids: Sequence[int]) -> set[int]:
    """Those of the conversations ``ids`` with a card update pending and not yet picked (one query)."""
    if not ids:
        return set()
    found = await session.scalars(
        select(OutboxJob.conversation_id).where(
            OutboxJob.kind == UPDATE_CARD,
            OutboxJob.conversation_id.in_(ids),
            OutboxJob.status == OutboxStatus.PENDING.value,
            OutboxJob.leased_by.is_(None),
        )
    )
    return {conv_id for conv_id in found if conv_id is not None}


async def _current_owner(session: AsyncSession, conversation_id: int) -> ClaimResult:
    """Why a conditional claim/unclaim changed nothing: who owns it, or that it is gone."""
    row = (await session.execute(select(Conversation.assignee).where(Conversation.id == conversation_id))).first()
    return ClaimResult(False, row[0], exists=True) if row else ClaimResult(False, None, exists=False)


def _audit_row(
    conversation_id: int | None, actor: str, action: str, detail: dict[str, Any], *, at: datetime | None = None
) -> dict[str, Any]:
    """An audit_log row's values: :meth:`Store.add_audit` adds one, a batch ingest inserts many at once.

    The time (``at``, by default now) is set here, not by the column default, so that the event
    plugins hear carries the same time as the stored line.
    """
    return {
        "conversation_id": conversation_id,
        "actor": actor,
        "action": action,
        "detail": detail,
        "at": at or utcnow(),
    }


def _announce(session: AsyncSession, rows: Iterable[dict[str, Any]]) -> None:
    """Keep the transaction's audit lines as events, told to plugins if it commits (see chatops.events)."""
    session.info.setdefault(PENDING_EVENTS, []).extend(ConversationEvent.from_row(row) for row in rows)


def _job_row(
    kind: str,
    conversation_id: int | None,
    message_id: int | None,
    payload: dict[str, Any] | None = None,
    *,
    priority: int = 0,
) -> dict[str, Any]:
    """An outbox row's values: :meth:`Store.add_job` adds one, a batch ingest inserts many at once.

    Status, attempts and times come from the model's column defaults (a new job: pending, due now),
    which a Core INSERT applies too.
    """
    return {
        "kind": kind,
        "conversation_id": conversation_id,
        "message_id": message_id,
        "payload": payload or {},
        "priority": priority,
    }


def _target(conv: Conversation, msg: Message, answered: frozenset[str]) -> Target:
    return Target(
        conversation_id=conv.id,
        message_id=msg.id,
        external_id=msg.external_id or "",
        thread_id=conv.thread_id,
        extra=dict(msg.extra or {}),
        created_at=msg.source_created_at or msg.received_at,
        author=Author(msg.author_id, msg.author_name, msg.author_handle, msg.author_url),
        answered_kinds=answered,
    )


def _author_label(author: Author) -> str:
    return author.handle or author.name or author.id or "customer"


def _clean_tag(name: str) -> str:
    return " ".join(name.strip().lower().split())[:MAX_TAG_LENGTH]


def _take_ownership(session: AsyncSession, conv: Conversation, assignee: str, by: str, at: datetime) -> None:
    """Make ``assignee`` the owner of a locked conversation, with its history row; a new card becomes claimed."""
    conv.assignee = assignee
    conv.claimed_at = at
    if conv.status == Status.NEW.value:
        conv.status = Status.CLAIMED.value
    session.add(_assignment(conv.id, assignee, by, at))


async def _release_assignment(session: AsyncSession, conversation_id: int, at: datetime) -> None:
    """Close the open assignment history row of a conversation that loses its owner."""
    await session.execute(_release(), {"b_id": conversation_id, "b_at": at})


async def _add_audit_now(session: AsyncSession, conversation_id: int, actor: str, action: str) -> None:
    """:meth:`Store.add_audit` as one Core INSERT at once, for the paths every click takes (no ORM flush)."""
    row = _audit_row(conversation_id, actor, action, {})
    await session.execute(_core_insert(AuditEntry), [row])
    _announce(session, [row])


# Statements of the paths every click and card update takes, built once and run with parameters:
# building them per call (ORM comparisons, a cache key walked each time) and the ORM's bulk-UPDATE
# step were about a quarter of the event loop's time under 50 clicks in flight (profiled with
# py-spy on benchmarks/acks.py). On the tables, not the mapped classes: nothing is loaded to keep
# in step. Parameters are named b_*: a bound name may not be a column the statement sets.


@functools.cache
def _core_insert(model: type[Any]) -> Any:
    """A plain INSERT into ``model``'s table, run with rows of column values (Core applies the defaults)."""
    return sa_insert(table_of(model))


@functools.cache
def _claim() -> Any:
    """Make b_user the owner of b_id if nobody owns it: NEW becomes CLAIMED, a replied or resolved card stays so."""
    c = table_of(Conversation).c
    return (
        update(table_of(Conversation))
        .where(c.id == bindparam("b_id"), c.assignee.is_(None))
        .values(
            assignee=bindparam("b_user"),
            claimed_at=bindparam("b_at"),
            updated_at=bindparam("b_at"),
            status=func.coalesce(case((c.status == Status.NEW.value, Status.CLAIMED.value), else_=None), c.status),
        )
    )


@functools.cache
def _unclaim() -> Any:
    """Release b_id if b_user owns it; CLAIMED goes back to NEW."""
    c = table_of(Conversation).c
    return (
        update(table_of(Conversation))
        .where(c.id == bindparam("b_id"), c.assignee == bindparam("b_user"))
        .values(
            assignee=None,
            claimed_at=None,
            updated_at=bindparam("b_at"),
            status=func.coalesce(case((c.status == Status.CLAIMED.value, Status.NEW.value), else_=None), c.status),
        )
    )


@functools.cache
def _release() -> Any:
    """Close b_id's open assignment row at b_at."""
    c = table_of(Assignment).c
    return (
        update(table_of(Assignment))
        .where(c.conversation_id == bindparam("b_id"), c.released_at.is_(None))
        .values(released_at=bindparam("b_at"))
    )


@functools.cache
def _waiting_card_update() -> Any:
    """The id of a pending card update of b_conversation_id that no worker has picked yet."""
    c = table_of(OutboxJob).c
    return (
        select(c.id)
        .where(
            c.kind == UPDATE_CARD,
            c.conversation_id == bindparam("b_conversation_id"),
            c.status == OutboxStatus.PENDING.value,
            c.leased_by.is_(None),
        )
        .limit(1)
    )


def _assignment(conversation_id: int, assignee: str, by: str, at: datetime) -> Assignment:
    return Assignment(conversation_id=conversation_id, assignee=assignee, assigned_by=by, assigned_at=at)


__all__ = [
    "POST_ALERT",
    "POST_CARD",
    "POST_ESCALATION",
    "POST_NOTE",
    "POST_THREAD",
    "SEND_ANSWER",
    "SET_HIDDEN",
    "UPDATE_CARD",
    "ClaimResult",
    "IngestResult",
    "Store",
]
