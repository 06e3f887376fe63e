"""Schema versions: upgrade with Alembic, and refuse to run on an out-of-date schema.

Decision: an SQLite file (single node, the default) is upgraded automatically at
start-up; PostgreSQL (production, several replicas) is upgraded only by the
explicit ``chatops db upgrade`` deploy step, and the bot refuses to start until then.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy.engine import Connection

from chatops.db import Database


class SchemaOutOfDate(Exception):
    """The database schema is not the one this code needs."""


def alembic_config() -> Config:
    """Alembic configuration pointing at the migrations shipped in the package."""
    config = Config()
    config.set_main_option("script_location", "chatops:migrations")
    return config


def head_revision() -> str:
    """The newest migration this code knows."""
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None
    return head


def _current(connection: Connection) -> str | None:
    return MigrationContext.configure(connection).get_current_revision()


def _upgrade(connection: Connection, revision: str) -> None:
    config = alembic_config()
    config.attributes["connection"] = connection
    command.upgrade(config, revision)


async def current_revision(db: Database) -> str | None:
    """The revision the database is at (None for an empty database)."""
    async with db.engine.connect() as conn:
        return await conn.run_sync(_current)


async def upgrade(db: Database, revision: str = "head") -> tuple[str | None, str]:
    """Bring the schema to ``revision``; returns (before, after)."""
    before = await current_revision(db)
    async with db.engine.begin() as conn:
        await conn.run_sync(_upgrade, revision)
    return before, await current_revision(db) or ""


async def ensure_schema(db: Database, *, auto_upgrade_sqlite: bool = True) -> None:
    """Make sure the schema is current before the bot starts (see module docstring)."""
    current = await current_revision(db)
    head = head_revision()
    if current == head:
        return
    if db.is_sqlite and auto_upgrade_sqlite:
        await upgrade(db)
        return
    found = current or "an empty database"
    raise SchemaOutOfDate(f"database schema is at {found}, this chatops needs {head}: run `chatops db upgrade` first")
