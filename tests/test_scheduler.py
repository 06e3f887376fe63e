"""Scheduled jobs run each occurrence exactly once across replicas."""

from __future__ import annotations

import asyncio
import time
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import func, select

from chatops.db import Database
from chatops.models import JobRun
from chatops.scheduler import Job, occurrence
from chatops.testing.bot import TestBot
from chatops.testing.fake_slack import FakeSlack
from chatops.testing.outages import database_read_only


def test_occurrences_are_the_same_on_every_replica() -> None:
    every_minute = IntervalTrigger(seconds=60)
    a = occurrence(every_minute, datetime(2026, 11, 23, 10, 0, 5, tzinfo=UTC))
    b = occurrence(every_minute, datetime(2026, 11, 23, 10, 0, 59, tzinfo=UTC))
    c = occurrence(every_minute, datetime(2026, 11, 23, 10, 1, 0, tzinfo=UTC))
    assert a == b != c
    cron = CronTrigger(hour=8, timezone=ZoneInfo("Europe/Helsinki"))
    assert occurrence(cron, datetime(2026, 11, 23, 6, 0, 3, tzinfo=UTC)) == datetime(2026, 11, 23, 6, 0, tzinfo=UTC)


async def test_two_replicas_run_one_occurrence_once(fake_slack: FakeSlack, database_url: str) -> None:
    ran: list[str] = []

    async def job(app, due_at: datetime) -> None:  # type: ignore[no-untyped-def]
        ran.append(app.instance_id)
        await asyncio.sleep(0.05)

    async with (
        TestBot(fake_slack, database_url, instance_id="a") as one,
        TestBot(fake_slack, database_url, instance_id="b") as two,
    ):
        assert one.app is not None and two.app is not None
        for bot in (one.app, two.app):
            bot.scheduler.jobs["digest"] = Job("digest", IntervalTrigger(hours=1), job)
        now = datetime(2026, 11, 23, 10, 30, tzinfo=UTC)
        results = await asyncio.gather(
            one.app.scheduler.run_claimed("digest", now), two.app.scheduler.run_claimed("digest", now)
        )
        assert sorted(results) == [False, True]
        assert len(ran) == 1
        later = datetime(2026, 11, 23, 11, 30, tzinfo=UTC)
        assert await one.app.scheduler.run_claimed("digest", later)
        async with one.app.db.read() as session:
            runs = (await session.scalars(select(JobRun).order_by(JobRun.due_at))).all()
        assert [(r.due_at.hour, r.finished_at is not None, r.error) for r in runs] == [
            (10, True, None),
            (11, True, None),
        ]


async def test_a_failing_job_is_recorded_not_raised(bot: TestBot) -> None:
    async def broken(app, due_at: datetime) -> None:  # type: ignore[no-untyped-def]
        raise RuntimeError("digest query failed")

    assert bot.app is not None
    bot.app.scheduler.jobs["broken"] = Job("broken", IntervalTrigger(minutes=5), broken)
    assert await bot.app.scheduler.run_claimed("broken", datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    async with bot.app.db.read() as session:
        run = await session.scalar(select(JobRun).where(JobRun.job_id == "broken"))
    assert run is not None and run.error == "RuntimeError: digest query failed"


def _aligned_start(period: float, offset: float, lead: float = 1.0) -> datetime:
    """The first time at least ``lead`` s from now that lies ``offset`` s into an epoch-aligned ``period`` slot."""
    now = time.time() + lead
    start = (now // period) * period + offset
    return datetime.fromtimestamp(start if start >= now else start + period, UTC)


async def test_a_replica_that_fires_late_runs_nothing_twice(fake_slack: FakeSlack, database_url: str) -> None:
    # One occurrence, scheduled 3 s into a 4 s slot. Replica "b" is held up (its scheduler paused,
    # as a blocked loop would) and fires 2 s late, in the next slot by the clock but well
    # inside the misfire grace time: it must recognise the occurrence "a" already ran.
    ran: list[tuple[str, datetime]] = []

    async def digest(app, due_at: datetime) -> None:  # type: ignore[no-untyped-def]
        ran.append((app.instance_id, due_at))

    start = _aligned_start(4.0, 3.0)
    async with (
        TestBot(fake_slack, database_url, instance_id="a") as one,
        TestBot(fake_slack, database_url, instance_id="b") as two,
    ):
        assert one.app is not None and two.app is not None
        for bot in (one.app, two.app):
            bot.scheduler.add(Job("digest", IntervalTrigger(seconds=4, start_date=start, end_date=start), digest))
            bot.scheduler.start()
        two.app.scheduler._scheduler.pause()
        await asyncio.sleep((start - datetime.now(UTC)).total_seconds() + 2.0)
        assert [who for who, _ in ran] == ["a"]
        two.app.scheduler._scheduler.resume()
        await asyncio.sleep(1.0)
        assert [who for who, _ in ran] == ["a"], ran
        async with one.app.db.read() as session:
            runs = (await session.scalars(select(JobRun).where(JobRun.job_id == "digest"))).all()
        assert [(r.claimed_by, r.finished_at is not None) for r in runs] == [("a", True)]


async def test_stopping_waits_for_a_running_job_before_closing_the_database(
    fake_slack: FakeSlack, database_url: str
) -> None:
    started = asyncio.Event()
    finished: list[int] = []

    async def slow_report(app, due_at: datetime) -> None:  # type: ignore[no-untyped-def]
        started.set()
        await asyncio.sleep(0.8)
        async with app.db.read() as session:  # the database must still be open here
            finished.append(int(await session.scalar(select(func.count()).select_from(JobRun)) or 0))

    async with TestBot(fake_slack, database_url) as bot:
        assert bot.app is not None
        soon = datetime.now(UTC) + timedelta(seconds=0.2)
        bot.app.scheduler.add(Job("report", DateTrigger(run_date=soon), slow_report))
        bot.app.scheduler.start()
        await asyncio.wait_for(started.wait(), 5)
        await bot.stop()
    assert finished == [1]
    db = Database(database_url)
    try:
        async with db.read() as session:
            run = await session.scalar(select(JobRun).where(JobRun.job_id == "report"))
    finally:
        await db.dispose()
    assert run is not None and run.finished_at is not None and run.error is None


async def test_a_job_due_during_a_database_outage_is_skipped_and_the_next_one_runs(bot: TestBot) -> None:
    ran: list[datetime] = []

    async def digest(app, due_at: datetime) -> None:  # type: ignore[no-untyped-def]
        ran.append(due_at)

    assert bot.app is not None
    bot.app.scheduler.jobs["digest"] = Job("digest", IntervalTrigger(hours=1), digest)
    await bot.comment("a message, so that the SQLite log exists")
    async with database_read_only(bot.database_url):
        assert not await bot.app.scheduler.run_claimed("digest", datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    assert ran == []
    assert await bot.app.scheduler.run_claimed("digest", datetime(2026, 11, 23, 11, 0, tzinfo=UTC))
    assert ran == [datetime(2026, 11, 23, 11, 0, tzinfo=UTC)]
