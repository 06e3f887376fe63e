"""Which days a digest covers and when a scheduled one is due: local days, DST, grace (pure, no database)."""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from chatops_plugins.digest.periods import DUE_MINUTE, Due, days_window, due, history, local_at, windows

HELSINKI = ZoneInfo("Europe/Helsinki")
WARSAW = ZoneInfo("Europe/Warsaw")
GRACE = timedelta(hours=12)


def utc(*args: int) -> datetime:
    return datetime(*args, tzinfo=UTC)


def test_yesterday_is_the_whole_previous_local_day_against_the_day_before() -> None:
    # Tuesday 1 December 2026, 08:00 in Helsinki (UTC+2).
    now = utc(2026, 12, 1, 6, 0)
    current, previous = windows("yesterday", now, HELSINKI)
    assert (current.start, current.end, current.as_of) == (utc(2026, 11, 29, 22), utc(2026, 11, 30, 22), now)
    assert (current.first_day, current.last_day) == (date(2026, 11, 30), date(2026, 11, 30))
    assert (previous.start, previous.end) == (utc(2026, 11, 28, 22), utc(2026, 11, 29, 22))
    # The day before is measured at the same age: 08:00 on the Monday.
    assert previous.as_of == utc(2026, 11, 30, 6, 0)


def test_today_runs_from_midnight_to_now_against_yesterday_up_to_the_same_time() -> None:
    now = utc(2026, 12, 1, 12, 30)
    current, previous = windows("today", now, HELSINKI)
    assert (current.start, current.end, current.as_of) == (utc(2026, 11, 30, 22), now, now)
    assert (previous.start, previous.end, previous.as_of) == (
        utc(2026, 11, 29, 22),
        utc(2026, 11, 30, 12, 30),
        utc(2026, 11, 30, 12, 30),
    )


def test_a_week_is_the_seven_whole_days_before_today_against_the_seven_before() -> None:
    now = utc(2026, 12, 7, 6, 0)  # Monday 08:00 local
    current, previous = windows("week", now, HELSINKI)
    assert (current.first_day, current.last_day) == (date(2026, 11, 30), date(2026, 12, 6))
    assert (previous.first_day, previous.last_day) == (date(2026, 11, 23), date(2026, 11, 29))
    assert current.end - current.start == timedelta(days=7)
    assert previous.as_of == now - timedelta(days=7)


def test_the_autumn_dst_day_is_25_hours_and_the_spring_one_23() -> None:
    autumn = days_window(date(2026, 10, 25), date(2026, 10, 25), HELSINKI, utc(2026, 10, 26, 6))
    spring = days_window(date(2026, 3, 29), date(2026, 3, 29), HELSINKI, utc(2026, 3, 30, 6))
    assert autumn.end - autumn.start == timedelta(hours=25)
    assert spring.end - spring.start == timedelta(hours=23)
    # The day after the spring change is compared with the change day at the same local time.
    current, previous = windows("yesterday", utc(2026, 3, 30, 5, 0), HELSINKI)  # 08:00 EEST
    assert previous.first_day == date(2026, 3, 28)
    assert previous.as_of.astimezone(HELSINKI).hour == 8
    assert current.first_day == date(2026, 3, 29) and current.end - current.start == timedelta(hours=23)


def test_a_local_time_skipped_by_dst_falls_after_the_gap() -> None:
    # Warsaw jumps from 02:00 to 03:00 on 29 March 2026: 02:30 does not exist.
    at = local_at(date(2026, 3, 29), 150, WARSAW)
    assert at == utc(2026, 3, 29, 1, 30)
    assert at.astimezone(WARSAW).hour == 3


def test_the_chart_history_is_fourteen_local_days_ending_with_the_last_day() -> None:
    days = history(date(2026, 11, 30), HELSINKI, utc(2026, 12, 1, 6))
    assert len(days) == 14
    assert days[0].first_day == date(2026, 11, 17) and days[-1].last_day == date(2026, 11, 30)
    assert all(b.start == a.end for a, b in itertools.pairwise(days))


def test_the_daily_digest_is_due_from_its_time_until_the_grace_runs_out() -> None:
    def at(hour: int, minute: int = 0) -> list[Due]:
        return due(utc(2026, 12, 1, hour, minute), HELSINKI, minute=8 * 60, daily=True, weekday=None, grace=GRACE)

    assert at(5, 59) == []  # 07:59: yesterday's is 24 hours old, past its grace
    assert at(6, 0) == [Due("daily", "yesterday", utc(2026, 12, 1, 6))]
    assert at(17, 59) == [Due("daily", "yesterday", utc(2026, 12, 1, 6))]
    assert at(18, 1) == []  # 20:01 local: over twelve hours late
    # Before today's time, a grace over a day still catches yesterday's (never an older one).
    long = due(utc(2026, 12, 1, 5), HELSINKI, minute=8 * 60, daily=True, weekday=None, grace=timedelta(hours=30))
    assert long == [Due("daily", "yesterday", utc(2026, 11, 30, 6))]


