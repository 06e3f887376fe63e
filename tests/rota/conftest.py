"""Fixtures for the rota plugin's tests: a bot with ``rota`` enabled, its tables migrated, time in the test's hands.

``rota_bot(**settings)`` builds a started :class:`TestBot` with ``[plugins.rota]`` set to
``settings``; :func:`rota_of_bot` gives its running :class:`Rota`, whose ``clock`` a test
moves (:class:`Clock`), so nothing sleeps for a shift change.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

import pytest
from rota_kit import LEAD, PLUGINS, Clock, RotaBot, rota_of_bot
from sqlalchemy import text

from chatops.db import Database
from chatops.migrate import upgrade_plugin
from chatops.testing.bot import TestBot
from chatops.testing.fake_slack import FakeSlack
from chatops_plugins.rota import tables
from chatops_plugins.webhook.testing import WebhookCustomer


async def _migrate_rota(url: str) -> None:
    db = Database(url)
    try:
        await upgrade_plugin(db, "rota", tables.MIGRATIONS)
        if url.startswith("postgresql"):
            # The shared test database keeps plugin tables between tests; the core's are truncated.
            names = ", ".join(t.name for t in tables.metadata.sorted_tables if t.name.startswith("rota_"))
            async with db.engine.begin() as conn:
                await conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
    finally:
        await db.dispose()


@pytest.fixture
async def rota_database(database_url: str) -> str:
    """The test database with the rota's tables, empty."""
    await _migrate_rota(database_url)
    return database_url


@pytest.fixture
def rota_bot(fake_slack: FakeSlack, rota_database: str) -> RotaBot:
    """``async with rota_bot(language="en", timezone="Europe/Helsinki", now=..., **rota) as bot``.

    ``rota`` is the ``[plugins.rota]`` table (``leads`` defaults to Lena's id); ``now`` sets the
    rota's clock (a :class:`Clock`, reachable as ``rota_of_bot(bot).clock``).
    """

    @asynccontextmanager
    async def build(
        *,
        language: str = "en",
        timezone: str = "Europe/Helsinki",
        now: datetime | None = None,
        instance_id: str = "test",
        **rota: Any,
    ) -> AsyncIterator[TestBot]:
        rota.setdefault("leads", [LEAD])
        config = {"team": {"language": language, "timezone": timezone}, "plugins": {"rota": rota}}
        bot = TestBot(
            fake_slack, rota_database, config=config, customer=WebhookCustomer, plugins=PLUGINS, instance_id=instance_id
        )
        async with bot:
            rota_of_bot(bot).clock = Clock(now or datetime(2026, 12, 1, 9, 0, tzinfo=UTC))
            yield bot

    return build
