"""SQLite's statements for a group of new comments, run as one transaction in one trip to the writer's thread.

A webhook flood is mostly comments that each start a thread of their own. On SQLite a group of
them (:meth:`chatops.store.Store.ingest`) is written by :class:`NewThreads` on the writer's
connection (:mod:`chatops.sqlite_writer`): each conversation and message inserted with ``ON
CONFLICT DO NOTHING RETURNING id``, then the audit lines and the cards' outbox jobs, all in the
writer's thread. When a thread has a conversation already or a message was stored before (a
follow-up, a repeat), it declines: its transaction is rolled back and the group goes the general
way, through SQLAlchemy, where each of those cases is handled.

Values are encoded as SQLAlchemy's Core INSERT encodes them (:class:`TableRows`): the columns'
Python-side defaults for what a row leaves out, then each column type's bind processor for the
bot's own SQLite dialect. ``tests/test_sqlite_ingest.py`` holds the rows stored this way equal to
those the general way stores.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Table, bindparam
from sqlalchemy.dialects import sqlite
from sqlalchemy.engine import Dialect

from chatops.models import AuditEntry, Conversation, Message, OutboxJob, table_of


class TableRows:
    """One table's INSERT for sqlite3, and its rows encoded for it as SQLAlchemy's Core INSERT would.

    ``columns`` are the columns a row gives; every other column with a Python-side default gets
    that default (a callable's once per :meth:`encode`, as one statement's rows share a moment).
    With ``conflict`` (a unique key) a row already there is skipped; with ``returning`` the
    statement returns the new row's id.
    """

    def __init__(
        self,
        table: Table,
        columns: Sequence[str],
        dialect: Dialect,
        *,
        conflict: Sequence[str] = (),
        returning: bool = False,
    ) -> None:
        self.columns = tuple(columns)
        self._defaulted = tuple(c for c in table.c if c.default is not None and c.name not in self.columns)
        names = (*self.columns, *(c.name for c in self._defaulted))
        statement: Any = sqlite.insert(table).values({name: bindparam(name) for name in names})
        if conflict:
            statement = statement.on_conflict_do_nothing(index_elements=list(conflict))
        if returning:
            statement = statement.returning(table.c.id)
        compiled = statement.compile(dialect=dialect)
        #: The statement, with ``?`` placeholders.
        self.sql = str(compiled)
        #: The values in placeholder order: (column, the position of its default or None when a row gives it).
        self._order = [
            (name, None if name in self.columns else [c.name for c in self._defaulted].index(name))
            for name in compiled.positiontup or ()
        ]
        if sorted(name for name, _ in self._order) != sorted(names):
            raise RuntimeError(f"{table.name}: the compiled statement does not take the values given")
        # dialect_impl: the type as the dialect runs it (SQLite's DATETIME stores times without an offset).
        self._processors = [table.c[name].type.dialect_impl(dialect).bind_processor(dialect) for name, _ in self._order]

    def encode(self, rows: Iterable[Mapping[str, Any]]) -> list[tuple[Any, ...]]:
        """Each row's values, defaults added, encoded for sqlite3."""
        defaults = [_default(column) for column in self._defaulted]
        order = self._order
        processors = self._processors
        encoded: list[tuple[Any, ...]] = []
        # Rows of a group share most of their times: a value is encoded once while it repeats.
        last: list[Any] = [_UNSET] * len(processors)
        last_out: list[Any] = [None] * len(processors)
        for row in rows:
            values = [row[name] if default is None else defaults[default] for name, default in order]
            for i, process in enumerate(processors):
                if process is None:
                    continue
                value = values[i]
                if value is last[i]:
                    values[i] = last_out[i]
                    continue
                last[i] = value
                values[i] = last_out[i] = process(value)
            encoded.append(tuple(values))
        return encoded


_UNSET = object()


def _default(column: Any) -> Any:
    """A column's Python-side default value (SQLAlchemy wraps callables to take an execution context)."""
    default = column.default
    return default.arg(None) if default.is_callable else default.arg


