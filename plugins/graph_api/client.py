"""A small async client for the Meta Graph API, as used by the Facebook Page and Instagram plugins.

Why not ``facebook-sdk``: its last release (3.1.0, 2018) accepts only Graph API 2.8–3.1, all retired,
and it is synchronous. This client is ``httpx`` with a configurable base URL and API version, so the
same code talks to ``graph.facebook.com`` in production and to :class:`~.testing.FakeGraph` in tests.

Security choices:

* The access token travels only in the ``Authorization: Bearer`` header (documented for
  ``graph.facebook.com`` by the Instagram Platform docs), never in a URL, so it cannot leak through
  URLs printed by httpx, proxies or logs. ``appsecret_proof`` (HMAC-SHA256 of the token keyed with
  the app secret, what Meta recommends for server-to-server calls) goes in the query string when an
  app secret is configured; it is useless without the token.
* Exceptions never carry the token: their message is built from Graph's error text with the token
  and the proof scrubbed out, and ``str()``/``repr()`` are defined here.
* Ids that come from webhooks are untrusted: the typed helpers accept only ``[A-Za-z0-9_]`` ids, so
  a crafted id cannot walk to another endpoint. Paging never follows a ``next`` URL to another host:
  only its query parameters are reused against our own base URL.

Errors are classified into :class:`TokenError`, :class:`PermissionDenied`, :class:`RateLimited`,
:class:`TransientError` and :class:`InvalidRequest` (see "Handling Errors" in the Graph API docs);
``.retryable`` tells a caller whether trying again later can help. The client itself never retries.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import re
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import parse_qsl, urlsplit

import httpx

__all__ = [
    "DEFAULT_API_VERSION",
    "DEFAULT_BASE_URL",
    "PRIVATE_REPLY_ALREADY_SENT",
    "GraphClient",
    "GraphError",
    "InvalidRequest",
    "OutcomeUnknown",
    "PermissionDenied",
    "RateLimited",
    "TokenError",
    "TransientError",
    "appsecret_proof",
    "error_from_response",
    "format_graph_time",
    "parse_graph_time",
]

log = logging.getLogger(__name__)


def _was_sent(exc: httpx.HTTPError) -> bool:
    """Whether the request may have reached Meta: anything but failing to connect (or to get a connection)."""
    return not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


#: Newest Graph API version in the changelog when this was written (v26.0, released 29 July 2026;
#: v25.0 stays available until July 2028). Override per client with ``api_version=``.
DEFAULT_API_VERSION = "v26.0"
DEFAULT_BASE_URL = "https://graph.facebook.com"

#: Expired, revoked or invalid token (190), "API session" (102), and a missing token (104).
TOKEN_ERROR_CODES = frozenset({102, 104, 190})
#: Throttling: app (4), user (17), Page (32), application limit (341), custom per-API limit (613)
#: and the Business Use Case limits 80001–80009 (Pages, Instagram, ads, ...).
RATE_LIMIT_CODES = frozenset({4, 17, 32, 341, 613, *range(80001, 80010)})
#: "API Unknown" (1) and "API Service" (2): temporary, retry later.
TRANSIENT_CODES = frozenset({1, 2})
#: "(#10900) Activity already replied to": a private reply was already sent for that comment.
#: Widely reported by integrators; not in Meta's error-code table (unverified).
PRIVATE_REPLY_ALREADY_SENT = 10900

_VERSION_RE = re.compile(r"v\d+\.\d+")
_ID_RE = re.compile(r"[A-Za-z0-9_]+")
_SEGMENT_RE = re.compile(r"[A-Za-z0-9_.\-]+")
_MAX_MESSAGE = 300
_STRIPPED_NEXT_PARAMS = frozenset({"access_token", "appsecret_proof"})

FB_COMMENT_FIELDS = "id,message,from,created_time,parent{id},permalink_url"
FB_POST_FIELDS = "id,message,permalink_url,created_time"
IG_MEDIA_FIELDS = "id,caption,permalink,timestamp"
IG_COMMENT_FIELDS = "id,text,username,from{id,username},timestamp,parent_id,hidden"


# --------------------------------------------------------------------------------------------- errors


def _one_line(text: str) -> str:
    """Collapse whitespace and cap the length so a message fits one line of a Slack card."""
    text = " ".join(str(text).split())
    if len(text) > _MAX_MESSAGE:
        text = text[: _MAX_MESSAGE - 1] + "…"
    return text


class GraphError(Exception):
    """Base class of every failure of a Graph API call; ``str()`` is a one-line, token-free summary."""

    #: Whether the same call may succeed later without anyone changing anything.
    retryable: ClassVar[bool] = False
    #: Plain-language lead of ``str()``, meant for people reading a Slack card.
    hint: ClassVar[str] = "Meta Graph API request failed"

    def __init__(
        self,
        message: str,
        *,
        code: int | None = None,
        subcode: int | None = None,
        http_status: int = 0,
        fbtrace_id: str | None = None,
        error_type: str | None = None,
        is_transient: bool = False,
        method: str | None = None,
        path: str | None = None,
    ) -> None:
        """Build the error; ``http_status`` is 0 when no HTTP response arrived (network failure)."""
        self.message = _one_line(message) or "no error message"
        self.code = code
        self.subcode = subcode
        self.http_status = http_status
        self.fbtrace_id = fbtrace_id
        self.error_type = error_type
        self.is_transient = is_transient
        self.method = method
        self.path = path
        super().__init__(self.message)

    def _details(self) -> list[str]:
        """Return the bracketed details of ``str()``: code, HTTP status, trace id."""
        details: list[str] = []
        if self.code is not None:
            details.append(f"code {self.code}" + (f"/{self.subcode}" if self.subcode else ""))
        if self.http_status:
            details.append(f"HTTP {self.http_status}")
        if self.fbtrace_id:
            details.append(f"fbtrace {self.fbtrace_id}")
        return details

    def __str__(self) -> str:
        """Return a one-line human message: what it means, what Meta said, and the ids support needs."""
        text = f"{self.hint}. Meta said: {self.message}"
        details = self._details()
        if details:
            text += f" ({', '.join(details)})"
        return text

    def __repr__(self) -> str:
        """Return a debugging representation (never includes the token: it is never stored here)."""
        return (
            f"{type(self).__name__}(code={self.code!r}, subcode={self.subcode!r}, "
            f"http_status={self.http_status!r}, fbtrace_id={self.fbtrace_id!r}, message={self.message!r})"
        )


class TokenError(GraphError):
    """The token is expired, revoked, invalid or missing (codes 190, 102, 104): someone must reconnect."""

    hint = "Meta access token is invalid, expired or revoked; reconnect the account"


class PermissionDenied(GraphError):
    """The token lacks a permission, or the action is not allowed (codes 10 and 200–299)."""

    hint = "Meta refused the action (permission or policy)"


class RateLimited(GraphError):
    """Meta is throttling this app, user or Page (codes 4, 17, 32, 341, 613, 80001–80009, HTTP 429)."""

    retryable = True
    hint = "Meta rate limit reached"

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        """Build the error; ``retry_after`` is seconds until access returns, when headers allow a guess."""
        super().__init__(message, **kwargs)
        self.retry_after = retry_after

    def _details(self) -> list[str]:
        """Add the retry estimate to the bracketed details."""
        details = super()._details()
        if self.retry_after is not None:
            details.insert(0, f"retry in ~{round(self.retry_after)} s")
        return details


class TransientError(GraphError):
    """A temporary failure: HTTP 5xx, codes 1 and 2, ``is_transient`` errors, network errors and timeouts."""

    retryable = True
    hint = "Meta Graph API is temporarily unavailable"


class OutcomeUnknown(TransientError):
    """A POST was sent but no answer came (a read timeout, a dropped connection): Meta may have done it.

    Retrying a call that creates something (a public reply) could do it twice; look first.
    """

    hint = "Meta did not answer, so it is not known whether the call took effect"


class InvalidRequest(GraphError):
    """Any other rejection (e.g. code 100): permanent, retrying the same call will fail again."""

    hint = "Meta rejected the request"


def _as_int(value: Any) -> int | None:
    """Return ``value`` as an int, or None when it is missing or not numeric."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value)
    return None


