"""Who is on shift when: recurring shifts, then covers and swaps, expanded into concrete occurrences.

Pure functions over plain values (no database, no Slack), so the rules can be tested
exhaustively, DST nights included.

Local times become instants the way RFC 5545 (iCalendar) says, which is also what
Python's ``zoneinfo`` does with ``fold=0``: a time that does not exist on the night the
clocks go forward (02:30 in Warsaw) is read with the offset before the gap, so it
falls an hour later (03:30); a time that happens twice when they go back is its first
occurrence. A shift that ends up with no length on such a night is left out.

A shift belongs to the local date it starts on: Monday's ``22:00-06:00`` is Monday's
shift. Changes apply in the order they were made, each to what the earlier ones left:

- a *swap* of two people on a date exchanges them on every shift starting that date;
- a *cover* given as dates moves the absent person's whole shifts that start on those
  dates to the cover; a cover given with times (``today 12:00..``, someone goes home
  sick) moves exactly that stretch, splitting a shift it starts or ends inside;
- a later cover of the same absent person replaces an earlier one where they overlap
  (the later change wins), and a cover of the person covering follows the chain (Anna
  covered by Jari, then Jari covered by Ola: Ola does Anna's shift);
- a swap with someone who has no shift that date moves the shift one way; a swap of two
  people with no shift that date changes nothing.

Instants before 1970 or after the year 9000 are outside the rota (see :data:`EARLIEST`):
a window reaching there is cut, so an absurd date gives no shifts rather than an error.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from .timespec import DAY_MINUTES


@dataclass(frozen=True, slots=True)
class ShiftRule:
    """A recurring shift: on ``days`` (Mon = 0) from ``start`` to ``end`` minutes after local midnight.

    ``end`` at or before ``start`` means the shift runs past midnight into the next day.
    """

    id: int
    days: frozenset[int]
    start: int
    end: int
    people: tuple[str, ...]

    @property
    def overnight(self) -> bool:
        """True when the shift ends on the day after it starts."""
        return self.end <= self.start


@dataclass(frozen=True, slots=True)
class Cover:
    """``cover`` takes ``absent``'s shifts in ``[start, end)`` (UTC).

    ``whole_shifts``: the range was given as dates, so every shift *starting* in it moves
    in full; otherwise exactly the stretch inside the range moves.
    """

    id: int
    absent: str
    cover: str
    start: datetime
    end: datetime
    whole_shifts: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class Swap:
    """``first`` and ``second`` exchange their shifts starting on the local date ``day``."""

    id: int
    first: str
    second: str
    day: date
    created_at: datetime


Change = Cover | Swap


@dataclass(frozen=True, slots=True)
class Occurrence:
    """One concrete stretch of a shift, with the people on it after covers and swaps."""

    shift_id: int
    #: The local date the shift starts on.
    day: date
    start: datetime
    end: datetime
    people: tuple[str, ...]
    #: The people the recurring shift names, before any cover or swap.
    planned: tuple[str, ...]

    def covers(self, at: datetime) -> bool:
        """True when ``at`` falls inside this stretch."""
        return self.start <= at < self.end


def local_instant(day: date, minutes: int, tz: ZoneInfo) -> datetime:
    """The UTC instant of ``minutes`` after midnight on local ``day`` (1440 is the next midnight)."""
    extra, minutes = divmod(minutes, DAY_MINUTES)
    wall = datetime.combine(day + timedelta(days=extra), time(minutes // 60, minutes % 60), tzinfo=tz)
    return wall.astimezone(UTC)


def local_day_start(day: date, tz: ZoneInfo) -> datetime:
    """The UTC instant local ``day`` begins."""
    return local_instant(day, 0, tz)


def planned(rules: Iterable[ShiftRule], tz: ZoneInfo, start: datetime, end: datetime) -> list[Occurrence]:
    """Every occurrence of ``rules`` overlapping ``[start, end)``, before changes, by start time."""
    first = start.astimezone(tz).date() - timedelta(days=1)
    last = end.astimezone(tz).date()
    found: list[Occurrence] = []
    rules = list(rules)
    day = first
    while day <= last:
        for rule in rules:
            if day.weekday() not in rule.days:
                continue
            begins = local_instant(day, rule.start, tz)
            ends = local_instant(day + timedelta(days=1) if rule.overnight else day, rule.end, tz)
            if ends <= begins or ends <= start or begins >= end:
                continue
            found.append(Occurrence(rule.id, day, begins, ends, rule.people, rule.people))
        day += timedelta(days=1)
    found.sort(key=lambda o: (o.start, o.shift_id))
    return found


def apply_changes(occurrences: Sequence[Occurrence], changes: Iterable[Change]) -> list[Occurrence]:
    """The occurrences after ``changes``, applied in the order they were made (see the module docstring).

    A change only ever touches the occurrences it overlaps in time (a swap: those of its
    day), and each occurrence's pieces evolve on their own, so every occurrence is run
    through just the changes that can reach it: 200 shifts and 500 covers cost thousands
    of steps, not millions.
    """
    longest = max((o.end - o.start for o in occurrences), default=timedelta(0))
    order = sorted(range(len(occurrences)), key=lambda i: occurrences[i].start)
    starts = [occurrences[i].start for i in order]
    by_day: dict[date, list[int]] = {}
    for i, o in enumerate(occurrences):
        by_day.setdefault(o.day, []).append(i)
    reaching: list[list[Change]] = [[] for _ in occurrences]
    for change in sorted(changes, key=lambda c: (c.created_at, c.id)):
        if isinstance(change, Swap):
            candidates: Iterable[int] = by_day.get(change.day, ())
        else:
            # Overlapping ones start before the cover ends and less than the longest shift before it starts.
            candidates = order[bisect_left(starts, change.start - longest) : bisect_left(starts, change.end)]
        for i in candidates:
            reaching[i].append(change)
    found: list[Occurrence] = []
    for o, reach in zip(occurrences, reaching, strict=True):
        current = [_Piece(o, o.start, tuple(_Seat(p, ()) for p in o.people))]
        for change in reach:
            if isinstance(change, Swap):
                current = [_swapped(piece, change) for piece in current]
            else:
                current = [part for piece in current for part in _covered(piece, change)]
        found += [replace(p.occurrence, people=_unique(seat.person for seat in p.seats)) for p in current]
    found.sort(key=lambda o: (o.start, o.shift_id))
    return found


@dataclass(frozen=True, slots=True)
class _Seat:
    """One place on a shift: who sits in it, and whose place it was before covers gave it to them.

    ``holders`` lets a later cover of the same absent person replace an earlier one (the
    later change wins), and follows chains: Anna covered by Jari, Jari covered by Ola,
    then a new cover of Anna replaces Ola too.
    """

    person: str
    holders: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class _Piece:
    """An occurrence being changed, with the start of its whole shift and its seats."""

    occurrence: Occurrence
    #: Whole-shift covers go by when the shift starts, even for a piece an exact cover cut off.
    shift_start: datetime
    seats: tuple[_Seat, ...]


def _swapped(piece: _Piece, swap: Swap) -> _Piece:
    if piece.occurrence.day != swap.day or swap.first == swap.second:
        return piece
    mapping = {swap.first: swap.second, swap.second: swap.first}
    if not any(seat.person in mapping for seat in piece.seats):
        return piece
    # After a swap the seat is the new person's own: a cover of whoever held it before no longer reaches it.
    seats = tuple(_Seat(mapping[s.person], ()) if s.person in mapping else s for s in piece.seats)
    return replace(piece, seats=seats)


def _cover_seat(seat: _Seat, cover: Cover) -> _Seat:
    if cover.absent in seat.holders:
        return _Seat(cover.cover, seat.holders[: seat.holders.index(cover.absent) + 1])
    if seat.person == cover.absent:
        return _Seat(cover.cover, (*seat.holders, seat.person))
    return seat


def _covered(piece: _Piece, cover: Cover) -> list[_Piece]:
    seats = tuple(_cover_seat(seat, cover) for seat in piece.seats)
    if seats == piece.seats:
        return [piece]
    o = piece.occurrence
    if cover.whole_shifts:
        return [replace(piece, seats=seats)] if cover.start <= piece.shift_start < cover.end else [piece]
    inside_start, inside_end = max(o.start, cover.start), min(o.end, cover.end)
    if inside_start >= inside_end:
        return [piece]
    parts = []
    if o.start < inside_start:
        parts.append(replace(piece, occurrence=replace(o, end=inside_start)))
    parts.append(replace(piece, occurrence=replace(o, start=inside_start, end=inside_end), seats=seats))
    if inside_end < o.end:
        parts.append(replace(piece, occurrence=replace(o, start=inside_end)))
    return parts


def _unique(people: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(people))


#: The rota's time range: the schedule answers for instants in ``[EARLIEST, LATEST)`` and treats a
#: window reaching outside it as cut to it (``occurrences`` of year 1 or 9999 is empty, not an
#: OverflowError), so a mistyped date cannot crash a command or a feed.
EARLIEST = datetime(1970, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def in_range(day: date) -> bool:
    """True when local ``day`` is inside the rota's time range (for reading dates people type)."""
    return EARLIEST.date() < day < LATEST.date() - timedelta(days=1)


