"""Ops alerts: raised once per problem, however many replicas meet the problem at the same moment."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from chatops.alerts import Alerts
from chatops.db import Database
from chatops.models import Alert, OutboxJob
from chatops.store import POST_ALERT, Store

REPLICAS = 6


async def _counts(db: Database) -> tuple[int, int]:
    async with db.read() as session:
        alerts = await session.scalar(select(func.count()).select_from(Alert))
        jobs = await session.scalar(select(func.count()).select_from(OutboxJob).where(OutboxJob.kind == POST_ALERT))
    return int(alerts or 0), int(jobs or 0)


async def test_simultaneous_first_alerts_for_one_problem_raise_it_once(database_url: str) -> None:
    # One engine per replica, so on PostgreSQL the transactions really overlap.
    dbs = [Database(database_url) for _ in range(REPLICAS)]
    try:
        for db in dbs:  # connect first, so the calls below start together
            await db.ping()
        replicas = [Alerts(Store(db)) for db in dbs]
        for round_ in range(3):
            results = await asyncio.gather(
                *(alerts.raise_once("facebook", "token", f"token expired (round {round_})") for alerts in replicas)
            )
            assert sorted(results) == [False] * (REPLICAS - 1) + [True]
            assert await _counts(dbs[0]) == (1, round_ + 1)
            # Cleared (the token works again), the next outage is a new alert, posted once more.
            await replicas[0].clear("facebook", "token")
    finally:
        for db in dbs:
            await db.dispose()
