"""Plugins that own tables: what a plugin declares, and the Alembic environment it runs in.

A plugin that stores data of its own answers the ``chatops_migrations`` hook with a
:class:`PluginMigrations`: an Alembic script directory of its own (its ``env.py`` is one
line, ``run_plugin_env()``) and, optionally, its SQLAlchemy ``MetaData``. ``chatops db
upgrade`` (and the SQLite auto-upgrade at start-up) runs the core's migrations first,
then each enabled plugin's in the order of ``[plugins] enabled``, each in a transaction
of its own, so a plugin's tables may reference the core's (``conversations.id``).

Each plugin keeps its revision in a version table of its own,
``chatops_version_<plugin name>``, not in the core's ``alembic_version`` with branch
labels. With one shared table, the revision of a plugin that was disabled stays in it,
and once that plugin's scripts are no longer on Alembic's ``version_locations`` Alembic
refuses to run at all ("Can't locate revision"), for the core too. With a table per
plugin, disabling a plugin leaves its tables, data and version row alone, nothing else
reads them, and enabling it again upgrades from where it was. Revision ids need not be
unique across plugins either.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from sqlalchemy import MetaData

from chatops.models import NAMING_CONVENTION

#: Prefix of every plugin's own Alembic version table.
VERSION_TABLE_PREFIX = "chatops_version_"
# PostgreSQL truncates identifiers longer than this; two long names must not meet in one table.
_MAX_IDENTIFIER = 63


@dataclass(frozen=True, slots=True)
class PluginMigrations:
    """Where a plugin's Alembic migrations live, answered by its ``chatops_migrations`` hook.

    ``script_location`` is an Alembic script location: ``"package:migrations"`` (a
    directory inside an importable package) or a file-system path. ``metadata`` is the
    plugin's own ``MetaData`` (not the core's ``Base.metadata``): handed to the plugin's
    ``env.py`` and used to compare the migrated database with the models in tests.
    """

    script_location: str
    metadata: MetaData | None = None


def plugin_metadata() -> MetaData:
    """A ``MetaData`` for a plugin's tables, with the core's constraint naming convention.

    The same convention as the core's keeps constraint names predictable, which SQLite's
    batch migrations need to alter a constraint later.
    """
    return MetaData(naming_convention=NAMING_CONVENTION)


def version_table(plugin_name: str) -> str:
    """The Alembic version table of the plugin called ``plugin_name``: ``chatops_version_<name>``."""
    safe = re.sub(r"[^a-z0-9_]", "_", plugin_name.lower())
    table = f"{VERSION_TABLE_PREFIX}{safe}"
    if len(table) > _MAX_IDENTIFIER:
        raise ValueError(f"plugin name {plugin_name!r} is too long for a version table (at most {_MAX_IDENTIFIER})")
    return table


def run_plugin_env(metadata: MetaData | None = None) -> None:
    """Run a plugin's migrations: the whole of a plugin's Alembic ``env.py`` is a call to this.

    Uses the connection and version table chatops hands over (``chatops db upgrade``, or the
    SQLite auto-upgrade at start-up), never a URL of its own, and batch mode on SQLite so
    ``ALTER`` works there. ``metadata`` defaults to the one the plugin declared in its
    :class:`PluginMigrations`.
    """
    from alembic import context

    attributes = context.config.attributes
    connection = attributes.get("connection")
    table = attributes.get("version_table")
    if connection is None or table is None:
        raise RuntimeError("run a plugin's migrations through `chatops db upgrade`, which supplies the connection")
    context.configure(
        connection=connection,
        target_metadata=metadata if metadata is not None else attributes.get("target_metadata"),
        version_table=table,
        render_as_batch=connection.dialect.name == "sqlite",
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()
