"""Outbox depth and the age of its oldest pending job, per kind, as Prometheus gauges.

A scrape must not wait on a synchronous database call from inside prometheus-client's
collector, and the database is async: the ``/metrics`` handler awaits :meth:`OutboxGauges.refresh`
(one ``GROUP BY`` over the ``(status, due_at)`` index) and the collector renders that snapshot.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

from prometheus_client.metrics_core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector
from sqlalchemy import func, select

from chatops.db import Database, DatabaseUnavailable
from chatops.models import OutboxJob, OutboxStatus, utcnow

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class KindCounts:
    """One job kind's pending and dead jobs, and when its oldest pending job was queued."""

    pending: int = 0
    dead: int = 0
    oldest_pending: datetime | None = None


@dataclass(frozen=True, slots=True)
class OutboxSnapshot:
    """The outbox as one query saw it; ``ok`` is False when the database could not be read."""

    taken_at: datetime | None = None
    kinds: dict[str, KindCounts] = field(default_factory=dict)
    ok: bool = False


async def read_snapshot(db: Database) -> OutboxSnapshot:
    """Count pending and dead jobs per kind, with the oldest pending job's creation time: one query."""
    wanted = (OutboxStatus.PENDING.value, OutboxStatus.DEAD.value)
    async with db.read() as session:
        rows = (
            await session.execute(
                select(OutboxJob.kind, OutboxJob.status, func.count(), func.min(OutboxJob.created_at))
                .where(OutboxJob.status.in_(wanted))
                .group_by(OutboxJob.kind, OutboxJob.status)
            )
        ).all()
    kinds: dict[str, KindCounts] = {}
    for kind, status, count, oldest in rows:
        before = kinds.get(kind, KindCounts())
        if status == OutboxStatus.PENDING.value:
            kinds[kind] = KindCounts(int(count), before.dead, oldest)
        else:
            kinds[kind] = KindCounts(before.pending, int(count), before.oldest_pending)
    return OutboxSnapshot(utcnow(), kinds, ok=True)


class OutboxGauges(Collector):
    """A collector rendering the latest :class:`OutboxSnapshot`; every known kind has a series, zero or not."""

    def __init__(self, known_kinds: Callable[[], Iterable[str]] = tuple) -> None:
        self._known_kinds = known_kinds
        self.snapshot = OutboxSnapshot()
        self._warned = False

    async def refresh(self, db: Database) -> None:
        """Read the outbox now; on a database outage the gauges go missing and ``chatops_outbox_readable`` is 0."""
        try:
            self.snapshot = await read_snapshot(db)
        except DatabaseUnavailable as exc:
            if not self._warned:  # a scrape every 15 s must not log every 15 s through an outage
                log.warning("/metrics: cannot read the outbox: %s", exc.reason)
                self._warned = True
            self.snapshot = OutboxSnapshot()
        else:
            self._warned = False

    def collect(self) -> Iterator[Metric]:
        """The gauges of the latest snapshot (called by prometheus-client when rendering)."""
        snapshot = self.snapshot
        readable = GaugeMetricFamily(
            "chatops_outbox_readable", "1 when this scrape could read the outbox from the database, else 0"
        )
        readable.add_metric([], 1.0 if snapshot.ok else 0.0)
        yield readable
        if not snapshot.ok or snapshot.taken_at is None:
            return
        pending = GaugeMetricFamily("chatops_outbox_pending_jobs", "Outbox jobs waiting to run", labels=["kind"])
        dead = GaugeMetricFamily(
            "chatops_outbox_dead_jobs", "Outbox jobs given up (see `chatops outbox`)", labels=["kind"]
        )
        age = GaugeMetricFamily(
            "chatops_outbox_oldest_pending_age_seconds",
            "Seconds since the oldest pending job of a kind was queued (0 when none is pending)",
            labels=["kind"],
        )
        for kind in sorted({*self._known_kinds(), *snapshot.kinds}):
            counts = snapshot.kinds.get(kind, KindCounts())
            pending.add_metric([kind], counts.pending)
            dead.add_metric([kind], counts.dead)
            oldest = counts.oldest_pending
            age.add_metric([kind], max((snapshot.taken_at - oldest).total_seconds(), 0.0) if oldest else 0.0)
        yield pending
        yield dead
        yield age

    def describe(self) -> Iterator[Metric]:
        """Nothing to describe up front: the kinds are only known at scrape time."""
        return iter(())
