"""The bot's HTTP surface: ``/slack/events`` (HTTP mode), source webhooks, ``/healthz``."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

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
