"""Database engine and transactions: SQLite (a file, the default) or PostgreSQL.

SQLite allows one writer at a time. A deferred transaction that reads and then
writes fails at once with SQLITE_BUSY whatever the busy timeout, so every
transaction that may write starts with ``BEGIN IMMEDIATE`` and waits its turn
instead. WAL lets readers carry on while a writer works.

WAL keeps its index in a memory-mapped ``-shm`` file. If the file system turns
read-only under a running process (ext4 ``errors=remount-ro`` after disk errors, an
immutable file), the kernel answers the next write to that mapping with SIGBUS and
the process dies, whatever Python does. ``database.sqlite_journal_mode = "delete"``
(a rollback journal, no shared memory) trades some write throughput for surviving that
with 503s; see the README.

Waiting for the write lock is bounded (:data:`WRITE_LOCK_TIMEOUT_SECONDS`): a
database that cannot take a write (locked by another process, read-only, full,
PostgreSQL down or refusing writes) raises :class:`DatabaseUnavailable`, which
the web layer answers with 503 and ``Retry-After`` so that senders retry.
"""

from __future__ import annotations

import asyncio
import functools
import os
import sqlite3
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any, TypeVar

from sqlalchemy import event, insert, make_url, text
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import Connection
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine, AsyncSession, async_sessionmaker, create_async_engine

from chatops.config import normalise_database_url
from chatops.events import PENDING_EVENTS
from chatops.sqlite_writer import SQLiteWriter

#: How long a transaction waits for the write lock (SQLite's busy timeout, our own writer
#: queue, PostgreSQL's lock_timeout and connect timeout) before giving up with 503. A few
#: seconds: long enough to ride out an ordinary burst of writers, and short enough that the
#: sender hears 503 well inside its own timeout (Meta waits about 20 s; a lock held by a
#: stuck process would otherwise hold every request for 30 s and answer 500).
WRITE_LOCK_TIMEOUT_SECONDS = 5.0
#: The tables an inbound message is written to; the PostgreSQL readiness probe locks them as a writer would.
INGEST_TABLES = ("conversations", "messages", "outbox")
#: The readiness probe's own, shorter wait: it must answer before the orchestrator's probe times out.
READY_PROBE_TIMEOUT_SECONDS = 2.0

#: A pooled PostgreSQL connection idle for longer than this is pinged before use (see _ping_when_idle).
PING_AFTER_IDLE_SECONDS = 1.0
#: PostgreSQL: this transaction's lock_timeout (``SET LOCAL``), e.g. ``{"ms": "250ms"}``.
_SET_LOCAL_LOCK_TIMEOUT = text("SELECT set_config('lock_timeout', :ms, true)")

#: Time in the write queue below which a writer keeps the full busy timeout.
_QUEUE_GRACE_SECONDS = 0.05
#: A pooled SQLite connection's record.info key: it was opened while the file was read-only.
_OPENED_READ_ONLY = "chatops_opened_read_only"
#: session.info key: the busy timeout (ms) left to a transaction run by the SQLite writer.
_BUSY_TIMEOUT_MS = "chatops_busy_timeout_ms"

R = TypeVar("R")

# SQLite result codes that mean "cannot write now, maybe later" (not a bug in the query).
_SQLITE_UNAVAILABLE = (
    "SQLITE_BUSY",
    "SQLITE_LOCKED",
    "SQLITE_READONLY",
    "SQLITE_IOERR",
    "SQLITE_FULL",
    "SQLITE_CANTOPEN",
)
_SQLITE_UNAVAILABLE_TEXT = ("database is locked", "readonly database", "disk i/o error", "unable to open database")
# PostgreSQL SQLSTATEs of the same kind: connection exceptions (08), insufficient resources
# (53), operator intervention (57: shutdown, cannot connect now, statement timeout),
# read-only transaction (25006), lock not available (55P03), serialization and deadlock (40).
_PG_UNAVAILABLE_PREFIXES = ("08", "53", "57", "25006", "55P03", "40001", "40P01")


class DatabaseUnavailable(Exception):
    """The database cannot take a write (or be reached) now; retrying later may work.

    ``reason`` is a short, secret-free description for logs and the readiness answer.
    """

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _sqlstate(exc: BaseException) -> str | None:
    for candidate in (exc, getattr(exc, "orig", None), getattr(getattr(exc, "orig", None), "__cause__", None)):
        state = getattr(candidate, "sqlstate", None)
        if isinstance(state, str):
            return state
    return None


