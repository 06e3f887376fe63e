"""The hand-off at a shift change: once, with the right people and the open cards (both databases)."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa
from rota_kit import RotaBot, add_shift, clock_of, rota_of_bot
from shift_kit import handoffs, readable, tick, two_shifts

from chatops.models import Conversation
from chatops.testing.bot import Card
from chatops.testing.card_checks import assert_postable
from chatops_plugins.rota import records

# Tuesday 1 December 2026 in Helsinki (UTC+2): 16:00 local is 14:00 UTC.
TUESDAY_1600 = datetime(2026, 12, 1, 14, 0, tzinfo=UTC)
#: When the tests' rota is set up (the Sunday before, far from any change): later hand-offs are not its edits.
SET_UP = datetime(2026, 11, 29, 12, 0, tzinfo=UTC)


def permalink_path(card: Card) -> str:
    return f"archives/{card.channel}/p{card.ts.replace('.', '')}"


async def test_a_hand_off_is_posted_once_at_the_change_with_the_people_and_the_open_cards(rota_bot: RotaBot) -> None:
    async with rota_bot(now=TUESDAY_1600 - timedelta(minutes=1)) as bot:
        await two_shifts(bot)
        await bot.comment("Where is my parcel?", context={"text": "Order *1234* <!channel>"})
        card = await bot.next_card()
        # 15:59: the last change (08:00) is more than four hours old, nothing to hand off.
        await tick(bot)
        assert handoffs(bot) == []

        clock_of(bot).set(TUESDAY_1600)
        await tick(bot)
        await tick(bot)
        [message] = handoffs(bot)
        text = readable(message)
        assert "Shift change at 16:00" in text
        assert "On shift now: <@UJARI>, until 22:00." in text
        assert "<@UJARI>" in message["text"], "the arriving person is mentioned in the notification text"
        assert "Leaving: Anna. Thank you!" in text
        assert "<@UANNA>" not in text, "who leaves is named, not pinged"
        assert permalink_path(card) in text
        assert "Order *1234* &lt;!channel&gt;" in text and "<!channel>" not in text
        assert "nobody has taken it" in text
        assert "Posted late" not in text

        clock_of(bot).advance(minutes=1)
        await tick(bot)
        assert len(handoffs(bot)) == 1


async def test_the_hand_off_lists_escalated_near_deadline_and_unclaimed_cards_within_the_limit(
    rota_bot: RotaBot,
) -> None:
    async with rota_bot(
        now=TUESDAY_1600, handoff_list_limit=1, response_target_minutes=60, near_deadline_minutes=15
    ) as bot:
        # The minute job runs for real in the background: the rota comes last, so whichever run
        # hands off at 16:00 sees the cards as the test left them.
        jari = bot.person("Jari")
        cards = []
        for i in range(5):
            await bot.comment(f"Question {i}", id=f"q-{i}", thread_id=f"q-{i}")
            cards.append(await bot.next_card())
        escalate_view = await bot.open_modal(jari, cards[0], "escalate")
        await bot.submit(jari, escalate_view, {"reason": {"reason": "angry"}})
        await bot.click(jari, cards[1], "claim")
        await bot.idle()
        assert bot.app is not None
        async with bot.app.db.write() as session:
            ages = {cards[1]: 50, cards[2]: 90, cards[3]: 5, cards[4]: 5}
            for card, minutes in ages.items():
                await session.execute(
                    sa.update(Conversation)
                    .where(Conversation.id == card.conversation_id)
                    .values(created_at=TUESDAY_1600 - timedelta(minutes=minutes))
                )
        await two_shifts(bot)
        await tick(bot)
        [message] = handoffs(bot)
        text = readable(message)
    assert "Escalated and still open (1):" in text
    assert permalink_path(cards[0]) in text
    # Two near or past the 60-minute target: the one 90 minutes old first (oldest first), limit 1.
    assert "Unanswered, near or past the 60-minute response target (2):" in text
    assert permalink_path(cards[2]) in text and "30 min past the target · nobody has taken it" in text
    assert permalink_path(cards[1]) not in text
    assert "…and 1 more" in text
    assert "Open cards nobody has taken (2):" in text
    assert permalink_path(cards[3]) in text and permalink_path(cards[4]) not in text
    assert "Nothing open" not in text


async def test_a_hand_off_with_nothing_open_says_so(rota_bot: RotaBot) -> None:
    async with rota_bot(now=TUESDAY_1600) as bot:
        await two_shifts(bot)
        await tick(bot)
        [message] = handoffs(bot)
    assert "Nothing open: no unclaimed, escalated or overdue cards." in readable(message)


async def test_a_hand_off_missed_while_the_bot_was_down_is_posted_once_and_marked_late(rota_bot: RotaBot) -> None:
    async with rota_bot(now=SET_UP) as bot:
        await two_shifts(bot)
        clock_of(bot).set(TUESDAY_1600 + timedelta(minutes=30))
        await tick(bot)
        clock_of(bot).advance(minutes=1)
        await tick(bot)
        [message] = handoffs(bot)
    text = readable(message)
    assert "Shift change at 16:00" in text
    assert "Posted late: the shift changed 30 minutes ago" in text


async def test_a_hand_off_a_minute_late_is_not_called_late(rota_bot: RotaBot) -> None:
    async with rota_bot(now=TUESDAY_1600 + timedelta(minutes=1, seconds=30)) as bot:
        await two_shifts(bot)
        await tick(bot)
        [message] = handoffs(bot)
    assert "Posted late" not in readable(message)


async def test_a_missed_hand_off_superseded_by_a_later_change_is_not_posted(rota_bot: RotaBot) -> None:
    # Down from before 08:00 to 12:30: only the latest change (12:00) is handed off.
    async with rota_bot(now=SET_UP) as bot:
        bot.person("Anna")
        await add_shift(bot, "mon-fri", "08:00-12:00", "UANNA")
        await add_shift(bot, "mon-fri", "12:00-16:00", "UJARI")
        clock_of(bot).set(datetime(2026, 12, 1, 10, 30, tzinfo=UTC))
        await tick(bot)
        [message] = handoffs(bot)
    text = readable(message)
    assert "Shift change at 12:00" in text
    assert "On shift now: <@UJARI>, until 16:00." in text
    assert "Leaving: Anna." in text


async def test_a_hand_off_older_than_the_catch_up_window_is_not_posted(rota_bot: RotaBot) -> None:
    async with rota_bot(now=SET_UP) as bot:
        bot.person("Anna")
        await add_shift(bot, "mon-fri", "08:00-16:00", "UANNA")
        clock_of(bot).set(TUESDAY_1600 + timedelta(hours=4, minutes=1))
        await tick(bot)
        assert handoffs(bot) == []
        # Within a longer window it would have been posted.
    async with rota_bot(now=TUESDAY_1600 + timedelta(hours=4, minutes=1), handoff_catch_up_hours=5) as bot:
        await tick(bot)
        [message] = handoffs(bot)
    assert "Nobody is on shift now." in readable(message)


async def test_the_end_of_the_last_shift_hands_off_to_nobody(rota_bot: RotaBot) -> None:
    async with rota_bot(now=TUESDAY_1600 + timedelta(hours=6)) as bot:
        await two_shifts(bot)
        await tick(bot)
        [message] = handoffs(bot)
    text = readable(message)
    assert "Shift change at 22:00" in text and "Nobody is on shift now." in text and "Leaving: Jari." in text


async def test_a_shift_added_after_it_began_gets_no_late_hand_off(rota_bot: RotaBot) -> None:
    # At 09:00 a lead adds today's 08:00-16:00 shift: the confirmation of the edit says so, not a hand-off.
    async with rota_bot(now=TUESDAY_1600 - timedelta(hours=7)) as bot:
        bot.person("Anna")
        await add_shift(bot, "mon-fri", "08:00-16:00", "UANNA")
        await tick(bot)
        assert handoffs(bot) == []
        # Its end, and the next day's start, are handed off as usual.
        clock_of(bot).set(TUESDAY_1600)
        await tick(bot)
        clock_of(bot).set(TUESDAY_1600 + timedelta(hours=16))
        await tick(bot)
        assert [readable(m).splitlines()[0] for m in handoffs(bot)] == [
            "🔄 *Shift change at 16:00*",
            "🔄 *Shift change at 08:00*",
        ]


async def test_hand_offs_follow_covers_and_swaps(rota_bot: RotaBot) -> None:
    async with rota_bot(now=SET_UP) as bot:
        for name in ("Anna", "Jari", "Mika"):
            bot.person(name)
        await two_shifts(bot)
        rota = rota_of_bot(bot)
        async with rota.ctx.db.write() as session:
            # Anna goes home sick at 12:00 on Tuesday; Mika takes the rest of her shift.
            await records.add_cover(
                session,
                "UANNA",
                "UMIKA",
                TUESDAY_1600 - timedelta(hours=4),
                TUESDAY_1600,
                whole_shifts=False,
                by="ULENA",
                at=SET_UP,
            )
            # Wednesday, Anna and Jari swap.
            await records.add_swap(session, "UANNA", "UJARI", date(2026, 12, 2), by="ULENA", at=SET_UP)
        rota.invalidate()
        for at in (TUESDAY_1600 - timedelta(hours=4), TUESDAY_1600, TUESDAY_1600 + timedelta(hours=16)):
            clock_of(bot).set(at)
            await tick(bot)
        texts = [readable(m) for m in handoffs(bot)]
    assert len(texts) == 3
    assert "Shift change at 12:00" in texts[0]
    assert "On shift now: <@UMIKA>, until 16:00." in texts[0] and "Leaving: Anna." in texts[0]
    assert "On shift now: <@UJARI>, until 22:00." in texts[1] and "Leaving: Mika." in texts[1]
    # Wednesday 08:00: Jari has Anna's morning shift; nobody was on before it, so nobody leaves.
    assert "Shift change at 08:00" in texts[2] and "On shift now: <@UJARI>, until 16:00." in texts[2]
    assert "Leaving" not in texts[2]


async def test_long_customer_text_in_a_hand_off_is_cut(rota_bot: RotaBot) -> None:
    async with rota_bot(now=TUESDAY_1600) as bot:
        # The card first: a background run of the minute job after the rota must see it.
        await bot.comment("Hi", context={"text": "<@UBOSS> " + "very long product name " * 20})
        await bot.next_card()
        await two_shifts(bot)
        await tick(bot)
        [message] = handoffs(bot)
    text = readable(message)
    assert "&lt;@UBOSS&gt; very long product name" in text and "<@UBOSS>" not in text
    assert "very long product name " * 5 not in text and "…" in text


async def test_a_long_hand_off_is_split_into_sections_slack_takes(rota_bot: RotaBot) -> None:
    async with rota_bot(now=SET_UP, handoff_list_limit=40) as bot:
        await two_shifts(bot)
        for i in range(41):
            await bot.comment(f"Question {i}", id=f"q-{i}", thread_id=f"q-{i}", context={"text": "x" * 200})
        await bot.idle()
        clock_of(bot).set(TUESDAY_1600)
        await tick(bot)
        [message] = handoffs(bot)
    assert_postable(message)
    text = readable(message)
    assert text.count("archives/") == 40
    assert "…and 1 more" in text


async def test_who_stays_on_is_named_but_only_newcomers_are_pinged(rota_bot: RotaBot) -> None:
    async with rota_bot(now=SET_UP) as bot:
        bot.person("Anna")
        bot.person("Jari")
        await add_shift(bot, "daily", "08:00-20:00", "UANNA")
        await add_shift(bot, "daily", "16:00-22:00", "UJARI")
        clock_of(bot).set(TUESDAY_1600)
        await tick(bot)
        [message] = handoffs(bot)
        text = readable(message)
        assert "On shift now: <@UJARI>, Anna, until 20:00." in text
        assert "<@UANNA>" not in text and "<@UANNA>" not in message["text"]
        assert "Leaving" not in text
