"""What ``/rota`` shows: who is on shift now, the week, the list of shifts and changes, the help.

Everything is in the team's language and timezone, mrkdwn, short lines readable on a
phone. People are shown as mentions (Slack renders names and, in an ephemeral answer,
pings nobody); the ids stored in the rota are Slack user ids, checked on the way in.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

from .commands import FORMS
from .schedule import Cover, Occurrence, Schedule, ShiftRule, Swap, local_day_start
from .timespec import format_days, format_time

if TYPE_CHECKING:
    from chatops.i18n import Translator

    from .service import Rota

#: Most shifts, covers and swaps ``/rota list`` names (each list); the rest are counted.
LIST_LIMIT = 40
#: Slack's limit for a message's text, with room for the footer.
MAX_ANSWER = 3500


@dataclass(frozen=True, slots=True)
class Words:
    """Dates, times and people written for one team: its translator and timezone.

    ``this_year``: the team's current year; a date in another year is written with its year,
    so a cover from 2026-12-01 to 2027-12-01 does not read "Tue 1 Dec – Wed 1 Dec".
    """

    t: Translator
    tz: ZoneInfo
    this_year: int | None = None

    def weekday(self, day: date) -> str:
        """The short weekday name of ``day``."""
        return self.t("rota.cmd.weekdays").split(",")[day.weekday()].strip()

    def day(self, day: date) -> str:
        """``Tue 1 Dec`` (en), ``ti 1. joulukuuta`` (fi), ``wt 1 grudnia`` (pl)."""
        month = self.t("rota.cmd.months").split(",")[day.month - 1].strip()
        if self.this_year is not None and day.year != self.this_year:
            return self.t("rota.cmd.date_year", weekday=self.weekday(day), day=day.day, month=month, year=day.year)
        return self.t("rota.cmd.date", weekday=self.weekday(day), day=day.day, month=month)

    def local(self, at: datetime) -> datetime:
        """``at`` in the team's timezone."""
        return at.astimezone(self.tz)

    def when(self, at: datetime, today: date) -> str:
        """``16:00`` today, else ``Wed 2 Dec 16:00``."""
        local = self.local(at)
        clock = local.strftime("%H:%M")
        return clock if local.date() == today else f"{self.day(local.date())} {clock}"

    def days(self, days: frozenset[int]) -> str:
        """``mon-fri`` as leads type it (the same in every language, like the command)."""
        return format_days(days)


def people(ids: Iterable[str]) -> str:
    """``<@U1>, <@U2>`` (ids come from Slack mentions or the rota's own rows)."""
    return ", ".join(f"<@{p}>" for p in ids)


