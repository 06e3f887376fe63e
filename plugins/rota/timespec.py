"""Days and times as shift leads type them: ``mon-fri``, ``mon,wed,fri``, ``08:00-16:00``, ``22:00-06:00``.

Shared by ``[plugins.rota]`` (service hours) and ``/rota`` (shifts), so both read the
same forms and say the same thing about a mistake. Times are minutes after local
midnight; ``24:00`` (1440) ends a day.
"""

from __future__ import annotations

import re

#: Weekday names as typed, Monday first (``date.weekday()`` order).
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
#: Minutes in a day: ``24:00``.
DAY_MINUTES = 24 * 60

# ASCII digits only: ``\d`` would also take Arabic-Indic or full-width digits.
_TIME = re.compile(r"([01]?[0-9]|2[0-4])[:.]([0-5][0-9])", re.ASCII)
#: Every weekday's full name; a day may be typed as any prefix of at least three letters (``tues``).
_DAY_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")


class SpecError(ValueError):
    """A day or time the reader could not understand; the message says what was expected."""


def parse_time(text: str, *, allow_end_of_day: bool = True) -> int:
    """``"08:00"`` → 480; ``"24:00"`` → 1440 (only as an end); ``8.30`` is read as 08:30."""
    found = _TIME.fullmatch(text.strip())
    if not found:
        raise SpecError(f"{text!r} is not a 24-hour time like 08:00")
    hours, minutes = int(found.group(1)), int(found.group(2))
    value = hours * 60 + minutes
    if value > DAY_MINUTES or (value == DAY_MINUTES and not allow_end_of_day):
        raise SpecError(f"{text!r} is not a time of day (24:00 only ends one)")
    return value


def parse_time_range(text: str) -> tuple[int, int]:
    """``"08:00-16:00"`` → (480, 960); an end at or before the start runs past midnight (``22:00-06:00``)."""
    parts = text.strip().split("-")
    if len(parts) != 2:
        raise SpecError(f"{text!r} is not a time range like 08:00-16:00")
    start = parse_time(parts[0], allow_end_of_day=False)
    end = parse_time(parts[1])
    if end == start:
        raise SpecError(f"{text!r} starts and ends at the same time")
    return start, end


def parse_day(text: str) -> int:
    """``"mon"``, ``"Tues"``, ``"friday"`` → weekday number (Mon = 0)."""
    word = text.strip().lower()
    for number, name in enumerate(_DAY_NAMES):
        if len(word) >= 3 and name.startswith(word):
            return number
    raise SpecError(f"{text.strip()!r} is not a day like mon, a range like mon-fri or a list like mon,wed")


def parse_days(text: str) -> frozenset[int]:
    """``"mon-fri"``, ``"mon,wed,fri"``, ``"sat-mon"`` (wrapping), ``"daily"`` → weekday numbers (Mon = 0)."""
    cleaned = text.strip().lower()
    if cleaned in ("daily", "every", "all", "mon-sun"):
        return frozenset(range(7))
    days: set[int] = set()
    for part in cleaned.split(","):
        ends = part.split("-")
        if len(ends) > 2:
            raise SpecError(f"{part.strip()!r} is not a day like mon, a range like mon-fri or a list like mon,wed")
        first, last = parse_day(ends[0]), parse_day(ends[-1])
        day = first
        while True:
            days.add(day)
            if day == last:
                break
            day = (day + 1) % 7
    return frozenset(days)


def format_time(minutes: int) -> str:
    """480 → ``"08:00"``; 1440 → ``"24:00"``."""
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def format_time_range(start: int, end: int) -> str:
    """(480, 960) → ``"08:00-16:00"``: what :func:`parse_time_range` reads back."""
    return f"{format_time(start)}-{format_time(end)}"


def format_days(days: frozenset[int]) -> str:
    """The shortest way to write ``days``: ``mon-fri``, ``mon,wed,fri``, ``sat-mon``, ``daily``."""
    if len(days) == 7:
        return "daily"
    ordered = sorted(days)
    runs: list[list[int]] = []
    for day in ordered:
        if runs and runs[-1][-1] == day - 1:
            runs[-1].append(day)
        else:
            runs.append([day])
    if len(runs) > 1 and runs[0][0] == 0 and runs[-1][-1] == 6:
        # A run through Sunday into Monday is written the way a lead types it: sat-mon.
        runs[-1].extend(runs.pop(0))
    parts = [f"{WEEKDAYS[r[0]]}-{WEEKDAYS[r[-1]]}" if len(r) > 2 else ",".join(WEEKDAYS[d] for d in r) for r in runs]
    return ",".join(parts)
