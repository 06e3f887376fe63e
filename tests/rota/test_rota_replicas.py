"""Replicas on one database racing: one hand-off, one gap notice, one out-of-hours reply (on PostgreSQL a real race)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from rota_kit import RotaBot, add_shift, clock_of, rota_of_bot
from shift_kit import gaps, handoffs

from chatops.sources import Author, InboundMessage
from chatops.testing.bot import CallbackReceiver
from chatops_plugins.rota import handoff, out_of_hours

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


async def test_two_replicas_answering_the_same_customer_at_once_send_one_out_of_hours_reply(
    rota_bot: RotaBot, callback: CallbackReceiver
) -> None:
    open_at = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)  # Tuesday 12:00 in Helsinki
    settings = {"service_hours": HOURS, "out_of_hours_reply": True}
    async with (
        rota_bot(instance_id="a", now=open_at, **settings) as one,
        rota_bot(instance_id="b", now=open_at, **settings) as two,
    ):
        await one.comment("Question", id="q-1", reply_url=callback.url, author={"id": "42", "name": "Matti"})
        card = await one.next_card()
        assert one.app is not None
        await one.app.events.drain()
        for bot in (one, two):
            clock_of(bot).set(open_at + timedelta(hours=10))
        message = InboundMessage(
            source="webhook", external_id="q-2", thread_id="q-1", text="Hello?", author=Author(id="42", name="Matti")
        )
        sent = await asyncio.gather(
            *(out_of_hours.maybe_reply(rota_of_bot(bot), message, card.conversation_id) for bot in (one, two, one, two))
        )
        await callback.wait_for(1)
        await one.idle()
    assert sorted(sent) == [False, False, False, True]
    assert len(callback.accepted) == 1
