"""The rota's rules, one case each: covers, swaps, overnight shifts, DST nights, absurd dates."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from chatops_plugins.rota.schedule import (
    EARLIEST,
    LATEST,
    Change,
    Cover,
    Occurrence,
    Schedule,
    ShiftRule,
    Swap,
    in_range,
    local_instant,
)

HELSINKI = ZoneInfo("Europe/Helsinki")
WARSAW = ZoneInfo("Europe/Warsaw")
WEEKDAYS = frozenset(range(5))
DAILY = frozenset(range(7))
ANNA, JARI, OLA, PIA = "UANNA", "UJARI", "UOLA", "UPIA"


def local(tz: ZoneInfo, *args: int) -> datetime:
    """A local wall-clock time in ``tz`` as UTC."""
    return datetime(*args, tzinfo=tz).astimezone(UTC)  # type: ignore[misc]


def made(n: int) -> datetime:
    """The n-th moment a change was made (for their order)."""
    return datetime(2026, 11, 1, tzinfo=UTC) + timedelta(minutes=n)


def whole(change_id: int, absent: str, cover: str, first: date, last: date, tz: ZoneInfo = HELSINKI) -> Cover:
    """``/rota cover @absent first..last @cover``: whole shifts starting on those local dates."""
    return Cover(
        change_id, absent, cover, local_instant(first, 0, tz), local_instant(last, 1440, tz), True, made(change_id)
    )


def exact(change_id: int, absent: str, cover: str, start: datetime, end: datetime) -> Cover:
    """A cover of exactly ``[start, end)``."""
    return Cover(change_id, absent, cover, start, end, False, made(change_id))


def day_shift(*people: str) -> ShiftRule:
    return ShiftRule(1, WEEKDAYS, 8 * 60, 16 * 60, people)


def pieces(schedule: Schedule, day: date) -> list[tuple[str, str, tuple[str, ...]]]:
    """The occurrences starting on local ``day`` as (local start, local end, people)."""
    tz = schedule.tz
    found = schedule.occurrences(local_instant(day, 0, tz), local_instant(day, 2 * 1440, tz))
    return [
        (f"{o.start.astimezone(tz):%a %H:%M}", f"{o.end.astimezone(tz):%a %H:%M}", o.people)
        for o in found
        if o.day == day
    ]


def rota(rules: list[ShiftRule], changes: list[Change] = [], tz: ZoneInfo = HELSINKI) -> Schedule:  # noqa: B006
    return Schedule(tuple(rules), tuple(changes), tz)


# Tuesday 2026-12-01 … Thursday 2026-12-03.
TUE, WED, THU = date(2026, 12, 1), date(2026, 12, 2), date(2026, 12, 3)


def test_a_whole_shift_cover_moves_exactly_the_shifts_starting_in_its_dates() -> None:
    night = ShiftRule(2, DAILY, 22 * 60, 6 * 60, (ANNA,))
    schedule = rota([night], [whole(1, ANNA, JARI, WED, WED)])
    # Tuesday night runs into Wednesday but started on Tuesday: still Anna's.
    assert pieces(schedule, TUE) == [("Tue 22:00", "Wed 06:00", (ANNA,))]
    # Wednesday night ends on Thursday, after the range: all of it is Jari's.
    assert pieces(schedule, WED) == [("Wed 22:00", "Thu 06:00", (JARI,))]
    assert pieces(schedule, THU) == [("Thu 22:00", "Fri 06:00", (ANNA,))]


def test_an_exact_cover_splits_a_shift_it_starts_inside() -> None:
    schedule = rota(
        [day_shift(ANNA)], [exact(1, ANNA, JARI, local(HELSINKI, 2026, 12, 1, 12), local(HELSINKI, 2026, 12, 1, 20))]
    )
    assert pieces(schedule, TUE) == [("Tue 08:00", "Tue 12:00", (ANNA,)), ("Tue 12:00", "Tue 16:00", (JARI,))]
    assert pieces(schedule, WED) == [("Wed 08:00", "Wed 16:00", (ANNA,))]


def test_an_exact_cover_inside_a_shift_splits_it_in_three_and_ends_mid_shift() -> None:
    schedule = rota(
        [day_shift(ANNA, PIA)],
        [exact(1, ANNA, JARI, local(HELSINKI, 2026, 12, 1, 10), local(HELSINKI, 2026, 12, 1, 12))],
    )
    assert pieces(schedule, TUE) == [
        ("Tue 08:00", "Tue 10:00", (ANNA, PIA)),
        ("Tue 10:00", "Tue 12:00", (JARI, PIA)),
        ("Tue 12:00", "Tue 16:00", (ANNA, PIA)),
    ]
    assert schedule.boundaries(local(HELSINKI, 2026, 12, 1, 0), local(HELSINKI, 2026, 12, 2, 0)) == [
        local(HELSINKI, 2026, 12, 1, 8),
        local(HELSINKI, 2026, 12, 1, 10),
        local(HELSINKI, 2026, 12, 1, 12),
        local(HELSINKI, 2026, 12, 1, 16),
    ]


def test_a_whole_shift_cover_moves_every_piece_of_a_shift_an_exact_cover_cut() -> None:
    # Pia goes home at 02:00 on Tuesday's night shift (Ola takes her place); then Jari covers
    # Anna for Tuesday: both pieces of Tuesday's night are his, though one starts on Wednesday.
    night = ShiftRule(2, DAILY, 22 * 60, 6 * 60, (ANNA, PIA))
    cut = exact(1, PIA, OLA, local(HELSINKI, 2026, 12, 2, 2), local(HELSINKI, 2026, 12, 2, 6))
    schedule = rota([night], [cut, whole(2, ANNA, JARI, TUE, TUE)])
    assert pieces(schedule, TUE) == [
        ("Tue 22:00", "Wed 02:00", (JARI, PIA)),
        ("Wed 02:00", "Wed 06:00", (JARI, OLA)),
    ]
    # A whole-shift cover of Wednesday takes none of Tuesday's night, not even the piece after 02:00.
    schedule = rota([night], [cut, whole(2, ANNA, JARI, WED, WED)])
    assert pieces(schedule, TUE) == [
        ("Tue 22:00", "Wed 02:00", (ANNA, PIA)),
        ("Wed 02:00", "Wed 06:00", (ANNA, OLA)),
    ]


def test_a_later_whole_shift_cover_takes_over_an_earlier_partial_one() -> None:
    # Anna went home at 02:00 and Pia took the rest; then the lead gave Jari all of Anna's Tuesday.
    night = ShiftRule(2, DAILY, 22 * 60, 6 * 60, (ANNA,))
    cut = exact(1, ANNA, PIA, local(HELSINKI, 2026, 12, 2, 2), local(HELSINKI, 2026, 12, 2, 6))
    schedule = rota([night], [cut, whole(2, ANNA, JARI, TUE, TUE)])
    assert [p[2] for p in pieces(schedule, TUE)] == [(JARI,), (JARI,)]


def test_the_later_of_two_overlapping_covers_wins() -> None:
    schedule = rota([day_shift(ANNA)], [whole(1, ANNA, JARI, TUE, THU), whole(2, ANNA, OLA, WED, WED)])
    assert [p[2] for d in (TUE, WED, THU) for p in pieces(schedule, d)] == [(JARI,), (OLA,), (JARI,)]
    # Made the other way round, the three-day cover is the later one and wins everywhere.
    schedule = rota([day_shift(ANNA)], [whole(2, ANNA, JARI, TUE, THU), whole(1, ANNA, OLA, WED, WED)])
    assert [p[2] for d in (TUE, WED, THU) for p in pieces(schedule, d)] == [(JARI,), (JARI,), (JARI,)]


def test_a_later_exact_cover_wins_over_part_of_a_whole_shift_cover() -> None:
    schedule = rota(
        [day_shift(ANNA)],
        [
            whole(1, ANNA, JARI, TUE, TUE),
            exact(2, ANNA, OLA, local(HELSINKI, 2026, 12, 1, 14), local(HELSINKI, 2026, 12, 1, 16)),
        ],
    )
    assert pieces(schedule, TUE) == [("Tue 08:00", "Tue 14:00", (JARI,)), ("Tue 14:00", "Tue 16:00", (OLA,))]


def test_a_cover_chain_follows_the_order_of_changes() -> None:
    a_by_b, b_by_c = whole(1, ANNA, JARI, TUE, TUE), whole(2, JARI, OLA, TUE, TUE)
    assert pieces(rota([day_shift(ANNA)], [a_by_b, b_by_c]), TUE)[0][2] == (OLA,)
    # Jari's cover made first finds no Jari on the shift; then Anna's cover gives it to Jari.
    b_first = whole(1, JARI, OLA, TUE, TUE)
    then_a = whole(2, ANNA, JARI, TUE, TUE)
    assert pieces(rota([day_shift(ANNA)], [b_first, then_a]), TUE)[0][2] == (JARI,)
    # A new cover of Anna after the chain replaces the end of the chain.
    again = whole(3, ANNA, PIA, TUE, TUE)
    assert pieces(rota([day_shift(ANNA)], [a_by_b, b_by_c, again]), TUE)[0][2] == (PIA,)


def test_a_cover_by_someone_already_on_the_shift_leaves_them_once() -> None:
    schedule = rota([day_shift(ANNA, JARI)], [whole(1, ANNA, JARI, TUE, TUE)])
    assert pieces(schedule, TUE)[0][2] == (JARI,)
    assert schedule.on_shift(local(HELSINKI, 2026, 12, 1, 9)) == (JARI,)


def test_a_swap_exchanges_two_people_on_that_date_only() -> None:
    early = ShiftRule(1, WEEKDAYS, 8 * 60, 12 * 60, (ANNA,))
    late = ShiftRule(2, WEEKDAYS, 12 * 60, 16 * 60, (JARI,))
    schedule = rota([early, late], [Swap(1, ANNA, JARI, WED, made(1))])
    assert pieces(schedule, WED) == [("Wed 08:00", "Wed 12:00", (JARI,)), ("Wed 12:00", "Wed 16:00", (ANNA,))]
    assert pieces(schedule, TUE) == [("Tue 08:00", "Tue 12:00", (ANNA,)), ("Tue 12:00", "Tue 16:00", (JARI,))]


def test_a_swap_with_someone_with_no_shift_that_day_is_one_way() -> None:
    schedule = rota([day_shift(ANNA)], [Swap(1, ANNA, OLA, WED, made(1))])
    assert pieces(schedule, WED)[0][2] == (OLA,)
    assert pieces(schedule, TUE)[0][2] == (ANNA,)


def test_a_swap_of_two_people_without_shifts_that_day_changes_nothing() -> None:
    plain = rota([day_shift(ANNA)])
    swapped = rota([day_shift(ANNA)], [Swap(1, OLA, PIA, WED, made(1))])
    window = (local(HELSINKI, 2026, 11, 30), local(HELSINKI, 2026, 12, 7))
    assert swapped.occurrences(*window) == plain.occurrences(*window)


def test_a_shift_to_24_00_ends_at_midnight_and_meets_the_next_one() -> None:
    evening = ShiftRule(1, DAILY, 16 * 60, 1440, (ANNA,))
    night = ShiftRule(2, DAILY, 0, 8 * 60, (ANNA,))
    schedule = rota([evening, night])
    assert pieces(schedule, TUE)[-1] == ("Tue 16:00", "Wed 00:00", (ANNA,))
    # Anna works 16:00 to 08:00 without a change at midnight.
    start = local(HELSINKI, 2026, 12, 1, 12)
    assert schedule.boundaries(start, start + timedelta(hours=24)) == [
        local(HELSINKI, 2026, 12, 1, 16),
        local(HELSINKI, 2026, 12, 2, 8),
    ]


def test_a_shift_past_midnight_belongs_to_the_day_it_starts() -> None:
    schedule = rota([ShiftRule(1, frozenset({0}), 22 * 60, 6 * 60, (ANNA,))])  # Monday nights
    assert schedule.on_shift(local(HELSINKI, 2026, 12, 1, 5, 59)) == (ANNA,)  # Tuesday morning
    assert schedule.on_shift(local(HELSINKI, 2026, 12, 1, 6)) == ()
    assert schedule.on_shift(local(HELSINKI, 2026, 12, 1, 22)) == ()  # Tuesday night: no shift
    assert schedule.next_change(local(HELSINKI, 2026, 12, 1, 7)) == local(HELSINKI, 2026, 12, 7, 22)
    assert schedule.last_change(local(HELSINKI, 2026, 12, 1, 7)) == local(HELSINKI, 2026, 12, 1, 6)


def test_next_and_last_change_say_none_beyond_their_horizon() -> None:
    schedule = rota([])
    now = local(HELSINKI, 2026, 12, 1, 7)
    assert schedule.next_change(now) is None and schedule.last_change(now) is None


# The clocks in Warsaw: forward on 2027-03-28 (02:00 → 03:00), back on 2026-10-25 (03:00 → 02:00).
SPRING, AUTUMN = date(2027, 3, 28), date(2026, 10, 25)


def test_a_02_30_shift_on_the_night_the_clocks_go_forward_starts_at_03_30() -> None:
    schedule = rota([ShiftRule(1, DAILY, 2 * 60 + 30, 6 * 60, (ANNA,))], tz=WARSAW)
    [o] = [o for o in schedule.occurrences(local_instant(SPRING, 0, WARSAW), local_instant(SPRING, 1440, WARSAW))]
    assert o.start == datetime(2027, 3, 28, 1, 30, tzinfo=UTC)  # 03:30 CEST
    assert o.end == datetime(2027, 3, 28, 4, 0, tzinfo=UTC)  # 06:00 CEST
    assert f"{o.start.astimezone(WARSAW):%H:%M}" == "03:30"


def test_a_02_30_shift_on_the_night_the_clocks_go_back_starts_at_the_first_02_30() -> None:
    schedule = rota([ShiftRule(1, DAILY, 2 * 60 + 30, 6 * 60, (ANNA,))], tz=WARSAW)
    [o] = schedule.occurrences(local_instant(AUTUMN, 0, WARSAW), local_instant(AUTUMN, 1440, WARSAW))
    assert o.start == datetime(2026, 10, 25, 0, 30, tzinfo=UTC)  # 02:30 CEST, the first one
    assert o.end == datetime(2026, 10, 25, 5, 0, tzinfo=UTC)  # 06:00 CET: 4.5 hours of work
    assert o.end - o.start == timedelta(hours=4, minutes=30)


def test_a_shift_the_spring_gap_swallows_is_left_out_that_night_only() -> None:
    schedule = rota([ShiftRule(1, DAILY, 2 * 60, 3 * 60, (ANNA,))], tz=WARSAW)
    week = schedule.occurrences(
        local_instant(date(2027, 3, 26), 0, WARSAW), local_instant(date(2027, 3, 30), 0, WARSAW)
    )
    assert [o.day for o in week] == [date(2027, 3, 26), date(2027, 3, 27), date(2027, 3, 29)]
    assert all(o.end > o.start for o in week)


def test_an_overnight_shift_across_the_spring_gap_is_an_hour_shorter() -> None:
    schedule = rota([ShiftRule(1, DAILY, 22 * 60, 6 * 60, (ANNA,))], tz=WARSAW)
    saturday = date(2027, 3, 27)
    [o] = [
        o
        for o in schedule.occurrences(local_instant(saturday, 0, WARSAW), local_instant(SPRING, 1440, WARSAW))
        if o.day == saturday
    ]
    assert o.end - o.start == timedelta(hours=7)


@pytest.mark.parametrize(
    ("start", "end"),
    [
        (datetime(1, 1, 1, tzinfo=UTC), datetime(1, 1, 8, tzinfo=UTC)),
        (datetime(9999, 12, 24, tzinfo=UTC), datetime(9999, 12, 31, 23, 59, tzinfo=UTC)),
    ],
    ids=["year-1", "year-9999"],
)
def test_absurd_dates_give_no_shifts_instead_of_an_error(start: datetime, end: datetime) -> None:
    schedule = rota([ShiftRule(1, DAILY, 22 * 60, 6 * 60, (ANNA,))], [Swap(1, ANNA, JARI, date(1, 1, 1), made(1))])
    assert schedule.occurrences(start, end) == []
    for at in (start, end):
        assert schedule.on_shift(at) == ()
        assert schedule.boundaries(start, end) == []
        assert schedule.next_change(at) is None
        assert schedule.last_change(at) is None


def test_a_window_reaching_outside_the_rota_range_is_cut_to_it() -> None:
    schedule = rota([ShiftRule(1, DAILY, 8 * 60, 16 * 60, (ANNA,))], tz=ZoneInfo("UTC"))
    found = schedule.occurrences(datetime(1, 1, 1, tzinfo=UTC), EARLIEST + timedelta(days=2))
    assert [(o.start, o.end) for o in found] == [
        (EARLIEST + timedelta(hours=8), EARLIEST + timedelta(hours=16)),
        (EARLIEST + timedelta(days=1, hours=8), EARLIEST + timedelta(days=1, hours=16)),
    ]
    assert schedule.last_change(EARLIEST + timedelta(days=1)) == EARLIEST + timedelta(hours=16)


def test_dates_people_type_can_be_checked_against_the_rota_range() -> None:
    assert in_range(date(2026, 12, 1)) and in_range(date(8999, 12, 1))
    assert not in_range(date(1, 1, 1)) and not in_range(date(9999, 12, 31))
    # Inside the range, a date's local midnights are instants: no OverflowError for what in_range lets in.
    for tz in (HELSINKI, ZoneInfo("Pacific/Kiritimati"), ZoneInfo("Pacific/Pago_Pago")):
        for day in (date(1970, 1, 2), date(8999, 12, 30)):
            assert in_range(day)
            assert EARLIEST <= local_instant(day, 0, tz) < local_instant(day, 1440, tz) <= LATEST


def test_the_rota_range_edges_do_not_overflow() -> None:
    schedule = rota([ShiftRule(1, DAILY, 8 * 60, 16 * 60, (ANNA,))])
    for at in (datetime.min.replace(tzinfo=UTC), datetime.max.replace(tzinfo=UTC), LATEST, EARLIEST):
        schedule.on_shift(at)
        schedule.next_change(at, timedelta(days=30))
        schedule.last_change(at, timedelta(days=30))
        schedule.occurrences(at - timedelta(days=1) if at.year > 1 else at, at)
    assert schedule.next_change(LATEST - timedelta(days=3)) is not None
    assert schedule.occurrences(LATEST, datetime.max.replace(tzinfo=UTC)) == []


def test_an_occurrence_knows_the_instants_it_covers() -> None:
    o = Occurrence(1, TUE, local(HELSINKI, 2026, 12, 1, 8), local(HELSINKI, 2026, 12, 1, 16), (ANNA,), (ANNA,))
    assert o.covers(o.start) and not o.covers(o.end)
