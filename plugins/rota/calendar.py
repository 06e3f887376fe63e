"""The rota as iCalendar feeds behind unguessable URLs, so people see their shifts in their own calendar.

Two kinds of feed, each behind ``/rota/calendar/<token>.ics``:

- the *team* feed: every stretch of shift, "On shift: Anna, Jari";
- a *personal* feed: the stretches one person is on (after covers and swaps).

A token is the only key: 32 random bytes (``secrets.token_urlsafe``), one per person and
one for the team (``rota_feeds``, owner unique). Whoever has the URL sees the feed, so a
person can replace theirs (``/rota calendar reset``) and the old URL stops working. An
unknown token answers exactly like a path that does not exist, and tokens are never logged.

The feed covers :data:`PAST` back and :data:`AHEAD` ahead of now. Every stretch is its own
event with a UID made of the shift, the instant it starts and the feed, so calendar apps
update an event a cover changed instead of adding a second one. Times are UTC; the team's
timezone is named in ``X-WR-TIMEZONE`` for apps that show the calendar in it.
"""

from __future__ import annotations

import asyncio
import re
import secrets
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import sqlalchemy as sa
from icalendar import Calendar, Event, vText
from starlette.responses import PlainTextResponse, Response
from starlette.routing import Route

from chatops.db import DatabaseUnavailable

from . import tables
from .schedule import Occurrence, Swap

if TYPE_CHECKING:
    from sqlalchemy.ext.asyncio import AsyncSession
    from starlette.requests import Request
    from starlette.routing import BaseRoute

    from .service import Rota

#: The owner of the team feed in ``rota_feeds`` (people are Slack user ids, which never look like this).
TEAM = "team"
#: Random bytes in a token: 256 bits, far beyond guessing.
TOKEN_BYTES = 32
#: What a token looks like (``token_urlsafe(32)``: 43 URL-safe base64 characters); anything else is not looked up.
TOKEN = re.compile(r"[A-Za-z0-9_-]{43}")
#: Where the feeds are served; ``{token}`` is the feed's token.
PATH = "/rota/calendar/{token}.ics"
#: How far back and ahead of now the feed reaches.
PAST = timedelta(days=14)
AHEAD = timedelta(weeks=8)
#: How long a calendar app (or a proxy on the person's side) may keep a copy.
CACHE_CONTROL = "private, max-age=300"
#: How often calendar apps that read it should fetch the feed again.
REFRESH = timedelta(hours=1)
PRODID = "-//chatops//rota//EN"
#: Seconds a calendar app should wait before asking again while the database is away.
RETRY_AFTER_SECONDS = 60


def new_token() -> str:
    """A fresh, unguessable feed token."""
    return secrets.token_urlsafe(TOKEN_BYTES)


def feed_path(token: str) -> str:
    """The path of the feed ``token`` opens."""
    return PATH.format(token=token)


# -- tokens ------------------------------------------------------------------------------


async def _token_of(session: AsyncSession, owner: str) -> str | None:
    found = await session.execute(sa.select(tables.feeds.c.token).where(tables.feeds.c.owner == owner))
    return found.scalar_one_or_none()


async def token_for(rota: Rota, owner: str) -> str:
    """The feed token of ``owner`` (a Slack user id or :data:`TEAM`), made on first use.

    Two first asks at once (a double click, two replicas) end with one token: the insert
    that loses to the unique owner is rolled back to its savepoint and the winner's is read.
    """
    async with rota.ctx.db.read() as session:
        token = await _token_of(session, owner)
    if token is not None:
        return token
    async with rota.ctx.db.write() as session:
        candidate = new_token()
        if await tables.claim(session, tables.feeds, token=candidate, owner=owner, created_at=rota.now()):
            return candidate
        token = await _token_of(session, owner)
    if token is None:  # pragma: no cover - the row that beat our insert cannot have vanished
        raise RuntimeError("a calendar feed token was claimed but cannot be read")
    return token


async def reset_token(rota: Rota, owner: str, actor: str) -> str:
    """Give ``owner`` a new feed token (the old URL stops working at once); audited, token-free."""
    token = new_token()
    async with rota.ctx.db.write() as session:
        first = await _token_of(session, owner) is None
        # No row yet: insert one; a concurrent first ask that beat the insert is replaced like any old token.
        if not (first and await tables.claim(session, tables.feeds, token=token, owner=owner, created_at=rota.now())):
            await session.execute(
                sa.update(tables.feeds).where(tables.feeds.c.owner == owner).values(token=token, created_at=rota.now())
            )
        await rota.ctx.audit("calendar_reset", actor, session=session, owner=owner)
    return token


