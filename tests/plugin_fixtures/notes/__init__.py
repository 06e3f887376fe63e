"""A plugin with a table of its own: notes on conversations, migrated by Alembic in two steps.

0001 creates ``plugin_notes`` (referencing the core's ``conversations.id``), 0002 adds ``pinned``.
"""

from __future__ import annotations

import sqlalchemy as sa

from chatops.hookspecs import hookimpl
from chatops.plugin_migrations import PluginMigrations, plugin_metadata

metadata = plugin_metadata()

notes = sa.Table(
    "plugin_notes",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True),
    # The core's table, created by the core's migrations, which always run first.
    sa.Column("conversation_id", sa.Integer, sa.ForeignKey("conversations.id", ondelete="CASCADE"), nullable=False),
    sa.Column("body", sa.Text, nullable=False),
    sa.Column("pinned", sa.Boolean, nullable=False, server_default=sa.false()),
)

# The core's table, so the foreign key above resolves when the metadata is compared.
sa.Table("conversations", metadata, sa.Column("id", sa.Integer, primary_key=True))

MIGRATIONS = PluginMigrations(script_location="plugin_fixtures.notes:migrations", metadata=metadata)


@hookimpl
def chatops_migrations() -> PluginMigrations:
    """The notes table's migrations."""
    return MIGRATIONS
