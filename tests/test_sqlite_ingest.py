"""SQLite: groups of new comments stored in one trip to the writer's thread are stored as the general way stores them.

``chatops.sqlite_ingest`` encodes rows itself (defaults, bind processors) and runs its own
statements on a connection of its own (``chatops.sqlite_writer``); the general way is
SQLAlchemy's. Hypothesis sends the same groups (new threads, follow-ups, repeats, a message
already stored under another thread, any text and extra data) to two bots' stores, one with the
writer and one without, and every result and every stored row must be the same, value and
SQLite storage class alike. Then the writer's own edges: a caller cancelled while it works, an
in-memory database, a lock held by another process.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import sqlite3
import time
import uuid
from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatops.db import Database, DatabaseUnavailable
from chatops.events import ConversationEvent
from chatops.sources import Author, Context, InboundMessage
from chatops.store import IngestResult, Store
from chatops.testing.outages import write_lock_held_elsewhere

TABLES = ("conversations", "messages", "audit_log", "outbox")
#: How SQLAlchemy's SQLite DATETIME stores a time; rows written a moment apart differ only in it.
STORED_TIME = re.compile(r"^\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d{6})?$")
TIME_COLUMNS = {
    "conversations": {"created_at", "updated_at", "last_inbound_at"},
    "messages": {"received_at"},
    "audit_log": {"at"},
    "outbox": {"due_at", "created_at"},
}

text = st.text(st.characters(codec="utf-8"), max_size=30)
json_value = st.recursive(
    st.none() | st.booleans() | st.integers(-(2**53), 2**53) | text,
    lambda children: st.lists(children, max_size=3) | st.dictionaries(text, children, max_size=3),
    max_leaves=6,
)
#: What a group may hold: a new thread, a follow-up in a thread seen before, a repeat of a message, or a
#: message id seen before under another thread (a source that changed its mind about a reply's parent).
steps = st.tuples(st.sampled_from(["new", "new", "new", "follow-up", "repeat", "moved"]), st.integers(0, 50))
messages = st.fixed_dictionaries(
    {
        "text": text,
        "author": st.builds(Author, id=st.none() | text, name=st.none() | text, handle=st.none() | text),
        "context": st.none() | st.builds(Context, text=st.none() | text, url=st.none() | text),
        "created_at": st.none() | st.datetimes(timezones=st.just(UTC)),
        "channel_name": st.none() | text,
        "extra": st.dictionaries(text, json_value, max_size=3)
        | st.fixed_dictionaries({"priority": st.fixed_dictionaries({"score": st.integers(-1000, 1000)})}),
    }
)
groups = st.lists(st.lists(st.tuples(steps, messages), min_size=1, max_size=12), min_size=1, max_size=4)


def _plan(groups: list[list[tuple[tuple[str, int], dict[str, Any]]]]) -> list[list[InboundMessage]]:
    """The groups as messages: ids chosen so that each step is what it says."""
    threads: list[str] = []
    sent: list[InboundMessage] = []
    planned: list[list[InboundMessage]] = []
    for group in groups:
        batch: list[InboundMessage] = []
        for (kind, pick), fields in group:
            if kind == "repeat" and sent:
                batch.append(sent[pick % len(sent)])
                continue
            if kind == "follow-up" and threads:
                thread = threads[pick % len(threads)]
            elif kind == "moved" and sent:
                before = sent[pick % len(sent)]
                msg = InboundMessage(
                    source="webhook", external_id=before.external_id, thread_id=f"t{len(threads)}", **fields
                )
                threads.append(msg.thread_id)
                batch.append(msg)
                continue
            else:
                thread = f"t{len(threads)}"
                threads.append(thread)
            msg = InboundMessage(source="webhook", external_id=f"m{len(sent)}", thread_id=thread, **fields)
            sent.append(msg)
            batch.append(msg)
        planned.append(batch)
    return planned


def _rows(path: Path) -> dict[str, list[tuple[Any, ...]]]:
    """Every row of the ingest tables as stored: (value, storage class) per column, times as their shape."""
    conn = sqlite3.connect(path)
    try:
        found: dict[str, list[tuple[Any, ...]]] = {}
        for table in TABLES:
            columns = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
            listed = ", ".join(f"{c}, typeof({c})" for c in columns)
            rows = conn.execute(f"SELECT {listed} FROM {table} ORDER BY id").fetchall()
            found[table] = [
                tuple(
                    (
                        STORED_TIME.match(row[2 * i]) is not None
                        if column in TIME_COLUMNS[table] and row[2 * i] is not None
                        else row[2 * i],
                        row[2 * i + 1],
                    )
                    for i, column in enumerate(columns)
                )
                for row in rows
            ]
        return found
    finally:
        conn.close()


async def _store_all(path: Path, planned: list[list[InboundMessage]], *, one_trip: bool) -> tuple[Any, ...]:
    """Each group sent at once to a store on ``path``; the results, the events told, and whether a trip was taken."""
    db = Database(f"sqlite+aiosqlite:///{path}", one_trip_writes=one_trip)
    told: list[ConversationEvent] = []
    db.after_commit = told.extend
    store = Store(db)
    trips = 0
    if db.sqlite_writer is not None:
        transaction = db.sqlite_writer.transaction

        async def counted(fn: Any, *, busy_timeout_ms: int) -> Any:
            nonlocal trips
            trips += 1
            return await transaction(fn, busy_timeout_ms=busy_timeout_ms)

        db.sqlite_writer.transaction = counted  # type: ignore[method-assign]
    results: list[list[IngestResult]] = []
    try:
        for batch in planned:
            # Gathered: the first submit starts the writer's task, which runs after every submit here,
            # so each batch is one group on both stores.
            results.append(list(await asyncio.gather(*(store.ingest(m) for m in batch))))
    finally:
        await db.dispose()
    return results, [(e.conversation_id, e.action, e.actor, e.detail) for e in told], trips


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sent=groups)
async def test_groups_stored_in_one_trip_are_stored_as_the_general_way_stores_them(
    sent: list[list[tuple[tuple[str, int], dict[str, Any]]]], tmp_path: Path, _sqlite_template: Path
) -> None:
    planned = _plan(sent)
    example = tmp_path / uuid.uuid4().hex
    example.mkdir()
    one_trip, general = example / "one-trip.db", example / "general.db"
    shutil.copyfile(_sqlite_template, one_trip)
    shutil.copyfile(_sqlite_template, general)
    results, events, trips = await _store_all(one_trip, planned, one_trip=True)
    expected, expected_events, no_trips = await _store_all(general, planned, one_trip=False)
    assert results == expected
    assert events == expected_events
    assert _rows(one_trip) == _rows(general)
    assert no_trips == 0
    # Every group made only of new threads went in one trip (the others may have tried and declined).
    all_new = sum(
        1 for batch in planned if len({m.thread_id for m in batch}) == len({m.external_id for m in batch}) == len(batch)
    )
    assert trips >= all_new


async def test_a_flood_of_new_comments_is_stored_in_one_trip_per_group(tmp_path: Path, _sqlite_template: Path) -> None:
    path = tmp_path / "chatops.db"
    shutil.copyfile(_sqlite_template, path)
    batch = [
        InboundMessage(source="webhook", external_id=f"c{n}", thread_id=f"t{n}", text=f"Hi {n}") for n in range(50)
    ]
    results, events, trips = await _store_all(path, [batch[:1], batch[1:]], one_trip=True)
    assert trips == 2
    assert [r.new_conversation for group in results for r in group] == [True] * 50
    assert len(events) == 50
    rows = _rows(path)
    assert (len(rows["conversations"]), len(rows["messages"]), len(rows["outbox"])) == (50, 50, 50)


async def test_a_caller_cancelled_while_the_writer_works_keeps_its_place_until_the_writer_is_done(
    tmp_path: Path, _sqlite_template: Path
) -> None:
    path = tmp_path / "chatops.db"
    shutil.copyfile(_sqlite_template, path)
    db = Database(f"sqlite+aiosqlite:///{path}")
    assert db.sqlite_writer is not None
    finished: list[float] = []

    def slow(conn: sqlite3.Connection) -> bool:
        time.sleep(0.4)
        conn.execute(
            "INSERT INTO source_state (plugin, key, value, updated_at) VALUES ('t', 'k', 'v', '2026-11-29 12:00:00')"
        )
        finished.append(time.monotonic())
        return True

    async def write() -> None:
        async with db.write() as session:
            await db.write_in_one_trip(session, slow)

    try:
        task = asyncio.create_task(write())
        await asyncio.sleep(0.1)
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task
        # The cancelled caller was let go only once the writer had committed: its place in the write
        # queue was held until then, so no other writer of ours waited on SQLite's lock meanwhile.
        assert finished
        async with db.write() as session:
            again = await db.write_in_one_trip(
                session, lambda conn: conn.execute("SELECT count(*) FROM source_state").fetchone()
            )
        assert again == (1,)
    finally:
        await db.dispose()


async def test_an_in_memory_database_has_no_writer_and_stores_the_general_way() -> None:
    db = Database("sqlite+aiosqlite:///:memory:")
    assert db.sqlite_writer is None
    await db.dispose()


async def test_the_writer_waits_for_another_process_only_as_long_as_the_write_may(
    tmp_path: Path, _sqlite_template: Path
) -> None:
    path = tmp_path / "chatops.db"
    shutil.copyfile(_sqlite_template, path)
    url = f"sqlite+aiosqlite:///{path}"
    db = Database(url, lock_timeout=0.5)
    store = Store(db)
    try:
        async with write_lock_held_elsewhere(url):
            started = time.monotonic()
            with pytest.raises(DatabaseUnavailable, match="locked"):
                await store.ingest(InboundMessage(source="webhook", external_id="m", thread_id="t", text="Hi"))
            assert time.monotonic() - started < 2.0
        stored = await store.ingest(InboundMessage(source="webhook", external_id="m", thread_id="t", text="Hi"))
        assert stored.new_conversation and stored.message_id is not None
    finally:
        await db.dispose()
