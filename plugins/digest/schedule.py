"""The scheduled digests: a minute job that posts each daily and weekly digest once, across replicas.

A job runs every minute (:func:`jobs`); each run (:func:`tick`) asks :func:`.periods.due`
which digests should have been posted by now (the latest daily and weekly one, within
``grace_hours``). For each one not posted yet, the replica whose insert into
``digest_runs`` succeeds queues the outbox job that posts it, in the same transaction: it is
posted exactly once however many replicas tick, and a digest missed while the bot was down
is posted once when it is back (marked late), unless it is older than the grace. A local day
has one daily and one weekly digest at most: a ``daily_at`` changed after the day's digest
was posted (a restart at 08:30 with 07:00, or with 09:00) does not post it again.

Nothing is counted at claim time: the outbox job composes the digest as it stood when it
fell due (``as_of``), so a job retried after Slack failed posts the same figures.
"""

from __future__ import annotations

import os
import socket
from datetime import datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from apscheduler.triggers.cron import CronTrigger

from chatops.jobs import Job

from . import periods, publish, render, tables
from .compose import compose

if TYPE_CHECKING:
    from chatops.context import PluginContext
    from chatops.outbox.plugin import PluginJob

    from .service import Digests

#: The outbox kind a scheduled digest is posted with (stored as ``digest:post``).
POST_KIND = "post"
#: A digest claimed more than this after it fell due says that it is late (a tick runs each minute).
LATE_AFTER = timedelta(minutes=5)
#: Who claimed a run, for the record (a replica's host and process; the claim itself is the row).
INSTANCE = f"{socket.gethostname()}-{os.getpid()}"[:64]


def register_kinds(digests: Digests) -> None:
    """Register the outbox kind that posts a scheduled digest."""

    async def post(job: PluginJob) -> None:
        await post_digest(digests, job)

    digests.ctx.outbox.register(POST_KIND, post)


def jobs(digests: Digests) -> list[Job]:
    """The minute job (the core runs each occurrence on one replica; the claim makes it once anyway)."""

    async def run(_due_at: datetime) -> None:
        await tick(digests)

    # Every minute in the team's timezone, so a digest due at 08:00 local is seen at 08:00 on DST days too.
    trigger = CronTrigger(minute="*", timezone=digests.ctx.tz)
    return [Job(id="tick", trigger=trigger, func=run, grace_seconds=50.0)]


async def tick(digests: Digests) -> list[periods.Due]:
    """Queue every scheduled digest due now and not posted yet; returns those this call claimed."""
    ctx, config = digests.ctx, digests.config
    now = digests.now()
    found = periods.due(
        now,
        ctx.tz,
        minute=config.daily_minute,
        daily=config.daily,
        weekday=config.weekly_weekday,
        grace=timedelta(hours=config.grace_hours),
    )
    claimed: list[periods.Due] = []
    for due in found:
        if await _posted(ctx, due):
            continue
        late = now - due.due_at > LATE_AFTER
        payload = {
            "kind": due.kind,
            "period": due.period,
            "due_at": due.due_at.isoformat(),
            # The figures are those of the moment it fell due, however late it is posted or retried.
            "as_of": due.due_at.isoformat(),
            "late": late,
        }
        async with ctx.db.write() as session:
            # Again in the claim's transaction: the read above may predate another replica's claim.
            if await session.scalar(_same_day(due, ctx.tz)) is not None or not await tables.claim(
                session, tables.runs, kind=due.kind, due_at=due.due_at, claimed_by=INSTANCE, claimed_at=now
            ):
                continue
            job_id = await ctx.outbox.enqueue(POST_KIND, payload, channel=config.channel, session=session)
            await session.execute(
                sa.update(tables.runs)
                .where(tables.runs.c.kind == due.kind, tables.runs.c.due_at == due.due_at)
                .values(outbox_id=job_id)
            )
        claimed.append(due)
        ctx.log.info("%s digest due at %s claimed%s", due.kind, due.due_at.isoformat(), " (late)" if late else "")
    return claimed


async def _posted(ctx: PluginContext, due: periods.Due) -> bool:
    """Whether a digest of this kind is claimed already on the local day ``due`` falls on.

    It is, every minute after the first: checking first means the claim's write transaction
    (and the database's log line about a duplicate key) is tried only when it may succeed.
    """
    async with ctx.db.read() as session:
        found = await session.scalar(_same_day(due, ctx.tz))
    return found is not None


def _same_day(due: periods.Due, tz: ZoneInfo) -> sa.Select[tuple[str]]:
    """A run of ``due``'s kind on the same local day, whatever time it fell due at.

    By day, not by the exact time: the time comes from ``daily_at``, which may have changed
    since that day's digest was claimed.
    """
    day = due.due_at.astimezone(tz).date()
    runs = tables.runs
    return (
        sa.select(runs.c.kind)
        .where(
            runs.c.kind == due.kind,
            runs.c.due_at >= periods.local_midnight(day, tz),
            runs.c.due_at < periods.local_midnight(day + timedelta(days=1), tz),
        )
        .limit(1)
    )


async def post_digest(digests: Digests, job: PluginJob) -> None:
    """The ``digest:post`` job: compose the digest as it stood when due, and post it with its chart."""
    ctx, config = digests.ctx, digests.config
    data = job.payload
    as_of = datetime.fromisoformat(data["as_of"])
    due_at = datetime.fromisoformat(data["due_at"])
    period: periods.Period = data["period"]
    if period not in periods.PERIODS:
        raise ValueError(f"digest job {job.id}: unknown period {period!r}")
    report = await compose(ctx.db, period, as_of, ctx.tz, digests.options, chart=config.chart)
    await publish.publish(
        report,
        ctx.t,
        publish.JobSlack(job),
        job.channel or config.channel,
        names=await render.people_names(report, ctx.user_name),
        source_name=ctx.source_name,
        late=due_at if data.get("late") else None,
    )
    ctx.log.info("%s digest due at %s posted", data.get("kind"), due_at.isoformat())
