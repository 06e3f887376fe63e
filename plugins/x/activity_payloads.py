"""Builders of X Account Activity webhook deliveries, signed as X signs them, for tests.

Shipped with the plugin (like ``chatops_plugins.graph_api.testing``) so that plugin authors and
the bot's own tests post the shapes X posts to ``/webhooks/x``:

* :func:`tweet_object`: a v1.1 Tweet object as Account Activity delivers it: ``id``/``id_str``,
  ``created_at`` ("Wed Oct 10 20:19:24 +0000 2018"), ``text`` with ``&``, ``<`` and ``>`` written as
  HTML entities and every link replaced by a ``t.co`` link, ``entities.urls`` (``url``,
  ``expanded_url``, ``display_url``, ``indices``), ``entities.user_mentions``, ``user{id_str,
  screen_name, name}``, the ``in_reply_to_*`` fields, and for a long text the compatibility form:
  ``truncated: true``, ``text`` cut with a link to the post, the whole text in ``extended_tweet``.
* :func:`retweet_object`, :func:`quote_object`: a retweet (``retweeted_status``) and a quote.
* :func:`tweet_create_payload` and the other event kinds (:func:`favorite_payload`,
  :func:`follow_payload`, :func:`revoke_payload`).
* :func:`signed_activity`: the raw body and headers, ``x-twitter-webhooks-signature`` included.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from .signature import SIGNATURE_HEADER, sign

#: Posts longer than this (in characters) arrive truncated, with the whole text in ``extended_tweet``.
COMPAT_TEXT_LIMIT = 140

_DAYS = ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_URL = re.compile(r"https?://[^\s<>\"]+")


@dataclass(frozen=True, slots=True)
class XUser:
    """An X account as the builders need it: numeric id, handle (without @) and display name."""

    id: str
    screen_name: str
    name: str


def format_created_at(moment: datetime | None = None) -> str:
    """``moment`` (now when None; naive means UTC) in v1.1's format: ``Wed Oct 10 20:19:24 +0000 2018``.

    Day and month names are always English, whatever the locale (so not ``strftime("%a")``).
    """
    moment = moment or datetime.now(UTC)
    utc = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return (
        f"{_DAYS[utc.weekday()]} {_MONTHS[utc.month - 1]} {utc.day:02d} "
        f"{utc.hour:02d}:{utc.minute:02d}:{utc.second:02d} +0000 {utc.year}"
    )


def user_object(user: XUser) -> dict[str, Any]:
    """A v1.1 User object (the fields a webhook consumer reads, plus a few X always sends)."""
    return {
        "id": int(user.id),
        "id_str": user.id,
        "name": user.name,
        "screen_name": user.screen_name,
        "location": None,
        "url": None,
        "description": None,
        "protected": False,
        "verified": False,
        "followers_count": 12,
        "friends_count": 34,
        "statuses_count": 56,
        "created_at": "Mon Jan 05 10:00:00 +0000 2015",
        "profile_image_url_https": f"https://pbs.twimg.com/profile_images/{user.id}/avatar_normal.jpg",
        "default_profile_image": False,
    }


def tco_link(expanded_url: str) -> str:
    """The ``t.co`` link X would put in a post's text for ``expanded_url`` (deterministic here)."""
    return "https://t.co/" + hashlib.sha256(expanded_url.encode("utf-8")).hexdigest()[:10]


