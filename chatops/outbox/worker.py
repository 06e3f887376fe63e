"""The outbox worker: leases due jobs, runs their kind's handler, paces Slack, backs off, gives up.

Each row is leased with one conditional UPDATE, so several replicas can share
the outbox without doing a row twice. ``chat.postMessage`` is paced per channel
(Slack allows about one a second), a 429 pauses what it concerns for its
``Retry-After``, other failures back off exponentially, and nothing is lost on a
restart: a row is marked done only after its handler returned, and a row leased by
a worker that died is taken over once its lease runs out.

The worker knows no job kind: kinds register in :class:`~chatops.outbox.kinds.JobKinds`.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import random
import time
import uuid
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import Any

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import bindparam, exists, or_, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chatops.alerts import Alerts
from chatops.config import DeliveryConfig
from chatops.db import Database, DatabaseUnavailable
from chatops.i18n import Translator
from chatops.models import Conversation, OutboxJob, OutboxStatus, table_of, utcnow
from chatops.outbox.admin import MINIMAL, RETRIED
from chatops.outbox.kinds import OUTBOX_LOG, DueJob, JobKind, JobKinds, JobSlack
from chatops.slack.escape import one_line
from chatops.slack.posting import PostInDoubt, SlackPoster

log = logging.getLogger(__name__)

BATCH = 50
#: How long a job of a kind no plugin registers waits before a worker looks at it again.
UNKNOWN_KIND_WAIT_SECONDS = 300.0
#: Slack's answers that refuse the message itself: sending the same content again cannot succeed.
REFUSED_CONTENT = frozenset(
    {
        "invalid_blocks",
        "invalid_blocks_format",
        "msg_blocks_too_long",
        "msg_too_long",
        "invalid_metadata",
        "invalid_attachments",
        "too_many_attachments",
        "no_text",
    }
)

#: The words of the ops alert for a plugin's job given up (core texts, added to the translator).
TEXTS = {
    "en": {
        "alert.job_dead": (
            "outbox job {job} ({kind}) gave up after {attempts} attempt(s): {error}. "
            "Retry with `chatops outbox retry {job}`."
        ),
    },
    "fi": {
        "alert.job_dead": (
            "jonon työ {job} ({kind}) keskeytettiin {attempts} yrityksen jälkeen: {error}. "
            "Yritä uudelleen: `chatops outbox retry {job}`."
        ),
    },
    "pl": {
        "alert.job_dead": (
            "zadanie kolejki {job} ({kind}) porzucone po {attempts} próbach: {error}. "
            "Ponów: `chatops outbox retry {job}`."
        ),
    },
}


class Deferred(Exception):
    """The job cannot run yet (e.g. its card is not posted); try again shortly without counting an attempt."""

    def __init__(self, delay: float = 0.25) -> None:
        super().__init__(f"deferred {delay}s")
        self.delay = delay


class Refused(Exception):
    """The job's content cannot be shown as it is (drawing it raised): the same data would fail again."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


class GivenUp(Exception):
    """The job's failure was recorded for people to act on (a Retry button); nothing to run again."""

    def __init__(self, error: str) -> None:
        super().__init__(error)
        self.error = error


class Reschedule(Exception):
    """The job's effect was recorded; run the job again after ``delay`` (counts an attempt)."""

    def __init__(self, delay: float, error: str) -> None:
        super().__init__(error)
        self.delay = delay
        self.error = error


class Wakeup:
    """The worker's doorbell: whoever queues a job rings it (the store, alerts, plugins' outboxes)."""

    def __init__(self) -> None:
        self.event = asyncio.Event()

    def __call__(self) -> None:
        self.event.set()


def backoff(config: DeliveryConfig, attempts: int) -> float:
    """Seconds to wait after the ``attempts``-th failure: doubling from the base, capped, with jitter."""
    delay = min(config.backoff_base_seconds * (2 ** max(attempts - 1, 0)), config.backoff_max_seconds)
    return delay * random.uniform(0.9, 1.1)  # noqa: S311 - jitter, not security


