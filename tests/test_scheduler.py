"""Scheduled jobs run each occurrence exactly once across replicas."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import func, select

from chatops.db import Database
from chatops.jobs import Alerted, Job
from chatops.models import Alert, JobRun
from chatops.scheduler import occurrence
from chatops.testing.bot import OPS, TestBot
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

    def job(instance_id: str) -> Callable[[datetime], Awaitable[None]]:
        async def run(due_at: datetime) -> None:
            ran.append(instance_id)
            await asyncio.sleep(0.05)

        return run

    async with (
        TestBot(fake_slack, database_url, instance_id="a") as one,
        TestBot(fake_slack, database_url, instance_id="b") as two,
    ):
        assert one.app is not None and two.app is not None
        for bot in (one.app, two.app):
            bot.scheduler.jobs["digest"] = Job("digest", IntervalTrigger(hours=1), job(bot.instance_id))
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
    async def broken(due_at: datetime) -> None:
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

    def digest(instance_id: str) -> Callable[[datetime], Awaitable[None]]:
        async def run(due_at: datetime) -> None:
            ran.append((instance_id, due_at))

        return run

    start = _aligned_start(4.0, 3.0)
    async with (
        TestBot(fake_slack, database_url, instance_id="a") as one,
        TestBot(fake_slack, database_url, instance_id="b") as two,
    ):
        assert one.app is not None and two.app is not None
        for bot in (one.app, two.app):
            trigger = IntervalTrigger(seconds=4, start_date=start, end_date=start)
            bot.scheduler.add(Job("digest", trigger, digest(bot.instance_id)))
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

    async with TestBot(fake_slack, database_url) as bot:
        assert bot.app is not None
        bot_db = bot.app.db

        async def slow_report(due_at: datetime) -> None:
            started.set()
            await asyncio.sleep(0.8)
            async with bot_db.read() as session:  # the database must still be open here
                finished.append(int(await session.scalar(select(func.count()).select_from(JobRun)) or 0))

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

    async def digest(due_at: datetime) -> None:
        ran.append(due_at)

    assert bot.app is not None
    bot.app.scheduler.jobs["digest"] = Job("digest", IntervalTrigger(hours=1), digest)
    await bot.comment("a message, so that the SQLite log exists")
    async with database_read_only(bot.database_url):
        assert not await bot.app.scheduler.run_claimed("digest", datetime(2026, 11, 23, 10, 0, tzinfo=UTC))
    assert ran == []
    assert await bot.app.scheduler.run_claimed("digest", datetime(2026, 11, 23, 11, 0, tzinfo=UTC))
    assert ran == [datetime(2026, 11, 23, 11, 0, tzinfo=UTC)]


async def test_a_failed_run_is_tried_again_within_its_grace_time(bot: TestBot) -> None:
    assert bot.app is not None
    scheduler = bot.app.scheduler
    scheduler.retry_base_seconds = 0.05
    runs: list[float] = []

    async def flaky(due_at: datetime) -> None:
        runs.append(time.monotonic())
        if len(runs) < 3:
            raise ConnectionError("Graph is down")

    scheduler.jobs["flaky"] = Job("flaky", IntervalTrigger(hours=1), flaky)
    assert await scheduler.run_claimed("flaky", datetime.now(UTC))
    assert len(runs) == 3
    # Backoff doubles: 0.05 s, then 0.1 s.
    assert runs[1] - runs[0] >= 0.045 and runs[2] - runs[1] >= 0.09
    async with bot.app.db.read() as session:
        run = await session.scalar(select(JobRun).where(JobRun.job_id == "flaky"))
        alerts = (await session.scalars(select(Alert))).all()
    assert run is not None and run.error is None and run.finished_at is not None
    assert alerts == []


async def test_a_job_given_up_raises_one_ops_alert_cleared_by_its_next_success(bot: TestBot) -> None:
    assert bot.app is not None
    scheduler = bot.app.scheduler
    scheduler.retry_base_seconds = 0.01
    scheduler.max_attempts = 3
    failing = [True]
    runs: list[datetime] = []

    async def digest(due_at: datetime) -> None:
        runs.append(due_at)
        if failing[0]:
            raise RuntimeError("digest query failed")

    scheduler.jobs["digest"] = Job("digest", IntervalTrigger(hours=1), digest)
    now = datetime.now(UTC)
    assert await scheduler.run_claimed("digest", now)
    assert len(runs) == 3  # max_attempts runs, then given up
    [alert] = await bot.slack.wait_for("chat.postMessage", lambda c: c.args.get("channel") == OPS and c.ok)
    assert "digest" in alert.args["text"] and "RuntimeError: digest query failed" in alert.args["text"]

    # The next occurrence fails too: still one alert.
    assert await scheduler.run_claimed("digest", now + timedelta(hours=1))
    await bot.idle()
    assert len([c for c in bot.slack.calls_to("chat.postMessage") if c.args.get("channel") == OPS]) == 1

    failing[0] = False
    assert await scheduler.run_claimed("digest", now + timedelta(hours=2))
    async with bot.app.db.read() as session:
        stored = await session.get_one(Alert, ("chatops", "job:digest"))
    assert stored.cleared_at is not None


async def test_a_run_past_its_grace_time_is_not_tried_again(bot: TestBot) -> None:
    assert bot.app is not None
    runs: list[datetime] = []

    async def report(due_at: datetime) -> None:
        runs.append(due_at)
        raise RuntimeError("no data")

    bot.app.scheduler.retry_base_seconds = 0.01
    bot.app.scheduler.jobs["report"] = Job("report", IntervalTrigger(hours=1), report, grace_seconds=60)
    long_ago = datetime.now(UTC) - timedelta(minutes=5)
    assert await bot.app.scheduler.run_claimed("report", long_ago)
    assert len(runs) == 1
    await bot.slack.wait_for("chat.postMessage", lambda c: c.args.get("channel") == OPS and "report" in str(c.args))


async def test_a_failure_its_plugin_alerted_is_recorded_not_retried_nor_alerted_again(bot: TestBot) -> None:
    assert bot.app is not None
    runs: list[datetime] = []

    async def poll(due_at: datetime) -> None:
        runs.append(due_at)
        try:
            raise PermissionError("token expired")
        except PermissionError as exc:
            raise Alerted(str(exc)) from exc

    bot.app.scheduler.retry_base_seconds = 0.01
    bot.app.scheduler.jobs["poll"] = Job("poll", IntervalTrigger(hours=1), poll)
    assert await bot.app.scheduler.run_claimed("poll", datetime.now(UTC))
    await bot.idle()
    assert len(runs) == 1
    async with bot.app.db.read() as session:
        run = await session.scalar(select(JobRun).where(JobRun.job_id == "poll"))
        alerts = (await session.scalars(select(Alert))).all()
    assert run is not None and run.error == "PermissionError: token expired"
    assert alerts == []


async def test_a_jobs_claimed_runs_older_than_two_weeks_are_pruned_once_an_hour(bot: TestBot) -> None:
    assert bot.app is not None
    scheduler = bot.app.scheduler
    runs: list[datetime] = []

    async def tick(due_at: datetime) -> None:
        runs.append(due_at)

    # Known to the scheduler without being fired by it: the test runs the occurrences itself.
    for job_id in ("t:minute", "t:other"):
        scheduler.jobs[job_id] = Job(id=job_id, trigger=CronTrigger(minute="*", timezone=UTC), func=tick)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    old = [now - timedelta(days=15, minutes=i) for i in range(3)]
    async with bot.app.db.write() as session:
        for job_id in ("t:minute", "t:other"):
            session.add_all(JobRun(job_id=job_id, due_at=at, claimed_by="gone") for at in old)
        session.add(JobRun(job_id="t:minute", due_at=now - timedelta(days=13), claimed_by="gone"))

    async def kept(job_id: str) -> int:
        async with bot.app.db.read() as session:  # type: ignore[union-attr]
            return int(await session.scalar(select(func.count()).where(JobRun.job_id == job_id)) or 0)

    assert await scheduler.run_claimed("t:minute", now)
    # The run's own row and the one from 13 days ago stay; the other job's rows are its own business.
    assert (await kept("t:minute"), await kept("t:other")) == (2, 3)
    async with bot.app.db.write() as session:
        session.add(JobRun(job_id="t:minute", due_at=now - timedelta(days=20), claimed_by="gone"))
    assert await scheduler.run_claimed("t:minute", now + timedelta(minutes=1))
    assert await kept("t:minute") == 4  # pruned at most once an hour
    assert len(runs) == 2