def html_escape(text: str) -> str:
    """Escape text as X does in v1.1 (and v2) post text: ``&``, ``<`` and ``>`` only."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _entities(text: str, links: dict[str, str], mentions: Sequence[XUser]) -> dict[str, Any]:
    """``entities`` of ``text`` (already holding t.co links); ``links`` maps t.co link → expanded URL."""
    urls = []
    for tco, expanded in links.items():
        start = text.find(tco)
        if start < 0:
            continue  # cut off by truncation: X leaves out entities not wholly in ``text``
        display = re.sub(r"^https?://(www\.)?", "", expanded)
        urls.append(
            {
                "url": tco,
                "expanded_url": expanded,
                "display_url": display if len(display) <= 26 else display[:25] + "…",
                "indices": [start, start + len(tco)],
            }
        )
    user_mentions = []
    for user in mentions:
        match = re.search(rf"@{re.escape(user.screen_name)}\b", text, re.IGNORECASE)
        if match is None:
            continue
        user_mentions.append(
            {
                "screen_name": user.screen_name,
                "name": user.name,
                "id": int(user.id),
                "id_str": user.id,
                "indices": [match.start(), match.end()],
            }
        )
    return {"hashtags": [], "urls": urls, "user_mentions": user_mentions, "symbols": []}


def tweet_object(
    *,
    tweet_id: str,
    text: str,
    user: XUser,
    created_at: datetime | None = None,
    in_reply_to: tuple[str, XUser] | None = None,
    mentions: Sequence[XUser] = (),
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A v1.1 Tweet object for a post ``user`` wrote with ``text`` (as typed, real links and all).

    ``in_reply_to`` is (the post's id, its author); ``mentions`` are the accounts whose ``@handle``
    in ``text`` gets an ``entities.user_mentions`` entry (the replied-to author is added when their
    handle is in the text). Links become ``t.co`` links with their ``entities.urls``; ``&<>`` become
    entities. A text over :data:`COMPAT_TEXT_LIMIT` characters arrives as X's compatibility form.
    ``extra`` is merged over the result (to break a field on purpose).
    """
    links: dict[str, str] = {}

    def shorten(match: re.Match[str]) -> str:
        tco = tco_link(match.group())
        links[tco] = match.group()
        return tco

    # Links first (their expanded_url is the link as typed), then the escapes (t.co links have none).
    written = html_escape(_URL.sub(shorten, text))
    mentioned = list(mentions)
    if in_reply_to is not None and in_reply_to[1] not in mentioned:
        mentioned.insert(0, in_reply_to[1])
    entities = _entities(written, links, mentioned)
    created = created_at or datetime.now(UTC)
    tweet: dict[str, Any] = {
        "created_at": format_created_at(created),
        "id": int(tweet_id),
        "id_str": tweet_id,
        "text": written,
        "source": '<a href="https://mobile.twitter.com" rel="nofollow">Twitter Web App</a>',
        "truncated": False,
        "in_reply_to_status_id": int(in_reply_to[0]) if in_reply_to else None,
        "in_reply_to_status_id_str": in_reply_to[0] if in_reply_to else None,
        "in_reply_to_user_id": int(in_reply_to[1].id) if in_reply_to else None,
        "in_reply_to_user_id_str": in_reply_to[1].id if in_reply_to else None,
        "in_reply_to_screen_name": in_reply_to[1].screen_name if in_reply_to else None,
        "user": user_object(user),
        "geo": None,
        "coordinates": None,
        "place": None,
        "contributors": None,
        "is_quote_status": False,
        "quote_count": 0,
        "reply_count": 0,
        "retweet_count": 0,
        "favorite_count": 0,
        "entities": entities,
        "favorited": False,
        "retweeted": False,
        "filter_level": "low",
        "lang": "und",
        "timestamp_ms": str(int(created.timestamp() * 1000)),
    }
    if len(written) > COMPAT_TEXT_LIMIT:
        # Compatibility mode: the text is cut, ends with a link to the post itself, and only the
        # entities wholly within the cut text are listed; the whole post is in extended_tweet.
        self_link = f"https://twitter.com/i/web/status/{tweet_id}"
        self_tco = tco_link(self_link)
        cut = written[: COMPAT_TEXT_LIMIT - len(self_tco) - 2].rstrip() + "… " + self_tco
        tweet["text"] = cut
        tweet["truncated"] = True
        tweet["entities"] = _entities(cut, {**links, self_tco: self_link}, mentioned)
        tweet["extended_tweet"] = {
            "full_text": written,
            "display_text_range": [0, len(written)],
            "entities": entities,
        }
    tweet.update(extra or {})
    return tweet


