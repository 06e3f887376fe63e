"""Polling X for mentions and the account's own posts (foundation placeholder: written next)."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .source import XSource


async def poll_job(source: XSource, due_at: datetime) -> None:
    """One scheduled polling pass."""
    raise NotImplementedError("x polling is not written yet")
