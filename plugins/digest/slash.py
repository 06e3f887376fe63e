"""``/chatops digest [today|yesterday|week]``: the digest for the asker alone (ephemeral)."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from slack_bolt.async_app import AsyncApp

    from .service import Digests


def register(digests: Digests, bolt: AsyncApp) -> None:
    """Listen for ``/chatops``."""
