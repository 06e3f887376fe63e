"""Service hours: when the team answers, how long a reply took in service time, the closed period around a moment."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatops.config import parse_settings
from chatops_plugins.rota.config import RotaConfig, ServiceHoursConfig, service_hours_from_settings
from chatops_plugins.rota.service_hours import ServiceHours

HELSINKI = ZoneInfo("Europe/Helsinki")
WARSAW = ZoneInfo("Europe/Warsaw")
ZONES = (ZoneInfo("UTC"), HELSINKI, WARSAW)


def hours(tz: ZoneInfo = HELSINKI, holidays: tuple[date, ...] = (), **days: str | list[str]) -> ServiceHours:
    """Service hours as ``[plugins.rota.service_hours]`` would give them."""
    return ServiceHoursConfig(holidays=list(holidays), **days).build(tz)  # type: ignore[arg-type]


OFFICE = {d: "08:00-18:00" for d in ("mon", "tue", "wed", "thu", "fri")}


def local(tz: ZoneInfo, *args: int) -> datetime:
    return datetime(*args, tzinfo=tz).astimezone(UTC)  # type: ignore[misc]


def test_friday_17_50_to_monday_08_10_is_twenty_minutes_of_service() -> None:
    office = hours(**OFFICE)
    friday, monday = local(HELSINKI, 2026, 12, 4, 17, 50), local(HELSINKI, 2026, 12, 7, 8, 10)
    assert office.service_seconds(friday, monday) == 20 * 60


def test_a_holiday_is_closed_all_day() -> None:
    office = hours(holidays=(date(2026, 12, 24),), **OFFICE)
    assert not office.is_open(local(HELSINKI, 2026, 12, 24, 12))
    assert office.is_open(local(HELSINKI, 2026, 12, 23, 12))
    # Wednesday 23rd 17:00 to Friday 25th 09:00: one hour on the 23rd, the 24th closed, one on the 25th.
    assert office.service_seconds(local(HELSINKI, 2026, 12, 23, 17), local(HELSINKI, 2026, 12, 25, 9)) == 2 * 3600


def test_open_and_closed_at_the_edges() -> None:
    office = hours(**OFFICE)
    assert office.is_open(local(HELSINKI, 2026, 12, 1, 8))
    assert not office.is_open(local(HELSINKI, 2026, 12, 1, 18))
    assert not office.is_open(local(HELSINKI, 2026, 12, 1, 7, 59, 59))
    assert not office.is_open(local(HELSINKI, 2026, 12, 5, 12))  # Saturday


def test_hours_not_configured_are_always_open_and_count_wall_time() -> None:
    always = hours()
    assert not always.configured
    at = local(HELSINKI, 2026, 12, 5, 3)
    assert always.is_open(at) and always.closed_period(at) is None
    assert always.service_seconds(at, at + timedelta(days=3)) == 3 * 86400
    assert always.describe() == ""


def test_a_day_open_until_midnight_runs_into_one_opening_at_midnight() -> None:
    shop = hours(fri="20:00-24:00", sat="00:00-02:00")
    assert list(shop.periods(local(HELSINKI, 2026, 12, 4), local(HELSINKI, 2026, 12, 6))) == [
        (local(HELSINKI, 2026, 12, 4, 20), local(HELSINKI, 2026, 12, 5, 2))
    ]
    closed = shop.closed_period(local(HELSINKI, 2026, 12, 5, 3))
    assert closed == (local(HELSINKI, 2026, 12, 5, 2), local(HELSINKI, 2026, 12, 11, 20))


def test_the_closed_period_runs_from_the_last_closing_to_the_next_opening() -> None:
    office = hours(**OFFICE)
    expected = (local(HELSINKI, 2026, 12, 4, 18), local(HELSINKI, 2026, 12, 7, 8))
    for at in (local(HELSINKI, 2026, 12, 4, 18), local(HELSINKI, 2026, 12, 5, 12), local(HELSINKI, 2026, 12, 7, 7, 59)):
        assert office.closed_period(at) == expected
    assert office.closed_period(local(HELSINKI, 2026, 12, 7, 8)) is None


def test_a_closed_period_longer_than_a_year_of_holidays_keeps_one_key() -> None:
    long_break = tuple(date(2026, 1, 1) + timedelta(days=n) for n in range(500))
    office = hours(holidays=long_break, **OFFICE)
    first, later = local(HELSINKI, 2026, 1, 2, 12), local(HELSINKI, 2027, 4, 20, 12)
    assert office.closed_period(first) == office.closed_period(later)
    closed_since, opens = office.closed_period(first)  # type: ignore[misc]
    assert closed_since == local(HELSINKI, 2025, 12, 31, 18)
    assert opens == local(HELSINKI, 2027, 5, 17, 8)  # 2027-05-16 is a Sunday


def test_opening_hours_on_the_nights_the_clocks_change() -> None:
    night = hours(tz=WARSAW, sun="02:30-04:00")
    # Forward: 02:30 does not exist and reads as 03:30, so half an hour is left.
    spring = date(2027, 3, 28)
    day = (local(WARSAW, 2027, 3, 28), local(WARSAW, 2027, 3, 29))
    assert night.service_seconds(*day) == 30 * 60
    assert list(night.periods(*day)) == [
        (datetime(2027, 3, 28, 1, 30, tzinfo=UTC), datetime(2027, 3, 28, 2, tzinfo=UTC))
    ]
    assert spring.weekday() == 6
    # Back: the first 02:30, to 04:00 an hour and a half of wall clock later plus the repeated hour.
    autumn = (local(WARSAW, 2026, 10, 25), local(WARSAW, 2026, 10, 26))
    assert night.service_seconds(*autumn) == 150 * 60
    # An opening the gap swallows whole is closed that night only.
    gap = hours(tz=WARSAW, sun="02:00-03:00")
    assert gap.service_seconds(*day) == 0
    assert gap.service_seconds(local(WARSAW, 2027, 4, 4), local(WARSAW, 2027, 4, 5)) == 3600
    assert gap.closed_period(local(WARSAW, 2027, 3, 28, 12)) == (
        local(WARSAW, 2027, 3, 21, 3),
        local(WARSAW, 2027, 4, 4, 2),
    )


def test_describe_groups_days_with_the_same_hours() -> None:
    week = hours(**OFFICE, sat=["10:00-12:00", "13:00-15:00"], sun="closed")
    assert week.describe() == "mon-fri 08:00-18:00; sat 10:00-12:00, 13:00-15:00"
    assert hours(mon="08:00-16:00", wed="08:00-16:00").describe() == "mon 08:00-16:00; wed 08:00-16:00"
    assert hours(sat="00:00-24:00", sun="00:00-24:00").describe() == "sat-sun 00:00-24:00"


def test_the_digest_builds_service_hours_from_settings_without_a_bot() -> None:
    settings_ = parse_settings(
        {
            "team": {"timezone": "Europe/Helsinki"},
            "slack": {"bot_token": "xoxb-1", "app_token": "xapp-1", "inbox_channel": "C1"},
            "plugins": {"enabled": ["rota"], "rota": {"service_hours": OFFICE}},
        },
        environ={},
    )
    office = service_hours_from_settings(settings_)
    assert office.tz == HELSINKI and office.describe() == "mon-fri 08:00-18:00"
    assert RotaConfig().hours(HELSINKI).configured is False


# Property checks: a random week of opening ranges, holidays, moments around the DST weeks.

range_lists = st.lists(st.tuples(st.integers(0, 47), st.integers(1, 48)).filter(lambda r: r[0] < r[1]), max_size=2).map(
    lambda rs: [f"{a // 2:02d}:{a % 2 * 30:02d}-{b // 2:02d}:{b % 2 * 30:02d}" for a, b in rs]
)


@st.composite
def service_hours(draw: st.DrawFn) -> ServiceHours:
    days = {}
    for name in ("mon", "tue", "wed", "thu", "fri", "sat", "sun"):
        ranges = draw(range_lists)
        minutes = sorted((int(r[:2]) * 60 + int(r[3:5]), int(r[6:8]) * 60 + int(r[9:11])) for r in ranges)
        if len(minutes) == 2 and minutes[1][0] < minutes[0][1]:
            ranges = ranges[:1]  # config refuses overlapping ranges
        days[name] = ranges
    holidays = draw(st.lists(st.dates(date(2026, 10, 18), date(2027, 4, 5)), max_size=6))
    return hours(draw(st.sampled_from(ZONES)), tuple(holidays), **days)


moments = st.sampled_from((datetime(2026, 10, 23, tzinfo=UTC), datetime(2027, 3, 26, tzinfo=UTC))).flatmap(
    lambda base: st.integers(0, 3 * 24 * 2).map(lambda h: base + timedelta(minutes=30 * h))
)


@settings(max_examples=40, deadline=None)
@given(office=service_hours(), three=st.lists(moments, min_size=3, max_size=3))
def test_service_time_adds_up_and_never_exceeds_wall_time(office: ServiceHours, three: list[datetime]) -> None:
    a, b, c = sorted(three)
    assert office.service_seconds(a, b) + office.service_seconds(b, c) == office.service_seconds(a, c)
    assert 0 <= office.service_seconds(a, c) <= (c - a).total_seconds()
    assert office.service_seconds(c, a) == 0
    if not office.configured:
        assert office.service_seconds(a, c) == (c - a).total_seconds()
    # Openings are on half hours and DST moves whole hours: each half hour is open or closed throughout.
    halves = int((c - a) / timedelta(minutes=30))
    open_halves = sum(office.is_open(a + timedelta(minutes=30 * h)) for h in range(halves))
    assert office.service_seconds(a, c) == open_halves * 30 * 60


@settings(max_examples=60, deadline=None)
@given(office=service_hours(), at=moments)
def test_the_closed_period_brackets_the_moment_and_is_one_key_throughout(office: ServiceHours, at: datetime) -> None:
    period = office.closed_period(at)
    assert (period is None) == office.is_open(at)
    if period is None:
        return
    closed_since, opens = period
    assert office.configured and opens is not None
    assert closed_since <= at < opens
    assert office.service_seconds(closed_since, opens) == 0
    # Open just before it closed and as it opens: the period is as long as it can be.
    assert office.is_open(closed_since - timedelta(microseconds=1))
    assert office.is_open(opens)
    step = max((opens - closed_since) / 7, timedelta(minutes=1))
    moment = closed_since
    while moment < opens:
        assert office.closed_period(moment) == period
        moment += step
    assert office.closed_period(opens - timedelta(microseconds=1)) == period


@pytest.mark.parametrize("tz", ZONES, ids=str)
def test_holidays_on_each_side_of_a_weekend_join_one_closed_period(tz: ZoneInfo) -> None:
    office = hours(tz, (date(2026, 12, 24), date(2026, 12, 25), date(2026, 12, 28)), **OFFICE)
    period = office.closed_period(local(tz, 2026, 12, 26, 12))
    assert period == (local(tz, 2026, 12, 23, 18), local(tz, 2026, 12, 29, 8))