def unavailable_reason(exc: BaseException) -> str | None:
    """Why ``exc`` means the database cannot take a write now, or None for any other error.

    Constraint violations, SQL mistakes and bugs are not outages: they stay errors (500).
    """
    if isinstance(exc, DatabaseUnavailable):
        return exc.reason
    if isinstance(exc, sa_exc.TimeoutError):
        return "no database connection free in time"
    if isinstance(exc, (OSError, asyncio.TimeoutError)):
        # asyncpg raises connection failures as they are (refused, unreachable, timed out).
        return f"cannot reach the database ({type(exc).__name__})"
    orig = getattr(exc, "orig", exc)
    if isinstance(orig, sqlite3.Error):
        name = getattr(orig, "sqlite_errorname", "") or ""
        message = str(orig).lower()
        if name.startswith(_SQLITE_UNAVAILABLE) or any(t in message for t in _SQLITE_UNAVAILABLE_TEXT):
            return f"SQLite: {orig}"
    state = _sqlstate(exc)
    if state is not None and state.startswith(_PG_UNAVAILABLE_PREFIXES):
        first_line = str(orig).splitlines()[0] if str(orig) else type(orig).__name__
        return f"PostgreSQL {state}: {first_line}"
    if isinstance(exc, sa_exc.DBAPIError) and exc.connection_invalidated:
        return "the database connection was lost"
    return None


def lost_a_race(exc: BaseException) -> bool:
    """True when ``exc`` is a deadlock or serialization failure: the transaction may simply be run again."""
    cause = exc.__cause__ if isinstance(exc, DatabaseUnavailable) else exc
    state = _sqlstate(cause) if cause is not None else None
    return state in ("40001", "40P01")


@asynccontextmanager
async def _translated() -> AsyncIterator[None]:
    """Re-raise outage errors as :class:`DatabaseUnavailable`; let every other error through."""
    try:
        yield
    except Exception as exc:
        reason = unavailable_reason(exc)
        if reason is None or isinstance(exc, DatabaseUnavailable):
            raise
        raise DatabaseUnavailable(reason) from exc


def _is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


def _reconnect_after_outages(engine: AsyncEngine) -> None:
    """Drop pooled connections after an outage error, so that recovery needs no restart.

    A connection opened while the database was read-only (a PostgreSQL failover to a
    standby, an SQLite file system gone read-only) keeps failing after the database is
    writable again; treating such errors as disconnects makes the pool open fresh ones.
    """

    @event.listens_for(engine.sync_engine, "handle_error")
    def _on_error(context: Any) -> None:
        orig = context.original_exception
        if isinstance(orig, sqlite3.Error):
            name = getattr(orig, "sqlite_errorname", "") or ""
            if name.startswith(("SQLITE_READONLY", "SQLITE_IOERR", "SQLITE_CANTOPEN")):
                context.is_disconnect = True
            return
        state = _sqlstate(orig)
        if state is not None and state.startswith(("08", "57P", "25006")):
            context.is_disconnect = True


def _ping_when_idle(engine: AsyncEngine) -> None:
    """Check a pooled PostgreSQL connection before use, unless it was in use a moment ago.

    SQLAlchemy's ``pool_pre_ping`` pings at every checkout, and its asyncpg ping is three round
    trips (BEGIN, a query, ROLLBACK): as many as the rest of a group commit's transaction. A
    connection given back less than ``idle_seconds`` ago has just worked; one idle for longer
    may have been closed by the server (a restart, an idle timeout, a failover) and is pinged
    as before, and replaced when the ping fails. (``idle_seconds`` is
    :data:`PING_AFTER_IDLE_SECONDS`, read at each checkout.)
    """

    @event.listens_for(engine.sync_engine, "checkin")
    def _on_checkin(_dbapi_connection: Any, record: Any) -> None:
        record.info["chatops_checked_in_at"] = time.monotonic()

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        # A new connection (the info is cleared when one is replaced) has no time: it just connected.
        checked_in = record.info.get("chatops_checked_in_at")
        if checked_in is None or time.monotonic() - checked_in < PING_AFTER_IDLE_SECONDS:
            return
        try:
            dbapi_connection.ping()
        except Exception as exc:
            # The pool drops this connection and checks out (or opens) another.
            raise sa_exc.DisconnectionError(f"a pooled connection failed its ping: {type(exc).__name__}") from exc


