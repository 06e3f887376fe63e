"""Database outages made from outside the bot, for tests: a write lock held elsewhere, a read-only database.

Both are real: another connection holding the lock (SQLite ``BEGIN IMMEDIATE`` in a
thread, PostgreSQL ``LOCK TABLE``), SQLite files the file system refuses to write
(``chattr +i``, which stops root too, unlike ``chmod``), and a PostgreSQL database
switched to read-only transactions with its connections dropped, as in a failover.
"""

from __future__ import annotations

import asyncio
import contextlib
import sqlite3
import subprocess
import threading
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from chatops.config import normalise_database_url


@contextlib.asynccontextmanager
async def write_lock_held_elsewhere(database_url: str) -> AsyncIterator[None]:
    """Another process's view: a connection that holds the write lock until the block ends."""
    if database_url.startswith("sqlite"):
        path = make_url(database_url).database
        taken, release = threading.Event(), threading.Event()

        def hold() -> None:
            conn = sqlite3.connect(str(path), isolation_level=None)
            conn.execute("BEGIN IMMEDIATE")
            taken.set()
            release.wait(30)
            conn.execute("ROLLBACK")
            conn.close()

        thread = threading.Thread(target=hold, daemon=True)
        thread.start()
        assert await asyncio.to_thread(taken.wait, 5)
        try:
            yield
        finally:
            release.set()
            await asyncio.to_thread(thread.join, 5)
        return
    engine = create_async_engine(normalise_database_url(database_url))
    try:
        async with engine.connect() as conn:
            await conn.execute(text("BEGIN"))
            await conn.execute(text("LOCK TABLE conversations, messages, outbox IN ACCESS EXCLUSIVE MODE"))
            try:
                yield
            finally:
                await conn.execute(text("ROLLBACK"))
    finally:
        await engine.dispose()


@contextlib.contextmanager
def immutable(*paths: Path) -> Iterator[None]:
    """Make files unwritable even for root (ext4's immutable flag); skip where the file system can't."""
    done: list[Path] = []
    try:
        for path in paths:
            result = subprocess.run(["chattr", "+i", str(path)], capture_output=True, text=True, check=False)  # noqa: S603, S607 - a fixed command
            if result.returncode != 0:
                pytest.skip(f"chattr +i not possible here: {result.stderr.strip()}")
            done.append(path)
        yield
    finally:
        for path in done:
            subprocess.run(["chattr", "-i", str(path)], check=False)  # noqa: S603, S607


@contextlib.asynccontextmanager
async def database_read_only(database_url: str) -> AsyncIterator[None]:
    """The database refuses writes: an unwritable SQLite log, or PostgreSQL in read-only mode."""
    if database_url.startswith("sqlite"):
        # Only the write-ahead log: SQLite writes there first, and a write then fails with
        # "disk I/O error" / "attempt to write a readonly database", as on a read-only disk.
        # (The -shm file is left alone: it is memory-mapped, and the kernel answers a write
        # to a mapped immutable page with SIGBUS, which would kill the test process.)
        wal = Path(f"{make_url(database_url).database}-wal")
        assert await asyncio.to_thread(wal.exists)
        with immutable(wal):
            yield
        return
    name = make_url(database_url).database
    admin = create_async_engine(normalise_database_url(database_url), isolation_level="AUTOCOMMIT")

    async def switch(read_only: bool) -> None:
        async with admin.connect() as conn:
            setting = "SET default_transaction_read_only = on" if read_only else "RESET default_transaction_read_only"
            await conn.execute(text(f'ALTER DATABASE "{name}" {setting}'))
            # A failover drops every connection; the bot's pool reconnects by itself.
            await conn.execute(
                text(
                    "SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                    "WHERE datname = :name AND pid <> pg_backend_pid()"
                ),
                {"name": name},
            )

    try:
        await switch(True)
        try:
            yield
        finally:
            await switch(False)
    finally:
        await admin.dispose()
