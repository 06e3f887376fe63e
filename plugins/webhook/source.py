"""The generic signed-webhook source: any system that can POST JSON feeds the inbox.

Inbound: ``POST /webhooks/webhook`` with a JSON body (see README, "Webhook
format") signed in ``X-Chatops-Signature``. Outbound: the team's replies are
POSTed, signed the same way, to the ``reply_url`` the sender gave.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import socket
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import ClassVar
from urllib.parse import urlsplit

import httpx
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from chatops.sources import (
    Answer,
    Author,
    Capability,
    Context,
    InboundMessage,
    SendError,
    SendResult,
    Source,
    SourceContext,
    Target,
)
from chatops.web import Rejected, error, read_signed_json

from .payload import PayloadError, parse_message
from .signature import SIGNATURE_HEADER, sign, verify

log = logging.getLogger(__name__)

PATH = "/webhooks/webhook"
#: Statuses after which the same request may work later.
RETRYABLE_STATUSES = {408, 409, 425, 429}


class WebhookConfig(BaseModel):
    """``[plugins.webhook]``: the shared secret and limits of the generic webhook."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    #: Shared HMAC key; SecretStr so it never shows in a repr or a validation error.
    secret: SecretStr
    display_name: str = Field(default="Webhook", min_length=1, max_length=60)
    channel: str | None = None
    max_body_bytes: int = Field(default=262_144, ge=1024)
    max_text_length: int = Field(default=20_000, ge=1)
    max_reply_length: int = Field(default=5_000, ge=1)
    reply_timeout_seconds: float = Field(default=10.0, gt=0)
    allowed_reply_hosts: list[str] = Field(default_factory=list)
    allow_private_reply_urls: bool = False

    @field_validator("secret")
    @classmethod
    def _long_enough(cls, value: SecretStr) -> SecretStr:
        if len(value.get_secret_value()) < 16:
            raise ValueError("String should have at least 16 characters")
        return value


