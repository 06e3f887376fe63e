"""The chart's days, counted in one statement, against each day counted alone by window_figures.

daily_points counts all the days that share an ``as_of`` in one statement (a range join against
a table of the days); window_figures counts one window. Both must say the same for every day:
how many conversations started and their median first response, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import datetime, timedelta

import pytest
from digest_kit import Data
from figures_data import DAY, HELSINKI, READ_AT, TARGET_SECONDS, WED, Ids, at, build

from chatops.db import Database
from chatops_plugins.digest import figures
from chatops_plugins.digest.figures import DayPoint, Options
from chatops_plugins.digest.periods import Window, days_window, history

OPTIONS = Options(target_seconds=TARGET_SECONDS, top=5, list_limit=3)


@pytest.fixture
async def db(digest_database: str) -> AsyncIterator[Database]:
    database = Database(digest_database)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
async def ids(db: Database) -> Ids:
    return await build(Data(db))


async def day_by_day(db: Database, days: list[Window], options: Options) -> list[DayPoint]:
    """The chart's points as window_figures counts each day on its own."""
    points = []
    async with db.read() as session:
        for window in days:
            got = await figures.window_figures(session, window, options)
            points.append(DayPoint(window.first_day, got.conversations, got.first_response.median))
    return points


@pytest.mark.usefixtures("ids")
@pytest.mark.parametrize("read_at", [READ_AT, READ_AT - timedelta(hours=20), READ_AT + timedelta(days=2)])
async def test_one_statement_says_what_each_day_alone_says(db: Database, read_at: datetime) -> None:
    # Read the next morning, the evening before (c4..c7 and some answers not there yet), later.
    days = history(WED, HELSINKI, read_at, days=5)
    async with db.read() as session:
        together = await figures.daily_points(session, days, OPTIONS)
    alone = await day_by_day(db, days, OPTIONS)
    assert together == alone
    # The data set is not empty on these days: the comparison compares something.
    assert sum(point.conversations for point in together) == 8


@pytest.mark.usefixtures("ids")
async def test_days_read_at_different_times_and_one_source(db: Database) -> None:
    # Each day as it stood the next morning (as_of differs per day); all sources, then Facebook only.
    days = [days_window(day, day, HELSINKI, at(day + timedelta(days=1), "08:00")) for day in (DAY, WED)]
    for options in (OPTIONS, Options(target_seconds=TARGET_SECONDS, sources=("facebook",))):
        async with db.read() as session:
            together = await figures.daily_points(session, days, options)
        assert together == await day_by_day(db, days, options)
    async with db.read() as session:
        facebook = await figures.daily_points(session, days, Options(target_seconds=60, sources=("facebook",)))
    # c3 is Tuesday's only Facebook conversation, answered on the Page after 30 min.
    assert facebook == [DayPoint(DAY, 1, 1800.0), DayPoint(WED, 0, None)]


@pytest.mark.usefixtures("ids")
async def test_overlapping_windows_count_alike(db: Database) -> None:
    # Not the chart's shape, but daily_points takes any windows: a week and the days in it.
    week = days_window(DAY - timedelta(days=3), WED, HELSINKI, READ_AT)
    days = [week, *history(WED, HELSINKI, READ_AT, days=3)]
    async with db.read() as session:
        together = await figures.daily_points(session, days, OPTIONS)
    assert together == await day_by_day(db, days, OPTIONS)
    assert together[0].conversations == 8