def _header_json(headers: Mapping[str, str], name: str) -> Any:
    """Parse the JSON value of a usage header, or None when absent or malformed."""
    raw = headers.get(name)
    if not raw:
        return None
    try:
        return json.loads(raw)
    except ValueError:
        return None


def retry_after_from_headers(headers: Mapping[str, str]) -> float | None:
    """Estimate seconds until a throttled caller regains access, from response headers; None if unknown.

    Sources, in order: ``Retry-After`` (seconds); the largest ``estimated_time_to_regain_access`` in
    ``X-Business-Use-Case-Usage`` (documented in *minutes*). ``X-App-Usage`` only gives percentages of
    a rolling one-hour window, which allows no estimate.
    """
    retry_after = headers.get("retry-after")
    if retry_after:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            pass
    buc = _header_json(headers, "x-business-use-case-usage")
    minutes: list[float] = []
    if isinstance(buc, dict):
        for entries in buc.values():
            for entry in entries if isinstance(entries, list) else [entries]:
                if isinstance(entry, dict):
                    value = entry.get("estimated_time_to_regain_access")
                    if isinstance(value, int | float) and not isinstance(value, bool) and value > 0:
                        minutes.append(float(value))
    if minutes:
        return max(minutes) * 60.0
    return None


def _error_class(code: int | None, http_status: int, is_transient: bool) -> type[GraphError]:
    """Pick the exception class for a Graph error code and HTTP status."""
    if code in TOKEN_ERROR_CODES:
        return TokenError
    if code in RATE_LIMIT_CODES or http_status == 429:
        return RateLimited
    if code == 10 or (code is not None and 200 <= code <= 299):
        return PermissionDenied
    if http_status >= 500 or code in TRANSIENT_CODES or is_transient:
        return TransientError
    # Includes 368 ("temporarily blocked for policy violations"): waiting is possible, but an
    # automatic retry is exactly the behaviour that got the Page blocked, so treat it as permanent.
    return InvalidRequest