def retweet_object(
    *, tweet_id: str, user: XUser, retweeted: dict[str, Any], created_at: datetime | None = None
) -> dict[str, Any]:
    """``user`` retweeting the post ``retweeted`` (a Tweet object): ``RT @author: …`` with ``retweeted_status``."""
    author = XUser(retweeted["user"]["id_str"], retweeted["user"]["screen_name"], retweeted["user"]["name"])
    body = retweeted.get("extended_tweet", {}).get("full_text", retweeted["text"])
    tweet = tweet_object(tweet_id=tweet_id, text="", user=user, created_at=created_at)
    text = f"RT @{author.screen_name}: {body}"
    tweet["text"] = text if len(text) <= COMPAT_TEXT_LIMIT else text[: COMPAT_TEXT_LIMIT - 1] + "…"
    tweet["entities"] = _entities(tweet["text"], {}, [author])
    tweet["retweeted_status"] = retweeted
    return tweet


def quote_object(
    *,
    tweet_id: str,
    text: str,
    user: XUser,
    quoted: dict[str, Any],
    created_at: datetime | None = None,
    mentions: Sequence[XUser] = (),
) -> dict[str, Any]:
    """``user`` quoting the post ``quoted`` with their own ``text``."""
    tweet = tweet_object(tweet_id=tweet_id, text=text, user=user, created_at=created_at, mentions=mentions)
    tweet["is_quote_status"] = True
    tweet["quoted_status_id"] = quoted["id"]
    tweet["quoted_status_id_str"] = quoted["id_str"]
    tweet["quoted_status"] = quoted
    return tweet


def tweet_create_payload(
    for_user_id: str, *tweets: dict[str, Any], user_has_blocked: bool | None = None
) -> dict[str, Any]:
    """A ``tweet_create_events`` delivery for the subscribed account ``for_user_id``.

    X adds ``user_has_blocked`` (as the string "true"/"false") to deliveries of mentions.
    """
    payload: dict[str, Any] = {"for_user_id": for_user_id}
    if user_has_blocked is not None:
        payload["user_has_blocked"] = "true" if user_has_blocked else "false"
    payload["tweet_create_events"] = list(tweets)
    return payload


def favorite_payload(for_user_id: str, *, user: XUser, tweet: dict[str, Any]) -> dict[str, Any]:
    """A ``favorite_events`` delivery: ``user`` liked ``tweet``."""
    return {
        "for_user_id": for_user_id,
        "favorite_events": [
            {
                "id": hashlib.sha256(f"{user.id}:{tweet['id_str']}".encode()).hexdigest()[:32],
                "created_at": format_created_at(),
                "timestamp_ms": int(datetime.now(UTC).timestamp() * 1000),
                "favorited_status": tweet,
                "user": user_object(user),
            }
        ],
    }


def follow_payload(for_user_id: str, *, source: XUser, target: XUser) -> dict[str, Any]:
    """A ``follow_events`` delivery: ``source`` followed ``target``."""
    return {
        "for_user_id": for_user_id,
        "follow_events": [
            {
                "type": "follow",
                "created_timestamp": str(int(datetime.now(UTC).timestamp() * 1000)),
                "target": user_object(target),
                "source": user_object(source),
            }
        ],
    }


def revoke_payload(user_id: str, app_id: str = "13090192") -> dict[str, Any]:
    """A ``user_event`` revoke: the account removed the app's access; X deleted the subscription.

    This delivery carries no ``for_user_id``; the account is ``source.user_id``.
    """
    return {
        "user_event": {
            "revoke": {
                "date_time": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S+00:00"),
                "target": {"app_id": app_id},
                "source": {"user_id": user_id},
            }
        }
    }


def encode(payload: dict[str, Any]) -> bytes:
    """The body bytes for ``payload`` (compact JSON, UTF-8, non-ASCII kept)."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def signed_activity(consumer_secret: str, payload: dict[str, Any] | bytes) -> tuple[bytes, dict[str, str]]:
    """The raw body and headers of a delivery signed as X signs it (``x-twitter-webhooks-signature``).

    Post the returned bytes as they are: the signature covers exactly these bytes.
    """
    body = payload if isinstance(payload, bytes) else encode(payload)
    return body, {"Content-Type": "application/json; charset=utf-8", SIGNATURE_HEADER: sign(consumer_secret, body)}
