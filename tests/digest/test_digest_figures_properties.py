"""The digest's figures on random small data sets, against a plain-Python reading of the same definitions.

Hypothesis writes a few conversations (follow-ups, replies by people and by a plugin, failed
replies, answers on the platform, resolutions and reopenings, tags, classifier fields,
escalations, anonymous customers) at random times around one day, picks a random ``as_of``,
target, service hours and sources filter, and the SQL figures must equal what the reference
below computes from the rows it wrote, on SQLite and on PostgreSQL alike.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from digest_kit import Data
from figures_data import DAY, HELSINKI
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import delete

from chatops.db import Database
from chatops.models import AuditEntry, Conversation, ConversationTag, Escalation, Message, Tag
from chatops_plugins.digest import figures
from chatops_plugins.digest.figures import (
    Backlog,
    DayPoint,
    Durations,
    Fan,
    Figures,
    Hours,
    Linked,
    Options,
    PersonFigures,
)
from chatops_plugins.digest.periods import Window, days_window, history
from chatops_plugins.rota.config import RotaConfig

PROPERTY = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
#: The day's end in UTC (Helsinki midnight); it starts 24 hours earlier.
DAY_END = datetime(2026, 12, 1, 22, 0, tzinfo=UTC)
WINDOW_START = DAY_END - timedelta(days=1)
SERVICE_HOURS = RotaConfig.model_validate(
    {"service_hours": {day: "08:00-16:00" for day in ("mon", "tue", "wed", "thu", "fri")}}
).hours(HELSINKI)
OPEN = ("new", "claimed", "replied")


# --- The model of what was written ------------------------------------------------------------


@dataclass
class Inbound:
    at: datetime
    seq: int
    author: str | None
    name: str | None
    handle: str | None
    sentiment: str | None
    score: Any


@dataclass
class Answer:
    at: datetime
    seq: int
    by: str | None  # None: on the platform


@dataclass
class Conv:
    id: int
    source: str
    created: datetime
    slack_ts: str = ""
    status: str = "new"
    assignee: str | None = None
    inbound: list[Inbound] = field(default_factory=list)
    #: Replies from Slack: (sent_at, seq, by, delivered).
    replies: list[tuple[datetime, int, str, bool]] = field(default_factory=list)
    external: list[Answer] = field(default_factory=list)
    resolved: list[datetime] = field(default_factory=list)
    tags: list[tuple[str, datetime]] = field(default_factory=list)
    escalations: list[datetime] = field(default_factory=list)


def ms(at: datetime) -> int:
    """Milliseconds since 1970, half up (written here again, not imported from the code under test)."""
    delta = at - datetime(1970, 1, 1, tzinfo=UTC)
    micros = delta // timedelta(microseconds=1)
    return (micros + 500) // 1000


def durations(values: list[int]) -> Durations:
    if not values:
        return Durations()
    ordered = sorted(values)
    n = len(ordered)
    median = ordered[-(-n * 50 // 100) - 1]
    p90 = ordered[-(-n * 90 // 100) - 1]
    return Durations(n, median / 1000, p90 / 1000)


def first_answer(conv: Conv, as_of: datetime) -> Answer | None:
    found = [
        Answer(at, seq, by) for at, seq, by, ok in conv.replies if ok and not by.startswith("bot:") and at <= as_of
    ]
    found += [answer for answer in conv.external if answer.at <= as_of]
    return min(found, key=lambda a: (a.at, a.seq), default=None)


def service_ms(hours: Hours, a_ms: int, b_ms: int) -> int:
    def instant(value: int) -> datetime:
        return datetime(1970, 1, 1, tzinfo=UTC) + timedelta(milliseconds=value)

    # The rota's own arithmetic; the reference only calls it forwards.
    assert hours is SERVICE_HOURS
    if b_ms <= a_ms:
        return -round(SERVICE_HOURS.service_seconds(instant(b_ms), instant(a_ms)) * 1000)
    return round(SERVICE_HOURS.service_seconds(instant(a_ms), instant(b_ms)) * 1000)


def wanted(source: str, options: Options) -> bool:
    return options.sources is None or source in options.sources


def negative(conv: Conv, options: Options, as_of: datetime | None) -> bool:
    def by(at: datetime) -> bool:
        return as_of is None or at <= as_of

    return any(name in options.negative_tags and by(at) for name, at in conv.tags) or any(
        m.sentiment == "negative" and by(m.at) for m in conv.inbound
    )


def reference(convs: list[Conv], window: Window, options: Options) -> Figures:
    """The figures by the definitions in figures.py's docstring, row by row in Python."""
    start, end, as_of = window.start, window.end, window.as_of
    mine = [c for c in convs if start <= c.created < end and wanted(c.source, options)]
    by_source: dict[str, int] = {}
    for conv in mine:
        by_source[conv.source] = by_source.get(conv.source, 0) + 1
    frt: list[int] = []
    frt_service: list[int] = []
    per_person: dict[str, list[int]] = {}
    answered = within = breaches = 0
    for conv in mine:
        first = first_answer(conv, as_of)
        created = ms(conv.created)
        until = ms(first.at) if first else ms(as_of)
        waited = until - created
        if options.hours is not None:
            waited = service_ms(options.hours, created, until)
        if first:
            answered += 1
            frt.append(ms(first.at) - created)
            if options.hours is not None:
                frt_service.append(waited)
            within += waited <= options.target_seconds * 1000
            if first.by is not None:
                per_person.setdefault(first.by, []).append(ms(first.at) - created)
        breaches += waited > options.target_seconds * 1000
    resolution = []
    for conv in convs:
        ats = [at for at in conv.resolved if start <= at < end and at <= as_of]
        if ats and wanted(conv.source, options):
            resolution.append(ms(max(ats)) - ms(conv.created))
    handled: dict[str, set[int]] = {}
    for conv in convs:
        for at, _seq, by, ok in conv.replies:
            if ok and not by.startswith("bot:") and start <= at < end and at <= as_of and wanted(conv.source, options):
                handled.setdefault(by, set()).add(conv.id)
    people = sorted(
        set(handled) | set(per_person),
        key=lambda u: (-len(handled.get(u, ())), -len(per_person.get(u, ())), u),
    )[: options.top]
    # A fan is an account on one platform: (source, author id).
    fans: dict[tuple[str, str], dict[str, Any]] = {}
    for conv in convs:
        for m in conv.inbound:
            if m.author is None or not (start <= m.at < end) or not wanted(conv.source, options):
                continue
            key = (conv.source, m.author)
            fan = fans.setdefault(key, {"convs": set(), "messages": 0, "sources": set(), "latest": None})
            fan["convs"].add(conv.id)
            fan["messages"] += 1
            fan["sources"].add(conv.source)
            if fan["latest"] is None or (m.at, m.seq) > (fan["latest"].at, fan["latest"].seq):
                fan["latest"] = m
    ranked_fans = sorted(
        (
            (
                -len(f["convs"]),
                -f["messages"],
                f["latest"].name or f["latest"].handle or author,
                source,
                author,
                Fan(
                    name=f["latest"].name or f["latest"].handle or author,
                    handle=f["latest"].handle,
                    sources=tuple(sorted(f["sources"])),
                    conversations=len(f["convs"]),
                    messages=f["messages"],
                ),
            )
            for (source, author), f in fans.items()
        ),
        key=lambda item: item[:5],
    )
    fan_rows = [item[5] for item in ranked_fans]
    tags: dict[str, int] = {}
    for conv in mine:
        for name, at in conv.tags:
            if at <= as_of:
                tags[name] = tags.get(name, 0) + 1
    return Figures(
        window=window,
        by_source=tuple(sorted(by_source.items(), key=lambda item: (-item[1], item[0]))),
        messages=sum(1 for c in convs if wanted(c.source, options) for m in c.inbound if start <= m.at < end),
        answered=answered,
        first_response=durations(frt),
        first_response_service=durations(frt_service) if options.hours is not None else None,
        within_target=within,
        breaches=breaches,
        resolution=durations(resolution),
        escalations=sum(1 for c in convs if wanted(c.source, options) for at in c.escalations if start <= at < end),
        negative=sum(1 for c in mine if negative(c, options, as_of)),
        fans=tuple(fan_rows[: options.top]),
        people=tuple(
            PersonFigures(u, len(handled.get(u, ())), len(per_person.get(u, ())), durations(per_person.get(u, [])))
            for u in people
        ),
        tags=tuple(sorted(tags.items(), key=lambda item: (-item[1], item[0]))[: options.top]),
    )


