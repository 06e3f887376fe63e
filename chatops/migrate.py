"""Schema versions: upgrade with Alembic, and refuse to run on an out-of-date schema.

Decision: an SQLite file (single node, the default) is upgraded automatically at
start-up; PostgreSQL (production, several replicas) is upgraded only by the
explicit ``chatops db upgrade`` deploy step, and the bot refuses to start until then.

The schema has parts: the core's tables (version in ``alembic_version``) and those of
each enabled plugin that answers ``chatops_migrations`` (version in
``chatops_version_<name>``; see :mod:`chatops.plugin_migrations` for why a table each).
They are upgraded in that order, core first, then the plugins in the order of
``[plugins] enabled``, each part in a transaction of its own. A disabled plugin is not
a part: its tables and version row are left exactly as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from alembic.script.revision import RevisionError
from alembic.util import CommandError
from sqlalchemy.engine import Connection

from chatops.db import Database
from chatops.models import Base
from chatops.plugin_migrations import PluginMigrations, version_table

#: The name of the core's part in messages and ``chatops db`` output.
CORE = "core"
CORE_VERSION_TABLE = "alembic_version"

#: Enabled plugins' migrations, as ``(plugin name, migrations)`` in ``[plugins] enabled`` order.
PluginParts = Sequence[tuple[str, PluginMigrations]]


class SchemaOutOfDate(Exception):
    """The database schema is not the one this code needs."""


class MigrationFailed(SchemaOutOfDate):
    """A part's migrations failed; that part was rolled back, the parts before it stay upgraded.

    ``part`` names it (``core`` or ``plugin hello``); ``done`` holds the parts upgraded before.
    """

    def __init__(self, part: str, done: Sequence[PartUpgrade], cause: BaseException) -> None:
        first_line = (str(cause).strip().splitlines() or [""])[0]
        reason = f"{type(cause).__name__}: {first_line}" if first_line else type(cause).__name__
        super().__init__(f"{part}: migrations failed and were rolled back ({reason})")
        self.part = part
        self.done = list(done)


@dataclass(frozen=True, slots=True)
class PartState:
    """Where one part of the schema is, and where this code needs it."""

    part: str
    current: str | None
    head: str
    #: False when ``current`` is a revision this code does not know (a newer version wrote it).
    known: bool = True

    @property
    def up_to_date(self) -> bool:
        """Whether the part is at the revision this code needs."""
        return self.current == self.head

    def describe(self) -> str:
        """One line for ``chatops db status``: ``plugin hello: none -> 0001 (behind)``."""
        if not self.known:
            return f"{self.part}: at {self.current}, which this version does not know (it needs {self.head})"
        state = "up to date" if self.up_to_date else "behind"
        return f"{self.part}: {self.current or 'none'} -> {self.head} ({state})"


@dataclass(frozen=True, slots=True)
class PartUpgrade:
    """What ``chatops db upgrade`` did to one part of the schema."""

    part: str
    before: str | None
    after: str | None

    def describe(self) -> str:
        """One line: ``core: 0002 -> 0002``."""
        return f"{self.part}: {self.before or 'none'} -> {self.after or 'none'}"


def plugin_part(name: str) -> str:
    """How a plugin's part is named in messages: ``plugin hello``."""
    return f"plugin {name}"


def alembic_config() -> Config:
    """Alembic configuration pointing at the migrations shipped in the package."""
    config = Config()
    config.set_main_option("script_location", "chatops:migrations")
    return config


def plugin_alembic_config(name: str, migrations: PluginMigrations) -> Config:
    """Alembic configuration for one plugin's migrations, with its own version table."""
    config = Config()
    config.set_main_option("script_location", migrations.script_location)
    config.attributes["version_table"] = version_table(name)
    config.attributes["target_metadata"] = migrations.metadata
    return config


def _head(config: Config, part: str) -> str:
    try:
        head = ScriptDirectory.from_config(config).get_current_head()
    except (CommandError, RevisionError) as exc:
        # A plugin's script directory missing, or with two heads: say whose it is.
        raise SchemaOutOfDate(f"{part}: cannot read its migrations: {exc}") from exc
    if head is None:
        raise SchemaOutOfDate(f"{part}: its migrations directory has no revisions")
    return head


def head_revision() -> str:
    """The newest migration this code knows."""
    return _head(alembic_config(), CORE)


def plugin_head_revision(name: str, migrations: PluginMigrations) -> str:
    """The newest migration of a plugin."""
    return _head(plugin_alembic_config(name, migrations), plugin_part(name))


def _knows(config: Config, revision: str | None) -> bool:
    if revision is None:
        return True
    try:
        return ScriptDirectory.from_config(config).get_revision(revision) is not None
    except (CommandError, RevisionError):
        return False


def _current(connection: Connection, table: str = CORE_VERSION_TABLE) -> str | None:
    return MigrationContext.configure(connection, opts={"version_table": table}).get_current_revision()


def _upgrade_part(connection: Connection, config: Config, table: str, revision: str) -> tuple[str | None, str | None]:
    before = _current(connection, table)
    config.attributes["connection"] = connection
    command.upgrade(config, revision)
    return before, _current(connection, table)


