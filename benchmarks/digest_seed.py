"""A year of social customer service in the core's tables, for ``benchmarks/digest.py``.

    .venv/bin/python benchmarks/digest_seed.py [--postgres URL] [--messages 1000000]   # seed (or reuse) only

The data set is what a busy team's database holds after a year, written straight into the real
migrated schema (the core's tables and the digest plugin's) the way the core's store leaves
them, as ``tests/digest/digest_kit.py`` does row by row:

- ``--messages`` messages over ``--days`` days ending at :data:`END` (Monday 08:00 in Helsinki,
  when the scheduled daily and weekly digests are posted), about 3.2 per conversation;
  arrivals follow a day's curve (quiet nights, busy evenings), weekends are quieter, volume
  grows through the year and three crisis days carry four times the traffic;
- four sources, about 50,000 distinct customers drawn from a heavy-tailed (Zipf) distribution
  so a few fans write hundreds of times;
- eight teammates answer (``sent_by`` a Slack user, ``delivery = 'sent'``), usually within
  the hour in service hours and after opening otherwise, some much later; a few replies fail,
  some answers are made directly on the platform (``direction = 'external'``), the rota's
  out-of-hours reply (``bot:rota``) answers most customers who write at night;
- follow-ups before and after the answer (reopening resolved conversations as the core does),
  claims, resolutions, escalations (2%), tags (20%, a quarter of them ``complaint``), a
  classifier's ``extra["sentiment"]`` on a third of customer messages, and the audit lines the
  core writes for each (``received``, ``claimed``, ``reply_queued``, ``reply_sent``,
  ``resolved``, ``reopened``, ``escalated``, ``tagged``, ``answered_on_platform``, ...).

Nothing happens after :data:`END`: a reply that would come later has not come yet, so the
recent conversations are open as on a live system. The same parameters give the same rows.

Rows go in with Core bulk inserts (an executemany of dicts per chunk, one transaction per
chunk; ``PRAGMA synchronous=OFF`` on the seeding connection only) on SQLite, and with COPY
(asyncpg's ``copy_records_to_table``) on PostgreSQL, which then gets the ``VACUUM ANALYZE``
autovacuum would run after a bulk load. The SQLite file is cached under ``.bench-cache/``
(ignored by git, as ``*.db`` is), keyed by the parameters; PostgreSQL uses a database of its
own, ``chatops_bench``, beside the server URL's. Each carries a seed marker (a row in
``source_state``) written last, so a half-written database is never reused.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import itertools
import json
import math
import os
import random
import time
from collections.abc import Awaitable, Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from sqlalchemy import make_url
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from chatops.config import normalise_database_url
from chatops.db import Database
from chatops.migrate import upgrade, upgrade_plugin
from chatops.models import Base
from chatops_plugins.digest import tables as digest_tables
from chatops_plugins.digest.periods import local_midnight
from chatops_plugins.rota.config import RotaConfig
from chatops_plugins.rota.service_hours import ServiceHours

HERE = Path(__file__).resolve().parent
CACHE = HERE.parent / ".bench-cache"
#: Bumped whenever the generator changes, so no cached database of an older shape is reused.
SEED_VERSION = 1
#: The team's timezone, and the moment the data ends: Monday 16 November 2026, 08:00 in Helsinki.
TZ = ZoneInfo("Europe/Helsinki")
END = datetime(2026, 11, 16, 6, 0, tzinfo=UTC)
#: PostgreSQL database the benchmark seeds and reuses, beside the server URL's.
PG_DATABASE = "chatops_bench"
#: The seed marker: ``source_state`` row (plugin, key); its value is :meth:`SeedParams.key`.
MARKER = ("benchmarks", "digest_seed")

#: The rota's service hours (``[plugins.rota.service_hours]``): replies come faster inside them.
SERVICE_HOURS = {"mon": "08:00-18:00", "tue": "08:00-18:00", "wed": "08:00-18:00", "thu": "08:00-18:00",
                 "fri": "08:00-18:00", "sat": "10:00-14:00", "sun": "closed"}  # fmt: skip
SOURCES = ("facebook", "instagram", "webhook", "x")
SOURCE_WEIGHTS = (0.45, 0.30, 0.15, 0.10)
#: Teammates (Slack users) and how much of the work each takes.
TEAM = tuple(f"UBENCH{i:02d}" for i in range(1, 9))
TEAM_WEIGHTS = (3, 3, 2, 2, 2, 1, 1, 0.5)
LEADS = TEAM[:2]
TAGS = ("complaint", "billing", "shipping", "returns", "product", "praise", "question", "bug", "delivery", "spam")
TAG_WEIGHTS = (25, 12, 12, 10, 10, 8, 10, 5, 6, 2)
#: Relative traffic per local hour 0..23: quiet nights, a working-day plateau, busy evenings.
HOURLY = (2, 1, 1, 1, 1, 2, 4, 7, 10, 12, 13, 13, 12, 12, 12, 11, 11, 12, 13, 14, 14, 12, 8, 4)
WEEKDAY = (1.0, 1.0, 1.0, 1.0, 0.95, 0.8, 0.75)
TEXTS = (
    "Hi! When will my order arrive? It has been a week already.",
    "Do you ship to Finland?",
    "My package arrived damaged, the box was completely crushed and the glass inside is broken.",
    "Love the new collection!! 😍",
    "How do I return a product I bought online?",
    "I was charged twice for the same order, please help.",
    "Is this available in size M?",
    "Your customer service never answers, this is the third time I write about the refund.",
    "Thanks for the quick help yesterday!",
    "Kiitos, tilaus tuli perille nopeasti.",
    "Czy mogę zmienić adres dostawy?",
    "The app crashes when I open the basket on my phone.",
    "Any discount codes for students?",
    "What are your opening hours during the holidays?",
)
REPLIES = (
    "Thanks for writing! Could you send us your order number in a private message?",
    "Sorry to hear that. We have forwarded this to our warehouse and will get back to you today.",
    "Yes, we ship to all EU countries; delivery takes 2-4 working days.",
    "Thank you! We are happy you like it.",
    "You can return it within 30 days: https://example.com/returns",
)


@dataclass(frozen=True, slots=True)
class SeedParams:
    """What the data set is made of; equal parameters give equal rows."""

    messages: int = 1_000_000
    days: int = 365
    #: Size of the customer pool (about 52,000 of them appear at 1M messages).
    authors: int = 70_000
    seed: int = 9

    def key(self) -> str:
        """The seed marker and cache key."""
        return f"m{self.messages}-d{self.days}-a{self.authors}-s{self.seed}-v{SEED_VERSION}"


def service_hours() -> ServiceHours:
    """The rota's service hours the data set was made with (and the benchmark's "with hours" run uses)."""
    return RotaConfig.model_validate({"service_hours": SERVICE_HOURS}).hours(TZ)


# -- generation -------------------------------------------------------------------------------


@dataclass(slots=True)
class Msg:
    """A message before it is a row; ``id`` is given once all are sorted by arrival."""

    at: float
    direction: str
    author: int | None = None
    sent_by: str | None = None
    delivery: str | None = None
    sent_at: float | None = None
    kind: str = "comment"
    reply_to: Msg | None = None
    extra: dict[str, Any] = field(default_factory=dict)
    text: str = ""
    id: int = 0
    conv: Conv | None = None


@dataclass(slots=True)
class Conv:
    """A conversation: its events as they happened, and the state the store left it in."""

    created: float
    source: str
    author: int
    post: int
    messages: list[Msg] = field(default_factory=list)
    #: (at, actor, action, detail); ``escalation_id`` in an escalated line is filled in at build time.
    audit: list[tuple[float, str, str, dict[str, Any]]] = field(default_factory=list)
    tags: list[tuple[str, str, float]] = field(default_factory=list)
    escalation: tuple[str, float, str] | None = None
    claims: list[tuple[str, float]] = field(default_factory=list)
    status: str = "new"
    assignee: str | None = None
    claimed_at: float | None = None
    escalated_at: float | None = None
    resolved_at: float | None = None
    first_response_at: float | None = None
    last_inbound_at: float | None = None
    followup_pending: bool = False
    updated_at: float = 0.0
    id: int = 0


class Generator:
    """Makes the conversations of :class:`SeedParams`, deterministically."""

    def __init__(self, params: SeedParams) -> None:
        self.p = params
        self.rng = random.Random(params.seed)
        self.hours = service_hours()
        self.end = END.timestamp()
        first_day = END.astimezone(TZ).date() - timedelta(days=params.days)
        self.days: list[date] = [first_day + timedelta(days=n) for n in range(params.days + 1)]
        self.midnights = [local_midnight(day, TZ).timestamp() for day in self.days]
        crisis = set(self.rng.sample(range(30, params.days - 10), 3))
        weights = []
        for n, day in enumerate(self.days):
            growth = 0.7 + 0.6 * n / params.days
            weights.append(growth * WEEKDAY[day.weekday()] * (4.0 if n in crisis else 1.0))
        self.day_cum = list(itertools.accumulate(weights))
        self.hour_cum = list(itertools.accumulate(HOURLY))
        # Zipf-Mandelbrot over the customer pool: the keenest fans start a conversation every day or so
        # (about 470 a year at 1M messages), the median customer two, a third of them one.
        self.author_cum = list(itertools.accumulate(1.0 / (i + 100) for i in range(params.authors)))
        self.team_cum = list(itertools.accumulate(TEAM_WEIGHTS))
        self.tag_cum = list(itertools.accumulate(TAG_WEIGHTS))
        self.source_cum = list(itertools.accumulate(SOURCE_WEIGHTS))
        self.home = [self._cum(self.source_cum) for _ in range(params.authors)]
        self._closed: dict[int, float | None] = {}

    def _cum(self, cum: Sequence[float]) -> int:
        return bisect.bisect(cum, self.rng.random() * cum[-1])

    def _minutes(self, median: float, sigma: float) -> float:
        """A log-normal delay in seconds with ``median`` minutes."""
        return self.rng.lognormvariate(math.log(median * 60), sigma)

    def arrival(self) -> float:
        """A first message's arrival time (UTC seconds) before :data:`END`."""
        while True:
            day = self._cum(self.day_cum)
            at = self.midnights[day] + (self._cum(self.hour_cum) + self.rng.random()) * 3600
            if at < self.end:
                return at

    def _reopens(self, at: float) -> float | None:
        """When the team opens again after ``at`` (None: open at ``at``).

        Every opening and closing time is on a whole local hour and Helsinki is a whole number
        of hours from UTC, so the answer is the same through each UTC hour: it is kept per hour
        (the rota's calculation took half the generation time).
        """
        hour = int(at // 3600)
        if hour not in self._closed:
            closed = self.hours.closed_period(datetime.fromtimestamp(hour * 3600, UTC))
            self._closed[hour] = None if closed is None or closed[1] is None else closed[1].timestamp()
        return self._closed[hour]

    def answer_delay(self, at: float) -> float:
        """When a person first answers a message received at ``at``: soon in service hours, after opening otherwise."""
        start = self._reopens(at) or at
        delay = self._minutes(22, 1.0)
        if self.rng.random() < 0.06:
            delay *= 12  # forgotten under a pile: the breaches
        return start + min(delay, 4 * 86400) - at

    def open_at(self, at: float) -> bool:
        """Whether the team is in service hours at ``at``."""
        return self._reopens(at) is None

    def conversation(self, at: float) -> Conv:
        """One conversation starting at ``at``, with everything that happened to it before :data:`END`."""
        rng = self.rng
        author = self._cum(self.author_cum)
        source = SOURCES[self.home[author]] if rng.random() < 0.85 else SOURCES[self._cum(self.source_cum)]
        conv = Conv(created=at, source=source, author=author, post=int(rng.paretovariate(1.2)) % 2000)
        complaint = False
        tags: list[str] = []
        if rng.random() < 0.20:
            tags = sorted({TAGS[self._cum(self.tag_cum)] for _ in range(1 + (rng.random() < 0.3))})
            complaint = "complaint" in tags
        # (time, order, event, args): order keeps same-instant events in the store's order.
        events: list[tuple[float, int, str, tuple[Any, ...]]] = [(at, 0, "in", ())]
        person = TEAM[self._cum(self.team_cum)]
        if not self.open_at(at) and rng.random() < 0.6:
            events.append((at + rng.uniform(2, 20), 1, "bot", ()))
        if rng.random() < 0.12:
            events.append((at + rng.uniform(120, 2400), 0, "in", ()))
        fate = rng.random()
        last = at
        if fate < 0.07:
            # Spam or a thank-you: nobody answers; most are closed without a word.
            if rng.random() < 0.9:
                last = at + self._minutes(120, 1.0)
                events.append((last, 5, "resolve", (person,)))
        elif fate < 0.12:
            last = at + self._minutes(90, 1.2)
            events.append((last, 3, "ext", ()))
            if rng.random() < 0.2:
                last += self._minutes(30, 1.0)
                events.append((last, 3, "reply", (person, True)))
            if rng.random() < 0.9:
                last += self._minutes(120, 1.3)
                events.append((last, 5, "resolve", (person,)))
        else:
            first = at + self.answer_delay(at)
            if rng.random() < 0.55:
                events.append((at + (first - at) * rng.uniform(0.1, 0.9), 2, "claim", (person,)))
            given_up = False
            if rng.random() < 0.03:
                events.append((first, 3, "reply", (person, False)))
                # Mostly answered again later; otherwise the failed reply is all there is.
                given_up = rng.random() < 0.3
                first += self._minutes(40, 0.8)
            if not given_up:
                events.append((first, 3, "reply", (person, True)))
                last = first
                if rng.random() < 0.35:
                    for _ in range(1 + (rng.random() < 0.4) + (rng.random() < 0.2)):
                        last += self._minutes(50, 1.2)
                        events.append((last, 0, "in", ()))
                        if rng.random() < 0.75:
                            last += self._minutes(30, 1.0)
                            events.append((last, 3, "reply", (person, True)))
                if rng.random() < 0.96:
                    last += self._minutes(120, 1.3)
                    events.append((last, 5, "resolve", (person,)))
                    if rng.random() < 0.06:
                        last += self._minutes(24 * 60, 1.0)
                        events.append((last, 0, "in", ()))
                        if rng.random() < 0.6:
                            last += self._minutes(45, 1.0)
                            events.append((last, 3, "reply", (person, True)))
                            last += self._minutes(60, 1.0)
                            events.append((last, 5, "resolve", (person,)))
        if tags:
            events.append((at + self._minutes(15, 1.0), 4, "tag", (person, tags)))
        if rng.random() < 0.02 + 0.1 * complaint:
            events.append((at + rng.uniform(300, 3 * 3600), 4, "escalate", (LEADS[rng.random() < 0.5],)))
        events.sort(key=lambda e: (e[0], e[1]))
        for when, _order, kind, args in events:
            if when >= self.end:
                break  # nothing happens after the data ends, nor anything that would follow it
            self.apply(conv, when, kind, args, complaint)
        return conv

    def apply(self, conv: Conv, at: float, kind: str, args: tuple[Any, ...], complaint: bool) -> None:
        """One event, with the rows and state changes the core's store makes for it."""
        rng = self.rng
        conv.updated_at = at
        if kind == "in":
            latest = Msg(at, "inbound", author=conv.author, text=rng.choice(TEXTS), conv=conv)
            if rng.random() < 0.35:
                negative = rng.random() < (0.8 if complaint else 0.1)
                label = "negative" if negative else ("positive" if rng.random() < 0.4 else "neutral")
                low, high = {"negative": (-1.0, -0.3), "neutral": (-0.3, 0.3), "positive": (0.3, 1.0)}[label]
                latest.extra = {"sentiment": label, "sentiment_score": round(rng.uniform(low, high), 3)}
            if conv.source == "webhook":
                latest.extra["reply_url"] = "https://shop.example.com/chatops/reply"
            conv.messages.append(latest)
            conv.audit.append((at, f"Fan {conv.author}", "received", {"message_id": latest}))
            conv.last_inbound_at = at
            if len(conv.messages) > 1:
                conv.followup_pending = True
                if conv.status in ("resolved", "replied"):
                    reopened = conv.status == "resolved"
                    conv.status = "claimed" if conv.assignee else "new"
                    conv.resolved_at = None
                    if reopened:
                        conv.audit.append((at, "customer", "reopened", {"reason": "follow-up"}))
        elif kind == "claim":
            (user,) = args
            if conv.assignee is None:
                self._own(conv, user, at, {})
        elif kind in ("reply", "bot"):
            user, ok = args if kind == "reply" else ("bot:rota", True)
            target = next((m for m in reversed(conv.messages) if m.direction == "inbound"), None)
            text = rng.choice(REPLIES) if kind == "reply" else "We are closed now and answer from 08:00."
            msg = Msg(at, "outbound", sent_by=user, kind="reply", reply_to=target, text=text, conv=conv)
            conv.messages.append(msg)
            if kind == "reply" and conv.assignee is None:
                self._own(conv, user, at, {"by": "answer"})
            conv.audit.append((at, user, "reply_queued", {"message_id": msg}))
            if ok:
                msg.delivery, msg.sent_at = "sent", at + rng.uniform(0.3, 3.0)
                conv.first_response_at = conv.first_response_at or msg.sent_at
                conv.followup_pending = False
                if conv.status in ("new", "claimed"):
                    conv.status = "replied"
                conv.audit.append((msg.sent_at, user, "reply_sent", {"message_id": msg}))
            else:
                msg.delivery = "failed"
                conv.audit.append((at + 40, "system", "reply_failed", {"message_id": msg, "error": "HTTP 500"}))
        elif kind == "ext":
            msg = Msg(at, "external", text="We answered you in a private message.", conv=conv)
            conv.messages.append(msg)
            conv.first_response_at = conv.first_response_at or at
            conv.followup_pending = False
            if conv.status in ("new", "claimed"):
                conv.status = "replied"
            conv.audit.append((at, "Our Page", "answered_on_platform", {"message_id": msg}))
        elif kind == "resolve":
            (user,) = args
            if conv.status != "resolved":
                conv.status, conv.resolved_at, conv.followup_pending = "resolved", at, False
                conv.audit.append((at, user, "resolved", {}))
        elif kind == "tag":
            user, names = args
            conv.tags.extend((name, user, at) for name in names)
            conv.audit.append((at, user, "tagged", {"added": names, "removed": []}))
        elif kind == "escalate":
            (user,) = args
            conv.escalated_at = at
            conv.escalation = (user, at, "Customer threatens to go to the press")
            conv.audit.append((at, user, "escalated", {"reason": conv.escalation[2], "escalation_id": None}))

    @staticmethod
    def _own(conv: Conv, user: str, at: float, detail: dict[str, Any]) -> None:
        conv.assignee, conv.claimed_at = user, at
        conv.claims.append((user, at))
        if conv.status == "new":
            conv.status = "claimed"
        conv.audit.append((at, user, "claimed", detail))

    def generate(self) -> list[Conv]:
        """Conversations holding exactly ``messages`` messages, by arrival."""
        target = self.p.messages
        convs: list[Conv] = []
        total = 0
        while total < target:
            mean = total / len(convs) if convs else 3.2
            for _ in range(max(1, math.ceil((target - total) / mean))):
                conv = self.conversation(self.arrival())
                convs.append(conv)
                total += len(conv.messages)
        # Too many by a few: leave out conversations at random (sizes 1-3 are common) until exact.
        while total > target:
            excess = total - target
            i = self.rng.randrange(len(convs))
            if len(convs[i].messages) <= excess:
                total -= len(convs[i].messages)
                convs[i] = convs[-1]
                convs.pop()
        convs.sort(key=lambda c: c.created)
        return convs


# -- rows ----------------------------------------------------------------------------------------


def _utc(at: float | None) -> datetime | None:
    return None if at is None else datetime.fromtimestamp(at, UTC)


@dataclass(slots=True)
class Dataset:
    """The generated rows' sources, ids given: conversations and messages by arrival, audit lines by time."""

    convs: list[Conv]
    messages: list[Msg]
    audit: list[tuple[float, int, str, str, dict[str, Any]]]


def build(params: SeedParams) -> Dataset:
    """Generate and number everything (ids follow arrival, as on a live database)."""
    convs = Generator(params).generate()
    for n, conv in enumerate(convs, 1):
        conv.id = n
    messages = [m for conv in convs for m in conv.messages]
    messages.sort(key=lambda m: m.at)
    for n, msg in enumerate(messages, 1):
        msg.id = n
    audit = [(at, conv.id, actor, action, detail) for conv in convs for at, actor, action, detail in conv.audit]
    audit.sort(key=lambda line: line[0])
    return Dataset(convs, messages, audit)


def conversation_rows(data: Dataset) -> Iterator[dict[str, Any]]:
    """``conversations`` rows."""
    for c in data.convs:
        yield {
            "id": c.id,
            "source": c.source,
            "thread_id": f"t{c.id}",
            "channel_name": "support-form" if c.source == "webhook" else None,
            "context_text": f"Post {c.post}: our autumn campaign" if c.source != "webhook" else None,
            "context_url": f"https://example.com/{c.source}/posts/{c.post}" if c.source != "webhook" else None,
            "status": c.status,
            "assignee": c.assignee,
            "claimed_at": _utc(c.claimed_at),
            "escalated_at": _utc(c.escalated_at),
            "resolved_at": _utc(c.resolved_at),
            "first_response_at": _utc(c.first_response_at),
            "last_inbound_at": _utc(c.last_inbound_at),
            "followup_pending": c.followup_pending,
            "slack_channel": "CINBOX",
            "slack_ts": f"{c.created + 1.5:.6f}",
            "created_at": _utc(c.created),
            "updated_at": _utc(c.updated_at),
        }


def message_rows(data: Dataset) -> Iterator[dict[str, Any]]:
    """``messages`` rows."""
    for m in data.messages:
        conv = m.conv
        assert conv is not None
        inbound = m.direction == "inbound"
        handle = f"fan{conv.author}" if inbound and conv.source in ("instagram", "x") else None
        external = m.direction == "external"
        known = inbound or external or m.delivery == "sent"
        yield {
            "id": m.id,
            "conversation_id": conv.id,
            "source": conv.source,
            "external_id": f"e{m.id}" if known else None,
            "direction": m.direction,
            "author_id": f"{conv.source}:{conv.author}" if inbound else ("page" if external else m.sent_by),
            "author_name": f"Fan {conv.author}" if inbound else ("Our Page" if external else None),
            "author_handle": handle,
            "author_url": f"https://example.com/{conv.source}/u/{conv.author}" if inbound else None,
            "text": m.text,
            "permalink": f"https://example.com/{conv.source}/c/{m.id}" if known else None,
            "source_created_at": _utc(m.at) if inbound or external else None,
            "received_at": _utc(m.at),
            "edited_at": None,
            "removed_at": None,
            "hidden": False,
            "extra": m.extra,
            "kind": m.kind,
            "in_reply_to_id": m.reply_to.id if m.reply_to else None,
            "sent_by": m.sent_by,
            "delivery": m.delivery,
            "delivery_error": "HTTP 500 from the platform" if m.delivery == "failed" else None,
            "delivery_attempts": 5 if m.delivery == "failed" else (1 if m.delivery else 0),
            "sent_at": _utc(m.sent_at),
            "slack_ts": f"{m.at + 2:.6f}",
        }


def audit_rows(data: Dataset) -> Iterator[dict[str, Any]]:
    """``audit_log`` rows (message references resolved to ids)."""
    for n, (at, conv_id, actor, action, detail) in enumerate(data.audit, 1):
        if "message_id" in detail:
            detail = {**detail, "message_id": detail["message_id"].id}
        yield {"id": n, "conversation_id": conv_id, "actor": actor, "action": action, "detail": detail, "at": _utc(at)}


def tag_rows() -> list[dict[str, Any]]:
    """``tags`` rows."""
    made = _utc(END.timestamp() - 400 * 86400)
    return [{"id": n, "name": name, "created_at": made} for n, name in enumerate(TAGS, 1)]


def conversation_tag_rows(data: Dataset) -> Iterator[dict[str, Any]]:
    """``conversation_tags`` rows."""
    ids = {name: n for n, name in enumerate(TAGS, 1)}
    for c in data.convs:
        for name, user, at in c.tags:
            yield {"conversation_id": c.id, "tag_id": ids[name], "added_by": user, "added_at": _utc(at)}


def escalation_rows(data: Dataset) -> Iterator[dict[str, Any]]:
    """``escalations`` rows (and the escalation ids in their audit lines)."""
    escalated = sorted((c for c in data.convs if c.escalation), key=lambda c: c.escalated_at or 0)
    for n, c in enumerate(escalated, 1):
        assert c.escalation is not None
        user, at, reason = c.escalation
        for _at, _actor, action, detail in c.audit:
            if action == "escalated":
                detail["escalation_id"] = n
        yield {
            "id": n,
            "conversation_id": c.id,
            "reason": reason,
            "escalated_by": user,
            "escalated_at": _utc(at),
            "slack_channel": "CLEADS",
            "slack_ts": f"{at + 3:.6f}",
        }


def assignment_rows(data: Dataset) -> Iterator[dict[str, Any]]:
    """``assignments`` rows: one per claim."""
    n = 0
    for c in data.convs:
        for user, at in c.claims:
            n += 1
            yield {"id": n, "conversation_id": c.id, "assignee": user, "assigned_by": user,
                   "assigned_at": _utc(at), "released_at": None}  # fmt: skip


#: The core's tables by name (``Model.__table__`` is typed as any FROM clause).
TABLES = Base.metadata.tables


def tables_in_order(data: Dataset) -> list[tuple[sa.Table, Callable[[], Iterator[dict[str, Any]]]]]:
    """Each table with its rows, parents first."""
    return [
        (TABLES["tags"], lambda: iter(tag_rows())),
        (TABLES["conversations"], lambda: conversation_rows(data)),
        (TABLES["messages"], lambda: message_rows(data)),
        (TABLES["escalations"], lambda: escalation_rows(data)),
        (TABLES["audit_log"], lambda: audit_rows(data)),
        (TABLES["conversation_tags"], lambda: conversation_tag_rows(data)),
        (TABLES["assignments"], lambda: assignment_rows(data)),
    ]


def chunks(rows: Iterator[dict[str, Any]], size: int) -> Iterator[list[dict[str, Any]]]:
    """``rows`` in lists of ``size``."""
    while chunk := list(itertools.islice(rows, size)):
        yield chunk


# -- writing ---------------------------------------------------------------------------------------

CHUNK = 20_000


async def migrate(url: str) -> None:
    """Bring the database to the schema the bot with the digest plugin runs on."""
    db = Database(url)
    try:
        await upgrade(db)
        await upgrade_plugin(db, "digest", digest_tables.MIGRATIONS)
    finally:
        await db.dispose()


async def read_marker(url: str) -> str | None:
    """The seed marker the database carries, if any."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            table = TABLES["source_state"]
            return await conn.scalar(
                sa.select(table.c.value).where(table.c.plugin == MARKER[0], table.c.key == MARKER[1])
            )
    except sa.exc.DBAPIError:
        return None  # no schema yet
    finally:
        await engine.dispose()


async def _write_marker(conn: AsyncConnection, params: SeedParams) -> None:
    await conn.execute(
        sa.insert(TABLES["source_state"]).values(
            plugin=MARKER[0], key=MARKER[1], value=params.key(), updated_at=datetime.now(UTC)
        )
    )


async def seed_sqlite(url: str, data: Dataset, params: SeedParams) -> None:
    """Write the data set through Core bulk inserts, one transaction per chunk, on one connection."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            # Seeding only: a crash mid-seed leaves no marker, so the file is made again.
            await conn.exec_driver_sql("PRAGMA synchronous=OFF")
            await conn.commit()
            for table, rows in tables_in_order(data):
                for chunk in chunks(rows(), CHUNK):
                    async with conn.begin():
                        await conn.execute(sa.insert(table), chunk)
            async with conn.begin():
                await _write_marker(conn, params)
    finally:
        await engine.dispose()


def _copy_value(value: Any) -> Any:
    # asyncpg's COPY takes json columns as text.
    return json.dumps(value) if isinstance(value, dict) else value


async def seed_postgres(url: str, data: Dataset, params: SeedParams) -> None:
    """Write the data set with COPY through asyncpg, then VACUUM ANALYZE as autovacuum would."""
    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            raw = (await conn.get_raw_connection()).driver_connection
            assert raw is not None
            for table, rows in tables_in_order(data):
                columns = [c.name for c in table.columns]
                for chunk in chunks(rows(), 100_000):
                    records = [tuple(_copy_value(row[c]) for c in columns) for row in chunk]
                    await raw.copy_records_to_table(table.name, records=records, columns=columns)
                if "id" in table.c:
                    # The rows came with their ids: the sequence must continue after them for the bot's inserts.
                    last = f"SELECT coalesce(max(id), 1) FROM {table.name}"  # noqa: S608 - a name from the metadata
                    await raw.execute(f"SELECT setval(pg_get_serial_sequence('{table.name}', 'id'), ({last}))")
            await conn.commit()
        auto = engine.execution_options(isolation_level="AUTOCOMMIT")
        async with auto.connect() as conn:
            await conn.exec_driver_sql("VACUUM ANALYZE")
        async with engine.begin() as conn:
            await _write_marker(conn, params)
    finally:
        await engine.dispose()


def sqlite_path(params: SeedParams) -> Path:
    """Where the seeded SQLite file of ``params`` is cached."""
    return CACHE / f"digest-{params.key()}.db"


def postgres_bench_url(server_url: str, name: str = PG_DATABASE) -> str:
    """The URL of database ``name`` on ``server_url``'s server."""
    base = make_url(normalise_database_url(server_url))
    return base.set(database=name).render_as_string(hide_password=False)


async def recreate_postgres_database(server_url: str, name: str, template: str | None = None) -> None:
    """Drop and create database ``name`` (a benchmark's own: never the one the URL names)."""
    if not name.startswith(PG_DATABASE):
        raise ValueError(f"refusing to drop {name!r}: the benchmark only touches {PG_DATABASE}*")
    admin = create_async_engine(postgres_bench_url(server_url, "postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            copy = f' TEMPLATE "{template}"' if template else ""
            await conn.exec_driver_sql(f'CREATE DATABASE "{name}"{copy}')
    finally:
        await admin.dispose()


async def drop_postgres_database(server_url: str, name: str) -> None:
    """Drop a scratch database the benchmark made."""
    if not name.startswith(PG_DATABASE + "_"):
        raise ValueError(f"refusing to drop {name!r}: only scratch copies {PG_DATABASE}_* are dropped")
    admin = create_async_engine(postgres_bench_url(server_url, "postgres"), isolation_level="AUTOCOMMIT")
    try:
        async with admin.connect() as conn:
            await conn.exec_driver_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    finally:
        await admin.dispose()


@dataclass(frozen=True, slots=True)
class Seeded:
    """A seeded database: its URL, and the seconds generating and writing took (None: reused).

    ``migrate_seconds``: bringing it to the current schema first (on a reused database, a new
    migration's indexes being built over a year of rows).
    """

    url: str
    migrate_seconds: float
    generate_seconds: float | None = None
    write_seconds: float | None = None


async def seeded(kind: str, params: SeedParams, postgres: str | None = None, *, check: bool = True) -> Seeded:
    """The seeded database of ``kind`` ("sqlite" or "postgresql"), made unless one with the same marker exists.

    ``check=False`` reuses whatever database is there without comparing its marker.
    Either way it is brought to the current schema first (a migration adding indexes runs here).
    """
    if kind == "sqlite":
        path = sqlite_path(params)
        url = f"sqlite+aiosqlite:///{path}"
        if path.exists() and (not check or await read_marker(url) == params.key()):
            return Seeded(url, await _timed(migrate(url)))
        path.parent.mkdir(exist_ok=True)
        for stale in path.parent.glob(path.name + "*"):
            stale.unlink()
    else:
        assert postgres is not None
        url = postgres_bench_url(postgres)
        marker = await read_marker(url) if await _pg_database_exists(postgres) else None
        if marker is not None and (not check or marker == params.key()):
            return Seeded(url, await _timed(migrate(url)))
        await recreate_postgres_database(postgres, PG_DATABASE)
    migrated = await _timed(migrate(url))
    start = time.perf_counter()
    data = build(params)
    generated = time.perf_counter() - start
    written = await _timed((seed_sqlite if kind == "sqlite" else seed_postgres)(url, data, params))
    return Seeded(url, migrated, generated, written)


async def _timed(work: Awaitable[None]) -> float:
    start = time.perf_counter()
    await work
    return time.perf_counter() - start


async def _pg_database_exists(server_url: str) -> bool:
    admin = create_async_engine(postgres_bench_url(server_url, "postgres"))
    try:
        async with admin.connect() as conn:
            found = await conn.scalar(sa.text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": PG_DATABASE})
            return found is not None
    finally:
        await admin.dispose()


#: Sanity counts printed after seeding: what the data set looks like.
SHAPE = {
    "messages": "SELECT count(*) FROM messages",
    "conversations": "SELECT count(*) FROM conversations",
    "distinct customers": "SELECT count(DISTINCT author_name) FROM messages WHERE direction = 'inbound'",
    "customer messages": "SELECT count(*) FROM messages WHERE direction = 'inbound'",
    "team replies sent": "SELECT count(*) FROM messages WHERE delivery = 'sent' AND sent_by LIKE 'U%'",
    "failed replies": "SELECT count(*) FROM messages WHERE delivery = 'failed'",
    "bot:rota replies": "SELECT count(*) FROM messages WHERE sent_by = 'bot:rota'",
    "external answers": "SELECT count(*) FROM messages WHERE direction = 'external'",
    "open conversations": "SELECT count(*) FROM conversations WHERE status IN ('new', 'claimed', 'replied')",
    "resolved lines": "SELECT count(*) FROM audit_log WHERE action = 'resolved'",
    "audit lines": "SELECT count(*) FROM audit_log",
    "tagged conversations": "SELECT count(DISTINCT conversation_id) FROM conversation_tags",
    "complaint-tagged": "SELECT count(*) FROM conversation_tags WHERE tag_id = 1",
    "escalations": "SELECT count(*) FROM escalations",
    "with sentiment": "SELECT count(*) FROM messages WHERE extra LIKE '%sentiment%'",
    "top fan's conversations": "SELECT max(n) FROM (SELECT count(DISTINCT conversation_id) AS n FROM messages "
    "WHERE direction = 'inbound' GROUP BY author_name) AS fans",
    "first message": "SELECT min(received_at) FROM messages",
    "last message": "SELECT max(received_at) FROM messages",
}


async def shape(url: str) -> dict[str, Any]:
    """The :data:`SHAPE` counts of a seeded database."""
    engine = create_async_engine(url)
    found: dict[str, Any] = {}
    try:
        async with engine.connect() as conn:
            for label, query in SHAPE.items():
                if "LIKE '%sentiment%'" in query and engine.dialect.name == "postgresql":
                    query = query.replace("extra LIKE", "extra::text LIKE")
                found[label] = await conn.scalar(sa.text(query))
    finally:
        await engine.dispose()
    return found


async def main(args: argparse.Namespace) -> int:
    """Seed (or reuse) the databases and print what they hold."""
    params = SeedParams(messages=args.messages)
    kinds = ["sqlite"] + (["postgresql"] if args.postgres else [])
    for kind in kinds:
        made = await seeded(kind, params, args.postgres)
        if made.write_seconds is None:
            print(f"{kind:<10} reused {params.key()}")
        else:
            print(f"{kind:<10} seeded {params.key()}: generated in {made.generate_seconds:.1f} s, "
                  f"written in {made.write_seconds:.1f} s")  # fmt: skip
        for label, value in (await shape(made.url)).items():
            print(f"{kind:<10}   {label:<24} {value}")
    return 0


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    """Command-line options."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--postgres", default=os.environ.get("CHATOPS_TEST_POSTGRES_URL"), help="PostgreSQL URL")
    parser.add_argument("--messages", type=int, default=1_000_000)
    return parser.parse_args(argv)


if __name__ == "__main__":
    raise SystemExit(asyncio.run(main(parse_args())))
