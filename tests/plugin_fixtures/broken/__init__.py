"""A plugin whose only migration fails half-way: it creates a table, then runs bad SQL."""

from __future__ import annotations

from chatops.hookspecs import hookimpl
from chatops.plugin_migrations import PluginMigrations

MIGRATIONS = PluginMigrations(script_location="plugin_fixtures.broken:migrations")


@hookimpl
def chatops_migrations() -> PluginMigrations:
    """The broken migrations."""
    return MIGRATIONS
