"""What operators see of the outbox and how they put dead jobs back: the queries behind ``chatops outbox``.

Delivery marks a job dead after its last attempt (or when even the minimal card is
refused). Retrying puts it back as if new: pending, no attempts, due now, the
minimal-card flag dropped so the full card is tried first again. A running bot
picks it up at its next poll.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select, update

from chatops.db import Database
from chatops.models import Conversation, OutboxJob, OutboxStatus, utcnow

#: Which jobs ``chatops outbox`` lists: ``all`` means pending and dead (done jobs are history).
Listing = Literal["pending", "dead", "all"]

#: Payload flag of a card job that draws the minimal card (delivery sets it when the full card is refused).
MINIMAL = "minimal"
#: Payload flag of a job an operator put back: its success clears the alert its giving up raised.
RETRIED = "retried"


@dataclass(frozen=True, slots=True)
class JobInfo:
    """One outbox job as an operator sees it."""

    id: int
    kind: str
    status: str
    conversation_id: int | None
    source: str | None
    attempts: int
    due_at: datetime
    created_at: datetime
    last_error: str | None


@dataclass(frozen=True, slots=True)
class RetryResult:
    """What a retry did: jobs put back, jobs left alone because they were not dead, ids that do not exist."""

    retried: list[int]
    not_dead: list[tuple[int, str]]
    unknown: list[int]


async def list_jobs(db: Database, status: Listing = "all", limit: int = 50) -> list[JobInfo]:
    """Pending and/or dead jobs, oldest first, at most ``limit``."""
    wanted = [OutboxStatus.PENDING.value, OutboxStatus.DEAD.value] if status == "all" else [status]
    async with db.read() as session:
        rows = await session.execute(
            select(OutboxJob, Conversation.source)
            .outerjoin(Conversation, Conversation.id == OutboxJob.conversation_id)
            .where(OutboxJob.status.in_(wanted))
            .order_by(OutboxJob.id)
            .limit(limit)
        )
        return [
            JobInfo(j.id, j.kind, j.status, j.conversation_id, source, j.attempts, j.due_at, j.created_at, j.last_error)
            for j, source in rows.all()
        ]


async def retry_jobs(db: Database, ids: Sequence[int] | None = None) -> RetryResult:
    """Put dead jobs back to pending, attempts reset and due now; ``ids=None`` means every dead job.

    Unknown ids change nothing at all (the caller said something that is not so).
    """
    async with db.write() as session:
        query = select(OutboxJob)
        query = (
            query.where(OutboxJob.status == OutboxStatus.DEAD.value)
            if ids is None
            else query.where(OutboxJob.id.in_(list(ids)))
        )
        jobs = {j.id: j for j in (await session.scalars(query.order_by(OutboxJob.id))).all()}
        unknown = [i for i in ids or [] if i not in jobs]
        if unknown:
            return RetryResult([], [], unknown)
        retried: list[int] = []
        not_dead: list[tuple[int, str]] = []
        for job in jobs.values():
            if job.status != OutboxStatus.DEAD.value:
                not_dead.append((job.id, job.status))
                continue
            payload = {k: v for k, v in (job.payload or {}).items() if k != MINIMAL}
            payload[RETRIED] = True
            await session.execute(
                update(OutboxJob)
                .where(OutboxJob.id == job.id, OutboxJob.status == OutboxStatus.DEAD.value)
                .values(
                    status=OutboxStatus.PENDING.value,
                    attempts=0,
                    due_at=utcnow(),
                    leased_by=None,
                    lease_until=None,
                    payload=payload,
                )
            )
            retried.append(job.id)
        return RetryResult(retried, not_dead, [])
