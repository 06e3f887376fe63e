"""A whole digest (the window, the one before, the backlog, the chart's days) read in one go.

Used alike by the scheduled post, ``/chatops digest`` and ``chatops digest`` in a terminal,
so the three always say the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from zoneinfo import ZoneInfo

from chatops.db import Database

from . import figures
from .figures import Backlog, DayPoint, Figures, Options
from .periods import Period, history, windows


@dataclass(frozen=True, slots=True)
class DigestReport:
    """What one digest shows."""

    period: Period
    current: Figures
    previous: Figures
    backlog: Backlog
    #: The chart's days (empty when the chart is not wanted).
    history: tuple[DayPoint, ...]
    options: Options
    #: When it was read (UTC).
    generated_at: datetime
    tz: ZoneInfo


async def compose(
    db: Database, period: Period, now: datetime, tz: ZoneInfo, options: Options, *, chart: bool = True
) -> DigestReport:
    """Read the digest of ``period`` as it stands at ``now``."""
    current, previous = windows(period, now, tz)
    async with db.read() as session:
        this = await figures.window_figures(session, current, options)
        before = await figures.window_figures(session, previous, options)
        open_now = await figures.backlog(session, now, options)
        days = await figures.daily_points(session, history(current.last_day, tz, now), options) if chart else []
    return DigestReport(period, this, before, open_now, tuple(days), options, now, tz)
