"""pytest fixtures for chatops and its plugins: ``pytest_plugins = ["chatops.testing.fixtures"]``.

- ``fake_slack``: one fake Slack Web API per test session, reset before each test.
- ``database_url``: every test that uses it runs on SQLite, and again on PostgreSQL
  when ``CHATOPS_TEST_POSTGRES_URL`` is set (skipped with the reason otherwise). The
  tests run in a database the fixture creates beside the one named and drops at the
  end; a URL whose database name lacks "test" is refused.
- ``callback``: a webhook sender's reply_url that records the team's replies.
- ``bot``: a started :class:`~chatops.testing.bot.TestBot` on those, whose customer side
  is ``bot_customer`` (override that fixture, or set ``TestBot.default_customer``, to say
  how comments reach the bot; see :mod:`chatops.testing.customers`).
"""

from __future__ import annotations

import asyncio
import os
import secrets
import shutil
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from sqlalchemy import make_url, text
from sqlalchemy.ext.asyncio import create_async_engine

from chatops.config import normalise_database_url
from chatops.db import Database
from chatops.migrate import upgrade
from chatops.models import Base
from chatops.testing.bot import CallbackReceiver, TestBot
from chatops.testing.customers import CustomerFactory
from chatops.testing.fake_slack import FakeSlack

POSTGRES_ENV = "CHATOPS_TEST_POSTGRES_URL"


def postgres_url() -> str | None:
    """The PostgreSQL URL tests may use, from the environment."""
    return os.environ.get(POSTGRES_ENV) or None


class UnsafeTestDatabase(ValueError):
    """The PostgreSQL URL given for tests does not name a test database."""


def check_test_url(url: str) -> None:
    """Refuse a PostgreSQL URL whose database name does not say it is for tests.

    The fixtures create and drop databases of their own next to the one named, but a
    plugin author who points them at production by mistake should be stopped, not trusted.
    """
    name = make_url(url).database or ""
    if "test" not in name.lower():
        raise UnsafeTestDatabase(
            f"{POSTGRES_ENV} must name a test database (its name must contain 'test'), not {name!r}"
        )


async def create_test_database(url: str, *, migrate: bool = True) -> str:
    """Create a database of its own beside ``url``'s, migrated unless ``migrate=False``; return its URL.

    Each test session gets one (``<name>_<random>``), so parallel runs and a real
    database at the same address are never touched. A benchmark comparing two versions
    leaves it empty, for each version to migrate with its own migrations.
    """
    check_test_url(url)
    base = make_url(normalise_database_url(url))
    name = f"{base.database}_{secrets.token_hex(4)}"
    admin = create_async_engine(base, isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'CREATE DATABASE "{name}"'))
    finally:
        await admin.dispose()
    created = base.set(database=name).render_as_string(hide_password=False)
    if not migrate:
        return created
    db = Database(created)
    try:
        await upgrade(db)
    finally:
        await db.dispose()
    return created


async def drop_test_database(url: str) -> None:
    """Drop a database made by :func:`create_test_database` (and only such a one)."""
    check_test_url(url)
    target = make_url(normalise_database_url(url))
    admin = create_async_engine(target.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.execute(text(f'DROP DATABASE IF EXISTS "{target.database}" WITH (FORCE)'))
    finally:
        await admin.dispose()


async def _truncate_postgres(url: str) -> None:
    db = Database(url)
    try:
        tables = ", ".join(t.name for t in Base.metadata.sorted_tables)
        async with db.engine.begin() as conn:
            await conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    finally:
        await db.dispose()


@pytest.fixture(scope="session")
def _postgres_schema() -> Iterator[str | None]:
    url = postgres_url()
    if not url:
        yield None
        return
    created = asyncio.run(create_test_database(url))
    try:
        yield created
    finally:
        asyncio.run(drop_test_database(created))


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


#: How long a trigger id stays valid on the shared test fake (Slack's is 3 s; see ``fake_slack``).
TEST_TRIGGER_TTL = 30.0


@pytest.fixture
def fake_slack(_fake_slack_server: FakeSlack) -> FakeSlack:
    """The fake Slack, emptied for this test."""
    _fake_slack_server.reset(directory=True)
    _fake_slack_server.post_interval = 0.0
    # Settings a test changes on the shared fake must not leak into the next test.
    _fake_slack_server.strict_channels = False
    # Slack's 3 s for a trigger id is a speed target, measured by the benchmarks; here a
    # scheduler stall on a shared CI machine must not fail a test about something else. Expiry
    # itself is tested on a fake of its own (tests/test_fake_slack.py).
    _fake_slack_server.trigger_ttl = TEST_TRIGGER_TTL
    return _fake_slack_server


@pytest.fixture
def callback() -> Iterator[CallbackReceiver]:
    """A webhook sender's reply_url."""
    receiver = CallbackReceiver()
    receiver.start()
    yield receiver
    receiver.stop()


@pytest.fixture
def bot_customer() -> CustomerFactory | None:
    """The customer side of the ``bot`` fixture; None means ``TestBot.default_customer``. Override it to choose."""
    return None


@pytest.fixture
async def bot(fake_slack: FakeSlack, database_url: str, bot_customer: CustomerFactory | None) -> AsyncIterator[TestBot]:
    """The real bot in HTTP mode against the fake Slack and a fresh database."""
    async with TestBot(fake_slack, database_url, customer=bot_customer) as running:
        yield running