def some_people(t: Translator, ids: tuple[str, ...], limit: int = MAX_ANSWER // 3) -> str:
    """:func:`people` within ``limit`` characters: the first ones, then "…and 7 more".

    ``/rota now`` names everyone on shift and who is next; a huge rota must not push
    "until when" and "who is next" out of the answer.
    """
    shown: list[str] = []
    size = 0
    for n, person in enumerate(ids):
        mention = f"<@{person}>"
        if size + len(mention) > limit:
            return ", ".join(shown) + " " + t("rota.cmd.more", count=len(ids) - n)
        shown.append(mention)
        size += len(mention) + 2
    return ", ".join(shown)


def shift_line(words: Words, rule: ShiftRule) -> str:
    """``s3 · mon-fri 08:00–16:00 · <@UANNA>``."""
    return words.t(
        "rota.cmd.shift_line",
        id=f"s{rule.id}",
        days=words.days(rule.days),
        start=format_time(rule.start),
        end=format_time(rule.end),
        people=people(rule.people),
    )


def span_text(words: Words, start: datetime, end: datetime, whole_shifts: bool) -> str:
    """A cover's range as a person reads it: dates for whole shifts, times for an exact stretch."""
    if whole_shifts:
        first = words.local(start).date()
        last = words.local(end - timedelta(seconds=1)).date()
        return words.day(first) if first == last else f"{words.day(first)} – {words.day(last)}"
    a, b = words.local(start), words.local(end)
    end_text = b.strftime("%H:%M") if a.date() == b.date() else f"{words.day(b.date())} {b:%H:%M}"
    if b.hour == 0 and b.minute == 0 and (b.date() - a.date()).days == 1:
        end_text = "24:00"
    return f"{words.day(a.date())} {a:%H:%M}–{end_text}"


def cover_line(words: Words, cover: Cover) -> str:
    """``c4 · <@UJARI> covers <@UANNA> · Tue 1 Dec – Thu 3 Dec``."""
    return words.t(
        "rota.cmd.cover_line",
        id=f"c{cover.id}",
        cover=f"<@{cover.cover}>",
        absent=f"<@{cover.absent}>",
        span=span_text(words, cover.start, cover.end, cover.whole_shifts),
    )


def swap_line(words: Words, swap: Swap) -> str:
    """``w5 · <@UANNA> ⇄ <@UJARI> · Sat 5 Dec``."""
    return words.t(
        "rota.cmd.swap_line",
        id=f"w{swap.id}",
        first=f"<@{swap.first}>",
        second=f"<@{swap.second}>",
        day=words.day(swap.day),
    )


def words_of(rota: Rota) -> Words:
    """The :class:`Words` of ``rota``'s team."""
    return Words(rota.ctx.t, rota.ctx.tz, rota.now().astimezone(rota.ctx.tz).year)


async def now_answer(rota: Rota) -> str:
    """Who is on shift now and until when, and who is next."""
    words = words_of(rota)
    t = rota.ctx.t
    schedule = await rota.schedule()
    now = rota.now()
    today = words.local(now).date()
    if not schedule.rules:
        return t("rota.cmd.empty")
    on = schedule.on_shift(now)
    change = schedule.next_change(now)
    lines = []
    if on:
        until = words.when(change, today) if change else t("rota.cmd.open_end")
        lines.append(t("rota.cmd.now_on", people=some_people(t, on), until=until))
    else:
        lines.append(t("rota.cmd.now_nobody"))
    if change is not None:
        coming = schedule.on_shift(change)
        if coming:
            lines.append(t("rota.cmd.next_on", people=some_people(t, coming), at=words.when(change, today)))
        else:
            lines.append(t("rota.cmd.next_nobody", at=words.when(change, today)))
    else:
        lines.append(t("rota.cmd.next_none"))
    return fit(t, "\n".join(lines))


def _mark(words: Words, occurrence: Occurrence, swaps: list[Swap]) -> str:
    """``_(covers <@UANNA>)_`` or ``_(swap with <@UANNA>)_`` when the shift is not as planned."""
    if occurrence.people == occurrence.planned:
        return ""
    missing = [p for p in occurrence.planned if p not in occurrence.people]
    added = [p for p in occurrence.people if p not in occurrence.planned]
    swapped = [s for s in swaps if s.day == occurrence.day and ({s.first, s.second} & (set(missing) | set(added)))]
    key = "rota.cmd.mark_swap" if swapped else "rota.cmd.mark_cover"
    return " " + words.t(key, people=people(missing) or people(added))


def week_answer_sync(words: Words, schedule: Schedule, monday: date) -> str:
    """The week from ``monday``, one short section per day, covers and swaps marked."""
    t = words.t
    start = local_day_start(monday, schedule.tz)
    end = local_day_start(monday + timedelta(days=7), schedule.tz)
    found = [o for o in schedule.occurrences(start, end) if monday <= o.day < monday + timedelta(days=7)]
    swaps = [c for c in schedule.changes if isinstance(c, Swap)]
    sections = [t("rota.cmd.week_title", first=words.day(monday), last=words.day(monday + timedelta(days=6)))]
    for offset in range(7):
        day = monday + timedelta(days=offset)
        lines = [f"*{words.day(day)}*"]
        todays = [o for o in found if o.day == day]
        for o in todays:
            a, b = words.local(o.start), words.local(o.end)
            until = "24:00" if b.date() > a.date() and b.hour == 0 and b.minute == 0 else f"{b:%H:%M}"
            who = people(o.people) if o.people else t("rota.cmd.nobody")
            lines.append(f"• {a:%H:%M}–{until} {who}{_mark(words, o, swaps)}")
        if not todays:
            lines.append(t("rota.cmd.no_shifts_day"))
        sections.append("\n".join(lines))
    return fit(t, "\n\n".join(sections))


async def week_answer(rota: Rota, *, next_week: bool) -> str:
    """``/rota week [next]``."""
    words = words_of(rota)
    schedule = await rota.schedule()
    today = words.local(rota.now()).date()
    monday = today - timedelta(days=today.weekday()) + timedelta(days=7 if next_week else 0)
    if not schedule.rules:
        return rota.ctx.t("rota.cmd.empty")
    return week_answer_sync(words, schedule, monday)


async def list_answer(rota: Rota) -> str:
    """The shifts with their ids, and the covers and swaps not over yet."""
    words = words_of(rota)
    t = rota.ctx.t
    schedule = await rota.schedule(fresh=True)
    now = rota.now()
    today = words.local(now).date()
    covers = [c for c in schedule.changes if isinstance(c, Cover) and c.end > now]
    swaps = [c for c in schedule.changes if isinstance(c, Swap) and c.day >= today]
    if not schedule.rules and not covers and not swaps:
        return t("rota.cmd.empty")
    lines = [t("rota.cmd.list_shifts")]
    lines += [f"• {shift_line(words, r)}" for r in schedule.rules[:LIST_LIMIT]] or [t("rota.cmd.none")]
    lines += _more(t, len(schedule.rules))
    lines.append(t("rota.cmd.list_changes"))
    changes: list[Cover | Swap] = [*covers, *swaps]
    changes.sort(key=lambda c: c.start if isinstance(c, Cover) else local_day_start(c.day, schedule.tz))
    lines += [
        f"• {cover_line(words, c) if isinstance(c, Cover) else swap_line(words, c)}" for c in changes[:LIST_LIMIT]
    ] or [t("rota.cmd.none")]
    lines += _more(t, len(changes))
    return fit(t, "\n".join(lines))


def _more(t: Translator, count: int) -> list[str]:
    return [t("rota.cmd.more", count=count - LIST_LIMIT)] if count > LIST_LIMIT else []


def fit(t: Translator, text: str, limit: int = MAX_ANSWER) -> str:
    """``text`` cut to at most ``limit`` characters where a reader sees why, never inside a mention.

    A long answer (200 shifts of 20 people) is cut after its last whole line, or in one long
    line between two words, and says that the rest did not fit; a ``<@U…>`` or ``<#C…>`` is
    never cut in half, which Slack would show as raw text.
    """
    if len(text) <= limit:
        return text
    tail = "\n" + t("rota.cmd.cut")
    room = text[: max(limit - len(tail), 0)]
    cut = room.rfind("\n")
    if cut < len(room) // 2:
        cut = room.rfind(" ")
    head = room[:cut] if cut > 0 else room
    opening = head.rfind("<")
    if opening > head.rfind(">"):
        head = head[:opening]
    return head.rstrip(" ,") + tail


def help_answer(t: Translator) -> str:
    """Every form with an example (``calendar`` included: another part answers it)."""
    lines = [t("rota.help.title")]
    lines += [t(f"rota.usage.{form}") for form in FORMS]
    lines.append(t("rota.help.calendar"))
    lines.append(t("rota.help.footer"))
    return "\n".join(lines)


def usage(t: Translator, form: str) -> str:
    """The usage line of one form (the help for an unknown one)."""
    return t(f"rota.usage.{form}") if form in FORMS else help_answer(t)
