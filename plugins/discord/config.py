"""``[plugins.discord]``: the bot token, the servers and channels watched, and what the bot may do.

The token can come from the environment (``CHATOPS_PLUGINS__DISCORD__TOKEN``); it is a ``SecretStr``
so it never shows in a repr, a log line or a validation error.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

#: Discord's HTTP API (discord.py's ``Route.BASE``); ``api_url`` replaces it (a fake in tests).
DEFAULT_API_URL = "https://discord.com/api/v10"
_SNOWFLAKE_RE = re.compile(r"[0-9]{1,20}")


def _snowflakes(values: list[str], what: str) -> list[str]:
    out = []
    for raw in values:
        value = str(raw).strip()
        if not _SNOWFLAKE_RE.fullmatch(value):
            raise ValueError(f"{value!r} is not a {what} id: Discord ids are numbers (Developer Mode → Copy ID)")
        out.append(value)
    return out


class DiscordConfig(BaseModel):
    """Settings of ``[plugins.discord]`` (see docs/discord.md for the developer portal steps)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: The bot's token (Developer Portal → Bot → Reset Token).
    token: SecretStr
    #: Servers (guilds) watched; every text channel in them unless ``channel_ids`` narrows it.
    guild_ids: list[str] = Field(default_factory=list)
    #: Channels watched (threads under them included). Empty: every channel of ``guild_ids``.
    channel_ids: list[str] = Field(default_factory=list)
    #: Messages by other bots are not customers (webhooks and integrations post as bots).
    ignore_bots: bool = True
    #: Offer Hide on cards, which on Discord means *deleting* the message (Discord has no hide). Off by
    #: default: criticism is answered, not removed. Needs the Manage Messages permission too.
    allow_delete: bool = False
    #: After a reconnect, read at most this many missed messages per watched channel in one pass; the
    #: rest is read by the next passes (a retry, a reconnect, a live message there), from where it stopped.
    catch_up_limit: int = Field(default=500, ge=0, le=10_000)
    #: Base URL of Discord's HTTP API (with its version path); tests point it at a local fake.
    api_url: str = DEFAULT_API_URL
    #: The gateway's WebSocket URL; empty means the one Discord names. Tests point it at a local fake.
    gateway_url: str | None = None
    display_name: str = Field(default="Discord", min_length=1, max_length=60)
    #: Slack channel for Discord's cards; empty means the inbox channel.
    channel: str | None = None
    #: Discord messages are at most 2000 characters.
    max_reply_length: int = Field(default=2000, ge=1, le=2000)
    #: How long start-up waits for the gateway before reporting it (the bot keeps running).
    connect_timeout_seconds: float = Field(default=30.0, gt=0.0, le=600.0)
    #: After connecting, how long discord.py waits for more servers' data before it is ready (its
    #: ``guild_ready_timeout``, default 2 s); a bot in one or two servers can wait less.
    guild_ready_timeout_seconds: float = Field(default=2.0, gt=0.0, le=60.0)

    @field_validator("guild_ids", "channel_ids", mode="before")
    @classmethod
    def _one_or_many(cls, value: object) -> object:
        # One id from the environment arrives as a plain string ("123" has no comma to split on).
        if isinstance(value, str | int) and not isinstance(value, bool):
            return [part for part in str(value).split(",") if part.strip()]
        return value

    @field_validator("guild_ids")
    @classmethod
    def _guilds(cls, value: list[str]) -> list[str]:
        return _snowflakes(value, "server")

    @field_validator("channel_ids")
    @classmethod
    def _channels(cls, value: list[str]) -> list[str]:
        return _snowflakes(value, "channel")

    @field_validator("token")
    @classmethod
    def _token(cls, value: SecretStr) -> SecretStr:
        if not value.get_secret_value().strip():
            raise ValueError("must not be empty")
        return value

    @field_validator("api_url")
    @classmethod
    def _api_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in ("http", "https") or not parts.netloc:
            raise ValueError("must be an http(s) URL such as https://discord.com/api/v10")
        return value.rstrip("/")

    @field_validator("gateway_url")
    @classmethod
    def _gateway_url(cls, value: str | None) -> str | None:
        if value is None or not value.strip():
            return None
        parts = urlsplit(value)
        if parts.scheme not in ("ws", "wss") or not parts.netloc:
            raise ValueError("must be a ws(s) URL such as wss://gateway.discord.gg")
        return value

    @model_validator(mode="after")
    def _watches_something(self) -> DiscordConfig:
        if not self.guild_ids and not self.channel_ids:
            raise ValueError("set guild_ids, channel_ids or both; otherwise no message is ever watched")
        return self
