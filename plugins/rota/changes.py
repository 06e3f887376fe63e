"""Changing the rota: the one function both ``/rota add|remove|cover|uncover|swap`` and the dialog call.

Each change is one transaction: the request's idempotency claim, the record, its audit
line and its confirmation in the rota's channel are stored together or not at all. The
claim comes first, so a replayed or duplicated request (same trigger id, same dialog
submission) finds it taken and changes nothing; it is answered with the same words as
the original, which are built from the request alone for that reason. A change that is
refused (nothing to remove, a range already over) rolls the claim back with it, so a
replay of a refused request is refused the same way.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa

from . import records, tables
from .answers import Words, cover_line, people, shift_line, span_text, swap_line, words_of
from .commands import Add, ChangeCommand, CoverCmd, DateSpan, Remove, Span, SwapCmd, Uncover
from .schedule import Cover, Schedule, Swap, local_day_start, local_instant
from .timespec import format_time

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession

    from .service import Rota


#: How long a request's claim is kept (Slack's replay window is 5 minutes; clocks drift).
CLAIM_KEPT = timedelta(days=1)


@dataclass(frozen=True, slots=True)
class Outcome:
    """What a change came to: ``ok``, the answer for the person, and (refused) which input was wrong.

    ``field`` is one of ``target``, ``absent``, ``other``, ``span``, ``day`` (the dialog shows the
    answer under that input).
    """

    ok: bool
    text: str
    field: str | None = None


class _Refused(Exception):
    """Roll the transaction back and answer ``text``."""

    def __init__(self, text: str, field: str | None) -> None:
        super().__init__(text)
        self.text = text
        self.field = field


def instants(span: Span, tz: Any) -> tuple[datetime, datetime, bool]:
    """The UTC ``[start, end)`` of ``span`` in ``tz``, and whether whole shifts move (dates given)."""
    if isinstance(span, DateSpan):
        return local_day_start(span.first, tz), local_day_start(span.last + timedelta(days=1), tz), True
    return local_instant(span.start[0], span.start[1], tz), local_instant(span.end[0], span.end[1], tz), False


def span_words(words: Words, span: Span) -> str:
    """A range as the person typed it, in the team's words (the same before and after the change)."""
    if isinstance(span, DateSpan):
        if span.first == span.last:
            return words.day(span.first)
        return f"{words.day(span.first)} – {words.day(span.last)}"
    (a_day, a_min), (b_day, b_min) = span.start, span.end
    end = format_time(b_min) if a_day == b_day else f"{words.day(b_day)} {format_time(b_min)}"
    return f"{words.day(a_day)} {format_time(a_min)}–{end}"


def done_text(rota: Rota, command: ChangeCommand) -> str:
    """The answer to a change that was carried out (built from the request only, see the module docstring)."""
    words = words_of(rota)
    t = rota.ctx.t
    channel = f"<#{rota.channel}>"
    if isinstance(command, Add):
        return t(
            "rota.done.add",
            days=words.days(command.days),
            start=format_time(command.start),
            end=format_time(command.end),
            people=people(command.people),
            channel=channel,
        )
    if isinstance(command, Remove):
        return t("rota.done.remove", id=command.label, channel=channel)
    if isinstance(command, CoverCmd):
        return t(
            "rota.done.cover",
            cover=f"<@{command.cover}>",
            absent=f"<@{command.absent}>",
            span=span_words(words, command.span),
            channel=channel,
        )
    if isinstance(command, Uncover):
        return t(
            "rota.done.uncover", absent=f"<@{command.absent}>", span=span_words(words, command.span), channel=channel
        )
    return t(
        "rota.done.swap",
        first=f"<@{command.first}>",
        second=f"<@{command.second}>",
        day=words.day(command.day),
        channel=channel,
    )


