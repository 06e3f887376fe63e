"""Fixtures for the digest plugin's tests: a bot with ``digest`` enabled, its table migrated, time in the test's hands.

``digest_bot(**settings)`` builds a started :class:`TestBot` with ``[plugins.digest]`` set to
``settings`` (``channel`` defaults to the managers' channel :data:`MANAGERS`); its running
:class:`Digests` (``digests_of_bot``) has a :class:`Clock` the test moves. ``rota={...}``
enables the rota too (service hours).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from digest_kit import MANAGERS, Clock, DigestBot, digests_of_bot
from sqlalchemy import text

from chatops.db import Database
from chatops.migrate import upgrade_plugin
from chatops.testing.bot import TestBot
from chatops.testing.fake_slack import FakeSlack
from chatops_plugins.digest import service, tables
from chatops_plugins.rota import tables as rota_tables
from chatops_plugins.webhook.testing import WebhookCustomer


async def _migrate(url: str) -> None:
    db = Database(url)
    try:
        await upgrade_plugin(db, "digest", tables.MIGRATIONS)
        await upgrade_plugin(db, "rota", rota_tables.MIGRATIONS)
        if url.startswith("postgresql"):
            # The shared test database keeps plugin tables between tests; the core's are truncated.
            names = [t.name for t in tables.metadata.sorted_tables] + [
                t.name for t in rota_tables.metadata.sorted_tables if t.name.startswith("rota_")
            ]
            async with db.engine.begin() as conn:
                await conn.execute(text(f"TRUNCATE {', '.join(names)} RESTART IDENTITY CASCADE"))
    finally:
        await db.dispose()


@pytest.fixture
async def digest_database(database_url: str) -> str:
    """The test database (SQLite, then PostgreSQL) with the digest's and the rota's tables, empty."""
    await _migrate(database_url)
    return database_url


@pytest.fixture
def digest_bot(fake_slack: FakeSlack, digest_database: str, monkeypatch: pytest.MonkeyPatch) -> DigestBot:
    """``async with digest_bot(language="en", timezone="Europe/Helsinki", now=..., rota=None, **digest) as bot``."""

    @asynccontextmanager
    async def build(
        *,
        language: str = "en",
        timezone: str = "Europe/Helsinki",
        now: datetime | None = None,
        instance_id: str = "test",
        rota: dict[str, Any] | None = None,
        **digest: Any,
    ) -> AsyncIterator[TestBot]:
        digest.setdefault("channel", MANAGERS)
        plugins: dict[str, Any] = {"digest": digest}
        enabled = ["webhook", "digest"]
        if rota is not None:
            plugins["rota"] = {"leads": ["ULENA"], **rota}
            enabled.append("rota")
        config = {"team": {"language": language, "timezone": timezone}, "plugins": plugins}
        bot = TestBot(
            fake_slack,
            digest_database,
            config=config,
            customer=WebhookCustomer,
            plugins=enabled,
            instance_id=instance_id,
        )
        clock = Clock(now or datetime(2026, 12, 1, 6, 0, tzinfo=UTC))
        # Set before the bot starts: the real minute job may run during start-up, and must not
        # see the real date (it would post a digest for it).
        monkeypatch.setattr(service, "default_clock", clock)
        async with bot:
            assert digests_of_bot(bot).clock is clock
            yield bot

    return build