def error_from_response(
    http_status: int,
    body: Any,
    headers: Mapping[str, str] | None = None,
    *,
    secrets: tuple[str, ...] = (),
    method: str | None = None,
    path: str | None = None,
) -> GraphError:
    """Build the right :class:`GraphError` subclass from a Graph error response.

    ``body`` is the decoded JSON (``{"error": {"message", "type", "code", "error_subcode",
    "fbtrace_id", "is_transient"?}}``) or anything else for a non-Graph error page. Every string in
    ``secrets`` is scrubbed from the message.
    """
    headers = httpx.Headers(headers or {})
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict):
        message = str(err.get("message") or "")
        code = _as_int(err.get("code"))
        subcode = _as_int(err.get("error_subcode"))
        fbtrace = err.get("fbtrace_id")
        error_type = err.get("type")
        is_transient = err.get("is_transient") is True
    else:
        message = f"unexpected HTTP {http_status} response without a Graph error object"
        code = subcode = None
        fbtrace = headers.get("x-fb-trace-id")
        error_type = None
        is_transient = False
    for secret in secrets:
        if secret:
            message = message.replace(secret, "[redacted]")
    cls = _error_class(code, http_status, is_transient)
    kwargs: dict[str, Any] = {
        "code": code,
        "subcode": subcode,
        "http_status": http_status,
        "fbtrace_id": str(fbtrace) if fbtrace else None,
        "error_type": str(error_type) if error_type else None,
        "is_transient": is_transient,
        "method": method,
        "path": path,
    }
    if cls is RateLimited:
        return RateLimited(message, retry_after=retry_after_from_headers(headers), **kwargs)
    return cls(message, **kwargs)


# ---------------------------------------------------------------------------------------------- helpers


def appsecret_proof(access_token: str, app_secret: str) -> str:
    """Return Meta's ``appsecret_proof``: hex HMAC-SHA256 of the access token keyed with the app secret."""
    return hmac.new(app_secret.encode("utf-8"), access_token.encode("utf-8"), hashlib.sha256).hexdigest()


