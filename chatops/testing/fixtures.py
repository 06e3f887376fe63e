"""pytest fixtures for chatops and its plugins: ``pytest_plugins = ["chatops.testing.fixtures"]``.

- ``fake_slack``: one fake Slack Web API per test session, reset before each test.
- ``database_url``: every test that uses it runs on SQLite, and again on PostgreSQL
  when ``CHATOPS_TEST_POSTGRES_URL`` is set (skipped with the reason otherwise).
- ``callback``: a webhook sender's reply_url that records the team's replies.
- ``bot``: a started :class:`~chatops.testing.bot.TestBot` on those.
"""

from __future__ import annotations

import asyncio
import os
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from chatops.db import Database
from chatops.migrate import upgrade
from chatops.models import Base
from chatops.testing.bot import CallbackReceiver, TestBot
from chatops.testing.fake_slack import FakeSlack

POSTGRES_ENV = "CHATOPS_TEST_POSTGRES_URL"


def postgres_url() -> str | None:
    """The PostgreSQL URL tests may use, from the environment."""
    return os.environ.get(POSTGRES_ENV) or None


async def _reset_postgres(url: str) -> None:
    db = Database(url)
    try:
        async with db.engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await upgrade(db)
    finally:
        await db.dispose()


async def _truncate_postgres(url: str) -> None:
    db = Database(url)
    try:
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        async with db.engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        await db.dispose()


@pytest.fixture(scope="session")
def _postgres_schema() -> str | None:
    url = postgres_url()
    if url:
        asyncio.run(_reset_postgres(url))
    return url


async def _migrated_sqlite(path: Path) -> None:
    db = Database(f"sqlite+aiosqlite:///{path}")
    try:
        await upgrade(db)
    finally:
        await db.dispose()


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    # Migrating once and copying the file keeps each test's fresh database cheap.
    path = tmp_path_factory.mktemp("template") / "chatops.db"
    asyncio.run(_migrated_sqlite(path))
    return path


@pytest.fixture(params=["sqlite", "postgresql"])
async def database_url(
    request: pytest.FixtureRequest, tmp_path: Path, _postgres_schema: str | None, _sqlite_template: Path
) -> str:
    """A fresh, empty, migrated database: an SQLite file, or the test PostgreSQL database truncated."""
    if request.param == "sqlite":
        path = tmp_path / "chatops.db"
        shutil.copyfile(_sqlite_template, path)
        return f"sqlite+aiosqlite:///{path}"
    if not _postgres_schema:
        pytest.skip(f"PostgreSQL tests need {POSTGRES_ENV} (e.g. postgresql://postgres@127.0.0.1:5432/test)")
    await _truncate_postgres(_postgres_schema)
    return _postgres_schema


@pytest.fixture(scope="session")
def _fake_slack_server() -> Iterator[FakeSlack]:
    with FakeSlack() as fake:
        yield fake


@pytest.fixture
def fake_slack(_fake_slack_server: FakeSlack) -> FakeSlack:
    """The fake Slack, emptied for this test."""
    _fake_slack_server.reset(directory=True)
    _fake_slack_server.post_interval = 0.0
    return _fake_slack_server


@pytest.fixture
def callback() -> Iterator[CallbackReceiver]:
    """A webhook sender's reply_url."""
    receiver = CallbackReceiver()
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture
async def bot(fake_slack: FakeSlack, database_url: str) -> AsyncIterator[TestBot]:
    """The real bot in HTTP mode against the fake Slack and a fresh database."""
    async with TestBot(fake_slack, database_url) as running:
        yield running
