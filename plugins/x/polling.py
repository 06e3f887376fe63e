"""Polling X for mentions of the account and for its own posts (``GET /2/users/{id}/mentions``, ``/tweets``).

One pass reads each timeline newest first, page by page, down to the stored ``since_id``; then
everything read is ingested in one batch, oldest first (so a reply read with its parent joins the
parent's card), and only then does each ``since_id`` move. A pass that fails or stops part-way
stores nothing of its position it has not stored the posts for, so a restart neither misses nor
repeats a mention.

A walk that cannot finish in one pass (``max_pages`` reached, or the rate limit ran out between
pages) keeps where it stopped (``until_id``) and the newest id it saw; the next pass carries on
below that point before moving ``since_id`` up, so nothing between is skipped.

X's limits are read at run time: ``x-rate-limit-remaining`` 0 or a 429 stores
``x-rate-limit-reset`` and the timeline is left alone until then (never a failed job); when
polling stays held back longer than ``blocked_alert_minutes`` the ops channel hears once. A
rejected bearer token (401) or a refused read (403: suspended account, app without access) is
one ops alert naming what to fix, and the job ends as :class:`~chatops.jobs.Alerted`.

No single bad input may wedge polling (fail every pass for good): a post's impossible time is
dropped (the card shows the arrival time), lone surrogates and NUL are replaced, a reset that is
garbled or absurd holds a timeline back one window (at most a day), a stored position X refuses
(400) is dropped for the start time, and one timeline failing is raised only after the other's
posts are stored. A walk that reads all X keeps reachable (800 mentions) says older ones may be lost.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import logging
import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

import requests
import tweepy

from chatops.inbound_checks import replace_unstorable
from chatops.jobs import Alerted
from chatops.sources import InboundEvent

from .errors import Refusal
from .tweets import MalformedPost, Post, is_id, post_from_v2, to_inbound, tweets_by_id, users_by_id

if TYPE_CHECKING:
    from .account import XAccount

log = logging.getLogger(__name__)

#: What each post of a page carries: enough for the card, its links and the thread rule.
TWEET_FIELDS = ["author_id", "created_at", "conversation_id", "referenced_tweets", "entities", "in_reply_to_user_id"]
#: The authors, and the posts mentions answer (shown as the card's context).
EXPANSIONS = ["author_id", "referenced_tweets.id", "referenced_tweets.id.author_id"]
USER_FIELDS = ["username", "name"]
#: When a 429 comes without ``x-rate-limit-reset``: X's windows are 15 minutes.
DEFAULT_WINDOW_SECONDS = 15 * 60
#: The longest a rate limit may hold a timeline back: a reset further ahead (years, ``1e300``) is an X
#: or proxy bug, and believing it would stop polling for good. Reads have 15-minute windows.
MAX_HOLD_SECONDS = 24 * 3600
#: Alert keys (the plugin's namespace). Reads use the bearer token; answers (the core's "token") use
#: the account's access token, so each is raised and cleared on its own.
TOKEN_ALERT = "token:bearer"  # noqa: S105 - an alert key, not a secret
READ_ALERT = "permission:read"
USER_ID_ALERT = "user_id"
RATE_ALERT = "rate_limit"
#: Raised when a walk read as many mentions as X keeps reachable: older ones may never be read.
REACH_ALERT = "mentions_beyond_reach"


class ReadRefused(Exception):
    """X refused a read in a way only an admin can fix; the alert is raised already."""


class MalformedAnswer(Exception):
    """X answered 200 with something that is not a timeline page (the pass is repeated later)."""


@dataclass(frozen=True, slots=True)
class Timeline:
    """One of the two timelines a pass reads."""

    #: "mentions" or "user_tweets" (also the FakeX endpoint name and part of the state keys).
    key: str
    #: What the log and the alerts call it.
    label: str
    #: Reads ``id`` with tweepy's parameters (a bound ``tweepy.Client`` method).
    read: Callable[..., requests.Response]
    #: How many of the newest posts X lets the timeline reach (older ones cannot be read at all).
    reachable: int


@dataclass
class Walk:
    """What one timeline's walk read in this pass, and where it leaves the timeline's position."""

    timeline: Timeline
    posts: list[Post] = field(default_factory=list)
    #: The newest id of the whole walk (the first page of the walk this pass carries on).
    newest: str | None = None
    #: The oldest id read: where an unfinished walk carries on.
    oldest: str | None = None
    #: Every page down to ``since_id`` (or the start time) was read.
    complete: bool = False
    #: A request was answered with posts or an empty page (the limit and the token work).
    answered: bool = False
    #: Held back by the rate limit in this pass (before the first request or between pages).
    limited: bool = False
    #: Malformed post objects skipped.
    skipped: int = 0
    #: Posts X returned in this walk, counting earlier passes of an unfinished walk carried on.
    returned: int = 0
    #: Why the walk failed (raised after the other timelines' posts are stored), or None.
    failure: Exception | None = None


@dataclass(frozen=True, slots=True)
class PassReport:
    """What one pass did (for the log and the tests)."""

    read: dict[str, int]
    stored: int
    held_back: tuple[str, ...]
    skipped: int


def timelines(source: XAccount) -> list[Timeline]:
    """The timelines a pass reads: mentions, and the account's own posts when ``own_replies`` is on."""
    client = source.client
    found = [Timeline("mentions", "mentions", client.get_users_mentions, 800)]
    if source.config.own_replies:
        found.append(Timeline("user_tweets", "own posts", client.get_users_tweets, 3200))
    return found


