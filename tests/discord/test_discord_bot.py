"""The Discord source in the real bot, against FakeDiscord over real HTTP and a real gateway WebSocket.

discord.py itself logs in, connects, parses events and sends; the fake Slack shows the cards.
"""

from __future__ import annotations

import asyncio
import logging
from typing import Any

import pytest
from discord_world import (
    AINO,
    EERO,
    FEEDBACK,
    GUILD,
    OFFTOPIC,
    ORDER_BOT,
    SUPPORT,
    THREAD,
    TOKEN,
    connected,
    discord_config,
)
from sqlalchemy import func, select

from chatops.models import Message
from chatops.testing.bot import OPS, TestBot
from chatops.testing.fake_slack import FakeSlack
from chatops_plugins.discord.testing import FakeDiscord

# The database does not change what the plugin does (positions are ctx.state; the restart test in
# test_discord_connection.py runs on both engines); one engine keeps these fast.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

#: Quick connects in tests: discord.py waits this long for more servers after READY (default 2 s).
FAST = {"guild_ready_timeout_seconds": 0.05}


def bot_config(fake: FakeDiscord, **discord: Any) -> dict[str, Any]:
    """The Discord plugin (and the webhook source, as "another source") pointed at the fake."""
    out = discord_config(fake, **FAST, **discord)
    out["plugins"]["enabled"] = ["webhook", "discord"]
    return out


@pytest.fixture
def bot(discord_bot: TestBot) -> TestBot:
    """The real bot with the Discord plugin, connected to the fake."""
    return discord_bot


async def stored_count(bot: TestBot) -> int:
    assert bot.app is not None
    async with bot.app.db.read() as session:
        return int(await session.scalar(select(func.count(Message.id)).where(Message.direction == "inbound")) or 0)


# -- ingestion --------------------------------------------------------------------------------


async def test_a_customer_message_becomes_a_card_with_author_place_and_jump_url(
    bot: TestBot, discord_fake: FakeDiscord
) -> None:
    posted = discord_fake.post(SUPPORT, AINO[0], "Tilaukseni ei ole vieläkään tullut!")
    card = await bot.next_card()
    assert "Tilaukseni ei ole vieläkään tullut!" in card.text
    assert AINO[1] in card.text
    assert "#support" in card.text
    assert f"https://discord.com/channels/{GUILD}/{SUPPORT}/{posted['id']}" in str(card.message)
    assert "reply" in card.buttons


async def test_attachments_and_stickers_are_named_on_the_card(bot: TestBot, discord_fake: FakeDiscord) -> None:
    discord_fake.post(SUPPORT, AINO[0], "the cup arrived broken", attachments=["cup.jpg"], stickers=["sad cat"])
    card = await bot.next_card()
    assert "the cup arrived broken" in card.text
    assert "[attachment: cup.jpg " in card.text
    assert "[sticker: sad cat]" in card.text


async def test_integrations_posting_through_webhooks_are_ignored(bot: TestBot, discord_fake: FakeDiscord) -> None:
    discord_fake.post_webhook(SUPPORT, "600000000000000600", "Order Notifier", "Order 1234 shipped")
    discord_fake.post(SUPPORT, AINO[0], "a person")
    card = await bot.next_card()
    assert "a person" in card.text
    await bot.idle()
    assert await stored_count(bot) == 1


async def test_messages_in_unwatched_channels_are_not_cards(bot: TestBot, discord_fake: FakeDiscord) -> None:
    discord_fake.post(OFFTOPIC, AINO[0], "not for you")
    discord_fake.post(SUPPORT, AINO[0], "for you")
    card = await bot.next_card()
    assert "for you" in card.text
    await bot.idle()
    assert await stored_count(bot) == 1


