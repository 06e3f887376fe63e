"""A Graph-API-compatible fake over real HTTP, plus builders for signed Meta webhook payloads.

:class:`FakeGraph` is a Starlette app served on 127.0.0.1 by
:class:`chatops.testing.server.ThreadedServer`. Point a :class:`~.client.GraphClient` (or any other
Graph client) at ``fake.base_url`` and it goes through its real HTTP code. The fake holds a Page with
posts and comments and an Instagram professional account with media and comments, enforces the
documented rules (token, version prefix, one private reply per comment within 7 days, Instagram
replies only to visible top-level comments) and shows what the customer would see
(:meth:`FakeGraph.comment_replies`, :meth:`FakeGraph.private_messages`, :meth:`FakeGraph.is_hidden`).

Facts the fake could not verify against Meta's documentation are marked "(unverified)" and are
attributes, so a test can switch them to whatever the real API turns out to do.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import itertools
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, ClassVar, Literal
from urllib.parse import parse_qsl, urlencode

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from chatops.testing.server import LoopbackFake, ThreadedServer

from .client import DEFAULT_API_VERSION, appsecret_proof, format_graph_time, parse_graph_time
from .signature import SIGNATURE_HEADER, sign

__all__ = [
    "FakeGraph",
    "GraphCall",
    "facebook_comment_change",
    "facebook_feed_entry",
    "facebook_feed_payload",
    "instagram_comment_change",
    "instagram_comment_payload",
    "signed_webhook",
]

_Response = tuple[int, dict[str, Any], dict[str, str]]

#: Default error text per code, close to what Graph answers.
_DEFAULT_MESSAGES: dict[int, tuple[str, str]] = {
    1: ("An unknown error has occurred.", "OAuthException"),
    2: ("An unexpected error has occurred. Please retry your request later.", "OAuthException"),
    4: ("(#4) Application request limit reached", "OAuthException"),
    10: ("(#10) Application does not have permission for this action", "OAuthException"),
    17: ("(#17) User request limit reached", "OAuthException"),
    32: ("(#32) Page request limit reached", "OAuthException"),
    100: ("(#100) Invalid parameter", "OAuthException"),
    102: ("Session key invalid or no longer valid", "OAuthException"),
    190: ("Error validating access token: Session has expired.", "OAuthException"),
    200: ("(#200) Permissions error", "OAuthException"),
    613: ("(#613) Calls to this api have exceeded the rate limit.", "OAuthException"),
    80001: (
        "There have been too many calls to this Page account. Wait a bit and try again.",
        "OAuthException",
    ),
    80002: (
        "There have been too many calls to this Instagram account. Wait a bit and try again.",
        "OAuthException",
    ),
}


@dataclass
class GraphCall:
    """One request the fake received, and what it answered."""

    method: str
    #: Path without the version prefix, e.g. ``/123_456/comments``.
    path: str
    #: Query parameters (``access_token`` removed: see :attr:`token`).
    params: dict[str, Any]
    #: Body parameters, JSON-looking values decoded (``recipient`` is a dict).
    data: dict[str, Any]
    #: The access token presented (header or parameter), or None.
    token: str | None
    status: int
    response: dict[str, Any]
    #: ``time.time()`` when the request was answered.
    at: float


@dataclass
class _Failure:
    """A scripted error for the next matching requests."""

    method: str
    pattern: re.Pattern[str]
    status: int
    body: dict[str, Any]
    headers: dict[str, str]
    remaining: int


@dataclass
class _Node:
    """One object of the fake graph (post, comment, media, Instagram comment)."""

    kind: Literal["post", "comment", "ig_media", "ig_comment"]
    fields: dict[str, Any]
    created: datetime
    parent_id: str | None = None
    container_id: str | None = None  # post of a comment, media of an Instagram comment
    hidden: bool = False
    extra: dict[str, Any] = field(default_factory=dict)


def _now() -> datetime:
    """Return the current time, aware, in UTC."""
    return datetime.now(UTC)


def _aware(moment: datetime | None, default: Callable[[], datetime]) -> datetime:
    """Return ``moment`` as an aware UTC datetime (naive means UTC), or ``default()`` when None."""
    if moment is None:
        return default()
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _parse_fields(spec: str) -> dict[str, dict | None]:
    """Parse a Graph ``fields`` value such as ``id,from{id,name},replies{id,text}`` into a tree."""
    tree, pos = _parse_field_list(spec, 0)
    if pos != len(spec):
        raise ValueError("unbalanced braces in fields")
    return tree


def _parse_field_list(spec: str, pos: int) -> tuple[dict[str, dict | None], int]:
    """Parse fields from ``pos`` up to a closing brace or the end; return the tree and where it stopped."""
    tree: dict[str, dict | None] = {}
    start = pos
    while pos < len(spec) and spec[pos] != "}":
        char = spec[pos]
        if char == ",":
            name = spec[start:pos].strip()
            if name:
                tree.setdefault(name, None)
            start = pos + 1
        elif char == "{":
            name = spec[start:pos].strip()
            sub, pos = _parse_field_list(spec, pos + 1)
            if not name or pos >= len(spec) or spec[pos] != "}":
                raise ValueError("unbalanced braces in fields")
            tree[name] = sub
            start = pos + 1
        pos += 1
    name = spec[start:pos].strip()
    if name:
        tree.setdefault(name, None)
    return tree, pos


def _decode_value(value: str) -> Any:
    """Decode a form value that holds JSON (``recipient={"comment_id": ...}``); leave others as text."""
    stripped = value.strip()
    if stripped[:1] in "{[":
        try:
            return json.loads(stripped)
        except ValueError:
            return value
    return value


def _truthy(value: Any) -> bool | None:
    """Interpret a Graph boolean parameter; None when it is not a boolean."""
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in {"true", "1"}:
        return True
    if text in {"false", "0"}:
        return False
    return None


def _encode_cursor(index: int) -> str:
    """Encode a list position as an opaque cursor."""
    return base64.urlsafe_b64encode(f"cursor:{index}".encode()).decode().rstrip("=")


def _decode_cursor(cursor: str) -> int:
    """Decode a cursor made by :func:`_encode_cursor`; raise ValueError if it is not one."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError) as exc:
        raise ValueError(cursor) from exc
    prefix, _, number = raw.partition(":")
    if prefix != "cursor" or not number.isdigit():
        raise ValueError(cursor)
    return int(number)


