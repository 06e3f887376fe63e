"""Hostile tests of what shifts cause: outages, retries, big backlogs, odd ids and clocks (both databases)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
import sqlalchemy as sa
from rota_kit import RotaBot, add_shift, clock_of, rota_of_bot
from shift_kit import gaps, handoffs, readable, tick, two_shifts

from chatops.db import DatabaseUnavailable
from chatops.models import Conversation
from chatops.testing.bot import CallbackReceiver, TestBot
from chatops.testing.outages import write_lock_held_elsewhere
from chatops_plugins.rota import handoff, records

HOURS = {day: "08:00-18:00" for day in ("mon", "tue", "wed", "thu", "fri")}
# Tuesday 1 December 2026 in Helsinki (UTC+2): 16:00 local is 14:00 UTC.
TUESDAY_1600 = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
# Tuesday 18:00 and Wednesday 08:00 in Helsinki: the closing and the opening minute.
TUESDAY_CLOSING = datetime(2026, 12, 1, 16, 0, tzinfo=UTC)
WEDNESDAY_OPENING = datetime(2026, 12, 2, 6, 0, tzinfo=UTC)


async def settled(bot: TestBot) -> None:
    """Every plugin has heard of what came in, and the outbox is empty."""
    assert bot.app is not None
    await bot.app.events.drain()
    await bot.idle()


async def test_a_tick_during_a_database_outage_fails_and_the_next_posts_the_hand_off_once(
    rota_bot: RotaBot, database_url: str
) -> None:
    async with rota_bot(now=TUESDAY_1600 - timedelta(hours=1)) as bot:
        await two_shifts(bot)
        clock_of(bot).set(TUESDAY_1600)
        async with write_lock_held_elsewhere(database_url):
            # The scheduler logs the failure and tries the minute again; nothing is half claimed.
            with pytest.raises(DatabaseUnavailable):
                await asyncio.wait_for(handoff.tick(rota_of_bot(bot)), 60)
        clock_of(bot).advance(minutes=1)
        await tick(bot)
        await tick(bot)
        [message] = handoffs(bot)
        assert "Posted late" not in readable(message)


async def test_a_hand_off_whose_post_fails_is_retried_and_posted_once(rota_bot: RotaBot) -> None:
    async with rota_bot(now=TUESDAY_1600 - timedelta(hours=1)) as bot:
        await two_shifts(bot)
        clock_of(bot).set(TUESDAY_1600)
        bot.slack.fail_next("chat.postMessage", status=500)
        bot.slack.lose_answers("chat.postMessage", how="drop", times=1)
        await tick(bot)
        await bot.idle(timeout=30)
        await tick(bot)
        assert len(handoffs(bot)) == 1


async def _open_conversations(bot: TestBot, count: int, start: datetime) -> None:
    """``count`` open, unclaimed, answered cards, one a minute from ``start`` (a backlog nobody cleared)."""
    assert bot.app is not None
    async with bot.app.db.write() as session:
        await session.execute(
            sa.insert(Conversation),
            [
                {
                    "source": "webhook",
                    "thread_id": f"old-{i}",
                    "status": "replied",
                    "first_response_at": start + timedelta(minutes=i, seconds=30),
                    "slack_channel": "CINBOX",
                    "slack_ts": f"1700000000.{i:06d}",
                    "created_at": start + timedelta(minutes=i),
                }
                for i in range(count)
            ],
        )


async def test_a_hand_off_over_a_backlog_of_600_cards_still_lists_the_new_escalation_and_counts_them_all(
    rota_bot: RotaBot,
) -> None:
    async with rota_bot(now=TUESDAY_1600 - timedelta(hours=1), handoff_list_limit=3) as bot:
        await two_shifts(bot)
        await _open_conversations(bot, 600, TUESDAY_1600 - timedelta(days=30))
        jari = bot.person("Jari")
        await bot.comment("I want to speak to a manager", id="angry", thread_id="angry")
        card = await bot.next_card()
        view = await bot.open_modal(jari, card, "escalate")
        await bot.submit(jari, view, {"reason": {"reason": "angry"}})
        await bot.idle()
        clock_of(bot).set(TUESDAY_1600)
        await tick(bot)
        [message] = handoffs(bot)
        text = readable(message)
        assert "Escalated and still open (1)" in text
        assert "*Open cards nobody has taken (600):*" in text
        assert "…and 597 more" in text
        assert len(message["blocks"]) <= 50


async def test_the_near_deadline_section_counts_in_service_hours_beyond_the_backlog(rota_bot: RotaBot) -> None:
    async with rota_bot(
        now=TUESDAY_1600 - timedelta(hours=1),
        service_hours=HOURS,
        handoff_list_limit=2,
        response_target_minutes=60,
        near_deadline_minutes=10,
    ) as bot:
        await two_shifts(bot)
        await _open_conversations(bot, 600, TUESDAY_1600 - timedelta(days=30))
        assert bot.app is not None
        async with bot.app.db.write() as session:
            # Unanswered: 55 min of service time ago (near), 5 min ago (not), and one that came in last
            # night at 23:00 (only 8 hours of service time have passed since: past the target).
            for name, created in (
                ("near", TUESDAY_1600 - timedelta(minutes=55)),
                ("fresh", TUESDAY_1600 - timedelta(minutes=5)),
                ("night", datetime(2026, 11, 30, 21, 0, tzinfo=UTC)),
            ):
                await session.execute(
                    sa.insert(Conversation).values(
                        source="webhook",
                        thread_id=name,
                        status="new",
                        slack_channel="CINBOX",
                        slack_ts=f"1800000000.{len(name):06d}",
                        created_at=created,
                    )
                )
        clock_of(bot).set(TUESDAY_1600)
        await tick(bot)
        [message] = handoffs(bot)
        text = readable(message)
        assert "response target (2):" in text
        assert "420 min past the target" in text
        assert "5 min left" in text
        assert "*Open cards nobody has taken (601):*" in text


async def test_an_on_shift_id_the_core_refuses_to_assign_leaves_the_card_unowned_and_still_answers_out_of_hours(
    rota_bot: RotaBot, callback: CallbackReceiver
) -> None:
    evening = datetime(2026, 12, 1, 17, 0, tzinfo=UTC)  # Tuesday 19:00 in Helsinki: closed, Anna on shift
    async with rota_bot(now=evening, service_hours=HOURS, out_of_hours_reply=True, assign="round_robin") as bot:
        await add_shift(bot, "mon-fri", "18:00-22:00", "UA")
        await bot.comment("Hello?", reply_url=callback.url, author={"id": "42", "name": "Matti"})
        card = await bot.next_card()
        [reply] = await callback.wait_for(1)
        assert "will answer you tomorrow at 08:00" in reply["text"]
        await settled(bot)
        assert bot.app is not None
        async with bot.app.db.read() as session:
            owner = await session.scalar(
                sa.select(Conversation.assignee).where(Conversation.id == card.conversation_id)
            )
        assert owner is None


async def test_a_customer_with_no_author_at_all_gets_one_reply_per_thread(
    rota_bot: RotaBot, callback: CallbackReceiver
) -> None:
    async with rota_bot(now=TUESDAY_CLOSING + timedelta(hours=2), service_hours=HOURS, out_of_hours_reply=True) as bot:
        await bot.comment("First", id="a-1", thread_id="t-1", author={}, reply_url=callback.url)
        await bot.comment("Again", id="a-2", thread_id="t-1", author={}, reply_url=callback.url)
        await bot.comment("Someone else", id="b-1", thread_id="t-2", author={}, reply_url=callback.url)
        await callback.wait_for(2)
        await settled(bot)
    assert len(callback.accepted) == 2


@pytest.mark.parametrize(
    ("at", "replied"),
    [
        (TUESDAY_CLOSING - timedelta(microseconds=1), False),
        (TUESDAY_CLOSING, True),
        (WEDNESDAY_OPENING - timedelta(microseconds=1), True),
        (WEDNESDAY_OPENING, False),
    ],
)
async def test_the_closing_minute_is_closed_and_the_opening_minute_open(
    rota_bot: RotaBot, callback: CallbackReceiver, at: datetime, replied: bool
) -> None:
    async with rota_bot(now=at, service_hours=HOURS, out_of_hours_reply=True) as bot:
        await bot.comment("Hi", reply_url=callback.url)
        await bot.next_card()
        await settled(bot)
    assert len(callback.accepted) == (1 if replied else 0)


async def test_a_holiday_is_closed_all_day_with_no_gap_notice(rota_bot: RotaBot, callback: CallbackReceiver) -> None:
    hours = {**HOURS, "holidays": ["2026-12-01"]}
    async with rota_bot(now=TUESDAY_1600, service_hours=hours, out_of_hours_reply=True) as bot:
        await add_shift(bot, "mon", "08:00-18:00", "UANNA")
        await tick(bot)
        await bot.comment("Hi", reply_url=callback.url)
        [reply] = await callback.wait_for(1)
        await settled(bot)
        assert gaps(bot) == []
    assert "will answer you tomorrow at 08:00" in reply["text"]


async def test_a_rota_with_nobody_ever_on_shift_tells_the_leads_once_a_day_and_posts_no_hand_off(
    rota_bot: RotaBot,
) -> None:
    async with rota_bot(now=datetime(2026, 12, 1, 6, 0, tzinfo=UTC), service_hours=HOURS, assign="least_loaded") as bot:
        for _minute in range(5):
            await tick(bot)
            clock_of(bot).advance(minutes=1)
        await bot.comment("Anyone?")
        card = await bot.next_card()
        assert "Nobody is on shift" in card.text
        clock_of(bot).set(datetime(2026, 12, 2, 6, 0, tzinfo=UTC))
        await tick(bot)
        await tick(bot)
        assert handoffs(bot) == []
        assert [("<@ULENA>" in readable(m)) for m in gaps(bot)] == [True, True]


async def test_a_clock_jumping_back_over_a_change_posts_no_second_hand_off(rota_bot: RotaBot) -> None:
    async with rota_bot(now=TUESDAY_1600 - timedelta(hours=1)) as bot:
        await two_shifts(bot)
        clock_of(bot).set(TUESDAY_1600 + timedelta(minutes=3))
        await tick(bot)
        clock_of(bot).set(TUESDAY_1600 - timedelta(minutes=30))
        await tick(bot)
        clock_of(bot).set(TUESDAY_1600)
        await tick(bot)
        assert len(handoffs(bot)) == 1


async def test_replicas_whose_clocks_differ_by_seconds_post_one_hand_off_on_time(rota_bot: RotaBot) -> None:
    async with (
        rota_bot(instance_id="a", now=TUESDAY_1600 - timedelta(hours=1)) as one,
        rota_bot(instance_id="b", now=TUESDAY_1600 - timedelta(hours=1)) as two,
    ):
        await two_shifts(one)
        clock_of(one).set(TUESDAY_1600 + timedelta(seconds=3))
        clock_of(two).set(TUESDAY_1600 - timedelta(seconds=4))
        await asyncio.gather(handoff.tick(rota_of_bot(one)), handoff.tick(rota_of_bot(two)))
        clock_of(two).set(TUESDAY_1600 + timedelta(seconds=56))
        await asyncio.gather(handoff.tick(rota_of_bot(one)), handoff.tick(rota_of_bot(two)))
        await one.idle()
        await two.idle()
        [message] = handoffs(one)
        assert "Posted late" not in readable(message)


@pytest.mark.parametrize(
    ("language", "expected"),
    [
        ("en", "will answer you on Thursday (2027-01-07) at 08:00."),
        ("fi", "vastaamme sinulle torstaina 7.1.2027 klo 08:00."),
        ("pl", "i odpowiemy w czwartek 7.01.2027 o 08:00."),
    ],
)
async def test_after_a_long_holiday_the_reply_names_the_date_not_just_a_weekday(
    rota_bot: RotaBot, callback: CallbackReceiver, language: str, expected: str
) -> None:
    # Closed from Christmas Eve to Epiphany: "on Thursday" alone would mean 31 December.
    holidays = [f"2026-12-{d}" for d in range(24, 32)] + [f"2027-01-0{d}" for d in range(1, 7)]
    christmas_eve = datetime(2026, 12, 24, 10, 0, tzinfo=UTC)
    async with rota_bot(
        language=language,
        now=christmas_eve,
        service_hours={**HOURS, "holidays": holidays},
        out_of_hours_reply=True,
    ) as bot:
        await bot.comment("Hyvää joulua", reply_url=callback.url)
        [reply] = await callback.wait_for(1)
    assert reply["text"].endswith(expected)


async def test_removing_the_shift_that_ended_before_a_gap_does_not_tell_the_leads_of_it_again(
    rota_bot: RotaBot,
) -> None:
    tuesday_1200 = datetime(2026, 12, 1, 10, 0, tzinfo=UTC)
    async with rota_bot(now=tuesday_1200 - timedelta(days=2), service_hours=HOURS) as bot:
        morning = await add_shift(bot, "mon-fri", "08:00-12:00", "UANNA")
        clock_of(bot).set(tuesday_1200)
        await tick(bot)
        assert len(gaps(bot)) == 1
        # The lead tidies the rota during the gap: the gap now seems to start at 08:00, but it is the same gap.
        clock_of(bot).advance(minutes=30)
        rota = rota_of_bot(bot)
        async with rota.ctx.db.write() as session:
            await records.remove_shift(session, morning, "ULENA", rota.now())
        rota.invalidate()
        await tick(bot)
        clock_of(bot).advance(minutes=1)
        await tick(bot)
        assert len(gaps(bot)) == 1
        # The next day's gap is a new one.
        clock_of(bot).set(tuesday_1200 + timedelta(days=1))
        await tick(bot)
        assert len(gaps(bot)) == 2
