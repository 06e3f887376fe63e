"""Tests that start the Discord sandbox source use this fixture: the plugin repoints discord.py process-wide."""

from __future__ import annotations

from collections.abc import Iterator

import discord.gateway
import discord.http
import pytest


@pytest.fixture
def restore_discord_globals() -> Iterator[None]:
    """The Discord plugin points discord.py (process-wide) at its fake; put it back afterwards."""
    base = discord.http.Route.BASE
    gateway = discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY
    yield
    discord.http.Route.BASE = base
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = gateway
