"""Nobody on shift within service hours: the leads are told once per gap, not per comment."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rota_kit import RotaBot, add_shift, clock_of
from shift_kit import gaps, handoffs, readable, tick

HOURS = {day: "08:00-18:00" for day in ("mon", "tue", "wed", "thu", "fri")}
# Tuesday 1 December 2026, Helsinki (UTC+2).
TUESDAY_1200 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)


async def test_the_leads_are_told_once_per_gap(rota_bot: RotaBot) -> None:
    async with rota_bot(now=TUESDAY_1200, service_hours=HOURS, leads=["ULENA", "SLEADS"]) as bot:
        bot.person("Anna")
        await add_shift(bot, "mon-fri", "08:00-12:00", "UANNA")
        await tick(bot)
        [notice] = gaps(bot)
        assert notice["text"].startswith("<@ULENA>, <!subteam^SLEADS>: ⚠️ Nobody is on shift")
        assert "(since 12:00)" in readable(notice)
        # Comments and later minutes in the same gap say nothing more.
        await bot.comment("Hello?")
        await bot.next_card()
        for minutes in (1, 5, 60, 300):
            clock_of(bot).set(TUESDAY_1200 + timedelta(minutes=minutes))
            await tick(bot)
        assert len(gaps(bot)) == 1
        # 18:00 closes the team: no gap at night.
        clock_of(bot).set(TUESDAY_1200 + timedelta(hours=8))
        await tick(bot)
        assert len(gaps(bot)) == 1
        # Wednesday after Anna's shift: a new gap, told again.
        clock_of(bot).set(TUESDAY_1200 + timedelta(days=1))
        await tick(bot)
        assert len(gaps(bot)) == 2


async def test_a_gap_from_the_opening_is_dated_from_the_opening(rota_bot: RotaBot) -> None:
    # Nobody's shift starts before 10:00; the team opens at 08:00.
    async with rota_bot(now=TUESDAY_1200 - timedelta(hours=4, minutes=1), service_hours=HOURS) as bot:
        await add_shift(bot, "mon-fri", "10:00-18:00", "UANNA")
        await tick(bot)  # 07:59: closed
        assert gaps(bot) == []
        clock_of(bot).advance(minutes=5)
        await tick(bot)
        [notice] = gaps(bot)
        assert "(since 08:00)" in readable(notice)
        assert notice["text"].startswith("<@ULENA>: ")
        clock_of(bot).set(TUESDAY_1200)
        await tick(bot)
        assert len(gaps(bot)) == 1


async def test_without_service_hours_nobody_is_told_of_gaps(rota_bot: RotaBot) -> None:
    async with rota_bot(now=TUESDAY_1200) as bot:
        await add_shift(bot, "mon-fri", "08:00-12:00", "UANNA")
        await tick(bot)
        assert gaps(bot) == []


async def test_a_team_open_around_the_clock_with_nobody_ever_on_shift_is_told_once_a_day(rota_bot: RotaBot) -> None:
    always = {day: "00:00-24:00" for day in ("mon", "tue", "wed", "thu", "fri", "sat", "sun")}
    async with rota_bot(now=TUESDAY_1200, service_hours=always) as bot:
        for minutes in (0, 1, 2, 90):
            clock_of(bot).set(TUESDAY_1200 + timedelta(minutes=minutes))
            await tick(bot)
        assert len(gaps(bot)) == 1
        clock_of(bot).set(TUESDAY_1200 + timedelta(days=1))
        await tick(bot)
        assert len(gaps(bot)) == 2


async def test_a_catch_up_window_of_zero_still_posts_a_hand_off_on_time(rota_bot: RotaBot) -> None:
    async with rota_bot(now=TUESDAY_1200 + timedelta(seconds=40), handoff_catch_up_hours=0) as bot:
        await add_shift(bot, "mon-fri", "08:00-12:00", "UANNA")
        await tick(bot)
        assert len(handoffs(bot)) == 1
