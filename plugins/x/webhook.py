"""X's Account Activity webhook at ``/webhooks/x``: the CRC challenge, signed deliveries, mentions in.

For accounts whose access level has Account Activity (``[plugins.x] webhook = true``):

* ``GET /webhooks/x?crc_token=…``: the challenge-response check X makes when the webhook is
  registered and about hourly after: ``{"response_token": "sha256=<base64 HMAC>"}`` (400 for a
  missing, over-long or unlikely token: see :mod:`.signature` on why the alphabet is limited).
* ``POST /webhooks/x``: the body limit (413), ``x-twitter-webhooks-signature`` over the raw body
  with the consumer secret (401), then the *whole* delivery is read (400 naming the bad field)
  before anything is stored, so a refused request stores nothing.
* ``tweet_create_events`` (v1.1 Tweet objects) of the configured account: mentions become
  customer messages, the account's own posts are its answers (shown in the card's thread when
  they reply within one, nothing otherwise). They go through the same conversion as polling
  (:mod:`.tweets`), so a post read both ways is one message; the core stores each id once, so
  X's redeliveries and a webhook running beside polling store nothing twice.
* A ``user_event`` revoke of the account (it removed the app's access; X deletes the subscription)
  raises one ops alert, cleared by the next delivery of the account's posts.
* Everything else (likes, follows, direct messages, deletes, …) is answered 200 and left alone.

Deliveries for another account (``for_user_id`` not ours) are answered 200 and stored nowhere.
X delivers every account an app subscribes to one webhook URL: such a delivery is genuine (it is
signed) but not this bot's business, and an error answer would only make X send it again and count
the webhook as failing. It is logged as a warning, because it usually means an old subscription or
a ``user_id`` that names the wrong account.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from chatops.inbound_checks import believable_or_none
from chatops.payload_fields import PayloadError, array, id_field, obj, string
from chatops.sources import Context
from chatops.web import Rejected, error, read_signed_json

from .signature import SIGNATURE_HEADER, crc_response, crc_token_problem, verify
from .tweets import Post, status_url, to_inbound

if TYPE_CHECKING:
    from .account import XAccount

log = logging.getLogger(__name__)

#: X ids (posts and users) are decimal snowflakes.
_ID = re.compile(r"[0-9]{1,20}")
#: v1.1's ``created_at``: ``Wed Oct 10 20:19:24 +0000 2018`` (English names whatever the locale).
_CREATED_AT = re.compile(
    r"(?:Mon|Tue|Wed|Thu|Fri|Sat|Sun) (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) "
    r"([0-9]{2}) ([0-9]{2}):([0-9]{2}):([0-9]{2}) ([+-])([0-9]{2})([0-9]{2}) ([0-9]{4})"
)
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
#: Names and handles are stored in 255-character columns.
_NAME_LIMIT = 255
#: The ops alert raised when the account revokes the app (cleared by its next delivered post).
REVOKED_ALERT = "webhook_revoked"
#: Event kinds a delivery may carry besides ``tweet_create_events``; answered 200 and not stored.
IGNORED_KINDS = (
    "favorite_events",
    "follow_events",
    "unfollow_events",
    "block_events",
    "unblock_events",
    "mute_events",
    "unmute_events",
    "user_event",
    "direct_message_events",
    "direct_message_indicate_typing_events",
    "direct_message_mark_read_events",
    "tweet_delete_events",
)


@dataclass(frozen=True, slots=True)
class ActivityTweet:
    """What the bot reads of one v1.1 Tweet object of ``tweet_create_events``."""

    tweet_id: str
    #: The whole text (``extended_tweet.full_text`` when X cut ``text``) as X sent it: HTML-escaped,
    #: with t.co links (the conversion in :mod:`.tweets` reads it as it reads a v2 text).
    text: str
    #: ``(t.co link, expanded URL)`` of the text's ``entities.urls``.
    urls: tuple[tuple[str, str], ...]
    author_id: str
    username: str
    name: str | None
    created_at: datetime | None
    in_reply_to: str | None
    #: The handle of the author of ``in_reply_to`` (for the card's link to it).
    in_reply_to_username: str | None
    #: A retweet (``retweeted_status``): no words of its author's own.
    retweet: bool
    #: The account is @mentioned, or the post replies to one of the account's posts.
    addresses_account: bool


@dataclass(frozen=True, slots=True)
class Activity:
    """One delivery, read whole: the account it is for, its posts, and what else it carried."""

    for_user_id: str | None
    tweets: list[ActivityTweet]
    #: Event kinds present that the bot does not act on (for the log).
    other_kinds: list[str]
    #: A ``user_event`` revoke for this account: it removed the app's access (X then deletes the
    #: subscription, so nothing more arrives here).
    revoked: bool = False


# ------------------------------------------------------------------------------------ reading


def _id(container: dict[str, Any], key: str, where: str, *, required: bool = True) -> str | None:
    """An id field: a string of digits (X's ``*_str`` fields), or the number itself."""
    return id_field(container, key, where, pattern=_ID, what="must be a numeric X id", required=required)


def parse_created_at(value: str) -> datetime | None:
    """v1.1's ``created_at`` as an aware datetime; None when it is not in X's format or not a date."""
    match = _CREATED_AT.fullmatch(value)
    if match is None:
        return None
    month, day, hour, minute, second, sign, off_h, off_m, year = match.groups()
    offset = timedelta(hours=int(off_h), minutes=int(off_m)) * (1 if sign == "+" else -1)
    try:
        return datetime(
            int(year),
            _MONTHS.index(month) + 1,
            int(day),
            int(hour),
            int(minute),
            int(second),
            tzinfo=timezone(offset),
        )
    except ValueError:  # 31 Feb, 25 o'clock, an offset of a day or more
        return None


def _created_at(tweet: dict[str, Any], where: str) -> datetime | None:
    """The post's time; a time no post can have (before 2000, in the future) is None, logged.

    Refusing the delivery over a clock would make X redeliver the mention and then drop it;
    the card shows the arrival time instead.
    """
    raw = string(tweet, "created_at", where, required=True)
    assert raw is not None
    parsed = parse_created_at(raw)
    if parsed is None:
        raise PayloadError(f"{where}.created_at: must be a time like 'Wed Oct 10 20:19:24 +0000 2018'")
    believable = believable_or_none(parsed)
    if believable is None:
        log.warning("x webhook: ignoring %s.created_at %r: not a believable time", where, raw[:40])
    return believable


def _entities(container: dict[str, Any], where: str) -> tuple[dict[str, str], set[str]]:
    """Links (t.co → expanded URL) and mentioned user ids of an ``entities`` object."""
    entities = container.get("entities")
    if entities is None:
        return {}, set()
    ewhere = f"{where}.entities"
    entities = obj(entities, ewhere)
    links: dict[str, str] = {}
    for i, raw in enumerate(array(entities, "urls", ewhere, required=False)):
        uwhere = f"{ewhere}.urls[{i}]"
        url = obj(raw, uwhere)
        short = string(url, "url", uwhere, required=True)
        expanded = string(url, "expanded_url", uwhere)
        if short and expanded:
            links[short] = expanded
    mentioned: set[str] = set()
    for i, raw in enumerate(array(entities, "user_mentions", ewhere, required=False)):
        mwhere = f"{ewhere}.user_mentions[{i}]"
        mention = obj(raw, mwhere)
        user_id = _id(mention, "id_str", mwhere, required=False) or _id(mention, "id", mwhere, required=False)
        if user_id is None:
            raise PayloadError(f"{mwhere}.id_str: is required")
        mentioned.add(user_id)
    return links, mentioned


def parse_tweet(raw: Any, where: str, account_id: str) -> ActivityTweet:
    """Read one v1.1 Tweet object; PayloadError names the first field that is missing or of the wrong type."""
    tweet = obj(raw, where)
    tweet_id = _id(tweet, "id_str", where)
    assert tweet_id is not None
    user = obj(tweet.get("user"), f"{where}.user")
    author_id = _id(user, "id_str", f"{where}.user")
    assert author_id is not None
    username = string(user, "screen_name", f"{where}.user", required=True)
    if not username or not username.strip():
        raise PayloadError(f"{where}.user.screen_name: must not be empty")
    name = string(user, "name", f"{where}.user")
    truncated = tweet.get("truncated", False)
    if not isinstance(truncated, bool):
        raise PayloadError(f"{where}.truncated: must be true or false")
    text = string(tweet, "text", where, required=True)
    assert text is not None
    links, mentioned = _entities(tweet, where)
    extended_raw = tweet.get("extended_tweet")
    if extended_raw is not None:
        extended = obj(extended_raw, f"{where}.extended_tweet")
        full_text = string(extended, "full_text", f"{where}.extended_tweet", required=True)
        assert full_text is not None
        # The cut text's entities are a subset of the whole text's; both are kept in case X left
        # the whole text's out.
        more_links, more_mentioned = _entities(extended, f"{where}.extended_tweet")
        links |= more_links
        mentioned |= more_mentioned
        text = full_text
    elif truncated:
        # X sends extended_tweet with every cut post; without it the cut text is all there is.
        log.warning("x webhook: %s is truncated and has no extended_tweet; storing the cut text", where)
    in_reply_to = _id(tweet, "in_reply_to_status_id_str", where, required=False)
    if in_reply_to is None:
        in_reply_to = _id(tweet, "in_reply_to_status_id", where, required=False)
    in_reply_to_user = _id(tweet, "in_reply_to_user_id_str", where, required=False)
    in_reply_to_username = string(tweet, "in_reply_to_screen_name", where)
    retweeted = tweet.get("retweeted_status")
    if retweeted is not None:
        obj(retweeted, f"{where}.retweeted_status")
    return ActivityTweet(
        tweet_id=tweet_id,
        text=text,
        urls=tuple(links.items()),
        author_id=author_id,
        username=" ".join(username.split())[:_NAME_LIMIT],
        name=(" ".join(name.split())[:_NAME_LIMIT] or None) if name else None,
        created_at=_created_at(tweet, where),
        in_reply_to=in_reply_to,
        in_reply_to_username=in_reply_to_username,
        retweet=retweeted is not None,
        addresses_account=account_id in mentioned or in_reply_to_user == account_id,
    )


def parse_activity(data: Any, account_id: str) -> Activity:
    """Read a whole delivery; PayloadError for any malformed part, so nothing of it is stored.

    ``for_user_id`` is required with ``tweet_create_events``; a delivery for another account is
    returned unread beyond it (its posts are not ours, whatever their shape).
    """
    body = obj(data, "body")
    for_user_id = _id(body, "for_user_id", "body", required="tweet_create_events" in body)
    other = [kind for kind in body if kind in IGNORED_KINDS]
    revoked = _revoked_user(body) == account_id
    raw_tweets = body.get("tweet_create_events")
    if raw_tweets is None:
        return Activity(for_user_id, [], other, revoked)
    if not isinstance(raw_tweets, list):
        raise PayloadError("body.tweet_create_events: must be a list")
    if for_user_id != account_id:
        return Activity(for_user_id, [], other, revoked)
    tweets = [parse_tweet(raw, f"tweet_create_events[{i}]", account_id) for i, raw in enumerate(raw_tweets)]
    return Activity(for_user_id, tweets, other, revoked)


def _revoked_user(body: dict[str, Any]) -> str | None:
    """The account of a ``user_event`` revoke (``user_event.revoke.source.user_id``), or None.

    Read leniently: the event is only a reason to alert, so a shape other than X's documented one
    is left alone rather than refused.
    """
    node: Any = body.get("user_event")
    for key in ("revoke", "source", "user_id"):
        node = node.get(key) if isinstance(node, dict) else None
    return node if isinstance(node, str) and _ID.fullmatch(node) else None


# ----------------------------------------------------------------------------------- handling


def webhook_routes(source: XAccount) -> list[BaseRoute]:
    """``GET`` (CRC challenge) and ``POST`` (signed events) on ``/webhooks/x``."""

    async def endpoint(request: Request) -> Response:
        if request.method == "GET":
            return crc(source, request)
        return await receive(source, request)

    return [Route(f"/webhooks/{source.name}", endpoint, methods=["GET", "POST"])]


def crc(source: XAccount, request: Request) -> Response:
    """Answer X's challenge-response check with the HMAC of ``crc_token`` (400 for an unlikely token)."""
    token = request.query_params.get("crc_token")
    problem = crc_token_problem(token)
    if problem is not None:
        log.warning("x webhook: CRC check refused: %s", problem)
        return error(400, problem)
    assert token is not None
    return JSONResponse(crc_response(source.config.secret("consumer_secret"), token))


async def receive(source: XAccount, request: Request) -> Response:
    """Verify, read the whole delivery, then store its posts. 413, 401 and 400 store nothing."""
    try:
        ctx = source.ctx
    except RuntimeError:
        return error(503, "not started")
    secret = source.config.secret("consumer_secret")
    try:
        data = await read_signed_json(
            request,
            limit=source.config.max_body_bytes,
            signature_header=SIGNATURE_HEADER,
            verify=lambda body, header: verify(secret, body, header),
        )
    except Rejected as rejected:
        return rejected.response
    account_id = source.config.user_id
    try:
        activity = parse_activity(data, account_id)
    except PayloadError as exc:
        log.warning("x webhook: delivery refused: %s", exc)
        return error(400, str(exc))
    counts = {"received": 0, "stored": 0, "duplicates": 0, "ignored": 0}
    if activity.for_user_id is not None and activity.for_user_id != account_id:
        count = len(data.get("tweet_create_events") or [])
        counts["received"] = counts["ignored"] = count
        log.warning(
            "x webhook: a delivery for account %s, not the configured user_id %s: ignored "
            "(is the app still subscribed for another account?)",
            activity.for_user_id,
            account_id,
        )
        return JSONResponse(counts)
    if activity.revoked:
        await _revoked(source)
    elif activity.tweets:
        # A delivery of the account's posts proves the subscription is back.
        await ctx.alerts.clear(REVOKED_ALERT)
    counts["received"] = len(activity.tweets)
    wanted = [tweet for tweet in activity.tweets if _wanted(tweet, account_id)]
    counts["ignored"] = len(activity.tweets) - len(wanted)
    if wanted:
        # Oldest first, so a reply delivered with its parent finds the parent's card (``batch``).
        wanted.sort(key=lambda tweet: (len(tweet.tweet_id), tweet.tweet_id))
        batch: dict[str, str] = {}
        events = [
            await to_inbound(
                ctx, _post(tweet), account_id=account_id, account_username=source.config.username, batch=batch
            )
            for tweet in wanted
        ]
        # One transaction: the whole delivery is stored or (on a database failure, answered 503 so X
        # sends it again) none of it.
        for result in await ctx.ingest_many(events):
            if result.duplicate:
                counts["duplicates"] += 1
            elif result.message_id is None:
                counts["ignored"] += 1  # the account's own post outside any conversation
            else:
                counts["stored"] += 1
    if activity.other_kinds:
        log.debug("x webhook: left alone: %s", ", ".join(activity.other_kinds))
    log.info("x webhook: %s", counts)
    return JSONResponse(counts)


async def _revoked(source: XAccount) -> None:
    """The account removed the app's access: one ops alert saying what an admin must do."""
    config = source.config
    who = f"@{config.username} ({config.user_id})" if config.username else config.user_id
    log.warning("x webhook: X says account %s revoked the app's access", config.user_id)
    await source.ctx.alerts.raise_once(
        REVOKED_ALERT,
        f"X says the account {who} removed this app's access, and X deleted its Account Activity "
        "subscription: mentions no longer arrive by webhook and replies will fail. An admin must "
        "authorize the app again on the account, set the new plugins.x.access_token and "
        "plugins.x.access_token_secret, restart chatops, and subscribe the account to the webhook again.",
    )


def _post(tweet: ActivityTweet) -> Post:
    """The neutral post polling also makes, from a v1.1 post.

    v1.1 has no ``conversation_id``: ``in_reply_to`` alone finds the card. Its deliveries do not
    carry the post a reply answers either, so the card links to it instead of quoting it.
    """
    context = None
    if tweet.in_reply_to is not None:
        context = Context(url=status_url(tweet.in_reply_to, tweet.in_reply_to_username))
    return Post(
        id=tweet.tweet_id,
        text=tweet.text,
        author_id=tweet.author_id,
        username=tweet.username,
        name=tweet.name,
        created_at=tweet.created_at,
        conversation_id=None,
        in_reply_to=tweet.in_reply_to,
        urls=tweet.urls,
        context=context,
    )


def _wanted(tweet: ActivityTweet, account_id: str) -> bool:
    """Whether a delivered post may be stored: the account's own posts, and posts addressed to it.

    Retweets are left alone, the account's and everyone else's: a retweet adds no words, the post
    it repeats already made its card (or was the account's own), and an answer to it would go to
    the retweeter, not the author. A quote that does not mention the account is left alone too:
    the mentions timeline polling reads does not hold it, and the two ways in must agree.
    """
    if tweet.retweet:
        return False
    return tweet.author_id == account_id or tweet.addresses_account


__all__ = [
    "Activity",
    "ActivityTweet",
    "PayloadError",
    "parse_activity",
    "parse_tweet",
    "webhook_routes",
]
