"""Hostile tests of the Discord source: the real bot, real discord.py, FakeDiscord over real HTTP and WebSocket.

Each open defect is a strict xfail whose reason names it (the suite stays green while it is open and
turns red when it is fixed, so the mark is removed then). The rest are attacks the plugin held.
"""

from __future__ import annotations

import asyncio
import gc
import logging
import warnings
from typing import Any

import pytest
from discord_world import (
    AINO,
    EERO,
    FEEDBACK,
    GUILD,
    OFFTOPIC,
    SUPPORT,
    THREAD,
    TOKEN,
    connected,
    discord_config,
    source,
)
from sqlalchemy import func, select

from chatops.models import Direction, Message
from chatops.testing.bot import OPS, Card, TestBot
from chatops.testing.fake_slack import FakeSlack
from chatops_plugins.discord import source as discord_source
from chatops_plugins.discord.testing import FakeDiscord

# Positions live in ctx.state and the core dedups by id on both engines; SQLite keeps this file fast.
pytestmark = pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)

FAST = {"guild_ready_timeout_seconds": 0.05}


async def card_with(bot: TestBot, words: str, tries: int = 1500) -> Card:
    """The card whose text holds ``words``; fails after ``tries`` polls of 20 ms (30 s: a wait, not a speed claim;
    a hundred cards behind a catch-up take several seconds on a loaded machine)."""
    for _ in range(tries):
        found = [card for card in bot.cards() if words in card.text]
        if found:
            return found[0]
        await asyncio.sleep(0.02)
    shown = [c.text.split("\n")[2][:60] for c in bot.cards()[-8:] if c.text.count("\n") >= 2]
    raise AssertionError(f"no card with {words!r} among {len(bot.cards())}; the last: {shown}")


def cards_with(bot: TestBot, words: str) -> list[Card]:
    return [card for card in bot.cards() if words in card.text]


async def inbound_count(bot: TestBot) -> int:
    assert bot.app is not None
    async with bot.app.db.read() as session:
        return int(await session.scalar(select(func.count(Message.id)).where(Message.direction == "inbound")) or 0)


async def settled(bot: TestBot, words: str) -> None:
    """A first message is stored and its card posted: the channel has a position, the first catch-up is done."""
    await card_with(bot, words)
    await bot.idle()


async def away(
    fake: FakeDiscord, posts: list[tuple[str, tuple[str, str], str]], *, code: int = 4000, dispatch: bool = False
) -> None:
    """Drop the gateway with ``code`` and, while the client certainly is away, post.

    ``dispatch=False``: only the history holds them; True: the session queues them too (a resume replays).
    """
    (live,) = fake.open_connections()
    with fake.held_gateway():
        fake.disconnect(code, resumable=True)
        await fake.wait_for(lambda: not live.open, what="the drop")
        for channel, who, text in posts:
            fake.post(channel, who[0], text, dispatch=dispatch)


# -- content is data ------------------------------------------------------------------------------

EVIL = [
    "<!channel> is down",
    "<!here> look",
    "<!everyone> now",
    "<!subteam^S0123|@support> help",
    "<@U0SLACKUSER> hi",
    "<https://evil.example/login|https://bank.example> pay here",
    "&lt;!channel&gt; pre-escaped",
    "@everyone @here <@&123456789012345678> <@500000000000005552>",
    "zero\u200bwidth <\u200b!channel> and RTL \u202egnp.exe",
    "*bold* _it_ ~strike~ `code` ```block``` > quote",
]


async def test_slack_syntax_in_discord_messages_never_pings_or_hides_a_link_on_the_card(
    fake_slack: FakeSlack, database_url: str, discord_fake: FakeDiscord
) -> None:
    async with TestBot(fake_slack, database_url, config=discord_config(discord_fake, **FAST)) as bot:
        await connected(bot)
        for n, text in enumerate(EVIL):
            discord_fake.post(SUPPORT, AINO[0], f"case{n:02d} {text}")
        for n in range(len(EVIL)):
            card = await card_with(bot, f"case{n:02d} ")
            message = card.message
            raw = [message.get("text", "")] + [
                str(block.get("text", {}).get("text", "")) for block in message.get("blocks") or []
            ]
            for piece in raw:
                # Slack's control sequences start with "<" (pings, links with hidden targets): all escaped.
                assert "<!" not in piece and "<@U0" not in piece and "<https://evil" not in piece, piece
                assert "<!subteam" not in piece
        assert len(bot.cards()) == len(EVIL)


