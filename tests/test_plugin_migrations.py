"""Plugins own their tables: their migrations run after the core's, for enabled plugins only."""

from __future__ import annotations

import asyncio
import importlib.metadata
from collections.abc import AsyncIterator
from pathlib import Path
from types import ModuleType
from typing import Any

import plugin_fixtures.broken
import plugin_fixtures.notes
import pytest
from sqlalchemy import inspect, text

import chatops.plugins
from chatops.cli import main
from chatops.config import parse_settings
from chatops.db import Database
from chatops.hookspecs import hookimpl
from chatops.migrate import (
    MigrationFailed,
    PartUpgrade,
    SchemaOutOfDate,
    current_revision,
    ensure_schema,
    head_revision,
    model_differences,
    plugin_current_revision,
    upgrade_all,
    upgrade_plugin,
)
from chatops.models import Conversation
from chatops.plugin_migrations import PluginMigrations, version_table
from chatops.plugins import enabled_migrations, load_plugins
from chatops.testing.bot import TestBot
from chatops.testing.fake_slack import FakeSlack

NOTES = ("notes", plugin_fixtures.notes.MIGRATIONS)
BROKEN = ("broken", plugin_fixtures.broken.MIGRATIONS)
FIXTURE_PLUGINS: dict[str, ModuleType] = {"notes": plugin_fixtures.notes, "broken": plugin_fixtures.broken}
# What the fixture plugins leave in a database; the shared PostgreSQL test database is cleaned of them.
PLUGIN_TABLES = ("plugin_notes", "plugin_broken_things", version_table("notes"), version_table("broken"))


async def _drop_plugin_tables(url: str) -> None:
    db = Database(url)
    try:
        async with db.engine.begin() as conn:
            for table in PLUGIN_TABLES:
                await conn.execute(text(f"DROP TABLE IF EXISTS {table}"))
    finally:
        await db.dispose()


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    """The test database (core migrated, no plugin tables), cleaned of plugin tables afterwards."""
    await _drop_plugin_tables(database_url)
    database = Database(database_url)
    try:
        yield database
    finally:
        await database.dispose()
        await _drop_plugin_tables(database_url)


async def _tables(db: Database) -> set[str]:
    async with db.engine.connect() as conn:
        return set(await conn.run_sync(lambda sync: inspect(sync).get_table_names()))


async def _note_with_conversation(db: Database, body: str) -> int:
    async with db.write() as session:
        conversation = Conversation(source="webhook", thread_id=f"thread-{body}")
        session.add(conversation)
        await session.flush()
        await session.execute(
            text("INSERT INTO plugin_notes (conversation_id, body) VALUES (:c, :b)"), {"c": conversation.id, "b": body}
        )
        return conversation.id


async def _notes(db: Database) -> list[tuple[Any, ...]]:
    async with db.read() as session:
        rows = await session.execute(text("SELECT body, pinned FROM plugin_notes ORDER BY id"))
        return [tuple(row) for row in rows]


async def test_upgrade_creates_the_plugins_table_and_its_own_version_table(db: Database) -> None:
    done = await upgrade_all(db, [NOTES])

    core = head_revision()
    assert done == [PartUpgrade("core", core, core), PartUpgrade("plugin notes", None, "0002")]
    assert {"plugin_notes", "chatops_version_notes"} <= await _tables(db)
    assert await plugin_current_revision(db, "notes") == "0002"
    assert await current_revision(db) == core  # the core's version row is not the plugin's
    assert await model_differences(db, plugin_fixtures.notes.MIGRATIONS) == []
    await _note_with_conversation(db, "VIP customer")
    assert await _notes(db) == [("VIP customer", False)]
    assert await upgrade_all(db, [NOTES]) == [
        PartUpgrade("core", core, core),
        PartUpgrade("plugin notes", "0002", "0002"),
    ]


async def test_the_out_of_date_check_names_the_plugin_that_is_behind(db: Database) -> None:
    with pytest.raises(SchemaOutOfDate) as caught:
        await ensure_schema(db, plugins=[NOTES], auto_upgrade_sqlite=False)
    message = str(caught.value)
    assert "plugin notes has no tables yet, needs 0002" in message
    assert "core" not in message
    assert message.endswith("run `chatops db upgrade` first")

    await upgrade_plugin(db, "notes", plugin_fixtures.notes.MIGRATIONS, "0001")
    with pytest.raises(SchemaOutOfDate, match="plugin notes is at 0001, needs 0002: run `chatops db upgrade` first"):
        await ensure_schema(db, plugins=[NOTES], auto_upgrade_sqlite=False)
    if not db.is_sqlite:
        with pytest.raises(SchemaOutOfDate, match="plugin notes is at 0001"):
            await ensure_schema(db, plugins=[NOTES], auto_upgrade_sqlite=True)  # PostgreSQL: never implicitly