async def test_replies_and_thread_messages_join_the_card_they_belong_to(
    bot: TestBot, discord_fake: FakeDiscord
) -> None:
    first = discord_fake.post(SUPPORT, AINO[0], "Where is order 4411?")
    card = await bot.next_card()
    discord_fake.post(SUPPORT, EERO[0], "Same here, 4412", reply_to=first["id"])
    await card.wait_for(lambda c: "Same here, 4412" in c.thread_text())
    # A thread started from the first message has the message's id.
    discord_fake.add_thread(SUPPORT, first["id"], "order 4411")
    discord_fake.post(first["id"], AINO[0], "Any news?")
    await card.wait_for(lambda c: "Any news?" in c.thread_text())
    # A message on its own is a card of its own.
    discord_fake.post(SUPPORT, EERO[0], "Unrelated question")
    other = await bot.next_card()
    assert "Unrelated question" in other.text
    assert len(bot.cards()) == 2


async def test_a_reply_to_the_teams_answer_joins_the_card(bot: TestBot, discord_fake: FakeDiscord) -> None:
    discord_fake.post(SUPPORT, AINO[0], "Is the café open on Sunday?")
    card = await bot.next_card()
    await bot.reply(bot.person("Anna"), card, "Yes, 10 to 16.")
    sent = await _sent(discord_fake, 1)
    # The card shows the answer once the bot has stored what Discord answered (the sent message's id).
    await card.wait_for(lambda c: "Reply sent on Discord" in c.thread_text())
    discord_fake.post(SUPPORT, AINO[0], "Thanks! And Monday?", reply_to=sent[0].message_id)
    await card.wait_for(lambda c: "And Monday?" in c.thread_text())
    assert len(bot.cards()) == 1


async def test_the_bots_own_and_other_bots_messages_are_ignored(bot: TestBot, discord_fake: FakeDiscord) -> None:
    discord_fake.post(SUPPORT, discord_fake.bot_user_id, "posted by us")
    discord_fake.post(SUPPORT, ORDER_BOT[0], "automated notice")
    discord_fake.post(SUPPORT, AINO[0], "a person")
    card = await bot.next_card()
    assert "a person" in card.text
    await bot.idle()
    assert await stored_count(bot) == 1


async def test_other_bots_are_customers_when_configured(
    fake_slack: FakeSlack, database_url: str, discord_fake: FakeDiscord
) -> None:
    config = bot_config(discord_fake, ignore_bots=False)
    async with TestBot(fake_slack, database_url, config=config) as running:
        await connected(running)
        discord_fake.post(SUPPORT, ORDER_BOT[0], "ticket bot relays a question")
        card = await running.next_card()
        assert "ticket bot relays a question" in card.text


async def test_edits_and_deletions_reach_the_card(bot: TestBot, discord_fake: FakeDiscord) -> None:
    posted = discord_fake.post(SUPPORT, AINO[0], "order 44")
    card = await bot.next_card()
    discord_fake.edit(SUPPORT, posted["id"], "order 4411, sorry")
    await card.wait_for(lambda c: "order 4411, sorry" in c.text)
    discord_fake.delete(SUPPORT, posted["id"])
    await card.wait_for(lambda c: "Removed by the author" in c.text)


# -- replies ----------------------------------------------------------------------------------


async def _sent(fake: FakeDiscord, count: int) -> list[Any]:
    await fake.wait_for(lambda: fake.sent if len(fake.sent) >= count else None)
    return fake.sent


async def test_a_reply_reaches_discord_with_every_mention_off(bot: TestBot, discord_fake: FakeDiscord) -> None:
    posted = discord_fake.post(SUPPORT, AINO[0], "@everyone my order is late")
    card = await bot.next_card()
    await bot.reply(bot.person("Anna"), card, f"Sorry @everyone and <@{AINO[0]}>, on it!")
    (sent,) = await _sent(discord_fake, 1)
    assert sent.reply_to == posted["id"]
    assert sent.content == f"Sorry @everyone and <@{AINO[0]}>, on it!"
    assert sent.allowed_mentions is not None and sent.allowed_mentions.get("parse") == []
    # Discord's default for replied_user is false once allowed_mentions is sent: the author is not pinged.
    assert not sent.allowed_mentions.get("replied_user")
    assert sent.pings == []
    await card.wait_for(lambda c: "Reply sent on Discord" in c.thread_text())


