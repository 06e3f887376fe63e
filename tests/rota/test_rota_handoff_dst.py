"""Hand-offs on the nights the clocks change: a shift at 02:30 in Warsaw is handed off at the right instant, once."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from rota_kit import RotaBot, add_shift, clock_of, rota_of_bot
from shift_kit import handoffs, readable, tick

from chatops_plugins.rota import handoff

WARSAW = "Europe/Warsaw"


def fire_times(bot_jobs: list[handoff.Job], start: datetime, end: datetime) -> list[datetime]:
    """When the minute job fires in ``[start, end)``, in UTC."""
    [job] = bot_jobs
    found: list[datetime] = []
    previous = None
    at = start
    while True:
        nxt = job.trigger.get_next_fire_time(previous, at)
        assert nxt is None or not found or nxt > found[-1], "the job's trigger went back in time"
        if nxt is None or nxt >= end:
            return found
        found.append(nxt.astimezone(UTC))
        # In UTC: wall-clock arithmetic on the second 02:30 would lose its fold and go back an hour.
        previous, at = nxt, nxt.astimezone(UTC) + timedelta(seconds=1)


async def test_a_shift_at_0230_on_the_night_the_clocks_go_forward_is_handed_off_at_0330(rota_bot: RotaBot) -> None:
    # 2027-03-28: 02:00 CET becomes 03:00 CEST; 02:30 does not exist, the shift starts 03:30 (01:30 UTC).
    start = datetime(2027, 3, 28, 1, 30, tzinfo=UTC)
    async with rota_bot(timezone=WARSAW, now=start - timedelta(minutes=1)) as bot:
        bot.person("Anna")
        await add_shift(bot, "sun", "02:30-06:00", "UANNA")
        jobs = handoff.jobs(rota_of_bot(bot))
        assert start in fire_times(jobs, start - timedelta(minutes=5), start + timedelta(minutes=5))
        await tick(bot)
        assert handoffs(bot) == []
        clock_of(bot).set(start)
        await tick(bot)
        for _ in range(3):
            clock_of(bot).advance(minutes=30)
            await tick(bot)
        [message] = handoffs(bot)
    text = readable(message)
    assert "Shift change at 03:30" in text
    assert "On shift now: <@UANNA>, until 06:00." in text
    assert "Posted late" not in text


async def test_a_shift_at_0230_on_the_night_the_clocks_go_back_is_handed_off_at_the_first_0230(
    rota_bot: RotaBot,
) -> None:
    # 2026-10-25: 03:00 CEST becomes 02:00 CET; 02:30 happens twice, the shift starts at the first (00:30 UTC).
    first = datetime(2026, 10, 25, 0, 30, tzinfo=UTC)
    async with rota_bot(timezone=WARSAW, now=first - timedelta(minutes=1)) as bot:
        bot.person("Anna")
        await add_shift(bot, "sun", "02:30-06:00", "UANNA")
        jobs = handoff.jobs(rota_of_bot(bot))
        # The minute job runs through both 02:30s (the cron trigger keeps firing every minute).
        fired = fire_times(jobs, first - timedelta(minutes=1), first + timedelta(hours=1, minutes=2))
        assert first in fired and first + timedelta(hours=1) in fired
        await tick(bot)
        assert handoffs(bot) == []
        clock_of(bot).set(first)
        await tick(bot)
        # The second 02:30 (01:30 UTC) is no new change.
        clock_of(bot).set(first + timedelta(hours=1))
        await tick(bot)
        [message] = handoffs(bot)
        text = readable(message)
        assert "Shift change at 02:30" in text
        assert "On shift now: <@UANNA>, until 06:00." in text
        # The shift ends at 06:00 CET, 05:00 UTC: one more hand-off, then.
        clock_of(bot).set(datetime(2026, 10, 25, 5, 0, tzinfo=UTC))
        await tick(bot)
        assert len(handoffs(bot)) == 2
        assert "Shift change at 06:00" in readable(handoffs(bot)[1])
