"""Fixtures for the Discord source: a Discord fake (HTTP API and gateway) and the real bot with the plugin on."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import discord.gateway
import discord.http
import pytest
from discord_world import APP_ID, BOT_ID, BOT_NAME, TOKEN, Discord, build_world, discord_config

from chatops.testing.bot import TestBot
from chatops.testing.customers import NoCustomer
from chatops.testing.fake_slack import FakeSlack
from chatops_plugins.discord.testing import FakeDiscord


@pytest.fixture(autouse=True)
def _restore_discord_globals() -> Iterator[None]:
    """Put discord.py's process-wide endpoints back after each test (the plugin and the tests repoint them)."""
    base = discord.http.Route.BASE
    gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    yield
    discord.http.Route.BASE = base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = gateway


@pytest.fixture(scope="session")
def _discord_server() -> Iterator[FakeDiscord]:
    with FakeDiscord(token=TOKEN, bot_user_id=BOT_ID, bot_name=BOT_NAME, application_id=APP_ID) as fake:
        yield fake


@pytest.fixture
def discord_fake(_discord_server: FakeDiscord) -> FakeDiscord:
    """The Discord fake, reset, holding the server with its watched channels, an unwatched one and a thread."""
    _discord_server.reset()
    build_world(_discord_server)
    return _discord_server


@pytest.fixture
async def discord_bot(fake_slack: FakeSlack, database_url: str, discord_fake: FakeDiscord) -> AsyncIterator[TestBot]:
    """The real bot with the Discord plugin, connected to the fake, on a fresh database."""
    async with TestBot(
        fake_slack, database_url, config=discord_config(discord_fake), plugins=["discord"], customer=NoCustomer
    ) as running:
        await Discord(running, discord_fake).connected()
        yield running


@pytest.fixture
def discord_world(discord_bot: TestBot, discord_fake: FakeDiscord) -> Discord:
    """The customer's side of Discord, for the bot under test."""
    return Discord(discord_bot, discord_fake)
