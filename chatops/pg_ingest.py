"""PostgreSQL's statements for storing a group of customers' messages: arrays in, one statement per step.

A group of ingest (:meth:`chatops.store.Store.ingest`) on PostgreSQL is bound by round trips,
not by the server's CPU. SQLAlchemy sends a multi-row INSERT as ``VALUES (...), (...)`` with
as many rows as the group has, so each group size is a statement of its own: asyncpg prepares
it first (a round trip more), and the prepared-statement cache (100 statements per connection)
turns over as sizes come and go. Here each table's rows go in as one array per column through
``unnest``: the statement text never changes, so it is prepared once per connection, and the
audit lines and outbox jobs share one statement (a data-modifying CTE) instead of one each.

Rows are inserted in the order given (``WITH ORDINALITY ... ORDER BY``): ids keep arrival
order, and conversations are taken in the caller's order (by thread), which keeps two groups
written at once from deadlocking.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from chatops.models import UTCDateTime, utcnow

_CONVERSATIONS = text(
    """
    INSERT INTO conversations (source, thread_id, channel_name, context_text, context_url, status, priority,
                               followup_pending, created_at, updated_at, last_inbound_at)
    SELECT source, thread_id, channel_name, context_text, context_url, status, priority,
           false, :now, :now, :now
    FROM unnest(CAST(:source AS text[]), CAST(:thread_id AS text[]), CAST(:channel_name AS text[]),
                CAST(:context_text AS text[]), CAST(:context_url AS text[]), CAST(:status AS text[]),
                CAST(:priority AS integer[]))
         WITH ORDINALITY AS row (source, thread_id, channel_name, context_text, context_url, status, priority, ord)
    ORDER BY ord
    ON CONFLICT (source, thread_id) DO NOTHING
    RETURNING id, source, thread_id
    """
)

_MESSAGES = text(
    """
    INSERT INTO messages (conversation_id, source, external_id, direction, author_id, author_name, author_handle,
                          author_url, text, permalink, source_created_at, received_at, extra, kind, hidden,
                          delivery_attempts)
    SELECT conversation_id, source, external_id, direction, author_id, author_name, author_handle,
           author_url, text, permalink, source_created_at, :now, CAST(extra AS json), 'comment', false, 0
    FROM unnest(CAST(:conversation_id AS bigint[]), CAST(:source AS text[]), CAST(:external_id AS text[]),
                CAST(:direction AS text[]), CAST(:author_id AS text[]), CAST(:author_name AS text[]),
                CAST(:author_handle AS text[]), CAST(:author_url AS text[]), CAST(:text AS text[]),
                CAST(:permalink AS text[]), CAST(:source_created_at AS timestamptz[]), CAST(:extra AS text[]))
         WITH ORDINALITY AS row (conversation_id, source, external_id, direction, author_id, author_name,
                                 author_handle, author_url, text, permalink, source_created_at, extra, ord)
    ORDER BY ord
    ON CONFLICT (source, external_id) DO NOTHING
    RETURNING id, source, external_id
    """
)

_NEW_THREADS = text(
    """
    WITH conversation AS (
        INSERT INTO conversations (source, thread_id, channel_name, context_text, context_url, status, priority,
                                   followup_pending, created_at, updated_at, last_inbound_at)
        SELECT source, thread_id, channel_name, context_text, context_url, status, priority,
               false, :now, :now, :now
        FROM unnest(CAST(:c_source AS text[]), CAST(:c_thread_id AS text[]), CAST(:c_channel_name AS text[]),
                    CAST(:c_context_text AS text[]), CAST(:c_context_url AS text[]), CAST(:c_status AS text[]),
                    CAST(:c_priority AS integer[]))
             WITH ORDINALITY AS row (source, thread_id, channel_name, context_text, context_url, status, priority,
                                     ord)
        ORDER BY ord
        ON CONFLICT (source, thread_id) DO NOTHING
        RETURNING id, source, thread_id
    ), input AS (
        SELECT *
        FROM unnest(CAST(:thread_id AS text[]), CAST(:source AS text[]), CAST(:external_id AS text[]),
                    CAST(:direction AS text[]), CAST(:author_id AS text[]), CAST(:author_name AS text[]),
                    CAST(:author_handle AS text[]), CAST(:author_url AS text[]), CAST(:text AS text[]),
                    CAST(:permalink AS text[]), CAST(:source_created_at AS timestamptz[]), CAST(:extra AS text[]),
                    CAST(:actor AS text[]), CAST(:priority AS integer[]))
             WITH ORDINALITY AS row (thread_id, source, external_id, direction, author_id, author_name,
                                     author_handle, author_url, text, permalink, source_created_at, extra,
                                     actor, priority, ord)
    ), message AS (
        INSERT INTO messages (conversation_id, source, external_id, direction, author_id, author_name, author_handle,
                              author_url, text, permalink, source_created_at, received_at, extra, kind, hidden,
                              delivery_attempts)
        SELECT conversation.id, input.source, input.external_id, input.direction, input.author_id,
               input.author_name, input.author_handle, input.author_url, input.text, input.permalink,
               input.source_created_at, :now, CAST(input.extra AS json), 'comment', false, 0
        FROM input JOIN conversation ON conversation.source = input.source
                                    AND conversation.thread_id = input.thread_id
        -- All or nothing: when a thread had a conversation, its message may be a follow-up.
        WHERE (SELECT count(*) FROM conversation) = :threads
        ORDER BY input.ord
        ON CONFLICT (source, external_id) DO NOTHING
        RETURNING id, conversation_id, source, external_id
    ), audit AS (
        INSERT INTO audit_log (conversation_id, actor, action, detail, at)
        SELECT message.conversation_id, input.actor, 'received', json_build_object('message_id', message.id),
               :audit_at
        FROM message JOIN input USING (source, external_id)
        ORDER BY message.id
    ), job AS (
        INSERT INTO outbox (kind, conversation_id, message_id, payload, priority, status, attempts, due_at,
                            created_at)
        SELECT :job_kind, message.conversation_id, NULL, CAST('{}' AS json), input.priority, :pending, 0, :now, :now
        FROM message JOIN input USING (source, external_id)
        ORDER BY message.id
    )
    SELECT true, id, source, thread_id FROM conversation
    UNION ALL
    SELECT false, id, source, external_id FROM message
    """
)

_AUDIT_AND_JOBS = text(
    """
    WITH audit AS (
        INSERT INTO audit_log (conversation_id, actor, action, detail, at)
        SELECT conversation_id, actor, action, CAST(detail AS json), at
        FROM unnest(CAST(:a_conversation_id AS bigint[]), CAST(:a_actor AS text[]), CAST(:a_action AS text[]),
                    CAST(:a_detail AS text[]), CAST(:a_at AS timestamptz[]))
             WITH ORDINALITY AS row (conversation_id, actor, action, detail, at, ord)
        ORDER BY ord
    )
    INSERT INTO outbox (kind, conversation_id, message_id, payload, priority, status, attempts, due_at, created_at)
    SELECT kind, conversation_id, message_id, CAST(payload AS json), priority, :pending, 0, :now, :now
    FROM unnest(CAST(:j_kind AS text[]), CAST(:j_conversation_id AS bigint[]), CAST(:j_message_id AS bigint[]),
                CAST(:j_payload AS text[]), CAST(:j_priority AS integer[]))
         WITH ORDINALITY AS row (kind, conversation_id, message_id, payload, priority, ord)
    ORDER BY ord
    """
)

_utc = UTCDateTime()


def _columns(rows: Sequence[dict[str, Any]], names: Sequence[str], prefix: str = "") -> dict[str, Any]:
    """The rows as one list per column (the statements' arrays)."""
    return {prefix + name: [row[name] for row in rows] for name in names}


def _json(value: Any) -> str:
    # What SQLAlchemy's JSON type would send (json.dumps), here as text for the array.
    return json.dumps(value)


def _time(value: datetime | None) -> datetime | None:
    # The checks and conversion UTCDateTime applies to what it stores (no naive datetimes).
    return _utc.process_bind_param(value, None)


async def insert_conversations(session: AsyncSession, rows: Sequence[dict[str, Any]], now: datetime) -> Sequence[Any]:
    """Insert new conversations (rows of ``_conversation_values``), skipping threads that have one.

    Returns ``(id, source, thread_id)`` of those inserted.
    """
    names = ("source", "thread_id", "channel_name", "context_text", "context_url", "status", "priority")
    params = _columns(rows, names)
    params["now"] = _time(now)
    return (await session.execute(_CONVERSATIONS, params)).all()


async def insert_messages(session: AsyncSession, rows: Sequence[dict[str, Any]], now: datetime) -> Sequence[Any]:
    """Insert messages (rows of ``_message_values``), skipping those stored before; ``(id, source, external_id)``."""
    names = ("conversation_id", "source", "external_id", "direction", "author_id", "author_name", "author_handle")
    params = _columns(rows, (*names, "author_url", "text", "permalink"))
    params["source_created_at"] = [_time(row["source_created_at"]) for row in rows]
    params["extra"] = [_json(row["extra"]) for row in rows]
    params["now"] = _time(now)
    return (await session.execute(_MESSAGES, params)).all()


async def insert_audit_and_jobs(
    session: AsyncSession, audits: Sequence[dict[str, Any]], jobs: Sequence[dict[str, Any]], pending: str
) -> None:
    """Insert audit lines (``_audit_row``) and outbox jobs (``_job_row``, status ``pending``) in one statement."""
    params = _columns(audits, ("conversation_id", "actor", "action"), "a_")
    params["a_detail"] = [_json(row["detail"]) for row in audits]
    params["a_at"] = [_time(row["at"]) for row in audits]
    params.update(_columns(jobs, ("kind", "conversation_id", "message_id", "priority"), "j_"))
    params["j_payload"] = [_json(row["payload"]) for row in jobs]
    params["pending"] = pending
    params["now"] = _time(utcnow())
    await session.execute(_AUDIT_AND_JOBS, params)


async def insert_new_threads(
    session: AsyncSession,
    conversations: Sequence[dict[str, Any]],
    messages: Sequence[dict[str, Any]],
    actors: Sequence[str],
    priorities: Sequence[int],
    now: datetime,
    *,
    audit_at: datetime,
    job_kind: str,
    pending: str,
) -> tuple[Sequence[Any], Sequence[Any]]:
    """Start a conversation for each message, in one statement, when every thread is new.

    ``conversations`` (``_conversation_values``, in lock order) and ``messages``
    (``_message_values`` with the ``thread_id``, one per thread, their ``conversation_id`` unused) are inserted as
    :func:`insert_conversations` and :func:`insert_messages` would, and for each message
    inserted its "received" audit line (by ``actors[i]``, at ``audit_at``) and its ``job_kind``
    outbox job (``priorities[i]``), in message order. When a thread had a conversation already,
    only the new conversations are inserted. Returns the conversations inserted
    ``(id, source, thread_id)`` and the messages inserted ``(id, source, external_id)``.
    """
    kept = ("source", "thread_id", "channel_name", "context_text", "context_url", "status", "priority")
    params = _columns(conversations, kept, "c_")
    names = ("source", "external_id", "direction", "author_id", "author_name", "author_handle")
    params.update(_columns(messages, (*names, "author_url", "text", "permalink")))
    params["thread_id"] = [row["thread_id"] for row in messages]
    params["source_created_at"] = [_time(row["source_created_at"]) for row in messages]
    params["extra"] = [_json(row["extra"]) for row in messages]
    params["actor"] = list(actors)
    params["priority"] = list(priorities)
    params["threads"] = len(conversations)
    params["now"] = _time(now)
    params["audit_at"] = _time(audit_at)
    params["job_kind"] = job_kind
    params["pending"] = pending
    created: list[Any] = []
    inserted: list[Any] = []
    for is_conversation, row_id, source, key in await session.execute(_NEW_THREADS, params):
        (created if is_conversation else inserted).append((row_id, source, key))
    return created, inserted
