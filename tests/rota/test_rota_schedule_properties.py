"""Who is on shift, checked minute by minute against a plain reading of the rules (DST weeks included).

The reference below reads the rules one instant at a time, the way a person would: which
shifts are running now, who their people are, then each cover and swap in the order it was
made. The schedule computes stretches and cuts them; both must agree at every minute.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chatops_plugins.rota.schedule import Change, Cover, Schedule, ShiftRule, Swap

PEOPLE = ("UANNA", "UJARI", "UOLA", "UPIA")
ZONES = ("UTC", "Europe/Helsinki", "Europe/Warsaw")
#: Where the windows start: the week the clocks go forward, the week they go back, a plain week.
STARTS = (date(2027, 3, 26), date(2026, 10, 23), date(2026, 12, 1))
WINDOW_DAYS = 3
MINUTE = timedelta(minutes=1)


def wall(day: date, minutes: int, tz: ZoneInfo) -> datetime:
    """Local wall-clock ``minutes`` after midnight of ``day`` as UTC (Python's aware arithmetic: fold=0)."""
    return (datetime(day.year, day.month, day.day, tzinfo=tz) + timedelta(minutes=minutes)).astimezone(UTC)


def reference(rules: list[ShiftRule], changes: list[Change], tz: ZoneInfo, at: datetime) -> set[str]:
    """Who is on shift at ``at``, read instant by instant from the rules."""
    today = at.astimezone(tz).date()
    on: set[str] = set()
    for day in (today - timedelta(days=1), today):
        for rule in rules:
            if day.weekday() not in rule.days:
                continue
            begins = wall(day, rule.start, tz)
            ends = wall(day + timedelta(days=1) if rule.end <= rule.start else day, rule.end, tz)
            if not begins <= at < ends:
                continue
            # Each seat: who sits in it and whose it was before covers (a later cover of them replaces).
            seats = [(person, ()) for person in rule.people]
            for change in sorted(changes, key=lambda c: (c.created_at, c.id)):
                if isinstance(change, Swap):
                    if change.day == day and change.first != change.second:
                        swap = {change.first: change.second, change.second: change.first}
                        seats = [(swap[p], ()) if p in swap else (p, h) for p, h in seats]
                    continue
                reaches = change.start <= (begins if change.whole_shifts else at) < change.end
                if not reaches:
                    continue
                new = []
                for person, holders in seats:
                    if change.absent in holders:
                        new.append((change.cover, holders[: holders.index(change.absent) + 1]))
                    elif person == change.absent:
                        new.append((change.cover, (*holders, person)))
                    else:
                        new.append((person, holders))
                seats = new
            on |= {person for person, _ in seats}
    return on


@st.composite
def rotas(draw: st.DrawFn) -> tuple[Schedule, datetime, datetime]:
    """A random rota around a random start in a random timezone, and the window to check."""
    tz = ZoneInfo(draw(st.sampled_from(ZONES)))
    first = draw(st.sampled_from(STARTS))
    people = st.lists(st.sampled_from(PEOPLE), min_size=1, max_size=2, unique=True).map(tuple)
    half_hours = st.integers(min_value=0, max_value=47).map(lambda h: h * 30)
    rules = []
    for rule_id in range(1, draw(st.integers(1, 3)) + 1):
        start = draw(half_hours)
        end = draw(st.integers(min_value=1, max_value=48).map(lambda h: h * 30).filter(start.__ne__))
        days = draw(st.frozensets(st.integers(0, 6), min_size=1))
        rules.append(ShiftRule(rule_id, days, start, end, draw(people)))
    window_start = wall(first, 0, tz)
    window_end = wall(first + timedelta(days=WINDOW_DAYS), 0, tz)
    instants = st.integers(min_value=-12, max_value=(WINDOW_DAYS + 1) * 48).map(
        lambda n: window_start + timedelta(minutes=30 * n)
    )
    dates = st.integers(min_value=-1, max_value=WINDOW_DAYS).map(lambda n: first + timedelta(days=n))
    orders = draw(st.lists(st.integers(0, 10_000), min_size=4, max_size=4, unique=True))
    changes: list[Change] = []
    for change_id in range(1, draw(st.integers(0, 4)) + 1):
        made = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(seconds=orders[change_id - 1])
        two = draw(st.lists(st.sampled_from(PEOPLE), min_size=2, max_size=2, unique=True))
        kind = draw(st.sampled_from(("swap", "whole", "exact")))
        if kind == "swap":
            changes.append(Swap(change_id, two[0], two[1], draw(dates), made))
        elif kind == "whole":
            d1 = draw(dates)
            d2 = d1 + timedelta(days=draw(st.integers(0, 2)))
            changes.append(Cover(change_id, two[0], two[1], wall(d1, 0, tz), wall(d2, 24 * 60, tz), True, made))
        else:
            a, b = sorted(draw(st.lists(instants, min_size=2, max_size=2, unique=True)))
            changes.append(Cover(change_id, two[0], two[1], a, b, False, made))
    return Schedule(tuple(rules), tuple(changes), tz), window_start, window_end


def minutes(start: datetime, end: datetime) -> list[datetime]:
    """Every whole minute in ``[start, end]``."""
    count = int((end - start) / MINUTE)
    return [start + i * MINUTE for i in range(count + 1)]


PROPERTY = settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY
@given(rota=rotas())
def test_who_is_on_shift_agrees_with_the_rules_at_every_minute(rota: tuple[Schedule, datetime, datetime]) -> None:
    schedule, start, end = rota
    found = schedule.occurrences(start, end)
    rules, changes = list(schedule.rules), list(schedule.changes)
    for i, at in enumerate(minutes(start, end - MINUTE)):
        expected = reference(rules, changes, schedule.tz, at)
        union = {p for o in found if o.covers(at) for p in o.people}
        assert union == expected, at
        if i % 37 == 0:
            assert set(schedule.on_shift(at)) == expected, at


@PROPERTY
@given(rota=rotas())
def test_boundaries_are_exactly_the_minutes_the_people_on_shift_change(
    rota: tuple[Schedule, datetime, datetime],
) -> None:
    schedule, start, end = rota
    rules, changes = list(schedule.rules), list(schedule.changes)
    on = {at: reference(rules, changes, schedule.tz, at) for at in minutes(start, end)}
    expected = [at for at in minutes(start + MINUTE, end) if on[at] != on[at - MINUTE]]
    boundaries = schedule.boundaries(start, end)
    assert boundaries == expected
    if expected:
        assert schedule.next_change(start) == expected[0]
        assert schedule.last_change(end) == expected[-1]
        for at in boundaries:
            assert set(schedule.on_shift(at)) == on[at]
            assert set(schedule.on_shift(at - timedelta(microseconds=1))) == on[at - MINUTE]


@PROPERTY
@given(rota=rotas())
def test_occurrences_have_length_lie_in_the_window_and_belong_to_their_start_date(
    rota: tuple[Schedule, datetime, datetime],
) -> None:
    schedule, start, end = rota
    found = schedule.occurrences(start, end)
    assert found == sorted(found, key=lambda o: (o.start, o.shift_id))
    for o in found:
        assert o.start < o.end
        assert o.end > start and o.start < end
        assert o.people
        rule = next(r for r in schedule.rules if r.id == o.shift_id)
        assert o.planned == rule.people
        assert o.day.weekday() in rule.days
        assert wall(o.day, 0, schedule.tz) <= o.start
