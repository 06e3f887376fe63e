"""New cards: who is on shift is shown and mentioned; assignment round-robin or to the least loaded (both databases)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import sqlalchemy as sa
from rota_kit import RotaBot, add_shift, clock_of, rota_of_bot

from chatops.models import AuditEntry, Conversation
from chatops.testing.bot import TestBot
from chatops.testing.card_checks import assert_postable
from chatops_plugins.rota import routing

# Tuesday 1 December 2026, 11:00 in Helsinki.
TUESDAY_1100 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


async def settled(bot: TestBot) -> None:
    """Every plugin has heard of what came in, and the cards are drawn."""
    assert bot.app is not None
    await bot.app.events.drain()
    await bot.idle()


async def owners(bot: TestBot) -> list[str | None]:
    """Who owns each conversation, oldest first."""
    assert bot.app is not None
    async with bot.app.db.read() as session:
        return list((await session.scalars(sa.select(Conversation.assignee).order_by(Conversation.id))).all())


async def comment(bot: TestBot, n: int) -> None:
    await bot.comment(f"Question {n}", id=f"q-{n}", thread_id=f"q-{n}", author={"name": f"Customer {n}"})
    await settled(bot)


async def test_a_new_card_shows_and_mentions_who_is_on_shift_until_someone_takes_it(rota_bot: RotaBot) -> None:
    async with rota_bot(now=TUESDAY_1100) as bot:
        anna = bot.person("Anna")
        await add_shift(bot, "mon-fri", "08:00-16:00", "UANNA")
        await add_shift(bot, "tue", "10:00-14:00", "UJARI")
        await bot.comment("Is the shop open?")
        card = await bot.next_card()
        assert "On shift: <@UANNA>, <@UJARI>" in card.text
        await bot.click(anna, card, "claim")
        await card.wait_for(lambda c: "On shift" not in c.text)


async def test_a_new_card_says_when_nobody_is_on_shift(rota_bot: RotaBot) -> None:
    async with rota_bot(now=TUESDAY_1100 + timedelta(hours=10)) as bot:
        await add_shift(bot, "mon-fri", "08:00-16:00", "UANNA")
        await bot.comment("Anyone there?")
        card = await bot.next_card()
        assert "Nobody is on shift" in card.text


async def test_the_decoration_can_be_turned_off(rota_bot: RotaBot) -> None:
    async with rota_bot(now=TUESDAY_1100, mention_on_cards=False) as bot:
        await add_shift(bot, "mon-fri", "08:00-16:00", "UANNA")
        await bot.comment("Hello")
        card = await bot.next_card()
        await settled(bot)
        assert "On shift" not in card.text and "<@UANNA>" not in card.text


async def test_the_decoration_is_postable_with_many_people_on_shift(rota_bot: RotaBot) -> None:
    async with rota_bot(now=TUESDAY_1100) as bot:
        await add_shift(bot, "daily", "00:00-24:00", *(f"UPERSON{i:02d}" for i in range(60)))
        await bot.comment("Hello")
        card = await bot.next_card()
        rota = rota_of_bot(bot)
        data = await rota.ctx.conversations.card(card.conversation_id)
        assert data is not None
        blocks = await routing.card_blocks(rota, data)
        assert_postable({"text": "A card", "blocks": blocks})
        assert blocks[0]["elements"][0]["text"].count("<@") == routing.MENTION_LIMIT
        assert_postable(card.message)


async def test_new_cards_go_round_robin_to_the_people_on_shift_and_the_audit_log_says_the_bot_did_it(
    rota_bot: RotaBot,
) -> None:
    async with rota_bot(now=TUESDAY_1100, assign="round_robin") as bot:
        await add_shift(bot, "mon-fri", "08:00-16:00", "UANNA", "UJARI")
        for n in range(3):
            await comment(bot, n)
        assert await owners(bot) == ["UANNA", "UJARI", "UANNA"]
        # A follow-up in a conversation is not a new card: nobody is assigned for it.
        await bot.comment("More", id="q-0-b", thread_id="q-0")
        await settled(bot)
        # Jari's shift ends; the turn goes to whoever is on shift.
        await add_shift(bot, "mon-fri", "16:00-20:00", "UMIKA")
        clock_of(bot).set(TUESDAY_1100 + timedelta(hours=6))
        rota_of_bot(bot).invalidate()
        await comment(bot, 3)
        assert await owners(bot) == ["UANNA", "UJARI", "UANNA", "UMIKA"]
        assert bot.app is not None
        async with bot.app.db.read() as session:
            audit = (
                await session.execute(
                    sa.select(AuditEntry.actor, AuditEntry.detail)
                    .where(AuditEntry.action == "assigned")
                    .order_by(AuditEntry.id)
                )
            ).all()
    assert [(actor, detail["assignee"]) for actor, detail in audit] == [
        ("bot:rota", "UANNA"),
        ("bot:rota", "UJARI"),
        ("bot:rota", "UANNA"),
        ("bot:rota", "UMIKA"),
    ]


async def test_new_cards_go_to_the_least_loaded_person_on_shift(rota_bot: RotaBot) -> None:
    async with rota_bot(now=TUESDAY_1100, assign="least_loaded") as bot:
        bot.person("Anna")
        await add_shift(bot, "mon-fri", "08:00-16:00", "UANNA")
        await comment(bot, 0)
        await comment(bot, 1)
        await add_shift(bot, "mon-fri", "10:00-16:00", "UJARI")
        # Jari owns nothing yet, then one; then they are even and Anna (first in shift order) gets it.
        for n in (2, 3, 4):
            await comment(bot, n)
        assert await owners(bot) == ["UANNA", "UANNA", "UJARI", "UJARI", "UANNA"]
        # Resolved conversations no longer count: Anna's two first ones resolved, she has one, Jari two.
        cards = bot.cards()
        for card in cards[:2]:
            await bot.click(bot.person("Anna"), card, "resolve")
        await settled(bot)
        await comment(bot, 5)
        assert (await owners(bot))[-1] == "UANNA"


async def test_nobody_on_shift_leaves_a_new_card_unassigned(rota_bot: RotaBot) -> None:
    async with rota_bot(now=TUESDAY_1100, assign="round_robin") as bot:
        await comment(bot, 0)
        assert await owners(bot) == [None]