def _key(kind: str, timeline: Timeline, source: XAccount) -> str:
    """A ``ctx.state`` key, per account: switching accounts starts fresh instead of skipping."""
    return f"{kind}:{timeline.key}:{source.config.user_id}"


async def poll_job(source: XAccount, due_at: datetime) -> None:
    """One scheduled polling pass; a refusal only an admin can fix ends as Alerted (already reported)."""
    try:
        await poll(source)
    except ReadRefused as exc:
        raise Alerted(str(exc)) from exc


async def poll(source: XAccount) -> PassReport:
    """One pass: read what is new on each timeline, store it oldest first, then move the positions."""
    ctx = source.ctx
    now = source.clock()
    walks: list[Walk] = []
    for timeline in timelines(source):
        # One timeline failing (the own posts' 503, or a 403 for an access level without them)
        # must not cost the other's posts: its failure is raised once the rest is stored.
        walk = Walk(timeline)
        try:
            await _walk(source, walk, now)
        except Exception as exc:  # kept, and raised below once the others are stored
            walk = Walk(timeline, failure=exc)
        walks.append(walk)
    posts: dict[str, Post] = {}
    for walk in walks:
        for post in walk.posts:
            posts.setdefault(post.id, post)
    batch: dict[str, str] = {}
    events: list[InboundEvent] = []
    for post in sorted(posts.values(), key=lambda p: int(p.id)):
        events.append(
            await to_inbound(
                ctx,
                post,
                account_id=source.config.user_id,
                account_username=source.config.username,
                batch=batch,
            )
        )
    results = await ctx.ingest_many(events) if events else []
    # Only now, with everything read stored, may the positions move.
    for walk in walks:
        await _commit(source, walk)
    held_back = tuple(w.timeline.label for w in walks if w.limited)
    await _rate_limit_alert(source, walks, now)
    failures = [w.failure for w in walks if w.failure is not None]
    if any(w.answered for w in walks) and not failures:
        await ctx.alerts.clear(TOKEN_ALERT, READ_ALERT, USER_ID_ALERT)
    report = PassReport(
        read={w.timeline.key: len(w.posts) for w in walks},
        stored=sum(1 for r in results if r.message_id is not None and not r.duplicate),
        held_back=held_back,
        skipped=sum(w.skipped for w in walks),
    )
    log.info("x poll: read %s, stored %d new, held back: %s", report.read, report.stored, held_back or "none")
    for failure in failures[1:]:
        log.warning("x poll: another timeline failed too: %r", failure)
    if failures:
        raise failures[0]
    return report


