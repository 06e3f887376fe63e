"""Writing the rota: shifts added and removed, covers made and undone, swaps.

Each function works in the caller's transaction (``ctx.db.write()``), so the change, its
audit line and its confirmation in the channel are stored together or not at all.
Nothing is deleted: removal sets ``removed_at``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from . import tables
from .schedule import Cover, ShiftRule, Swap


async def _insert(session: AsyncSession, table: sa.Table, **values: object) -> int:
    """Insert one row of ``table`` (shifts or changes); its new id."""
    new_id = await session.scalar(sa.insert(table).values(**values).returning(table.c.id))
    assert new_id is not None
    return int(new_id)


async def _remove(session: AsyncSession, table: sa.Table, row_id: int, by: str, at: datetime) -> Any:
    """Mark a row of ``table`` removed unless it is already; the row as it was, or None."""
    return (
        await session.execute(
            sa.update(table)
            .where(table.c.id == row_id, table.c.removed_at.is_(None))
            .values(removed_by=by, removed_at=at)
            .returning(*table.c)
        )
    ).first()


async def add_shift(
    session: AsyncSession, days: frozenset[int], start: int, end: int, people: tuple[str, ...], by: str, at: datetime
) -> ShiftRule:
    """Store a recurring shift; returns it with its id."""
    shift_id = await _insert(
        session,
        tables.shifts,
        days=tables.days_text(days),
        start_minute=start,
        end_minute=end,
        people=list(people),
        created_by=by,
        created_at=at,
    )
    return ShiftRule(shift_id, days, start, end, people)


async def remove_shift(session: AsyncSession, shift_id: int, by: str, at: datetime) -> ShiftRule | None:
    """Remove a shift; returns it, or None when there is no such shift (or it was removed already)."""
    row = await _remove(session, tables.shifts, shift_id, by, at)
    return tables.rule_of(row) if row else None


async def add_cover(
    session: AsyncSession,
    absent: str,
    cover: str,
    start: datetime,
    end: datetime,
    *,
    whole_shifts: bool,
    by: str,
    at: datetime,
) -> Cover:
    """Store a cover: ``cover`` takes ``absent``'s shifts in ``[start, end)``."""
    return await _insert_cover(
        session, absent, cover, start, end, whole_shifts=whole_shifts, by=by, at=at, ordered_at=at
    )


async def _insert_cover(
    session: AsyncSession,
    absent: str,
    cover: str,
    start: datetime,
    end: datetime,
    *,
    whole_shifts: bool,
    by: str,
    at: datetime,
    ordered_at: datetime,
) -> Cover:
    """Insert a cover row taking its place among the changes at ``ordered_at`` (a new one's is ``at``)."""
    change_id = await _insert(
        session,
        tables.changes,
        kind="cover",
        first_user=absent,
        second_user=cover,
        starts_at=start,
        ends_at=end,
        whole_shifts=whole_shifts,
        ordered_at=ordered_at,
        created_by=by,
        created_at=at,
    )
    return Cover(change_id, absent, cover, start, end, whole_shifts, ordered_at)


async def add_swap(session: AsyncSession, first: str, second: str, day: date, *, by: str, at: datetime) -> Swap:
    """Store a swap of ``first`` and ``second`` on the local date ``day``."""
    change_id = await _insert(
        session,
        tables.changes,
        kind="swap",
        first_user=first,
        second_user=second,
        day=day,
        ordered_at=at,
        created_by=by,
        created_at=at,
    )
    return Swap(change_id, first, second, day, at)


async def remove_change(session: AsyncSession, change_id: int, by: str, at: datetime) -> Cover | Swap | None:
    """Undo a cover or swap by id; returns it, or None when there is none to undo."""
    row = await _remove(session, tables.changes, change_id, by, at)
    return tables.change_of(row) if row else None


@dataclass(frozen=True, slots=True)
class Uncovered:
    """What ``/rota uncover`` did: the covers it ended or shortened, and the pieces left of them."""

    removed: tuple[Cover, ...]
    kept: tuple[Cover, ...]


async def uncover(
    session: AsyncSession, absent: str, start: datetime, end: datetime, *, by: str, at: datetime
) -> Uncovered:
    """Take ``[start, end)`` out of every cover of ``absent``, splitting a cover that spans it.

    A shortened cover is removed and its remaining pieces stored anew in its place in the
    order of changes (``ordered_at``), so later changes still apply after it. An empty or
    backwards range undoes nothing.
    """
    if end <= start:
        # The query below would still find covers spanning the range and cut overlapping pieces.
        return Uncovered((), ())
    rows = (
        await session.execute(
            sa.select(tables.changes).where(
                tables.changes.c.kind == "cover",
                tables.changes.c.first_user == absent,
                tables.changes.c.removed_at.is_(None),
                tables.changes.c.starts_at < end,
                tables.changes.c.ends_at > start,
            )
        )
    ).all()
    removed: list[Cover] = []
    kept: list[Cover] = []
    for row in rows:
        old = tables.change_of(row)
        assert isinstance(old, Cover)
        await remove_change(session, old.id, by, at)
        removed.append(old)
        for piece_start, piece_end in ((old.start, start), (end, old.end)):
            if piece_start < piece_end and old.start <= piece_start and piece_end <= old.end:
                piece = await _insert_cover(
                    session,
                    old.absent,
                    old.cover,
                    piece_start,
                    piece_end,
                    whole_shifts=old.whole_shifts,
                    by=by,
                    at=at,
                    ordered_at=row.ordered_at,
                )
                kept.append(piece)
    return Uncovered(tuple(removed), tuple(kept))
