"""Slack interactions applied once, however many times the same signed request arrives.

Clicks and modal submissions carry no event id, Bolt does not de-duplicate them, and a
signed request stays acceptable for five minutes: replayed (or delivered twice, or at
the same moment to two replicas) it would post a reply or call the platform again.
Each interaction gets a key from what Slack makes unique per interaction, and the
first arrival to insert that key into ``interactions`` (a primary key: one insert wins
on SQLite and PostgreSQL alike) is the one that acts.
"""

from __future__ import annotations

import functools
import hashlib
import time
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import bindparam, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from chatops.db import Database
from chatops.models import Interaction, table_of, utcnow

#: How long a key is kept. Bolt refuses requests signed more than 5 minutes ago, so a day
#: leaves room for clock skew and Socket Mode redeliveries while keeping the table small.
RETENTION = timedelta(hours=24)


def _digest(*parts: str) -> str:
    return hashlib.sha256("\x1f".join(parts).encode("utf-8", "surrogatepass")).hexdigest()


def view_key(body: dict[str, Any]) -> str | None:
    """The key of a ``view_submission``: the view's id and hash (None when Slack sent neither)."""
    view = body.get("view") or {}
    view_id, view_hash = view.get("id"), view.get("hash")
    if not view_id or not view_hash:
        return None
    return _digest("view", str(view_id), str(view_hash))


def click_key(body: dict[str, Any]) -> str | None:
    """The key of a ``block_actions`` click: who, which button, and the click's own ``action_ts``/``trigger_id``.

    A later click on the same button by the same person has another ``action_ts`` and
    ``trigger_id``, so it is a new interaction; only a replay of this very request matches.
    """
    actions = body.get("actions") or [{}]
    action = actions[0]
    action_ts, trigger = action.get("action_ts"), body.get("trigger_id")
    if not action_ts and not trigger:
        return None
    user = (body.get("user") or {}).get("id", "")
    parts = ("click", str(user), str(action.get("action_id", "")), str(action.get("block_id", "")))
    return _digest(*parts, str(action_ts or ""), str(trigger or ""))


#: Keys older than RETENTION are deleted at most this often (seconds, per process): the DELETE was one
#: statement more in every click's transaction, for a table that only needs to stay small.
PURGE_SECONDS = 60.0


@functools.cache
def _take_key(dialect: str) -> Any:
    """The INSERT that takes a key (None when it is there already), built once per dialect and run with parameters."""
    table = table_of(Interaction)
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return (
        insert(table)
        .values(
            key=bindparam("b_key"), kind=bindparam("b_kind"), actor=bindparam("b_actor"), received_at=bindparam("b_at")
        )
        .on_conflict_do_nothing(index_elements=["key"])
        .returning(table.c.key)
    )


def _purge(now: datetime) -> Any:
    """Delete the keys that can no longer match a request Bolt accepts."""
    return delete(Interaction).where(Interaction.received_at < now - RETENTION)


class ReplayGuard:
    """Insert-once keys for interactions, on the bot's database."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._purged_at = -PURGE_SECONDS

    async def seen(self, key: str | None) -> bool:
        """True when an interaction with this key was already taken in (a replay)."""
        if key is None:
            return False
        async with self.db.read() as session:
            return await session.scalar(select(Interaction.key).where(Interaction.key == key)) is not None

    async def first(self, key: str | None, kind: str, actor: str) -> bool:
        """Take the key: True for the one arrival that should act, False for every replay.

        An interaction without a key (nothing unique in it) is always applied.
        """
        if key is None:
            return True
        now = utcnow()
        take = _take_key(self.db.engine.dialect.name)
        params = {"b_key": key, "b_kind": kind[:32], "b_actor": actor[:64], "b_at": now}
        purge = time.monotonic() - self._purged_at >= PURGE_SECONDS
        # PostgreSQL: each statement its own transaction, a round trip instead of three on every click.
        # SQLite: a write transaction, in the bot's write queue.
        target = self.db.write() if self.db.is_sqlite else self.db.single_statements()
        async with target as conn:
            taken = await conn.scalar(take, params)
            if taken is not None and purge:
                await conn.execute(_purge(now))
        if taken is not None and purge:
            self._purged_at = time.monotonic()
        return taken is not None

    async def forget(self, key: str | None) -> None:
        """Give a key back after its effect failed, so a redelivery may still apply it."""
        if key is None:
            return
        async with self.db.write() as session:
            await session.execute(delete(Interaction).where(Interaction.key == key))
