"""Service hours: when the team answers, per weekday, with holidays closed all day.

The rota plugin uses them for the out-of-hours reply and to tell the leads when nobody is
on shift while the team should be answering; the digest counts response time in them
(:meth:`ServiceHours.service_seconds`). Build one from a config file's ``[plugins.rota]``
table with :func:`.config.service_hours_from_settings`, without a running bot.

Opening times are local wall-clock times in the team's timezone, read like shifts (see
:mod:`.schedule`): an opening time that does not exist on a DST night falls an hour later.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from .schedule import local_instant
from .timespec import WEEKDAYS, format_time


@dataclass(frozen=True, slots=True)
class ServiceHours:
    """Opening ranges per weekday (Mon = 0; minutes after midnight, end ≤ 1440) and closed dates.

    With no ranges at all the hours are *not configured*: the team is taken to answer at any
    time, nothing is out of hours, and service time equals wall-clock time.
    """

    weekly: Mapping[int, tuple[tuple[int, int], ...]]
    holidays: frozenset[date]
    tz: ZoneInfo
    _empty: tuple[tuple[int, int], ...] = field(default=(), repr=False)

    @property
    def configured(self) -> bool:
        """True when any weekday has opening hours."""
        return any(self.weekly.get(day) for day in range(7))

    def periods(self, start: datetime, end: datetime) -> Iterator[tuple[datetime, datetime]]:
        """The open stretches overlapping ``[start, end)`` (UTC), clipped to it, adjacent ones merged."""
        if end <= start:
            return
        day = start.astimezone(self.tz).date() - timedelta(days=1)
        last = end.astimezone(self.tz).date()
        pending: tuple[datetime, datetime] | None = None
        while day <= last:
            if day not in self.holidays:
                # Sorted, so touching or overlapping ranges merge even when given out of order.
                for opens, closes in sorted(self.weekly.get(day.weekday(), self._empty)):
                    begin = max(local_instant(day, opens, self.tz), start)
                    finish = min(local_instant(day, closes, self.tz), end)
                    if finish <= begin:
                        continue
                    if pending and begin <= pending[1]:
                        pending = (pending[0], max(pending[1], finish))
                        continue
                    if pending:
                        yield pending
                    pending = (begin, finish)
            day += timedelta(days=1)
        if pending:
            yield pending

    def is_open(self, at: datetime) -> bool:
        """True when the team answers at ``at`` (always, when hours are not configured)."""
        if not self.configured:
            return True
        return any(True for _ in self.periods(at, at + timedelta(microseconds=1)))

    def service_seconds(self, start: datetime, end: datetime) -> float:
        """Seconds of service time between ``start`` and ``end`` (wall-clock seconds when not configured).

        For response times counted in service hours: a comment at Friday 17:50 answered on
        Monday at 08:10 took 20 minutes of service time with Mon–Fri 08:00–18:00.
        """
        if end <= start:
            return 0.0
        if not self.configured:
            return (end - start).total_seconds()
        return sum((b - a).total_seconds() for a, b in self.periods(start, end))

    def closed_period(self, at: datetime) -> tuple[datetime, datetime | None] | None:
        """The closed stretch around ``at``: (when it closed, when it opens again), or None when open.

        "When it closed" is the end of the last open stretch before ``at``, however long ago
        (a long run of holidays included), so every moment of one closed period gives the same
        pair: the out-of-hours reply goes once per customer per period. "Opens again" is None
        only when no opening exists (never, with hours configured).
        """
        if self.is_open(at):
            return None
        here = at.astimezone(self.tz).date()
        # Past the holidays the week repeats, so an opening is at most two weeks beyond them
        # (a range a DST night swallows comes back the next week).
        earliest = min(self.holidays, default=here) - timedelta(days=15)
        latest = max(self.holidays, default=here) + timedelta(days=15)
        closed_since: datetime | None = None
        day = here
        while closed_since is None and day >= min(earliest, here - timedelta(days=15)):
            ends = [b for _a, b in self._day_ranges(day) if b <= at]
            closed_since = max(ends, default=None)
            day -= timedelta(days=1)
        opens: datetime | None = None
        day = here
        while opens is None and day <= max(latest, here + timedelta(days=15)):
            opens = min((a for a, _b in self._day_ranges(day) if a > at), default=None)
            day += timedelta(days=1)
        # Only without any opening hours at all does the search find nothing; the start of the
        # search day is then as good a key as any.
        return closed_since or local_instant(day, 0, self.tz), opens

    def _day_ranges(self, day: date) -> list[tuple[datetime, datetime]]:
        """The open stretches of local ``day`` as instants (none on a holiday or that a DST night swallows)."""
        if day in self.holidays:
            return []
        found = []
        for opens, closes in self.weekly.get(day.weekday(), self._empty):
            begin, finish = local_instant(day, opens, self.tz), local_instant(day, closes, self.tz)
            if begin < finish:
                found.append((begin, finish))
        return found

    def groups(self) -> list[tuple[list[int], tuple[tuple[int, int], ...]]]:
        """Runs of consecutive weekdays with the same opening ranges (closed days left out), Monday first.

        What people read: ``describe`` here, and the out-of-hours reply in the team's words.
        """
        groups: list[tuple[list[int], tuple[tuple[int, int], ...]]] = []
        for day in range(7):
            ranges = self.weekly.get(day, self._empty)
            if not ranges:
                continue
            if groups and groups[-1][1] == ranges and groups[-1][0][-1] == day - 1:
                groups[-1][0].append(day)
            else:
                groups.append(([day], ranges))
        return groups

    def describe(self) -> str:
        """A compact summary for people: ``mon-fri 08:00-18:00; sat 10:00-12:00, 13:00-15:00``.

        Consecutive weekdays with the same hours are one group; closed days are left out
        (empty when the hours are not configured).
        """
        parts = []
        for days, ranges in self.groups():
            name = WEEKDAYS[days[0]] if len(days) == 1 else f"{WEEKDAYS[days[0]]}-{WEEKDAYS[days[-1]]}"
            hours = ", ".join(f"{format_time(a)}-{format_time(b)}" for a, b in ranges)
            parts.append(f"{name} {hours}")
        return "; ".join(parts)


def utc(at: datetime) -> datetime:
    """``at`` as an aware UTC datetime (naive times are taken to be UTC already)."""
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
