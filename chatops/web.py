"""The bot's HTTP surface: ``/slack/events`` (HTTP mode), source webhooks, ``/healthz``."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

if TYPE_CHECKING:
    from chatops.app import ChatOps

log = logging.getLogger(__name__)


class BodyTooLarge(Exception):
    """The request body is over the configured limit."""


async def read_body(request: Request, limit: int) -> bytes:
    """Read the raw body, refusing more than ``limit`` bytes without buffering them."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def error(status: int, message: str) -> JSONResponse:
    """A JSON error answer ``{"error": message}``."""
    return JSONResponse({"error": message}, status_code=status)


class Rejected(Exception):
    """A webhook request refused before anything is stored; ``response`` says why."""

    def __init__(self, response: Response) -> None:
        super().__init__(response.status_code)
        self.response = response


async def read_signed_json(
    request: Request, *, limit: int, signature_header: str, verify: Callable[[bytes, str | None], bool]
) -> Any:
    """The JSON body of a signed webhook, checked in the order that stores nothing on failure.

    Size first (413, without buffering more than ``limit``), then the signature over the
    raw bytes (401; never re-serialised JSON), then JSON syntax (400). Raises
    :class:`Rejected` carrying the answer.
    """
    try:
        body = await read_body(request, limit)
    except BodyTooLarge:
        raise Rejected(error(413, f"body over {limit} bytes")) from None
    if not verify(body, request.headers.get(signature_header)):
        raise Rejected(error(401, f"missing or wrong {signature_header}"))
    try:
        return json.loads(body)
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise Rejected(error(400, f"body is not valid JSON: {exc}")) from None


def build_web(app: ChatOps) -> Starlette:
    """The Starlette application for one bot instance."""
    routes: list[BaseRoute] = []

    async def healthz(_request: Request) -> Response:
        try:
            await app.db.ping()
        except Exception as exc:
            log.warning("health check: database unavailable: %s", type(exc).__name__)
            return JSONResponse({"status": "unavailable", "database": "down"}, status_code=503)
        return JSONResponse({"status": "ok", "database": "ok"})

    routes.append(Route("/healthz", healthz, methods=["GET"]))

    if app.settings.slack.mode == "http":
        handler = AsyncSlackRequestHandler(app.bolt)

        async def slack_events(request: Request) -> Response:
            limit = app.settings.http.max_body_bytes
            declared = request.headers.get("content-length")
            if declared is not None and declared.isdigit() and int(declared) > limit:
                return error(413, f"body over {limit} bytes")
            return await handler.handle(request)

        routes.append(Route("/slack/events", slack_events, methods=["POST"]))

    for source in app.sources.values():
        routes.extend(source.routes())
    for extra in app.pm.hook.chatops_routes(app=app):
        routes.extend(extra)
    return Starlette(routes=routes)
