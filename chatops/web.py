"""The bot's HTTP surface: ``/slack/events`` (HTTP mode), source webhooks, ``/healthz``, ``/readyz``.

``/healthz`` is liveness (the process answers; no database call, so a database outage never
gets a healthy bot restarted); ``/readyz`` is readiness (the database can take a write now).
A request that meets a database that cannot take a write is answered 503 with
``Retry-After``, never 500: senders (Meta, webhook callers) retry a 503.
"""

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

from chatops.db import DatabaseUnavailable

if TYPE_CHECKING:
    from chatops.app import ChatOps

log = logging.getLogger(__name__)

#: Seconds a sender is asked to wait before retrying while the database cannot take a write.
RETRY_AFTER_SECONDS = 10


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


async def database_unavailable(request: Request, exc: Exception) -> Response:
    """Answer any request that met a database unable to take a write: 503 with ``Retry-After``.

    The request's transaction was rolled back, so nothing of it is stored; the platform's
    retry (or Slack's) will find the database back.
    """
    reason = exc.reason if isinstance(exc, DatabaseUnavailable) else type(exc).__name__
    log.warning("%s %s answered 503: database unavailable: %s", request.method, request.url.path, reason)
    return JSONResponse(
        {"error": "the database cannot take a write just now; try again later"},
        status_code=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


def health_routes(app: ChatOps) -> list[BaseRoute]:
    """``GET /healthz`` (liveness) and ``GET /readyz`` (readiness: the database takes a write)."""

    async def healthz(_request: Request) -> Response:
        # Liveness only: the event loop answers. A database outage is /readyz's business;
        # failing here would make an orchestrator restart a bot that recovers by itself.
        return JSONResponse({"status": "ok"})

    async def readyz(_request: Request) -> Response:
        try:
            await app.db.check_writable()
        except DatabaseUnavailable as exc:
            log.warning("readiness: database cannot take a write: %s", exc.reason)
            return JSONResponse(
                {"status": "unavailable", "database": exc.reason},
                status_code=503,
                headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
            )
        return JSONResponse({"status": "ready", "database": "writable"})

    return [Route("/healthz", healthz, methods=["GET"]), Route("/readyz", readyz, methods=["GET"])]


def build_web(app: ChatOps) -> Starlette:
    """The Starlette application for one bot instance."""
    routes: list[BaseRoute] = health_routes(app)

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
    return Starlette(routes=routes, exception_handlers={DatabaseUnavailable: database_unavailable})