class _GraphFailure(Exception):
    """Internal: abort handling with a Graph error response."""

    def __init__(self, response: _Response) -> None:
        """Carry ``(status, body, headers)`` of the error response."""
        super().__init__(response[1]["error"]["message"])
        self.response = response


class FakeGraph(LoopbackFake):
    """A Graph API fake for one Page and its linked Instagram account, served over loopback HTTP."""

    def __init__(
        self,
        *,
        access_token: str = "page-token",  # noqa: S107 - the fake's own test token
        api_version: str = DEFAULT_API_VERSION,
        page_id: str = "1000",
        page_name: str = "Kahvila Aurinko",
        ig_user_id: str = "17841400000000000",
        ig_username: str = "kahvila.aurinko",
        app_secret: str | None = None,
        page_size: int = 25,
        clock: Callable[[], datetime] = _now,
    ) -> None:
        """Create an empty fake; ``app_secret`` makes it require a valid ``appsecret_proof``.

        ``page_size`` caps every page of every edge (Graph's own caps vary by edge); lower it to make
        tests page. ``clock`` supplies "now" for the 7-day private reply window.
        """
        self.access_token = access_token
        self.api_version = api_version
        self.page_id = page_id
        self.page_name = page_name
        self.ig_user_id = ig_user_id
        self.ig_username = ig_username
        self.app_secret = app_secret
        self._default_page_size = page_size
        self._default_clock = clock
        self._lock = threading.RLock()
        self._server: ThreadedServer | None = None
        self.reset()
        self.app = Starlette(routes=[Route("/{path:path}", self._endpoint, methods=["GET", "POST", "DELETE"])])

    def reset(self) -> None:
        """Forget all objects, calls, scripted failures and sent messages; restore the default rules.

        Lets one running server serve many tests (starting a server costs ~0.2 s).
        """
        with self._lock:
            self.page_size = self._default_page_size
            self.clock = self._default_clock
            #: How long after a comment a private reply is still allowed (documented: 7 days).
            self.private_reply_window = timedelta(days=7)
            #: Error for a private reply outside the window: (code, subcode, message). (unverified: Meta
            #: documents the window but not the error; this is the Send API's "outside of allowed window".)
            self.private_reply_window_error: tuple[int, int | None, str] = (
                10,
                2018278,
                "(#10) This message is sent outside of allowed window.",
            )
            #: Error for a second private reply to the same comment. (unverified: widely reported by
            #: integrators as "(#10900) Activity already replied to"; not in Meta's error tables.)
            self.private_reply_duplicate_error: tuple[int, int | None, str] = (
                10900,
                None,
                "(#10900) Activity already replied to",
            )
            #: What an Instagram reply to a reply does. Meta documents "replies to a reply will be added to
            #: the top-level comment" ("thread"); "reject" answers ``ig_reply_error`` instead,
            #: for tests of code that must not rely on the threading.
            self.ig_reply_to_reply: Literal["thread", "reject"] = "thread"
            #: Error for an Instagram reply refused (reply to a hidden comment, or to a reply under
            #: "reject"). (unverified: Meta documents the limitation but not the error code.)
            self.ig_reply_error: tuple[int, int | None, str] = (
                100,
                None,
                "(#100) You can only reply to visible top-level comments.",
            )
            self._nodes: dict[str, _Node] = {}
            self._private: list[dict[str, Any]] = []
            self._private_done: set[str] = set()
            self._failures: list[_Failure] = []
            self._delays: list[tuple[str, re.Pattern[str], float, int]] = []
            self._calls: list[GraphCall] = []
            self._ids = itertools.count(1)

    # ------------------------------------------------------------------------------------- lifecycle

    def served_app(self) -> Starlette:
        """The Graph API's routes."""
        return self.app

    # ------------------------------------------------------------------------------------ inspection

    @property
    def calls(self) -> list[GraphCall]:
        """A snapshot of every request received so far, in order."""
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str, path_regex: str) -> list[GraphCall]:
        """Return the recorded calls with this method whose path fully matches ``path_regex``."""
        pattern = re.compile(path_regex)
        return [c for c in self.calls if c.method == method.upper() and pattern.fullmatch(c.path)]

    async def wait_for(
        self,
        method: str,
        path_regex: str,
        *,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - a polling deadline, part of the documented API
    ) -> list[GraphCall]:
        """Wait until at least ``count`` matching calls arrived; return them, or raise TimeoutError."""
        deadline = time.monotonic() + timeout
        while True:
            found = self.calls_to(method, path_regex)
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                seen = ", ".join(f"{c.method} {c.path}" for c in self.calls) or "none"
                raise TimeoutError(
                    f"expected {count} x {method.upper()} {path_regex}, got {len(found)}; calls seen: {seen}"
                )
            await asyncio.sleep(0.01)

    def comment_replies(self, comment_id: str) -> list[dict[str, Any]]:
        """Return the public replies under a comment (Facebook or Instagram), oldest first."""
        with self._lock:
            replies = [n for n in self._nodes.values() if n.parent_id == comment_id]
            replies.sort(key=lambda n: n.created)
            return [self._full(n) for n in replies]

    def private_messages(self, comment_id: str | None = None) -> list[dict[str, Any]]:
        """Return the private replies sent (all, or those answering ``comment_id``), oldest first.

        Each is ``{"comment_id", "recipient_id", "platform", "text", "message_id", "sent_at"}``.
        """
        with self._lock:
            return [dict(m) for m in self._private if comment_id is None or m["comment_id"] == comment_id]

    def is_hidden(self, comment_id: str) -> bool:
        """Tell whether a comment is hidden; KeyError for an unknown comment."""
        with self._lock:
            return self._nodes[comment_id].hidden

    def exists(self, object_id: str) -> bool:
        """Tell whether a post, comment or media with this id is on the fake."""
        with self._lock:
            return object_id in self._nodes

    def comment(self, comment_id: str) -> dict[str, Any]:
        """Return the full stored representation of a comment (Facebook or Instagram)."""
        with self._lock:
            return self._full(self._nodes[comment_id])

    # ----------------------------------------------------------------------------------------- setup

    def add_post(
        self,
        post_id: str,
        message: str,
        *,
        created_time: datetime | None = None,
        permalink_url: str | None = None,
    ) -> None:
        """Add a Page post; ``post_id`` conventionally looks like ``{page_id}_{n}``."""
        created = _aware(created_time, self.clock)
        with self._lock:
            self._nodes[post_id] = _Node(
                kind="post",
                created=created,
                fields={
                    "id": post_id,
                    "message": message,
                    "created_time": format_graph_time(created),
                    "permalink_url": permalink_url
                    or f"https://www.facebook.com/{self.page_id}/posts/{post_id.split('_')[-1]}",
                },
            )

    def add_comment(
        self,
        comment_id: str,
        *,
        post_id: str,
        message: str,
        from_id: str,
        from_name: str,
        parent_id: str | None = None,
        created_time: datetime | None = None,
        is_hidden: bool = False,
    ) -> None:
        """Add a Facebook comment on ``post_id`` (a reply when ``parent_id`` names another comment)."""
        created = _aware(created_time, self.clock)
        with self._lock:
            if post_id not in self._nodes:
                raise KeyError(f"unknown post {post_id}")
            if parent_id is not None and parent_id not in self._nodes:
                raise KeyError(f"unknown parent comment {parent_id}")
            self._nodes[comment_id] = _Node(
                kind="comment",
                created=created,
                parent_id=parent_id,
                container_id=post_id,
                hidden=is_hidden,
                fields={
                    "id": comment_id,
                    "message": message,
                    "from": {"name": from_name, "id": from_id},
                    "created_time": format_graph_time(created),
                    "permalink_url": f"https://www.facebook.com/{post_id.replace('_', '/posts/', 1)}"
                    f"?comment_id={comment_id.split('_')[-1]}",
                },
            )

    def add_ig_media(
        self,
        media_id: str,
        caption: str = "",
        *,
        timestamp: datetime | None = None,
        permalink: str | None = None,
        media_type: str = "IMAGE",
        media_product_type: str = "FEED",
    ) -> None:
        """Add an Instagram media object owned by the fake's Instagram account."""
        created = _aware(timestamp, self.clock)
        with self._lock:
            self._nodes[media_id] = _Node(
                kind="ig_media",
                created=created,
                fields={
                    "id": media_id,
                    "caption": caption,
                    "permalink": permalink or f"https://www.instagram.com/p/{media_id}/",
                    "timestamp": format_graph_time(created),
                    "media_type": media_type,
                    "media_product_type": media_product_type,
                    "username": self.ig_username,
                },
            )

    def add_ig_comment(
        self,
        comment_id: str,
        *,
        media_id: str,
        text: str,
        from_id: str,
        username: str,
        parent_id: str | None = None,
        timestamp: datetime | None = None,
        hidden: bool = False,
    ) -> None:
        """Add an Instagram comment on ``media_id`` (a reply when ``parent_id`` names a comment)."""
        created = _aware(timestamp, self.clock)
        with self._lock:
            if media_id not in self._nodes:
                raise KeyError(f"unknown media {media_id}")
            if parent_id is not None and parent_id not in self._nodes:
                raise KeyError(f"unknown parent comment {parent_id}")
            self._nodes[comment_id] = _Node(
                kind="ig_comment",
                created=created,
                parent_id=parent_id,
                container_id=media_id,
                hidden=hidden,
                fields={
                    "id": comment_id,
                    "text": text,
                    "username": username,
                    "from": {"id": from_id, "username": username},
                    "timestamp": format_graph_time(created),
                    "like_count": 0,
                },
            )

    def delay_answers(self, method: str, path_regex: str, *, seconds: float, times: int = 1) -> None:
        """Perform the next ``times`` matching requests at once but answer them ``seconds`` late.

        As when Meta took a reply and the answer was slow or lost: a client that gives up waiting
        cannot tell whether the call took effect. ``method`` may be ``"*"``.
        """
        with self._lock:
            self._delays.append((method.upper(), re.compile(path_regex), seconds, times))

    def _delay_for(self, method: str, path: str) -> float:
        """Seconds to hold this request's answer (a scripted :meth:`delay_answers`). Lock held."""
        for index, (want, pattern, seconds, times) in enumerate(self._delays):
            if want in ("*", method) and pattern.search(path):
                if times <= 1:
                    del self._delays[index]
                else:
                    self._delays[index] = (want, pattern, seconds, times - 1)
                return seconds
        return 0.0

    def fail_next(
        self,
        method: str,
        path_regex: str,
        *,
        code: int = 190,
        http_status: int = 400,
        subcode: int | None = None,
        message: str | None = None,
        times: int = 1,
        headers: dict[str, str] | None = None,
        error_type: str | None = None,
    ) -> None:
        """Make the next ``times`` requests matching ``method`` (or ``"*"``) and ``path_regex`` fail.

        The body is Graph's error object (``message, type, code, error_subcode, fbtrace_id``; codes 1,
        2, 4, 17, 32, 613 and 5xx statuses add ``is_transient: true``). Rate-limit codes add usage
        headers unless ``headers`` is given: ``X-App-Usage`` at 100% for 4 and 17, and
        ``X-Business-Use-Case-Usage`` with ``estimated_time_to_regain_access: 1`` (minute) for 32, 613
        and 80001–80009. The check runs before the token check.
        """
        default_message, default_type = _DEFAULT_MESSAGES.get(code, (f"(#{code}) Error", "OAuthException"))
        body = self._error_body(
            code,
            message or default_message,
            subcode=subcode,
            error_type=error_type or default_type,
            transient=code in {1, 2, 4, 17, 32, 613} or http_status >= 500,
        )
        if headers is None:
            headers = {}
            if code in {4, 17}:
                headers["X-App-Usage"] = json.dumps({"call_count": 100, "total_cputime": 12, "total_time": 30})
            elif code in {32, 613} or 80001 <= code <= 80009:
                usage = {
                    "type": "instagram" if code == 80002 else "pages",
                    "call_count": 100,
                    "total_cputime": 10,
                    "total_time": 20,
                    "estimated_time_to_regain_access": 1,
                }
                headers["X-Business-Use-Case-Usage"] = json.dumps({self.page_id: [usage]})
        with self._lock:
            self._failures.append(
                _Failure(
                    method=method.upper(),
                    pattern=re.compile(path_regex),
                    status=http_status,
                    body=body,
                    headers=dict(headers),
                    remaining=times,
                )
            )

    # ----------------------------------------------------------------------------------------- HTTP

    @staticmethod
    def _error_body(
        code: int,
        message: str,
        *,
        subcode: int | None = None,
        error_type: str = "OAuthException",
        transient: bool = False,
    ) -> dict[str, Any]:
        """Return Graph's error object."""
        error: dict[str, Any] = {"message": message, "type": error_type, "code": code}
        if subcode is not None:
            error["error_subcode"] = subcode
        if transient:
            error["is_transient"] = True
        error["fbtrace_id"] = "A" + secrets.token_urlsafe(8)
        return {"error": error}

    def _error(
        self,
        code: int,
        message: str,
        *,
        subcode: int | None = None,
        status: int = 400,
        error_type: str = "OAuthException",
    ) -> _GraphFailure:
        """Return an exception carrying a Graph error response."""
        return _GraphFailure((status, self._error_body(code, message, subcode=subcode, error_type=error_type), {}))

    def _no_object(self, method: str, object_id: str) -> _GraphFailure:
        """Graph's answer for an id that does not exist or cannot be used that way (code 100/33)."""
        verb = "get" if method == "GET" else "post" if method == "POST" else "delete"
        return self._error(
            100,
            f"Unsupported {verb} request. Object with ID '{object_id}' does not exist, cannot be loaded "
            "due to missing permissions, or does not support this operation. Please read the Graph API "
            "documentation at https://developers.facebook.com/docs/graph-api",
            subcode=33,
            error_type="GraphMethodException",
        )

    async def _endpoint(self, request: Request) -> JSONResponse:
        """Serve every request: parse, dispatch under the lock, record, answer."""
        raw = await request.body()
        params: dict[str, Any] = dict(request.query_params)
        data: dict[str, Any] = {}
        content_type = request.headers.get("content-type", "")
        if raw and "json" in content_type:
            try:
                decoded = json.loads(raw)
            except ValueError:
                decoded = None
            if isinstance(decoded, dict):
                data = decoded
        elif raw:
            data = {k: _decode_value(v) for k, v in parse_qsl(raw.decode("utf-8", "replace"), keep_blank_values=True)}
        token = None
        auth = request.headers.get("authorization", "")
        scheme, _, credentials = auth.partition(" ")
        if scheme.lower() in {"bearer", "oauth"} and credentials.strip():
            token = credentials.strip()
        token = token or params.pop("access_token", None) or data.pop("access_token", None)
        params.pop("access_token", None)
        method = request.method.upper()
        full_path = request.url.path
        with self._lock:
            try:
                status, body, headers = self._dispatch(method, full_path, params, data, token)
            except _GraphFailure as failure:
                status, body, headers = failure.response
            segments = [s for s in full_path.split("/") if s]
            path = "/" + "/".join(segments[1:] if segments and segments[0] == self.api_version else segments)
            self._calls.append(
                GraphCall(
                    method=method,
                    path=path,
                    params=params,
                    data=data,
                    token=token,
                    status=status,
                    response=body,
                    at=time.time(),
                )
            )
            delay = self._delay_for(method, path)
        if delay:
            await asyncio.sleep(delay)
        return JSONResponse(body, status_code=status, headers=headers)

    def _dispatch(
        self,
        method: str,
        full_path: str,
        params: dict[str, Any],
        data: dict[str, Any],
        token: str | None,
    ) -> _Response:
        """Check version, scripted failures, token and proof, then route to a handler."""
        segments = [s for s in full_path.split("/") if s]
        if not segments or segments[0] != self.api_version:
            # (unverified) the exact answer Graph gives for an unknown or missing version prefix.
            shown = segments[0] if segments else ""
            raise self._error(2500, f"Unknown path components: /{shown}")
        segments = segments[1:]
        path = "/" + "/".join(segments)
        for failure in self._failures:
            if failure.remaining > 0 and failure.method in {method, "*"} and failure.pattern.fullmatch(path):
                failure.remaining -= 1
                body = json.loads(json.dumps(failure.body))
                body["error"]["fbtrace_id"] = "A" + secrets.token_urlsafe(8)
                return failure.status, body, dict(failure.headers)
        if token is None:
            raise self._error(104, "An access token is required to request this resource.")
        if not secrets.compare_digest(token.encode(), self.access_token.encode()):
            raise self._error(190, "Invalid OAuth access token - Cannot parse access token")
        if self.app_secret:
            proof = params.get("appsecret_proof") or data.get("appsecret_proof")
            if not proof:
                raise self._error(
                    100,
                    "API calls from the server require an appsecret_proof argument",
                    error_type="GraphMethodException",
                )
            expected = appsecret_proof(self.access_token, self.app_secret)
            if not secrets.compare_digest(str(proof).encode(), expected.encode()):
                raise self._error(
                    100,
                    "Invalid appsecret_proof provided in the API argument",
                    error_type="GraphMethodException",
                )
        if not segments:
            raise self._error(100, "(#100) Unsupported request")
        merged = {**params, **data}
        if method == "GET":
            return self._get(segments, params)
        if method == "POST":
            return self._post(segments, merged)
        raise self._no_object(method, segments[0])

    # ---------------------------------------------------------------------------------- rendering

    def _full(self, node: _Node) -> dict[str, Any]:
        """Return every field of a node, computed ones included."""
        out = json.loads(json.dumps(node.fields))
        if node.kind == "comment":
            out["is_hidden"] = node.hidden
            if node.parent_id is not None:
                out["parent"] = {"id": node.parent_id}
            out["object"] = {"id": node.container_id}
        elif node.kind == "ig_comment":
            out["hidden"] = node.hidden
            out["media"] = {"id": node.container_id}
            if node.parent_id is not None:
                out["parent_id"] = node.parent_id
        elif node.kind == "ig_media":
            out["comments_count"] = sum(
                1 for n in self._nodes.values() if n.kind == "ig_comment" and n.container_id == node.fields["id"]
            )
        return out

    _DEFAULT_FIELDS: ClassVar[dict[str, str]] = {
        "post": "created_time,message,id",
        "comment": "created_time,from,message,id",
        "ig_media": "id",
        "ig_comment": "timestamp,text,id",
    }
    _TYPE_NAMES: ClassVar[dict[str, str]] = {
        "post": "Post",
        "comment": "Comment",
        "ig_media": "IGMedia",
        "ig_comment": "IGComment",
    }
    _NESTED_EDGES: ClassVar[dict[str, frozenset[str]]] = {
        "post": frozenset({"comments"}),
        "comment": frozenset({"comments"}),
        "ig_media": frozenset({"comments"}),
        "ig_comment": frozenset({"replies"}),
    }

    def _render(self, node: _Node, fields: dict[str, dict | None] | None) -> dict[str, Any]:
        """Return a node restricted to ``fields`` (Graph's defaults when None), nested edges expanded."""
        if fields is None:
            fields = _parse_fields(self._DEFAULT_FIELDS[node.kind])
        full = self._full(node)
        out: dict[str, Any] = {}
        for name, sub in fields.items():
            if name in self._NESTED_EDGES[node.kind]:
                children = self._edge_items(node, name, {})
                out[name] = self._page(children, {}, sub, f"/{node.fields['id']}/{name}")
                if not out[name]["data"]:
                    del out[name]
                continue
            if name not in full:
                if name in {"parent", "parent_id", "permalink_url"}:
                    continue  # optional fields are simply absent when they have no value
                raise self._nonexisting_field(node, name)
            value = full[name]
            if sub is not None and isinstance(value, dict):
                value = {k: v for k, v in value.items() if k in sub}
            out[name] = value
        out.setdefault("id", full["id"])
        return out

    def _nonexisting_field(self, node: _Node, name: str) -> _GraphFailure:
        """Graph's answer for a field or edge a node type does not have."""
        node_type = self._TYPE_NAMES[node.kind]
        return self._error(100, f"(#100) Tried accessing nonexisting field ({name}) on node type ({node_type})")

    def _edge_items(self, node: _Node, edge: str, params: dict[str, Any]) -> list[_Node]:
        """Return the nodes of an edge of ``node`` in Graph's order, before paging."""
        key = node.fields["id"]
        if node.kind == "post" and edge == "comments":
            items = [n for n in self._nodes.values() if n.kind == "comment" and n.container_id == key]
            if params.get("filter", "toplevel") != "stream":
                items = [n for n in items if n.parent_id is None]
        elif node.kind == "comment" and edge == "comments":
            if params.get("filter", "toplevel") == "stream":
                items = [n for n in self._nodes.values() if n.kind == "comment" and self._descends(n, key)]
            else:
                items = [n for n in self._nodes.values() if n.parent_id == key]
        elif node.kind == "ig_media" and edge == "comments":
            items = [
                n
                for n in self._nodes.values()
                if n.kind == "ig_comment" and n.container_id == key and n.parent_id is None
            ]
        elif node.kind == "ig_comment" and edge == "replies":
            items = [n for n in self._nodes.values() if n.parent_id == key]
        else:
            raise self._nonexisting_field(node, edge)
        # Instagram media comments come newest first, as integrators report (unverified); other
        # edges are chronological unless ``order=reverse_chronological``.
        newest_first = node.kind == "ig_media" or params.get("order") == "reverse_chronological"
        items.sort(key=lambda n: n.created, reverse=newest_first)
        return items

    def _descends(self, node: _Node, ancestor_id: str) -> bool:
        """Tell whether ``node`` is a reply, at any depth, under ``ancestor_id``."""
        parent = node.parent_id
        while parent is not None:
            if parent == ancestor_id:
                return True
            parent = self._nodes[parent].parent_id if parent in self._nodes else None
        return False

    def _time_filter(self, items: list[_Node], params: dict[str, Any]) -> list[_Node]:
        """Apply ``since`` (inclusive) and ``until`` (inclusive), unix seconds or ISO 8601."""
        bounds: dict[str, datetime] = {}
        for key in ("since", "until"):
            raw = params.get(key)
            if raw in (None, ""):
                continue
            text = str(raw)
            moment = parse_graph_time(int(text)) if text.lstrip("-").isdigit() else parse_graph_time(text)
            if moment is None:
                raise self._error(100, f"(#100) The parameter {key} is not a valid date/time")
            bounds[key] = moment
        if "since" in bounds:
            items = [n for n in items if n.created >= bounds["since"]]
        if "until" in bounds:
            items = [n for n in items if n.created <= bounds["until"]]
        return items

    def _page(
        self,
        items: list[_Node],
        params: dict[str, Any],
        fields: dict[str, dict | None] | None,
        path: str,
    ) -> dict[str, Any]:
        """Cut one page out of ``items`` and render it with Graph's ``paging`` object."""
        try:
            limit = int(params.get("limit", 25))
            start = _decode_cursor(str(params["after"])) if params.get("after") else 0
            before = _decode_cursor(str(params["before"])) if params.get("before") else None
        except ValueError as exc:
            raise self._error(100, "(#100) Invalid paging parameter") from exc
        if limit <= 0:
            raise self._error(100, "(#100) The parameter limit must be a positive integer")
        limit = min(limit, self.page_size)
        if before is not None:
            start = max(0, before - limit)
            limit = before - start
        chunk = items[start : start + limit]
        result: dict[str, Any] = {"data": [self._render(n, fields) for n in chunk]}
        if not items:
            return result
        end = start + len(chunk)
        paging: dict[str, Any] = {"cursors": {"before": _encode_cursor(start), "after": _encode_cursor(end)}}
        base_query = {k: v for k, v in params.items() if k not in {"after", "before"}}
        base_query.setdefault("limit", limit)
        if fields is not None and "fields" not in base_query:
            base_query["fields"] = _unparse_fields(fields)
        prefix = f"{self.base_url}/{self.api_version}{path}?"
        if end < len(items):
            paging["next"] = prefix + urlencode({**base_query, "after": _encode_cursor(end)})
        if start > 0:
            paging["previous"] = prefix + urlencode({**base_query, "before": _encode_cursor(start)})
        result["paging"] = paging
        return result

    # ------------------------------------------------------------------------------------------ GET

    def _get(self, segments: list[str], params: dict[str, Any]) -> _Response:
        """Answer a GET: a node, or one of the edges the plugins read."""
        try:
            fields = _parse_fields(params["fields"]) if params.get("fields") else None
        except ValueError as exc:
            raise self._error(100, "(#100) Syntax error in fields parameter") from exc
        object_id = segments[0]
        if len(segments) == 1:
            if object_id in {self.page_id, "me"}:
                return 200, self._select({"id": self.page_id, "name": self.page_name}, fields), {}
            if object_id == self.ig_user_id:
                return 200, self._select({"id": self.ig_user_id, "username": self.ig_username}, fields), {}
            node = self._nodes.get(object_id)
            if node is None:
                raise self._no_object("GET", object_id)
            return 200, self._render(node, fields), {}
        if len(segments) != 2:
            raise self._no_object("GET", "/".join(segments))
        edge = segments[1]
        path = f"/{object_id}/{edge}"
        if object_id in {self.page_id, "me"} and edge in {"posts", "feed", "published_posts"}:
            posts = [n for n in self._nodes.values() if n.kind == "post"]
            posts.sort(key=lambda n: n.created, reverse=True)
            return 200, self._page(self._time_filter(posts, params), params, fields, path), {}
        if object_id == self.ig_user_id and edge == "media":
            media = [n for n in self._nodes.values() if n.kind == "ig_media"]
            media.sort(key=lambda n: n.created, reverse=True)
            return 200, self._page(self._time_filter(media, params), params, fields, path), {}
        node = self._nodes.get(object_id)
        if node is None:
            raise self._no_object("GET", object_id)
        items = self._time_filter(self._edge_items(node, edge, params), params)
        return 200, self._page(items, params, fields, path), {}

    def _select(self, full: dict[str, Any], fields: dict[str, dict | None] | None) -> dict[str, Any]:
        """Restrict a flat object to the requested fields (id always kept)."""
        if fields is None:
            return dict(full)
        out = {k: v for k, v in full.items() if k in fields}
        out["id"] = full["id"]
        return out

    # ----------------------------------------------------------------------------------------- POST

    def _post(self, segments: list[str], data: dict[str, Any]) -> _Response:
        """Answer a POST: replies, hide/unhide, private replies."""
        object_id = segments[0]
        if len(segments) == 2 and segments[1] == "messages" and object_id in {self.page_id, self.ig_user_id, "me"}:
            return self._private_reply(object_id, data)
        node = self._nodes.get(object_id)
        if node is None:
            raise self._no_object("POST", object_id)
        if len(segments) == 1:
            return self._hide(node, data)
        if len(segments) == 2 and segments[1] == "comments" and node.kind in {"post", "comment"}:
            return self._facebook_reply(node, data)
        if len(segments) == 2 and segments[1] == "replies" and node.kind == "ig_comment":
            return self._instagram_reply(node, data)
        raise self._no_object("POST", "/".join(segments))

    def _message_text(self, data: dict[str, Any]) -> str:
        """Return the required ``message`` parameter of a comment or reply."""
        message = data.get("message")
        if not isinstance(message, str) or not message.strip():
            raise self._error(100, "(#100) Missing message or attachment")
        return message

    def _new_id(self, prefix: str) -> str:
        """Return a fresh numeric-looking id."""
        return f"{prefix}{9_000_000 + next(self._ids)}"

    def _facebook_reply(self, target: _Node, data: dict[str, Any]) -> _Response:
        """Create a comment by the Page on a post, or a reply under a comment; answer ``{"id"}``."""
        text = self._message_text(data)
        post_id = target.fields["id"] if target.kind == "post" else target.container_id
        assert post_id is not None
        now = _aware(None, self.clock)
        new_id = f"{post_id.split('_')[-1]}_{self._new_id('')}"
        self._nodes[new_id] = _Node(
            kind="comment",
            created=now,
            parent_id=None if target.kind == "post" else target.fields["id"],
            container_id=post_id,
            fields={
                "id": new_id,
                "message": text,
                "from": {"name": self.page_name, "id": self.page_id},
                "created_time": format_graph_time(now),
                "permalink_url": f"https://www.facebook.com/{post_id.replace('_', '/posts/', 1)}"
                f"?comment_id={new_id.split('_')[-1]}",
            },
        )
        return 200, {"id": new_id}, {}

    def _instagram_reply(self, target: _Node, data: dict[str, Any]) -> _Response:
        """Create an Instagram reply (top-level, visible comments only); answer ``{"id"}``."""
        text = self._message_text(data)
        code, subcode, message = self.ig_reply_error
        if target.hidden:
            raise self._error(code, message, subcode=subcode)
        parent = target
        if target.parent_id is not None:
            if self.ig_reply_to_reply == "reject":
                raise self._error(code, message, subcode=subcode)
            parent = self._nodes[target.parent_id]
        now = _aware(None, self.clock)
        new_id = self._new_id("1790")
        self._nodes[new_id] = _Node(
            kind="ig_comment",
            created=now,
            parent_id=parent.fields["id"],
            container_id=parent.container_id,
            fields={
                "id": new_id,
                "text": text,
                "username": self.ig_username,
                "from": {"id": self.ig_user_id, "username": self.ig_username},
                "timestamp": format_graph_time(now),
                "like_count": 0,
            },
        )
        return 200, {"id": new_id}, {}

    def _hide(self, node: _Node, data: dict[str, Any]) -> _Response:
        """Hide or unhide a comment: ``is_hidden`` on Facebook, ``hide`` on Instagram."""
        key = "is_hidden" if node.kind == "comment" else "hide" if node.kind == "ig_comment" else None
        if key is None:
            raise self._no_object("POST", node.fields["id"])
        value = _truthy(data.get(key)) if key in data else None
        if value is None:
            raise self._error(100, f"(#100) The parameter {key} is required and must be a boolean")
        node.hidden = value
        return 200, {"success": True}, {}

    def _private_reply(self, owner: str, data: dict[str, Any]) -> _Response:
        """Send a private reply to a comment's author: once per comment, within the window."""
        recipient = data.get("recipient")
        if isinstance(recipient, str):
            recipient = _decode_value(recipient)
        message = data.get("message")
        if isinstance(message, str):
            message = _decode_value(message)
        if not isinstance(recipient, dict) or not recipient:
            raise self._error(100, "(#100) param recipient must be non-empty.")
        comment_id = recipient.get("comment_id")
        node = self._nodes.get(str(comment_id)) if comment_id else None
        valid_kinds = {"comment", "ig_comment"} if owner in {self.page_id, "me"} else {"ig_comment"}
        if node is None or node.kind not in valid_kinds:
            raise self._error(100, "(#100) Invalid comment_id parameter", subcode=2018292)
        text = message.get("text") if isinstance(message, dict) else None
        if not isinstance(text, str) or not text.strip():
            raise self._error(100, "(#100) Message cannot be empty, must provide valid attachment or text")
        from_id = node.fields["from"]["id"]
        if from_id in {self.page_id, self.ig_user_id}:
            raise self._error(100, "(#100) Cannot send a private reply to your own comment")
        if node.fields["id"] in self._private_done:
            code, subcode, text_ = self.private_reply_duplicate_error
            raise self._error(code, text_, subcode=subcode)
        now = _aware(None, self.clock)
        if now - node.created > self.private_reply_window:
            code, subcode, text_ = self.private_reply_window_error
            raise self._error(code, text_, subcode=subcode)
        self._private_done.add(node.fields["id"])
        message_id = "m_" + secrets.token_urlsafe(18)
        self._private.append(
            {
                "comment_id": node.fields["id"],
                "recipient_id": from_id,
                "platform": "facebook" if node.kind == "comment" else "instagram",
                "text": text,
                "message_id": message_id,
                "sent_at": now,
            }
        )
        return 200, {"recipient_id": from_id, "message_id": message_id}, {}


