"""Two replicas on one database tick at the same moment: one hand-off, one gap notice (on PostgreSQL a real race)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from rota_kit import RotaBot, add_shift, clock_of, rota_of_bot
from shift_kit import gaps, handoffs

from chatops_plugins.rota import handoff

HOURS = {day: "08:00-18:00" for day in ("mon", "tue", "wed", "thu", "fri")}


async def test_two_replicas_ticking_together_post_one_hand_off_and_one_gap_notice(rota_bot: RotaBot) -> None:
    start = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)  # Tuesday 08:00 in Helsinki
    async with (
        rota_bot(instance_id="a", now=start, service_hours=HOURS) as one,
        rota_bot(instance_id="b", now=start, service_hours=HOURS) as two,
    ):
        one.person("Anna")
        await add_shift(one, "mon-fri", "08:00-12:00", "UANNA")
        rotas = [rota_of_bot(one), rota_of_bot(two)]
        # Each replica twice at once, at the start and at the end of Anna's shift (a gap follows).
        for at in (start, start + timedelta(hours=4)):
            for bot in (one, two):
                clock_of(bot).set(at)
            await asyncio.gather(*(handoff.tick(rota) for rota in rotas + rotas))
            await one.idle()
            await two.idle()
        assert len(handoffs(one)) == 2
        assert len(gaps(one)) == 1
