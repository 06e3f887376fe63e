"""The customer side of a source, as :class:`~chatops.testing.bot.TestBot` drives it.

The test kit knows Slack and the core, not any source: how a customer's comment reaches
the bot (a signed webhook, a Graph API change notification, a Discord gateway event, …)
belongs to the source plugin. A plugin that wants ``bot.comment("Where is my order?")``
to work ships a :class:`Customer` and the bot is built with it::

    from chatops_plugins.webhook.testing import WebhookCustomer

    async with TestBot(fake_slack, database_url, customer=WebhookCustomer) as bot:
        await bot.comment("Where is my order?")

A test suite picks the customer most of its tests use once, in its ``conftest.py``
(``TestBot.default_customer = WebhookCustomer``); a bot built with no customer and no
default has :class:`NoCustomer`, which enables no plugin and fails a test that asks it
for a comment, naming what to pass.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Protocol

import httpx

if TYPE_CHECKING:
    from chatops.testing.bot import TestBot


class Customer(Protocol):
    """What TestBot needs from a source's customer side: its plugins, their settings, and a comment."""

    #: Plugins the bot must enable for this customer's messages to arrive (``[plugins] enabled``).
    plugins: Sequence[str]
    #: Settings those plugins need in the bot under test (merged beneath the test's own ``config``).
    config: Mapping[str, Any]

    def payload(self, text: str, **fields: Any) -> dict[str, Any]:
        """A customer's message in the source's own shape, ``fields`` overriding the defaults."""
        ...

    async def send(self, payload: Mapping[str, Any] | bytes, **options: Any) -> httpx.Response:
        """Deliver ``payload`` to the running bot as the source would, returning the bot's answer."""
        ...

    async def comment(self, text: str, **fields: Any) -> httpx.Response:
        """Deliver a message saying ``text``; fail the test unless the bot accepted it."""
        ...


#: Builds the customer side for one bot (it reaches the bot through ``bot.http`` once started).
CustomerFactory = Callable[["TestBot"], Customer]


class NoCustomer:
    """The customer side of a bot built without one: no plugin, and a clear failure when a comment is asked for."""

    plugins: Sequence[str] = ()
    config: Mapping[str, Any] = {}

    def __init__(self, bot: TestBot) -> None:
        """Nothing to set up."""
        self.bot = bot

    def _missing(self) -> AssertionError:
        return AssertionError(
            "this TestBot has no customer side: pass customer=<factory> (e.g. "
            "chatops_plugins.webhook.testing.WebhookCustomer) or set TestBot.default_customer in conftest.py"
        )

    def payload(self, text: str, **fields: Any) -> dict[str, Any]:
        """Fail: there is no source to shape a message for."""
        raise self._missing()

    async def send(self, payload: Mapping[str, Any] | bytes, **options: Any) -> httpx.Response:
        """Fail: there is no source to deliver through."""
        raise self._missing()

    async def comment(self, text: str, **fields: Any) -> httpx.Response:
        """Fail: there is no source to deliver through."""
        raise self._missing()
