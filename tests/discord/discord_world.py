"""The world of the Discord tests: fixture values, the bot's config, and the customer's side.

One server (:data:`GUILD`) with two watched channels (:data:`SUPPORT`, :data:`FEEDBACK`), one the
bot can read but does not watch (:data:`OFFTOPIC`), and a public thread under SUPPORT
(:data:`THREAD`). :class:`Discord` is the test's view of it: customers writing on the fake
(:meth:`Discord.say`), the plugin's connection (:meth:`Discord.connected`, :meth:`Discord.reconnect`)
and what the bot stored. What reached Discord is on the fake (``sent``, ``deleted``); the Slack side
is the ``TestBot``.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import func, select

from chatops.models import Message
from chatops.testing.bot import TestBot
from chatops_plugins.discord.source import DiscordSource
from chatops_plugins.discord.testing import FakeDiscord, GatewayConnection

TOKEN = "discord-bot-token-for-tests"
BOT_ID = "900000000000000001"
BOT_NAME = "Kahvila Helper"
APP_ID = "900000000000000002"
GUILD = "100000000000000100"
GUILD_NAME = "Kahvila Aurinko"
SUPPORT = "200000000000000200"
FEEDBACK = "200000000000000201"
#: Readable by the bot, but not in ``channel_ids``: messages here are not customers'.
OFFTOPIC = "200000000000000210"
#: A public thread under SUPPORT.
THREAD = "300000000000000300"
THREAD_NAME = "Order 1234 never arrived"
#: Customers (id, name) and another bot (a webhook integration posting as a bot user).
AINO = ("500000000000005551", "Aino Asiakas")
EERO = ("500000000000005552", "Eero Esimerkki")
ORDER_BOT = ("500000000000005559", "Order Notifier")


def source(bot: TestBot) -> DiscordSource:
    """The running bot's Discord source."""
    assert bot.app is not None
    found = bot.app.sources["discord"]
    assert isinstance(found, DiscordSource)
    return found


async def connected(bot: TestBot) -> TestBot:
    """``bot``, once its Discord gateway is ready (fails after 10 s)."""
    assert await source(bot).wait_connected(10), "the Discord gateway never became ready"
    return bot


def build_world(fake: FakeDiscord) -> None:
    """Populate a reset fake with the server, channels, thread and users above."""
    fake.add_guild(GUILD, GUILD_NAME)
    fake.add_channel(GUILD, SUPPORT, "support")
    fake.add_channel(GUILD, FEEDBACK, "feedback")
    fake.add_channel(GUILD, OFFTOPIC, "off-topic")
    fake.add_thread(SUPPORT, THREAD, THREAD_NAME)
    fake.user(*AINO)
    fake.user(*EERO)
    fake.user(*ORDER_BOT, bot=True)


def discord_config(fake: FakeDiscord, **discord: Any) -> dict[str, Any]:
    """Bot config with only the Discord plugin on, pointed at the fake, watching SUPPORT and FEEDBACK."""
    return {
        # Token and permission failures retry at the longest backoff; keep it short in tests.
        "delivery": {"backoff_max_seconds": 0.2},
        "plugins": {
            "enabled": ["discord"],
            "discord": {
                "token": TOKEN,
                "guild_ids": [GUILD],
                "channel_ids": [SUPPORT, FEEDBACK],
                "api_url": fake.api_url,
                "gateway_url": fake.gateway_url,
                "connect_timeout_seconds": 5,
                # discord.py waits this long after the last GUILD_CREATE before on_ready (2 s by default);
                # the fake sends them all at once.
                "guild_ready_timeout_seconds": 0.1,
                **discord,
            },
        },
    }


class Discord:
    """The customer's side of Discord, and what the bot did there."""

    def __init__(self, bot: TestBot, fake: FakeDiscord) -> None:
        self.bot = bot
        self.fake = fake

    # -- the customer writes -------------------------------------------------------------------

    def say(
        self,
        text: str,
        *,
        channel: str = SUPPORT,
        who: tuple[str, str] = AINO,
        reply_to: str | None = None,
        dispatch: bool = True,
    ) -> dict[str, Any]:
        """``who`` writes ``text`` in ``channel`` (a thread id works too); returns the message object."""
        return self.fake.post(channel, who[0], text, reply_to=reply_to, dispatch=dispatch)

    # -- the plugin's connection --------------------------------------------------------------------

    @property
    def source(self) -> Any:
        """The running Discord source of the bot under test."""
        assert self.bot.app is not None, "start the bot first"
        return self.bot.app.sources["discord"]

    async def connected(self, count: int = 1) -> GatewayConnection:
        """Wait until the plugin's client has had ``count`` ready connections and says it is ready."""
        connection = await self.fake.wait_ready(count)

        def client_ready() -> bool:
            client = self.source.client
            return client is not None and client.is_ready()

        await self.fake.wait_for(client_ready, what="the plugin's discord.py client to be ready")
        return connection

    async def reconnect(self, *, code: int = 4000, resumable: bool = True) -> GatewayConnection:
        """Drop the plugin's gateway connection and wait until it is back (resumed or identified anew)."""
        before = len([c for c in self.fake.connections if c.ready])
        assert self.fake.disconnect(code, resumable=resumable) >= 1, "the plugin had no open gateway connection"
        return await self.connected(before + 1)

    # -- what the bot stored ----------------------------------------------------------------------

    async def stored_messages(self) -> int:
        """How many messages the database holds."""
        assert self.bot.app is not None
        async with self.bot.app.db.read() as session:
            return int(await session.scalar(select(func.count(Message.id))) or 0)