async def _owner_of(rota: Rota, token: str) -> str | None:
    async with rota.ctx.db.read() as session:
        found = await session.execute(sa.select(tables.feeds.c.owner).where(tables.feeds.c.token == token))
        return found.scalar_one_or_none()


# -- the feed ----------------------------------------------------------------------------


async def _names(rota: Rota, people: Iterable[str]) -> dict[str, str]:
    """Display names of ``people`` (their id when Slack does not know them)."""
    ids = sorted(set(people))
    found = await asyncio.gather(*(rota.ctx.user_name(person) for person in ids))
    return {person: name or person for person, name in zip(ids, found, strict=True)}


def _uid(o: Occurrence, owner: str, host: str) -> str:
    # The shift and the instant the stretch starts name it: a cover that changes who is on it
    # keeps the UID, a cover that splits it keeps the first piece's and gives the rest their own.
    # The feed is part of it because the team's event and a person's are different events.
    return f"rota-{o.shift_id}-{o.start:%Y%m%dT%H%M%SZ}-{owner}@{host}"


def _change_text(rota: Rota, swaps: dict[date, list[Swap]], o: Occurrence, names: dict[str, str]) -> str | None:
    """What a cover or swap did to this stretch, or None when it is as planned (``swaps``: by day)."""
    if o.people == o.planned:
        return None
    moved = set(o.people) ^ set(o.planned)
    swapped = any({change.first, change.second} & moved for change in swaps.get(o.day, ()))
    key = "rota.calendar.swapped" if swapped else "rota.calendar.covered"
    return rota.ctx.t(key, planned=_joined(rota, o.planned, names), people=_joined(rota, o.people, names))


def _joined(rota: Rota, people: Iterable[str], names: dict[str, str]) -> str:
    return ", ".join(names[p] for p in people) or rota.ctx.t("rota.calendar.nobody")


def _host(rota: Rota) -> str:
    # Part of every UID, so it must not change when nothing else does: the configured host, or a fixed name.
    if rota.config.public_url:
        host = urlsplit(rota.config.public_url).hostname
        if host:
            return host
    return "rota.chatops"


@dataclass(frozen=True, slots=True)
class Entry:
    """One event of a feed, in words already: the stretch of shift, what it says, whether it makes one busy."""

    uid: str
    start: datetime
    end: datetime
    summary: str
    description: str | None
    busy: bool


