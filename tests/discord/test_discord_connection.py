"""The Discord gateway coming and going: catch-up after a resume and a restart, and a gateway that does not answer."""

from __future__ import annotations

import asyncio
import logging
import socket
from typing import Any

import pytest
from discord_world import AINO, EERO, SUPPORT, THREAD, discord_config, source
from sqlalchemy import func, select

from chatops.models import Alert, Message
from chatops.testing.bot import OPS, Card, TestBot
from chatops.testing.fake_slack import FakeSlack
from chatops.testing.outages import database_read_only
from chatops_plugins.discord import source as discord_source
from chatops_plugins.discord.testing import FakeDiscord

FAST = {"guild_ready_timeout_seconds": 0.05}


async def card_with(bot: TestBot, words: str) -> Card:
    for _ in range(500):
        found = [card for card in bot.cards() if words in card.text]
        if found:
            return found[0]
        await asyncio.sleep(0.02)
    raise AssertionError(f"no card with {words!r}: {[c.text[:80] for c in bot.cards()]}")


async def inbound_count(bot: TestBot) -> int:
    assert bot.app is not None
    async with bot.app.db.read() as session:
        return int(await session.scalar(select(func.count(Message.id)).where(Message.direction == "inbound")) or 0)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_after_a_resume_the_missed_messages_are_caught_up_once(
    fake_slack: FakeSlack, database_url: str, discord_fake: FakeDiscord
) -> None:
    async with TestBot(fake_slack, database_url, config=discord_config(discord_fake, **FAST)) as bot:
        assert await source(bot).wait_connected(10)
        discord_fake.post(SUPPORT, AINO[0], "before the drop")
        await card_with(bot, "before the drop")
        (live,) = discord_fake.open_connections()
        with discord_fake.held_gateway():
            discord_fake.disconnect(4000, resumable=True)
            await discord_fake.wait_for(lambda: not live.open, what="the drop")
            # One the resumed session replays *and* the history holds (read twice, stored once), one
            # only the history holds, and one in a thread the bot had no position for.
            discord_fake.post(SUPPORT, EERO[0], "replayed and in history")
            discord_fake.post(SUPPORT, AINO[0], "only in history", dispatch=False)
            discord_fake.post(THREAD, EERO[0], "in the thread while away", dispatch=False)
        for words in ("replayed and in history", "only in history", "in the thread while away"):
            await card_with(bot, words)
        await bot.idle()
        assert discord_fake.resume_count >= 1
        assert await inbound_count(bot) == 4
        assert len(bot.cards()) == 4


async def test_a_restarted_bot_catches_up_from_its_stored_position(
    fake_slack: FakeSlack, database_url: str, discord_fake: FakeDiscord
) -> None:
    config = discord_config(discord_fake, **FAST)
    async with TestBot(fake_slack, database_url, config=config) as first:
        assert await source(first).wait_connected(10)
        discord_fake.post(SUPPORT, AINO[0], "first life")
        await card_with(first, "first life")
        await first.idle()
    discord_fake.post(SUPPORT, EERO[0], "while the bot was down", dispatch=False)
    async with TestBot(fake_slack, database_url, config=config) as second:
        assert await source(second).wait_connected(10)
        await card_with(second, "while the bot was down")
        await second.idle()
        assert await inbound_count(second) == 2
        assert len(second.cards()) == 2


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_a_gateway_that_does_not_answer_is_one_alert_cleared_once_connected(
    fake_slack: FakeSlack, database_url: str, discord_fake: FakeDiscord, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.ERROR, logger="chatops_plugins.discord")
    config: dict[str, Any] = discord_config(discord_fake, **FAST, connect_timeout_seconds=0.3)
    with discord_fake.held_gateway():
        async with TestBot(fake_slack, database_url, config=config) as bot:
            for _ in range(250):
                alerts = [m.get("text", "") for m in bot.slack.top_level_messages(OPS)]
                if any("did not connect within 0.3 s" in a for a in alerts):
                    break
                await asyncio.sleep(0.02)
            else:
                raise AssertionError(f"no alert: {[m.get('text') for m in bot.slack.top_level_messages(OPS)]}")
            lines = [r.getMessage() for r in caplog.records if r.name.startswith("chatops_plugins.discord")]
            assert len(lines) == 1 and "did not connect" in lines[0]
            discord_fake.hold_gateway = False  # Discord answers after all
            assert await source(bot).wait_connected(10)
            discord_fake.post(SUPPORT, AINO[0], "hello after all")
            await card_with(bot, "hello after all")
            assert bot.app is not None
            async with bot.app.db.read() as session:
                open_alerts = await session.scalar(
                    select(func.count(Alert.key)).where(Alert.plugin == "discord", Alert.cleared_at.is_(None))
                )
            assert open_alerts == 0


