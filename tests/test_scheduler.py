"""Scheduled jobs run each occurrence exactly once across replicas."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import select

from chatops.models import JobRun
from chatops.scheduler import Job, occurrence
from chatops.testing.bot import TestBot
from chatops.testing.fake_slack import FakeSlack


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