def clean(text: str) -> str:
    """``text`` fit for an iCalendar TEXT value: every line break a line feed, other control characters spaces.

    The library escapes commas, semicolons, backslashes and line feeds; RFC 5545 allows no
    other control character in TEXT, and a lone carriage return would be read as a line break.
    A lone surrogate (JSON may carry one) cannot be written as UTF-8 at all: it becomes U+FFFD.
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return "".join(_clean_char(c) for c in text)


def _clean_char(c: str) -> str:
    category = unicodedata.category(c)
    if category == "Cc" and c != "\n":
        return " "
    return "\ufffd" if category == "Cs" else c


def render(title: str, timezone: str, stamp: datetime, entries: Iterable[Entry]) -> bytes:
    """The iCalendar text of a feed named ``title`` holding ``entries`` (times in UTC), made at ``stamp``."""
    calendar = Calendar()
    calendar.add("prodid", PRODID)
    calendar.add("version", "2.0")
    calendar.add("calscale", "GREGORIAN")
    calendar.add("method", "PUBLISH")
    # vText explicitly: the library writes a plain str in an X- property unescaped, line breaks and all.
    calendar.add("name", vText(clean(title)))
    calendar.add("x-wr-calname", vText(clean(title)))
    calendar.add("x-wr-timezone", vText(timezone))
    calendar.add("refresh-interval", REFRESH, parameters={"VALUE": "DURATION"})
    calendar.add("x-published-ttl", vText("PT1H"))
    stamp = stamp.astimezone(UTC).replace(microsecond=0)
    for entry in entries:
        event = Event()
        event.add("uid", entry.uid)
        event.add("dtstamp", stamp)
        event.add("dtstart", entry.start.astimezone(UTC))
        event.add("dtend", entry.end.astimezone(UTC))
        event.add("summary", clean(entry.summary))
        if entry.description:
            event.add("description", clean(entry.description))
        # The team's calendar shows who is on; it must not make every subscriber look busy.
        event.add("transp", "OPAQUE" if entry.busy else "TRANSPARENT")
        calendar.add_component(event)
    return calendar.to_ical()


async def feed(rota: Rota, owner: str) -> bytes:
    """The iCalendar text of ``owner``'s feed (:data:`TEAM` for the team's) around now."""
    now = rota.now()
    schedule = await rota.schedule()
    found = schedule.occurrences(now - PAST, now + AHEAD)
    if owner != TEAM:
        found = [o for o in found if owner in o.people]
    people = {p for o in found for p in (*o.people, *o.planned)}
    names = await _names(rota, people | ({owner} if owner != TEAM else set()))
    t = rota.ctx.t
    host = _host(rota)
    swaps: dict[date, list[Swap]] = {}
    for change in schedule.changes:
        if isinstance(change, Swap):
            swaps.setdefault(change.day, []).append(change)
    entries = []
    for o in found:
        if owner == TEAM:
            summary = t("rota.calendar.team_summary", people=_joined(rota, o.people, names))
        else:
            others = [p for p in o.people if p != owner]
            summary = (
                t("rota.calendar.personal_summary_with", people=_joined(rota, others, names))
                if others
                else t("rota.calendar.personal_summary")
            )
        changed = _change_text(rota, swaps, o, names)
        entries.append(Entry(_uid(o, owner, host), o.start, o.end, summary, changed, busy=owner != TEAM))
    title = t("rota.calendar.team_name") if owner == TEAM else t("rota.calendar.personal_name", name=names[owner])
    # Off the event loop: a big rota is thousands of events, and Slack's requests must not wait for them.
    return await asyncio.to_thread(render, title, rota.ctx.tz.key, now, entries)


def _not_found() -> Response:
    # The very answer Starlette gives a path no route knows, so a wrong token tells nothing.
    return PlainTextResponse("Not Found", status_code=404)


def routes(rota: Rota) -> list[BaseRoute]:
    """``GET``/``HEAD /rota/calendar/<token>.ics``: the team's or a person's feed."""

    async def serve(request: Request) -> Response:
        token = request.path_params["token"]
        if not TOKEN.fullmatch(token):
            return _not_found()
        try:
            owner = await _owner_of(rota, token)
            if owner is None:
                return _not_found()
            body = await feed(rota, owner)
        except DatabaseUnavailable as exc:
            # Answered here rather than by the app's handler, which logs the path (the token).
            rota.ctx.log.warning("calendar feed answered 503: database unavailable: %s", exc.reason)
            return PlainTextResponse(
                "Service Unavailable", status_code=503, headers={"Retry-After": str(RETRY_AFTER_SECONDS)}
            )
        return Response(
            body,
            media_type="text/calendar; charset=utf-8",
            headers={
                "Cache-Control": CACHE_CONTROL,
                "Content-Disposition": 'inline; filename="rota.ics"',
                "X-Content-Type-Options": "nosniff",
                "Referrer-Policy": "no-referrer",
            },
        )

    # Starlette answers HEAD for a GET route (same headers, no body).
    return [Route(PATH, serve, methods=["GET"])]


# -- /rota calendar ----------------------------------------------------------------------


def _link(rota: Rota, token: str) -> str:
    path = feed_path(token)
    if rota.config.public_url:
        return f"<{rota.config.public_url.rstrip('/')}{path}>"
    return f"`{path}`"


async def answer(rota: Rota, user_id: str, args: str) -> str:
    """What ``/rota calendar [reset]`` answers the asker: their feed's URL and the team's."""
    t = rota.ctx.t
    words = args.lower().split()
    if words == ["reset"]:
        mine = await reset_token(rota, user_id, user_id)
        intro = t("rota.calendar.reset_done")
    elif not words:
        mine = await token_for(rota, user_id)
        intro = t("rota.calendar.intro")
    else:
        return t("rota.calendar.usage")
    team = await token_for(rota, TEAM)
    lines = [
        intro,
        t("rota.calendar.personal_link", url=_link(rota, mine)),
        t("rota.calendar.team_link", url=_link(rota, team)),
        t("rota.calendar.private"),
    ]
    if not rota.config.public_url:
        lines.append(t("rota.calendar.no_public_url"))
    return "\n".join(lines)