def _clamp(at: datetime) -> datetime:
    return min(max(at, EARLIEST), LATEST)


def _moved(at: datetime, delta: timedelta) -> datetime:
    """``at + delta`` cut to the rota's time range (never an OverflowError near year 1 or 9999)."""
    try:
        return _clamp(at + delta)
    except OverflowError:
        return LATEST if delta > timedelta(0) else EARLIEST


@dataclass(frozen=True, slots=True)
class Schedule:
    """The rota at one moment: the recurring shifts and the changes, in the team's timezone."""

    rules: tuple[ShiftRule, ...]
    changes: tuple[Change, ...]
    tz: ZoneInfo

    def occurrences(self, start: datetime, end: datetime) -> list[Occurrence]:
        """Every stretch of shift overlapping ``[start, end)``, with covers and swaps applied."""
        start, end = _clamp(start), _clamp(end)
        if end <= start:
            return []
        # Changes only relabel or cut what is planned, never move it in time: the planned
        # occurrences of the window are all that can end up in it.
        found = apply_changes(planned(self.rules, self.tz, start, end), self.changes)
        return [o for o in found if o.end > start and o.start < end]

    def on_shift(self, at: datetime) -> tuple[str, ...]:
        """The people on shift at ``at``, in the order their shifts started."""
        return _unique(p for o in self.occurrences(at, _moved(at, _TICK)) if o.covers(at) for p in o.people)

    def boundaries(self, start: datetime, end: datetime) -> list[datetime]:
        """The instants in ``(start, end]`` when the set of people on shift changes, in order."""
        start, end = _clamp(start), _clamp(end)
        if end <= start:
            return []
        found = self.occurrences(_moved(start, -timedelta(days=1)), _moved(end, timedelta(days=1)))
        # One sweep over the starts and ends instead of every stretch per instant: a big rota
        # (200 shifts) has thousands of stretches and instants in the window.
        events: dict[datetime, list[tuple[tuple[str, ...], int]]] = {}
        for o in found:
            events.setdefault(o.start, []).append((o.people, 1))
            events.setdefault(o.end, []).append((o.people, -1))
        on: Counter[str] = Counter()
        changes = []
        for t in sorted(events):
            before = {p for p, n in on.items() if n > 0}
            for people, step in events[t]:
                on.update({p: step for p in people})
            if start < t <= end and before != {p for p, n in on.items() if n > 0}:
                changes.append(t)
        return changes

    def next_change(self, at: datetime, horizon: timedelta = timedelta(days=8)) -> datetime | None:
        """When the people on shift next change after ``at`` (None when not within ``horizon``)."""
        found = self.boundaries(at, _moved(at, horizon))
        return found[0] if found else None

    def last_change(self, at: datetime, horizon: timedelta = timedelta(days=8)) -> datetime | None:
        """The latest change at or before ``at`` (None when not within ``horizon``)."""
        found = self.boundaries(_moved(at, -horizon), at)
        return found[-1] if found else None


#: "Just before": shifts start and end on whole minutes, so nothing changes within a microsecond.
_TICK = timedelta(microseconds=1)