async def _walk(source: XAccount, walk: Walk, now: float) -> None:
    """Read one timeline newest first down to its position, as far as this pass may (fills ``walk``)."""
    ctx = source.ctx
    config = source.config
    timeline = walk.timeline
    reset = _float(await ctx.state.get(_key("rate_reset", timeline, source)))
    # A stored reset further ahead than any window (written before the cap existed) is not believed.
    if reset is not None and now < reset <= now + MAX_HOLD_SECONDS:
        log.debug("x: %s held back by the rate limit until %s", timeline.label, _iso(reset))
        walk.limited = True
        return
    since = await ctx.state.get(_key("since_id", timeline, source)) or None
    if since is not None and not is_id(since):
        # Never written by us; reading from the start time again only costs duplicates, which the store drops.
        log.warning("x: ignoring a stored %s since_id that is not an X id: %r", timeline.label, since[:40])
        since = None
    resume = _resume(await ctx.state.get(_key("resume", timeline, source)))
    params: dict[str, Any] = {
        "max_results": config.page_size,
        "tweet_fields": TWEET_FIELDS,
        "expansions": EXPANSIONS,
        "user_fields": USER_FIELDS,
    }
    if since is not None:
        params["since_id"] = since
    else:
        params["start_time"] = await _start_time(source, timeline, now)
    if resume is not None:
        params["until_id"], walk.newest, walk.returned = resume
    pages = 0
    while True:
        try:
            response = await asyncio.to_thread(timeline.read, config.user_id, **params)
        except tweepy.TooManyRequests as exc:
            await _limited(source, timeline, _reset_of(exc.response, now), now)
            walk.limited = True
            return
        except tweepy.BadRequest as exc:
            if since is None and resume is None:
                raise
            # A position X refuses (an id past int64, one from another account) would fail every
            # pass for good: drop it and read from the start time; the store drops what it has.
            log.warning(
                "x: X refused the stored %s position (since_id %s, until_id %s): %s; reading from the start time",
                timeline.label,
                since,
                params.get("until_id"),
                _detail(exc.response),
            )
            await ctx.state.set(_key("since_id", timeline, source), "")
            await ctx.state.set(_key("resume", timeline, source), "")
            since = resume = None
            for name in ("since_id", "until_id", "pagination_token"):
                params.pop(name, None)
            params["start_time"] = await _start_time(source, timeline, now)
            walk.newest, walk.returned = None, 0
            continue
        except (ValueError, AttributeError) as exc:
            if isinstance(exc, requests.RequestException):
                raise  # InvalidURL and its kind are ValueErrors too: no answer from X at all
            # tweepy reads a refusal itself and raises instead of its HTTPException when it cannot:
            # ``int()`` of a garbled 429 ``x-rate-limit-reset``, ``.get`` on a JSON array body.
            # Only answers that are not 2xx are read so, so hold the timeline back one window.
            log.warning("x: X answered the %s read with an error tweepy could not read: %r", timeline.label, exc)
            await _limited(source, timeline, now + DEFAULT_WINDOW_SECONDS, now)
            walk.limited = True
            return
        except tweepy.Unauthorized as exc:
            await ctx.alerts.raise_once(TOKEN_ALERT, _token_problem(exc))
            raise ReadRefused(f"X rejected the bearer token reading {timeline.label}") from exc
        except tweepy.Forbidden as exc:
            await ctx.alerts.raise_once(READ_ALERT, _forbidden_problem(exc, timeline))
            raise ReadRefused(f"X refused reading {timeline.label}: {_detail(exc.response)}") from exc
        pages += 1
        body = _page(response, timeline)
        if "data" not in body and _user_missing(body):
            problem = (
                f"X says there is no user {config.user_id}: set plugins.x.user_id "
                "(env CHATOPS_PLUGINS__X__USER_ID) to the account's numeric user id. "
                f"X said: {_detail(response)}"
            )
            await ctx.alerts.raise_once(USER_ID_ALERT, problem)
            raise ReadRefused(problem)
        walk.answered = True
        _take_page(walk, body, since, config.user_id)
        meta = body.get("meta")
        next_token = meta.get("next_token") if isinstance(meta, Mapping) else None
        if not isinstance(next_token, str) or not next_token:
            walk.complete = True
            break
        remaining, reset_at = _limits(response)
        if remaining == 0:
            await _limited(source, timeline, reset_at or now + DEFAULT_WINDOW_SECONDS, now)
            walk.limited = True
            log.warning("x: the rate limit ran out part-way through the %s; the next pass carries on", timeline.label)
            break
        if pages >= config.max_pages:
            log.warning(
                "x: %d pages of %s read in one pass (plugins.x.max_pages); older ones are left for the next pass",
                pages,
                timeline.label,
            )
            break
        params["pagination_token"] = next_token
    remaining, reset_at = _limits(response)
    if remaining == 0 and not walk.limited:
        await _limited(source, timeline, reset_at or now + DEFAULT_WINDOW_SECONDS, now)
    if walk.complete:
        await _reach_check(source, walk)


async def _reach_check(source: XAccount, walk: Walk) -> None:
    """Say so when a finished walk read all X lets the timeline reach: older posts may be out of reach.

    X returns only the newest ``reachable`` posts of a timeline; more than that since the last
    pass (the bot stopped for long, a flood) and the oldest can never be read. The ops channel
    hears once (a mention may wait unanswered); the alert clears after a walk that stayed short of it.
    """
    timeline = walk.timeline
    if walk.returned < timeline.reachable:
        if timeline.key == "mentions":
            await source.ctx.alerts.clear(REACH_ALERT)
        return
    log.warning(
        "x: %d %s read since the last position, as many as X lets a timeline reach: older ones may be lost",
        walk.returned,
        timeline.label,
    )
    if timeline.key == "mentions":
        await source.ctx.alerts.raise_once(
            REACH_ALERT,
            f"X returned the newest {timeline.reachable} mentions, all it lets the bot read, since polling last "
            "caught up: older mentions may never have reached the inbox. Look through the account's "
            "notifications on X for mentions older than the oldest new card.",
        )


