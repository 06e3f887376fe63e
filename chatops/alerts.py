"""Operational alerts: one message to the ops channel per problem, not one per failed message.

An alert is keyed by (plugin, key), e.g. ("facebook", "token"). It is raised once
and stays quiet until the plugin succeeds again, which clears it. Several replicas
meeting the same problem at the same moment raise it once: the row is inserted with
``ON CONFLICT DO NOTHING`` and whoever inserted it (or re-opened a cleared one under a
row lock) posts it.
"""

from __future__ import annotations

from typing import Any, cast

from sqlalchemy import CursorResult, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from chatops.models import Alert, utcnow
from chatops.store import POST_ALERT, Store


class Alerts:
    """Raise and clear per-plugin alerts, posting each one once."""

    def __init__(self, store: Store) -> None:
        self.store = store

    async def raise_once(self, plugin: str, key: str, problem: str) -> bool:
        """Record the alert and queue its post unless it is already raised; True when queued."""
        insert: Any = sqlite_insert if self.store.db.is_sqlite else postgresql_insert
        async with self.store.db.write() as session:
            inserted = await session.execute(
                insert(Alert)
                .values(plugin=plugin, key=key, message=problem, raised_at=utcnow())
                .on_conflict_do_nothing(index_elements=[Alert.plugin, Alert.key])
            )
            if cast("CursorResult[Any]", inserted).rowcount != 1:
                # The alert exists (or another replica's insert just won): re-open it only if cleared.
                alert = await session.get(Alert, (plugin, key), with_for_update=True, populate_existing=True)
                if alert is None or alert.cleared_at is None:
                    return False
                alert.message, alert.raised_at, alert.cleared_at = problem, utcnow(), None
            self.store.add_audit(session, None, plugin, "alert_raised", key=key, problem=problem)
            self.store.add_job(session, POST_ALERT, payload={"source": plugin, "key": key, "problem": problem})
        self.store.wake()
        return True

    async def clear(self, plugin: str, *keys: str) -> None:
        """Clear ``plugin``'s open alerts with these keys: what just worked proves them fixed."""
        async with self.store.db.read() as session:
            open_alert = await session.scalar(
                select(Alert.key)
                .where(Alert.plugin == plugin, Alert.key.in_(keys), Alert.cleared_at.is_(None))
                .limit(1)
            )
        if open_alert is None:
            return  # the common case: no write on every successful send
        async with self.store.db.write() as session:
            await session.execute(
                update(Alert)
                .where(Alert.plugin == plugin, Alert.key.in_(keys), Alert.cleared_at.is_(None))
                .values(cleared_at=utcnow())
            )
            self.store.add_audit(session, None, plugin, "alert_cleared", keys=list(keys))
