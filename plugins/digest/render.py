"""A digest as Block Kit (for Slack) and as plain text (for a terminal), in the team's language.

Pure functions of a :class:`~.compose.DigestReport`: links to cards are looked up by the
caller (:func:`card_links`) and passed in. Every customer's or tag's text is escaped here,
at the Slack edge.

Both renderings are made from one description of the digest (:class:`_Group`s of figures and
lists), so Slack and the terminal always say the same. Someone else's text (a fan's name, a
post, a tag, a teammate's display name) travels through that description as :class:`_User`
and is escaped for mrkdwn, or cleaned of line breaks and control characters for a terminal,
only when it is written out.

How a figure reads: its value, an arrow (▲/▼, neutral: up is not called good or bad) with the
difference from the window before, and that window's value: ``42 ▲ +5 (was 37)``. Differences
are taken between the values *as shown* (whole percents, durations at their shown precision),
so the arrow never contradicts the two numbers beside it; percentages differ in percentage
points, durations in durations. A figure without a value (a median of nothing) shows "—".
"""

from __future__ import annotations

import asyncio
import logging
import math
import unicodedata
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, replace
from datetime import date, datetime
from types import MappingProxyType
from typing import Any

from chatops.i18n import Translator
from chatops.slack.blockkit import MAX_BLOCKS, TOTAL_TEXT_BUDGET, text_length
from chatops.slack.escape import clip_mrkdwn, escape_fit, link, plain_truncated, show_controls

from .compose import DigestReport
from .figures import Durations, Fan, Figures, Linked

log = logging.getLogger(__name__)

#: Looks up a Slack message's permalink: ``(channel, ts) -> url or None``.
Permalink = Callable[[str, str], Awaitable[str | None]]

#: No display names known: teammates are shown by their Slack user id.
NO_NAMES: Mapping[str, str] = MappingProxyType({})
#: No card links: conversations are named unlinked.
NO_LINKS: Mapping[int, str] = MappingProxyType({})

#: Most worst-negative cards :func:`card_links` looks up (``list_limit``'s largest allowed value).
MAX_LINKED = 10
#: Characters of someone else's text shown in one place (counted escaped for Slack, raw in a terminal): a phone's line.
NAME_LIMIT = 60
LABEL_LIMIT = 80
TAG_LIMIT = 40
#: Slack's header text limit.
HEADER_LIMIT = 150
#: A field's text: far below Slack's 2,000, so twenty of them leave room for the lists.
FIELD_LIMIT = 400
#: Each list's share of the message's text (escaped mrkdwn, links included): the worst negative
#: ones carry URLs, so they get most. What is left of :data:`TOTAL_TEXT_BUDGET` after the
#: figures is shared out in these proportions, and a list that does not fit says how many more.
LIST_BUDGETS = {"sources": 1200, "worst": 2400, "fans": 2200, "people": 1600, "tags": 800}
#: Largest section text Slack takes, with room for a clipped ending.
SECTION_LIMIT = 2900


# --- words: numbers, percents, durations, dates ------------------------------------------------


def _half_up(value: float) -> int:
    """Round half away from zero (``round`` rounds 0.5 to even, which makes 59.5 s read "1 min" only sometimes)."""
    return math.floor(abs(value) + 0.5) * (1 if value >= 0 else -1)


def number(t: Translator, value: int) -> str:
    """A whole number with the language's thousands separator (1,234 / 1 234)."""
    digits = f"{abs(value):,}".replace(",", t("digest.thousands"))
    return f"−{digits}" if value < 0 else digits


def _plural_form(language: str, count: int) -> str:
    """The CLDR plural category of ``count`` the catalogue distinguishes: one, few or many."""
    n = abs(count)
    if n == 1:
        return "one"
    if language == "pl" and n % 10 in (2, 3, 4) and n % 100 not in (12, 13, 14):
        return "few"
    return "many"


def counted(t: Translator, noun: str, count: int) -> str:
    """``count`` with its noun in the right form: "1 conversation", "42 rozmowy", "5 rozmów"."""
    return t(f"digest.{noun}.{_plural_form(t.language, count)}", count=number(t, count))


