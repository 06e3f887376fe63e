"""SQLite: the bot's own writer connection, which runs a whole transaction in one trip to its thread.

Through SQLAlchemy and aiosqlite every step of a transaction is a trip to aiosqlite's thread and
back, each waking the event loop: BEGIN, each statement, its cursor, fetching its rows, closing
it, COMMIT, and the pool's ROLLBACK when the connection goes back. A group of new comments made
19 of them, and under a webhook flood on SQLite those trips and SQLAlchemy's execution around
them were about a fifth of the bot's CPU (profiled with py-spy; see ``benchmarks/ingest.py``).
A :class:`SQLiteWriter` runs a transaction written as a plain function over a
``sqlite3.Connection`` on a thread of its own: one trip, whatever the function does.

It is one more connection to the same file, opened with the pool's pragmas
(:func:`chatops.db.sqlite_pragmas`), and it takes no lock of its own: callers run it inside
:meth:`chatops.db.Database.write`, which queues the bot's writers, so the pool's connections never
wait for it; other processes are kept out by ``BEGIN IMMEDIATE`` and the busy timeout, as for
the pool. After an error other than a refused row (a constraint), the connection is closed and the
next transaction opens a new one, as the pool does after an outage: a connection opened while the
file was read-only would otherwise stay unable to write.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import sqlite3
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TypeVar

R = TypeVar("R")


class SQLiteWriter:
    """One SQLite connection on one thread; :meth:`transaction` runs a function as a transaction there.

    ``path`` is the database file; ``configure(conn)`` sets a new connection's pragmas;
    ``busy_timeout_ms`` is the default wait for the database's write lock.
    """

    def __init__(self, path: str, configure: Callable[[sqlite3.Connection], None], busy_timeout_ms: int) -> None:
        self._path = path
        self._configure = configure
        self._busy_timeout_ms = busy_timeout_ms
        self._executor: ThreadPoolExecutor | None = None
        # Touched only on the executor's thread, which opened it.
        self._conn: sqlite3.Connection | None = None
        self._busy_ms_set = busy_timeout_ms

    async def transaction(self, fn: Callable[[sqlite3.Connection], R | None], *, busy_timeout_ms: int) -> R | None:
        """Run ``fn(conn)`` between ``BEGIN IMMEDIATE`` and ``COMMIT``, in one trip to the writer's thread.

        ``fn`` returning None means it declined: the transaction is rolled back and None returned
        (the caller then does the work another way). An error in ``fn`` or at COMMIT rolls back
        and is raised here. ``busy_timeout_ms`` bounds the wait for the database's write lock.
        """
        if self._executor is None:
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="chatops-sqlite-writer")
        run: Callable[[], R | None] = functools.partial(self._run, fn, busy_timeout_ms)
        future = asyncio.get_running_loop().run_in_executor(self._executor, run)
        try:
            return await asyncio.shield(future)
        except asyncio.CancelledError:
            # The thread goes on to its COMMIT or ROLLBACK whatever happens here; the caller's place
            # in the write queue is kept until then, so that the next writer does not wait on it.
            await asyncio.wait([future])
            if not future.cancelled():
                future.exception()  # retrieved: whatever it was, the cancelled caller is no longer there to hear it
            raise

    def _run(self, fn: Callable[[sqlite3.Connection], R | None], busy_timeout_ms: int) -> R | None:
        conn = self._connection()
        try:
            if busy_timeout_ms != self._busy_ms_set:
                conn.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
                self._busy_ms_set = busy_timeout_ms
            conn.execute("BEGIN IMMEDIATE")
            result = fn(conn)
            conn.execute("COMMIT" if result is not None else "ROLLBACK")
        except BaseException as exc:
            self._give_up(conn, exc)
            raise
        return result

    def _connection(self) -> sqlite3.Connection:
        if self._conn is None:
            # isolation_level=None: no implicit BEGIN of the sqlite3 module's; ours is BEGIN IMMEDIATE.
            conn = sqlite3.connect(self._path, timeout=self._busy_timeout_ms / 1000, isolation_level=None)
            try:
                self._configure(conn)
            except BaseException:
                conn.close()
                raise
            self._conn = conn
            self._busy_ms_set = self._busy_timeout_ms
        return self._conn

    def _give_up(self, conn: sqlite3.Connection, exc: BaseException) -> None:
        """Roll back after an error; drop the connection unless the error was a refused row or our own."""
        if conn.in_transaction:
            with contextlib.suppress(sqlite3.Error):  # the error said what went wrong; this would not
                conn.execute("ROLLBACK")
        if isinstance(exc, sqlite3.Error) and not isinstance(exc, sqlite3.IntegrityError):
            self._close()

    def _close(self) -> None:
        conn, self._conn = self._conn, None
        if conn is not None:
            conn.close()

    async def close(self) -> None:
        """Close the connection and stop the thread (a later transaction starts them again)."""
        executor, self._executor = self._executor, None
        if executor is None:
            return
        try:
            await asyncio.get_running_loop().run_in_executor(executor, self._close)
        finally:
            executor.shutdown(wait=False)