async def test_a_reply_quoting_every_kind_of_mention_pings_nobody(
    fake_slack: FakeSlack, database_url: str, discord_fake: FakeDiscord
) -> None:
    async with TestBot(fake_slack, database_url, config=discord_config(discord_fake, **FAST)) as bot:
        await connected(bot)
        posted = discord_fake.post(SUPPORT, AINO[0], "ping test")
        card = await card_with(bot, "ping test")
        text = f"@everyone @here <@{AINO[0]}> <@!{EERO[0]}> <@&{GUILD}> <@&123456789012345678> @\u200beveryone"
        await bot.reply(bot.person("Anna"), card, text)
        await discord_fake.wait_for(lambda: discord_fake.sent, what="the reply")
        (sent,) = discord_fake.sent
        assert sent.content == text
        assert sent.message_reference is not None and str(sent.message_reference.get("message_id")) == posted["id"]
        assert sent.allowed_mentions is not None
        assert sent.allowed_mentions.get("parse") == []
        assert not sent.allowed_mentions.get("users") and not sent.allowed_mentions.get("roles")
        assert not sent.allowed_mentions.get("replied_user")
        assert sent.pings == []


# -- malformed content ------------------------------------------------------------------------------


async def test_a_message_with_a_lone_surrogate_is_stored_not_lost(
    fake_slack: FakeSlack,
    database_url: str,
    discord_fake: FakeDiscord,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    # Discord relays what clients send; JSON may carry "\ud800", which json.loads turns into a lone
    # surrogate that no database (UTF-8) can store. The retry reads the same text and fails again.
    monkeypatch.setattr(discord_source, "RETRY_CATCH_UP_SECONDS", 0.05)
    async with TestBot(fake_slack, database_url, config=discord_config(discord_fake, **FAST)) as bot:
        await connected(bot)
        discord_fake.post(SUPPORT, AINO[0], "first")
        await settled(bot, "first")
        discord_fake.post(SUPPORT, EERO[0], "poison \ud800 text")
        discord_fake.post(SUPPORT, AINO[0], "after the broken one")
        await card_with(bot, "after the broken one")
        # Expected: stored with the surrogate replaced (U+FFFD), as one card.
        await card_with(bot, "poison", tries=100)
        assert await inbound_count(bot) == 3


async def test_a_2000_character_message_and_a_2001_character_reply(
    fake_slack: FakeSlack, database_url: str, discord_fake: FakeDiscord
) -> None:
    async with TestBot(fake_slack, database_url, config=discord_config(discord_fake, **FAST)) as bot:
        await connected(bot)
        long_text = "long" + "ä" * 1992 + "tail"
        assert len(long_text) == 2000
        discord_fake.post(SUPPORT, AINO[0], long_text)
        card = await card_with(bot, "long")
        assert "tail" in card.text or "…" in card.text
        response = await bot.reply(bot.person("Anna"), card, "x" * 2001)
        assert "2000" in response.text or "2,000" in response.text
        await bot.reply(bot.person("Anna"), card, "y" * 2000)
        await discord_fake.wait_for(lambda: discord_fake.sent, what="the 2000-character reply")
        assert [len(s.content) for s in discord_fake.sent] == [2000]


# -- catch-up -------------------------------------------------------------------------------------


async def test_messages_past_the_catch_up_limit_are_not_lost_to_a_live_message(
    fake_slack: FakeSlack, database_url: str, discord_fake: FakeDiscord
) -> None:
    config = discord_config(discord_fake, **FAST, catch_up_limit=3)
    async with TestBot(fake_slack, database_url, config=config) as bot:
        await connected(bot)
        discord_fake.post(SUPPORT, AINO[0], "seen live")
        await settled(bot, "seen live")
        await away(discord_fake, [(SUPPORT, EERO, f"missed {n}") for n in range(8)])
        await card_with(bot, "missed 2")
        # A customer writes live: the position jumps past "missed 3".."missed 7".
        discord_fake.post(SUPPORT, AINO[0], "live after")
        await card_with(bot, "live after")
        # Later catch-ups (a resume, a retry) read after the position: the five are never read.
        discord_fake.request_reconnect()
        await discord_fake.wait_ready(3)
        await card_with(bot, "missed 7", tries=100)


# "", "-5" and the like are read as no position in test_discord_rules; here the bot-level path once.
@pytest.mark.parametrize("raw", ["²", "99999999999999999999", "abc", "0"])
async def test_a_garbage_future_or_zero_position_falls_back_and_catches_up_once(
    fake_slack: FakeSlack, database_url: str, discord_fake: FakeDiscord, raw: str
) -> None:
    async with TestBot(fake_slack, database_url, config=discord_config(discord_fake, **FAST)) as bot:
        await connected(bot)
        discord_fake.post(SUPPORT, AINO[0], "first")
        await settled(bot, "first")
        state = source(bot)
        await state.ctx.state.set(f"position:{SUPPORT}", raw)
        state.positions.forget_cache()
        await away(discord_fake, [(SUPPORT, EERO, "missed while away")])
        await discord_fake.wait_ready(2)
        await card_with(bot, "missed while away")
        discord_fake.post(SUPPORT, AINO[0], "live later")
        await card_with(bot, "live later")
        await bot.idle()
        # "first" is never imported twice ("0" reads all history, stored once by id).
        assert len(cards_with(bot, "first")) == 1
        assert await inbound_count(bot) == 3


@pytest.mark.parametrize("code", [1000, 4000, 4007, 4009])
async def test_a_gateway_closed_with_a_reconnectable_code_comes_back_and_catches_up_once(
    fake_slack: FakeSlack, database_url: str, discord_fake: FakeDiscord, code: int
) -> None:
    async with TestBot(fake_slack, database_url, config=discord_config(discord_fake, **FAST)) as bot:
        await connected(bot)
        discord_fake.post(SUPPORT, AINO[0], "first")
        await settled(bot, "first")
        # Dispatched during the window: a resumed session replays them and the history holds them.
        await away(
            discord_fake, [(SUPPORT, EERO, f"window {n} after {code}") for n in range(3)], code=code, dispatch=True
        )
        for n in range(3):
            await card_with(bot, f"window {n} after {code}")
        discord_fake.post(SUPPORT, AINO[0], "live again")
        await card_with(bot, "live again")
        await bot.idle()
        assert await inbound_count(bot) == 5
        assert len(bot.cards()) == 5
        assert not [m for m in bot.slack.top_level_messages(OPS) if "Discord" in m.get("text", "")]


@pytest.mark.parametrize(("code", "words"), [(4004, "bot token"), (4013, "invalid intents"), (4014, "Message Content")])
async def test_a_fatal_close_mid_session_is_one_alert_and_no_reconnect_loop(
    fake_slack: FakeSlack, database_url: str, discord_fake: FakeDiscord, code: int, words: str
) -> None:
    async with TestBot(fake_slack, database_url, config=discord_config(discord_fake, **FAST)) as bot:
        await connected(bot)
        discord_fake.post(SUPPORT, AINO[0], "first")
        await settled(bot, "first")
        discord_fake.disconnect(code, resumable=False)
        for _ in range(250):
            alerts = [m.get("text", "") for m in bot.slack.top_level_messages(OPS) if words in m.get("text", "")]
            if alerts:
                break
            await asyncio.sleep(0.02)
        assert len(alerts) == 1 and TOKEN not in alerts[0]
        if code == 4013:  # a bug in what the client sends: flipping the Message Content switch fixes nothing
            assert "Message Content" not in alerts[0]
        await asyncio.sleep(0.3)
        assert len(discord_fake.connections) == 1  # no retry against a refusal no retry fixes
        # A reply now is refused with the reason, not sent into the void.
        card = await card_with(bot, "first")
        await bot.reply(bot.person("Anna"), card, "still there?")
        # The answer stays queued for a retry once the admin fixes it (an alert, not a final failure), so
        # the outbox never goes idle: wait for its first refused attempt instead.
        error = await _first_delivery_error(bot)
        assert error and TOKEN not in error
        assert discord_fake.sent == []


async def _first_delivery_error(bot: TestBot, timeout: float = 10.0) -> str | None:  # noqa: ASYNC109
    """The error of the first refused attempt to send the card's answer."""
    assert bot.app is not None
    for _ in range(int(timeout / 0.05)):
        async with bot.app.db.read() as session:
            error = await session.scalar(
                select(Message.delivery_error).where(
                    Message.direction == Direction.OUTBOUND.value, Message.delivery_attempts >= 1
                )
            )
        if error:
            return str(error)
        await asyncio.sleep(0.05)
    raise AssertionError(f"no refused attempt to send the answer within {timeout} s")


# -- replicas -------------------------------------------------------------------------------------


async def test_two_replicas_on_one_database_store_and_card_each_message_once(
    fake_slack: FakeSlack, database_url: str, discord_fake: FakeDiscord, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    config = discord_config(discord_fake, **FAST)
    async with (
        TestBot(fake_slack, database_url, config=config, instance_id="a") as one,
        TestBot(fake_slack, database_url, config=config, instance_id="b") as two,
    ):
        await connected(one)
        await connected(two)
        await discord_fake.wait_for(lambda: len(discord_fake.open_connections()) == 2, what="both replicas")
        for n in range(6):
            discord_fake.post(SUPPORT, AINO[0], f"replicated {n}")
        await card_with(one, "replicated 5")
        await one.idle()
        await two.idle()
        # Both replicas also catch up after a drop: still once.
        discord_fake.request_reconnect()
        await discord_fake.wait_ready(4)
        await asyncio.sleep(0.2)
        await one.idle()
        for n in range(6):
            assert len(cards_with(one, f"replicated {n} ")) + len(cards_with(one, f"replicated {n}\n")) >= 1
        assert len(one.cards()) == 6
        assert await inbound_count(one) == 6
    assert not [r for r in caplog.records if "storing message" in r.getMessage()]


# -- answers ---------------------------------------------------------------------------------------


async def test_retry_pressed_twice_at_once_posts_the_reply_once(
    fake_slack: FakeSlack, database_url: str, discord_fake: FakeDiscord
) -> None:
    async with TestBot(fake_slack, database_url, config=discord_config(discord_fake, **FAST)) as bot:
        await connected(bot)
        discord_fake.post(SUPPORT, AINO[0], "question")
        card = await card_with(bot, "question")
        discord_fake.fail_next(400, code=50035, message="Invalid Form Body", method="POST")
        await bot.reply(bot.person("Anna"), card, "the answer")
        await card.wait_for(lambda c: "retry" in c.buttons)
        await asyncio.gather(
            bot.click(bot.person("Ben"), card, "retry", replay=2, concurrently=True),
            bot.click(bot.person("Anna"), card, "retry", replay=2, concurrently=True),
        )
        await card.wait_for(lambda c: "Reply sent on Discord" in c.thread_text())
        await bot.idle()
        assert [s.content for s in discord_fake.sent] == ["the answer"]


async def test_a_429_storm_ends_in_one_reply(
    fake_slack: FakeSlack, database_url: str, discord_fake: FakeDiscord
) -> None:
    async with TestBot(fake_slack, database_url, config=discord_config(discord_fake, **FAST)) as bot:
        await connected(bot)
        discord_fake.post(SUPPORT, AINO[0], "question")
        card = await card_with(bot, "question")
        discord_fake.rate_limit_next(retry_after=0.02, method="POST", times=20)
        discord_fake.rate_limit_next(retry_after=0.02, method="POST", times=5, is_global=True)
        await bot.reply(bot.person("Anna"), card, "answer")
        await card.wait_for(lambda c: "Reply sent on Discord" in c.thread_text(), timeout=15)
        await bot.idle()
        assert [s.content for s in discord_fake.sent] == ["answer"]
        assert len([r for r in discord_fake.requests if r.method == "POST" and r.status == 429]) == 25


async def test_delete_pressed_twice_deletes_once_leaves_nothing_to_undo_and_is_not_the_authors_removal(
    fake_slack: FakeSlack, database_url: str, discord_fake: FakeDiscord
) -> None:
    discord_fake.set_bot_permissions(SUPPORT, manage_messages=True)
    async with TestBot(fake_slack, database_url, config=discord_config(discord_fake, **FAST, allow_delete=True)) as bot:
        await connected(bot)
        posted = discord_fake.post(SUPPORT, AINO[0], "delete me")
        card = await card_with(bot, "delete me")
        await card.wait_for(lambda c: "hide" in c.buttons)
        await bot.click(bot.person("Anna"), card, "hide", replay=2, concurrently=True)
        await discord_fake.wait_for(lambda: discord_fake.message(posted["id"]) is None, what="the delete")
        card = await card.wait_for(lambda c: "Deleted on Discord by the team" in c.text)
        await bot.idle()
        assert "unhide" not in card.buttons
        assert [d.message_id for d in discord_fake.deleted] == [posted["id"]]
        # Our own delete is not "removed by the author".
        assert "Removed by the author" not in card.text


# -- secrets and shutdown ---------------------------------------------------------------------------


async def test_the_token_is_in_no_log_line_at_debug_nor_on_slack(
    fake_slack: FakeSlack, database_url: str, discord_fake: FakeDiscord, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    for name in ("discord", "discord.http", "discord.gateway", "discord.client", "chatops_plugins.discord"):
        caplog.set_level(logging.DEBUG, logger=name)  # restored after the test
    async with TestBot(fake_slack, database_url, config=discord_config(discord_fake, **FAST)) as bot:
        await connected(bot)
        discord_fake.post(SUPPORT, AINO[0], "hello")
        card = await card_with(bot, "hello")
        await bot.reply(bot.person("Anna"), card, "hi")
        await discord_fake.wait_for(lambda: discord_fake.sent, what="the reply")
        discord_fake.request_reconnect()  # RESUME carries the token too, as IDENTIFY did
        await discord_fake.wait_ready(2)
        discord_fake.fail_next(401, code=0, message="401: Unauthorized", method="POST")
        await bot.reply(bot.person("Anna"), card, "again")
        await bot.idle()
        slack_text = str(bot.slack.top_level_messages(OPS)) + str([c.message for c in bot.cards()])
    assert discord_fake.identify_count >= 1 and discord_fake.resume_count >= 1
    assert len(caplog.records) > 50  # discord.py's own debug lines were captured
    leaks = [r.name for r in caplog.records if TOKEN in r.getMessage() or TOKEN in str(r.exc_info or "")]
    assert any("IDENTIFY" in r.getMessage() for r in caplog.records)
    assert leaks == []
    assert TOKEN not in slack_text


async def test_stopping_while_the_gateway_is_connecting_leaves_nothing_running(
    fake_slack: FakeSlack, database_url: str, discord_fake: FakeDiscord, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    before = set(asyncio.all_tasks())
    with discord_fake.held_gateway(), warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        bot = TestBot(fake_slack, database_url, config=discord_config(discord_fake, **FAST))
        await bot.start()
        await discord_fake.wait_for(lambda: discord_fake.connections, what="the connection attempt")
        await asyncio.wait_for(bot.stop(), 10)  # a hang guard, not a timing claim
        gc.collect()
        await asyncio.sleep(0.05)
    left: list[Any] = [t for t in asyncio.all_tasks() - before if not t.done()]
    assert left == [], [t.get_name() for t in left]
    assert not [w for w in caught if "never awaited" in str(w.message) or "destroyed" in str(w.message)]
    assert not [r for r in caplog.records if "Task was destroyed" in r.getMessage() or "Unclosed" in r.getMessage()]
    # Once the fake answers again it finds the client gone: nothing reconnected after the stop.
    await discord_fake.wait_for(lambda: not discord_fake.open_connections(), what="the held connection to end")
    await asyncio.sleep(0.2)
    assert len(discord_fake.connections) == 1


# -- threads and replies --------------------------------------------------------------------------


async def test_messages_in_a_thread_archived_while_the_bot_was_down_are_caught_up(
    fake_slack: FakeSlack, database_url: str, discord_fake: FakeDiscord
) -> None:
    config = discord_config(discord_fake, **FAST)
    async with TestBot(fake_slack, database_url, config=config) as first:
        await connected(first)
        discord_fake.post(THREAD, AINO[0], "in the thread, first life")
        await settled(first, "in the thread, first life")
    discord_fake.post(THREAD, EERO[0], "in the thread while the bot was down", dispatch=False)
    discord_fake.archive_thread(THREAD)  # an hour (or a day) without messages later
    async with TestBot(fake_slack, database_url, config=config) as second:
        await connected(second)
        # It joins the thread's card (messages in one Discord thread are one conversation).
        card = await card_with(second, "in the thread, first life")
        await card.wait_for(lambda c: "in the thread while the bot was down" in c.thread_text())
        await second.idle()
        assert len(second.cards()) == 1 and await inbound_count(second) == 2


async def test_threads_and_replies_outside_the_watched_channels_are_not_cards(
    fake_slack: FakeSlack, database_url: str, discord_fake: FakeDiscord
) -> None:
    async with TestBot(fake_slack, database_url, config=discord_config(discord_fake, **FAST)) as bot:
        await connected(bot)
        elsewhere = discord_fake.post(OFFTOPIC, AINO[0], "off topic starter")
        discord_fake.add_thread(OFFTOPIC, elsewhere["id"], "side thread")
        discord_fake.post(elsewhere["id"], EERO[0], "in a thread of an unwatched channel")
        # A reply in a watched channel to an unwatched message is a card of its own.
        discord_fake.post(SUPPORT, EERO[0], "answering the off-topic one", reply_to=elsewhere["id"])
        card = await card_with(bot, "answering the off-topic one")
        await bot.idle()
        assert len(bot.cards()) == 1 and await inbound_count(bot) == 1
        assert "off topic starter" not in card.thread_text()


async def test_a_thread_whose_starter_was_deleted_still_joins_the_starters_card(
    fake_slack: FakeSlack, database_url: str, discord_fake: FakeDiscord
) -> None:
    async with TestBot(fake_slack, database_url, config=discord_config(discord_fake, **FAST)) as bot:
        await connected(bot)
        starter = discord_fake.post(SUPPORT, AINO[0], "the starter")
        card = await card_with(bot, "the starter")
        discord_fake.add_thread(SUPPORT, starter["id"], "about the starter")
        discord_fake.delete(SUPPORT, starter["id"])
        await card.wait_for(lambda c: "Removed by the author" in c.text)
        talking = discord_fake.post(starter["id"], EERO[0], "still talking in the thread")
        await card.wait_for(lambda c: "still talking in the thread" in c.thread_text())
        # A reply chain in the thread joins the same card, never a new one.
        chained = discord_fake.post(starter["id"], AINO[0], "reply one", reply_to=talking["id"])
        discord_fake.post(starter["id"], EERO[0], "reply two", reply_to=chained["id"])
        await card.wait_for(lambda c: "reply two" in c.thread_text())
        await bot.idle()
        assert len(bot.cards()) == 1


async def test_a_restart_between_storing_and_moving_the_position_stores_nothing_twice(
    fake_slack: FakeSlack, database_url: str, discord_fake: FakeDiscord
) -> None:
    config = discord_config(discord_fake, **FAST)
    async with TestBot(fake_slack, database_url, config=config) as first:
        await connected(first)
        older = discord_fake.post(SUPPORT, AINO[0], "older")
        await settled(first, "older")
        discord_fake.post(SUPPORT, EERO[0], "stored, position not moved")
        discord_fake.post(FEEDBACK, EERO[0], "feedback stored")
        await card_with(first, "stored, position not moved")
        await settled(first, "feedback stored")
        # The crash: the store committed, the position write did not.
        await source(first).ctx.state.set(f"position:{SUPPORT}", older["id"])
    async with TestBot(fake_slack, database_url, config=config) as second:
        await connected(second)
        discord_fake.post(SUPPORT, AINO[0], "after the restart")
        await card_with(second, "after the restart")
        await second.idle()
        assert await inbound_count(second) == 4
        assert len(second.cards()) == 4


async def test_a_catch_up_failing_mid_way_loses_nothing_to_a_live_message(
    fake_slack: FakeSlack, database_url: str, discord_fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(discord_source, "RETRY_CATCH_UP_SECONDS", 0.05)
    # 105 new conversations in one channel within minutes is a flood: with roll-ups on, most would be
    # listed on a roll-up card. This test is about the catch-up losing nothing, shown one card each.
    config = {**discord_config(discord_fake, **FAST), "crisis": {"rollups": False}}
    async with TestBot(fake_slack, database_url, config=config) as bot:
        await connected(bot)
        discord_fake.post(SUPPORT, AINO[0], "seen live")
        await settled(bot, "seen live")
        history = f"/channels/{SUPPORT}/messages"
        asked = len([r for r in discord_fake.requests if r.path == history])
        # 103 missed: two pages of history (discord.py asks 100 at a time).
        await away(discord_fake, [(SUPPORT, EERO, f"missed {n:03d}") for n in range(103)])

        def first_page() -> bool:
            return len([r for r in discord_fake.requests if r.path == history and r.method == "GET"]) > asked

        await discord_fake.wait_for(first_page, what="the first page of the catch-up")
        # While the catch-up takes page one, Discord fails the next page, and a customer writes live.
        discord_fake.fail_next(503, method="GET", path=f"^{history}$")
        discord_fake.post(SUPPORT, AINO[0], "live during the catch-up")
        await card_with(bot, "live during the catch-up")
        await card_with(bot, "missed 099")

        def retried() -> bool:
            calls = [r for r in discord_fake.requests if r.path == history]
            failed = [n for n, r in enumerate(calls) if r.status == 503]
            return bool(failed) and any(r.status == 200 for r in calls[failed[0] + 1 :])

        await discord_fake.wait_for(retried, what="the failed page and the retried catch-up")
        await card_with(bot, "missed 102", tries=50)
