"""``/rota``: read the rota, and change it (leads only); the ``/rota edit`` dialog."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from slack_bolt.async_app import AsyncApp

    from .service import Rota


def register(rota: Rota, bolt: AsyncApp) -> None:
    """Register ``/rota`` and the dialog's listeners on ``bolt``."""
    # PLACEHOLDER until the slash part lands: the core answers "not enabled".