def reference_backlog(convs: list[Conv], now: datetime, options: Options) -> Backlog:
    open_ = [c for c in convs if c.status in OPEN and c.created <= now and wanted(c.source, options)]
    if not open_:
        return Backlog()

    def score(conv: Conv) -> float | None:
        numbers = [m.score for m in conv.inbound if isinstance(m.score, float)]
        return min(numbers) if numbers else None

    def linked(conv: Conv) -> Linked:
        first = min(conv.inbound, key=lambda m: (m.at, m.seq))
        return Linked(
            conv.id,
            conv.source,
            "Sale",
            first.name or first.handle or "",
            conv.created,
            "CINBOX",
            conv.slack_ts,
            score(conv),
        )

    oldest = min(open_, key=lambda c: (c.created, c.id))
    bad = sorted(
        (c for c in open_ if negative(c, options, None)),
        key=lambda c: (score(c) is None, score(c) or 0.0, -len(c.inbound), c.created, c.id),
    )
    return Backlog(len(open_), linked(oldest), tuple(linked(c) for c in bad[: options.list_limit]))


def reference_points(convs: list[Conv], windows: list[Window], options: Options) -> list[DayPoint]:
    points = []
    for window in windows:
        mine = [c for c in convs if window.start <= c.created < window.end and wanted(c.source, options)]
        answers = [first_answer(c, window.as_of) for c in mine]
        frt = [ms(a.at) - ms(c.created) for c, a in zip(mine, answers, strict=True) if a]
        points.append(DayPoint(window.first_day, len(mine), durations(frt).median))
    return points


