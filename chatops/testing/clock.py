"""A clock a test moves by hand, for plugins that take one (the rota's and the digest's ``clock``)."""

from __future__ import annotations

from datetime import datetime, timedelta


class Clock:
    """A clock the test moves by hand: ``clock.set(...)``, ``clock.advance(minutes=5)``; call it for the time."""

    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def set(self, at: datetime) -> None:
        """Jump to ``at`` (timezone-aware)."""
        assert at.tzinfo is not None, "use aware datetimes"
        self.now = at

    def advance(self, **delta: float) -> datetime:
        """Move forward by ``timedelta(**delta)``; returns the new time."""
        self.now += timedelta(**delta)
        return self.now
