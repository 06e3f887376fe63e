"""A webhook comment becomes one card, and the team works it with buttons."""

from __future__ import annotations

from chatops.testing.bot import TestBot


async def test_comment_becomes_exactly_one_card(bot: TestBot) -> None:
    await bot.comment("Where is my order #123?")
    card = await bot.next_card()
    assert "Where is my order #123?" in card.text
    assert "Matti Meikäläinen" in card.text
    assert "Contact form" in card.text
    assert card.conversation_id > 0
    await bot.idle()
    assert len(bot.cards()) == 1


async def test_claim_shows_owner(bot: TestBot) -> None:
    anna = bot.person("Anna")
    await bot.comment("Hello?")
    card = await bot.next_card()
    await bot.click(anna, card, "claim")
    await card.wait_for(lambda c: "Claimed by <@UANNA>" in c.text)
    assert "unclaim" in card.buttons and "claim" not in card.buttons