async def current_revision(db: Database) -> str | None:
    """The revision the database is at (None for an empty database)."""
    async with db.engine.connect() as conn:
        return await conn.run_sync(_current)


async def plugin_current_revision(db: Database, name: str) -> str | None:
    """The revision a plugin's tables are at (None when it never ran a migration here)."""
    async with db.engine.connect() as conn:
        return await conn.run_sync(_current, version_table(name))


async def upgrade(db: Database, revision: str = "head") -> tuple[str | None, str]:
    """Bring the core's schema to ``revision``; returns (before, after)."""
    async with db.engine.begin() as conn:
        before, after = await conn.run_sync(_upgrade_part, alembic_config(), CORE_VERSION_TABLE, revision)
    return before, after or ""


async def upgrade_plugin(
    db: Database, name: str, migrations: PluginMigrations, revision: str = "head"
) -> tuple[str | None, str | None]:
    """Bring one plugin's tables to ``revision``, in one transaction; returns (before, after)."""
    config = plugin_alembic_config(name, migrations)
    async with db.engine.begin() as conn:
        return await conn.run_sync(_upgrade_part, config, version_table(name), revision)


async def upgrade_all(db: Database, plugins: PluginParts = ()) -> list[PartUpgrade]:
    """Upgrade the core, then each enabled plugin in order, each in its own transaction.

    Stops at the first part that fails and raises :class:`MigrationFailed` naming it: that
    part is rolled back, the parts before it stay upgraded, the ones after are not touched.
    """
    done: list[PartUpgrade] = []
    try:
        before, after = await upgrade(db)
    except Exception as exc:
        raise MigrationFailed(CORE, done, exc) from exc
    done.append(PartUpgrade(CORE, before, after))
    for name, migrations in plugins:
        try:
            plugin_before, plugin_after = await upgrade_plugin(db, name, migrations)
        except Exception as exc:
            raise MigrationFailed(plugin_part(name), done, exc) from exc
        done.append(PartUpgrade(plugin_part(name), plugin_before, plugin_after))
    return done


async def schema_status(db: Database, plugins: PluginParts = ()) -> list[PartState]:
    """Where the core and each enabled plugin's tables are, against what this code needs."""
    core = alembic_config()
    current = await current_revision(db)
    states = [PartState(CORE, current, _head(core, CORE), _knows(core, current))]
    for name, migrations in plugins:
        config = plugin_alembic_config(name, migrations)
        current = await plugin_current_revision(db, name)
        head = _head(config, plugin_part(name))
        states.append(PartState(plugin_part(name), current, head, _knows(config, current)))
    return states


def _out_of_date_message(states: Sequence[PartState]) -> str:
    behind = [s for s in states if s.known and not s.up_to_date]
    unknown = [s for s in states if not s.known]
    problems = [
        f"{s.part} is at {s.current}, needs {s.head}" if s.current else f"{s.part} has no tables yet, needs {s.head}"
        for s in behind
    ]
    problems += [f"{s.part} is at {s.current}, which this version does not know" for s in unknown]
    fixes = []
    if behind:
        fixes.append("run `chatops db upgrade` first")
    if unknown:
        fixes.append("a newer version upgraded the database: run that version (or restore a backup)")
    return f"schema is out of date: {'; '.join(problems)}: {', and '.join(fixes)}"


async def ensure_schema(db: Database, *, plugins: PluginParts = (), auto_upgrade_sqlite: bool = True) -> None:
    """Make sure the core and every enabled plugin's tables are current before the bot starts.

    See the module docstring: SQLite is upgraded here when allowed, PostgreSQL never. The
    error names each part that is behind (``core``, ``plugin hello``) and the fix.
    """
    states = await schema_status(db, plugins)
    if all(s.up_to_date for s in states):
        return
    if db.is_sqlite and auto_upgrade_sqlite and all(s.known for s in states):
        await upgrade_all(db, plugins)
        return
    raise SchemaOutOfDate(_out_of_date_message(states))


async def model_differences(db: Database, migrations: PluginMigrations) -> list[Any]:
    """How a plugin's migrated tables differ from its ``metadata`` (empty when they agree).

    Only the plugin's own tables are compared, not the core's or other plugins' in the same
    database; a core table the metadata names only so that a foreign key resolves (a stub
    ``conversations`` with its ``id``) is skipped too. For a plugin's tests: "the migrations
    produce exactly the models".
    """
    metadata = migrations.metadata
    if metadata is None:
        raise ValueError("these migrations declare no metadata to compare with")
    tables = set(metadata.tables) - set(Base.metadata.tables)

    def include_name(name: str | None, type_: str, _parents: Any) -> bool:
        return type_ != "table" or name in tables

    def include_object(_object: Any, name: str | None, type_: str, _reflected: bool, _compare_to: Any) -> bool:
        return type_ != "table" or name in tables

    def compare(connection: Connection) -> list[Any]:
        opts = {"compare_type": True, "include_name": include_name, "include_object": include_object}
        context = MigrationContext.configure(connection, opts=opts)
        return list(compare_metadata(context, metadata))

    async with db.engine.connect() as conn:
        return await conn.run_sync(compare)
