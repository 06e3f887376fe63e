"""The scheduled digests: a minute job that posts each daily and weekly digest once, across replicas.

A missed one (the bot was down) is posted once when the bot is back, within ``grace_hours``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chatops.jobs import Job

    from .service import Digests


def register_kinds(digests: Digests) -> None:
    """Register the outbox kind that posts a digest."""


def jobs(digests: Digests) -> list[Job]:
    """The minute job."""
    return []