@dataclass(frozen=True, slots=True)
class NewThread:
    """One message that starts a thread: its conversation's row, its own row, and what its audit line and job say."""

    conversation: dict[str, Any]
    message: dict[str, Any]
    actor: str
    priority: int


@dataclass(frozen=True, slots=True)
class Stored:
    """What :class:`NewThreads` stored: (conversation id, message id) per message, and the audit rows."""

    ids: list[tuple[int, int]]
    audits: list[dict[str, Any]]


class NewThreads:
    """Stores messages that each start a new thread, in the writer's transaction; declines otherwise.

    Built once per database (``dialect`` is the bot engine's); its statements are compiled on
    first use, for the columns the rows given carry. Run :meth:`store` with
    :meth:`chatops.db.Database.write_in_one_trip`.
    """

    def __init__(self, dialect: Dialect) -> None:
        self._dialect = dialect
        self._rows: dict[tuple[str, tuple[str, ...]], TableRows] = {}
        self._audits = TableRows(table_of(AuditEntry), ("conversation_id", "actor", "action", "detail", "at"), dialect)
        self._jobs = TableRows(
            table_of(OutboxJob), ("kind", "conversation_id", "message_id", "payload", "priority"), dialect
        )

    def _statement(self, model: type[Any], columns: Sequence[str], key: Sequence[str]) -> TableRows:
        """The INSERT ... ON CONFLICT (key) DO NOTHING RETURNING id of ``model``'s table for rows of ``columns``."""
        table = table_of(model)
        found = self._rows.get((table.name, tuple(columns)))
        if found is None:
            found = TableRows(table, columns, self._dialect, conflict=key, returning=True)
            self._rows[(table.name, tuple(columns))] = found
        return found

    def store(
        self, conn: sqlite3.Connection, threads: Sequence[NewThread], *, job_kind: str, audit_at: datetime
    ) -> Stored | None:
        """Insert ``threads`` (in arrival order) in the caller's transaction; None to decline.

        Runs on the writer's thread. Conversations go in by thread, messages in arrival order,
        as the general way stores them (so ids are the same either way). Declines (None: the
        caller rolls back) as soon as a conversation or a message is there already.
        """
        if not threads:
            return Stored([], [])
        conversations = self._statement(Conversation, tuple(threads[0].conversation), ("source", "thread_id"))
        messages = self._statement(Message, tuple(threads[0].message), ("source", "external_id"))
        cursor = conn.cursor()
        by_thread = sorted(range(len(threads)), key=lambda i: _thread_key(threads[i]))
        conversation_ids = [0] * len(threads)
        for i, values in zip(by_thread, conversations.encode(threads[i].conversation for i in by_thread), strict=True):
            row = cursor.execute(conversations.sql, values).fetchall()
            if not row:
                return None
            conversation_ids[i] = row[0][0]
        message_rows = [{**t.message, "conversation_id": c} for t, c in zip(threads, conversation_ids, strict=True)]
        ids: list[tuple[int, int]] = []
        for values, conversation_id in zip(messages.encode(message_rows), conversation_ids, strict=True):
            row = cursor.execute(messages.sql, values).fetchall()
            if not row:
                return None
            ids.append((conversation_id, row[0][0]))
        audits = [
            {
                "conversation_id": conversation_id,
                "actor": t.actor,
                "action": "received",
                "detail": {"message_id": message_id},
                "at": audit_at,
            }
            for t, (conversation_id, message_id) in zip(threads, ids, strict=True)
        ]
        jobs: list[dict[str, Any]] = [
            {
                "kind": job_kind,
                "conversation_id": conversation_id,
                "message_id": None,
                "payload": {},
                "priority": t.priority,
            }
            for t, (conversation_id, _) in zip(threads, ids, strict=True)
        ]
        cursor.executemany(self._audits.sql, self._audits.encode(audits))
        cursor.executemany(self._jobs.sql, self._jobs.encode(jobs))
        cursor.close()
        return Stored(ids, audits)


def _thread_key(thread: NewThread) -> tuple[str, str]:
    return thread.conversation["source"], thread.conversation["thread_id"]