async def test_live_messages_the_database_refused_are_caught_up_once_it_is_back(
    fake_slack: FakeSlack,
    database_url: str,
    discord_fake: FakeDiscord,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.ERROR, logger="chatops_plugins.discord")

    def refused() -> int:
        return len([r for r in caplog.records if "storing message" in r.getMessage()])

    async with TestBot(fake_slack, database_url, config=discord_config(discord_fake, **FAST)) as bot:
        assert await source(bot).wait_connected(10)
        discord_fake.post(SUPPORT, AINO[0], "before the outage")
        await card_with(bot, "before the outage")
        await bot.idle()
        async with database_read_only(database_url):
            discord_fake.post(SUPPORT, EERO[0], "during the outage")
            await discord_fake.wait_for(lambda: refused() >= 1, what="the refused message")
        # The database is back and a newer message is stored live; it must not move the channel's
        # position past the refused one, which the next catch-up (here: after a resume) still reads.
        discord_fake.post(SUPPORT, AINO[0], "after the outage")
        await card_with(bot, "after the outage")
        discord_fake.request_reconnect()
        await card_with(bot, "during the outage")
        await bot.idle()
        assert await inbound_count(bot) == 3
        assert len(bot.cards()) == 3


async def test_a_refused_message_is_caught_up_by_the_retry_without_a_reconnect(
    fake_slack: FakeSlack,
    database_url: str,
    discord_fake: FakeDiscord,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    monkeypatch.setattr(discord_source, "RETRY_CATCH_UP_SECONDS", 0.1)
    caplog.set_level(logging.ERROR, logger="chatops_plugins.discord")
    async with TestBot(fake_slack, database_url, config=discord_config(discord_fake, **FAST)) as bot:
        assert await source(bot).wait_connected(10)
        discord_fake.post(SUPPORT, AINO[0], "before the outage")
        await card_with(bot, "before the outage")
        await bot.idle()
        async with database_read_only(database_url):
            discord_fake.post(SUPPORT, EERO[0], "during the outage")
            await discord_fake.wait_for(
                lambda: any("storing message" in r.getMessage() for r in caplog.records), what="the refusal"
            )
        await card_with(bot, "during the outage")
        await bot.idle()
        assert await inbound_count(bot) == 2


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_catch_up_reads_at_most_the_limit_and_says_so(
    fake_slack: FakeSlack, database_url: str, discord_fake: FakeDiscord, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="chatops_plugins.discord")
    config = discord_config(discord_fake, **FAST, catch_up_limit=2)
    async with TestBot(fake_slack, database_url, config=config) as bot:
        assert await source(bot).wait_connected(10)
        discord_fake.post(SUPPORT, AINO[0], "seen live")
        await card_with(bot, "seen live")
        await bot.idle()
        (live,) = discord_fake.open_connections()
        with discord_fake.held_gateway():
            discord_fake.disconnect(4000, resumable=True)
            await discord_fake.wait_for(lambda: not live.open, what="the drop")
            for n in range(3):
                discord_fake.post(SUPPORT, EERO[0], f"missed {n}", dispatch=False)
        await card_with(bot, "missed 1")
        await bot.idle()
        assert not [card for card in bot.cards() if "missed 2" in card.text]
        assert any("catch_up_limit" in r.getMessage() for r in caplog.records)


@pytest.mark.parametrize("database_url", ["sqlite"], indirect=True)
async def test_an_unreachable_discord_is_one_line_and_one_alert_and_the_bot_keeps_serving(
    fake_slack: FakeSlack, database_url: str, discord_fake: FakeDiscord, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as probe:  # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    caplog.set_level(logging.ERROR, logger="chatops_plugins.discord")
    config = discord_config(discord_fake, **FAST, api_url=f"http://127.0.0.1:{port}/api/v10")
    config["plugins"]["enabled"] = ["webhook", "discord"]
    async with TestBot(fake_slack, database_url, config=config) as bot:
        for _ in range(250):
            alerts = [
                m.get("text", "") for m in bot.slack.top_level_messages(OPS) if "cannot connect" in m.get("text", "")
            ]
            if alerts:
                break
            await asyncio.sleep(0.02)
        else:
            raise AssertionError(f"no alert: {[m.get('text') for m in bot.slack.top_level_messages(OPS)]}")
        assert f"127.0.0.1:{port}" in alerts[0]
        await bot.comment("the webhook still works")
        assert "the webhook still works" in (await bot.next_card()).text
        lines = [r.getMessage() for r in caplog.records if r.name.startswith("chatops_plugins.discord")]
        assert len(lines) == 1 and "cannot connect to Discord" in lines[0]