def _unparse_fields(fields: dict[str, dict | None]) -> str:
    """Turn a parsed ``fields`` tree back into Graph syntax."""
    parts = []
    for name, sub in fields.items():
        parts.append(name if sub is None else f"{name}{{{_unparse_fields(sub)}}}")
    return ",".join(parts)


# ------------------------------------------------------------------------------------------ webhooks


def _unix_time(moment: datetime | None) -> int:
    """Return unix seconds for ``moment`` (now when None; naive means UTC)."""
    return int(_aware(moment, _now).timestamp())


def facebook_comment_change(
    *,
    page_id: str,
    comment_id: str,
    post_id: str,
    message: str,
    from_id: str,
    from_name: str,
    verb: str = "add",
    parent_id: str | None = None,
    created_time: datetime | None = None,
) -> dict[str, Any]:
    """Build one ``changes[]`` item of a Page ``feed`` webhook for a comment event.

    Shape as Meta delivers it: ``{"field": "feed", "value": {"from", "post", "message", "post_id",
    "comment_id", "created_time" (unix), "item": "comment", "parent_id", "verb"}}``. For a top-level
    comment Meta sets ``parent_id`` to the post id, so it is never absent. ``post_id`` without a
    ``{page_id}_`` prefix gets one.
    """
    if "_" not in post_id:
        post_id = f"{page_id}_{post_id}"
    created = _unix_time(created_time)
    value: dict[str, Any] = {
        "from": {"id": from_id, "name": from_name},
        "post": {
            "status_type": "added_photos",
            "is_published": True,
            "updated_time": format_graph_time(datetime.fromtimestamp(created, UTC)),
            "permalink_url": f"https://www.facebook.com/{page_id}/posts/{post_id.split('_')[-1]}",
            "promotion_status": "inactive",
            "id": post_id,
        },
        "post_id": post_id,
        "comment_id": comment_id,
        "created_time": created,
        "item": "comment",
        "parent_id": parent_id or post_id,
        "verb": verb,
    }
    if verb != "remove":
        value["message"] = message
    return {"field": "feed", "value": value}


