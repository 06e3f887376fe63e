"""Discord's customers' side in ``chatops sandbox``: messages in the café's #support channel.

The plugin's real discord.py client connects to a :class:`~.testing.FakeDiscord` over a real
WebSocket (the fake's gateway) and its HTTP API, with a bot token made up for this run. A
customer's message is written on the fake, which dispatches ``MESSAGE_CREATE`` to the connected
client, exactly as Discord does; a follow-up is a Discord reply (``message_reference``) to the
earlier message. The feed reads the channel back: each customer's message with the replies that
point to it (the bot's answers and the customers' follow-ups), and a note for a message that is
no longer there (the card's Hide deletes on Discord when ``allow_delete`` is on; it is off here,
as by default).

Stop the bot before this source: the fake closes the gateway when it stops, and a running client
would try to reconnect to it.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from chatops.sandbox.posting import Customers, customer_name, customer_text
from chatops.sandbox.sources import CustomerPost, FakeBackedSource, SandboxPostError

from .fake_http import MAX_CONTENT
from .testing import FakeDiscord

GUILD_ID = "100000000000000100"
GUILD_NAME = "Kahvila Aurinko"
CHANNEL_ID = "200000000000000200"
CHANNEL_NAME = "support"
BOT_ID = "900000000000000001"
BOT_NAME = "Kahvila Aurinko"
APPLICATION_ID = "900000000000000002"
#: How long a post waits for the plugin's client to be connected (it connects as the bot starts).
CONNECT_WAIT_SECONDS = 10.0
DELETED_NOTE = "deleted"


@dataclass(frozen=True)
class _Written:
    """A message a customer wrote on this page, kept so the feed can show it after it was deleted."""

    author: str
    text: str
    at: datetime
    reply_to: str | None


class DiscordSandbox(FakeBackedSource[FakeDiscord]):
    """Customers' messages in the café server's #support channel, and the bot's answers to them."""

    plugin = "discord"
    key = "discord"
    label = f"Discord · {GUILD_NAME} #{CHANNEL_NAME}"

    def __init__(self) -> None:
        """Make up this run's bot token and the fake's world (served from :meth:`start`)."""
        self._token = f"{secrets.token_urlsafe(18)}.{secrets.token_urlsafe(6)}.{secrets.token_urlsafe(27)}"
        self.fake = FakeDiscord(token=self._token, bot_user_id=BOT_ID, bot_name=BOT_NAME, application_id=APPLICATION_ID)
        self._customers = Customers(500_000_000_000_005_001)
        self._written: dict[str, _Written] = {}
        #: How long :meth:`post` waits for the plugin's client to be connected before refusing.
        self.connect_wait_seconds = CONNECT_WAIT_SECONDS
        # The café's server and its #support channel, there before anyone connects.
        self.fake.add_guild(GUILD_ID, GUILD_NAME)
        self.fake.add_channel(GUILD_ID, CHANNEL_ID, CHANNEL_NAME)

    @property
    def config(self) -> Mapping[str, Any]:
        """The plugin pointed at the fake's HTTP API and gateway, watching #support."""
        return {
            "token": self._token,
            "guild_ids": [GUILD_ID],
            "channel_ids": [CHANNEL_ID],
            "api_url": self.fake.api_url,
            "gateway_url": self.fake.gateway_url,
            "connect_timeout_seconds": 5,
            # discord.py waits this long after the last GUILD_CREATE before it is ready; the fake
            # sends its one server at once.
            "guild_ready_timeout_seconds": 0.1,
        }

    async def post(self, bot_url: str, author: str, text: str, *, reply_to: str | None = None) -> str:
        """Write the message in #support; the fake's gateway dispatches it to the plugin's client.

        ``bot_url`` is not used: Discord talks to the bot over the gateway connection the bot opened.
        Refused (SandboxPostError) when the bot's client is not connected within a few seconds, since
        Discord would deliver nothing then.
        """
        name = customer_name(author, platform="Discord")
        customer_text(text, platform="Discord", limit=MAX_CONTENT)
        if reply_to is not None and self.fake.message(reply_to) is None:
            raise SandboxPostError(f"Discord: there is no message {reply_to!r} to reply to")
        await self._connected()
        user_id = self._customers.id_for(name)
        self.fake.user(user_id, name)
        message = self.fake.post(CHANNEL_ID, user_id, text, reply_to=reply_to)
        self._written[message["id"]] = _Written(name, text, _time(message), reply_to)
        return str(message["id"])

    async def _connected(self) -> None:
        """Wait until the plugin's client has a ready gateway connection; SandboxPostError after a while."""
        deadline = time.monotonic() + self.connect_wait_seconds
        while not any(c.ready and c.open for c in self.fake.connections):
            if time.monotonic() > deadline:
                raise SandboxPostError(
                    "Discord: the bot is not connected to the Discord gateway; is the discord plugin enabled?"
                )
            await asyncio.sleep(0.05)

    def feed(self) -> Sequence[CustomerPost]:
        """The customers' messages, newest first, each with the replies that point to it."""
        present = {m["id"]: m for m in self.fake.messages(CHANNEL_ID)}
        parents = {i: w.reply_to for i, w in self._written.items()}
        for message in present.values():
            reference = message.get("message_reference")
            parents[message["id"]] = None if reference is None else str(reference["message_id"])

        def root(message_id: str) -> str:
            seen: set[str] = set()
            while (parent := parents.get(message_id)) is not None and message_id not in seen:
                seen.add(message_id)
                message_id = parent
            return message_id

        threads = [i for i, w in self._written.items() if w.reply_to is None]
        under: dict[str, list[CustomerPost]] = {i: [] for i in threads}
        for message_id in dict.fromkeys([*present, *self._written]):
            top = root(message_id)
            if top in under and message_id != top:
                under[top].append(self._seen(message_id, present.get(message_id)))
        feed = []
        for thread_id in reversed(threads):
            replies = sorted(under[thread_id], key=lambda reply: int(reply.id))
            feed.append(replace(self._seen(thread_id, present.get(thread_id)), replies=tuple(replies)))
        return feed

    def _seen(self, message_id: str, message: dict[str, Any] | None) -> CustomerPost:
        """A message as the channel shows it, or as it was written when it is gone."""
        if message is None:
            written = self._written[message_id]
            return CustomerPost(
                id=message_id, author=written.author, text=written.text, at=written.at, note=DELETED_NOTE
            )
        team = message["author"]["id"] == BOT_ID
        if team:
            author = BOT_NAME
        elif message_id in self._written:
            author = self._written[message_id].author
        else:
            author = str(message["author"].get("global_name") or message["author"]["username"])
        return CustomerPost(
            id=message_id, author=author, text=str(message.get("content", "")), at=_time(message), from_team=team
        )


def _time(message: dict[str, Any]) -> datetime:
    """A message's ``timestamp`` (ISO 8601, aware)."""
    return datetime.fromisoformat(str(message["timestamp"]))
