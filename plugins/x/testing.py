"""An X-API-v2-compatible fake over real HTTP, for the X plugin's tests and for plugin authors.

:class:`FakeX` is a Starlette app served on 127.0.0.1 by
:class:`chatops.testing.server.ThreadedServer`. Route a tweepy ``Client`` to ``fake.base_url`` (the
plugin's :func:`~.client.tweepy_client` does it with ``api_url``) and tweepy goes through its real
HTTP code: bearer-token reads, OAuth 1.0a-signed writes, X's JSON shapes and its rate-limit headers.

The fake holds one company account. The customer side writes mentions (:meth:`FakeX.mention`) and
the company can post directly on X (:meth:`FakeX.own_post`); the API serves

- ``GET /2/users/{id}/mentions`` and ``GET /2/users/{id}/tweets`` (bearer token): newest first,
  ``since_id``/``until_id``/``start_time``/``end_time``, ``max_results`` 5-100, ``pagination_token``
  and ``meta.next_token``, ``tweet.fields``/``expansions``/``user.fields`` with ``includes.users``;
  only the newest 800 mentions (3200 own posts) are reachable, as on X;
- ``POST /2/tweets`` (OAuth 1.0a user context, HMAC-SHA1 signature verified): ``{"text",
  "reply": {"in_reply_to_tweet_id"}}``, refusing duplicate content, text over 280 weighted
  characters and replies to posts that do not exist.

Every answer carries ``x-rate-limit-limit/remaining/reset`` for its endpoint ("mentions",
"user_tweets", "post"); a test sets the window (:meth:`FakeX.set_rate_limit`) or blocks an endpoint
(:meth:`FakeX.block`), revokes tokens, suspends the account, scripts failures
(:meth:`FakeX.fail_next`), mangles an answer (:meth:`FakeX.mangle_next`) or loses one
(:meth:`FakeX.drop_next_post_answer`). ``fake.clock`` (epoch seconds) drives rate-limit windows, so
a test can move time without sleeping.

Facts the fake could not verify against X's documentation are marked "(unverified)" and are
attributes, so a test can switch them to whatever the real API turns out to do.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import itertools
import json
import re
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, quote, unquote

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route
from starlette.types import Message, Receive, Scope, Send

from chatops.testing.server import LoopbackFake, ThreadedServer

from .length import weighted_length

__all__ = ["ENDPOINTS", "FakeX", "XCall", "format_x_time", "oauth1_header_params", "problem"]

#: The rate-limited endpoints, by the name tests use.
ENDPOINTS = ("mentions", "user_tweets", "post")

#: The ``tweet.fields`` X v2 knows (values outside this set are a 400, as on X).
TWEET_FIELDS = frozenset(
    {
        "article",
        "attachments",
        "author_id",
        "card_uri",
        "community_id",
        "context_annotations",
        "conversation_id",
        "created_at",
        "display_text_range",
        "edit_controls",
        "edit_history_tweet_ids",
        "entities",
        "geo",
        "id",
        "in_reply_to_user_id",
        "lang",
        "media_metadata",
        "non_public_metrics",
        "note_tweet",
        "organic_metrics",
        "possibly_sensitive",
        "promoted_metrics",
        "public_metrics",
        "referenced_tweets",
        "reply_settings",
        "scopes",
        "source",
        "text",
        "withheld",
    }
)
#: The ``user.fields`` X v2 knows.
USER_FIELDS = frozenset(
    {
        "affiliation",
        "connection_status",
        "created_at",
        "description",
        "entities",
        "id",
        "location",
        "most_recent_tweet_id",
        "name",
        "pinned_tweet_id",
        "profile_banner_url",
        "profile_image_url",
        "protected",
        "public_metrics",
        "receives_your_dm",
        "subscription_type",
        "url",
        "username",
        "verified",
        "verified_type",
        "withheld",
    }
)
#: The ``expansions`` the fake resolves; other valid X expansions are accepted and add nothing.
EXPANSIONS = frozenset(
    {
        "attachments.media_keys",
        "attachments.media_source_tweet",
        "attachments.poll_ids",
        "author_id",
        "edit_history_tweet_ids",
        "entities.mentions.username",
        "geo.place_id",
        "in_reply_to_user_id",
        "entities.note.mentions.username",
        "referenced_tweets.id",
        "referenced_tweets.id.attachments.media_keys",
        "referenced_tweets.id.author_id",
    }
)

_URL_RE = re.compile(r"https?://[^\s]+")
_MENTION_RE = re.compile(r"(?<![A-Za-z0-9_])@([A-Za-z0-9_]{1,15})")
_ID_RE = re.compile(r"[0-9]{1,19}")
#: The first id the fake hands out: a 2024-era snowflake, so ids look and sort like X's.
_FIRST_ID = 1_860_000_000_000_000_000
#: Mentions reachable through the timeline (X: "up to the most recent 800").
MENTIONS_REACHABLE = 800
#: Own posts reachable through the user's posts timeline (X: the most recent 3200).
USER_TWEETS_REACHABLE = 3200


def format_x_time(moment: datetime) -> str:
    """X's timestamp format: ``2024-01-15T10:30:00.000Z``."""
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"


def _parse_x_time(value: str) -> datetime:
    """Parse an RFC 3339 ``start_time``/``end_time`` (``Z`` or an offset); ValueError if it is not one."""
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        raise ValueError(value)
    return moment.astimezone(UTC)


