"""X's Account Activity webhook (foundation placeholder: written next)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from starlette.routing import BaseRoute

if TYPE_CHECKING:
    from .source import XSource


def webhook_routes(source: XSource) -> list[BaseRoute]:
    """``GET`` (CRC challenge) and ``POST`` (signed events) on ``/webhooks/x``."""
    raise NotImplementedError("x webhook is not written yet")