class WorkerSlack:
    """The worker's :class:`~chatops.outbox.kinds.JobSlack`: the reconciled, paced post of a job, and the client."""

    def __init__(self, worker: OutboxWorker, job: DueJob) -> None:
        self._worker = worker
        self._job = job
        #: For methods other than the job's own ``chat.postMessage`` (chat.update, files.upload v2, …).
        self.client = worker.client

    async def post(self, **args: Any) -> dict[str, str]:
        """``chat.postMessage`` for the job, at most one message per job (see ``chatops.slack.posting``).

        Returns the message's ``channel`` and ``ts``; a retried job gets its first message back.
        Counts against the channel's pace.
        """
        try:
            response = await self._worker.poster.post(self._job.id, **args)
        except PostInDoubt as doubt:
            # Slack may have posted it: wait for its event rather than post a duplicate.
            raise Deferred(doubt.delay) from doubt
        self._worker.posted(str(args.get("channel") or response["channel"]))
        return response


class OutboxWorker:
    """Runs outbox jobs until stopped; ``wake()`` makes it look at once."""

    def __init__(
        self,
        db: Database,
        kinds: JobKinds,
        *,
        config: DeliveryConfig,
        post_interval: float,
        poster: SlackPoster,
        client: AsyncWebClient,
        alerts: Alerts,
        t: Translator,
        wakeup: Wakeup,
        instance_id: str,
    ) -> None:
        self.db = db
        self.kinds = kinds
        self.config = config
        self.post_interval = post_interval
        self.poster = poster
        self.client = client
        self.alerts = alerts
        self.t = t
        t.add(TEXTS)
        self.worker_id = f"{instance_id}-{uuid.uuid4().hex[:6]}"
        self._wakeup = wakeup
        self._stopping = False
        self._task: asyncio.Task[None] | None = None
        # Monotonic time before which nothing more may be posted to a channel (or a method called).
        self._channel_ready_at: dict[str, float] = {}
        #: Kinds of pending jobs that no registered kind runs (each warned about once).
        self._unknown_kinds: set[str] = set()
        self._method_ready_at: dict[str, float] = {}
        #: Steps run at the start of every pass (roll-ups, the crisis banner): see :meth:`add_pass`.
        self._passes: list[Callable[[], Awaitable[None]]] = []
        #: The job that went through and when, not yet marked done: see :meth:`_mark_done`.
        self._done: tuple[int, datetime] | None = None

    # -- lifecycle -------------------------------------------------------------

    def add_pass(self, step: Callable[[], Awaitable[None]]) -> None:
        """Run ``step`` at the start of every delivery pass, before due jobs are read.

        For work over the whole backlog rather than one job (gathering a flood into roll-ups,
        redrawing the crisis banner). A step paces itself (the worker may pass many times a
        second) and queues what it decides as outbox jobs; one that raises is logged and the
        pass goes on.
        """
        self._passes.append(step)

    def wake(self) -> None:
        """Look for work now (called after a transaction queued some)."""
        self._wakeup()

    def start(self) -> None:
        """Start the worker loop as a task on the running loop."""
        self._stopping = False
        self._task = asyncio.create_task(self._run(), name="chatops-delivery")

    async def stop(self) -> None:
        """Finish the job in hand and stop."""
        self._stopping = True
        self._wakeup()
        if self._task is not None:
            await self._task
            self._task = None
        with contextlib.suppress(DatabaseUnavailable):  # else its lease runs out and it is done again
            await self._write_done()

    async def _run(self) -> None:
        poll = self.config.poll_interval_seconds
        database_down = False
        while not self._stopping:
            self._wakeup.event.clear()
            try:
                wait = await self.run_once()
            except DatabaseUnavailable as exc:
                # One line per outage, not a traceback every poll; the rows wait in the outbox.
                if not database_down:
                    log.warning("delivery paused: the database is unavailable (%s); retrying", exc.reason)
                database_down = True
                wait = poll
            except Exception:
                log.exception("delivery pass failed; retrying")
                wait = poll
            else:
                if database_down:
                    log.info("delivery resumed: the database is back")
                database_down = False
            timeout = poll if wait is None else max(0.01, min(wait, poll))
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wakeup.event.wait(), timeout)

    # -- one pass ------------------------------------------------------------------

    async def run_once(self) -> float | None:
        """Do every job that is due and allowed now; return seconds until a paced job may run."""
        soonest: float | None = None
        for step in self._passes:
            try:
                await step()
            except DatabaseUnavailable:
                raise
            except Exception:
                log.exception("delivery pass step %s failed; going on", getattr(step, "__qualname__", step))
        for job in await self._due_jobs():
            if self._stopping:
                break
            wait = self._pace_wait(job)
            if wait > 0:
                soonest = wait if soonest is None else min(soonest, wait)
                continue
            if not await self._lease(job):
                continue
            await self._process(job)
        await self._write_done()
        return soonest

    async def _due_jobs(self) -> list[DueJob]:
        """Due jobs: card updates and platform answers first, then posts, most urgent first.

        Two queries, so that a burst of new cards waiting for their channel's pace never
        fills the batch and holds up a claim's card update or a customer's reply.
        """
        now = utcnow()
        jobs: list[DueJob] = []
        kind_filter = OutboxJob.kind.in_(self.kinds.posting())
        async with self.db.read() as session:
            for posting in (False, True):
                rows = await session.execute(
                    select(OutboxJob, Conversation.source, Conversation.slack_channel, Conversation.slack_ts)
                    .outerjoin(Conversation, Conversation.id == OutboxJob.conversation_id)
                    .where(
                        OutboxJob.status == OutboxStatus.PENDING.value,
                        OutboxJob.due_at <= now,
                        or_(OutboxJob.lease_until.is_(None), OutboxJob.lease_until < now),
                        kind_filter if posting else ~kind_filter,
                    )
                    # Posts wait for their channel's pace: the most urgent go first (chatops.priority).
                    .order_by(*((OutboxJob.priority.desc(), OutboxJob.id) if posting else (OutboxJob.id,)))
                    .limit(BATCH)
                )
                jobs.extend(
                    DueJob(
                        j.id, j.kind, j.conversation_id, j.message_id, dict(j.payload or {}), j.attempts, src, ch, ts
                    )
                    for j, src, ch, ts in rows.all()
                )
        return jobs

    def channel_of(self, job: DueJob) -> str | None:
        """The channel ``job`` posts to, for its pace (None for kinds that do not post)."""
        kind = self.kinds.get(job.kind)
        return kind.channel(job) if kind is not None and kind.channel is not None else None

    def _pace_wait(self, job: DueJob) -> float:
        kind = self.kinds.get(job.kind)
        if kind is None:
            return 0.0
        now = time.monotonic()
        if kind.posts:
            channel = self.channel_of(job)
            return self._channel_ready_at.get(channel, 0.0) - now if channel else 0.0
        if kind.method is not None:
            return self._method_ready_at.get(kind.method, 0.0) - now
        return 0.0  # platform answers do not wait on Slack's limits

    def channel_ready_in(self, channel: str) -> float:
        """Seconds until this worker may post to ``channel`` again (0 when it may now): its pace or a 429's wait."""
        return max(0.0, self._channel_ready_at.get(channel, 0.0) - time.monotonic())

    def posted(self, channel: str) -> None:
        """A message was just posted to ``channel``: the next one waits for the pace."""
        self._channel_ready_at[channel] = time.monotonic() + self.post_interval

    async def _lease(self, job: DueJob) -> bool:
        now = utcnow()
        kind = self.kinds.get(job.kind)
        # One card update at a time per card (one_per_conversation): two replicas rendering in
        # parallel could otherwise finish in the wrong order and leave the older state on the card.
        statement = _lease_statement(one_per_conversation=kind is not None and kind.one_per_conversation)
        params = {
            "b_id": job.id,
            "b_kind": job.kind,
            "b_conversation_id": job.conversation_id,
            "b_now": now,
            "b_worker": self.worker_id,
            "b_until": now + timedelta(seconds=self.config.lease_seconds),
        }
        done = self._done
        async with self.db.write() as session:
            # The previous job's "done" goes in the same transaction, first: it frees that job's
            # card for this lease's one-update-per-card check, as its own transaction did.
            await self._mark_done(session, done)
            result = await session.execute(statement, params)
        if self._done is done:
            self._done = None
        return result.rowcount == 1  # type: ignore[attr-defined]

    async def _mark_done(self, session: AsyncSession, done: tuple[int, datetime] | None) -> None:
        """Mark a job that went through done, in the caller's transaction.

        A pass used to write each job's "done" in a transaction of its own, right before the
        next job's lease in another; now the two share one (a write, an fsync on SQLite, less
        per job), and the pass's last job is marked at the end of the pass. In between run the
        kind's ``on_recovered`` (clearing its alert) and the next job's pace check, both short,
        so the lease does not run out meanwhile. If the process dies in that window the job runs
        again: every built-in kind is safe to re-run (Slack posts are matched up in ``slack_posts``,
        an answer already marked sent is skipped); a plugin's kind with an outside effect of its
        own must be too (see ``chatops.outbox.kinds``).
        """
        if done is None:
            return
        job_id, at = done
        await session.execute(_done_statement(), {"b_id": job_id, "b_worker": self.worker_id, "b_at": at})

    async def _write_done(self) -> None:
        """Mark the last job that went through done, if it is not yet."""
        done = self._done
        if done is None:
            return
        async with self.db.write() as session:
            await self._mark_done(session, done)
        if self._done is done:
            self._done = None

    async def _settle(
        self,
        job_id: int,
        *,
        status: OutboxStatus | None = None,
        delay: float = 0.0,
        attempt: bool = False,
        error: str | None = None,
        payload: dict[str, Any] | None = None,
    ) -> None:
        values: dict[str, Any] = {"leased_by": None, "lease_until": None}
        if payload is not None:
            values["payload"] = payload
        if status is not None:
            values["status"] = status.value
            if status is OutboxStatus.DONE:
                values["done_at"] = utcnow()
        if delay:
            values["due_at"] = utcnow() + timedelta(seconds=delay)
        if attempt:
            values["attempts"] = OutboxJob.attempts + 1
        if error is not None:
            values["last_error"] = error[:2000]
        async with self.db.write() as session:
            await session.execute(
                update(OutboxJob).where(OutboxJob.id == job_id, OutboxJob.leased_by == self.worker_id).values(**values)
            )

    def backoff(self, attempts: int) -> float:
        """Seconds to wait after the ``attempts``-th failure."""
        return backoff(self.config, attempts)

    async def _process(self, job: DueJob) -> None:
        kind = self.kinds.get(job.kind)
        if kind is None:
            # Its plugin is disabled, or this replica runs an older version without it: the job
            # waits (not attempted, not lost) for a worker that knows the kind; said once per kind.
            if job.kind not in self._unknown_kinds:
                self._unknown_kinds.add(job.kind)
                OUTBOX_LOG.warning(
                    "%s: no enabled plugin registers the job kind %s; its jobs wait until one does",
                    describe(job),
                    job.kind,
                )
            await self._settle(job.id, delay=UNKNOWN_KIND_WAIT_SECONDS, error=f"unknown job kind {job.kind}")
            return
        try:
            await kind.handler(job, WorkerSlack(self, job))
        except Deferred as deferred:
            await self._settle(job.id, delay=deferred.delay)
        except Reschedule as again:
            if job.attempts == 0:
                kind.log.warning("%s failed: %s; retrying in %.1fs", describe(job), again.error, again.delay)
            await self._settle(job.id, delay=again.delay, attempt=True, error=again.error)
        except DatabaseUnavailable:
            # The outage, not the job, failed: no attempt counted and no traceback. The pass
            # stops here (the caller logs the outage once); if even this settle cannot be
            # written, the lease runs out and the job is picked up again after it.
            with contextlib.suppress(DatabaseUnavailable):
                await self._settle(job.id, delay=self.config.poll_interval_seconds)
            raise
        except GivenUp as exc:
            # Recorded where people see it (the card shows the failure and a Retry button); the
            # job itself is finished, and the log says it failed rather than "recovered".
            kind.log.warning(
                "%s gave up after %d attempt(s): %s; the card shows the failure",
                describe(job),
                job.attempts + 1,
                exc.error,
            )
            await self._settle(job.id, status=OutboxStatus.DONE, attempt=True, error=exc.error)
        except Refused as exc:
            kind.log.warning("%s: the card could not be drawn: %s", describe(job), exc.error, exc_info=exc.__cause__)
            await self._refused(kind, job, exc.error)
        except SlackApiError as exc:
            await self._slack_failure(kind, job, exc)
        except Exception as exc:
            kind.log.exception("%s failed", describe(job))
            await self._failure(kind, job, f"{type(exc).__name__}: {exc}")
        else:
            # Written with the next job's lease, or at the end of the pass (see _mark_done).
            self._done = (job.id, utcnow())
            await self._succeeded(kind, job)

    async def _succeeded(self, kind: JobKind, job: DueJob) -> None:
        """Say when a job that had failed went through, and clear the alert a give-up raised."""
        if job.attempts > 0:
            kind.log.warning("%s recovered: done after %d failed attempt(s)", describe(job), job.attempts)
        try:
            if kind.owner is not None and (owner := kind.owner(job)):
                # One cheap read when nothing is open: the kind's next success proves it fixed.
                await self.alerts.clear(owner, alert_key(job))
            elif (job.attempts > 0 or job.payload.get(RETRIED)) and kind.on_recovered is not None:
                await kind.on_recovered(job)
        except Exception:  # the job is done; a stale alert is not worth failing the pass for
            kind.log.exception("%s: could not clear its alert", describe(job))

    async def _slack_failure(self, kind: JobKind, job: DueJob, exc: SlackApiError) -> None:
        response = exc.response
        if response.status_code == 429:
            retry_after = float(response.headers.get("Retry-After", response.headers.get("retry-after", 1)))
            until = time.monotonic() + retry_after
            channel = self.channel_of(job)
            if kind.posts and channel:
                self._channel_ready_at[channel] = max(self._channel_ready_at.get(channel, 0.0), until)
            else:
                self._method_ready_at[kind.method or kind.name] = until
            kind.log.info("Slack rate limit on job %s: waiting %.1fs", job.id, retry_after)
            await self._settle(job.id, delay=retry_after)
            return
        code = response.get("error", response.status_code)
        # Cards fall back to their minimal form; a plugin's message refused as it is never gets through.
        if code in REFUSED_CONTENT and (kind.fallback or kind.owner is not None):
            what = "card" if kind.fallback else "message"
            kind.log.warning("%s: Slack refused the %s: %s", describe(job), what, code)
            await self._refused(kind, job, f"Slack: {code}")
            return
        await self._failure(kind, job, f"Slack: {code}")

    async def _failure(self, kind: JobKind, job: DueJob, error: str) -> None:
        attempts = job.attempts + 1
        if attempts >= self.config.max_attempts:
            await self._give_up(kind, job, attempts, error)
            return
        delay = self.backoff(attempts)
        # The first failure is worth a look (a wrong channel fails every attempt); later ones are expected.
        level = logging.WARNING if attempts == 1 else logging.INFO
        kind.log.log(
            level,
            "%s failed (attempt %d of %d): %s; retrying in %.1fs",
            describe(job),
            attempts,
            self.config.max_attempts,
            error,
            delay,
        )
        await self._settle(job.id, delay=delay, attempt=True, error=error)

    async def _refused(self, kind: JobKind, job: DueJob, error: str) -> None:
        """Content that can never be shown as sent: retry once, at once, in its minimal form; then give up."""
        if kind.fallback and not job.payload.get(MINIMAL):
            kind.log.warning("%s: trying once more with the minimal card", describe(job))
            await self._settle(job.id, attempt=True, error=error, payload={**job.payload, MINIMAL: True})
            self.wake()
            return
        await self._give_up(kind, job, job.attempts + 1, error)

    async def _give_up(self, kind: JobKind, job: DueJob, attempts: int, error: str) -> None:
        kind.log.error("%s gave up after %d attempts: %s", describe(job), attempts, error)
        await self._settle(job.id, status=OutboxStatus.DEAD, attempt=True, error=error)
        if kind.on_give_up is not None:
            await kind.on_give_up(job, error)
            return
        try:
            if kind.owner is not None and (owner := kind.owner(job)):
                problem = self.t(
                    "alert.job_dead", job=job.id, kind=job.kind, attempts=attempts, error=one_line(error, 200)
                )
                await self.alerts.raise_once(owner, alert_key(job), problem)
        except Exception:  # the alert is a courtesy on top of the log line; never fail the worker for it
            kind.log.exception("%s: could not raise the ops alert", describe(job))


