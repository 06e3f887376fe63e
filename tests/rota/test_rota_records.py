"""Writing the rota on both databases: shifts, covers, swaps, undoing them, and what the schedule then says."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from chatops.db import Database
from chatops_plugins.rota import records, tables
from chatops_plugins.rota.schedule import Cover, Schedule, ShiftRule, Swap, local_instant

HELSINKI = ZoneInfo("Europe/Helsinki")
ANNA, JARI, OLA, LENA = "UANNA", "UJARI", "UOLA", "ULENA"
WEEKDAYS = frozenset(range(5))
T0 = datetime(2026, 11, 20, 9, tzinfo=UTC)


@pytest.fixture
async def db(rota_database: str) -> AsyncIterator[Database]:
    database = Database(rota_database)
    try:
        yield database
    finally:
        await database.dispose()


def midnight(day: date) -> datetime:
    return local_instant(day, 0, HELSINKI)


def at_local(day: date, hour: int) -> datetime:
    return local_instant(day, hour * 60, HELSINKI)


async def schedule_of(db: Database) -> Schedule:
    async with db.read() as session:
        return Schedule(
            tuple(await tables.active_rules(session)), tuple(await tables.active_changes(session)), HELSINKI
        )


async def test_a_shift_is_stored_listed_and_removed_once(db: Database) -> None:
    async with db.write() as session:
        rule = await records.add_shift(session, WEEKDAYS, 8 * 60, 16 * 60, (ANNA, JARI), LENA, T0)
        night = await records.add_shift(session, frozenset({5, 6}), 22 * 60, 6 * 60, (OLA,), LENA, T0)
    assert rule == ShiftRule(rule.id, WEEKDAYS, 480, 960, (ANNA, JARI))
    async with db.read() as session:
        assert await tables.active_rules(session) == [rule, night]
    async with db.write() as session:
        assert await records.remove_shift(session, rule.id, LENA, T0 + timedelta(hours=1)) == rule
    async with db.write() as session:
        assert await records.remove_shift(session, rule.id, LENA, T0 + timedelta(hours=2)) is None
        assert await records.remove_shift(session, 9999, LENA, T0) is None
    async with db.read() as session:
        assert await tables.active_rules(session) == [night]
    schedule = await schedule_of(db)
    assert schedule.on_shift(at_local(date(2026, 12, 1), 9)) == ()
    assert schedule.on_shift(at_local(date(2026, 12, 5), 23)) == (OLA,)


async def test_covers_and_swaps_come_back_in_the_order_they_were_made_and_undo_once(db: Database) -> None:
    async with db.write() as session:
        await records.add_shift(session, WEEKDAYS, 8 * 60, 16 * 60, (ANNA,), LENA, T0)
        cover = await records.add_cover(
            session,
            ANNA,
            JARI,
            midnight(date(2026, 12, 1)),
            midnight(date(2026, 12, 3)),
            whole_shifts=True,
            by=LENA,
            at=T0 + timedelta(minutes=2),
        )
        swap = await records.add_swap(session, JARI, OLA, date(2026, 12, 2), by=LENA, at=T0 + timedelta(minutes=1))
    async with db.read() as session:
        assert await tables.active_changes(session) == [swap, cover]
    assert cover == Cover(cover.id, ANNA, JARI, cover.start, cover.end, True, T0 + timedelta(minutes=2))
    assert swap == Swap(swap.id, JARI, OLA, date(2026, 12, 2), T0 + timedelta(minutes=1))
    # The swap was made first: on the 2nd Jari and Ola swap (neither has a shift), then Jari covers Anna.
    schedule = await schedule_of(db)
    assert schedule.on_shift(at_local(date(2026, 12, 2), 9)) == (JARI,)
    async with db.write() as session:
        assert await records.remove_change(session, swap.id, LENA, T0 + timedelta(hours=1)) == swap
        assert await records.remove_change(session, swap.id, LENA, T0 + timedelta(hours=1)) is None
        assert await records.remove_change(session, cover.id, LENA, T0 + timedelta(hours=1)) == cover
    async with db.read() as session:
        assert await tables.active_changes(session) == []


async def test_uncover_splits_a_cover_and_its_pieces_keep_their_place_among_changes(db: Database) -> None:
    days = [date(2026, 11, 30) + timedelta(days=n) for n in range(5)]  # Monday … Friday
    async with db.write() as session:
        await records.add_shift(session, WEEKDAYS, 8 * 60, 16 * 60, (ANNA,), LENA, T0)
        week = await records.add_cover(
            session,
            ANNA,
            JARI,
            midnight(days[0]),
            midnight(days[4] + timedelta(days=1)),
            whole_shifts=True,
            by=LENA,
            at=T0,
        )
        thursday = await records.add_cover(
            session,
            ANNA,
            OLA,
            midnight(days[3]),
            midnight(days[4]),
            whole_shifts=True,
            by=LENA,
            at=T0 + timedelta(minutes=1),
        )
    # Anna is back on Tuesday and Wednesday.
    async with db.write() as session:
        done = await records.uncover(
            session, ANNA, midnight(days[1]), midnight(days[3]), by=LENA, at=T0 + timedelta(hours=1)
        )
    assert done.removed == (week,)
    assert [(c.start, c.end, c.cover, c.created_at) for c in done.kept] == [
        (midnight(days[0]), midnight(days[1]), JARI, T0),
        (midnight(days[3]), midnight(days[4] + timedelta(days=1)), JARI, T0),
    ]
    async with db.read() as session:
        changes = await tables.active_changes(session)
    # The pieces keep the week cover's place: before Thursday's cover by Ola, which still wins on Thursday.
    assert changes == [*done.kept, thursday]
    schedule = await schedule_of(db)
    assert [schedule.on_shift(at_local(day, 9)) for day in days] == [(JARI,), (ANNA,), (ANNA,), (OLA,), (JARI,)]


async def test_uncover_trims_one_end_removes_whole_covers_and_leaves_others_alone(db: Database) -> None:
    monday, friday = date(2026, 11, 30), date(2026, 12, 4)
    async with db.write() as session:
        first = await records.add_cover(
            session, ANNA, JARI, midnight(monday), midnight(friday), whole_shifts=True, by=LENA, at=T0
        )
        inside = await records.add_cover(
            session, ANNA, OLA, at_local(friday, 12), at_local(friday, 14), whole_shifts=False, by=LENA, at=T0
        )
        other = await records.add_cover(
            session, JARI, OLA, midnight(monday), midnight(friday), whole_shifts=True, by=LENA, at=T0
        )
    async with db.write() as session:
        done = await records.uncover(
            session, ANNA, midnight(monday + timedelta(days=2)), midnight(friday + timedelta(days=1)), by=LENA, at=T0
        )
    assert set(done.removed) == {first, inside}
    assert [(c.start, c.end, c.whole_shifts) for c in done.kept] == [
        (midnight(monday), midnight(monday + timedelta(days=2)), True)
    ]
    async with db.read() as session:
        assert set(await tables.active_changes(session)) == {*done.kept, other}
    async with db.write() as session:
        again = await records.uncover(session, ANNA, midnight(monday), midnight(friday), by=LENA, at=T0)
        assert again.removed == done.kept and again.kept == ()
        nothing = await records.uncover(session, ANNA, midnight(monday), midnight(friday), by=LENA, at=T0)
        assert nothing.removed == () and nothing.kept == ()


async def test_uncover_with_a_backwards_range_changes_nothing(db: Database) -> None:
    monday, friday = date(2026, 11, 30), date(2026, 12, 4)
    async with db.write() as session:
        cover = await records.add_cover(
            session, ANNA, JARI, midnight(monday), midnight(friday), whole_shifts=True, by=LENA, at=T0
        )
    async with db.write() as session:
        done = await records.uncover(
            session, ANNA, midnight(monday + timedelta(days=3)), midnight(monday + timedelta(days=1)), by=LENA, at=T0
        )
    assert done == records.Uncovered((), ())
    async with db.read() as session:
        assert await tables.active_changes(session) == [cover]


async def test_active_changes_since_leaves_out_only_what_is_over(db: Database) -> None:
    now = datetime(2026, 12, 10, 3, tzinfo=UTC)  # 05:00 in Helsinki on Thursday the 10th
    async with db.write() as session:
        over = await records.add_cover(
            session, ANNA, JARI, now - timedelta(days=3), now - timedelta(hours=1), whole_shifts=False, by=LENA, at=T0
        )
        running = await records.add_cover(
            session, ANNA, OLA, now - timedelta(days=1), now + timedelta(hours=1), whole_shifts=False, by=LENA, at=T0
        )
        old_swap = await records.add_swap(session, ANNA, JARI, date(2026, 12, 1), by=LENA, at=T0)
        # Last night's swap: its 22:00-06:00 shift is still on at 05:00 local.
        last_night = await records.add_swap(session, ANNA, JARI, date(2026, 12, 9), by=LENA, at=T0)
        coming = await records.add_swap(session, ANNA, JARI, date(2026, 12, 12), by=LENA, at=T0)
    async with db.read() as session:
        assert set(await tables.active_changes(session)) == {over, running, old_swap, last_night, coming}
        assert set(await tables.active_changes(session, since=now)) == {running, last_night, coming}
