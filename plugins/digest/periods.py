"""Which stretch of time a digest covers, in the team's timezone, and when a scheduled one is due.

Pure functions of a clock reading: no database, no Slack. Days are local days (a DST day is
23 or 25 hours long); every instant handed to SQL is UTC.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Literal
from zoneinfo import ZoneInfo

#: What ``/chatops digest`` and ``chatops digest --period`` take.
Period = Literal["today", "yesterday", "week"]
PERIODS: tuple[Period, ...] = ("today", "yesterday", "week")
#: Days the chart shows.
HISTORY_DAYS = 14
#: The minute a digest falls due in, which no grace cuts short: the minute job's run for 08:00
#: reads the clock a moment after 08:00:00, and ``grace_hours = 0`` must still post on time.
DUE_MINUTE = timedelta(minutes=1)


@dataclass(frozen=True, slots=True)
class Window:
    """A stretch of time the figures count: ``[start, end)`` in UTC, measured as things stood at ``as_of``.

    ``first_day``/``last_day`` are the local days it covers (for headings). ``as_of`` is when
    answers and resolutions stop counting: now for the current window, and the same age for the
    one it is compared with (yesterday's figures at 08:00 are compared with the day before's at
    08:00 yesterday), so neither has had longer to be answered.
    """

    start: datetime
    end: datetime
    as_of: datetime
    first_day: date
    last_day: date

    def __post_init__(self) -> None:
        for name in ("start", "end", "as_of"):
            value = getattr(self, name)
            if value.tzinfo is None:
                raise ValueError(f"Window.{name} must be timezone-aware")
        if self.end < self.start:
            raise ValueError("a window cannot end before it starts")


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant local ``day`` begins."""
    return datetime.combine(day, time(0), tzinfo=tz).astimezone(UTC)


def local_at(day: date, minute: int, tz: ZoneInfo) -> datetime:
    """The UTC instant of ``minute`` past local midnight on ``day`` (a time skipped by DST falls after the gap)."""
    wall = datetime.combine(day, time(minute // 60, minute % 60), tzinfo=tz)
    # zoneinfo reads a skipped wall time with the offset before the change; the round trip moves it past the gap.
    return wall.astimezone(UTC).astimezone(tz).astimezone(UTC)


def days_window(first: date, last: date, tz: ZoneInfo, as_of: datetime) -> Window:
    """Local days ``first``..``last`` (inclusive), whole, as they stood at ``as_of``."""
    return Window(local_midnight(first, tz), local_midnight(last + timedelta(days=1), tz), as_of, first, last)


def windows(period: Period, now: datetime, tz: ZoneInfo) -> tuple[Window, Window]:
    """The window ``period`` covers at ``now``, and the one it is compared with.

    - ``today``: local midnight to now, against yesterday up to the same local time;
    - ``yesterday``: the whole previous local day, against the day before;
    - ``week``: the seven whole local days before today, against the seven before those.
    """
    local_now = now.astimezone(tz)
    today = local_now.date()
    if period == "today":
        before = today - timedelta(days=1)
        # The same wall-clock time yesterday (a DST day in between changes the UTC gap, not the time).
        then = _same_time(local_now, before, tz)
        return (
            Window(local_midnight(today, tz), now, now, today, today),
            Window(local_midnight(before, tz), then, then, before, before),
        )
    days = 1 if period == "yesterday" else 7
    first = today - timedelta(days=days)
    previous_first = first - timedelta(days=days)
    earlier = _same_time(local_now, today - timedelta(days=days), tz)
    return (
        days_window(first, today - timedelta(days=1), tz, now),
        days_window(previous_first, first - timedelta(days=1), tz, earlier),
    )


def history(last_day: date, tz: ZoneInfo, now: datetime, days: int = HISTORY_DAYS) -> list[Window]:
    """One window per local day for the chart: ``days`` days ending with ``last_day``, each as it stands now."""
    return [days_window(day, day, tz, now) for day in (last_day - timedelta(days=n) for n in range(days - 1, -1, -1))]


def _same_time(local_now: datetime, day: date, tz: ZoneInfo) -> datetime:
    """``local_now``'s wall-clock time on ``day``, as UTC."""
    wall = datetime.combine(day, local_now.time().replace(tzinfo=None), tzinfo=tz)
    return wall.astimezone(UTC).astimezone(tz).astimezone(UTC)


@dataclass(frozen=True, slots=True)
class Due:
    """A scheduled digest that should have been posted: which kind, for which days, from when."""

    kind: Literal["daily", "weekly"]
    period: Period
    #: When it fell due (UTC): the claim's key, with the kind.
    due_at: datetime


def due(now: datetime, tz: ZoneInfo, *, minute: int, daily: bool, weekday: int | None, grace: timedelta) -> list[Due]:
    """The scheduled digests due at ``now`` and not older than ``grace``: the latest of each kind at most.

    A digest missed while the bot was down is still due when it comes back within the grace
    (counted from the end of the minute it fell due in); one older than that is skipped
    (yesterday's figures at 15:00 are no morning digest).
    An earlier occurrence superseded by a later one is never due.
    """
    local_today = now.astimezone(tz).date()
    found: list[Due] = []
    if daily:
        latest = next(at for at in (local_at(local_today - timedelta(days=n), minute, tz) for n in (0, 1)) if at <= now)
        if now - latest < grace + DUE_MINUTE:
            found.append(Due("daily", "yesterday", latest))
    if weekday is not None:
        for offset in range(8):
            day = local_today - timedelta(days=offset)
            at = local_at(day, minute, tz)
            if day.weekday() == weekday and at <= now:
                if now - at < grace + DUE_MINUTE:
                    found.append(Due("weekly", "week", at))
                break
    return found
