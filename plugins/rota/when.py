"""Times and service hours in words, in the team's timezone and language (hand-offs, the out-of-hours reply)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from .service_hours import ServiceHours
from .timespec import format_time

#: ``ctx.t``: a text key and its values → the words.
Words = Callable[..., str]


def clock_text(at: datetime, tz: ZoneInfo) -> str:
    """``16:00``: the local wall-clock time of ``at``."""
    return at.astimezone(tz).strftime("%H:%M")


def moment_text(t: Words, at: datetime, tz: ZoneInfo, ref: datetime) -> str:
    """``16:00`` when ``at`` is on the same local day as ``ref``, else ``Tue 16:00``."""
    local = at.astimezone(tz)
    if local.date() == ref.astimezone(tz).date():
        return clock_text(at, tz)
    return t("rota.shifts.day_time", day=t(f"rota.shifts.day.{local.weekday()}"), time=clock_text(at, tz))


def opens_text(t: Words, opens: datetime, now: datetime, tz: ZoneInfo) -> str:
    """When the team is back, for a customer: ``today at 08:00``, ``tomorrow at 08:00``, ``on Monday at 08:00``.

    A week or more away (a long holiday) the date is added: "on Monday" alone would name
    the wrong Monday.
    """
    local, today = opens.astimezone(tz), now.astimezone(tz).date()
    days = (local.date() - today).days
    if days == 0:
        day = t("rota.shifts.today")
    elif days == 1:
        day = t("rota.shifts.tomorrow")
    elif days < 7:
        day = t(f"rota.shifts.on_day.{local.weekday()}")
    else:
        weekday = t(f"rota.shifts.on_day.{local.weekday()}")
        day = t("rota.shifts.on_date", day=weekday, d=local.day, m=local.month, y=local.year)
    return t("rota.shifts.ooh.opens", day=day, time=clock_text(opens, tz))


def hours_text(t: Words, hours: ServiceHours) -> str:
    """The opening hours for a customer: ``Mon–Fri 08:00–18:00, Sat 10:00–14:00``."""
    parts = []
    for days, ranges in hours.groups():
        first, last = t(f"rota.shifts.day.{days[0]}"), t(f"rota.shifts.day.{days[-1]}")
        name = first if len(days) == 1 else f"{first}–{last}"
        times = ", ".join(f"{format_time(a)}–{format_time(b)}" for a, b in ranges)
        parts.append(f"{name} {times}")
    return ", ".join(parts)