def format_graph_time(moment: datetime) -> str:
    """Format a datetime the way Graph does (``2026-11-23T18:50:07+0000``); naive means UTC."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S+0000")


def parse_graph_time(value: Any) -> datetime | None:
    """Parse a Graph time (``...+0000``, ISO 8601 or unix seconds) to an aware datetime, else None.

    None too for a number past ``datetime``'s range. A parsed time may still be far from any real
    one (year 9999): callers that store it check it with ``chatops.inbound_checks.believable_time``.
    """
    if isinstance(value, int | float) and not isinstance(value, bool):
        try:
            return datetime.fromtimestamp(value, UTC)
        except (OverflowError, OSError, ValueError):
            return None
    if not isinstance(value, str) or not value:
        return None
    for fmt in ("%Y-%m-%dT%H:%M:%S%z", "%Y-%m-%dT%H:%M:%S.%f%z"):
        try:
            return datetime.strptime(value, fmt)
        except ValueError:
            pass
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def _unix(moment: datetime) -> int:
    """Return unix seconds for a datetime; naive datetimes are taken as UTC (as SQLite hands them back)."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def _not_before(item: Mapping[str, Any], key: str, since: datetime | None) -> bool:
    """Tell whether ``item[key]`` is at or after ``since``; items without a parseable time are kept."""
    if since is None:
        return True
    created = parse_graph_time(item.get(key))
    if created is None:
        return True
    return created.timestamp() >= _unix(since)