async def test_a_disabled_plugins_tables_data_and_version_are_left_alone(db: Database, fake_slack: FakeSlack) -> None:
    await upgrade_all(db, [NOTES])
    await _note_with_conversation(db, "keep me")
    # As if a newer version of the plugin had run here before it was disabled: a revision no code here knows.
    async with db.engine.begin() as conn:
        await conn.execute(text("UPDATE chatops_version_notes SET version_num = 'from-the-future'"))

    assert await upgrade_all(db, []) == [PartUpgrade("core", head_revision(), head_revision())]
    await ensure_schema(db, plugins=[], auto_upgrade_sqlite=False)
    async with TestBot(fake_slack, db.url) as bot:  # start-up checks the schema of enabled plugins only
        assert bot.app is not None

    assert await _notes(db) == [("keep me", False)]
    assert await plugin_current_revision(db, "notes") == "from-the-future"
    # Enabled again, the unknown revision is refused rather than guessed at.
    with pytest.raises(SchemaOutOfDate, match="plugin notes is at from-the-future, which this version does not know"):
        await ensure_schema(db, plugins=[NOTES])


async def test_enabled_again_a_plugin_upgrades_from_where_it_was(db: Database) -> None:
    await upgrade_all(db, [])
    await upgrade_plugin(db, "notes", plugin_fixtures.notes.MIGRATIONS, "0001")
    await _note_with_conversation(db, "written under 0001")

    await upgrade_all(db, [])  # disabled: deploys go by
    assert await plugin_current_revision(db, "notes") == "0001"

    done = await upgrade_all(db, [NOTES])
    assert done[-1] == PartUpgrade("plugin notes", "0001", "0002")
    assert await _notes(db) == [("written under 0001", False)]
    assert await model_differences(db, plugin_fixtures.notes.MIGRATIONS) == []


async def test_a_plugin_migration_failing_half_way_is_named_and_rolled_back_alone(db: Database) -> None:
    with pytest.raises(MigrationFailed) as caught:
        await upgrade_all(db, [NOTES, BROKEN])

    assert caught.value.part == "plugin broken"
    assert str(caught.value).startswith("plugin broken: migrations failed and were rolled back (")
    assert [part.part for part in caught.value.done] == ["core", "plugin notes"]
    assert await current_revision(db) == head_revision()
    assert await plugin_current_revision(db, "notes") == "0002"
    tables = await _tables(db)
    # Its table was created before the bad statement: the plugin's transaction took it back.
    assert "plugin_broken_things" not in tables and "chatops_version_broken" not in tables
    assert await plugin_current_revision(db, "broken") is None