def facebook_feed_entry(page_id: str, *changes: dict[str, Any], time_: int | None = None) -> dict[str, Any]:
    """Build one ``entry[]`` item of a Page webhook: ``{"id": page_id, "time", "changes": [...]}``."""
    return {"id": page_id, "time": time_ if time_ is not None else int(time.time()), "changes": list(changes)}


def _page_of_change(change: dict[str, Any]) -> str:
    """Infer the Page id of a feed change from its ``post_id`` (``{page_id}_{post}``)."""
    post_id = str(change.get("value", {}).get("post_id", ""))
    page_id, sep, _ = post_id.partition("_")
    if not sep or not page_id:
        raise ValueError("cannot tell the Page of a change without a '{page_id}_{post}' post_id")
    return page_id


def facebook_feed_payload(*entries: dict[str, Any]) -> dict[str, Any]:
    """Build a whole Page webhook body: ``{"object": "page", "entry": [...]}``.

    Each argument is either an entry (from :func:`facebook_feed_entry`) or a bare change (from
    :func:`facebook_comment_change`); bare changes are grouped into one entry per Page, the Page
    inferred from the change's ``post_id``.
    """
    out: list[dict[str, Any]] = []
    grouped: dict[str, dict[str, Any]] = {}
    for item in entries:
        if "changes" in item:
            out.append(item)
            continue
        page_id = _page_of_change(item)
        if page_id not in grouped:
            grouped[page_id] = facebook_feed_entry(page_id)
            out.append(grouped[page_id])
        grouped[page_id]["changes"].append(item)
    return {"object": "page", "entry": out}