def _encode(value: Any) -> str:
    """Encode one parameter the way Graph expects: JSON for objects, lower-case booleans."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if isinstance(value, datetime):
        return str(_unix(value))
    return str(value)


def _check_id(value: str, what: str) -> str:
    """Return ``value`` if it looks like a Graph object id, else raise ValueError (ids come from webhooks)."""
    if not isinstance(value, str) or not _ID_RE.fullmatch(value):
        raise ValueError(f"{what} is not a valid Graph object id: {value!r}")
    return value


def _clean_path(path: str) -> str:
    """Normalise a Graph path (``/123/comments`` or ``123/comments``) and refuse anything odd."""
    segments = [segment for segment in path.strip("/").split("/") if segment]
    if not segments or any(s in {".", ".."} or not _SEGMENT_RE.fullmatch(s) for s in segments):
        raise ValueError(f"not a valid Graph API path: {path!r}")
    return "/".join(segments)


def _next_params(next_url: str) -> dict[str, str]:
    """Return the query parameters of a ``paging.next`` URL, minus the token and proof."""
    return {
        key: value
        for key, value in parse_qsl(urlsplit(next_url).query, keep_blank_values=True)
        if key not in _STRIPPED_NEXT_PARAMS
    }


# ----------------------------------------------------------------------------------------------- client


class GraphClient:
    """Async Graph API client for one access token (a Page token for both Page and Instagram calls)."""

    def __init__(
        self,
        *,
        access_token: str,
        base_url: str = DEFAULT_BASE_URL,
        api_version: str = DEFAULT_API_VERSION,
        timeout: float = 10.0,
        http: httpx.AsyncClient | None = None,
        app_secret: str | None = None,
    ) -> None:
        """Configure the client; pass ``http`` to share a connection pool (it is then not closed here).

        ``app_secret`` turns on ``appsecret_proof`` for every call.
        """
        if not access_token:
            raise ValueError("access_token is required")
        if not _VERSION_RE.fullmatch(api_version):
            raise ValueError(f"api_version must look like 'v26.0', got {api_version!r}")
        self._token = access_token
        self._proof = appsecret_proof(access_token, app_secret) if app_secret else None
        self.base_url = base_url.rstrip("/")
        self.api_version = api_version
        self.timeout = timeout
        self._http = http if http is not None else httpx.AsyncClient(timeout=timeout)
        self._owns_http = http is None
        #: Last decoded usage headers seen: ``{"x-app-usage": {...}, "x-business-use-case-usage": {...}}``.
        self.usage: dict[str, Any] = {}

    def __repr__(self) -> str:
        """Describe the client without its token."""
        return f"GraphClient(base_url={self.base_url!r}, api_version={self.api_version!r})"

    async def __aenter__(self) -> GraphClient:
        """Use the client as ``async with``; it is closed on exit."""
        return self

    async def __aexit__(self, *exc: object) -> None:
        """Close the client."""
        await self.aclose()

    async def aclose(self) -> None:
        """Close the HTTP connection pool if this client created it."""
        if self._owns_http:
            await self._http.aclose()

    # ------------------------------------------------------------------------------------ raw calls

    async def _request(
        self, method: str, path: str, params: Mapping[str, Any], data: Mapping[str, Any]
    ) -> dict[str, Any]:
        """Send one request and return the decoded JSON object, or raise the matching GraphError."""
        clean = _clean_path(path)
        url = f"{self.base_url}/{self.api_version}/{clean}"
        query = {key: _encode(value) for key, value in params.items() if value is not None}
        if self._proof:
            query["appsecret_proof"] = self._proof
        form = {key: _encode(value) for key, value in data.items() if value is not None}
        headers = {"Authorization": f"Bearer {self._token}", "Accept": "application/json"}
        where = {"method": method, "path": "/" + clean}
        try:
            response = await self._http.request(
                method, url, params=query, data=form or None, headers=headers, timeout=self.timeout
            )
        except httpx.TimeoutException as exc:
            log.warning("graph %s /%s timed out", method, clean)
            error = OutcomeUnknown if method == "POST" and _was_sent(exc) else TransientError
            raise error(f"no answer from Meta within {self.timeout:g} s ({method} /{clean})", **where) from exc
        except httpx.HTTPError as exc:
            log.warning("graph %s /%s network error: %s", method, clean, type(exc).__name__)
            error = OutcomeUnknown if method == "POST" and _was_sent(exc) else TransientError
            raise error(f"could not reach Meta ({type(exc).__name__}, {method} /{clean})", **where) from exc
        self._remember_usage(response.headers)
        try:
            body: Any = response.json()
        except ValueError:
            body = None
        log.debug("graph %s /%s -> %s", method, clean, response.status_code)
        if response.status_code >= 400 or (isinstance(body, dict) and "error" in body):
            raise error_from_response(
                response.status_code,
                body,
                response.headers,
                secrets=tuple(s for s in (self._token, self._proof) if s),
                **where,
            )
        if body is True:  # old-style boolean answer to a POST on a node
            return {"success": True}
        if not isinstance(body, dict):
            raise InvalidRequest(
                "Meta answered with something that is not a JSON object",
                http_status=response.status_code,
                **where,
            )
        return body

    def _remember_usage(self, headers: httpx.Headers) -> None:
        """Keep the latest rate-limit usage headers for callers that want to slow down early."""
        for name in ("x-app-usage", "x-business-use-case-usage"):
            value = _header_json(headers, name)
            if value is not None:
                self.usage[name] = value

    async def get(self, path: str, **params: Any) -> dict[str, Any]:
        """``GET /{version}/{path}`` with query parameters; return the JSON object."""
        return await self._request("GET", path, params, {})

    async def post(self, path: str, **data: Any) -> dict[str, Any]:
        """``POST /{version}/{path}`` with form-encoded parameters (objects as JSON); return the JSON."""
        return await self._request("POST", path, {}, data)

    async def get_paged(
        self, path: str, *, limit: int = 100, max_pages: int = 10, **params: Any
    ) -> AsyncIterator[dict[str, Any]]:
        """Yield every item of a paged edge, following ``paging.next`` for at most ``max_pages`` pages.

        The next page is requested from our own base URL with the query of ``paging.next`` (minus
        token and proof), falling back to ``cursors.after``. Paging stops when ``next`` is absent, which
        Graph documents as the last page; an empty page that still has ``next`` is followed.
        """
        query: dict[str, Any] = {**params, "limit": limit}
        for page_number in range(max_pages):
            page = await self.get(path, **query)
            data = page.get("data")
            for item in data if isinstance(data, list) else []:
                if isinstance(item, dict):
                    yield item
            paging = page.get("paging") if isinstance(page.get("paging"), dict) else {}
            next_url = paging.get("next")
            if not next_url or not isinstance(next_url, str):
                return
            cursors = paging.get("cursors") if isinstance(paging.get("cursors"), dict) else {}
            following = _next_params(next_url)
            if "after" not in following and "until" not in following and cursors.get("after"):
                following = {**query, "after": cursors["after"]}
            if not following or following == {key: _encode(v) for key, v in query.items()}:
                log.warning("graph paging for /%s did not advance; stopping", _clean_path(path))
                return
            query = dict(following)
            if page_number == max_pages - 1:
                log.info("graph paging for /%s stopped after %d pages", _clean_path(path), max_pages)

    async def _collect(
        self,
        path: str,
        *,
        limit: int,
        max_items: int | None = None,
        keep: Callable[[dict[str, Any]], bool] | None = None,
        **params: Any,
    ) -> list[dict[str, Any]]:
        """Gather a paged edge into a list (items passing ``keep``), stopping early at ``max_items``."""
        items: list[dict[str, Any]] = []
        async with contextlib.aclosing(self.get_paged(path, limit=limit, **params)) as pages:
            async for item in pages:
                if keep is not None and not keep(item):
                    continue
                items.append(item)
                if max_items is not None and len(items) >= max_items:
                    break
        return items

    async def get_object(self, object_id: str, fields: str) -> dict[str, Any]:
        """Read one node (post, comment, media, Page, ...) with the given comma-separated ``fields``."""
        return await self.get(_check_id(object_id, "object_id"), fields=fields)

    @staticmethod
    def _new_id(response: dict[str, Any], key: str = "id") -> str:
        """Return the id Graph gave a created object, or raise InvalidRequest if the answer lacks it."""
        value = response.get(key)
        if not value:
            raise InvalidRequest(f"Meta did not return the new object's {key}", http_status=200)
        return str(value)

    @staticmethod
    def _require_success(response: dict[str, Any]) -> None:
        """Raise InvalidRequest unless the answer is ``{"success": true}``."""
        if response.get("success") is not True:
            raise InvalidRequest("Meta did not confirm the change", http_status=200)

    # -------------------------------------------------------------------------------------- Facebook

    async def reply_to_comment(self, comment_id: str, message: str) -> str:
        """Reply publicly under a Facebook comment (``POST /{comment-id}/comments``); return the new id."""
        response = await self.post(f"{_check_id(comment_id, 'comment_id')}/comments", message=message)
        return self._new_id(response)

    async def set_comment_hidden(self, comment_id: str, hidden: bool) -> None:
        """Hide or unhide a Facebook comment (``POST /{comment-id}`` with ``is_hidden``).

        A hidden comment stays visible to its author and their friends.
        """
        response = await self.post(_check_id(comment_id, "comment_id"), is_hidden=hidden)
        self._require_success(response)

    async def private_reply(self, page_id: str, comment_id: str, message: str) -> str:
        """Send the one allowed private reply to a comment's author; return the Messenger ``message_id``.

        ``POST /{page-id}/messages`` with ``recipient={"comment_id": ...}`` and ``message={"text": ...}``.
        Meta allows one per comment, within 7 days of it, and needs ``pages_messaging``.
        """
        response = await self.post(
            f"{_check_id(page_id, 'page_id')}/messages",
            recipient={"comment_id": _check_id(comment_id, "comment_id")},
            message={"text": message},
        )
        return self._new_id(response, "message_id")

    async def page_posts(self, page_id: str, *, since: datetime | None = None, limit: int = 25) -> list[dict[str, Any]]:
        """Return up to ``limit`` of the Page's posts, newest first, created at or after ``since``.

        Fields: ``id, message, permalink_url, created_time``. ``since`` is sent to Graph and also
        applied locally, so an edge that ignores it still gives the right answer.
        """
        params: dict[str, Any] = {"fields": FB_POST_FIELDS}
        if since is not None:
            params["since"] = _unix(since)
        return await self._collect(
            f"{_check_id(page_id, 'page_id')}/posts",
            limit=min(max(limit, 1), 100),
            max_items=max(limit, 1),
            keep=lambda post: _not_before(post, "created_time", since),
            **params,
        )

    async def comments(self, object_id: str, *, since: datetime | None = None) -> list[dict[str, Any]]:
        """Return all comments on a post (or replies on a comment), oldest first, at or after ``since``.

        Uses ``filter=stream`` (replies included, each with ``parent{id}``), ``order=chronological`` and
        fields ``id, message, from, created_time, parent{id}, permalink_url``; follows up to 10 pages
        of 100. ``since`` is sent to Graph and applied locally.
        """
        params: dict[str, Any] = {"filter": "stream", "order": "chronological", "fields": FB_COMMENT_FIELDS}
        if since is not None:
            params["since"] = _unix(since)
        return await self._collect(
            f"{_check_id(object_id, 'object_id')}/comments",
            limit=100,
            keep=lambda comment: _not_before(comment, "created_time", since),
            **params,
        )

    # ------------------------------------------------------------------------------------- Instagram

    async def reply_to_instagram_comment(self, ig_comment_id: str, message: str) -> str:
        """Reply publicly to an Instagram comment (``POST /{ig-comment-id}/replies``); return the new id.

        Meta documents that only top-level comments take replies (a reply to a reply is added to the
        top-level comment) and that hidden comments cannot be replied to.
        """
        response = await self.post(f"{_check_id(ig_comment_id, 'ig_comment_id')}/replies", message=message)
        return self._new_id(response)

    async def set_instagram_comment_hidden(self, ig_comment_id: str, hidden: bool) -> None:
        """Hide or unhide an Instagram comment (``POST /{ig-comment-id}`` with ``hide=true|false``)."""
        response = await self.post(_check_id(ig_comment_id, "ig_comment_id"), hide=hidden)
        self._require_success(response)

    async def instagram_private_reply(self, ig_user_id: str, ig_comment_id: str, message: str) -> str:
        """Send the one allowed private reply (a DM) to an Instagram commenter; return the ``message_id``.

        Chosen endpoint: ``POST /{ig-user-id}/messages`` with ``recipient={"comment_id": ...}``, as in
        the current Instagram Platform "Send a Private Reply" guide (host ``graph.facebook.com`` with
        a Page token for "Instagram API with Facebook Login"). The older Messenger-platform guide used
        ``/{page-id}/messages``; pass the Page id as ``ig_user_id`` to use that form. Window: 7 days.
        """
        response = await self.post(
            f"{_check_id(ig_user_id, 'ig_user_id')}/messages",
            recipient={"comment_id": _check_id(ig_comment_id, "ig_comment_id")},
            message={"text": message},
        )
        return self._new_id(response, "message_id")

    async def instagram_media(self, ig_user_id: str, *, limit: int = 25) -> list[dict[str, Any]]:
        """Return up to ``limit`` of the account's media, newest first (id, caption, permalink, timestamp)."""
        return await self._collect(
            f"{_check_id(ig_user_id, 'ig_user_id')}/media",
            limit=min(max(limit, 1), 100),
            max_items=limit,
            fields=IG_MEDIA_FIELDS,
        )

    async def instagram_comments(self, media_id: str) -> list[dict[str, Any]]:
        """Return the comments on one Instagram media, each top-level comment followed by its replies.

        Fields: ``id, text, username, from{id,username}, timestamp, parent_id, hidden``. The media's
        ``/comments`` edge lists top-level comments; replies come through the nested ``replies`` edge
        (further pages through ``/{ig-comment-id}/replies``) and are flattened here, each carrying
        ``parent_id``.
        """
        fields = f"{IG_COMMENT_FIELDS},replies{{{IG_COMMENT_FIELDS}}}"
        top_level = await self._collect(f"{_check_id(media_id, 'media_id')}/comments", limit=50, fields=fields)
        flat: list[dict[str, Any]] = []
        for comment in top_level:
            nested = comment.pop("replies", None)
            flat.append(comment)
            replies: list[dict[str, Any]] = []
            if isinstance(nested, dict):
                replies.extend(r for r in nested.get("data") or [] if isinstance(r, dict))
                paging = nested.get("paging") if isinstance(nested.get("paging"), dict) else {}
                cursors = paging.get("cursors") if isinstance(paging.get("cursors"), dict) else {}
                if paging.get("next") and cursors.get("after") and comment.get("id"):
                    replies.extend(
                        await self._collect(
                            f"{_check_id(str(comment['id']), 'ig_comment_id')}/replies",
                            limit=50,
                            fields=IG_COMMENT_FIELDS,
                            after=cursors["after"],
                        )
                    )
            for reply in replies:
                reply.setdefault("parent_id", comment.get("id"))
                flat.append(reply)
        return flat