async def test_an_empty_sqlite_file_is_upgraded_at_start_plugins_included(
    tmp_path: Path, fake_slack: FakeSlack
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/fresh.db"
    config = {"plugins": {"enabled": ["webhook", "notes"]}}
    async with TestBot(fake_slack, url, config=config, extra_plugins=FIXTURE_PLUGINS):
        pass
    db = Database(url)
    try:
        assert await current_revision(db) == head_revision()
        assert await plugin_current_revision(db, "notes") == "0002"
        assert await model_differences(db, plugin_fixtures.notes.MIGRATIONS) == []
    finally:
        await db.dispose()


async def test_start_up_refuses_an_enabled_plugin_that_is_behind(db: Database, fake_slack: FakeSlack) -> None:
    bot = TestBot(
        fake_slack,
        db.url,
        config={"plugins": {"enabled": ["webhook", "notes"]}, "database": {"auto_upgrade_sqlite": False}},
        extra_plugins=FIXTURE_PLUGINS,
    )
    try:
        with pytest.raises(SchemaOutOfDate, match="plugin notes has no tables yet, needs 0002"):
            await bot.start()
    finally:
        await bot.stop()


def test_enabled_migrations_follow_the_enabled_order_and_skip_plugins_without_tables() -> None:
    settings = parse_settings(
        {
            "slack": {"bot_token": "xoxb-1", "app_token": "xapp-1", "inbox_channel": "C1"},
            "plugins": {"enabled": ["broken", "webhook", "notes"], "webhook": {"secret": "0123456789abcdef"}},
        },
        {},
    )
    pm, _ = load_plugins(settings, FIXTURE_PLUGINS)
    assert enabled_migrations(pm, settings.plugins.enabled) == [BROKEN, NOTES]


def test_a_hook_answering_something_else_is_named() -> None:
    class Wrong:
        @hookimpl
        def chatops_migrations(self) -> object:
            return "plugin_fixtures.notes:migrations"

    pm = chatops.plugins.new_manager()
    pm.register(Wrong(), name="wrong")
    with pytest.raises(TypeError, match="plugin 'wrong': chatops_migrations must return PluginMigrations"):
        enabled_migrations(pm, ["wrong"])


@pytest.fixture
def installed_fixtures(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fixture plugins, found by the command line as if installed through the entry-point group."""
    real = chatops.plugins.discover()
    fake = {
        name: importlib.metadata.EntryPoint(name=name, value=module.__name__, group=chatops.plugins.ENTRY_POINT_GROUP)
        for name, module in FIXTURE_PLUGINS.items()
    }
    monkeypatch.setattr(chatops.plugins, "discover", lambda: {**real, **fake})


def _config(tmp_path: Path, url: str, enabled: list[str]) -> str:
    path = tmp_path / "config.toml"
    path.write_text(
        '[slack]\nbot_token = "xoxb-1"\napp_token = "xapp-1"\ninbox_channel = "C1"\n'
        f"[database]\nurl = {url!r}\n[plugins]\nenabled = {enabled!r}\n",
        encoding="utf-8",
    )
    return str(path)


async def _main(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, str, str]:
    capsys.readouterr()
    code = await asyncio.to_thread(main, list(args))  # main runs an event loop of its own
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.usefixtures("installed_fixtures")
async def test_db_status_and_upgrade_report_each_part(
    db: Database, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    core = head_revision()
    config = _config(tmp_path, db.url, ["webhook", "notes"])

    code, out, err = await _main(capsys, "-c", config, "db", "status")
    assert code == 1
    assert out.splitlines() == [f"core: {core} -> {core} (up to date)", "plugin notes: none -> 0002 (behind)"]
    assert "chatops db upgrade" in err
    code, _, err = await _main(capsys, "-c", config, "outbox")
    assert code == 2
    assert (
        err
        == "database: schema is out of date: plugin notes has no tables yet, needs 0002: run `chatops db upgrade` first\n"
    )

    code, out, err = await _main(capsys, "-c", config, "db", "upgrade")
    assert (code, err) == (0, "")
    assert out.splitlines() == [f"core: {core} -> {core}", "plugin notes: none -> 0002"]
    code, out, _ = await _main(capsys, "-c", config, "db", "status")
    assert code == 0
    assert out.splitlines()[-1] == "plugin notes: 0002 -> 0002 (up to date)"
    assert (await _main(capsys, "-c", config, "outbox"))[0] == 0

    disabled = _config(tmp_path, db.url, ["webhook"])
    code, out, _ = await _main(capsys, "-c", disabled, "db", "upgrade")
    assert (code, out) == (0, f"core: {core} -> {core}\n")
    assert await plugin_current_revision(db, "notes") == "0002"


@pytest.mark.usefixtures("installed_fixtures")
async def test_db_upgrade_on_an_empty_file_names_the_plugin_that_failed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"sqlite+aiosqlite:///{tmp_path}/empty.db"
    config = _config(tmp_path, url, ["webhook", "broken", "notes"])

    code, out, err = await _main(capsys, "-c", config, "db", "upgrade")

    assert code == 1
    assert out == f"core: none -> {head_revision()}\n"
    assert err.startswith("database: plugin broken: migrations failed and were rolled back (OperationalError: ")
    db = Database(url)
    try:
        assert await current_revision(db) == head_revision()
        assert await plugin_current_revision(db, "broken") is None
        assert await plugin_current_revision(db, "notes") is None  # after the failed one: not touched
    finally:
        await db.dispose()


def test_plugin_migrations_are_a_frozen_value() -> None:
    migrations = PluginMigrations("somewhere:migrations")
    with pytest.raises(AttributeError):
        migrations.script_location = "elsewhere"  # type: ignore[misc]
    assert version_table("Hello-World") == "chatops_version_hello_world"
