"""The rota plugin starts with a bot and its tables exist (both databases)."""

from __future__ import annotations

from rota_kit import RotaBot, rota_of_bot


async def test_a_bot_with_the_rota_starts_and_reads_an_empty_rota(rota_bot: RotaBot) -> None:
    async with rota_bot() as bot:
        schedule = await rota_of_bot(bot).schedule(fresh=True)
        assert schedule.rules == () and schedule.changes == ()