def _page(response: requests.Response, timeline: Timeline) -> Mapping[str, Any]:
    """The JSON of a 200 answer; MalformedAnswer when it is not an object with a list of posts.

    Lone surrogates and NUL (legal JSON escapes) are replaced as the webhook replaces them: a
    database refuses them, and one such post would fail every pass.
    """
    try:
        body = replace_unstorable(response.json())
    except ValueError as exc:
        raise MalformedAnswer(f"X answered the {timeline.label} read with something not JSON") from exc
    if not isinstance(body, Mapping):
        raise MalformedAnswer(f"X answered the {timeline.label} read with JSON that is not an object")
    if "data" in body and not isinstance(body["data"], list):
        raise MalformedAnswer(f"X answered the {timeline.label} read with a 'data' that is not a list")
    return body


def _take_page(walk: Walk, body: Mapping[str, Any], since: str | None, account_id: str) -> None:
    """Add a page's posts to the walk; malformed ones are skipped and logged, the rest kept."""
    includes = body.get("includes")
    users, referenced = users_by_id(includes), tweets_by_id(includes)
    for item in body.get("data") or []:
        walk.returned += 1
        try:
            post = post_from_v2(item, users, referenced)
        except MalformedPost as exc:
            walk.skipped += 1
            log.warning("x: skipped a post in the %s: %s", walk.timeline.label, exc)
            continue
        if walk.timeline.key == "user_tweets" and post.author_id is None:
            # Everything on the account's own timeline is the account's: never a customer's card.
            post = dataclasses.replace(post, author_id=account_id)
        if since is not None and int(post.id) <= int(since):
            continue  # not newer than the position: stored before
        walk.posts.append(post)
        if walk.newest is None or int(post.id) > int(walk.newest):
            walk.newest = post.id
        if walk.oldest is None or int(post.id) < int(walk.oldest):
            walk.oldest = post.id
    meta = body.get("meta")
    newest = meta.get("newest_id") if isinstance(meta, Mapping) else None
    if (
        isinstance(newest, str)
        and is_id(newest)
        and (walk.newest is None or int(newest) > int(walk.newest))
        and (since is None or int(newest) > int(since))
    ):
        walk.newest = newest


async def _commit(source: XAccount, walk: Walk) -> None:
    """Move the timeline's position after its posts are stored."""
    ctx = source.ctx
    timeline = walk.timeline
    if walk.complete:
        if walk.newest is not None:
            await ctx.state.set(_key("since_id", timeline, source), walk.newest)
        if walk.newest is not None or await ctx.state.get(_key("resume", timeline, source)):
            await ctx.state.set(_key("resume", timeline, source), "")
    elif walk.oldest is not None and walk.newest is not None:
        await ctx.state.set(
            _key("resume", timeline, source),
            json.dumps({"until_id": walk.oldest, "newest": walk.newest, "returned": walk.returned}),
        )


async def _start_time(source: XAccount, timeline: Timeline, now: float) -> datetime:
    """Where a timeline with no ``since_id`` yet starts: fixed at the first pass, so a quiet start misses nothing."""
    key = _key("start", timeline, source)
    stored = await source.ctx.state.get(key)
    if stored:
        try:
            return datetime.fromisoformat(stored)
        except ValueError:
            log.warning("x: ignoring a malformed stored start time %r", stored)
    start = datetime.fromtimestamp(now, UTC) - timedelta(hours=source.config.first_poll_lookback_hours)
    start = start.replace(microsecond=0)
    await source.ctx.state.set(key, start.isoformat())
    return start


def _resume(raw: str | None) -> tuple[str, str, int] | None:
    """``(until_id, newest, posts returned so far)`` of an unfinished walk, or None."""
    if not raw:
        return None
    try:
        value = json.loads(raw)
    except ValueError:
        return None
    if isinstance(value, dict) and is_id(value.get("until_id")) and is_id(value.get("newest")):
        returned = value.get("returned")
        count = returned if isinstance(returned, int) and not isinstance(returned, bool) and returned >= 0 else 0
        return value["until_id"], value["newest"], count
    return None


