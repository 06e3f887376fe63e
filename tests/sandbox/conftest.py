"""Fixtures of the sandbox's tests: one sandbox per module (starting the bot takes seconds), and a person at its page."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import discord.gateway
import discord.http
import httpx
import pytest
import pytest_asyncio
from sandbox_kit import PageUser

from chatops.sandbox.serving import Served, served
from chatops.sockets import bind


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def sandbox(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Served]:
    """A running sandbox (the bot, the fake Slack, the contact form) serving its page on a free port."""
    data_dir: Path = tmp_path_factory.mktemp("sandbox-data")
    async with served(bind("127.0.0.1", 0), data_dir) as running:
        yield running


@pytest_asyncio.fixture(loop_scope="module")
async def page(sandbox: Served) -> AsyncIterator[PageUser]:
    """Anna at the page."""
    async with httpx.AsyncClient(base_url=sandbox.url, timeout=10) as http:
        yield PageUser(http)


@pytest.fixture(autouse=True)
def _restore_discord_globals() -> Iterator[None]:
    """The Discord plugin points discord.py (process-wide) at its fake; put it back afterwards."""
    base = discord.http.Route.BASE
    gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    yield
    discord.http.Route.BASE = base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = gateway
