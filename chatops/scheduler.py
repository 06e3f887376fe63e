"""Scheduled jobs on APScheduler 3.x, each occurrence claimed in the database.

APScheduler 3 cannot share a job store between processes, so every replica
schedules every job; before running, a replica inserts a row keyed by (job id,
due time) and only the one whose insert succeeds runs that occurrence.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from chatops.models import JobRun, utcnow

if TYPE_CHECKING:
    from chatops.app import ChatOps

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Job:
    """A job a plugin wants run on a schedule.

    ``func`` receives the app and the occurrence's due time (UTC). ``trigger`` is an
    APScheduler trigger; give cron triggers the team's timezone so they follow DST.
    """

    id: str
    trigger: BaseTrigger
    func: Callable[[ChatOps, datetime], Awaitable[None]]


def occurrence(trigger: BaseTrigger, now: datetime) -> datetime:
    """The due time that identifies the occurrence running at ``now``, the same on every replica.

    Interval jobs are cut into fixed slots of their interval since the epoch; other
    triggers (cron) fire on whole minutes or coarser, so the minute identifies them.
    """
    if isinstance(trigger, IntervalTrigger):
        step = trigger.interval.total_seconds()
        slot = int(now.timestamp() // step) * step
        return datetime.fromtimestamp(slot, UTC)
    return now.astimezone(UTC).replace(second=0, microsecond=0)


class Scheduler:
    """Runs the plugins' jobs on the app's event loop."""

    def __init__(self, app: ChatOps) -> None:
        self.app = app
        self._scheduler = AsyncIOScheduler(timezone=app.settings.team.tz)
        self.jobs: dict[str, Job] = {}

    def add(self, job: Job) -> None:
        """Schedule ``job`` (ids must be unique)."""
        if job.id in self.jobs:
            raise ValueError(f"duplicate scheduled job id {job.id!r}")
        self.jobs[job.id] = job
        # coalesce + max_instances=1: a slow run never piles up behind itself.
        self._scheduler.add_job(
            self.run_claimed,
            job.trigger,
            args=[job.id],
            id=job.id,
            coalesce=True,
            max_instances=1,
            misfire_grace_time=60,
        )

    def start(self) -> None:
        """Start firing jobs."""
        if self.jobs:
            self._scheduler.start()

    def shutdown(self) -> None:
        """Stop firing jobs."""
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)

    async def claim(self, job_id: str, due_at: datetime) -> bool:
        """Insert the occurrence row; True for the one replica whose insert wins."""
        try:
            async with self.app.db.write() as session:
                session.add(JobRun(job_id=job_id, due_at=due_at, claimed_by=self.app.instance_id))
        except IntegrityError:
            return False
        return True

    async def run_claimed(self, job_id: str, now: datetime | None = None) -> bool:
        """Run one occurrence of a job if this replica claims it; True when it ran."""
        job = self.jobs[job_id]
        due_at = occurrence(job.trigger, now or utcnow())
        if not await self.claim(job_id, due_at):
            log.debug("job %s at %s runs on another replica", job_id, due_at)
            return False
        error: str | None = None
        try:
            await job.func(self.app, due_at)
        except Exception as exc:
            log.exception("scheduled job %s failed", job_id)
            error = f"{type(exc).__name__}: {exc}"
        async with self.app.db.write() as session:
            await session.execute(
                update(JobRun)
                .where(JobRun.job_id == job_id, JobRun.due_at == due_at)
                .values(finished_at=utcnow(), error=error)
            )
        return True