def _shown_percent(share: float) -> int:
    """A share as the whole percent shown."""
    return _half_up(share * 100)


def percent(t: Translator, share: float) -> str:
    """A share as a whole percent: "88 %"."""
    return t("digest.percent", value=number(t, _shown_percent(share)))


def _shown_seconds(seconds: float) -> int:
    """``seconds`` at the precision a duration is shown: seconds under a minute, minutes under a day, then hours."""
    whole = _half_up(abs(seconds))
    if whole < 60:
        shown = whole
    elif (minutes := _half_up(abs(seconds) / 60)) < 24 * 60:
        shown = minutes * 60
    else:
        shown = _half_up(abs(seconds) / 3600) * 3600
    return shown if seconds >= 0 else -shown


def duration(t: Translator, seconds: float) -> str:
    """A human duration: "45 s", "4 min", "1 h 20 min", "2 d 3 h" (of the absolute value)."""
    shown = abs(_shown_seconds(seconds))
    if shown < 60:
        return t("digest.unit.s", n=shown)
    if shown < 3600:
        return t("digest.unit.min", n=shown // 60)
    if shown < 86400:
        hours, minutes = divmod(shown // 60, 60)
        parts = [t("digest.unit.h", n=hours)] + ([t("digest.unit.min", n=minutes)] if minutes else [])
    else:
        days, hours = divmod(shown // 3600, 24)
        parts = [t("digest.unit.d", n=number(t, days))] + ([t("digest.unit.h", n=hours)] if hours else [])
    return " ".join(parts)


def date_label(t: Translator, day: date) -> str:
    """A day for a heading: "Mon 30 Nov", "ma 30. marraskuuta", "pon. 30 listopada"."""
    weekdays = t("digest.weekdays").split(",")
    months = t("digest.months").split(",")
    return t("digest.date", weekday=weekdays[day.weekday()], day=day.day, month=months[day.month - 1])


def days_label(t: Translator, first: date, last: date) -> str:
    """Days for a heading: one day as :func:`date_label`, several as "23–29 Nov" or "30 Nov – 6 Dec"."""
    if first == last:
        return date_label(t, first)
    months = t("digest.months").split(",")
    if (first.year, first.month) == (last.year, last.month):
        return t("digest.range.month", first=first.day, last=last.day, month=months[last.month - 1])
    return t(
        "digest.range",
        first=t("digest.day_month", day=first.day, month=months[first.month - 1]),
        last=t("digest.day_month", day=last.day, month=months[last.month - 1]),
    )


# --- figures with the window before ------------------------------------------------------------


def _compare(
    t: Translator,
    current: float | None,
    previous: float | None,
    show: Callable[[float], str],
    shown: Callable[[float], int],
    show_difference: Callable[[int], str],
) -> str:
    """``current`` with an arrow, the difference and ``previous``; "—" for a value that is missing."""
    if current is not None and not math.isfinite(current):
        current = None
    if previous is not None and not math.isfinite(previous):
        previous = None
    value = show(current) if current is not None else t("digest.none")
    if previous is None:
        return value if current is None else t("digest.new", value=value)
    before = show(previous)
    if current is None:
        return t("digest.was", value=value, previous=before)
    difference = shown(current) - shown(previous)
    if difference == 0:
        return t("digest.same", value=value)
    sign = "+" if difference > 0 else "−"
    key = "digest.up" if difference > 0 else "digest.down"
    return t(key, value=value, diff=sign + show_difference(abs(difference)), previous=before)


def compare_count(t: Translator, current: int, previous: int) -> str:
    """A count with the window before's: "42 ▲ +5 (was 37)"; a previous zero is just zero."""
    return _compare(t, current, previous, lambda v: number(t, int(v)), int, lambda d: number(t, d))


def compare_percent(t: Translator, current: float | None, previous: float | None) -> str:
    """A share with the window before's, the difference in percentage points: "88 % ▲ +5 pp (was 83 %)"."""
    return _compare(
        t,
        current,
        previous,
        lambda v: percent(t, v),
        _shown_percent,
        lambda d: t("digest.pp", value=number(t, d)),
    )


def compare_duration(t: Translator, current: float | None, previous: float | None) -> str:
    """A duration with the window before's: "14 min ▼ −2 min (was 16 min)"."""
    return _compare(t, current, previous, lambda v: duration(t, v), _shown_seconds, lambda d: duration(t, d))


# --- the digest described once, written twice --------------------------------------------------


@dataclass(frozen=True, slots=True)
class _User:
    """Someone else's text (a name, a post, a tag): escaped for Slack, cleaned for a terminal."""

    text: str
    limit: int = NAME_LIMIT
    url: str | None = None


#: Part of a line: our own words (trusted) or someone else's text.
_Piece = str | _User
_Line = tuple[_Piece, ...]


@dataclass(frozen=True, slots=True)
class _Fact:
    """A figure: a short label and its value (a field in Slack, an aligned line in a terminal)."""

    label: str
    value: _Line


@dataclass(frozen=True, slots=True)
class _Group:
    """A titled part of the digest: figures side by side, then a list."""

    title: str
    facts: tuple[_Fact, ...] = ()
    list_title: str = ""
    items: tuple[_Line, ...] = ()
    #: Which share of the message's text the list gets in Slack (a key of :data:`LIST_BUDGETS`).
    list_kind: str = ""
    #: The items on one line, comma-separated (tags), rather than one per line.
    inline: bool = False
    #: Set apart from what comes before it (the lists about people, after the figures).
    divider: bool = False


@dataclass(frozen=True, slots=True)
class _Digest:
    """Everything a digest says, before it is written for Slack or a terminal."""

    header: str
    context: str
    #: The plain sentence of an empty window ("No customer messages on …"), else "".
    empty: str
    groups: tuple[_Group, ...]
    footnote: str


def _clean(text: str) -> str:
    """Someone else's text on one line: whitespace runs (line breaks too) become one space."""
    return " ".join(text.split())


def _mrkdwn(piece: _Piece) -> str:
    if isinstance(piece, str):
        return mrkdwn_words(piece)
    text = _clean(piece.text)
    if piece.url:
        return link(piece.url, text, label_limit=piece.limit)
    return escape_fit(text, piece.limit).text


def _plain(piece: _Piece) -> str:
    if isinstance(piece, str):
        return piece
    # A terminal would act on control characters (escape sequences): drop them; show bidi marks.
    text = "".join(c for c in _clean(piece.text) if unicodedata.category(c) != "Cc")
    text = plain_truncated(show_controls(text), piece.limit)
    return f"{text} <{piece.url}>" if piece.url else text


def _line_mrkdwn(line: _Line) -> str:
    return "".join(_mrkdwn(piece) for piece in line)


def _line_plain(line: _Line) -> str:
    return "".join(_plain(piece) for piece in line)


def _linked(t: Translator, item: Linked, links: Mapping[int, str], source_name: Callable[[str], str]) -> _Line:
    """A conversation a digest points to: its post (linked to its card), who wrote, where, how long it waits."""
    label, author = _clean(item.label), _clean(item.author)
    if not label:
        # Unnamed post: the author names it, or failing that its number.
        label, author = author or t("digest.conversation", id=item.conversation_id), ""
    line: list[_Piece] = [_User(label, LABEL_LIMIT, links.get(item.conversation_id))]
    if author:
        line += [" — ", _User(author)]
    line += [" · ", _User(source_name(item.source), 30)]
    return tuple(line)


def _open_for(t: Translator, item: Linked, now: datetime) -> str:
    """How long a conversation has been open, as of the digest."""
    return t("digest.age", age=duration(t, max((now - item.created_at).total_seconds(), 0)))


def _backlog_facts(
    t: Translator, report: DigestReport, links: Mapping[int, str], source_name: Callable[[str], str]
) -> tuple[_Fact, ...]:
    """Open now and the oldest open one: about now, not the window (no comparison)."""
    backlog = report.backlog
    facts = [_Fact(t("digest.label.open"), (number(t, backlog.open),))]
    if backlog.oldest is not None:
        oldest = backlog.oldest
        value = (*_linked(t, oldest, links, source_name), " · ", _open_for(t, oldest, report.generated_at))
        facts.append(_Fact(t("digest.label.oldest"), value))
    return tuple(facts)


def _source_items(
    t: Translator, current: Figures, previous: Figures, source_name: Callable[[str], str]
) -> tuple[_Line, ...]:
    """Conversations per source, with the window before's; a source that fell to nothing is listed too."""
    now, before = dict(current.by_source), dict(previous.by_source)
    order = list(now) + sorted(set(before) - set(now), key=lambda s: -before[s])
    return tuple(
        (_User(source_name(source), 30), ": ", compare_count(t, now.get(source, 0), before.get(source, 0)))
        for source in order
    )


def _describe(
    report: DigestReport,
    t: Translator,
    links: Mapping[int, str],
    source_name: Callable[[str], str],
    names: Mapping[str, str],
) -> _Digest:
    """The whole digest, in words, before it is written out."""
    this, previous_window = report.current, report.previous.window
    when = days_label(t, this.window.first_day, this.window.last_day)
    header = t(f"digest.header.{report.period}", when=when)
    previous = days_label(t, previous_window.first_day, previous_window.last_day)
    if report.period == "today":
        previous = t("digest.until", day=previous, time=f"{previous_window.as_of.astimezone(report.tz):%H:%M}")
    local = report.generated_at.astimezone(report.tz)
    as_of = t("digest.as_of", day=date_label(t, local.date()), time=f"{local:%H:%M}")
    context = t("digest.context", previous=previous, as_of=as_of)

    backlog = _backlog_facts(t, report, links, source_name)
    worst = tuple(
        (*_linked(t, item, links, source_name), " · ", _open_for(t, item, report.generated_at))
        for item in report.backlog.worst_negative
    )
    if this.empty:
        # Nothing happened: say so, and what is still open now.
        groups: list[_Group] = []
        if report.backlog.open or report.backlog.oldest:
            groups.append(_Group(t("digest.group.backlog"), backlog))
        if worst:
            groups.append(_Group(t("digest.group.negative"), (), t("digest.label.worst"), worst, "worst"))
        return _Digest(header, context, t(f"digest.empty.{report.period}", when=when), tuple(groups), "")

    groups = [
        _volume(t, report, source_name),
        _first_response(t, report),
        _resolution(t, report, backlog),
        _negative(t, report, worst),
        *_who(t, report.current, source_name, names),
    ]
    return _Digest(header, context, "", tuple(groups), t("digest.footnote"))


def _figure(t: Translator, label_key: str, value: str, **label_values: Any) -> _Fact:
    return _Fact(t(label_key, **label_values), (value,))


def _volume(t: Translator, report: DigestReport, source_name: Callable[[str], str]) -> _Group:
    """Conversations and messages in, the response rate, what is unanswered; conversations per source."""
    this, before = report.current, report.previous
    return _Group(
        t("digest.group.volume"),
        (
            _figure(t, "digest.label.conversations", compare_count(t, this.conversations, before.conversations)),
            _figure(t, "digest.label.messages", compare_count(t, this.messages, before.messages)),
            _figure(t, "digest.label.response_rate", compare_percent(t, this.response_rate, before.response_rate)),
            _figure(t, "digest.label.unanswered", compare_count(t, this.unanswered, before.unanswered)),
        ),
        t("digest.label.sources"),
        _source_items(t, this, before, source_name),
        "sources",
    )


def _first_response(t: Translator, report: DigestReport) -> _Group:
    """Median and 90th percentile (in service hours too when configured), the share within target, breaches."""
    this, before = report.current, report.previous
    service = this.first_response_service
    facts = [
        _figure(
            t, "digest.label.median", compare_duration(t, this.first_response.median, before.first_response.median)
        ),
        _figure(t, "digest.label.p90", compare_duration(t, this.first_response.p90, before.first_response.p90)),
    ]
    if service is not None:
        earlier = before.first_response_service or Durations()
        facts += [
            _figure(t, "digest.label.median_service", compare_duration(t, service.median, earlier.median)),
            _figure(t, "digest.label.p90_service", compare_duration(t, service.p90, earlier.p90)),
        ]
    # The target is counted in service hours when they are configured (figures.Figures.within_target).
    within = "digest.label.within_target_service" if service is not None else "digest.label.within_target"
    target = duration(t, report.options.target_seconds)
    share = compare_percent(t, this.within_target_share, before.within_target_share)
    facts += [
        _figure(t, within, share, target=target),
        _figure(t, "digest.label.breaches", compare_count(t, this.breaches, before.breaches)),
    ]
    return _Group(t("digest.group.first_response"), tuple(facts))


def _resolution(t: Translator, report: DigestReport, backlog: tuple[_Fact, ...]) -> _Group:
    """Resolution time, resolved, escalations; and the backlog as it is now."""
    this, before = report.current, report.previous
    return _Group(
        t("digest.group.resolution"),
        (
            _figure(
                t, "digest.label.resolution", compare_duration(t, this.resolution.median, before.resolution.median)
            ),
            _figure(t, "digest.label.resolved", compare_count(t, this.resolution.count, before.resolution.count)),
            _figure(t, "digest.label.escalations", compare_count(t, this.escalations, before.escalations)),
            *backlog,
        ),
    )


def _negative(t: Translator, report: DigestReport, worst: tuple[_Line, ...]) -> _Group:
    """Negative conversations, their share, and the worst ones still open."""
    this, before = report.current, report.previous
    return _Group(
        t("digest.group.negative"),
        (
            _figure(t, "digest.label.negative", compare_count(t, this.negative, before.negative)),
            _figure(t, "digest.label.negative_share", compare_percent(t, this.negative_share, before.negative_share)),
        ),
        t("digest.label.worst") if worst else "",
        worst,
        "worst",
    )


def _who(t: Translator, this: Figures, source_name: Callable[[str], str], names: Mapping[str, str]) -> list[_Group]:
    """The lists about people: most active fans, the team person by person, top tags (each when there are any)."""
    groups: list[_Group] = []
    if this.fans:
        fans = tuple(_fan(t, fan, source_name) for fan in this.fans)
        groups.append(_Group(t("digest.group.fans"), items=fans, list_kind="fans"))
    if this.people:
        people = tuple(
            (
                _User(names.get(person.user) or person.user),
                ": ",
                t(
                    "digest.person",
                    handled=number(t, person.handled),
                    median=_maybe_duration(t, person.first_response.median),
                ),
            )
            for person in this.people
        )
        groups.append(_Group(t("digest.group.people"), items=people, list_kind="people"))
    if this.tags:
        tags = tuple((_User(tag, TAG_LIMIT), f" ({number(t, count)})") for tag, count in this.tags)
        groups.append(_Group(t("digest.group.tags"), items=tags, list_kind="tags", inline=True))
    if groups:
        groups[0] = replace(groups[0], divider=True)
    return groups


def _maybe_duration(t: Translator, seconds: float | None) -> str:
    return duration(t, seconds) if seconds is not None and math.isfinite(seconds) else t("digest.none")


def _fan(t: Translator, fan: Fan, source_name: Callable[[str], str]) -> _Line:
    """A fan: name (handle) · where they wrote · how much."""
    name, handle = _clean(fan.name), _clean(fan.handle or "")
    line: list[_Piece] = [_User(name or handle or "?")]
    if handle and name:
        line += [" (", _User(handle, 40), ")"]
    if fan.sources:
        line.append(" · ")
        for i, source in enumerate(fan.sources):
            line += [", " if i else "", _User(source_name(source), 30)]
    line += [
        " · ",
        counted(t, "conversations", fan.conversations),
        ", ",
        counted(t, "messages", fan.messages),
    ]
    return tuple(line)


# --- Slack --------------------------------------------------------------------------------------


def _list_text(t: Translator, group: _Group, budget: int) -> str:
    """A group's list as mrkdwn within ``budget`` characters, ending "…and N more" when cut.

    Under figures the list has its own small title; alone, the group's title heads it.
    """
    title = (f"*{mrkdwn_words(group.title)}*\n" if not group.facts else "") + (
        f"_{mrkdwn_words(group.list_title)}_\n" if group.list_title else ""
    )
    joiner = ", " if group.inline else "\n"
    rendered = [("" if group.inline else "• ") + _line_mrkdwn(item) for item in group.items]
    budget = min(budget, SECTION_LIMIT)
    for shown in range(len(rendered), 0, -1):
        more = len(rendered) - shown
        tail = [mrkdwn_words(t("digest.more", count=number(t, more)))] if more else []
        text = title + joiner.join(rendered[:shown] + tail)
        if len(text) <= budget:
            return text
    # Not even one item fits: say how many there are (clipped only if a translation is absurdly long).
    return clip_mrkdwn(title + mrkdwn_words(t("digest.more", count=number(t, len(rendered)))), SECTION_LIMIT)


def _fact_blocks(group: _Group) -> list[dict[str, Any]]:
    """A group's title and figures: sections of at most ten two-column fields."""
    fields = [
        {
            "type": "mrkdwn",
            "text": clip_mrkdwn(f"*{mrkdwn_words(fact.label)}*\n{_line_mrkdwn(fact.value)}", FIELD_LIMIT),
        }
        for fact in group.facts
    ]
    blocks: list[dict[str, Any]] = []
    for start in range(0, len(fields), 10):
        block: dict[str, Any] = {"type": "section", "fields": fields[start : start + 10]}
        if start == 0:
            block["text"] = {"type": "mrkdwn", "text": clip_mrkdwn(f"*{mrkdwn_words(group.title)}*", SECTION_LIMIT)}
        blocks.append(block)
    return blocks


def _context(text: str) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": clip_mrkdwn(text, SECTION_LIMIT)}]}


def digest_blocks(
    report: DigestReport,
    t: Translator,
    links: Mapping[int, str],
    *,
    source_name: Callable[[str], str] = str,
    names: Mapping[str, str] = NO_NAMES,
) -> list[dict[str, Any]]:
    """The digest as Block Kit blocks, within Slack's limits.

    ``links``: card permalinks by conversation id (:func:`card_links`); a conversation without
    one is named unlinked. ``source_name``: a source's display name ("facebook" → "Facebook").
    ``names``: display names of teammates by Slack user id; the digest names people rather than
    mentioning them (a digest must not ping everyone), and shows the id of one not in it.
    """
    digest = _describe(report, t, links, source_name, names)
    # Each part in order; a list is a slot filled once the figures' share of the text is known.
    parts: list[dict[str, Any] | _Group] = [
        {"type": "header", "text": {"type": "plain_text", "text": plain_truncated(digest.header, HEADER_LIMIT)}},
        _context(mrkdwn_words(digest.context)),
    ]
    if digest.empty:
        parts.append({"type": "section", "text": {"type": "mrkdwn", "text": mrkdwn_words(digest.empty)}})
    for group in digest.groups:
        if group.divider:
            parts.append({"type": "divider"})
        parts += _fact_blocks(group)
        if group.items:
            parts.append(group)
    if digest.footnote:
        parts.append(_context(mrkdwn_words(digest.footnote)))

    fixed = text_length([part for part in parts if isinstance(part, dict)])
    wanted = sum(LIST_BUDGETS[part.list_kind] for part in parts if isinstance(part, _Group))
    scale = min(1.0, max(TOTAL_TEXT_BUDGET - fixed, 0) / wanted) if wanted else 1.0
    blocks = [
        part
        if isinstance(part, dict)
        else {
            "type": "section",
            "text": {"type": "mrkdwn", "text": _list_text(t, part, int(LIST_BUDGETS[part.list_kind] * scale))},
        }
        for part in parts
    ]
    return blocks[:MAX_BLOCKS]


def mrkdwn_words(text: str) -> str:
    """Our own words made literal for mrkdwn (a translation may hold ``&``, ``<`` or ``>``)."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def digest_summary(report: DigestReport, t: Translator) -> str:
    """The one-line notification text of a posted digest (what a phone shows).

    "Daily digest · Mon 30 Nov: 42 conversations, 88 % answered, median first response 14 min".
    Only figures and our own words: nothing in it needs escaping.
    """
    this = report.current
    window = this.window
    title = t(f"digest.header.{report.period}", when=days_label(t, window.first_day, window.last_day))
    if this.empty:
        return t("digest.summary", title=title, parts=t("digest.summary.empty"))
    parts = [counted(t, "conversations", this.conversations)]
    if this.response_rate is not None:
        parts.append(t("digest.summary.answered", rate=percent(t, this.response_rate)))
    median = this.first_response.median
    if median is not None and math.isfinite(median):
        parts.append(t("digest.summary.median", duration=duration(t, median)))
    return t("digest.summary", title=title, parts=", ".join(parts))


# --- a terminal ---------------------------------------------------------------------------------


def digest_text(
    report: DigestReport,
    t: Translator,
    *,
    source_name: Callable[[str], str] = str,
    names: Mapping[str, str] = NO_NAMES,
    links: Mapping[int, str] = NO_LINKS,
) -> str:
    """The digest as plain text for a terminal (``chatops digest``): the same content as the blocks.

    ``source_name`` and ``names`` as for :func:`digest_blocks`; ``links`` (optional) prints each
    linked card's URL after its label. Figures are ``label: value`` lines, the values aligned;
    every list is shown whole (a terminal has no message limit).
    """
    digest = _describe(report, t, links, source_name, names)
    width = max((len(fact.label) for group in digest.groups for fact in group.facts), default=0) + 2
    lines = [digest.header, digest.context, ""]
    if digest.empty:
        lines += [digest.empty, ""]
    for group in digest.groups:
        lines.append(group.title)
        lines += [f"  {(fact.label + ':').ljust(width)} {_line_plain(fact.value)}" for fact in group.facts]
        if group.items:
            if group.inline:
                lines.append("  " + ", ".join(_line_plain(item) for item in group.items))
            else:
                if group.list_title:
                    lines.append(f"  {group.list_title}:")
                lines += [f"  • {_line_plain(item)}" for item in group.items]
        lines.append("")
    if digest.footnote:
        lines.append(digest.footnote)
    return "\n".join(lines).rstrip("\n") + "\n"


# --- links ----------------------------------------------------------------------------------------


async def card_links(report: DigestReport, permalink: Permalink) -> dict[int, str]:
    """Permalinks of the cards the digest links to (oldest open, worst negative), by conversation id.

    One lookup per card posted to Slack (the oldest and at most :data:`MAX_LINKED` worst
    negative ones, each conversation once), all at once. A card without a Slack message, a
    lookup that answers None and one that fails are left unlinked: a digest without a link is
    better than no digest.
    """
    wanted: dict[int, tuple[str, str]] = {}
    candidates: list[Linked] = [report.backlog.oldest] if report.backlog.oldest else []
    candidates += report.backlog.worst_negative[:MAX_LINKED]
    for item in candidates:
        if item.slack_channel and item.slack_ts and item.conversation_id not in wanted:
            wanted[item.conversation_id] = (item.slack_channel, item.slack_ts)

    async def one(channel: str, ts: str) -> str | None:
        try:
            return await permalink(channel, ts)
        except Exception:  # a failed lookup costs one link, not the digest
            log.warning("no permalink for the digest's card %s/%s", channel, ts, exc_info=True)
            return None

    found = await asyncio.gather(*(one(channel, ts) for channel, ts in wanted.values()))
    return {conversation: url for conversation, url in zip(wanted, found, strict=True) if url}


async def people_names(report: DigestReport, user_name: Callable[[str], Awaitable[str | None]]) -> dict[str, str]:
    """Display names of the teammates the digest lists (``names`` for :func:`digest_blocks`), by Slack user id.

    ``user_name`` is ``ctx.user_name`` (cached by the core). One the lookup does not know, or
    that fails, is left out, and the digest shows its id.
    """
    users = list(dict.fromkeys(person.user for person in report.current.people))

    async def one(user: str) -> str | None:
        try:
            return await user_name(user)
        except Exception:  # a failed lookup costs one name, not the digest
            log.warning("no display name for %s in the digest", user, exc_info=True)
            return None

    found = await asyncio.gather(*(one(user) for user in users))
    return {user: name for user, name in zip(users, found, strict=True) if name}
