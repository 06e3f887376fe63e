"""Scheduled jobs on APScheduler 3.x, each occurrence claimed in the database.

APScheduler 3 cannot share a job store between processes, so every replica
schedules every job; before running, a replica inserts a row keyed by (job id,
due time) and only the one whose insert succeeds runs that occurrence.

The due time comes from the trigger's *scheduled* fire time, never from the clock
when the run starts: a replica whose loop was busy fires late (within the misfire
grace time) and must still name the same occurrence, or the job runs twice. A
small executor hands APScheduler's scheduled run times to :meth:`Scheduler.run_claimed`
and keeps the runs in hand, so that stopping waits for them before the database closes.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.base import BaseExecutor
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from chatops.db import DatabaseUnavailable
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


#: Seconds ``Scheduler.shutdown`` waits for runs in hand before cancelling them.
SHUTDOWN_GRACE_SECONDS = 30.0


def occurrence(trigger: BaseTrigger, scheduled_at: datetime) -> datetime:
    """The due time that identifies the occurrence scheduled at ``scheduled_at``, the same on every replica.

    Interval jobs are cut into fixed slots of their interval since the epoch (each
    replica's interval starts when it started); other triggers (cron) fire on whole
    minutes or coarser, so the minute identifies them.
    """
    if isinstance(trigger, IntervalTrigger):
        step = trigger.interval.total_seconds()
        slot = int(scheduled_at.timestamp() // step) * step
        return datetime.fromtimestamp(slot, UTC)
    return scheduled_at.astimezone(UTC).replace(second=0, microsecond=0)


class _ScheduledTimeExecutor(BaseExecutor):  # type: ignore[misc]
    """Runs each due occurrence with its scheduled fire time; keeps the runs in hand for a clean stop.

    APScheduler's own AsyncIOExecutor calls the job without the time it was due and
    cancels running jobs on shutdown; this one does neither.
    """

    def __init__(self, run: Callable[[str, datetime], Awaitable[bool]]) -> None:
        super().__init__()
        self._run = run
        self.running: set[asyncio.Task[list[JobExecutionEvent]]] = set()

    def start(self, scheduler: Any, alias: str) -> None:
        super().start(scheduler, alias)
        self._loop = scheduler._eventloop

    def shutdown(self, wait: bool = True) -> None:
        """Nothing to do here: :meth:`Scheduler.shutdown` awaits the runs in hand."""

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        task = self._loop.create_task(self._run_occurrences(job, run_times), name=f"chatops-job-{job.id}")
        self.running.add(task)
        task.add_done_callback(lambda done: self._finished(job.id, done))

    async def _run_occurrences(self, job: Any, run_times: list[datetime]) -> list[JobExecutionEvent]:
        events = []
        for run_time in run_times:
            late = datetime.now(UTC) - run_time
            if job.misfire_grace_time is not None and late > timedelta(seconds=job.misfire_grace_time):
                log.warning("job %s scheduled at %s missed by %s; skipped", job.id, run_time, late)
                events.append(JobExecutionEvent(EVENT_JOB_MISSED, job.id, job._jobstore_alias, run_time))
                continue
            await self._run(job.id, run_time)
            events.append(JobExecutionEvent(EVENT_JOB_EXECUTED, job.id, job._jobstore_alias, run_time))
        return events

    def _finished(self, job_id: str, task: asyncio.Task[list[JobExecutionEvent]]) -> None:
        self.running.discard(task)
        if task.cancelled():
            self._run_job_error(job_id, asyncio.CancelledError())
        elif (exc := task.exception()) is not None:
            self._run_job_error(job_id, exc, exc.__traceback__)
        else:
            self._run_job_success(job_id, task.result())


class Scheduler:
    """Runs the plugins' jobs on the app's event loop."""

    def __init__(self, app: ChatOps) -> None:
        self.app = app
        self._executor = _ScheduledTimeExecutor(self.run_claimed)
        self._scheduler = AsyncIOScheduler(timezone=app.settings.team.tz, executors={"default": self._executor})
        self.jobs: dict[str, Job] = {}

    def add(self, job: Job) -> None:
        """Schedule ``job`` (ids must be unique)."""
        if job.id in self.jobs:
            raise ValueError(f"duplicate scheduled job id {job.id!r}")
        self.jobs[job.id] = job
        # coalesce + max_instances=1: a slow run never piles up behind itself.
        # The executor calls run_claimed(job.id, scheduled fire time) itself.
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

    async def shutdown(self, timeout: float = SHUTDOWN_GRACE_SECONDS) -> None:  # noqa: ASYNC109
        """Stop firing jobs and let the runs in hand finish (cancelled after ``timeout`` s).

        The database is closed after this, so a run must not be left using it.
        """
        if self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        running = set(self._executor.running)
        if not running:
            return
        _, pending = await asyncio.wait(running, timeout=timeout)
        for task in pending:
            log.warning("scheduled job %s still running after %.0f s; cancelled", task.get_name(), timeout)
            task.cancel()
        if pending:
            await asyncio.wait(pending)

    async def claim(self, job_id: str, due_at: datetime) -> bool:
        """Insert the occurrence row; True for the one replica whose insert wins."""
        try:
            async with self.app.db.write() as session:
                session.add(JobRun(job_id=job_id, due_at=due_at, claimed_by=self.app.instance_id))
        except IntegrityError:
            return False
        return True

    async def run_claimed(self, job_id: str, scheduled_at: datetime | None = None) -> bool:
        """Run the occurrence of a job scheduled at ``scheduled_at`` if this replica claims it; True when it ran."""
        job = self.jobs[job_id]
        due_at = occurrence(job.trigger, scheduled_at or utcnow())
        try:
            claimed = await self.claim(job_id, due_at)
        except DatabaseUnavailable as exc:
            # Skipped here; a replica that can write runs it. The scheduler carries on.
            log.warning("job %s at %s not run: the database is unavailable (%s)", job_id, due_at, exc.reason)
            return False
        if not claimed:
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