def _limits(response: requests.Response | None) -> tuple[int | None, float | None]:
    """``x-rate-limit-remaining`` and ``x-rate-limit-reset`` (epoch seconds), None where absent or garbled."""
    if response is None:
        return None, None
    remaining = response.headers.get("x-rate-limit-remaining")
    reset = _float(response.headers.get("x-rate-limit-reset"))
    return (int(remaining) if remaining and remaining.strip().isdigit() else None), reset


def _reset_of(response: requests.Response | None, now: float) -> float:
    _remaining, reset = _limits(response)
    return reset if reset is not None and reset > now else now + DEFAULT_WINDOW_SECONDS


async def _limited(source: XAccount, timeline: Timeline, reset: float, now: float) -> None:
    """Leave the timeline alone until ``reset`` (at most :data:`MAX_HOLD_SECONDS`); logged once per reset."""
    if not now < reset <= now + MAX_HOLD_SECONDS:  # also false for nan
        if reset > now:
            log.warning("x: X's rate-limit reset %r for %s is not believable; waiting less", reset, timeline.label)
        reset = now + (MAX_HOLD_SECONDS if reset > now + MAX_HOLD_SECONDS else DEFAULT_WINDOW_SECONDS)
    key = _key("rate_reset", timeline, source)
    if _float(await source.ctx.state.get(key)) != reset:
        await source.ctx.state.set(key, str(int(reset)))
        log.warning(
            "x: X's rate limit for %s is used up; polling them again after %s (%d s)",
            timeline.label,
            _iso(reset),
            max(0, int(reset - now)),
        )


async def _rate_limit_alert(source: XAccount, walks: list[Walk], now: float) -> None:
    """Raise one alert when polling has been held back longer than ``blocked_alert_minutes``; clear it after."""
    ctx = source.ctx
    key = f"blocked_since:{source.config.user_id}"
    limited = [w for w in walks if w.limited and not w.answered]
    if not limited:
        if await ctx.state.get(key):
            await ctx.state.set(key, "")
        await ctx.alerts.clear(RATE_ALERT)
        return
    since = _float(await ctx.state.get(key))
    if since is None:
        await ctx.state.set(key, str(int(now)))
        since = now
    minutes = (now - since) / 60
    if minutes >= source.config.blocked_alert_minutes:
        resets = []
        for walk in limited:
            reset = _float(await ctx.state.get(_key("rate_reset", walk.timeline, source)))
            resets.append(f"{walk.timeline.label} after {_iso(reset) if reset else 'an unknown time'}")
        # Say what actually waits: the own posts held back alone keep no mention from the inbox.
        if any(w.timeline.key == "mentions" for w in limited):
            waiting = "new mentions wait"
        else:
            waiting = "the account's own posts made on X wait to be recorded on their cards"
        await ctx.alerts.raise_once(
            RATE_ALERT,
            f"X's rate limit has held back polling for {int(minutes)} minutes; {waiting} until it "
            f"resets ({'; '.join(resets)}). If it keeps happening, raise plugins.x.poll_interval_seconds "
            "or check what else uses this X app's limits.",
        )


def _user_missing(body: Mapping[str, Any]) -> bool:
    errors = body.get("errors")
    return isinstance(errors, list) and any(
        isinstance(e, Mapping) and e.get("resource_type") == "user" and "not-found" in str(e.get("type", ""))
        for e in errors
    )


def _detail(response: requests.Response | None) -> str:
    """X's own words for a failure, briefly (read as replies read them: :class:`~.errors.Refusal`)."""
    return "no answer" if response is None else Refusal.from_response(response).detail


def _token_problem(exc: tweepy.HTTPException) -> str:
    return (
        "X rejected the bearer token, so mentions cannot be read: an admin must regenerate it in the X "
        "developer portal (the app's Keys and tokens) and set plugins.x.bearer_token "
        f"(env CHATOPS_PLUGINS__X__BEARER_TOKEN), then restart chatops. X said: {_detail(exc.response)}"
    )


def _forbidden_problem(exc: tweepy.HTTPException, timeline: Timeline) -> str:
    return (
        f"X refused to let this app read the account's {timeline.label} (HTTP 403): the account may be "
        "suspended, or the app's access level may not include this endpoint (see docs/x.md). "
        f"X said: {_detail(exc.response)}"
    )


def _float(raw: str | None) -> float | None:
    """A finite number, or None (``inf`` and ``nan`` are no time)."""
    if not raw:
        return None
    try:
        value = float(raw)
    except ValueError:
        return None
    return value if math.isfinite(value) else None


def _iso(epoch: float) -> str:
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")