# --- What hypothesis draws ------------------------------------------------------------------------

seconds = st.integers(min_value=0, max_value=30_000)
events = st.lists(
    st.one_of(
        st.tuples(
            st.just("follow_up"),
            seconds,
            st.sampled_from(["a1", "a2", None]),
            st.sampled_from([None, "negative", "positive"]),
            st.sampled_from([None, -0.9, -0.2, 0.4, "bad"]),
        ),
        st.tuples(st.just("reply"), seconds, st.sampled_from(["UANNA", "UBEN", "bot:rota"]), st.booleans()),
        st.tuples(st.just("external"), seconds),
        st.tuples(st.just("resolve"), seconds),
        st.tuples(st.just("reopen"), seconds),
        st.tuples(st.just("tag"), seconds, st.sampled_from(["complaint", "billing", "x"])),
        st.tuples(st.just("escalate"), seconds),
    ),
    max_size=6,
)
conversations = st.lists(
    st.tuples(
        st.sampled_from(["webhook", "facebook"]),
        st.integers(min_value=-20_000, max_value=100_000),  # seconds from the window's start
        st.integers(min_value=0, max_value=999_999),  # microseconds
        st.sampled_from(["a1", "a2", "a3", None]),
        st.sampled_from([None, "negative"]),
        st.sampled_from([None, -0.5, 0.1, "bad"]),
        events,
    ),
    max_size=7,
)
option_sets = st.builds(
    Options,
    target_seconds=st.sampled_from([60, 1800, 3600, 7200]),
    negative_tags=st.sampled_from([("complaint",), ()]),
    top=st.integers(min_value=1, max_value=3),
    list_limit=st.integers(min_value=0, max_value=3),
    hours=st.sampled_from([None, SERVICE_HOURS]),
    sources=st.sampled_from([None, ("facebook",)]),
)


