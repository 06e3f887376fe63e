"""The bot's connection to Discord: a ``discord.Client`` on the bot's own event loop, and where it points.

The client only forwards gateway events to its :class:`Listener` (the source); discord.py keeps
the connection alive and reconnects by itself. It asks for three intents: ``guilds`` (the servers,
their channels and active threads), ``guild_messages`` (messages as they are written) and
``message_content`` (their text: a privileged intent switched on in the Developer Portal).
"""

from __future__ import annotations

import logging
from typing import Protocol

import discord
import yarl

log = logging.getLogger(__name__)

#: If Discord asks to wait longer than this on a rate limit, the call fails (and the answer is retried
#: later by the outbox) instead of holding a delivery worker.
MAX_RATE_LIMIT_WAIT_SECONDS = 30.0


class Listener(Protocol):
    """What the client tells the source; every method is awaited in its own task by discord.py."""

    async def gateway_ready(self) -> None:
        """Connected with a new session (first start, or after a session could not be resumed)."""

    async def gateway_resumed(self) -> None:
        """The session was resumed after the connection dropped."""

    async def message_created(self, message: discord.Message) -> None:
        """A message was written where the bot can read."""

    async def message_edited(self, payload: discord.RawMessageUpdateEvent) -> None:
        """A message was edited."""

    async def messages_deleted(self, channel_id: int, message_ids: list[int]) -> None:
        """Messages were deleted."""


def intents() -> discord.Intents:
    """The gateway intents the plugin needs, and no more."""
    wanted = discord.Intents.none()
    wanted.guilds = True
    wanted.guild_messages = True
    wanted.message_content = True
    return wanted


def point_at(api_url: str, gateway_url: str | None) -> None:
    """Send discord.py's HTTP calls to ``api_url`` and, when set, its gateway connection to ``gateway_url``.

    Both are process-wide settings of discord.py (class attributes), read when a call is made or a
    connection opened, so they must be set before the client starts. Without ``gateway_url`` the
    client connects to discord.py's default gateway.
    """
    discord.http.Route.BASE = api_url.rstrip("/")
    if gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(gateway_url)


class Gateway(discord.Client):
    """A discord.py client that hands every event the plugin cares about to its listener."""

    def __init__(self, listener: Listener, *, guild_ready_timeout: float = 2.0) -> None:
        # The bot never joins voice: discord.py's start-up warnings about voice libraries would be
        # the only lines it logs, and read like a problem to whoever checks why Discord is quiet.
        discord.VoiceClient.warn_nacl = False
        discord.VoiceClient.warn_dave = False
        super().__init__(
            guild_ready_timeout=guild_ready_timeout,
            intents=intents(),
            # A second guard behind each call's own AllowedMentions.none(): nothing the bot posts pings.
            allowed_mentions=discord.AllowedMentions.none(),
            max_ratelimit_timeout=MAX_RATE_LIMIT_WAIT_SECONDS,
        )
        self._listener = listener

    async def on_ready(self) -> None:
        """READY: a new session; catch up on what was missed."""
        await self._listener.gateway_ready()

    async def on_resumed(self) -> None:
        """RESUMED: the session continued; catch up in case events were lost."""
        await self._listener.gateway_resumed()

    async def on_message(self, message: discord.Message) -> None:
        """MESSAGE_CREATE."""
        await self._listener.message_created(message)

    async def on_raw_message_edit(self, payload: discord.RawMessageUpdateEvent) -> None:
        """MESSAGE_UPDATE, whether or not the message is in discord.py's cache."""
        await self._listener.message_edited(payload)

    async def on_raw_message_delete(self, payload: discord.RawMessageDeleteEvent) -> None:
        """MESSAGE_DELETE."""
        await self._listener.messages_deleted(payload.channel_id, [payload.message_id])

    async def on_raw_bulk_message_delete(self, payload: discord.RawBulkMessageDeleteEvent) -> None:
        """MESSAGE_DELETE_BULK (a moderator purging messages)."""
        await self._listener.messages_deleted(payload.channel_id, sorted(payload.message_ids))

    async def on_error(self, event_method: str, /, *args: object, **kwargs: object) -> None:
        """A handler failed: log it with our logger (discord.py would print it and carry on too)."""
        log.exception("discord: handling %s failed", event_method)