def instagram_comment_change(
    *,
    comment_id: str,
    media_id: str,
    text: str,
    from_id: str,
    username: str,
    parent_id: str | None = None,
    media_product_type: str = "FEED",
    field_name: str = "comments",
) -> dict[str, Any]:
    """Build one ``changes[]`` item of an Instagram ``comments`` webhook.

    ``{"field": "comments", "value": {"from": {"id", "username"}, "media": {"id",
    "media_product_type"}, "id", "parent_id"?, "text"}}``; ``parent_id`` only for replies.
    """
    value: dict[str, Any] = {
        "from": {"id": from_id, "username": username},
        "media": {"id": media_id, "media_product_type": media_product_type},
        "id": comment_id,
        "text": text,
    }
    if parent_id is not None:
        value["parent_id"] = parent_id
    return {"field": field_name, "value": value}


def instagram_comment_payload(
    *,
    ig_user_id: str,
    comment_id: str,
    media_id: str,
    text: str,
    from_id: str,
    username: str,
    parent_id: str | None = None,
    media_product_type: str = "FEED",
    time_: int | None = None,
    extra_changes: Iterable[dict[str, Any]] = (),
) -> dict[str, Any]:
    """Build a whole Instagram webhook body with one comment change (plus ``extra_changes``).

    ``{"object": "instagram", "entry": [{"id": ig_user_id, "time", "changes": [...]}]}``.
    """
    change = instagram_comment_change(
        comment_id=comment_id,
        media_id=media_id,
        text=text,
        from_id=from_id,
        username=username,
        parent_id=parent_id,
        media_product_type=media_product_type,
    )
    return {
        "object": "instagram",
        "entry": [
            {
                "id": ig_user_id,
                "time": time_ if time_ is not None else int(time.time()),
                "changes": [change, *extra_changes],
            }
        ],
    }


def signed_webhook(app_secret: str, payload: dict[str, Any]) -> tuple[bytes, dict[str, str]]:
    """Serialise ``payload`` and sign it as Meta does; return the raw body and the request headers.

    Headers: ``Content-Type: application/json`` and ``X-Hub-Signature-256: sha256=<hex>``. Post the
    returned bytes as they are: the signature covers exactly these bytes.
    """
    raw = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    return raw, {"Content-Type": "application/json", SIGNATURE_HEADER: sign(app_secret, raw)}
