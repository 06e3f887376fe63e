"""``GET /metrics``: the bot's metrics in Prometheus text format.

Served on the bot's own port beside the webhooks, unprotected, as Prometheus expects:
it shows counts and the version, never message text, ids or secrets. An operator who
does not want it reachable sets ``http.metrics = false`` (or blocks the path at the
proxy that exposes the webhooks).
"""

from __future__ import annotations

from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from chatops.db import Database
from chatops.observability.metrics import Metrics


def metrics_routes(metrics: Metrics, db: Database) -> list[BaseRoute]:
    """The ``GET /metrics`` route: refresh the outbox snapshot (one query), then render the registry."""

    async def render(_request: Request) -> Response:
        await metrics.outbox.refresh(db)
        return Response(generate_latest(metrics.registry), media_type=CONTENT_TYPE_LATEST)

    return [Route("/metrics", render, methods=["GET"])]
