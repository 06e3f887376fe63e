"""The digest's own table: which scheduled digests were posted, so each is posted once across replicas.

Created by the plugin's Alembic migration (``plugins/digest/migrations``), run by
``chatops db upgrade`` once ``digest`` is enabled. The figures themselves are read from the
core's tables, never copied.
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from chatops.db import insert_once
from chatops.models import UTCDateTime
from chatops.plugin_migrations import PluginMigrations, plugin_metadata

metadata = plugin_metadata()

runs = sa.Table(
    "digest_runs",
    metadata,
    # "daily" or "weekly", and the moment it fell due (UTC): one post per pair.
    sa.Column("kind", sa.String(16), primary_key=True),
    sa.Column("due_at", UTCDateTime, primary_key=True),
    sa.Column("claimed_by", sa.String(64), nullable=False),
    sa.Column("claimed_at", UTCDateTime, nullable=False),
    # The outbox job that posts it (the core's slack_post).
    sa.Column("outbox_id", sa.BigInteger, nullable=True),
)

MIGRATIONS = PluginMigrations(script_location="chatops_plugins.digest:migrations", metadata=metadata)


async def claim(session: AsyncSession, table: sa.Table, **key: Any) -> bool:
    """Insert the row ``key`` names once; False when it is there already (another replica won)."""
    return await insert_once(session, table, **key)
