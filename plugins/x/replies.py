"""Replies posted on X (foundation placeholder: written next)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from chatops.sources import Answer, SendResult, Target

if TYPE_CHECKING:
    from .source import XSource


async def send_reply(source: XSource, target: Target, answer: Answer) -> SendResult:
    """Post ``answer`` under the customer's post."""
    raise NotImplementedError("x replies are not written yet")
