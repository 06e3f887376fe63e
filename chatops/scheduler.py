"""Scheduled jobs on APScheduler 3.x, each occurrence claimed in the database.

APScheduler 3 cannot share a job store between processes, so every replica
schedules every job; before running, a replica inserts a row keyed by (job id,
due time) and only the one whose insert succeeds runs that occurrence.

A failed run is tried again with backoff while it is still within its grace time
(``Job.grace_seconds``, and never into the next interval's slot); when it is given up,
one ops alert names the job and the error, and the job's next success clears it. A job
whose plugin raised an alert of its own raises :class:`~chatops.jobs.Alerted`: recorded,
neither tried again nor alerted twice.

The due time comes from the trigger's *scheduled* fire time, never from the clock
when the run starts: a replica whose loop was busy fires late (within the misfire
grace time) and must still name the same occurrence, or the job runs twice. A
small executor hands APScheduler's scheduled run times to :meth:`Scheduler.run_claimed`
and keeps the runs in hand, so that stopping waits for them before the database closes.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta, tzinfo
from typing import Any

from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_MISSED, JobExecutionEvent
from apscheduler.executors.base import BaseExecutor
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import delete, update
from sqlalchemy.exc import IntegrityError

from chatops.alerts import Alerts
from chatops.db import Database, DatabaseUnavailable
from chatops.i18n import Translator
from chatops.jobs import Alerted, Job
from chatops.models import JobRun, utcnow
from chatops.slack.escape import one_line

log = logging.getLogger(__name__)

#: Plugin name of the ops alert for a scheduled job given up (key ``job:<id>``).
ALERT_PLUGIN = "chatops"
#: Runs of one occurrence before it is given up, and the first wait between them (doubling, capped).
MAX_ATTEMPTS = 5
RETRY_BASE_SECONDS = 5.0
RETRY_MAX_SECONDS = 60.0

#: The words of the ops alert (core texts, added to the translator).
TEXTS = {
    "en": {"alert.job_failed": "scheduled job {job} failed {attempts} time(s) at {due}: {error}"},
    "fi": {"alert.job_failed": "ajastettu työ {job} epäonnistui {attempts} kertaa ({due}): {error}"},
    "pl": {"alert.job_failed": "zaplanowane zadanie {job} nie powiodło się {attempts} raz(y) ({due}): {error}"},
}


#: Seconds ``Scheduler.shutdown`` waits for runs in hand before cancelling them.
SHUTDOWN_GRACE_SECONDS = 30.0
#: How long a job's claimed occurrences are kept (a record of what ran); older rows are pruned.
#: A minute job (the rota's) claims 1,440 rows a day: without pruning the table only grows.
JOB_RUNS_KEEP = timedelta(days=14)
#: At most one prune of a job's old rows per this many seconds, per replica.
PRUNE_EVERY_SECONDS = 3600.0


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


class _ScheduledTimeExecutor(BaseExecutor):
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
    """Runs the plugins' jobs on the running event loop, each occurrence on one replica."""

    def __init__(
        self,
        db: Database,
        *,
        instance_id: str,
        alerts: Alerts,
        t: Translator,
        timezone: tzinfo,
        on_run: Callable[[str, str], None] | None = None,
    ) -> None:
        self.db = db
        #: Told ``(job id, outcome)`` of each occurrence this replica claimed: "ok", "failed" or "skipped".
        self.on_run = on_run or (lambda _job, _outcome: None)
        self.instance_id = instance_id
        self.alerts = alerts
        self.t = t
        t.add(TEXTS)
        self.retry_base_seconds = RETRY_BASE_SECONDS
        self.retry_max_seconds = RETRY_MAX_SECONDS
        self.max_attempts = MAX_ATTEMPTS
        self._stopping = asyncio.Event()
        self._executor = _ScheduledTimeExecutor(self.run_claimed)
        self._scheduler = AsyncIOScheduler(timezone=timezone, executors={"default": self._executor})
        self.jobs: dict[str, Job] = {}
        self._pruned: dict[str, float] = {}

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
            misfire_grace_time=max(1, round(job.grace_seconds)),
        )

    def start(self) -> None:
        """Start firing jobs."""
        self._stopping.clear()
        if self.jobs:
            self._scheduler.start()

    async def shutdown(self, timeout: float = SHUTDOWN_GRACE_SECONDS) -> None:  # noqa: ASYNC109
        """Stop firing jobs and let the runs in hand finish (cancelled after ``timeout`` s).

        The database is closed after this, so a run must not be left using it. A run waiting
        to be tried again stops waiting (it is recorded as failed, without an alert).
        """
        self._stopping.set()
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
            async with self.db.write() as session:
                session.add(JobRun(job_id=job_id, due_at=due_at, claimed_by=self.instance_id))
        except IntegrityError:
            return False
        return True

    async def run_claimed(self, job_id: str, scheduled_at: datetime | None = None) -> bool:
        """Run the occurrence of a job scheduled at ``scheduled_at`` if this replica claims it; True when it ran."""
        job = self.jobs[job_id]
        scheduled_at = scheduled_at or utcnow()
        due_at = occurrence(job.trigger, scheduled_at)
        try:
            claimed = await self.claim(job_id, due_at)
        except DatabaseUnavailable as exc:
            # Skipped here; a replica that can write runs it. The scheduler carries on.
            log.warning("job %s at %s not run: the database is unavailable (%s)", job_id, due_at, exc.reason)
            self.on_run(job_id, "skipped")
            return False
        if not claimed:
            log.debug("job %s at %s runs on another replica", job_id, due_at)
            return False
        error, attempts = await self._run_with_retries(job, due_at, scheduled_at)
        self.on_run(job_id, "ok" if error is None else "failed")
        async with self.db.write() as session:
            await session.execute(
                update(JobRun)
                .where(JobRun.job_id == job_id, JobRun.due_at == due_at)
                .values(finished_at=utcnow(), error=error)
            )
            if self._prune_due(job_id):
                # By the primary key's prefix: only this job's rows, older than any occurrence still in play.
                await session.execute(
                    delete(JobRun).where(JobRun.job_id == job_id, JobRun.due_at < due_at - JOB_RUNS_KEEP)
                )
        try:
            if error is None:
                await self.alerts.clear(ALERT_PLUGIN, f"job:{job_id}")
            elif attempts and not self._stopping.is_set():
                problem = self.t(
                    "alert.job_failed",
                    job=job_id,
                    attempts=attempts,
                    due=due_at.strftime("%Y-%m-%d %H:%M UTC"),
                    error=one_line(error, 200),
                )
                await self.alerts.raise_once(ALERT_PLUGIN, f"job:{job_id}", problem)
        except Exception:  # the alert is a courtesy on top of the log line and the job_runs row
            log.exception("scheduled job %s: could not raise or clear its ops alert", job_id)
        return True

    def _prune_due(self, job_id: str) -> bool:
        """True at most once per :data:`PRUNE_EVERY_SECONDS` for each job (the first run included)."""
        now = time.monotonic()
        last = self._pruned.get(job_id)
        if last is not None and now - last < PRUNE_EVERY_SECONDS:
            return False
        self._pruned[job_id] = now
        return True

    async def _run_with_retries(self, job: Job, due_at: datetime, scheduled_at: datetime) -> tuple[str | None, int]:
        """Run the occurrence, again after a failure while within its grace time; the last error and runs."""
        window = timedelta(seconds=job.grace_seconds)
        if isinstance(job.trigger, IntervalTrigger):
            window = min(window, job.trigger.interval)  # the next occurrence does the work after that
        deadline = max(scheduled_at, due_at) + window
        attempts = 0
        while True:
            attempts += 1
            try:
                await job.func(due_at)
            except Alerted as exc:
                log.warning("scheduled job %s at %s failed (its alert is raised): %s", job.id, due_at, exc)
                return f"{type(exc.__cause__ or exc).__name__}: {exc}", 0
            except Exception as exc:
                log.exception("scheduled job %s at %s failed (run %d)", job.id, due_at, attempts)
                error = f"{type(exc).__name__}: {exc}"
            else:
                if attempts > 1:
                    log.warning("scheduled job %s at %s recovered after %d failed run(s)", job.id, due_at, attempts - 1)
                return None, attempts
            delay = min(self.retry_base_seconds * 2 ** (attempts - 1), self.retry_max_seconds)
            if attempts >= self.max_attempts or utcnow() + timedelta(seconds=delay) > deadline:
                log.error("scheduled job %s at %s given up after %d run(s): %s", job.id, due_at, attempts, error)
                return error, attempts
            log.info("scheduled job %s at %s: run %d in %.1fs", job.id, due_at, attempts + 1, delay)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._stopping.wait(), delay)
            if self._stopping.is_set():
                return error, attempts


__all__ = ["SHUTDOWN_GRACE_SECONDS", "Job", "Scheduler", "occurrence"]
