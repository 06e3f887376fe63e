"""The hand-off at each shift change, and the "nobody on shift" notice to the leads."""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from chatops.jobs import Job

    from .service import Rota


def register_kinds(rota: Rota) -> None:
    """Register the outbox kinds the hand-off posts with."""
    # PLACEHOLDER until the hand-off part lands: nothing to register.


def jobs(rota: Rota) -> list[Job]:
    """The scheduled jobs."""
    return []  # PLACEHOLDER until the hand-off part lands
