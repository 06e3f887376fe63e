"""Figures at their edges: local midnight to the microsecond, and the export's first response against the digest's.

The core stamps times with microseconds (``datetime.now``); the digest counts in whole
milliseconds. Both databases.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from digest_kit import Data

from chatops.db import Database
from chatops_plugins.digest import figures, log_rows
from chatops_plugins.digest.periods import days_window, windows

HELSINKI = ZoneInfo("Europe/Helsinki")
#: Local midnight between Monday 30 November and Tuesday 1 December 2026 (UTC+2).
MIDNIGHT = datetime(2026, 11, 30, 22, 0, tzinfo=UTC)
OPTIONS = figures.Options(target_seconds=3600)


@pytest.fixture
async def db(digest_database: str) -> AsyncIterator[Database]:
    database = Database(digest_database)
    yield database
    await database.dispose()


async def test_today_and_yesterday_split_midnight_to_the_microsecond(db: Database) -> None:
    """A conversation a microsecond before local midnight is yesterday's, one at midnight today's; none twice."""
    data = Data(db)
    before = await data.conversation(MIDNIGHT - timedelta(microseconds=1), author="a")
    at = await data.conversation(MIDNIGHT, author="b")
    # Answered across midnight, each 1.5 s later.
    await data.reply(before, MIDNIGHT + timedelta(milliseconds=1499, microseconds=999))
    await data.reply(at, MIDNIGHT + timedelta(milliseconds=1500))
    now = MIDNIGHT + timedelta(seconds=5)
    today, _ = windows("today", now, HELSINKI)
    yesterday, _ = windows("yesterday", now, HELSINKI)
    async with db.read() as session:
        this = await figures.window_figures(session, today, OPTIONS)
        last = await figures.window_figures(session, yesterday, OPTIONS)
    assert (this.conversations, last.conversations) == (1, 1)
    assert (this.messages, last.messages) == (1, 1)
    assert (this.answered, last.answered) == (1, 1)
    assert this.first_response.median == 1.5
    # 23:59:59.999999 rounds to 00:00:00.000 and 00:00:01.499999 to 01.500: 1.5 s as well.
    assert last.first_response.median == 1.5


async def test_the_exports_first_response_is_the_digests_to_the_millisecond(db: Database) -> None:
    """Times with microseconds, as the core stores them: the CSV's first_response_seconds per conversation is the
    figure the digest's median is taken from, so a manager recomputing the median from the CSV gets the digest's."""
    data = Data(db)
    start = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    one = await data.conversation(start + timedelta(microseconds=400), author="a")
    await data.reply(one, start + timedelta(seconds=10, microseconds=600))
    window = days_window(start.date(), start.date(), HELSINKI, start + timedelta(hours=1))
    async with db.read() as session:
        found = await figures.window_figures(session, window, OPTIONS)
        rows = [row async for batch in log_rows.stream(session, window, None) for row in batch]
    exported = {row.first_response for row in rows if row.conversation_id == one}
    assert found.first_response.median == 10.001  # 10.000600 → 10 001 ms, 0.000400 → 0 ms
    assert exported == {found.first_response.median}


async def test_the_same_author_id_on_two_platforms_is_two_fans(db: Database) -> None:
    """An author id is the platform's (a page-scoped id, a webhook's customer number): ``1001`` on Facebook and
    ``1001`` on the webhook are two customers, each with their own name and source."""
    data = Data(db)
    start = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)
    for i in range(3):
        await data.conversation(start + timedelta(minutes=i), source="facebook", author="1001", name="Anna Facebook")
    await data.conversation(start + timedelta(hours=1), source="webhook", author="1001", name="Bob Webhook")
    window = days_window(start.date(), start.date(), HELSINKI, start + timedelta(hours=2))
    async with db.read() as session:
        found = await figures.window_figures(session, window, OPTIONS)
    assert [(fan.name, fan.sources, fan.conversations) for fan in found.fans] == [
        ("Anna Facebook", ("facebook",), 3),
        ("Bob Webhook", ("webhook",), 1),
    ]
