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
  and the proof scrubbed out (see :mod:`.errors`).
* Ids that come from webhooks are untrusted: :func:`check_id` accepts only ``[A-Za-z0-9_]`` ids, so
  a crafted id cannot walk to another endpoint. Paging never follows a ``next`` URL to another host:
  only its query parameters are reused against our own base URL.

This module holds only what both plugins use: HTTP, the proof, paging and reading nodes. The calls
only one platform makes live with its plugin (``chatops_plugins.facebook.graph_calls``,
``chatops_plugins.instagram.graph_calls``). Failures raise the classes of :mod:`.errors`, re-exported
here; the client itself never retries.
"""

from __future__ import annotations

import contextlib
import hashlib
import hmac
import json
import logging
import re
from collections.abc import AsyncGenerator, Callable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import httpx

from .errors import (
    PRIVATE_REPLY_ALREADY_SENT,
    GraphError,
    InvalidRequest,
    OutcomeUnknown,
    PermissionDenied,
    RateLimited,
    TokenError,
    TransientError,
    error_from_response,
    header_json,
    retry_after_from_headers,
)

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
    "check_id",
    "created_id",
    "error_from_response",
    "format_graph_time",
    "json_object",
    "parse_graph_time",
    "require_success",
    "retry_after_from_headers",
    "unix_seconds",
]

log = logging.getLogger(__name__)


def _was_sent(exc: httpx.HTTPError) -> bool:
    """Whether the request may have reached Meta: anything but failing to connect (or to get a connection)."""
    return not isinstance(exc, httpx.ConnectError | httpx.ConnectTimeout | httpx.PoolTimeout)


#: Newest Graph API version in the changelog when this was written (v26.0, released 29 July 2026;
#: v25.0 stays available until July 2028). Override per client with ``api_version=``.
DEFAULT_API_VERSION = "v26.0"
DEFAULT_BASE_URL = "https://graph.facebook.com"

_VERSION_RE = re.compile(r"v\d+\.\d+")
_ID_RE = re.compile(r"[A-Za-z0-9_]+")
_SEGMENT_RE = re.compile(r"[A-Za-z0-9_.\-]+")
_STRIPPED_NEXT_PARAMS = frozenset({"access_token", "appsecret_proof"})


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


def unix_seconds(moment: datetime) -> int:
    """Return unix seconds for a datetime (Graph's ``since``); naive means UTC, as SQLite hands them back."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return int(moment.timestamp())


def json_object(value: Any) -> dict[str, Any]:
    """Return ``value`` if it is a JSON object, else an empty one (Graph leaves out what it has not got)."""
    return value if isinstance(value, dict) else {}


def created_id(response: Mapping[str, Any], key: str = "id") -> str:
    """Return the id Graph gave a created object, or raise InvalidRequest if the answer lacks it."""
    value = response.get(key)
    if not value:
        raise InvalidRequest(f"Meta did not return the new object's {key}", http_status=200)
    return str(value)


def require_success(response: Mapping[str, Any]) -> None:
    """Raise InvalidRequest unless the answer is ``{"success": true}``."""
    if response.get("success") is not True:
        raise InvalidRequest("Meta did not confirm the change", http_status=200)


def _encode(value: Any) -> str:
    """Encode one parameter the way Graph expects: JSON for objects, lower-case booleans."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict | list | tuple):
        return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
    if isinstance(value, datetime):
        return str(unix_seconds(value))
    return str(value)


def check_id(value: str, what: str) -> str:
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
        route = "/" + clean
        try:
            response = await self._http.request(
                method, url, params=query, data=form or None, headers=headers, timeout=self.timeout
            )
        except httpx.TimeoutException as exc:
            log.warning("graph %s /%s timed out", method, clean)
            error = OutcomeUnknown if method == "POST" and _was_sent(exc) else TransientError
            raise error(
                f"no answer from Meta within {self.timeout:g} s ({method} /{clean})", method=method, path=route
            ) from exc
        except httpx.HTTPError as exc:
            log.warning("graph %s /%s network error: %s", method, clean, type(exc).__name__)
            error = OutcomeUnknown if method == "POST" and _was_sent(exc) else TransientError
            raise error(
                f"could not reach Meta ({type(exc).__name__}, {method} /{clean})", method=method, path=route
            ) from exc
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
                method=method,
                path=route,
            )
        if body is True:  # old-style boolean answer to a POST on a node
            return {"success": True}
        if not isinstance(body, dict):
            raise InvalidRequest(
                "Meta answered with something that is not a JSON object",
                http_status=response.status_code,
                method=method,
                path=route,
            )
        return body

    def _remember_usage(self, headers: httpx.Headers) -> None:
        """Keep the latest rate-limit usage headers for callers that want to slow down early."""
        for name in ("x-app-usage", "x-business-use-case-usage"):
            value = header_json(headers, name)
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
    ) -> AsyncGenerator[dict[str, Any], None]:
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
            paging = json_object(page.get("paging"))
            next_url = paging.get("next")
            if not next_url or not isinstance(next_url, str):
                return
            cursors = json_object(paging.get("cursors"))
            following = _next_params(next_url)
            if "after" not in following and "until" not in following and cursors.get("after"):
                following = {**query, "after": cursors["after"]}
            if not following or following == {key: _encode(v) for key, v in query.items()}:
                log.warning("graph paging for /%s did not advance; stopping", _clean_path(path))
                return
            query = dict(following)
            if page_number == max_pages - 1:
                log.info("graph paging for /%s stopped after %d pages", _clean_path(path), max_pages)

    async def collect(
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
        return await self.get(check_id(object_id, "object_id"), fields=fields)
