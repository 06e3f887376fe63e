"""The webhook source's customer side, for tests driven by :class:`~chatops.testing.bot.TestBot`.

:class:`WebhookCustomer` knows what the test kit must not: the webhook's payload shape
(see :mod:`chatops_plugins.webhook.payload`), its signature header and where the bot
listens for it. Build a bot with it, or make it the suite's default in ``conftest.py``::

    TestBot.default_customer = WebhookCustomer

    async with TestBot(fake_slack, database_url) as bot:
        await bot.comment("Where is my order?")       # a signed POST to /webhooks/webhook
        await bot.webhook(b"not json")                 # any body, signed with WEBHOOK_SECRET
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping, Sequence
from types import EllipsisType
from typing import TYPE_CHECKING, Any

import httpx

from chatops_plugins.webhook.signature import SIGNATURE_HEADER, sign

if TYPE_CHECKING:
    from chatops.testing.bot import TestBot

WEBHOOK_SECRET = "test-webhook-secret-0123456789"  # noqa: S105 - a test fixture value
#: Where the bot receives the webhook source's POSTs.
WEBHOOK_PATH = "/webhooks/webhook"


class WebhookCustomer:
    """A sender of the generic webhook: shapes messages, signs them and POSTs them to the bot under test."""

    plugins: Sequence[str] = ("webhook",)

    def __init__(self, bot: TestBot, *, secret: str = WEBHOOK_SECRET) -> None:
        """Send to ``bot`` (once started), signing with ``secret``, which the bot is configured with."""
        self.bot = bot
        self.secret = secret
        self._counter = 0

    @property
    def config(self) -> Mapping[str, Any]:
        """The webhook plugin's settings in the bot under test."""
        # The fakes listen on 127.0.0.1, which production refuses as a reply_url.
        return {"plugins": {"webhook": {"secret": self.secret, "allow_private_reply_urls": True}}}

    def payload(self, text: str, **fields: Any) -> dict[str, Any]:
        """A webhook message in the documented shape, with sensible defaults and a fresh id."""
        self._counter += 1
        payload: dict[str, Any] = {
            "id": f"msg-{self._counter}-{time.monotonic_ns()}",
            "text": text,
            "author": {"name": "Matti Meikäläinen", "handle": "matti", "url": "https://example.test/u/matti"},
            "url": "https://example.test/c/1",
            "timestamp": "2026-11-23T10:00:00Z",
            "channel": "Contact form",
        }
        payload.update(fields)
        return payload

    async def send(
        self,
        payload: Mapping[str, Any] | bytes,
        *,
        secret: str | EllipsisType | None = ...,
        headers: Mapping[str, str] | None = None,
        path: str = WEBHOOK_PATH,
    ) -> httpx.Response:
        """POST a webhook body to the bot, signed with ``secret`` (default: this customer's; None: unsigned)."""
        if secret is ...:
            secret = self.secret
        assert self.bot.http is not None, "start the bot before sending to it"
        body = payload if isinstance(payload, bytes) else json.dumps(payload, ensure_ascii=False).encode()
        sent = {"Content-Type": "application/json"}
        if secret is not None:
            sent[SIGNATURE_HEADER] = sign(secret, body)
        sent.update(headers or {})
        return await self.bot.http.post(path, content=body, headers=sent)

    async def comment(self, text: str, **fields: Any) -> httpx.Response:
        """A customer's message arrives through the webhook; fails the test unless it is stored."""
        response = await self.send(self.payload(text, **fields))
        assert response.status_code in (200, 201), response.text
        return response