class WebhookSource(Source):
    """Inbound messages from a signed webhook; replies to the sender's callback URL."""

    name = "webhook"
    capabilities = frozenset({Capability.REPLY})
    texts: ClassVar[Mapping[str, Mapping[str, str]]] = {
        "en": {"webhook.no_reply_url": "the sender gave no reply_url"},
        "fi": {"webhook.no_reply_url": "lähettäjä ei antanut vastausosoitetta (reply_url)"},
        "pl": {"webhook.no_reply_url": "nadawca nie podał adresu odpowiedzi (reply_url)"},
    }

    def __init__(self, config: WebhookConfig) -> None:
        self.config = config
        self.display_name = config.display_name  # type: ignore[misc]
        self.inbox_channel = config.channel
        self.max_reply_length = config.max_reply_length
        self._ctx: SourceContext | None = None
        self._http: httpx.AsyncClient | None = None

    def routes(self) -> list[BaseRoute]:
        """``POST /webhooks/webhook``."""
        return [Route(PATH, self.receive, methods=["POST"])]

    async def start(self, ctx: SourceContext) -> None:
        """Keep the plugin's context for ingestion and open the HTTP client for callbacks."""
        self._ctx = ctx
        self._http = httpx.AsyncClient(timeout=self.config.reply_timeout_seconds, follow_redirects=False)

    async def stop(self) -> None:
        """Close the callback client."""
        if self._http is not None:
            await self._http.aclose()
            self._http = None

    async def receive(self, request: Request) -> Response:
        """Verify, validate and store one message. 413, 401, 400 store nothing."""
        if self._ctx is None:
            return error(503, "not started")
        try:
            data = await read_signed_json(
                request,
                limit=self.config.max_body_bytes,
                signature_header=SIGNATURE_HEADER,
                verify=lambda body, header: verify(self.config.secret.get_secret_value(), body, header),
            )
        except Rejected as rejected:
            return rejected.response
        try:
            message = parse_message(data, max_text_length=self.config.max_text_length)
        except PayloadError as exc:
            return error(400, str(exc))
        if message.reply_url and not self._reply_host_allowed(message.reply_url):
            return error(400, "reply_url: host is not in plugins.webhook.allowed_reply_hosts")
        result = await self._ctx.ingest(
            InboundMessage(
                source=self.name,
                external_id=message.id,
                thread_id=message.thread_id or message.id,
                text=message.text,
                author=Author(message.author.id, message.author.name, message.author.handle, message.author.url),
                url=message.url,
                created_at=message.created_at,
                channel_name=message.channel,
                context=Context(message.context.text, message.context.url) if message.context else None,
                extra={"reply_url": message.reply_url} if message.reply_url else {},
            )
        )
        return JSONResponse(
            {"status": "duplicate" if result.duplicate else "stored", "conversation_id": result.conversation_id},
            status_code=200 if result.duplicate else 201,
        )

    def _reply_host_allowed(self, url: str) -> bool:
        allowed = self.config.allowed_reply_hosts
        return not allowed or (urlsplit(url).hostname or "") in allowed

    def unavailable_reason(self, capability: Capability, target: Target) -> str | None:
        """Replies need the reply_url the sender gave with the message."""
        if capability is Capability.REPLY and not target.extra.get("reply_url"):
            return self.t("webhook.no_reply_url")
        return None

    async def reply(self, target: Target, answer: Answer) -> SendResult:
        """POST the reply, signed, to the sender's reply_url."""
        url = target.extra.get("reply_url")
        if not url:
            raise SendError("the sender gave no reply_url", retryable=False)
        assert self._http is not None, "source not started"
        if not self.config.allow_private_reply_urls:
            refused = await private_address(url)
            if refused:
                raise SendError(f"the reply_url points at a private address ({refused})", retryable=False)
        payload = {
            "type": "reply",
            "id": f"chatops-{answer.id}",
            "in_reply_to": target.external_id,
            "thread_id": target.thread_id,
            "text": answer.text,
            "author": {"slack_user_id": answer.sent_by, "name": answer.sent_by_name},
            "sent_at": datetime.now(UTC).isoformat(),
        }
        body = json.dumps(payload, ensure_ascii=False).encode()
        headers = {
            "Content-Type": "application/json",
            SIGNATURE_HEADER: sign(self.config.secret.get_secret_value(), body),
            # The same key on every retry of one answer lets the receiver drop repeats.
            "Idempotency-Key": f"chatops-{answer.id}",
        }
        try:
            response = await self._http.post(url, content=body, headers=headers)
        except httpx.TimeoutException:
            raise SendError("the reply_url did not answer in time", retryable=True) from None
        except httpx.HTTPError as exc:
            raise SendError(f"could not reach the reply_url: {type(exc).__name__}", retryable=True) from None
        if response.is_success:
            return _result(response)
        detail = response.text[:200].strip()
        message = f"the reply_url answered {response.status_code}" + (f": {detail}" if detail else "")
        retry_after = response.headers.get("retry-after")
        raise SendError(
            message,
            retryable=response.status_code >= 500 or response.status_code in RETRYABLE_STATUSES,
            retry_after=float(retry_after) if retry_after and retry_after.isdigit() else None,
        )


async def private_address(url: str) -> str | None:
    """The loopback, private, link-local or reserved address ``url``'s host resolves to, if any.

    A leaked secret must not turn the bot into a proxy to the cloud metadata service
    or internal systems. (A DNS answer that changes between this check and the request
    is not caught; ``allowed_reply_hosts`` is the strict control.)
    """
    host = urlsplit(url).hostname or ""
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return None  # unresolvable: the request itself will fail and be retried
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            return str(address)
    return None


def _result(response: httpx.Response) -> SendResult:
    try:
        data = response.json()
    except ValueError:
        return SendResult()
    if not isinstance(data, dict):
        return SendResult()
    external_id = data.get("id")
    url = data.get("url")
    return SendResult(str(external_id) if external_id is not None else None, str(url) if url else None)
