"""The Alembic migrations and the models agree, and an old schema is refused clearly."""

from __future__ import annotations

from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import text

from chatops.db import Database
from chatops.migrate import SchemaOutOfDate, current_revision, ensure_schema, head_revision, upgrade
from chatops.models import Base
from chatops.plugin_migrations import version_table
from chatops.plugins import discover


def _installed_plugins_tables() -> set[str]:
    """Tables the installed plugins' own migrations make (and their version tables): not the core's business.

    The shared PostgreSQL test database keeps them once a plugin's tests have migrated it.
    """
    names: set[str] = set()
    for name, entry_point in discover().items():
        migrations = getattr(entry_point.load(), "chatops_migrations", None)
        found = migrations() if callable(migrations) else None
        if found is not None and found.metadata is not None:
            names |= set(found.metadata.tables) - set(Base.metadata.tables)
        names.add(version_table(name))
    return names


async def test_migrations_produce_exactly_the_models(database_url: str) -> None:
    plugins_tables = _installed_plugins_tables()

    def core_only(_object: Any, name: str | None, type_: str, _reflected: bool, _compare_to: Any) -> bool:
        return type_ != "table" or name not in plugins_tables

    db = Database(database_url)
    try:
        async with db.engine.connect() as conn:
            diff = await conn.run_sync(
                lambda sync: compare_metadata(
                    MigrationContext.configure(sync, opts={"compare_type": True, "include_object": core_only}),
                    Base.metadata,
                )
            )
        assert diff == []
        assert await current_revision(db) == head_revision()
    finally:
        await db.dispose()


async def test_an_empty_sqlite_file_is_upgraded_at_start(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = Database(f"sqlite:///{tmp_path}/fresh.db")
    try:
        assert await current_revision(db) is None
        await ensure_schema(db)
        assert await current_revision(db) == head_revision()
    finally:
        await db.dispose()


async def test_an_out_of_date_schema_is_refused_unless_upgrading_is_allowed(tmp_path) -> None:  # type: ignore[no-untyped-def]
    db = Database(f"sqlite:///{tmp_path}/old.db")
    try:
        with pytest.raises(SchemaOutOfDate, match="run `chatops db upgrade` first"):
            await ensure_schema(db, auto_upgrade_sqlite=False)
    finally:
        await db.dispose()


async def test_postgres_is_never_upgraded_implicitly(database_url: str) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL behaviour")
    db = Database(database_url)
    try:
        async with db.engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = '0001'"))
        with pytest.raises(
            SchemaOutOfDate, match=f"core is at 0001, needs {head_revision()}: run `chatops db upgrade`"
        ):
            await ensure_schema(db, auto_upgrade_sqlite=True)
        async with db.engine.begin() as conn:
            await conn.execute(text(f"UPDATE alembic_version SET version_num = '{head_revision()}'"))
        await ensure_schema(db)
    finally:
        await db.dispose()


async def test_upgrade_is_idempotent(database_url: str) -> None:
    db = Database(database_url)
    try:
        before, after = await upgrade(db)
        assert before == after == head_revision()
    finally:
        await db.dispose()