async def test_a_lost_response_is_retried_without_posting_twice(bot: TestBot, discord_fake: FakeDiscord) -> None:
    discord_fake.post(SUPPORT, AINO[0], "are you there?")
    card = await bot.next_card()
    # Discord posts the reply but its answer is lost: the retry carries the same nonce.
    discord_fake.fail_next(503, method="POST", after_processing=True)
    await bot.reply(bot.person("Anna"), card, "Yes, we are!")
    await card.wait_for(lambda c: "Reply sent on Discord" in c.thread_text())
    assert [s.content for s in discord_fake.sent] == ["Yes, we are!"]
    assert len(discord_fake.deduplicated) == 1


async def test_messages_purged_by_a_moderator_are_marked_removed(bot: TestBot, discord_fake: FakeDiscord) -> None:
    first = discord_fake.post(SUPPORT, AINO[0], "spam one")
    one = await bot.next_card()
    second = discord_fake.post(FEEDBACK, EERO[0], "spam two")
    two = await bot.next_card()
    discord_fake.delete_bulk(SUPPORT, [first["id"]])
    discord_fake.delete_bulk(FEEDBACK, [second["id"]])
    await one.wait_for(lambda c: "Removed by the author" in c.text)
    await two.wait_for(lambda c: "Removed by the author" in c.text)


async def test_a_reply_to_a_thread_message_goes_to_the_thread(bot: TestBot, discord_fake: FakeDiscord) -> None:
    posted = discord_fake.post(THREAD, AINO[0], "any update on order 1234?")
    card = await bot.next_card()
    assert "#support › Order 1234 never arrived" in card.text
    await bot.reply(bot.person("Anna"), card, "It left the warehouse today.")
    (sent,) = await _sent(discord_fake, 1)
    assert sent.channel_id == THREAD and sent.reply_to == posted["id"]


async def test_a_short_rate_limit_is_waited_out_by_discord_py(bot: TestBot, discord_fake: FakeDiscord) -> None:
    discord_fake.post(SUPPORT, AINO[0], "hello")
    card = await bot.next_card()
    discord_fake.rate_limit_next(retry_after=0.05, method="POST")
    await bot.reply(bot.person("Anna"), card, "Hi!")
    await card.wait_for(lambda c: "Reply sent on Discord" in c.thread_text())
    assert [s.content for s in discord_fake.sent] == ["Hi!"]


async def test_a_long_rate_limit_is_retried_later_not_waited_for(bot: TestBot, discord_fake: FakeDiscord) -> None:
    discord_fake.post(SUPPORT, AINO[0], "hello")
    card = await bot.next_card()
    discord_fake.rate_limit_next(retry_after=120, method="POST")
    await bot.reply(bot.person("Anna"), card, "Hi!")
    await card.wait_for(lambda c: "rate limit" in c.text + c.thread_text())
    assert discord_fake.sent == []


async def test_a_reply_in_a_locked_thread_fails_without_retrying(bot: TestBot, discord_fake: FakeDiscord) -> None:
    discord_fake.post(THREAD, AINO[0], "still broken")
    card = await bot.next_card()
    discord_fake.archive_thread(THREAD, locked=True)
    await bot.reply(bot.person("Anna"), card, "We are on it")
    await card.wait_for(lambda c: "locked or archived" in c.text + c.thread_text())
    await bot.idle()
    assert discord_fake.sent == []


async def test_the_reply_limit_is_discords_2000_characters(bot: TestBot, discord_fake: FakeDiscord) -> None:
    discord_fake.post(SUPPORT, AINO[0], "long answer please")
    card = await bot.next_card()
    anna = bot.person("Anna")
    view = await bot.open_modal(anna, card, "reply")
    too_long = await bot.submit(anna, view, {"text": {"text": "x" * 2001}})
    assert "2000" in too_long.text or "2,000" in too_long.text
    await bot.reply(anna, card, "y" * 2000)
    (sent,) = await _sent(discord_fake, 1)
    assert len(sent.content) == 2000