def describe(job: DueJob) -> str:
    """How log lines name a job: id, kind and what it concerns."""
    about = f", conversation {job.conversation_id}" if job.conversation_id is not None else ""
    return f"outbox job {job.id} ({job.kind}{about})"


def alert_key(job: DueJob) -> str:
    """The key of the ops alert a plugin's given-up job raises: one per kind, cleared by its next success."""
    return f"outbox:{job.kind}"


__all__ = [
    "REFUSED_CONTENT",
    "Deferred",
    "DueJob",
    "GivenUp",
    "JobSlack",
    "OutboxWorker",
    "Refused",
    "Reschedule",
    "Wakeup",
    "backoff",
    "describe",
]


# A lease and a "done" are written for every job: built once and run with parameters (building them
# per job, ORM comparisons and the ORM's bulk-UPDATE step, was a tenth of the event loop's time under
# 50 clicks in flight; profiled with py-spy on benchmarks/acks.py). On the table: nothing is loaded.


@functools.cache
def _lease_statement(*, one_per_conversation: bool) -> Any:
    """Lease job b_id to b_worker until b_until, if it is pending and nobody holds it (as of b_now).

    With ``one_per_conversation``, only while no other job of its kind for its conversation
    (b_kind, b_conversation_id) is leased.
    """
    table = table_of(OutboxJob)
    c = table.c
    conditions = [
        c.id == bindparam("b_id"),
        c.status == OutboxStatus.PENDING.value,
        or_(c.lease_until.is_(None), c.lease_until < bindparam("b_now")),
    ]
    if one_per_conversation:
        other = table.alias("other")
        conditions.append(
            ~exists().where(
                other.c.kind == bindparam("b_kind"),
                # NULL-safe, as comparing with None was before: IS NOT DISTINCT FROM (PostgreSQL), IS (SQLite).
                other.c.conversation_id.is_not_distinct_from(bindparam("b_conversation_id")),
                other.c.id != bindparam("b_id"),
                other.c.lease_until >= bindparam("b_now"),
            )
        )
    return update(table).where(*conditions).values(leased_by=bindparam("b_worker"), lease_until=bindparam("b_until"))


@functools.cache
def _done_statement() -> Any:
    """Mark job b_id done at b_at, if b_worker still holds it."""
    table = table_of(OutboxJob)
    c = table.c
    return (
        update(table)
        .where(c.id == bindparam("b_id"), c.leased_by == bindparam("b_worker"))
        .values(leased_by=None, lease_until=None, status=OutboxStatus.DONE.value, done_at=bindparam("b_at"))
    )