def problem(status: int, title: str, detail: str, type_: str = "about:blank", **more: Any) -> dict[str, Any]:
    """An X v2 error body (RFC 7807 "problem"): ``{"title", "detail", "type", "status"}`` plus extras."""
    return {"title": title, "detail": detail, "type": type_, "status": status, **more}


def _invalid_request(parameter: str, value: str, message: str) -> dict[str, Any]:
    """X's 400 for a bad query or body parameter."""
    return {
        "errors": [{"parameters": {parameter: [value]}, "message": message}],
        "title": "Invalid Request",
        "detail": "One or more parameters to your request was invalid.",
        "type": "https://api.twitter.com/2/problems/invalid-request",
    }


def _pct(value: str) -> str:
    """RFC 3986 percent-encoding as OAuth 1.0a signs it."""
    return quote(value, safe="~-._")


def oauth1_header_params(header: str) -> dict[str, str]:
    """The parameters of an ``Authorization: OAuth k="v", ...`` header, decoded; {} if it is not one."""
    if not header.startswith("OAuth "):
        return {}
    params: dict[str, str] = {}
    for part in header[len("OAuth ") :].split(","):
        key, sep, value = part.strip().partition("=")
        if not sep:
            continue
        params[unquote(key)] = unquote(value.strip().strip('"'))
    return params


def oauth1_signature(
    method: str, url: str, params: Iterable[tuple[str, str]], consumer_secret: str, token_secret: str
) -> str:
    """HMAC-SHA1 signature of a request (RFC 5849 section 3.4), base64: what the client must have sent."""
    normalized = "&".join(f"{k}={v}" for k, v in sorted((_pct(k), _pct(v)) for k, v in params))
    base = "&".join((method.upper(), _pct(url), _pct(normalized)))
    key = f"{_pct(consumer_secret)}&{_pct(token_secret)}"
    return base64.b64encode(hmac.new(key.encode(), base.encode(), hashlib.sha1).digest()).decode()


@dataclass
class XCall:
    """One request the fake received, and what it answered."""

    method: str
    path: str
    params: dict[str, str]
    #: The JSON body of a POST (None otherwise or when it was not JSON).
    body: Any
    #: "bearer", "oauth1" or None: which credentials the request carried (valid or not).
    auth: str | None
    status: int
    at: float


@dataclass
class _Tweet:
    """One post on the fake."""

    id: str
    text: str
    author_id: str
    created_at: datetime
    conversation_id: str
    in_reply_to: str | None = None
    in_reply_to_user_id: str | None = None
    #: ``entities.urls`` items: t.co links in ``text`` and what they expand to.
    urls: list[dict[str, Any]] = field(default_factory=list)
    mentions: list[dict[str, Any]] = field(default_factory=list)
    mentions_account: bool = False
    #: Made through ``POST /2/tweets`` (shows in :attr:`FakeX.posts`).
    via_api: bool = False


@dataclass
class _Window:
    """One endpoint's rate-limit window."""

    limit: int
    window_seconds: float
    remaining: int
    reset: float
    blocked_until: float = 0.0


@dataclass
class _Scripted:
    """A scripted answer (or a change to the real one) for the next requests to an endpoint."""

    status: int | None
    body: Any
    headers: dict[str, str] | None
    times: int
    mangle: Callable[[dict[str, Any]], Any] | None = None