async def test_a_reply_to_a_deleted_message_fails_on_the_card_without_retrying(
    bot: TestBot, discord_fake: FakeDiscord
) -> None:
    posted = discord_fake.post(SUPPORT, AINO[0], "delete me")
    card = await bot.next_card()
    discord_fake.delete(SUPPORT, posted["id"], dispatch=False)
    await bot.reply(bot.person("Anna"), card, "too late")
    await card.wait_for(lambda c: "deleted on Discord" in c.thread_text() or "deleted on Discord" in c.text)
    assert discord_fake.sent == []


async def test_a_missing_send_permission_is_one_alert_naming_it(bot: TestBot, discord_fake: FakeDiscord) -> None:
    discord_fake.post(SUPPORT, AINO[0], "hello?")
    card = await bot.next_card()
    discord_fake.set_bot_permissions(SUPPORT, send_messages=False)
    await bot.reply(bot.person("Anna"), card, "hello!")
    await _wait_for_alert(bot, "Send Messages")
    assert discord_fake.sent == []


# -- hide = delete ----------------------------------------------------------------------------


async def test_hide_is_not_offered_by_default_and_the_card_says_why(bot: TestBot, discord_fake: FakeDiscord) -> None:
    discord_fake.set_bot_permissions(SUPPORT, manage_messages=True)
    discord_fake.post(SUPPORT, AINO[0], "you are all useless")
    card = await bot.next_card()
    assert "hide" not in card.buttons
    assert "Discord has no hide; deleting is off (plugins.discord.allow_delete)" in card.text


async def test_delete_needs_manage_messages_even_when_allowed(
    fake_slack: FakeSlack, database_url: str, discord_fake: FakeDiscord
) -> None:
    async with TestBot(fake_slack, database_url, config=bot_config(discord_fake, allow_delete=True)) as running:
        await connected(running)
        discord_fake.post(SUPPORT, AINO[0], "spam spam spam")
        card = await running.next_card()
        assert "hide" not in card.buttons
        assert "the bot lacks Manage Messages in #support" in card.text


async def test_delete_is_offered_when_allowed_and_permitted_and_deletes(
    fake_slack: FakeSlack, database_url: str, discord_fake: FakeDiscord
) -> None:
    discord_fake.set_bot_permissions(SUPPORT, manage_messages=True)
    async with TestBot(fake_slack, database_url, config=bot_config(discord_fake, allow_delete=True)) as running:
        await connected(running)
        posted = discord_fake.post(SUPPORT, AINO[0], "buy cheap watches")
        card = await running.next_card()
        # Discord has no hide: the button says Delete, and its confirmation says it cannot be undone.
        button = card.buttons["hide"]
        assert button["text"]["text"] == "Delete"
        assert "deleted for everyone and cannot be restored" in button["confirm"]["text"]["text"]
        await running.click(running.person("Anna"), card, "hide")
        await discord_fake.wait_for(lambda: discord_fake.deleted or None)
        assert [d.message_id for d in discord_fake.deleted] == [posted["id"]]
        assert discord_fake.message(posted["id"]) is None
        # Our own delete is not the author's doing; and a deleted message has nothing to undo.
        card = await card.wait_for(lambda c: "Deleted on Discord by the team" in c.text)
        await running.idle()
        assert "Removed by the author" not in card.text
        assert "unhide" not in card.buttons and "hide" not in card.buttons


async def test_a_revoked_manage_messages_is_an_alert_naming_it(
    fake_slack: FakeSlack, database_url: str, discord_fake: FakeDiscord
) -> None:
    discord_fake.set_bot_permissions(SUPPORT, manage_messages=True)
    async with TestBot(fake_slack, database_url, config=bot_config(discord_fake, allow_delete=True)) as running:
        await connected(running)
        posted = discord_fake.post(SUPPORT, AINO[0], "buy cheap watches")
        card = await running.next_card()
        assert "hide" in card.buttons
        # An admin takes the permission away through the HTTP side only (no CHANNEL_UPDATE reaches the bot).
        with discord_fake.lock:
            discord_fake.world.set_member_overwrite(SUPPORT, discord_fake.bot_user_id, allow=0, deny=0)
        await running.click(running.person("Anna"), card, "hide")
        await _wait_for_alert(running, "Manage Messages")
        assert discord_fake.message(posted["id"]) is not None