async def apply(rota: Rota, actor: str, command: ChangeCommand, key: str) -> Outcome:
    """Carry out ``command`` for ``actor`` once per ``key`` (``cmd:<trigger id>``, ``view:<id+hash>``)."""
    now = rota.now()
    try:
        async with rota.ctx.db.write() as session:
            if not await tables.claim(session, tables.requests, key=key[:255], created_at=now):
                return Outcome(True, done_text(rota, command))
            # Slack refuses requests signed more than 5 minutes ago: older claims can go.
            await session.execute(sa.delete(tables.requests).where(tables.requests.c.created_at < now - CLAIM_KEPT))
            schedule = Schedule(
                tuple(await tables.active_rules(session)), tuple(await tables.active_changes(session)), rota.ctx.tz
            )
            change = _Change(rota, session, actor, now, schedule)
            if isinstance(command, Add):
                await change.add(command)
            elif isinstance(command, Remove):
                await change.remove(command)
            elif isinstance(command, CoverCmd):
                await change.cover(command)
            elif isinstance(command, Uncover):
                await change.uncover(command)
            else:
                await change.swap(command)
    except _Refused as refused:
        return Outcome(False, refused.text, refused.field)
    rota.invalidate()
    return Outcome(True, done_text(rota, command))


class _Change:
    """One change inside its transaction: check it against the rota, store it, audit it, confirm it."""

    def __init__(self, rota: Rota, session: AsyncSession, actor: str, now: datetime, schedule: Schedule) -> None:
        self.rota = rota
        self.session = session
        self.actor = actor
        self.now = now
        self.schedule = schedule
        self.words = words_of(rota)
        self.t = rota.ctx.t
        self.today = self.words.local(now).date()

    async def _record(self, action: str, confirmation: str, **detail: Any) -> None:
        ctx = self.rota.ctx
        await ctx.audit(action, self.actor, session=self.session, **detail)
        await ctx.outbox.post_message(self.rota.channel, text=confirmation, session=self.session)

    def _refuse(self, key: str, field: str | None, **values: Any) -> _Refused:
        return _Refused(self.t(key, **values), field)

    async def add(self, command: Add) -> None:
        rule = await records.add_shift(
            self.session, command.days, command.start, command.end, command.people, self.actor, self.now
        )
        await self._record(
            "shift_added",
            self.t("rota.confirm.add", actor=f"<@{self.actor}>", shift=shift_line(self.words, rule)),
            shift_id=rule.id,
            days=self.words.days(rule.days),
            start=format_time(rule.start),
            end=format_time(rule.end),
            people=list(rule.people),
        )

    async def remove(self, command: Remove) -> None:
        actor = f"<@{self.actor}>"
        if command.kind == "s":
            rule = await records.remove_shift(self.session, command.id, self.actor, self.now)
            if rule is None:
                raise self._refuse("rota.change.no_such", "target", id=command.label)
            await self._record(
                "shift_removed",
                self.t("rota.confirm.remove", actor=actor, what=shift_line(self.words, rule)),
                shift_id=rule.id,
                days=self.words.days(rule.days),
                start=format_time(rule.start),
                end=format_time(rule.end),
                people=list(rule.people),
            )
            return
        kind = await self.session.scalar(
            sa.select(tables.changes.c.kind).where(
                tables.changes.c.id == command.id, tables.changes.c.removed_at.is_(None)
            )
        )
        if kind != ("cover" if command.kind == "c" else "swap"):
            raise self._refuse("rota.change.no_such", "target", id=command.label)
        removed = await records.remove_change(self.session, command.id, self.actor, self.now)
        if isinstance(removed, Cover):
            await self._record(
                "cover_removed",
                self.t("rota.confirm.remove", actor=actor, what=cover_line(self.words, removed)),
                **_cover_detail(removed),
            )
        elif isinstance(removed, Swap):
            await self._record(
                "swap_removed",
                self.t("rota.confirm.remove", actor=actor, what=swap_line(self.words, removed)),
                **_swap_detail(removed),
            )
        else:
            raise self._refuse("rota.change.no_such", "target", id=command.label)

    def _has_shift(self, person: str, start: datetime, end: datetime, whole: bool) -> bool:
        """Whether ``person`` is on a shift in ``[start, end)`` (whole: a shift starting in it)."""
        for o in self.schedule.occurrences(start, end):
            inside = start <= o.start < end if whole else (o.start < end and o.end > start)
            if inside and person in o.people:
                return True
        return False

    async def cover(self, command: CoverCmd) -> None:
        start, end, whole = instants(command.span, self.rota.ctx.tz)
        if end <= self.now:
            raise self._refuse("rota.change.over", "span")
        if not self._has_shift(command.absent, start, end, whole):
            raise self._refuse("rota.change.no_shift", "absent", person=f"<@{command.absent}>")
        cover = await records.add_cover(
            self.session, command.absent, command.cover, start, end, whole_shifts=whole, by=self.actor, at=self.now
        )
        await self._record(
            "cover_added",
            self.t("rota.confirm.cover", actor=f"<@{self.actor}>", cover=cover_line(self.words, cover)),
            **_cover_detail(cover),
        )

    async def uncover(self, command: Uncover) -> None:
        start, end, _whole = instants(command.span, self.rota.ctx.tz)
        if end <= self.now:
            raise self._refuse("rota.change.over", "span")
        done = await records.uncover(self.session, command.absent, start, end, by=self.actor, at=self.now)
        if not done.removed:
            raise self._refuse("rota.change.no_cover", "absent", person=f"<@{command.absent}>")
        kept = "".join("\n• " + cover_line(self.words, c) for c in done.kept)
        await self._record(
            "cover_removed",
            self.t(
                "rota.confirm.uncover",
                actor=f"<@{self.actor}>",
                absent=f"<@{command.absent}>",
                span=span_text(self.words, start, end, isinstance(command.span, DateSpan)),
            )
            + (("\n" + self.t("rota.confirm.uncover_kept") + kept) if kept else ""),
            absent=command.absent,
            start=start.isoformat(),
            end=end.isoformat(),
            removed=[c.id for c in done.removed],
            kept=[c.id for c in done.kept],
        )

    def _starts_on(self, person: str, day: date) -> bool:
        start = local_day_start(day, self.rota.ctx.tz)
        return self._has_shift(person, start, local_day_start(day + timedelta(days=1), self.rota.ctx.tz), True)

    async def swap(self, command: SwapCmd) -> None:
        if command.day < self.today:
            raise self._refuse("rota.change.over", "day")
        first_has = self._starts_on(command.first, command.day)
        second_has = self._starts_on(command.second, command.day)
        if not first_has and not second_has:
            raise self._refuse(
                "rota.change.swap_neither",
                "day",
                first=f"<@{command.first}>",
                second=f"<@{command.second}>",
                day=self.words.day(command.day),
            )
        swap = await records.add_swap(
            self.session, command.first, command.second, command.day, by=self.actor, at=self.now
        )
        actor = f"<@{self.actor}>"
        if first_has and second_has:
            text = self.t("rota.confirm.swap", actor=actor, swap=swap_line(self.words, swap))
        else:
            giver, taker = (command.first, command.second) if first_has else (command.second, command.first)
            text = self.t(
                "rota.confirm.swap_one_way",
                actor=actor,
                swap=swap_line(self.words, swap),
                giver=f"<@{giver}>",
                taker=f"<@{taker}>",
            )
        await self._record("swap_added", text, **_swap_detail(swap), one_way=not (first_has and second_has))


def _cover_detail(cover: Cover) -> dict[str, Any]:
    return {
        "cover_id": cover.id,
        "absent": cover.absent,
        "cover": cover.cover,
        "start": cover.start.isoformat(),
        "end": cover.end.isoformat(),
        "whole_shifts": cover.whole_shifts,
    }


def _swap_detail(swap: Swap) -> dict[str, Any]:
    return {"swap_id": swap.id, "first": swap.first, "second": swap.second, "day": swap.day.isoformat()}
