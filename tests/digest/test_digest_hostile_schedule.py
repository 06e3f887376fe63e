"""Hostile scheduling: what real clocks and real configs do to the minute job (both databases).

The job is driven by hand (:func:`tick`) at clock readings a real scheduler produces: a few
hundred milliseconds after the minute, a clock that NTP steps back across the due time, a
daily time that the autumn DST change makes happen twice.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from digest_kit import MANAGERS, Data, DigestBot, clock_of, digests_of_bot

from chatops.testing.bot import TestBot
from chatops_plugins.digest import schedule, tables

#: Tuesday 1 December 2026, 08:00 in Helsinki (UTC+2).
TUESDAY_0800 = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


def digests(bot: TestBot) -> list[dict[str, Any]]:
    """The digests posted to the managers' channel (not the chart messages)."""
    return [m for m in bot.slack.top_level_messages(MANAGERS) if not m.get("upload")]


async def tick(bot: TestBot) -> list[Any]:
    """One run of the minute job at the bot's clock, and its posts sent."""
    claimed = await schedule.tick(digests_of_bot(bot))
    await bot.idle()
    return claimed


async def runs(bot: TestBot) -> list[tuple[str, datetime]]:
    assert bot.app is not None
    async with bot.app.db.read() as session:
        found = await session.execute(
            sa.select(tables.runs.c.kind, tables.runs.c.due_at).order_by(tables.runs.c.due_at)
        )
        return [(kind, at) for kind, at in found]


async def a_conversation_on_monday(bot: TestBot) -> None:
    assert bot.app is not None
    await Data(bot.app.db).conversation(datetime(2026, 11, 30, 9, 0, tzinfo=UTC))


async def test_grace_zero_still_posts_the_digest_a_scheduler_runs_a_moment_after_its_minute(
    digest_bot: DigestBot,
) -> None:
    """``grace_hours = 0`` (allowed: "post no missed digest") must not mean "post none at all".

    APScheduler fires the 08:00 run at 08:00:00 plus its latency; the clock the tick reads
    is a few hundred milliseconds past the due instant, which a zero grace already refuses.
    """
    async with digest_bot(now=TUESDAY_0800 - timedelta(hours=1), grace_hours=0, weekly_on="") as bot:
        await a_conversation_on_monday(bot)
        clock_of(bot).set(TUESDAY_0800 + timedelta(milliseconds=250))
        await tick(bot)
        clock_of(bot).set(TUESDAY_0800 + timedelta(seconds=59))
        await tick(bot)
        assert len(digests(bot)) == 1, "a zero grace never posts the on-time digest"


async def test_a_clock_stepped_back_across_the_due_time_posts_nothing_twice(digest_bot: DigestBot) -> None:
    """NTP steps the clock back from 08:02 to 07:55 and it runs forward again: one digest, one run row."""
    async with digest_bot(now=TUESDAY_0800 - timedelta(hours=1), weekly_on="") as bot:
        await a_conversation_on_monday(bot)
        clock = clock_of(bot)
        clock.set(TUESDAY_0800 + timedelta(minutes=2))
        await tick(bot)
        clock.set(TUESDAY_0800 - timedelta(minutes=5))
        for _ in range(10):
            await tick(bot)
            clock.advance(minutes=1)
        # And a jump far forward, past tomorrow's 08:00, then back again.
        clock.set(TUESDAY_0800 + timedelta(days=1, minutes=1))
        await tick(bot)
        clock.set(TUESDAY_0800 + timedelta(hours=3))
        await tick(bot)
        assert len(digests(bot)) == 2, "Tuesday's and Wednesday's, each once"
        assert [kind for kind, _at in await runs(bot)] == ["daily", "daily"]


async def test_a_daily_time_that_the_autumn_change_repeats_is_posted_once(digest_bot: DigestBot) -> None:
    """Helsinki, Sunday 25 October 2026: 03:30 happens twice (04:00 EEST becomes 03:00 EET)."""
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 03:30 EEST
    second = first + timedelta(hours=1)  # 03:30 EET
    async with digest_bot(now=first - timedelta(hours=2), daily_at="03:30", weekly_on="") as bot:
        assert bot.app is not None
        await Data(bot.app.db).conversation(datetime(2026, 10, 24, 9, 0, tzinfo=UTC))
        clock = clock_of(bot)
        for at in (first, first + timedelta(minutes=1), second, second + timedelta(minutes=1)):
            clock.set(at)
            await tick(bot)
        assert len(digests(bot)) == 1
        assert await runs(bot) == [("daily", first)]


async def test_the_weekly_day_started_after_its_time_posts_both_once(digest_bot: DigestBot) -> None:
    """The bot starts on Monday at 10:00 (weekly_on = mon, due 08:00): daily and weekly, each once, late."""
    monday_1000 = datetime(2026, 11, 30, 8, 0, tzinfo=UTC)
    async with digest_bot(now=monday_1000 - timedelta(minutes=1), weekly_on="mon") as bot:
        assert bot.app is not None
        await Data(bot.app.db).conversation(datetime(2026, 11, 27, 9, 0, tzinfo=UTC))
        clock = clock_of(bot)
        clock.set(monday_1000)
        for _ in range(3):
            await tick(bot)
            clock.advance(minutes=1)
        posted = digests(bot)
        assert len(posted) == 2
        assert sorted(kind for kind, _at in await runs(bot)) == ["daily", "weekly"]
        assert all("late" in (m.get("text", "") + str(m.get("blocks"))).lower() for m in posted)
