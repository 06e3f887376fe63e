"""The rota as iCalendar feeds behind unguessable URLs."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from .service import Rota


def routes(rota: Rota) -> list[BaseRoute]:
    """The feed routes."""
    return []  # PLACEHOLDER until the calendar part lands