@pytest.fixture
async def db(digest_database: str) -> AsyncIterator[Database]:
    database = Database(digest_database)
    try:
        yield database
    finally:
        await database.dispose()


async def write(db: Database, drawn: list[tuple[Any, ...]]) -> list[Conv]:
    """Write the drawn conversations and return the model of what was written."""
    async with db.write() as session:
        for table in (AuditEntry, Escalation, ConversationTag, Tag, Message, Conversation):
            await session.execute(delete(table))
    data = Data(db)
    convs: list[Conv] = []
    seq = 0
    for index, (source, offset, micros, author, sentiment, score, conv_events) in enumerate(drawn):
        created = WINDOW_START + timedelta(seconds=offset, microseconds=micros)
        extra = {k: v for k, v in (("sentiment", sentiment), ("sentiment_score", score)) if v is not None}
        name = None if author == "a3" else f"Name {author}"
        handle = f"@{author}" if author else None
        cid = await data.conversation(
            created,
            source=source,
            author=author,
            name=name,
            handle=handle,
            context="Sale",
            extra=extra,
            slack_ts=f"ts-{index}",
        )
        seq += 1
        conv = Conv(cid, source, created, slack_ts=f"ts-{index}")
        conv.inbound.append(Inbound(created, seq, author, name, handle, sentiment, score))
        tagged: set[str] = set()
        for event in sorted(conv_events, key=lambda e: e[1]):
            kind, when = event[0], created + timedelta(seconds=event[1])
            if kind == "follow_up":
                _, _, who, mood, mark = event
                extra = {k: v for k, v in (("sentiment", mood), ("sentiment_score", mark)) if v is not None}
                who_name = None if who is None else f"Name {who}"
                who_handle = None if who is None else f"@{who}"
                await data.follow_up(cid, when, author=who, name=who_name, handle=who_handle, extra=extra)
                seq += 1
                conv.inbound.append(Inbound(when, seq, who, who_name, who_handle, mood, mark))
                if conv.status == "resolved":
                    conv.status = "claimed" if conv.assignee else "new"
            elif kind == "reply":
                _, _, by, delivered = event
                await data.reply(cid, when, by=by, delivered=delivered)
                seq += 1
                conv.replies.append((when, seq, by, delivered))
                if by.startswith("U") and conv.assignee is None:
                    conv.assignee = by
                if delivered and conv.status in ("new", "claimed"):
                    conv.status = "replied"
            elif kind == "external":
                await data.answered_on_platform(cid, when)
                seq += 1
                conv.external.append(Answer(when, seq, None))
                if conv.status in ("new", "claimed"):
                    conv.status = "replied"
            elif kind == "resolve":
                await data.resolve(cid, when)
                conv.status = "resolved"
                conv.resolved.append(when)
            elif kind == "reopen":
                await data.reopen(cid, when)
                conv.status = "claimed" if conv.assignee else "new"
            elif kind == "tag" and event[2] not in tagged:
                tagged.add(event[2])
                await data.tag(cid, event[2], when)
                conv.tags.append((event[2], when))
            elif kind == "escalate":
                await data.escalate(cid, when)
                conv.escalations.append(when)
        convs.append(conv)
    return convs


@PROPERTY
@given(drawn=conversations, options=option_sets, as_of_offset=st.integers(min_value=-3600, max_value=130_000))
async def test_figures_match_the_definitions(
    db: Database, drawn: list[tuple[Any, ...]], options: Options, as_of_offset: int
) -> None:
    convs = await write(db, drawn)
    as_of = WINDOW_START + timedelta(seconds=as_of_offset)
    window = days_window(DAY, DAY, HELSINKI, as_of)
    assert window.end == DAY_END
    days = history(DAY + timedelta(days=1), HELSINKI, as_of, days=3)
    async with db.read() as session:
        got = await figures.window_figures(session, window, options)
        open_now = await figures.backlog(session, as_of, options)
        points = await figures.daily_points(session, days, options)
    assert got == reference(convs, window, options)
    assert open_now == reference_backlog(convs, as_of, options)
    assert points == reference_points(convs, days, options)
