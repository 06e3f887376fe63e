"""The rota's tables: its migration makes exactly its models, and a bot with the rota starts on them."""

from __future__ import annotations

from rota_kit import RotaBot, rota_of_bot

from chatops.db import Database
from chatops.migrate import model_differences
from chatops_plugins.rota import tables


async def test_the_migration_produces_exactly_the_tables_the_plugin_uses(rota_database: str) -> None:
    db = Database(rota_database)
    try:
        assert await model_differences(db, tables.MIGRATIONS) == []
    finally:
        await db.dispose()


async def test_a_bot_with_the_rota_starts_and_reads_an_empty_rota(rota_bot: RotaBot) -> None:
    async with rota_bot() as bot:
        schedule = await rota_of_bot(bot).schedule(fresh=True)
        assert schedule.rules == () and schedule.changes == ()
