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


async def test_the_schedule_leaves_out_covers_long_over_and_reads_them_again_when_the_clock_goes_back(
    rota_bot: RotaBot,
) -> None:
    from datetime import UTC, datetime, timedelta

    from rota_kit import LEAD, clock_of

    from chatops_plugins.rota import records

    now = datetime(2026, 12, 20, 12, 0, tzinfo=UTC)
    async with rota_bot(now=now) as bot:
        rota = rota_of_bot(bot)
        async with rota.ctx.db.write() as session:
            for days_over in (20, 10):
                end = now - timedelta(days=days_over)
                await records.add_cover(
                    session, "UANNA", "UJARI", end - timedelta(days=1), end, whole_shifts=True, by=LEAD, at=now
                )
        ends = [c.end for c in (await rota.schedule(fresh=True)).changes]  # type: ignore[union-attr]
        assert ends == [now - timedelta(days=10)]
        clock_of(bot).set(now - timedelta(days=10))
        assert len((await rota.schedule()).changes) == 2