# -- catch-up ---------------------------------------------------------------------------------


async def test_messages_written_while_disconnected_are_caught_up_once(bot: TestBot, discord_fake: FakeDiscord) -> None:
    discord_fake.post(SUPPORT, AINO[0], "before")
    await bot.next_card()
    # The session ends: discord.py reconnects and identifies anew; what was said meanwhile is only
    # in the channel's history.
    discord_fake.disconnect(4000, resumable=False)
    discord_fake.post(SUPPORT, EERO[0], "while away 1", dispatch=False)
    discord_fake.post(FEEDBACK, AINO[0], "while away 2", dispatch=False)
    texts = {(await bot.next_card(timeout=15)).text for _ in range(2)}
    assert any("while away 1" in t for t in texts) and any("while away 2" in t for t in texts)
    # A second reconnect reads nothing again.
    discord_fake.request_reconnect()
    discord_fake.post(SUPPORT, AINO[0], "after")
    await bot.next_card(timeout=15)
    await bot.idle()
    assert await stored_count(bot) == 4
    assert len(bot.cards()) == 4


async def _card_with(bot: TestBot, words: str) -> Any:
    for _ in range(500):
        found = [card for card in bot.cards() if words in card.text]
        if found:
            return found[0]
        await asyncio.sleep(0.02)
    raise AssertionError(f"no card with {words!r}")


# -- a gateway that never connects ------------------------------------------------------------


async def _wait_for_alert(bot: TestBot, words: str) -> str:
    for _ in range(250):
        found = [m.get("text", "") for m in bot.slack.top_level_messages(OPS) if words in m.get("text", "")]
        if found:
            return found[0]
        await asyncio.sleep(0.02)
    raise AssertionError(f"no ops alert with {words!r}: {[m.get('text') for m in bot.slack.top_level_messages(OPS)]}")


async def test_a_bad_token_is_one_line_and_one_alert_and_the_bot_keeps_serving(
    fake_slack: FakeSlack, database_url: str, discord_fake: FakeDiscord, caplog: pytest.LogCaptureFixture
) -> None:
    discord_fake.token = "another-token"
    caplog.set_level(logging.ERROR, logger="chatops_plugins.discord")
    async with TestBot(fake_slack, database_url, config=bot_config(discord_fake)) as running:
        alert = await _wait_for_alert(running, "bot token")
        assert "Developer Portal" in alert and TOKEN not in alert
        # The rest of the bot serves on: a webhook comment still becomes a card.
        await running.comment("a comment through the webhook")
        card = await running.next_card()
        assert "a comment through the webhook" in card.text
        lines = [r.getMessage() for r in caplog.records if r.name.startswith("chatops_plugins.discord")]
        assert len(lines) == 1 and "bot token" in lines[0] and TOKEN not in lines[0]
        assert len([m for m in running.slack.top_level_messages(OPS) if "bot token" in m.get("text", "")]) == 1


async def test_the_message_content_intent_off_is_one_alert(
    fake_slack: FakeSlack, database_url: str, discord_fake: FakeDiscord, caplog: pytest.LogCaptureFixture
) -> None:
    discord_fake.allow_message_content = False
    caplog.set_level(logging.ERROR, logger="chatops_plugins.discord")
    async with TestBot(fake_slack, database_url, config=bot_config(discord_fake)) as running:
        alert = await _wait_for_alert(running, "Message Content")
        assert "Privileged Gateway Intents" in alert
        await running.comment("still serving")
        assert "still serving" in (await running.next_card()).text
        lines = [r.getMessage() for r in caplog.records if r.name.startswith("chatops_plugins.discord")]
        assert len(lines) == 1 and "Message Content" in lines[0]
