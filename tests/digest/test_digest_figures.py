"""The digest's figures on the fixed data set (figures_data.py), against values worked out by hand.

Each test runs on SQLite and on PostgreSQL with the same expectations, so the two databases
agree to the millisecond. Times in comments are Helsinki local (UTC+2 in December).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta

import pytest
from digest_kit import Data
from figures_data import DAY, HELSINKI, MON, READ_AT, TARGET_SECONDS, TUE, WED, Ids, at, build

from chatops.db import Database
from chatops_plugins.digest import figures
from chatops_plugins.digest.figures import Backlog, DayPoint, Durations, Fan, Options, PersonFigures
from chatops_plugins.digest.periods import days_window, history, windows
from chatops_plugins.rota.config import RotaConfig

OPTIONS = Options(target_seconds=TARGET_SECONDS, top=5, list_limit=3)


@pytest.fixture
async def db(digest_database: str) -> AsyncIterator[Database]:
    database = Database(digest_database)
    try:
        yield database
    finally:
        await database.dispose()


@pytest.fixture
async def ids(db: Database) -> Ids:
    return await build(Data(db))


async def test_the_day_as_read_the_next_morning(db: Database, ids: Ids) -> None:
    window = days_window(DAY, DAY, HELSINKI, READ_AT)
    async with db.read() as session:
        got = await figures.window_figures(session, window, OPTIONS)

    # c1..c6 started on Tuesday (c4 at 23:58 included); c0 (Monday) and c7 (Wednesday) did not.
    assert got.by_source == (("webhook", 5), ("facebook", 1))
    assert got.conversations == 6
    # First messages of c1..c6, and the follow-ups on c1 (11:00) and c5 (14:30); c7's are Wednesday's.
    assert got.messages == 8
    # c1 (10 min), c3 (on Facebook, 30 min; not the failed reply nor the rota's), c4 (5 min,
    # after midnight), c5 (2 h). c2 never; c6 only after the digest was read.
    assert got.answered == 4
    assert got.unanswered == 2
    # 300, 600, 1800, 7200 s: median rank ceil(4·0.5) = 2 → 600; p90 rank ceil(3.6) = 4 → 7200.
    assert got.first_response == Durations(4, 600.0, 7200.0)
    assert got.first_response_service is None
    # Within an hour: c1, c3, c4. Breaches: c5 (2 h), c2 (22 h unanswered), c6 (17 h unanswered).
    assert got.within_target == 3
    assert got.breaches == 3
    # c1 resolved 10:00, reopened, resolved 12:00: once, 3 h. c0 resolved 08:30: 12 h 30 min.
    assert got.resolution == Durations(2, 10_800.0, 45_000.0)
    assert got.escalations == 1
    # c2 by its complaint tag, c5 by the classifier.
    assert got.negative == 2
    # A fan is an account on one platform: cust-1 on the webhook wrote twice in c1, cust-1 on
    # Facebook once in c3 (another account); cust-3 twice in c5; then one each, by name byte
    # order: "@five" < "Customer Four" < "Customer One" (Facebook) < "Customer Two" (the sixth, cut).
    assert got.fans == (
        Fan("Customer One", None, ("webhook",), 1, 2),
        Fan("Customer Three", None, ("webhook",), 1, 2),
        Fan("@five", "@five", ("webhook",), 1, 1),
        Fan("Customer Four", None, ("webhook",), 1, 1),
        Fan("Customer One", None, ("facebook",), 1, 1),
    )
    # UANNA: replies on c1 and c5 on Tuesday, both first answers (600, 7200). UCAR: c0's answer on
    # Tuesday (a Monday conversation). UBEN: his Tuesday reply failed; c4's answer came on Wednesday,
    # but it is the first answer of a Tuesday conversation. The rota's reply is nobody's.
    assert got.people == (
        PersonFigures("UANNA", 2, 2, Durations(2, 600.0, 7200.0)),
        PersonFigures("UCAR", 1, 0, Durations()),
        PersonFigures("UBEN", 0, 1, Durations(1, 300.0, 300.0)),
    )
    assert got.tags == (("billing", 2), ("complaint", 1))
    assert not got.empty


async def test_answers_and_resolutions_after_as_of_do_not_count(db: Database, ids: Ids) -> None:
    # As things stood at 15:59 on Tuesday: c5's answer (16:00) and c4's (Wednesday) had not come.
    window = days_window(DAY, DAY, HELSINKI, at(TUE, "15:59"))
    async with db.read() as session:
        got = await figures.window_figures(session, window, OPTIONS)
    assert got.answered == 2  # c1, c3
    assert got.first_response == Durations(2, 600.0, 1800.0)
    assert got.within_target == 2
    # c2 waited 5 h 59 min and c5 1 h 59 min; c6 59 min (not yet); c4 had not started.
    assert got.breaches == 2
    assert got.people == (
        PersonFigures("UANNA", 1, 1, Durations(1, 600.0, 600.0)),
        PersonFigures("UCAR", 1, 0, Durations()),
    )
    assert got.resolution == Durations(2, 10_800.0, 45_000.0)

    # At 11:59 c1 had been resolved only once (10:00) and c0 at 08:30.
    early = days_window(DAY, DAY, HELSINKI, at(TUE, "11:59"))
    async with db.read() as session:
        got = await figures.window_figures(session, early, OPTIONS)
    assert got.resolution == Durations(2, 3600.0, 45_000.0)
    # c5's classified message (14:00) and c2's tag (10:00): only the tag was there at 11:59.
    assert got.negative == 1
    assert got.tags == (("billing", 1), ("complaint", 1))


async def test_a_reply_exactly_at_as_of_counts(db: Database, ids: Ids) -> None:
    window = days_window(DAY, DAY, HELSINKI, at(TUE, "16:00"))
    async with db.read() as session:
        got = await figures.window_figures(session, window, OPTIONS)
    assert got.answered == 3  # c1, c3, c5
    assert got.first_response == Durations(3, 1800.0, 7200.0)


async def test_service_hours(db: Database, ids: Ids) -> None:
    # Mon–Fri 08:00–16:00: c4 (23:58 → 00:03) took no service time at all; c5's answer at 16:00
    # took 2 h of it; c6, unanswered from 15:00, has waited one service hour by Wednesday 08:00.
    hours = RotaConfig.model_validate(
        {"service_hours": {day: "08:00-16:00" for day in ("mon", "tue", "wed", "thu", "fri")}}
    ).hours(HELSINKI)
    window = days_window(DAY, DAY, HELSINKI, READ_AT)
    async with db.read() as session:
        got = await figures.window_figures(session, window, Options(target_seconds=TARGET_SECONDS, hours=hours))
    # Wall clock unchanged.
    assert got.first_response == Durations(4, 600.0, 7200.0)
    # 0, 600, 1800, 7200.
    assert got.first_response_service == Durations(4, 600.0, 7200.0)
    assert got.within_target == 3
    # c5 (2 h) and c2 (10:00–16:00, 6 h); c6's one hour is not more than the target.
    assert got.breaches == 2

    # Closed on Tuesdays: c1, c3, c5 and c4 all took 0 service seconds; c2 and c6 have waited
    # Wednesday's 0 service seconds at 08:00 (Monday's hours are before they started).
    closed_tuesday = RotaConfig.model_validate({"service_hours": {"mon": "08:00-16:00", "wed": "08:00-16:00"}}).hours(
        HELSINKI
    )
    async with db.read() as session:
        got = await figures.window_figures(
            session, window, Options(target_seconds=TARGET_SECONDS, hours=closed_tuesday)
        )
    assert got.first_response_service == Durations(4, 0.0, 0.0)
    assert (got.within_target, got.breaches) == (4, 0)

    # A holiday covering the whole stretch: no service period at all.
    holiday = RotaConfig.model_validate(
        {"service_hours": {"tue": "08:00-16:00", "wed": "08:00-16:00", "holidays": ["2026-12-01", "2026-12-02"]}}
    ).hours(HELSINKI)
    async with db.read() as session:
        got = await figures.window_figures(session, window, Options(target_seconds=TARGET_SECONDS, hours=holiday))
    assert got.first_response_service == Durations(4, 0.0, 0.0)
    assert got.breaches == 0


async def test_sources_filter(db: Database, ids: Ids) -> None:
    window = days_window(DAY, DAY, HELSINKI, READ_AT)
    only_facebook = Options(target_seconds=TARGET_SECONDS, sources=("facebook",))
    async with db.read() as session:
        got = await figures.window_figures(session, window, only_facebook)
        open_now = await figures.backlog(session, READ_AT, only_facebook)
    assert got.by_source == (("facebook", 1),)
    assert got.messages == 1
    assert got.answered == 1
    assert got.first_response == Durations(1, 1800.0, 1800.0)
    # UBEN's failed reply and the rota's are nobody's answer; the Page's answer is nobody's either.
    assert got.people == ()
    assert got.fans == (Fan("Customer One", None, ("facebook",), 1, 1),)
    assert (got.resolution, got.escalations, got.negative, got.tags) == (Durations(), 0, 0, ())
    # c3 is still open (replied).
    assert open_now.open == 1
    assert open_now.oldest is not None and open_now.oldest.conversation_id == ids.c3
    assert open_now.worst_negative == ()

    async with db.read() as session:
        nothing = await figures.window_figures(session, window, Options(target_seconds=60, sources=()))
    assert nothing.empty and nothing.conversations == 0


async def test_the_backlog(db: Database, ids: Ids) -> None:
    async with db.read() as session:
        got = await figures.backlog(session, READ_AT, OPTIONS)
    # Open now: c2 (new), c3, c4, c5 and c6 (replied), c7 (new); c0 and c1 are resolved.
    assert got.open == 6
    assert got.oldest is not None
    assert (got.oldest.conversation_id, got.oldest.label, got.oldest.author) == (ids.c2, "Winter boots", "Customer Two")
    assert got.oldest.created_at == at(TUE, "10:00")
    # Negative and open: c5 (lowest score -0.8) first; then the unscored ones, c7 (two customer
    # messages; its score "bad" is no number) before c2 (one).
    worst = [(item.conversation_id, item.score, item.author, item.label) for item in got.worst_negative]
    assert worst == [
        (ids.c5, -0.8, "Customer Three", "Delivery times"),
        (ids.c7, None, "Customer Six", ""),
        (ids.c2, None, "Customer Two", "Winter boots"),
    ]
    assert got.worst_negative[0].slack_channel == "CINBOX"

    async with db.read() as session:
        short = await figures.backlog(session, READ_AT, Options(target_seconds=60, list_limit=1))
        none_listed = await figures.backlog(session, READ_AT, Options(target_seconds=60, list_limit=0))
        by_tag_only = await figures.backlog(session, READ_AT, Options(target_seconds=60, negative_tags=()))
    assert [item.conversation_id for item in short.worst_negative] == [ids.c5]
    assert none_listed.worst_negative == () and none_listed.open == 6
    assert [item.conversation_id for item in by_tag_only.worst_negative] == [ids.c5, ids.c7]


async def test_an_empty_database(db: Database) -> None:
    window = days_window(DAY, DAY, HELSINKI, READ_AT)
    async with db.read() as session:
        got = await figures.window_figures(session, window, OPTIONS)
        open_now = await figures.backlog(session, READ_AT, OPTIONS)
        points = await figures.daily_points(session, history(DAY, HELSINKI, READ_AT, days=2), OPTIONS)
    assert got.empty
    assert (got.first_response, got.resolution, got.response_rate) == (Durations(), Durations(), None)
    assert open_now == Backlog()
    assert points == [DayPoint(MON, 0, None), DayPoint(TUE, 0, None)]


async def test_daily_points(db: Database, ids: Ids) -> None:
    async with db.read() as session:
        points = await figures.daily_points(session, history(WED, HELSINKI, READ_AT, days=4), OPTIONS)
    assert points == [
        DayPoint(MON - timedelta(days=1), 0, None),
        DayPoint(MON, 1, 43_200.0),  # c0, 12 h
        DayPoint(TUE, 6, 600.0),  # 300, 600, 1800, 7200 → rank 2
        DayPoint(WED, 1, None),  # c7, unanswered
    ]


async def test_dst_days_in_helsinki(db: Database) -> None:
    data = Data(db)
    # Sunday 2026-10-25 has 25 hours (04:00 EEST → 03:00 EET).
    autumn = windows("yesterday", at(WED.replace(month=10, day=26), "08:00"), HELSINKI)
    day, before = autumn
    assert day.end - day.start == timedelta(hours=25)
    oct24, oct25, oct26 = (DAY.replace(month=10, day=n) for n in (24, 25, 26))
    late_saturday = await data.conversation(at(oct24, "23:30"))
    early = await data.conversation(at(oct25, "00:30"))  # 21:30 UTC on the 24th
    late = await data.conversation(at(oct25, "23:30"))  # 21:30 UTC on the 25th
    await data.reply(late_saturday, at(oct25, "00:10"))  # 40 min, into Sunday
    await data.reply(early, at(oct25, "04:30"))  # 4 h on the clock, 5 h elapsed
    await data.reply(late, at(oct26, "00:10"))  # 40 min, into Monday
    async with db.read() as session:
        got = await figures.window_figures(session, day, OPTIONS)
        previous = await figures.window_figures(session, before, OPTIONS)
    assert got.conversations == 2
    assert got.first_response == Durations(2, 2400.0, 18_000.0)
    assert previous.conversations == 1
    assert previous.first_response == Durations(1, 2400.0, 2400.0)
    # UANNA answered at 00:10 on Sunday and 04:30 on Sunday (two conversations); the 00:10 on Monday is not Sunday's.
    assert got.people == (PersonFigures("UANNA", 2, 2, Durations(2, 2400.0, 18_000.0)),)

    # Sunday 2026-03-29 has 23 hours (03:00 EET → 04:00 EEST).
    mar28, mar29, mar30 = (DAY.replace(month=3, day=n) for n in (28, 29, 30))
    spring = days_window(mar29, mar29, HELSINKI, at(mar30, "08:00"))
    assert spring.end - spring.start == timedelta(hours=23)
    night = await data.conversation(at(mar29, "01:00"))  # 23:00 UTC on the 28th
    await data.reply(night, at(mar29, "05:00"))  # 4 h on the clock, 3 h elapsed
    await data.conversation(at(mar29, "23:30"))
    await data.conversation(at(mar30, "00:30"))
    async with db.read() as session:
        got = await figures.window_figures(session, spring, OPTIONS)
        points = await figures.daily_points(session, history(mar30, HELSINKI, at(mar30, "08:00"), days=3), OPTIONS)
    assert got.conversations == 2
    assert got.first_response == Durations(1, 10_800.0, 10_800.0)
    assert points == [DayPoint(mar28, 0, None), DayPoint(mar29, 2, 10_800.0), DayPoint(mar30, 1, None)]


async def test_durations_to_the_millisecond_on_both_databases(db: Database) -> None:
    data = Data(db)
    start = at(TUE, "09:00")
    # Stored to the microsecond; counted in whole milliseconds, half up: 0.4 ms down, 0.6 ms up.
    one = await data.conversation(start + timedelta(microseconds=400))
    await data.reply(one, start + timedelta(seconds=1, microseconds=600))
    two = await data.conversation(start + timedelta(minutes=1, microseconds=500))
    await data.answered_on_platform(two, start + timedelta(minutes=1, seconds=2, microseconds=499))
    three = await data.conversation(start + timedelta(minutes=2))
    await data.reply(three, start + timedelta(minutes=2, seconds=3, microseconds=1500))
    window = days_window(DAY, DAY, HELSINKI, READ_AT)
    async with db.read() as session:
        got = await figures.window_figures(session, window, OPTIONS)
    # one: 0.4 ms → 0, 1 s 0.6 ms → 1001: 1.001 s. two: 60 s 0.5 ms → 60 001, 62 s 0.499 ms → 62 000:
    # 1.999 s. three: 120 000 → 123 s 1.5 ms → 123 002: 3.002 s. Median rank 2, p90 rank 3.
    assert got.first_response == Durations(3, 1.999, 3.002)
