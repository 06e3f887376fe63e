"""Fixtures of the sandbox's page tests: a running sandbox per test module, and Anna at its page."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import discord
import httpx
import pytest
import pytest_asyncio
from sandbox_kit import PageUser

from chatops.sandbox.serving import Served, served
from chatops.sockets import bind


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def sandbox(tmp_path_factory: pytest.TempPathFactory) -> AsyncIterator[Served]:
    """A running sandbox (the bot, the fake Slack, every installed source's fake) serving its page on a free port."""
    data_dir: Path = tmp_path_factory.mktemp("sandbox-data")
    # The Discord source points discord.py (process-wide) at its fake while the sandbox runs.
    base, gateway = discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    try:
        async with served(bind("127.0.0.1", 0), data_dir) as running:
            yield running
    finally:
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = base, gateway


@pytest_asyncio.fixture(loop_scope="module")
async def page(sandbox: Served) -> AsyncIterator[PageUser]:
    """Anna at the page."""
    async with httpx.AsyncClient(base_url=sandbox.url, timeout=10) as http:
        yield PageUser(http)