def sqlite_pragmas(dbapi_connection: Any, busy_timeout_ms: int, journal_mode: str) -> None:
    """Set up a new SQLite connection: ours to BEGIN, WAL (or a rollback journal), foreign keys, the busy timeout.

    For the pool's connections and the writer's (:mod:`chatops.sqlite_writer`) alike.
    """
    # pysqlite's own implicit BEGIN would defeat BEGIN IMMEDIATE (SQLAlchemy docs,
    # "Serializable isolation / Savepoints / Transactional DDL").
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    cursor.execute(f"PRAGMA journal_mode={journal_mode}")
    cursor.execute(f"PRAGMA busy_timeout={busy_timeout_ms}")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.close()


def _sqlite_file(url: str) -> str | None:
    """The file an SQLite URL names, or None for an in-memory database or one opened with URI options."""
    parsed = make_url(url)
    database = parsed.database or ""
    if not database or database == ":memory:" or parsed.query or database.startswith("file:"):
        return None
    return database


def _writable(path: str) -> bool:
    """Whether SQLite can write the database file and its write-ahead log (when there is one) now."""
    wal = f"{path}-wal"
    return os.access(path, os.W_OK) and (not os.path.exists(wal) or os.access(wal, os.W_OK))


def _configure_sqlite(engine: AsyncEngine, busy_timeout_ms: int, journal_mode: str, path: str | None) -> None:
    """Take transaction control away from the sqlite3 module so BEGIN is ours to choose."""

    @event.listens_for(engine.sync_engine, "connect")
    def _on_connect(dbapi_connection: Any, record: Any) -> None:
        sqlite_pragmas(dbapi_connection, busy_timeout_ms, journal_mode)
        if path is not None and not _writable(path):
            # SQLite opens a file it may not write read-only, and the connection stays so after the
            # file is writable again: it would fail the first write after an outage (see checkout).
            record.info[_OPENED_READ_ONLY] = True

    @event.listens_for(engine.sync_engine, "checkout")
    def _on_checkout(_dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        if path is not None and record.info.get(_OPENED_READ_ONLY) and _writable(path):
            # The pool drops it and opens another: a reader took it during the outage, a writer wants it now.
            raise sa_exc.DisconnectionError("a connection opened while the database file was read-only")

    @event.listens_for(engine.sync_engine, "begin")
    def _on_begin(conn: Connection) -> None:
        options = conn.get_execution_options()
        # A writer that already spent part of its budget in the bot's own write queue waits
        # for SQLite's lock only for what is left of it (``sqlite_deadline``, monotonic).
        deadline = options.get("sqlite_deadline")
        wanted = busy_timeout_ms if deadline is None else max(1, int((deadline - time.monotonic()) * 1000))
        info = conn.connection.info
        if info.get("busy_timeout_ms", busy_timeout_ms) != wanted:
            conn.exec_driver_sql(f"PRAGMA busy_timeout={wanted}")
            info["busy_timeout_ms"] = wanted
        conn.exec_driver_sql(f"BEGIN {options.get('sqlite_begin', 'IMMEDIATE')}")


class Database:
    """The engine and session factories of one bot instance."""

    def __init__(
        self,
        url: str,
        *,
        echo: bool = False,
        pool_size: int = 5,
        lock_timeout: float = WRITE_LOCK_TIMEOUT_SECONDS,
        sqlite_journal_mode: str = "wal",
        one_trip_writes: bool = True,
    ) -> None:
        #: Called with a transaction's events right after it commits (see chatops.events).
        self.after_commit: Callable[[list[Any]], None] | None = None
        self.url = normalise_database_url(url)
        self.is_sqlite = _is_sqlite(self.url)
        self.lock_timeout = lock_timeout
        kwargs: dict[str, Any] = {"echo": echo}
        if self.is_sqlite:
            kwargs["connect_args"] = {"timeout": lock_timeout}
        else:
            kwargs["pool_size"] = pool_size
            kwargs["pool_timeout"] = lock_timeout
            # A server that is down or a table locked by someone else answers within seconds,
            # not after asyncpg's 60 s connect timeout or an endless lock wait.
            kwargs["connect_args"] = {
                "timeout": lock_timeout,
                "server_settings": {"lock_timeout": str(int(lock_timeout * 1000))},
            }
        self.engine: AsyncEngine = create_async_engine(self.url, **kwargs)
        _reconnect_after_outages(self.engine)
        if not self.is_sqlite:
            _ping_when_idle(self.engine)
        #: SQLite in a file: the writer that runs a transaction in one trip (see :meth:`write_in_one_trip`).
        self.sqlite_writer: SQLiteWriter | None = None
        if self.is_sqlite:
            if sqlite_journal_mode not in ("wal", "delete"):
                raise ValueError(f"unknown SQLite journal mode {sqlite_journal_mode!r}")
            busy_ms = int(lock_timeout * 1000)
            path = _sqlite_file(self.url)
            _configure_sqlite(self.engine, busy_ms, sqlite_journal_mode, path)
            if path is not None and one_trip_writes:
                pragmas = functools.partial(sqlite_pragmas, busy_timeout_ms=busy_ms, journal_mode=sqlite_journal_mode)
                self.sqlite_writer = SQLiteWriter(path, pragmas, busy_ms)
        self._sessions = async_sessionmaker(self.engine, expire_on_commit=False)
        self._write_lock = asyncio.Lock() if self.is_sqlite else None
        # Reads on SQLite may share the database with a writer under WAL.
        read_engine = self.engine.execution_options(sqlite_begin="DEFERRED") if self.is_sqlite else self.engine
        self._read_sessions = async_sessionmaker(read_engine, expire_on_commit=False)
        # PostgreSQL: statements that are a whole transaction alone (see single_statements).
        self._autocommit_engine = (
            None if self.is_sqlite else self.engine.execution_options(isolation_level="AUTOCOMMIT")
        )

    @asynccontextmanager
    async def write(self, *, deadline: float | None = None) -> AsyncIterator[AsyncSession]:
        """A transaction that may write; committed on success, rolled back on error.

        ``deadline`` (``time.monotonic()``) is when waiting for SQLite's write lock gives up;
        by default ``lock_timeout`` from now. A group commit passes its oldest member's, so that
        nobody in the group waits longer than it would have alone.
        """
        async with _translated():
            if self._write_lock is None:
                async with self._sessions() as session:
                    async with session.begin():
                        left = None if deadline is None else deadline - time.monotonic()
                        if left is not None and left < self.lock_timeout - _QUEUE_GRACE_SECONDS:
                            # A group commit's oldest member already waited (behind the group before):
                            # its lock waits get only what is left (0 would mean no limit at all).
                            # set_config with a parameter, not SET LOCAL with the number in the text:
                            # one statement prepared once per connection, instead of a new one (a
                            # round trip more, and a place in the prepared-statement cache) per value.
                            ms = max(1, int(left * 1000))
                            await session.execute(_SET_LOCAL_LOCK_TIMEOUT, {"ms": f"{ms}ms"})
                        yield session
                    self._committed(session)
                return
            # SQLite has one writer at a time. Queueing our own writers here, instead of
            # letting them meet in SQLite's busy handler (which sleeps 1..100 ms between
            # tries), keeps throughput up under concurrent webhooks; other processes are
            # still kept out by BEGIN IMMEDIATE and the busy timeout. The queue wait is
            # bounded too: behind a writer stuck on a lock, every request would otherwise wait.
            # One budget for both waits: the queue's and SQLite's busy handler's, so that a
            # request behind a writer stuck on the lock is answered within lock_timeout too.
            if deadline is None:
                deadline = time.monotonic() + self.lock_timeout
            budget = max(0.0, deadline - time.monotonic())
            try:
                async with asyncio.timeout(budget):  # no extra task, unlike wait_for
                    await self._write_lock.acquire()
            except TimeoutError:
                raise DatabaseUnavailable(f"the write queue did not move for {self.lock_timeout:g} s") from None
            try:
                # Only a writer that queued noticeably gets a shorter busy timeout (one PRAGMA more).
                queued = deadline - time.monotonic() < self.lock_timeout - _QUEUE_GRACE_SECONDS
                bind = self.engine.execution_options(sqlite_deadline=deadline) if queued else self.engine
                async with self._sessions(bind=bind) as session:
                    # What is left of the budget, for a transaction the writer runs (write_in_one_trip).
                    left = deadline - time.monotonic() if queued else self.lock_timeout
                    session.info[_BUSY_TIMEOUT_MS] = max(1, int(left * 1000))
                    async with session.begin():
                        yield session
                    committed = session
            finally:
                self._write_lock.release()
            self._committed(committed)

    async def write_in_one_trip(self, session: AsyncSession, fn: Callable[[sqlite3.Connection], R | None]) -> R | None:
        """SQLite in a file: run ``fn`` as the transaction of the write ``session`` belongs to, in one trip.

        ``fn`` runs on the writer's connection (:class:`~chatops.sqlite_writer.SQLiteWriter`),
        between ``BEGIN IMMEDIATE`` and ``COMMIT``, in the place in the write queue that
        ``session`` (from :meth:`write`) holds: call it before ``session`` runs any statement,
        or the two connections would wait for each other's lock until the busy timeout.
        Returns None when there is no writer (PostgreSQL, an in-memory database) or ``fn``
        declined (returned None, rolled back): the caller then does the work with ``session``.
        """
        busy_ms = session.info.get(_BUSY_TIMEOUT_MS)
        if self.sqlite_writer is None or busy_ms is None:
            return None
        return await self.sqlite_writer.transaction(fn, busy_timeout_ms=busy_ms)

    def _committed(self, session: AsyncSession) -> None:
        """Hand the events of a transaction that has just committed to whoever listens."""
        events = session.info.pop(PENDING_EVENTS, None)
        if events and self.after_commit is not None:
            self.after_commit(events)

    @asynccontextmanager
    async def single_statements(self) -> AsyncIterator[AsyncConnection]:
        """PostgreSQL: a pooled connection on which each statement commits alone, for writes of one statement.

        One round trip per statement instead of three (BEGIN, the statement, COMMIT), and none
        of a session's bookkeeping: for the insert-once key every click takes
        (:class:`chatops.slack.replays.ReplayGuard`). Not on SQLite, whose writers queue in
        :meth:`write` (raises RuntimeError there).
        """
        if self._autocommit_engine is None:
            raise RuntimeError("single_statements is for PostgreSQL; SQLite writes go through write()")
        async with _translated(), self._autocommit_engine.connect() as conn:
            yield conn

    @asynccontextmanager
    async def read(self) -> AsyncIterator[AsyncSession]:
        """A read-only transaction."""
        async with _translated(), self._read_sessions() as session, session.begin():
            yield session

    async def ping(self) -> None:
        """Raise if the database cannot answer a trivial query."""
        async with self.read() as session:
            await session.execute(text("SELECT 1"))

    async def check_writable(self, timeout: float = READY_PROBE_TIMEOUT_SECONDS) -> None:  # noqa: ASYNC109
        """Raise :class:`DatabaseUnavailable` unless a write transaction can start within ``timeout``.

        The probe takes the write lock (SQLite's database lock; on PostgreSQL a writer's lock
        on the ingest tables) and changes a row (the schema version, to itself), then rolls
        back: it proves the database is reachable, not read-only and not locked, and stores
        nothing.
        """
        if self.is_sqlite:
            await self._check_sqlite_writable(timeout)
            return
        try:
            async with asyncio.timeout(timeout + 1.0), self.engine.connect() as conn:
                transaction = await conn.begin()
                try:
                    ms = int(timeout * 1000)
                    await conn.exec_driver_sql(f"SET LOCAL lock_timeout = {ms}")
                    await conn.exec_driver_sql(f"SET LOCAL statement_timeout = {ms}")
                    # The lock every insert takes on the tables an inbound message goes to: it
                    # waits behind whoever blocks writers there (a migration, a manual LOCK).
                    await conn.exec_driver_sql(f"LOCK TABLE {', '.join(INGEST_TABLES)} IN ROW EXCLUSIVE MODE")
                    await conn.exec_driver_sql("UPDATE alembic_version SET version_num = version_num")
                finally:
                    await transaction.rollback()
        except Exception as exc:
            reason = unavailable_reason(exc)
            raise DatabaseUnavailable(reason or f"{type(exc).__name__}: {exc}") from exc

    async def _check_sqlite_writable(self, timeout: float) -> None:  # noqa: ASYNC109
        # A connection of its own, in a thread: its busy timeout is the probe's, not the
        # pool's, and a pooled connection is never left in an odd state by a failed probe.
        path = make_url(self.url).database or ""

        def probe() -> None:
            conn = sqlite3.connect(path, timeout=timeout, isolation_level=None)
            try:
                conn.execute("BEGIN IMMEDIATE")
                try:
                    conn.execute("UPDATE alembic_version SET version_num = version_num")
                finally:
                    conn.execute("ROLLBACK")
            finally:
                conn.close()

        if not path or path == ":memory:":
            return
        try:
            await asyncio.to_thread(probe)
        except Exception as exc:
            reason = unavailable_reason(exc)
            raise DatabaseUnavailable(reason or f"SQLite: {exc}") from exc

    async def dispose(self) -> None:
        """Close every pooled connection, and the writer's."""
        if self.sqlite_writer is not None:
            await self.sqlite_writer.close()
        await self.engine.dispose()


async def insert_once(session: AsyncSession, table: Any, **key: Any) -> bool:
    """Insert the row ``key`` names in a savepoint; False when it is there already (another replica won).

    For "do this once" rows keyed by a unique constraint: the loser's transaction goes on.
    """
    try:
        async with session.begin_nested():
            await session.execute(insert(table).values(**key))
    except sa_exc.IntegrityError:
        return False
    return True