def test_no_grace_still_means_the_minute_it_falls_due_in() -> None:
    """``grace_hours = 0``: no missed digest is posted, but the minute job's run a moment after 08:00 posts it."""

    def at(when: datetime) -> list[Due]:
        return due(when, HELSINKI, minute=8 * 60, daily=True, weekday=1, grace=timedelta(0))

    eight = utc(2026, 12, 1, 6)
    both = [Due("daily", "yesterday", eight), Due("weekly", "week", eight)]
    assert at(eight) == both
    assert at(eight + timedelta(milliseconds=250)) == both
    assert at(eight + timedelta(seconds=59, microseconds=999_999)) == both
    assert at(eight + timedelta(minutes=1)) == []


def test_the_weekly_digest_is_due_on_its_weekday_and_within_the_grace_after() -> None:
    monday_8 = utc(2026, 11, 30, 6)
    assert due(monday_8, HELSINKI, minute=480, daily=False, weekday=0, grace=GRACE) == [Due("weekly", "week", monday_8)]
    # Tuesday morning: Monday's was more than a day ago.
    assert due(utc(2026, 12, 1, 6), HELSINKI, minute=480, daily=False, weekday=0, grace=GRACE) == []
    # A long grace catches a Monday missed until Tuesday.
    later = due(utc(2026, 12, 1, 7), HELSINKI, minute=480, daily=False, weekday=0, grace=timedelta(hours=48))
    assert later == [Due("weekly", "week", monday_8)]
    # Both kinds on the weekday.
    both = due(monday_8, HELSINKI, minute=480, daily=True, weekday=0, grace=GRACE)
    assert {d.kind for d in both} == {"daily", "weekly"}


def test_nothing_is_due_when_neither_kind_is_wanted() -> None:
    assert due(utc(2026, 11, 30, 6), HELSINKI, minute=480, daily=False, weekday=None, grace=GRACE) == []


def test_naive_times_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        days_window(date(2026, 1, 1), date(2026, 1, 1), HELSINKI, datetime(2026, 1, 2))


ZONES = st.sampled_from(["Europe/Helsinki", "Europe/Warsaw", "America/New_York", "Pacific/Chatham", "UTC"])
NOWS = st.datetimes(min_value=datetime(1971, 1, 2), max_value=datetime(2999, 12, 30), timezones=st.just(UTC))


@settings(max_examples=300, deadline=None)
@given(now=NOWS, zone=ZONES, period=st.sampled_from(["today", "yesterday", "week"]))
def test_windows_are_ordered_and_end_at_local_midnight_or_now(now: datetime, zone: str, period: str) -> None:
    tz = ZoneInfo(zone)
    current, previous = windows(period, now, tz)  # type: ignore[arg-type]
    assert previous.start < previous.end <= current.start < current.end <= now or (
        period == "today" and current.start <= now
    )
    assert previous.end <= current.start
    assert current.as_of == now and previous.as_of <= now
    assert current.start.astimezone(tz).time().hour in (0, 1)  # midnight (or 01:00 where midnight is skipped)


@settings(max_examples=300, deadline=None)
@given(
    now=NOWS,
    zone=ZONES,
    minute=st.integers(0, 24 * 60 - 1),
    weekday=st.none() | st.integers(0, 6),
    grace_hours=st.floats(0, 144),
)
# Found by hypothesis: a microsecond into the due minute, with no grace, the digest is still due.
@example(
    now=datetime(2000, 1, 1, 6, 26, 0, 1, tzinfo=UTC), zone="Europe/Helsinki", minute=506, weekday=None, grace_hours=0.0
)
def test_a_due_digest_is_never_in_the_future_nor_older_than_the_grace(
    now: datetime, zone: str, minute: int, weekday: int | None, grace_hours: float
) -> None:
    grace = timedelta(hours=grace_hours)
    found = due(now, ZoneInfo(zone), minute=minute, daily=True, weekday=weekday, grace=grace)
    assert len({d.kind for d in found}) == len(found)
    for d in found:
        # The grace counts from the end of the minute the digest fell due in (a digest due at 08:00 is
        # still on time at 08:00:59 with no grace at all).
        assert now - grace - DUE_MINUTE < d.due_at <= now
