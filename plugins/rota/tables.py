"""The rota plugin's own tables and the queries every part of it shares.

Created by the plugin's Alembic migrations (``plugins/rota/migrations``), run by
``chatops db upgrade`` after the core's once ``rota`` is enabled. Nothing is deleted:
a removed shift or undone cover keeps its row with ``removed_at``, so the rota's
history stays readable next to the audit log.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from chatops.db import insert_once
from chatops.models import UTCDateTime
from chatops.plugin_migrations import PluginMigrations, plugin_metadata

from .schedule import Change, Cover, ShiftRule, Swap

metadata = plugin_metadata()


shifts = sa.Table(
    "rota_shifts",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    # Weekday numbers, Monday 0, comma-separated ("0,1,2,3,4").
    sa.Column("days", sa.String(16), nullable=False),
    sa.Column("start_minute", sa.Integer, nullable=False),
    sa.Column("end_minute", sa.Integer, nullable=False),
    sa.Column("people", sa.JSON, nullable=False),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("removed_by", sa.String(64), nullable=True),
    sa.Column("removed_at", UTCDateTime, nullable=True),
)

changes = sa.Table(
    "rota_changes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    # "cover" (first_user absent, second_user covers) or "swap" (the two exchange).
    sa.Column("kind", sa.String(8), nullable=False),
    sa.Column("first_user", sa.String(64), nullable=False),
    sa.Column("second_user", sa.String(64), nullable=False),
    # Covers: the UTC range; swaps: the local date in ``day``.
    sa.Column("starts_at", UTCDateTime, nullable=True),
    sa.Column("ends_at", UTCDateTime, nullable=True),
    sa.Column("whole_shifts", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("day", sa.Date, nullable=True),
    # Applied in this order; a cover trimmed by /rota uncover keeps its place.
    sa.Column("ordered_at", UTCDateTime, nullable=False),
    sa.Column("created_by", sa.String(64), nullable=False),
    sa.Column("created_at", UTCDateTime, nullable=False),
    sa.Column("removed_by", sa.String(64), nullable=True),
    sa.Column("removed_at", UTCDateTime, nullable=True),
)

# One row per notice posted (a hand-off at an instant, a "nobody on shift" gap): the insert
# that succeeds posts it, so replicas racing for it post it once.
notices = sa.Table(
    "rota_notices",
    metadata,
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("at", UTCDateTime, primary_key=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

# The out-of-hours reply: once per customer (source + author) per closed period.
auto_replies = sa.Table(
    "rota_auto_replies",
    metadata,
    sa.Column("source", sa.String(64), primary_key=True),
    sa.Column("author", sa.String(255), primary_key=True),
    sa.Column("closed_since", UTCDateTime, primary_key=True),
    sa.Column("conversation_id", sa.BigInteger, nullable=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

# Calendar feed tokens: one per person, and one for the whole team (owner "team").
feeds = sa.Table(
    "rota_feeds",
    metadata,
    sa.Column("token", sa.String(64), primary_key=True),
    sa.Column("owner", sa.String(64), nullable=False, unique=True),
    sa.Column("created_at", UTCDateTime, nullable=False),
)

# Slash commands and dialog submissions already carried out (Slack may deliver one twice,
# and a signed request can be replayed for 5 minutes): keyed by trigger id or view id + hash.
requests = sa.Table(
    "rota_requests",
    metadata,
    sa.Column("key", sa.String(255), primary_key=True),
    sa.Column("created_at", UTCDateTime, nullable=False, index=True),
)

#: Where the migrations live; ``chatops_migrations`` answers with this.
MIGRATIONS = PluginMigrations(script_location="chatops_plugins.rota:migrations", metadata=metadata)


def days_text(days: frozenset[int]) -> str:
    """How ``rota_shifts.days`` stores weekday numbers."""
    return ",".join(str(d) for d in sorted(days))


def _days(value: str) -> frozenset[int]:
    return frozenset(int(d) for d in value.split(",") if d)


def rule_of(row: Any) -> ShiftRule:
    """A ``rota_shifts`` row as a :class:`ShiftRule`."""
    return ShiftRule(row.id, _days(row.days), row.start_minute, row.end_minute, tuple(row.people))


def change_of(row: Any) -> Change:
    """A ``rota_changes`` row as a :class:`Cover` or :class:`Swap`."""
    if row.kind == "swap":
        return Swap(row.id, row.first_user, row.second_user, row.day, row.ordered_at)
    return Cover(row.id, row.first_user, row.second_user, row.starts_at, row.ends_at, row.whole_shifts, row.ordered_at)


async def active_rules(session: AsyncSession) -> list[ShiftRule]:
    """Every shift not removed, oldest first."""
    rows = await session.execute(sa.select(shifts).where(shifts.c.removed_at.is_(None)).order_by(shifts.c.id))
    return [rule_of(row) for row in rows]


async def active_changes(session: AsyncSession, since: datetime | None = None) -> list[Change]:
    """Every cover and swap not undone, in the order they apply (``since``: those not over before it)."""
    query = sa.select(changes).where(changes.c.removed_at.is_(None))
    if since is not None:
        # A swap's day is a local date and its shifts can run into the next day: keep two days' margin.
        query = query.where(
            sa.or_(
                (changes.c.kind == "cover") & (changes.c.ends_at > since),
                (changes.c.kind == "swap") & (changes.c.day >= since.date() - timedelta(days=2)),
            )
        )
    rows = await session.execute(query.order_by(changes.c.ordered_at, changes.c.id))
    return [change_of(row) for row in rows]


async def claim(session: AsyncSession, table: sa.Table, **key: Any) -> bool:
    """Insert the row ``key`` names once; False when it is there already (another replica won)."""
    return await insert_once(session, table, **key)
