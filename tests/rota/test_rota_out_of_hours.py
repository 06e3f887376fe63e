"""The automatic reply outside service hours: once per customer per closed period, never on the account's own posts."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from rota_kit import RotaBot, clock_of

from chatops.sources import Author, InboundMessage
from chatops.testing.bot import CallbackReceiver, TestBot
from chatops_plugins.rota import tables
from chatops_plugins.rota.config import RotaConfig

HOURS = {day: "08:00-18:00" for day in ("mon", "tue", "wed", "thu", "fri")}
# Tuesday 1 December 2026, 19:00 in Helsinki (UTC+2): closed until Wednesday 08:00.
TUESDAY_1900 = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)
EXPECTED = "Thank you for your message! We're here Mon–Fri 08:00–18:00 and will answer you tomorrow at 08:00."


async def settled(bot: TestBot) -> None:
    assert bot.app is not None
    await bot.app.events.drain()
    await bot.idle()


async def test_the_reply_goes_once_per_customer_per_closed_period_and_the_card_notes_it(
    rota_bot: RotaBot, callback: CallbackReceiver
) -> None:
    async with rota_bot(now=TUESDAY_1900, service_hours=HOURS, out_of_hours_reply=True) as bot:
        await bot.comment("Where is my parcel?", id="m-1", reply_url=callback.url)
        card = await bot.next_card()
        [reply] = await callback.wait_for(1)
        assert reply["text"] == EXPECTED
        await card.wait_for(lambda c: "Out-of-hours reply sent to the customer" in c.thread_text())
        # The same customer again, in a new conversation and in the same one: nothing more.
        await bot.comment("Hello??", id="m-2", reply_url=callback.url)
        await bot.comment("Still there?", id="m-3", thread_id="m-1", reply_url=callback.url)
        await settled(bot)
        assert len(callback.accepted) == 1
        # Another customer gets it.
        await bot.comment("Hi", id="o-1", reply_url=callback.url, author={"name": "Maija", "handle": "maija"})
        await callback.wait_for(2)
        # Wednesday during the day: open, no reply.
        clock_of(bot).set(TUESDAY_1900 + timedelta(hours=16))
        await bot.comment("Morning!", id="m-4", reply_url=callback.url)
        await settled(bot)
        assert len(callback.accepted) == 2
        # Wednesday night is the next closed period: Matti gets it again.
        clock_of(bot).set(TUESDAY_1900 + timedelta(days=1))
        await bot.comment("Evening!", id="m-5", reply_url=callback.url)
        await callback.wait_for(3)
        await settled(bot)
    assert len(callback.accepted) == 3


async def test_the_account_s_own_posts_get_no_reply(rota_bot: RotaBot, callback: CallbackReceiver) -> None:
    async with rota_bot(now=TUESDAY_1900 - timedelta(hours=3), service_hours=HOURS, out_of_hours_reply=True) as bot:
        # 16:00, open: a customer writes; no reply.
        await bot.comment("Question", id="q-1", reply_url=callback.url)
        await bot.next_card()
        await settled(bot)
        clock_of(bot).set(TUESDAY_1900)
        assert bot.app is not None
        echo = InboundMessage(
            source="webhook",
            external_id="shop-1",
            thread_id="q-1",
            text="We'll look into it tomorrow.",
            author=Author(name="The shop"),
            from_account=True,
        )
        assert (await bot.app.ingest(echo)).message_id is not None
        await settled(bot)
        async with bot.app.db.read() as session:
            claimed = (await session.execute(sa.select(tables.auto_replies))).all()
    assert callback.accepted == []
    assert claimed == []


async def test_a_reply_the_source_refuses_is_noted_on_the_card(rota_bot: RotaBot) -> None:
    async with rota_bot(now=TUESDAY_1900, service_hours=HOURS, out_of_hours_reply=True) as bot:
        await bot.comment("No way to answer me")
        card = await bot.next_card()
        await card.wait_for(lambda c: "The out-of-hours reply could not be sent:" in c.thread_text())


async def test_the_reply_is_off_unless_configured(rota_bot: RotaBot, callback: CallbackReceiver) -> None:
    async with rota_bot(now=TUESDAY_1900, service_hours=HOURS) as bot:
        await bot.comment("Hello", reply_url=callback.url)
        await bot.next_card()
        await settled(bot)
    assert callback.accepted == []


async def test_the_team_s_own_wording_in_finnish(rota_bot: RotaBot, callback: CallbackReceiver) -> None:
    async with rota_bot(
        language="fi",
        now=TUESDAY_1900,
        service_hours=HOURS,
        out_of_hours_reply=True,
        out_of_hours_text={"fi": "Olemme paikalla {hours}. Vastaamme {opens}. {{muuta}}"},
    ) as bot:
        await bot.comment("Hei", reply_url=callback.url)
        [reply] = await callback.wait_for(1)
    assert reply["text"] == "Olemme paikalla ma–pe 08:00–18:00. Vastaamme huomenna klo 08:00. {muuta}"


async def test_the_built_in_reply_in_polish_over_the_weekend(rota_bot: RotaBot, callback: CallbackReceiver) -> None:
    friday_night = datetime(2026, 12, 4, 20, 0, tzinfo=UTC)  # 21:00 in Warsaw
    hours = {**HOURS, "sat": "10:00-14:00", "holidays": ["2026-12-05"]}
    async with rota_bot(
        language="pl", timezone="Europe/Warsaw", now=friday_night, service_hours=hours, out_of_hours_reply=True
    ) as bot:
        await bot.comment("Dzień dobry", reply_url=callback.url)
        [reply] = await callback.wait_for(1)
    assert reply["text"] == (
        "Dziękujemy za wiadomość! Jesteśmy dostępni pon.–pt. 08:00–18:00, sob. 10:00–14:00 "
        "i odpowiemy w poniedziałek o 08:00."
    )


def test_response_time_counts_service_hours_only() -> None:
    """The digest's function: a comment at Friday 17:50 answered Monday 08:10 took 20 minutes of service time."""
    helsinki = ZoneInfo("Europe/Helsinki")
    hours = RotaConfig(service_hours={**HOURS, "holidays": ["2026-12-07"]}).hours(helsinki)
    asked = datetime(2026, 12, 4, 17, 50, tzinfo=helsinki)
    assert hours.service_seconds(asked, datetime(2026, 12, 8, 8, 10, tzinfo=helsinki)) == 20 * 60
    # Monday 7 December is a holiday here: answered that day at 10:00, still 10 minutes.
    assert hours.service_seconds(asked, datetime(2026, 12, 7, 10, 0, tzinfo=helsinki)) == 10 * 60
    # Without configured hours it is wall-clock time.
    assert RotaConfig().hours(helsinki).service_seconds(asked, asked + timedelta(hours=3)) == 3 * 3600