class _Answer(Exception):
    """Internal: stop handling and answer ``(status, body)``."""

    def __init__(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        super().__init__(status)
        self.status, self.body, self.headers = status, body, headers or {}


_DEFAULT_LIMITS: dict[str, tuple[int, float]] = {
    # Generous, so tests that do not care never meet them; a test sets what it needs.
    "mentions": (450, 900.0),
    "user_tweets": (900, 900.0),
    "post": (300, 900.0),
}


class FakeX(LoopbackFake):
    """X API v2 for one company account, served over loopback HTTP."""

    #: The host tweepy signs OAuth 1.0a requests for; the fake verifies signatures against it.
    SIGNED_BASE_URLS = ("https://api.twitter.com", "https://api.x.com")

    def __init__(
        self,
        *,
        bearer_token: str = "x-bearer-token",  # noqa: S107 - the fake's own test credentials
        consumer_key: str = "x-consumer-key",
        consumer_secret: str = "x-consumer-secret",  # noqa: S107
        access_token: str = "x-access-token",  # noqa: S107
        access_token_secret: str = "x-access-token-secret",  # noqa: S107
        account_id: str = "1500000000000000001",
        username: str = "kahvila_aurinko",
        name: str = "Kahvila Aurinko",
        clock: Callable[[], float] = time.time,
        first_id: int = _FIRST_ID,
    ) -> None:
        """Create an empty fake for the account ``account_id`` (@``username``) and its credentials.

        Post ids count up from ``first_id``; a fake that must not repeat an earlier run's ids (a
        database kept between runs) starts from a snowflake of the current time.
        """
        self.bearer_token = bearer_token
        self.consumer_key = consumer_key
        self.consumer_secret = consumer_secret
        self.access_token = access_token
        self.access_token_secret = access_token_secret
        self.account_id = account_id
        self.username = username
        self.name = name
        self._default_clock = clock
        self.first_id = first_id
        self._lock = threading.RLock()
        self._server: ThreadedServer | None = None
        self.reset()
        self._app = Starlette(
            routes=[
                Route("/2/users/{user_id}/mentions", self._mentions, methods=["GET"]),
                Route("/2/users/{user_id}/tweets", self._user_tweets, methods=["GET"]),
                Route("/2/tweets", self._create_tweet, methods=["POST"]),
                Route("/{path:path}", self._unknown, methods=["GET", "POST", "PUT", "DELETE"]),
            ]
        )

    def reset(self) -> None:
        """Forget every post, user, call and scripted failure; restore tokens, limits and the clock.

        Lets one running server serve many tests (starting a server costs ~0.2 s).
        """
        with self._lock:
            self.clock: Callable[[], float] = self._default_clock
            self._bearer_valid = True
            self._user_token_valid = True
            self._suspended = False
            #: Largest post, in X's weighted characters.
            self.max_post_length = 280
            #: Answer to a post over :attr:`max_post_length`. (unverified: X v2's exact text; v1.1 said
            #: "Tweet needs to be a bit shorter." with code 186.)
            self.too_long_error: tuple[int, dict[str, Any]] = (
                403,
                problem(
                    403,
                    "Forbidden",
                    "Your Tweet text is too long. For more information on how X determines text length "
                    "see https://github.com/twitter/twitter-text.",
                ),
            )
            #: Answer to a reply under a post that does not exist. (unverified: v1.1's code 385 text in
            #: v2's problem shape.)
            self.reply_missing_error: tuple[int, dict[str, Any]] = (
                403,
                problem(403, "Forbidden", "You attempted to reply to a Tweet that is deleted or not visible to you."),
            )
            #: Answer when the account is suspended (seen from X: type ``.../problems/user-suspended``).
            self.suspended_error: tuple[int, dict[str, Any]] = (
                403,
                problem(
                    403,
                    "Forbidden",
                    "The user used for authentication is suspended",
                    "https://api.twitter.com/2/problems/user-suspended",
                ),
            )
            self._users: dict[str, dict[str, Any]] = {}
            self._tweets: dict[str, _Tweet] = {}
            self._calls: list[XCall] = []
            self._scripted: dict[str, list[_Scripted]] = {name: [] for name in ENDPOINTS}
            self._drop_posts = 0
            self._nonces: set[str] = set()
            self._ids = itertools.count(0)
            self._tco = itertools.count(1)
            self._windows: dict[str, _Window] = {}
            for endpoint, (limit, seconds) in _DEFAULT_LIMITS.items():
                self.set_rate_limit(endpoint, limit=limit, window_seconds=seconds)
            self._add_user(self.account_id, self.username, self.name)

    # ------------------------------------------------------------------------------------- lifecycle

    def served_app(self) -> _LosableAnswers:
        """X's routes, behind the wrapper that can drop an answer after the post is stored."""
        return _LosableAnswers(self._app)

    # ------------------------------------------------------------------------------ the customer side

    def _add_user(self, user_id: str, username: str, name: str) -> None:
        self._users[user_id] = {
            "id": user_id,
            "username": username,
            "name": name,
            "created_at": "2015-06-01T12:00:00.000Z",
            "description": "",
            "protected": False,
            "verified": False,
            "profile_image_url": f"https://pbs.twimg.com/profile_images/{user_id}/photo_normal.jpg",
        }

    def _next_id(self) -> str:
        """A fresh, increasing, snowflake-looking id (every post gets a larger one than the last)."""
        return str(self.first_id + 1_000_003 * (next(self._ids) + 1))

    def _store(
        self,
        text: str,
        *,
        author_id: str,
        in_reply_to: str | None,
        conversation_id: str | None,
        created_at: datetime | None,
        via_api: bool = False,
    ) -> _Tweet:
        """Store a post: t.co links for its URLs, its mentions, its conversation. Lock held."""
        tweet_id = self._next_id()
        parent = self._tweets.get(in_reply_to) if in_reply_to else None
        if conversation_id is None:
            conversation_id = parent.conversation_id if parent else tweet_id
        created = created_at or datetime.fromtimestamp(self.clock(), UTC)
        if created.tzinfo is None:
            created = created.replace(tzinfo=UTC)
        shown, urls = self._shorten(text)
        mentions = []
        for match in _MENTION_RE.finditer(shown):
            handle = match.group(1)
            user = next((u for u in self._users.values() if u["username"].lower() == handle.lower()), None)
            item = {"start": match.start(), "end": match.end(), "username": handle}
            if user:
                item["id"] = user["id"]
            mentions.append(item)
        tweet = _Tweet(
            id=tweet_id,
            text=shown,
            author_id=author_id,
            created_at=created,
            conversation_id=conversation_id,
            in_reply_to=in_reply_to,
            in_reply_to_user_id=parent.author_id if parent else None,
            urls=urls,
            mentions=mentions,
            mentions_account=author_id != self.account_id
            and (
                any(m.get("id") == self.account_id for m in mentions)
                or (parent is not None and parent.author_id == self.account_id)
            ),
            via_api=via_api,
        )
        self._tweets[tweet_id] = tweet
        return tweet

    def _shorten(self, text: str) -> tuple[str, list[dict[str, Any]]]:
        """Replace each URL with a t.co link, as X does; return the text and its ``entities.urls``."""
        out: list[str] = []
        urls: list[dict[str, Any]] = []
        last = 0
        for match in _URL_RE.finditer(text):
            out.append(text[last : match.start()])
            start = sum(len(part) for part in out)
            short = f"https://t.co/{next(self._tco):010d}"
            expanded = match.group(0)
            display = expanded.split("://", 1)[1]
            urls.append(
                {
                    "start": start,
                    "end": start + len(short),
                    "url": short,
                    "expanded_url": expanded,
                    "display_url": display if len(display) <= 26 else display[:25] + "…",
                }
            )
            out.append(short)
            last = match.end()
        out.append(text[last:])
        return "".join(out), urls

    def mention(
        self,
        text: str,
        *,
        author: tuple[str, str, str] = ("2244994945", "aino_asiakas", "Aino Asiakas"),
        in_reply_to: str | None = None,
        conversation_id: str | None = None,
        created_at: datetime | None = None,
    ) -> str:
        """A customer's post that mentions the account; return its id.

        ``author`` is ``(id, username, name)``. A post mentions the account by its handle, so
        ``@<username> `` is put in front of ``text`` when the text does not name the account already
        (a reply under the account's own post mentions it anyway, as on X). URLs become t.co links
        with ``entities.urls``. ``in_reply_to`` must be a post on the fake; the conversation is its
        parent's unless ``conversation_id`` says otherwise (a conversation the fake never saw).
        """
        with self._lock:
            if in_reply_to is not None and in_reply_to not in self._tweets:
                raise KeyError(f"unknown post {in_reply_to}")
            author_id, username, name = author
            if author_id == self.account_id:
                raise ValueError("that is the account itself: use own_post()")
            if author_id not in self._users or self._users[author_id]["username"] != username:
                self._add_user(author_id, username, name)
            replying_to_us = in_reply_to is not None and self._tweets[in_reply_to].author_id == self.account_id
            if not replying_to_us and not re.search(rf"@{re.escape(self.username)}\b", text, re.IGNORECASE):
                text = f"@{self.username} {text}"
            return self._store(
                text,
                author_id=author_id,
                in_reply_to=in_reply_to,
                conversation_id=conversation_id,
                created_at=created_at,
            ).id

    def post_by(
        self,
        text: str,
        *,
        author: tuple[str, str, str],
        in_reply_to: str | None = None,
        created_at: datetime | None = None,
    ) -> str:
        """A post that does not mention the account (it never shows in the mentions); return its id."""
        with self._lock:
            author_id, username, name = author
            if author_id not in self._users:
                self._add_user(author_id, username, name)
            return self._store(
                text, author_id=author_id, in_reply_to=in_reply_to, conversation_id=None, created_at=created_at
            ).id

    def own_post(self, text: str, *, in_reply_to: str | None = None, created_at: datetime | None = None) -> str:
        """A post the company made directly on X (not through the API); return its id."""
        with self._lock:
            if in_reply_to is not None and in_reply_to not in self._tweets:
                raise KeyError(f"unknown post {in_reply_to}")
            return self._store(
                text, author_id=self.account_id, in_reply_to=in_reply_to, conversation_id=None, created_at=created_at
            ).id

    def delete(self, tweet_id: str) -> None:
        """Delete a post (it leaves the timelines; replying to it is refused)."""
        with self._lock:
            del self._tweets[tweet_id]

    # ------------------------------------------------------------------------------------ inspection

    @property
    def calls(self) -> list[XCall]:
        """A snapshot of every request received so far, in order."""
        with self._lock:
            return list(self._calls)

    def calls_to(self, endpoint: str) -> list[XCall]:
        """The recorded calls to ``endpoint`` ("mentions", "user_tweets" or "post")."""
        return [c for c in self.calls if _endpoint_of(c.method, c.path) == endpoint]

    @property
    def posts(self) -> list[dict[str, Any]]:
        """What the account posted through ``POST /2/tweets``, oldest first.

        Each is ``{"id", "text", "in_reply_to", "conversation_id", "created_at"}``.
        """
        with self._lock:
            return [self._plain(t) for t in sorted(self._tweets.values(), key=_id_key) if t.via_api]

    def replies_to(self, tweet_id: str) -> list[dict[str, Any]]:
        """The posts replying to ``tweet_id``, oldest first: what the customer sees under their post.

        Each is ``{"id", "text", "author_id", "username", "in_reply_to", "conversation_id", "created_at"}``.
        """
        with self._lock:
            found = [t for t in self._tweets.values() if t.in_reply_to == tweet_id]
            return [self._plain(t) for t in sorted(found, key=_id_key)]

    def tweet(self, tweet_id: str) -> dict[str, Any]:
        """One stored post as the API shows it with every field; KeyError when it does not exist."""
        with self._lock:
            return self._render(self._tweets[tweet_id], set(TWEET_FIELDS))

    def _plain(self, tweet: _Tweet) -> dict[str, Any]:
        return {
            "id": tweet.id,
            "text": tweet.text,
            "author_id": tweet.author_id,
            "username": self._users[tweet.author_id]["username"],
            "in_reply_to": tweet.in_reply_to,
            "conversation_id": tweet.conversation_id,
            "created_at": tweet.created_at,
        }

    # --------------------------------------------------------------------------- scripted behaviour

    def set_rate_limit(self, endpoint: str, *, limit: int, window_seconds: float) -> None:
        """Give ``endpoint`` a fresh window of ``limit`` requests per ``window_seconds``, starting now."""
        _check_endpoint(endpoint)
        with self._lock:
            now = self.clock()
            self._windows[endpoint] = _Window(limit, window_seconds, limit, now + window_seconds)

    def block(self, endpoint: str, *, until: float) -> None:
        """Answer 429 on ``endpoint`` until the epoch second ``until`` (headers: remaining 0, reset ``until``)."""
        _check_endpoint(endpoint)
        with self._lock:
            self._windows[endpoint].blocked_until = until

    def rate_limit(self, endpoint: str) -> dict[str, float]:
        """The window of ``endpoint`` now: ``{"limit", "remaining", "reset"}``."""
        with self._lock:
            window = self._roll(endpoint)
            return {"limit": window.limit, "remaining": window.remaining, "reset": window.reset}

    def revoke_bearer(self) -> None:
        """The app's bearer token stops working (regenerated in the portal): reads answer 401."""
        with self._lock:
            self._bearer_valid = False

    def revoke_user_token(self) -> None:
        """The account's access token stops working (revoked by the user): posts answer 401."""
        with self._lock:
            self._user_token_valid = False

    def restore_tokens(self) -> None:
        """Both tokens work again (an admin fixed them)."""
        with self._lock:
            self._bearer_valid = self._user_token_valid = True

    def suspend(self) -> None:
        """The account is suspended: every request answers 403 (``.../problems/user-suspended``)."""
        with self._lock:
            self._suspended = True

    def fail_next(
        self,
        endpoint: str,
        status: int,
        body: dict[str, Any] | str | bytes,
        headers: dict[str, str] | None = None,
        *,
        times: int = 1,
    ) -> None:
        """Answer the next ``times`` requests to ``endpoint`` with ``status`` and ``body``, doing nothing.

        ``body`` may be text or bytes (an HTML error page from a proxy). The rate-limit headers are
        added unless ``headers`` names them. Checked after the credentials.
        """
        _check_endpoint(endpoint)
        with self._lock:
            self._scripted[endpoint].append(_Scripted(status, body, headers, times))

    def fail_next_post(
        self, status: int, body_json: dict[str, Any] | str | bytes, headers: dict[str, str] | None = None
    ) -> None:
        """Answer the next ``POST /2/tweets`` with ``status`` and ``body_json``; nothing is posted."""
        self.fail_next("post", status, body_json, headers)

    def mangle_next(self, endpoint: str, change: Callable[[dict[str, Any]], Any], *, times: int = 1) -> None:
        """Pass the next ``times`` successful answers of ``endpoint`` through ``change`` before sending.

        ``change`` gets the JSON body and returns the body to send (anything JSON can encode), for
        tests of answers with missing or wrong fields.
        """
        _check_endpoint(endpoint)
        with self._lock:
            self._scripted[endpoint].append(_Scripted(None, None, None, times, mangle=change))

    def drop_next_post_answer(self) -> None:
        """The next ``POST /2/tweets`` is posted, but the connection closes without an answer (lost answer)."""
        with self._lock:
            self._drop_posts += 1

    # ------------------------------------------------------------------------------------- handlers

    def _roll(self, endpoint: str) -> _Window:
        """The endpoint's window, renewed when its reset has passed. Lock held."""
        window = self._windows[endpoint]
        now = self.clock()
        if now >= window.reset:
            window.remaining = window.limit
            window.reset = now + window.window_seconds
        return window

    def _limit_headers(self, endpoint: str) -> dict[str, str]:
        window = self._roll(endpoint)
        now = self.clock()
        if window.blocked_until > now:
            return {
                "x-rate-limit-limit": str(window.limit),
                "x-rate-limit-remaining": "0",
                "x-rate-limit-reset": str(int(window.blocked_until)),
            }
        return {
            "x-rate-limit-limit": str(window.limit),
            "x-rate-limit-remaining": str(window.remaining),
            "x-rate-limit-reset": str(int(window.reset)),
        }

    def _spend(self, endpoint: str) -> None:
        """Count one request against the window; 429 when none is left or the endpoint is blocked."""
        window = self._roll(endpoint)
        if window.blocked_until > self.clock() or window.remaining <= 0:
            raise _Answer(429, problem(429, "Too Many Requests", "Too Many Requests"))
        window.remaining -= 1

    def _check_bearer(self, request: Request) -> None:
        header = request.headers.get("authorization", "")
        if not header.startswith("Bearer ") or not self._bearer_valid or header[7:] != self.bearer_token:
            raise _Answer(401, problem(401, "Unauthorized", "Unauthorized"))

    def _check_oauth1(self, request: Request, url_path: str) -> None:
        """Verify an OAuth 1.0a HMAC-SHA1 header for the consumer key and access token; 401 if wrong."""
        params = oauth1_header_params(request.headers.get("authorization", ""))
        unauthorized = _Answer(401, problem(401, "Unauthorized", "Unauthorized"))
        if (
            params.get("oauth_consumer_key") != self.consumer_key
            or params.get("oauth_token") != self.access_token
            or params.get("oauth_signature_method") != "HMAC-SHA1"
            or not self._user_token_valid
        ):
            raise unauthorized
        nonce = params.get("oauth_nonce", "")
        if not nonce or nonce in self._nonces:
            raise unauthorized
        signed = [(k, v) for k, v in params.items() if k.startswith("oauth_") and k != "oauth_signature"]
        signed += list(parse_qsl(request.url.query, keep_blank_values=True))
        candidates = [*self.SIGNED_BASE_URLS, self.base_url]
        if not any(
            hmac.compare_digest(
                oauth1_signature(
                    request.method, base + url_path, signed, self.consumer_secret, self.access_token_secret
                ),
                params.get("oauth_signature", ""),
            )
            for base in candidates
        ):
            raise unauthorized
        self._nonces.add(nonce)

    def _scripted_for(self, endpoint: str) -> _Scripted | None:
        """Take the next scripted behaviour of ``endpoint``. Lock held."""
        queue = self._scripted[endpoint]
        if not queue:
            return None
        item = queue[0]
        item.times -= 1
        if item.times <= 0:
            queue.pop(0)
        return item

    async def _handle(
        self, request: Request, endpoint: str, work: Callable[[Request, Any], tuple[int, Any]]
    ) -> Response:
        """Common frame: credentials, suspension, scripted answers, rate limit, headers, the call log."""
        body: Any = None
        raw = await request.body() if request.method == "POST" else b""
        if raw:
            try:
                body = json.loads(raw)
            except ValueError:
                body = None
        auth = request.headers.get("authorization", "")
        kind = "bearer" if auth.startswith("Bearer ") else "oauth1" if auth.startswith("OAuth ") else None
        with self._lock:
            headers: dict[str, str] = {}
            try:
                if endpoint == "post":
                    self._check_oauth1(request, request.url.path)
                else:
                    self._check_bearer(request)
                if self._suspended:
                    raise _Answer(*self.suspended_error)
                scripted = self._scripted_for(endpoint)
                if scripted is not None and scripted.status is not None:
                    headers = {**self._limit_headers(endpoint), **(scripted.headers or {})}
                    raise _Answer(scripted.status, scripted.body, headers)
                self._spend(endpoint)
                status, answer = work(request, body)
                if scripted is not None and scripted.mangle is not None:
                    answer = scripted.mangle(answer)
            except _Answer as stop:
                status, answer, headers = stop.status, stop.body, stop.headers
            headers = headers or self._limit_headers(endpoint)
            self._calls.append(
                XCall(
                    request.method,
                    request.url.path,
                    dict(request.query_params),
                    body,
                    kind,
                    status,
                    self.clock(),
                )
            )
            drop = endpoint == "post" and status == 201 and self._drop_posts > 0
            if drop:
                self._drop_posts -= 1
        if drop:
            request.scope["state"]["fakex_drop"] = True
        if isinstance(answer, bytes | str):
            return Response(answer, status_code=status, headers=headers, media_type="text/html")
        return JSONResponse(answer, status_code=status, headers=headers)

    async def _unknown(self, request: Request) -> Response:
        with self._lock:
            self._calls.append(
                XCall(request.method, request.url.path, dict(request.query_params), None, None, 404, self.clock())
            )
        return JSONResponse({"errors": [{"message": "Sorry, that page does not exist", "code": 34}]}, status_code=404)

    async def _mentions(self, request: Request) -> Response:
        return await self._handle(request, "mentions", self._serve_mentions)

    async def _user_tweets(self, request: Request) -> Response:
        return await self._handle(request, "user_tweets", self._serve_user_tweets)

    async def _create_tweet(self, request: Request) -> Response:
        return await self._handle(request, "post", self._serve_post)

    def _serve_mentions(self, request: Request, _body: Any) -> tuple[int, Any]:
        user_id = request.path_params["user_id"]
        if user_id != self.account_id:
            return self._no_user(user_id)
        timeline = [t for t in self._tweets.values() if t.mentions_account]
        return self._timeline(request, timeline, MENTIONS_REACHABLE)

    def _serve_user_tweets(self, request: Request, _body: Any) -> tuple[int, Any]:
        user_id = request.path_params["user_id"]
        if user_id not in self._users:
            return self._no_user(user_id)
        timeline = [t for t in self._tweets.values() if t.author_id == user_id]
        return self._timeline(request, timeline, USER_TWEETS_REACHABLE)

    @staticmethod
    def _no_user(user_id: str) -> tuple[int, Any]:
        """X's answer for a user id that does not exist: 200 with ``errors`` and no ``data``."""
        if not _ID_RE.fullmatch(user_id):
            raise _Answer(
                400, _invalid_request("id", user_id, f"The `id` query parameter value [{user_id}] is not valid")
            )
        return 200, {
            "errors": [
                {
                    "value": user_id,
                    "detail": f"Could not find user with id: [{user_id}].",
                    "title": "Not Found Error",
                    "resource_type": "user",
                    "parameter": "id",
                    "resource_id": user_id,
                    "type": "https://api.twitter.com/2/problems/resource-not-found",
                }
            ]
        }

    def _timeline(self, request: Request, timeline: list[_Tweet], reachable: int) -> tuple[int, Any]:
        """One page of a timeline, newest first, with X's query rules."""
        query = request.query_params
        known = {
            "since_id",
            "until_id",
            "start_time",
            "end_time",
            "max_results",
            "pagination_token",
            "tweet.fields",
            "user.fields",
            "expansions",
            "media.fields",
            "place.fields",
            "poll.fields",
            "exclude",
        }
        for name in query:
            if name not in known:
                raise _Answer(
                    400,
                    _invalid_request(name, query[name], f"The query parameter [{name}] is not one of {sorted(known)}"),
                )
        max_results = 10
        if "max_results" in query:
            raw = query["max_results"]
            if not raw.isdigit() or not 5 <= int(raw) <= 100:
                raise _Answer(
                    400,
                    _invalid_request(
                        "max_results", raw, f"The `max_results` query parameter value [{raw}] is not between 5 and 100"
                    ),
                )
            max_results = int(raw)
        for name in ("since_id", "until_id"):
            if name in query and not _ID_RE.fullmatch(query[name]):
                raise _Answer(
                    400, _invalid_request(name, query[name], f"The `{name}` query parameter value is not valid")
                )
        times: dict[str, datetime] = {}
        for name in ("start_time", "end_time"):
            if name in query:
                try:
                    times[name] = _parse_x_time(query[name])
                except ValueError:
                    raise _Answer(
                        400,
                        _invalid_request(
                            name, query[name], f"Invalid '{name}':'{query[name]}'. '{name}' must be a RFC3339 date."
                        ),
                    ) from None
        tweet_fields = _field_set(query.get("tweet.fields"), TWEET_FIELDS, "tweet.fields")
        user_fields = _field_set(query.get("user.fields"), USER_FIELDS, "user.fields")
        expansions = _field_set(query.get("expansions"), EXPANSIONS, "expansions")
        excluded = _field_set(query.get("exclude"), frozenset({"replies", "retweets"}), "exclude")

        ordered = sorted(timeline, key=_id_key, reverse=True)[:reachable]
        matching = [
            t
            for t in ordered
            if ("since_id" not in query or int(t.id) > int(query["since_id"]))
            and ("until_id" not in query or int(t.id) < int(query["until_id"]))
            and ("start_time" not in times or t.created_at >= times["start_time"])
            and ("end_time" not in times or t.created_at <= times["end_time"])
            and not ("replies" in excluded and t.in_reply_to is not None)
        ]
        if "pagination_token" in query:
            older_than = _decode_token(query["pagination_token"])
            if older_than is None:
                raise _Answer(
                    400,
                    _invalid_request(
                        "pagination_token", query["pagination_token"], "The `pagination_token` is not valid"
                    ),
                )
            matching = [t for t in matching if int(t.id) < older_than]
        page, rest = matching[:max_results], matching[max_results:]
        meta: dict[str, Any] = {"result_count": len(page)}
        if not page:
            return 200, {"meta": meta}
        meta = {"newest_id": page[0].id, "oldest_id": page[-1].id, "result_count": len(page)}
        if rest:
            meta["next_token"] = _encode_token(int(page[-1].id))
        answer: dict[str, Any] = {"data": [self._render(t, tweet_fields) for t in page]}
        includes = self._includes(page, expansions, user_fields, tweet_fields)
        if includes:
            answer["includes"] = includes
        answer["meta"] = meta
        return 200, answer

    def _render(self, tweet: _Tweet, fields: set[str]) -> dict[str, Any]:
        """A post as X v2 shows it: ``id``, ``text``, ``edit_history_tweet_ids`` and the fields asked for."""
        # X escapes &, < and > in post text.
        text = tweet.text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
        out: dict[str, Any] = {"edit_history_tweet_ids": [tweet.id], "id": tweet.id, "text": text}
        if "author_id" in fields:
            out["author_id"] = tweet.author_id
        if "created_at" in fields:
            out["created_at"] = format_x_time(tweet.created_at)
        if "conversation_id" in fields:
            out["conversation_id"] = tweet.conversation_id
        if "in_reply_to_user_id" in fields and tweet.in_reply_to_user_id:
            out["in_reply_to_user_id"] = tweet.in_reply_to_user_id
        if "referenced_tweets" in fields and tweet.in_reply_to:
            out["referenced_tweets"] = [{"type": "replied_to", "id": tweet.in_reply_to}]
        if "entities" in fields and (tweet.urls or tweet.mentions):
            entities: dict[str, Any] = {}
            if tweet.urls:
                entities["urls"] = [dict(u) for u in tweet.urls]
            if tweet.mentions:
                entities["mentions"] = [dict(m) for m in tweet.mentions]
            out["entities"] = entities
        if "lang" in fields:
            out["lang"] = "und"
        if "public_metrics" in fields:
            out["public_metrics"] = {"retweet_count": 0, "reply_count": 0, "like_count": 0, "quote_count": 0}
        if "reply_settings" in fields:
            out["reply_settings"] = "everyone"
        return out

    def _user(self, user_id: str, fields: set[str]) -> dict[str, Any]:
        user = self._users[user_id]
        return {k: v for k, v in user.items() if k in ("id", "name", "username") or k in fields}

    def _includes(
        self, page: list[_Tweet], expansions: set[str], user_fields: set[str], tweet_fields: set[str]
    ) -> dict[str, Any]:
        """``includes.users`` and ``includes.tweets`` for the expansions asked for."""
        user_ids: list[str] = []
        tweet_ids: list[str] = []
        for tweet in page:
            if "author_id" in expansions:
                user_ids.append(tweet.author_id)
            if "in_reply_to_user_id" in expansions and tweet.in_reply_to_user_id:
                user_ids.append(tweet.in_reply_to_user_id)
            if "entities.mentions.username" in expansions:
                user_ids.extend(m["id"] for m in tweet.mentions if "id" in m)
            parent = self._tweets.get(tweet.in_reply_to) if tweet.in_reply_to else None
            if parent is not None and "referenced_tweets.id" in expansions:
                tweet_ids.append(parent.id)
            if parent is not None and "referenced_tweets.id.author_id" in expansions:
                user_ids.append(parent.author_id)
        includes: dict[str, Any] = {}
        users = [self._user(u, user_fields) for u in dict.fromkeys(user_ids) if u in self._users]
        if users:
            includes["users"] = users
        tweets = [self._render(self._tweets[t], tweet_fields) for t in dict.fromkeys(tweet_ids)]
        if tweets:
            includes["tweets"] = tweets
        return includes

    def _serve_post(self, _request: Request, body: Any) -> tuple[int, Any]:
        """``POST /2/tweets``: the account's post (a reply when ``reply.in_reply_to_tweet_id`` is set)."""
        if not isinstance(body, dict):
            raise _Answer(
                400,
                problem(
                    400,
                    "Invalid Request",
                    "One or more parameters to your request was invalid.",
                    "https://api.twitter.com/2/problems/invalid-request",
                ),
            )
        text = body.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _Answer(400, _invalid_request("text", str(text), "$.text: must be a non-empty string"))
        reply = body.get("reply")
        in_reply_to: str | None = None
        if reply is not None:
            target = reply.get("in_reply_to_tweet_id") if isinstance(reply, dict) else None
            if not isinstance(target, str) or not _ID_RE.fullmatch(target):
                raise _Answer(
                    400,
                    _invalid_request(
                        "reply.in_reply_to_tweet_id",
                        str(target),
                        "$.reply.in_reply_to_tweet_id: string found, must be a Tweet id",
                    ),
                )
            if target not in self._tweets:
                raise _Answer(*self.reply_missing_error)
            in_reply_to = target
        if weighted_length(text) > self.max_post_length:
            raise _Answer(*self.too_long_error)
        if any(t.author_id == self.account_id and t.text == text for t in self._tweets.values()):
            raise _Answer(
                403, problem(403, "Forbidden", "You are not allowed to create a Tweet with duplicate content.")
            )
        tweet = self._store(
            text,
            author_id=self.account_id,
            in_reply_to=in_reply_to,
            conversation_id=None,
            created_at=None,
            via_api=True,
        )
        return 201, {"data": {"edit_history_tweet_ids": [tweet.id], "id": tweet.id, "text": tweet.text}}


class _LosableAnswers:
    """The fake's ASGI app, plus a way to lose an answer: close the connection instead of answering."""

    def __init__(self, app: Starlette) -> None:
        self._app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Serve the request; when the handler marked it ``fakex_drop``, close the connection unanswered."""
        if scope["type"] != "http":
            await self._app(scope, receive, send)
            return
        scope.setdefault("state", {})

        async def guarded_send(message: Message) -> None:
            if scope["state"].get("fakex_drop"):
                # The request took effect; the client never hears so (as when a connection breaks).
                if message["type"] == "http.response.start":
                    # uvicorn's receive is a bound method of its request cycle, which holds the transport;
                    # marked disconnected, uvicorn does not answer 500 in our place.
                    cycle = receive.__self__  # type: ignore[attr-defined]
                    cycle.disconnected = True
                    cycle.transport.close()
                return
            await send(message)

        await self._app(scope, receive, guarded_send)


def _id_key(tweet: _Tweet) -> int:
    return int(tweet.id)


def _check_endpoint(endpoint: str) -> None:
    if endpoint not in ENDPOINTS:
        raise ValueError(f"unknown endpoint {endpoint!r}; one of {ENDPOINTS}")


def _endpoint_of(method: str, path: str) -> str | None:
    if method == "POST" and path == "/2/tweets":
        return "post"
    if method == "GET" and re.fullmatch(r"/2/users/[^/]+/mentions", path):
        return "mentions"
    if method == "GET" and re.fullmatch(r"/2/users/[^/]+/tweets", path):
        return "user_tweets"
    return None


def _field_set(value: str | None, allowed: frozenset[str], parameter: str) -> set[str]:
    """A comma-separated field list; 400 (as X) when it names a field X does not have."""
    if not value:
        return set()
    names = {name.strip() for name in value.split(",")}
    unknown = sorted(name for name in names if name not in allowed)
    if unknown:
        raise _Answer(
            400,
            _invalid_request(
                parameter,
                ",".join(unknown),
                f"The `{parameter}` query parameter value [{unknown[0]}] is not one of {sorted(allowed)}",
            ),
        )
    return names


def _encode_token(older_than: int) -> str:
    """An opaque ``next_token`` (X's are lowercase base32-looking strings)."""
    return base64.b32encode(f"x:{older_than}".encode()).decode().rstrip("=").lower()


def _decode_token(token: str) -> int | None:
    """The position a token made by :func:`_encode_token` stands for; None when it is not one."""
    try:
        raw = base64.b32decode(token.upper() + "=" * (-len(token) % 8)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    prefix, _, number = raw.partition(":")
    return int(number) if prefix == "x" and number.isdigit() else None
