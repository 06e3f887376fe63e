"""Days and times as leads type them: every valid form reads and writes back; anything else is a SpecError."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatops_plugins.rota.timespec import (
    DAY_MINUTES,
    SpecError,
    format_days,
    format_time,
    format_time_range,
    parse_days,
    parse_time,
    parse_time_range,
)

PARSERS = [parse_time, parse_time_range, parse_days]
FULL_NAMES = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")

times = st.integers(min_value=0, max_value=DAY_MINUTES - 1)
day_sets = st.frozensets(st.integers(min_value=0, max_value=6), min_size=1)


@settings(max_examples=300)
@given(minutes=st.integers(min_value=0, max_value=DAY_MINUTES))
def test_every_time_reads_back_what_format_time_writes(minutes: int) -> None:
    assert parse_time(format_time(minutes)) == minutes


@settings(max_examples=300)
@given(start=times, end=st.integers(min_value=0, max_value=DAY_MINUTES))
def test_every_range_reads_back_what_format_time_range_writes(start: int, end: int) -> None:
    if start == end:
        with pytest.raises(SpecError, match="same time"):
            parse_time_range(format_time_range(start, end))
    else:
        assert parse_time_range(format_time_range(start, end)) == (start, end)


@settings(max_examples=300)
@given(days=day_sets)
def test_every_set_of_days_reads_back_what_format_days_writes(days: frozenset[int]) -> None:
    written = format_days(days)
    assert parse_days(written) == days
    assert parse_days(written.upper()) == days


@settings(max_examples=200)
@given(first=st.integers(0, 6), last=st.integers(0, 6), long_names=st.booleans())
def test_a_day_range_runs_forward_and_wraps_past_sunday(first: int, last: int, long_names: bool) -> None:
    names = FULL_NAMES if long_names else tuple(n[:3] for n in FULL_NAMES)
    expected = {(first + i) % 7 for i in range((last - first) % 7 + 1)}
    assert parse_days(f"{names[first]}-{names[last]}") == expected


@pytest.mark.parametrize(
    ("text", "minutes"),
    [("08:00", 480), ("8:00", 480), ("8.30", 510), (" 23:59 ", 1439), ("00:00", 0), ("24:00", 1440)],
)
def test_times_people_type(text: str, minutes: int) -> None:
    assert parse_time(text) == minutes


@pytest.mark.parametrize(
    ("text", "days"),
    [
        ("mon-fri", {0, 1, 2, 3, 4}),
        ("mon,wed,fri", {0, 2, 4}),
        ("sat-mon", {5, 6, 0}),
        ("daily", set(range(7))),
        ("Tues, Thurs", {1, 3}),
        ("mon - wed", {0, 1, 2}),
        ("sun-sun", {6}),
    ],
)
def test_days_people_type(text: str, days: set[int]) -> None:
    assert parse_days(text) == days


@pytest.mark.parametrize(
    ("days", "text"),
    [
        ({0, 1, 2, 3, 4}, "mon-fri"),
        ({0, 2, 4}, "mon,wed,fri"),
        ({5, 6, 0}, "sat-mon"),
        ({0, 1, 2, 5, 6}, "sat-wed"),
        ({3, 5, 6, 0}, "thu,sat-mon"),
        ({6, 0}, "sun,mon"),
        ({5, 6}, "sat,sun"),
        (set(range(7)), "daily"),
    ],
)
def test_days_are_written_the_way_a_lead_types_them(days: set[int], text: str) -> None:
    assert format_days(frozenset(days)) == text


def test_a_shift_past_midnight_and_one_ending_at_midnight() -> None:
    assert parse_time_range("22:00-06:00") == (1320, 360)
    assert parse_time_range("16:00-24:00") == (960, 1440)


@pytest.mark.parametrize(
    ("parser", "text"),
    [
        (parse_time, "25:00"),
        (parse_time, "24:01"),
        (parse_time, "8"),
        (parse_time, "08:60"),
        (parse_time, "０８:００"),  # full-width digits: int() would take them
        (parse_time, "٠٨:٠٠"),  # Arabic-Indic digits
        (parse_time_range, "24:00-06:00"),
        (parse_time_range, "08:00"),
        (parse_time_range, "08:00-09:00-10:00"),
        (parse_time_range, "08:00-08:00"),
        (parse_days, "monkey"),
        (parse_days, "mo"),
        (parse_days, "mon-tue-wed"),
        (parse_days, "mon,,fri"),
        (parse_days, ""),
        (parse_days, "fridays"),
    ],
)
def test_mistakes_are_spec_errors_that_say_what_was_expected(parser, text: str) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(SpecError) as caught:
        parser(text)
    assert str(caught.value)


@settings(max_examples=400)
@given(text=st.text(max_size=24) | st.from_regex(r"[0-9:.\- ,a-z]{0,16}", fullmatch=True))
def test_any_text_either_reads_or_is_a_spec_error(text: str) -> None:
    for parser in PARSERS:
        try:
            parser(text)
        except SpecError as exc:
            assert str(exc)
