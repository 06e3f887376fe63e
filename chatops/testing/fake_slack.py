"""A Slack-compatible fake Web API served over real HTTP.

The bot under test (and any third-party plugin) talks to :class:`FakeSlack` through
the very client it uses in production::

    with FakeSlack() as fake:
        client = AsyncWebClient(base_url=fake.api_url, token=fake.bot_token)
        await client.chat_postMessage(channel="C1", text="hi")
        assert fake.top_level_messages("C1")[0]["text"] == "hi"

The fake checks what Slack checks (authentication, required arguments, Block Kit
limits, message metadata, modal views, per-channel posting pace) and answers the
way Slack answers: HTTP 200 with ``{"ok": false, "error": ...}`` for API errors,
HTTP 429 with ``Retry-After`` when rate limited. Every request is recorded as a
:class:`Call`; the resulting Slack state (messages, threads, views, ephemeral
messages, uploaded files) can be inspected with the accessor methods.

Socket Mode works too: ``apps.connections.open`` with the app-level token
(``fake.app_token``) hands out a ``ws://`` URL on the same server; a client that
connects gets Slack's ``hello``, and a test pushes envelopes to it and reads the
acks::

    handler = AsyncSocketModeHandler(bolt_app, fake.app_token)  # bolt_app's client: fake.api_url
    await handler.connect_async()
    ack = await fake.send_socket_envelope(block_actions_payload)
    assert ack == {"envelope_id": ack["envelope_id"]}

Events the app subscribed to reach it the way Slack sends them:
:meth:`FakeSlack.subscribe_events` names the app's request URL (signed HTTP POSTs) or
Socket Mode, and the message metadata event types it listens for; every message posted
with such metadata is followed by a ``message_metadata_posted`` event.

Bad days are one call away: :meth:`FakeSlack.fail_next` refuses calls, and
:meth:`FakeSlack.lose_answers` performs a share of calls but drops the connection (or
answers 500) instead of answering, as when a network path breaks after Slack took a post.

The server runs on its own thread (see :mod:`chatops.testing.server`), so all state
is guarded by one lock and every accessor returns a copy.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import copy
import hashlib
import importlib.util
import itertools
import json
import logging
import math
import queue
import random
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.parser import BytesParser
from typing import Any
from urllib.parse import parse_qsl, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import httpx
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, PlainTextResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from chatops.testing.server import ThreadedServer
from chatops.testing.slack_requests import event_body, signed_headers

__all__ = [
    "EXTRA_REQUIRED_ARGS",
    "NOT_IN_SPEC",
    "REQUIRED_ARGS",
    "SOCKET_MODE_PATH",
    "UPLOAD_METHOD",
    "Call",
    "FakeSlack",
    "block_kit_errors",
    "message_content_errors",
    "view_errors",
]

# ---------------------------------------------------------------------------
# Required arguments
# ---------------------------------------------------------------------------

# Generated from Slack's OpenAPI 2.0 description of the Web API,
# slackapi/slack-api-specs web-api/slack_web_openapi_v2.json (MIT, archived 2020;
# a copy lives in /work/shared/specs/slack/). For every implemented method: the
# parameters marked ``required`` except ``token``, which the Authorization header
# satisfies. tests/test_fake_slack.py re-derives this from the spec file when present.
REQUIRED_ARGS: dict[str, tuple[str, ...]] = {
    "api.test": (),
    "apps.connections.open": (),
    "auth.test": (),
    "chat.delete": (),
    "chat.getPermalink": ("channel", "message_ts"),
    "chat.postEphemeral": ("channel", "user"),
    "chat.postMessage": ("channel",),
    "chat.update": ("channel", "ts"),
    "conversations.history": (),
    "conversations.info": (),
    "usergroups.list": (),
    "usergroups.users.list": ("usergroup",),
    "users.info": (),
    "views.open": ("trigger_id", "view"),
    "views.publish": ("user_id", "view"),
    "views.push": ("trigger_id", "view"),
    "views.update": (),
    # Not in the 2020 spec (added to Slack later): required arguments as listed on
    # docs.slack.dev/reference/methods/files.getUploadURLExternal,
    # .../files.completeUploadExternal and .../apps.connections.open (Socket Mode, 2021).
    "files.getUploadURLExternal": ("filename", "length"),
    "files.completeUploadExternal": ("files",),
}

# Methods above that the archived spec does not describe.
NOT_IN_SPEC: frozenset[str] = frozenset(
    {"files.getUploadURLExternal", "files.completeUploadExternal", "apps.connections.open"}
)

# Arguments the 2020 spec leaves optional although Slack cannot do without them
# (per docs.slack.dev): the fake requires them too, answering with Slack's error.
EXTRA_REQUIRED_ARGS: dict[str, tuple[str, ...]] = {
    "chat.delete": ("channel", "ts"),
    "users.info": ("user",),
    "conversations.history": ("channel",),
    "conversations.info": ("channel",),
    "views.update": ("view",),
}

# Slack's own error for a missing argument where it has one; otherwise the fake
# answers ``invalid_arguments`` with a "missing required field" message.
_MISSING_ARG_ERRORS: dict[tuple[str, str], str] = {
    ("chat.postMessage", "channel"): "channel_not_found",
    ("chat.update", "channel"): "channel_not_found",
    ("chat.postEphemeral", "channel"): "channel_not_found",
    ("chat.getPermalink", "channel"): "channel_not_found",
    ("chat.delete", "channel"): "channel_not_found",
    ("chat.delete", "ts"): "message_not_found",
    ("chat.update", "ts"): "message_not_found",
    ("chat.getPermalink", "message_ts"): "message_not_found",
    ("conversations.history", "channel"): "channel_not_found",
    ("conversations.info", "channel"): "channel_not_found",
    ("users.info", "user"): "user_not_found",
}

# Arguments that arrive as JSON strings in form-encoded requests.
_JSON_ARGS = frozenset({"blocks", "attachments", "metadata", "view", "files"})

#: Pseudo method name under which uploads to an ``upload_url`` are recorded.
UPLOAD_METHOD = "files.upload.bytes"

#: Path of the Socket Mode WebSocket endpoint; ``apps.connections.open`` returns
#: ``ws://127.0.0.1:PORT/socket-mode/<ticket>``.
SOCKET_MODE_PATH = "/socket-mode"

# Methods that take the app-level token (``xapp-…``) instead of the bot token.
_APP_TOKEN_METHODS = frozenset({"apps.connections.open"})

# ---------------------------------------------------------------------------
# Block Kit limits (docs.slack.dev/reference/block-kit, PLATFORM-NOTES.md)
# ---------------------------------------------------------------------------

MAX_MESSAGE_BLOCKS = 50
MAX_VIEW_BLOCKS = 100
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_ID_LENGTH = 255
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_URL = 3000
MAX_ACTIONS_ELEMENTS = 25
MAX_OPTION_TEXT = 75
MAX_OPTION_VALUE = 150
MAX_OPTIONS = 100
MAX_CONTEXT_ELEMENTS = 10
MAX_PLACEHOLDER = 150
MAX_LABEL = 2000
MAX_MESSAGE_TEXT = 40_000
#: Slack rejects messages whose blocks carry ~13k characters in total; the fake is stricter.
MAX_BLOCKS_TOTAL_TEXT = 12_000
MAX_ATTACHMENTS = 100
MAX_VIEW_TITLE = 24
MAX_VIEW_BUTTON = 24
MAX_CALLBACK_ID = 255
MAX_PRIVATE_METADATA = 3000
MAX_CONFIRM_TITLE = 100
MAX_CONFIRM_TEXT = 300
MAX_CONFIRM_BUTTON = 30

_TEXT_TYPES = ("plain_text", "mrkdwn")
_PLAIN = ("plain_text",)
_SELECTS_WITH_OPTIONS = frozenset({"static_select", "multi_static_select", "overflow", "radio_buttons", "checkboxes"})


class _Checker:
    """Collects Block Kit violations as Slack words them (with a JSON pointer)."""

    def __init__(self) -> None:
        """Start with no errors."""
        self.errors: list[str] = []

    def err(self, message: str, pointer: str) -> None:
        """Record ``message`` at JSON ``pointer``."""
        self.errors.append(f"{message} [json-pointer:{pointer}]")

    def string(self, value: Any, pointer: str, *, max_len: int, required: bool = False) -> None:
        """Check an optional (or ``required``) string of at most ``max_len`` characters."""
        if value is None:
            if required:
                self.err(f"missing required field: {pointer.rsplit('/', 1)[-1]}", pointer)
            return
        if not isinstance(value, str):
            self.err("must be a string", pointer)
        elif len(value) > max_len:
            self.err(f"must be less than {max_len + 1} characters", pointer)

    def text(
        self,
        obj: Any,
        pointer: str,
        *,
        max_len: int,
        types: tuple[str, ...] = _TEXT_TYPES,
        required: bool = True,
    ) -> None:
        """Check a text object: its ``type`` is one of ``types`` and its text is 1..``max_len`` long."""
        if obj is None:
            if required:
                self.err(f"missing required field: {pointer.rsplit('/', 1)[-1]}", pointer)
            return
        if not isinstance(obj, dict):
            self.err("must be a text object", pointer)
            return
        kind = obj.get("type")
        if kind not in types:
            self.err(f"must be a valid enum value (expected {' or '.join(types)}, got {kind!r})", pointer + "/type")
        text = obj.get("text")
        if not isinstance(text, str):
            self.err("must be a string", pointer + "/text")
        elif not text:
            self.err("must be more than 0 characters", pointer + "/text")
        elif len(text) > max_len:
            self.err(f"must be less than {max_len + 1} characters", pointer + "/text")

    def array(self, value: Any, pointer: str, *, max_items: int, min_items: int = 1) -> list[Any]:
        """Check a list's length; return it (or [] when it is not a list)."""
        if not isinstance(value, list):
            self.err("must be an array", pointer)
            return []
        if len(value) > max_items:
            self.err(f"no more than {max_items} items allowed", pointer)
        if len(value) < min_items:
            self.err(f"must provide at least {min_items} item(s)", pointer)
        return value

    def option(self, option: Any, pointer: str, *, text_types: tuple[str, ...]) -> None:
        """Check an option object (text, value, description, url)."""
        if not isinstance(option, dict):
            self.err("must be an option object", pointer)
            return
        self.text(option.get("text"), pointer + "/text", max_len=MAX_OPTION_TEXT, types=text_types)
        self.string(option.get("value"), pointer + "/value", max_len=MAX_OPTION_VALUE)
        self.text(option.get("description"), pointer + "/description", max_len=MAX_OPTION_TEXT, required=False)
        self.string(option.get("url"), pointer + "/url", max_len=MAX_URL)

    def confirm(self, dialog: Any, pointer: str) -> None:
        """Check a confirmation dialog (title 100, text 300, confirm and deny 30 characters)."""
        if not isinstance(dialog, dict):
            self.err("must be a confirm object", pointer)
            return
        self.text(dialog.get("title"), pointer + "/title", max_len=MAX_CONFIRM_TITLE, types=_PLAIN)
        self.text(dialog.get("text"), pointer + "/text", max_len=MAX_CONFIRM_TEXT)
        self.text(dialog.get("confirm"), pointer + "/confirm", max_len=MAX_CONFIRM_BUTTON, types=_PLAIN)
        self.text(dialog.get("deny"), pointer + "/deny", max_len=MAX_CONFIRM_BUTTON, types=_PLAIN)

    def element(self, element: Any, pointer: str) -> None:
        """Check an interactive element (button, select, input, …)."""
        if not isinstance(element, dict):
            self.err("must be an object", pointer)
            return
        kind = element.get("type")
        if not isinstance(kind, str):
            self.err("missing required field: type", pointer + "/type")
            return
        self.string(element.get("action_id"), pointer + "/action_id", max_len=MAX_ID_LENGTH)
        self.text(element.get("placeholder"), pointer + "/placeholder", max_len=MAX_PLACEHOLDER, required=False)
        if element.get("confirm") is not None:
            self.confirm(element["confirm"], pointer + "/confirm")
        if kind == "button":
            self.text(element.get("text"), pointer + "/text", max_len=MAX_BUTTON_TEXT, types=_PLAIN)
            self.string(element.get("value"), pointer + "/value", max_len=MAX_BUTTON_VALUE)
            self.string(element.get("url"), pointer + "/url", max_len=MAX_URL)
            style = element.get("style")
            if style is not None and style not in ("primary", "danger"):
                self.err("must be a valid enum value (expected primary or danger)", pointer + "/style")
        elif kind == "image":
            self.string(element.get("image_url"), pointer + "/image_url", max_len=MAX_URL)
            self.string(element.get("alt_text"), pointer + "/alt_text", max_len=MAX_LABEL, required=True)
        elif kind in _SELECTS_WITH_OPTIONS:
            # Checkboxes and radio buttons may use mrkdwn option text; menus only plain_text.
            text_types = _TEXT_TYPES if kind in ("checkboxes", "radio_buttons") else _PLAIN
            limit = 5 if kind == "overflow" else MAX_OPTIONS
            if "options" in element:
                options = self.array(element["options"], pointer + "/options", max_items=limit)
                for i, option in enumerate(options):
                    self.option(option, f"{pointer}/options/{i}", text_types=text_types)
            if "option_groups" in element:
                groups = self.array(element["option_groups"], pointer + "/option_groups", max_items=MAX_OPTIONS)
                for g, group in enumerate(groups):
                    gp = f"{pointer}/option_groups/{g}"
                    if not isinstance(group, dict):
                        self.err("must be an option group object", gp)
                        continue
                    self.text(group.get("label"), gp + "/label", max_len=MAX_OPTION_TEXT, types=_PLAIN)
                    options = self.array(group.get("options"), gp + "/options", max_items=MAX_OPTIONS)
                    for i, option in enumerate(options):
                        self.option(option, f"{gp}/options/{i}", text_types=text_types)
        elif kind == "plain_text_input":
            max_length = element.get("max_length")
            if max_length is not None and (not isinstance(max_length, int) or not 1 <= max_length <= 3000):
                self.err("must be between 1 and 3000", pointer + "/max_length")
            self.string(element.get("initial_value"), pointer + "/initial_value", max_len=3000)

    def block(self, block: Any, pointer: str, seen_block_ids: set[str]) -> None:
        """Check one layout block."""
        if not isinstance(block, dict):
            self.err("must be an object", pointer)
            return
        kind = block.get("type")
        if not isinstance(kind, str):
            self.err("missing required field: type", pointer + "/type")
            return
        block_id = block.get("block_id")
        self.string(block_id, pointer + "/block_id", max_len=MAX_ID_LENGTH)
        if isinstance(block_id, str):
            if block_id in seen_block_ids:
                self.err(f"duplicate block_id {block_id!r}", pointer + "/block_id")
            seen_block_ids.add(block_id)
        if kind == "section":
            if block.get("text") is None and block.get("fields") is None:
                self.err("must provide text or fields", pointer)
            self.text(block.get("text"), pointer + "/text", max_len=MAX_SECTION_TEXT, required=False)
            if "fields" in block:
                fields = self.array(block["fields"], pointer + "/fields", max_items=MAX_SECTION_FIELDS)
                for i, item in enumerate(fields):
                    self.text(item, f"{pointer}/fields/{i}", max_len=MAX_FIELD_TEXT)
            if block.get("accessory") is not None:
                self.element(block["accessory"], pointer + "/accessory")
        elif kind == "header":
            self.text(block.get("text"), pointer + "/text", max_len=MAX_HEADER_TEXT, types=_PLAIN)
        elif kind == "actions":
            elements = self.array(block.get("elements"), pointer + "/elements", max_items=MAX_ACTIONS_ELEMENTS)
            action_ids: set[str] = set()
            for i, element in enumerate(elements):
                self.element(element, f"{pointer}/elements/{i}")
                action_id = element.get("action_id") if isinstance(element, dict) else None
                if isinstance(action_id, str):
                    if action_id in action_ids:
                        self.err(f"duplicate action_id {action_id!r}", f"{pointer}/elements/{i}/action_id")
                    action_ids.add(action_id)
        elif kind == "context":
            elements = self.array(block.get("elements"), pointer + "/elements", max_items=MAX_CONTEXT_ELEMENTS)
            for i, element in enumerate(elements):
                ep = f"{pointer}/elements/{i}"
                if isinstance(element, dict) and element.get("type") == "image":
                    self.element(element, ep)
                else:
                    self.text(element, ep, max_len=MAX_SECTION_TEXT)
        elif kind == "image":
            self.string(block.get("image_url"), pointer + "/image_url", max_len=MAX_URL)
            self.string(block.get("alt_text"), pointer + "/alt_text", max_len=MAX_LABEL, required=True)
            self.text(block.get("title"), pointer + "/title", max_len=MAX_LABEL, types=_PLAIN, required=False)
        elif kind == "input":
            self.text(block.get("label"), pointer + "/label", max_len=MAX_LABEL, types=_PLAIN)
            self.text(block.get("hint"), pointer + "/hint", max_len=MAX_LABEL, types=_PLAIN, required=False)
            if block.get("element") is None:
                self.err("missing required field: element", pointer + "/element")
            else:
                self.element(block["element"], pointer + "/element")
        # divider, rich_text, file, video, markdown, …: no limits checked.


def block_kit_errors(blocks: Any, *, pointer: str = "/blocks", max_blocks: int = MAX_MESSAGE_BLOCKS) -> list[str]:
    """Return the Block Kit violations in ``blocks`` (empty when valid).

    Each entry reads like Slack's, e.g.
    ``"must be less than 3001 characters [json-pointer:/blocks/0/text/text]"``.
    """
    checker = _Checker()
    items = checker.array(blocks, pointer, max_items=max_blocks, min_items=0)
    seen: set[str] = set()
    for i, block in enumerate(items):
        checker.block(block, f"{pointer}/{i}", seen)
    return checker.errors


def message_content_errors(
    args: Mapping[str, Any], *, max_blocks: int = MAX_MESSAGE_BLOCKS
) -> list[tuple[str, list[str]]]:
    """Every reason Slack refuses a chat message's content, in the order it answers them: ``(error, details)``.

    The chat methods answer the first; :mod:`chatops.testing.card_checks` reports them all.
    ``details`` are the Block Kit violations for ``invalid_blocks``, and the size for
    ``msg_blocks_too_long``. A ``max_blocks`` other than a message's checks a modal's blocks,
    which have no message size limit.
    """
    found: list[tuple[str, list[str]]] = []
    text, blocks, attachments = args.get("text"), args.get("blocks"), args.get("attachments")
    if _missing(text) and _missing(blocks) and _missing(attachments):
        found.append(("no_text", []))
    if text is not None and len(str(text)) > MAX_MESSAGE_TEXT:
        found.append(("msg_too_long", []))
    if blocks is not None:
        if not isinstance(blocks, list):
            found.append(("invalid_blocks_format", []))
        else:
            errors = block_kit_errors(blocks, max_blocks=max_blocks)
            if errors:
                found.append(("invalid_blocks", errors))
            length = _blocks_text_length(blocks)
            if max_blocks == MAX_MESSAGE_BLOCKS and length > MAX_BLOCKS_TOTAL_TEXT:
                found.append(("msg_blocks_too_long", [f"{length} characters of text"]))
    if attachments is not None:
        if not isinstance(attachments, list):
            found.append(("invalid_attachments", []))
        elif len(attachments) > MAX_ATTACHMENTS:
            found.append(("too_many_attachments", []))
    if "metadata" in args:
        metadata = args["metadata"]
        if (
            not isinstance(metadata, dict)
            or not isinstance(metadata.get("event_type"), str)
            or not metadata["event_type"]
            or not isinstance(metadata.get("event_payload"), dict)
        ):
            found.append(("invalid_metadata", []))
    return found


def view_errors(view: Any, *, kinds: Iterable[str] = ("modal",), pointer: str = "/view") -> list[str]:
    """Return the violations in a modal or home-tab ``view`` (empty when valid)."""
    checker = _Checker()
    if not isinstance(view, dict):
        checker.err("must be an object", pointer)
        return checker.errors
    kinds = tuple(kinds)
    kind = view.get("type")
    if kind not in kinds:
        checker.err(f"must be a valid enum value (expected {' or '.join(kinds)}, got {kind!r})", pointer + "/type")
    if kind == "modal":
        checker.text(view.get("title"), pointer + "/title", max_len=MAX_VIEW_TITLE, types=_PLAIN)
        for button in ("submit", "close"):
            checker.text(view.get(button), f"{pointer}/{button}", max_len=MAX_VIEW_BUTTON, types=_PLAIN, required=False)
        blocks = view.get("blocks", [])
        has_input = isinstance(blocks, list) and any(isinstance(b, dict) and b.get("type") == "input" for b in blocks)
        if has_input and view.get("submit") is None:
            checker.err("a submit button is required when the view has input blocks", pointer + "/submit")
    checker.string(view.get("callback_id"), pointer + "/callback_id", max_len=MAX_CALLBACK_ID)
    checker.string(view.get("private_metadata"), pointer + "/private_metadata", max_len=MAX_PRIVATE_METADATA)
    checker.string(view.get("external_id"), pointer + "/external_id", max_len=MAX_ID_LENGTH)
    if "blocks" not in view:
        checker.err("missing required field: blocks", pointer + "/blocks")
    else:
        checker.errors.extend(block_kit_errors(view["blocks"], pointer=pointer + "/blocks", max_blocks=MAX_VIEW_BLOCKS))
    return checker.errors


def _blocks_text_length(value: Any) -> int:
    """Total length of every ``text`` string inside ``value`` (blocks, recursively)."""
    if isinstance(value, list):
        return sum(_blocks_text_length(item) for item in value)
    if isinstance(value, dict):
        total = 0
        for key, item in value.items():
            if key == "text" and isinstance(item, str):
                total += len(item)
            else:
                total += _blocks_text_length(item)
        return total
    return 0


# ---------------------------------------------------------------------------
# Recording
# ---------------------------------------------------------------------------


@dataclass
class Call:
    """One Web API request the fake received."""

    method: str
    """API method, e.g. ``"chat.postMessage"`` (uploads: :data:`UPLOAD_METHOD`)."""
    args: dict[str, Any]
    """Arguments from the query string and the form or JSON body, JSON strings decoded; no token."""
    token: str | None
    """Token from the ``Authorization: Bearer`` header or the ``token`` argument."""
    status: int
    """HTTP status the fake answered."""
    response: dict[str, Any]
    """JSON body the fake answered."""
    at: float
    """``time.monotonic()`` when the request was received."""

    @property
    def ok(self) -> bool:
        """True when Slack would call this a success (HTTP 200 and ``"ok": true``)."""
        return self.status == 200 and bool(self.response.get("ok"))

    @property
    def error(self) -> str | None:
        """The Slack error code, if the call failed."""
        error = self.response.get("error")
        return error if isinstance(error, str) else None


class _SlackError(Exception):
    """Raised inside a handler to answer ``{"ok": false, "error": ...}``."""

    def __init__(
        self,
        error: str,
        *,
        status: int = 200,
        headers: dict[str, str] | None = None,
        messages: list[str] | None = None,
        **extra: Any,
    ) -> None:
        """Build the error body; ``messages`` go to ``response_metadata`` with ``[ERROR]``."""
        super().__init__(error)
        self.error = error
        self.status = status
        self.headers = headers or {}
        self.body: dict[str, Any] = {"ok": False, "error": error, **extra}
        if messages:
            self.body["response_metadata"] = {"messages": [f"[ERROR] {m}" for m in messages]}


@dataclass
class _Fault:
    """A queued failure for one method (see :meth:`FakeSlack.fail_next`)."""

    error: str
    status: int
    retry_after: int | None
    times: int


@dataclass
class _LostAnswers:
    """Calls to one method that are performed but whose answer is lost (see :meth:`FakeSlack.lose_answers`)."""

    share: float
    how: str
    times: int | None
    rng: random.Random


class _ConnectionDropped(Exception):
    """Raised mid-answer so that the server closes the connection (the client sees it break)."""


class _DropConnection(Response):
    """Starts a 200 answer, sends part of it, then breaks the connection."""

    def __init__(self) -> None:
        super().__init__(status_code=200)

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        headers = [(b"content-type", b"application/json"), (b"content-length", b"4096")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": b'{"ok": tr', "more_body": True})
        raise _ConnectionDropped


class _QuietDrops(logging.Filter):
    """Keep the server's log free of the tracebacks of connections dropped on purpose."""

    def filter(self, record: logging.LogRecord) -> bool:
        return not (record.exc_info and isinstance(record.exc_info[1], _ConnectionDropped))


logging.getLogger("uvicorn.error").addFilter(_QuietDrops())


@dataclass
class _Subscription:
    """Where the app receives events, and which message metadata event types it wants."""

    request_url: str | None
    signing_secret: str
    metadata_event_types: frozenset[str]
    lose_share: float
    rng: random.Random


def _truthy(value: Any) -> bool | None:
    """Slack-style boolean argument ("1", "true", True) or None when absent."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes")


def _missing(value: Any) -> bool:
    """True when a required argument counts as absent (None, empty string or container)."""
    return value is None or value == "" or value == [] or value == {}


@dataclass(eq=False)
class _SocketConnection:
    """One open Socket Mode WebSocket, served on the fake's own thread and loop."""

    number: int
    websocket: WebSocket
    loop: asyncio.AbstractEventLoop
    send_lock: asyncio.Lock = field(default_factory=asyncio.Lock)
    ready: bool = False

    async def send(self, message: dict[str, Any]) -> None:
        """Send one JSON text frame (runs on the server loop)."""
        async with self.send_lock:
            await self.websocket.send_text(json.dumps(message))


# ---------------------------------------------------------------------------
# The fake
# ---------------------------------------------------------------------------

Handler = Callable[[dict[str, Any]], dict[str, Any]]


class FakeSlack:
    """A Slack Web API fake on a real loopback HTTP server.

    Point ``AsyncWebClient(base_url=fake.api_url, token=fake.bot_token)`` (or a
    Bolt app built on it) at the fake. Posting to a channel needs no setup unless
    ``strict_channels`` is set; ``users.info``/``conversations.info``/usergroups
    only know what :meth:`add_user`, :meth:`add_channel` and :meth:`add_usergroup`
    registered.
    """

    def __init__(
        self,
        *,
        bot_token: str = "xoxb-test",  # noqa: S107 - a test credential, not a secret
        app_token: str = "xapp-test",  # noqa: S107 - a test credential, not a secret
        post_interval: float = 0.0,
        team_id: str = "T0001",
        bot_user_id: str = "UBOT",
        workspace_url: str = "https://chatops-test.slack.com/",
        bot_id: str = "B0001",
        app_id: str = "A0001",
        strict_channels: bool = False,
        trigger_ttl: float | None = 3.0,
    ) -> None:
        """Configure the fake (it starts serving on :meth:`start`).

        Args:
            bot_token: the only token accepted (``invalid_auth`` otherwise).
            app_token: the app-level token ``apps.connections.open`` (Socket Mode)
                accepts; the two tokens are not interchangeable, as on Slack
                (``not_allowed_token_type``).
            post_interval: minimum seconds between accepted ``chat.postMessage`` calls
                to one channel; sooner posts get HTTP 429. 0 disables pacing. May be
                changed at any time.
            team_id, bot_user_id, workspace_url, bot_id, app_id: identity reported by
                ``auth.test`` and stamped on posted messages and views.
            strict_channels: answer ``channel_not_found`` for channels not registered
                with :meth:`add_channel`.
            trigger_ttl: seconds a trigger id from :meth:`new_trigger_id` stays valid
                for ``views.open``/``views.push`` (``expired_trigger_id`` after); None
                disables expiry.
        """
        self.bot_token = bot_token
        self.app_token = app_token
        self.post_interval = post_interval
        self.team_id = team_id
        self.bot_user_id = bot_user_id
        self.workspace_url = workspace_url if workspace_url.endswith("/") else workspace_url + "/"
        self.bot_id = bot_id
        self.app_id = app_id
        self.strict_channels = strict_channels
        self.trigger_ttl = trigger_ttl
        #: Most messages one ``conversations.history`` call returns.
        self.history_limit = 15
        self._lock = threading.RLock()
        self._server: ThreadedServer | None = None
        self._users: dict[str, dict[str, Any]] = {}
        self._channels: dict[str, dict[str, Any]] = {}
        self._usergroups: dict[str, dict[str, Any]] = {}
        self._handlers: dict[str, Handler] = {
            "api.test": self._api_test,
            "apps.connections.open": self._apps_connections_open,
            "auth.test": self._auth_test,
            "chat.postMessage": self._chat_post_message,
            "chat.update": self._chat_update,
            "chat.postEphemeral": self._chat_post_ephemeral,
            "chat.getPermalink": self._chat_get_permalink,
            "chat.delete": self._chat_delete,
            "views.open": self._views_open,
            "views.update": self._views_update,
            "views.push": self._views_push,
            "views.publish": self._views_publish,
            "users.info": self._users_info,
            "conversations.history": self._conversations_history,
            "conversations.info": self._conversations_info,
            "usergroups.list": self._usergroups_list,
            "usergroups.users.list": self._usergroups_users_list,
            "files.getUploadURLExternal": self._files_get_upload_url,
            "files.completeUploadExternal": self._files_complete_upload,
        }
        self._app = Starlette(
            routes=[
                Route("/api/{method}", self._handle_api, methods=["GET", "POST"]),
                Route("/upload/v1/{file_id}", self._handle_upload, methods=["POST", "PUT"]),
                WebSocketRoute(SOCKET_MODE_PATH + "/{ticket}", self._handle_socket),
            ]
        )
        # Open Socket Mode connections outlive reset(): they belong to whoever connected.
        self._sockets: list[_SocketConnection] = []
        # Events go out from a thread of their own, as Slack sends them apart from API answers.
        self._event_queue: queue.Queue[tuple[int, _Subscription, dict[str, Any]]] = queue.Queue()
        self._event_thread: threading.Thread | None = None
        self._generation = 0
        self.reset()

    # -- lifecycle ---------------------------------------------------------

    def start(self) -> None:
        """Start serving on 127.0.0.1 (a free port); returns once it accepts connections."""
        if self._server is not None:
            raise RuntimeError("FakeSlack already started")
        server = ThreadedServer(self._app)
        server.start()
        self._server = server

    def stop(self) -> None:
        """Stop serving. Recorded state stays readable."""
        if self._server is not None:
            self._server.stop()
            self._server = None

    def __enter__(self) -> FakeSlack:
        """Start serving; see :meth:`start`."""
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop serving; see :meth:`stop`."""
        self.stop()

    @property
    def base_url(self) -> str:
        """``http://127.0.0.1:PORT`` (no trailing slash)."""
        if self._server is None:
            raise RuntimeError("FakeSlack not started")
        return self._server.base_url

    @property
    def api_url(self) -> str:
        """``http://127.0.0.1:PORT/api/``: the ``base_url`` for slack_sdk clients."""
        return f"{self.base_url}/api/"

    def reset(self, *, directory: bool = False) -> None:
        """Forget calls, messages, views, ephemerals, files, faults and pacing.

        Users, channels and usergroups (the directory) are kept unless ``directory``
        is true, so one running fake can serve many tests. Socket Mode tickets,
        recorded frames and :attr:`socket_connections_opened` start over; open Socket
        Mode connections stay open (their clients close them).
        """
        with self._lock:
            if directory:
                self._users.clear()
                self._channels.clear()
                self._usergroups.clear()
            self._calls: list[Call] = []
            self._messages: dict[tuple[str, str], dict[str, Any]] = {}
            self._order: list[tuple[str, str]] = []
            self._ephemerals: list[dict[str, Any]] = []
            self._views: dict[str, dict[str, Any]] = {}
            self._view_order: list[str] = []
            self._home_views: dict[str, str] = {}
            self._files: dict[str, dict[str, Any]] = {}
            self._faults: dict[str, list[_Fault]] = {}
            self._last_post: dict[str, float] = {}
            self._triggers: dict[str, tuple[str, float]] = {}
            self._used_triggers: set[str] = set()
            self._ts_counter = itertools.count(1)
            self._id_counter = itertools.count(1)
            self.rate_limited = 0
            self._socket_tickets: set[str] = set()
            self._socket_sent: list[dict[str, Any]] = []
            self._socket_received: list[dict[str, Any]] = []
            self._pending_acks: dict[str, concurrent.futures.Future[dict[str, Any]]] = {}
            self.socket_connections_opened = 0
            self._lost_answers: dict[str, _LostAnswers] = {}
            self._subscription: _Subscription | None = None
            self._events: list[dict[str, Any]] = []
            self._generation += 1  # events queued before the reset are not sent

    # -- directory ---------------------------------------------------------

    def add_user(
        self,
        user_id: str,
        *,
        name: str,
        real_name: str | None = None,
        tz: str = "Europe/Helsinki",
        is_bot: bool = False,
        display_name: str | None = None,
    ) -> None:
        """Register a user for ``users.info``. ``display_name`` defaults to ``name``."""
        real = real_name if real_name is not None else name
        display = display_name if display_name is not None else name
        try:
            offset = ZoneInfo(tz).utcoffset(datetime.now(UTC).replace(tzinfo=None))
            tz_offset = int(offset.total_seconds()) if offset is not None else 0
        except (ZoneInfoNotFoundError, ValueError):
            tz_offset = 0
        with self._lock:
            self._users[user_id] = {
                "id": user_id,
                "team_id": self.team_id,
                "name": name,
                "deleted": False,
                "real_name": real,
                "tz": tz,
                "tz_label": tz,
                "tz_offset": tz_offset,
                "is_bot": is_bot,
                "is_app_user": False,
                "profile": {
                    "display_name": display,
                    "display_name_normalized": display,
                    "real_name": real,
                    "real_name_normalized": real,
                    "team": self.team_id,
                },
            }

    def add_channel(self, channel_id: str, name: str, *, is_private: bool = False) -> None:
        """Register a channel for ``conversations.info`` (and for ``#name`` lookups)."""
        with self._lock:
            self._channels[channel_id] = {
                "id": channel_id,
                "name": name,
                "name_normalized": name,
                "is_channel": not is_private,
                "is_group": is_private,
                "is_im": False,
                "is_mpim": False,
                "is_private": is_private,
                "is_archived": False,
                "is_general": False,
                "is_member": True,
                "created": 1700000000,
                "creator": self.bot_user_id,
                "context_team_id": self.team_id,
            }

    def add_usergroup(
        self, usergroup_id: str, handle: str, *, name: str | None = None, users: Iterable[str] = ()
    ) -> None:
        """Register a usergroup (``@handle``) with its members."""
        with self._lock:
            self._usergroups[usergroup_id] = {
                "id": usergroup_id,
                "team_id": self.team_id,
                "is_usergroup": True,
                "name": name if name is not None else handle,
                "handle": handle,
                "description": "",
                "is_external": False,
                "date_create": 1700000000,
                "date_delete": 0,
                "users": list(users),
            }

    def new_trigger_id(self, user_id: str) -> str:
        """Issue a trigger id for ``user_id``, as Slack does with each interaction.

        ``views.open``/``views.push`` with it record the user, and fail with
        ``expired_trigger_id`` after ``trigger_ttl`` seconds. Unissued trigger ids are
        accepted too (with no user).
        """
        with self._lock:
            n = next(self._id_counter)
            trigger = f"{1700000000 + n}.{self.team_id}.{hashlib.sha256(f'{user_id}{n}'.encode()).hexdigest()[:32]}"
            self._triggers[trigger] = (user_id, time.monotonic())
            return trigger

    # -- fault injection -----------------------------------------------------

    def fail_next(
        self,
        method: str,
        *,
        error: str = "internal_error",
        status: int = 200,
        retry_after: int | None = None,
        times: int = 1,
    ) -> None:
        """Make the next ``times`` calls to ``method`` fail.

        ``status=200`` answers ``{"ok": false, "error": error}``; ``status=429`` answers
        ``ratelimited`` with ``Retry-After: retry_after`` (default 1) and counts in
        :attr:`rate_limited`; any other status (e.g. 500) answers that status with
        ``{"ok": false, "error": error}``. Faults apply before authentication and
        validation, and nothing is stored.
        """
        with self._lock:
            self._faults.setdefault(method, []).append(_Fault(error, status, retry_after, times))

    def lose_answers(
        self,
        method: str = "chat.postMessage",
        *,
        share: float = 1.0,
        how: str = "drop",
        times: int | None = None,
        seed: int = 0,
    ) -> None:
        """Perform calls to ``method`` but lose the answer of a ``share`` of them.

        The call takes effect (a message is posted, and its events are sent) and then
        ``how="drop"`` breaks the connection in the middle of the answer, while
        ``how="500"`` answers HTTP 500 ``internal_error``. ``times`` caps how many answers
        are lost; ``seed`` makes the choice of calls repeatable. Such calls are recorded
        with the status the client saw (0 for a dropped connection). ``share=0`` stops it.
        """
        if how not in ("drop", "500"):
            raise ValueError("how is 'drop' or '500'")
        with self._lock:
            self._lost_answers[method] = _LostAnswers(share, how, times, random.Random(seed))  # noqa: S311 - repeatable, not secret

    def _lose_answer(self, method: str) -> str | None:
        """How this successful call's answer is lost, if it is. Lock held."""
        lost = self._lost_answers.get(method)
        if lost is None or lost.times == 0 or lost.rng.random() >= lost.share:
            return None
        if lost.times is not None:
            lost.times -= 1
        return lost.how

    # -- events ------------------------------------------------------------------

    def subscribe_events(
        self,
        request_url: str | None,
        signing_secret: str,
        *,
        metadata_event_types: Iterable[str],
        lose_share: float = 0.0,
        seed: int = 0,
    ) -> None:
        """Send the app the events it subscribed to, as Slack would.

        ``request_url`` receives signed ``event_callback`` POSTs (HTTP mode); None sends
        ``events_api`` envelopes to the connected Socket Mode client instead. Every
        message posted with metadata whose ``event_type`` is in ``metadata_event_types``
        is followed by a ``message_metadata_posted`` event. ``lose_share`` of the events
        are never sent (Slack's delivery is not guaranteed either).
        """
        with self._lock:
            self._subscription = _Subscription(
                request_url,
                signing_secret,
                frozenset(metadata_event_types),
                lose_share,
                random.Random(seed),  # noqa: S311
            )
            if self._event_thread is None or not self._event_thread.is_alive():
                self._event_thread = threading.Thread(target=self._send_events, name="fake-slack-events", daemon=True)
                self._event_thread.start()

    def unsubscribe_events(self, request_url: str | None = None) -> None:
        """Stop sending events (only if they go to ``request_url``, when given)."""
        with self._lock:
            if self._subscription is not None and request_url in (None, self._subscription.request_url):
                self._subscription = None

    @property
    def events(self) -> list[dict[str, Any]]:
        """Events sent (or lost) so far: ``{"event", "status"}`` (HTTP status, ``"acked"``, ``"lost"`` or an error)."""
        with self._lock:
            return copy.deepcopy(self._events)

    def _metadata_posted(self, msg: dict[str, Any]) -> None:
        """Queue ``message_metadata_posted`` for a new message, if the app subscribed to it. Lock held."""
        subscription = self._subscription
        metadata = msg.get("metadata")
        if subscription is None or not isinstance(metadata, dict):
            return
        if metadata.get("event_type") not in subscription.metadata_event_types:
            return
        event = {
            "type": "message_metadata_posted",
            "app_id": self.app_id,
            "bot_id": self.bot_id,
            "user_id": self.bot_user_id,
            "team_id": self.team_id,
            "channel_id": msg["channel"],
            "metadata": copy.deepcopy(metadata),
            "message_ts": msg["ts"],
            "event_ts": msg["ts"],
        }
        if subscription.rng.random() < subscription.lose_share:
            self._events.append({"event": event, "status": "lost"})
            return
        self._event_queue.put((self._generation, subscription, event))

    def _send_events(self) -> None:
        """Deliver queued events, one at a time (runs on the events thread)."""
        with httpx.Client(timeout=10) as client:
            while True:
                generation, subscription, event = self._event_queue.get()
                if generation != self._generation:
                    continue
                body = event_body(event, team_id=self.team_id)
                status: Any
                try:
                    if subscription.request_url is None:
                        asyncio.run(self.send_socket_envelope(json.loads(body), type="events_api"))
                        status = "acked"
                    else:
                        headers = signed_headers(subscription.signing_secret, body, content_type="application/json")
                        status = client.post(subscription.request_url, content=body, headers=headers).status_code
                except Exception as exc:  # the app is gone or broken: Slack would retry later; we don't
                    status = type(exc).__name__
                with self._lock:
                    if generation == self._generation:
                        self._events.append({"event": event, "status": status})

    # -- recorded calls --------------------------------------------------------

    @property
    def calls(self) -> list[Call]:
        """Every request received so far, oldest first (a copy)."""
        with self._lock:
            return list(self._calls)

    def calls_to(self, method: str) -> list[Call]:
        """Calls to ``method``, successful and failed."""
        with self._lock:
            return [c for c in self._calls if c.method == method]

    def _matching(self, method: str, predicate: Callable[[Call], bool] | None) -> list[Call]:
        """Calls to ``method`` accepted by ``predicate``."""
        return [c for c in self.calls_to(method) if predicate is None or predicate(c)]

    def _timeout_message(
        self, method: str, predicate: Callable[[Call], bool] | None, count: int, found: int, timeout: float
    ) -> str:
        """Explain a :meth:`wait_for` timeout, listing the most recent calls."""
        lines = [
            f"FakeSlack: waited {timeout:.1f} s for {count} call(s) to {method}"
            + (f" matching {getattr(predicate, '__name__', predicate)}" if predicate else "")
            + f", saw {found}. Most recent calls:"
        ]
        recent = self.calls[-20:]
        if not recent:
            lines.append("  (none)")
        for call in recent:
            outcome = "ok" if call.ok else f"error={call.error}"
            args = json.dumps(call.args, default=str, ensure_ascii=False)
            if len(args) > 300:
                args = args[:300] + "…"
            lines.append(f"  {call.method} -> {call.status} {outcome} args={args}")
        return "\n".join(lines)

    async def wait_for(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        *,
        count: int = 1,
        timeout: float = 5.0,  # noqa: ASYNC109 - part of the public API; polls, never blocks
    ) -> list[Call]:
        """Wait until at least ``count`` calls to ``method`` (matching ``predicate``) arrived.

        Returns all matching calls so far. Raises AssertionError listing recent calls on
        timeout. Failed calls match too: use ``lambda c: c.ok`` to wait for successes.
        """
        deadline = time.monotonic() + timeout
        while True:
            found = self._matching(method, predicate)
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                raise AssertionError(self._timeout_message(method, predicate, count, len(found), timeout))
            await asyncio.sleep(0.01)

    def wait_for_sync(
        self,
        method: str,
        predicate: Callable[[Call], bool] | None = None,
        *,
        count: int = 1,
        timeout: float = 5.0,
    ) -> list[Call]:
        """Blocking :meth:`wait_for`, for synchronous tests."""
        deadline = time.monotonic() + timeout
        while True:
            found = self._matching(method, predicate)
            if len(found) >= count:
                return found
            if time.monotonic() >= deadline:
                raise AssertionError(self._timeout_message(method, predicate, count, len(found), timeout))
            time.sleep(0.01)

    # -- state accessors ---------------------------------------------------------

    def message(self, channel: str, ts: str) -> dict[str, Any]:
        """Current state of a posted message (deleted ones too, with ``deleted: True``).

        Keys: ``channel, ts, text, blocks, attachments, metadata, thread_ts, user,
        bot_id, files, reply_count, edits`` (number of ``chat.update`` calls applied),
        ``history`` (earlier versions), ``deleted``.
        """
        with self._lock:
            msg = self._messages.get((self._resolve_channel(channel), ts))
            if msg is None:
                known = [f"{c}/{t}" for c, t in self._order[-10:]]
                raise KeyError(f"no message {channel}/{ts}; recent messages: {known}")
            return copy.deepcopy(msg)

    def messages(self, channel: str | None = None) -> list[dict[str, Any]]:
        """All live (not deleted) messages, top-level and replies, in posting order."""
        with self._lock:
            wanted = self._resolve_channel(channel) if channel is not None else None
            return [
                copy.deepcopy(self._messages[key])
                for key in self._order
                if (wanted is None or key[0] == wanted) and not self._messages[key]["deleted"]
            ]

    def thread(self, channel: str, ts: str) -> list[dict[str, Any]]:
        """Live replies posted with ``thread_ts=ts``, in order (the parent excluded)."""
        return [m for m in self.messages(channel) if m["thread_ts"] == ts]

    def top_level_messages(self, channel: str) -> list[dict[str, Any]]:
        """Live messages in ``channel`` that are not thread replies, in order."""
        return [m for m in self.messages(channel) if m["thread_ts"] is None]

    def view(self, view_id: str) -> dict[str, Any]:
        """A view record: ``id, hash, view`` (as last returned), ``trigger_id, user, method, updates``."""
        with self._lock:
            if view_id not in self._views:
                raise KeyError(f"no view {view_id}; known: {self._view_order}")
            return copy.deepcopy(self._views[view_id])

    def last_view(self) -> dict[str, Any]:
        """The most recently opened, pushed, published or updated view record."""
        with self._lock:
            if not self._view_order:
                raise KeyError("no view has been opened")
            return copy.deepcopy(self._views[self._view_order[-1]])

    def views(self) -> list[dict[str, Any]]:
        """All view records, oldest first."""
        with self._lock:
            return [copy.deepcopy(self._views[v]) for v in dict.fromkeys(self._view_order)]

    def ephemerals(self, user: str | None = None) -> list[dict[str, Any]]:
        """Ephemeral messages, optionally only those shown to ``user``.

        Keys: ``channel, user, text, blocks, attachments, thread_ts, message_ts``.
        """
        with self._lock:
            return [copy.deepcopy(e) for e in self._ephemerals if user is None or e["user"] == user]

    def file(self, file_id: str) -> dict[str, Any]:
        """An uploaded file.

        Keys: ``id, filename, length`` (announced), ``content`` (bytes, None until
        uploaded), ``title, channels, completed``.
        """
        with self._lock:
            if file_id not in self._files:
                raise KeyError(f"no file {file_id}; known: {list(self._files)}")
            return copy.deepcopy(self._files[file_id])

    # -- Socket Mode ---------------------------------------------------------------

    def _live_sockets(self) -> list[_SocketConnection]:
        """Connections that got their ``hello``, oldest first."""
        with self._lock:
            return [c for c in self._sockets if c.ready]

    @property
    def socket_connected(self) -> bool:
        """True while a Socket Mode client is connected (and was sent ``hello``)."""
        return bool(self._live_sockets())

    @property
    def socket_sent(self) -> list[dict[str, Any]]:
        """Every frame sent to Socket Mode clients since :meth:`reset` (``hello`` included), oldest first."""
        with self._lock:
            return copy.deepcopy(self._socket_sent)

    @property
    def socket_received(self) -> list[dict[str, Any]]:
        """Every frame Socket Mode clients sent since :meth:`reset` (acks), oldest first.

        A frame that is not a JSON object is recorded as ``{"raw": text}``.
        """
        with self._lock:
            return copy.deepcopy(self._socket_received)

    async def wait_for_socket(
        self,
        timeout: float = 5.0,  # noqa: ASYNC109 - part of the public API; polls, never blocks
        *,
        opened: int = 1,
    ) -> None:
        """Wait until a Socket Mode client is connected and ``opened`` connections were made since reset.

        ``opened=2`` waits for a reconnection (e.g. after :meth:`send_socket_disconnect`).
        Raises AssertionError on timeout.
        """
        deadline = time.monotonic() + timeout
        while not (self.socket_connected and self.socket_connections_opened >= opened):
            if time.monotonic() >= deadline:
                outcomes = [c.error or "ok" for c in self.calls_to("apps.connections.open")]
                no_library = not any(importlib.util.find_spec(name) for name in ("websockets", "wsproto"))
                raise AssertionError(
                    f"FakeSlack: waited {timeout:.1f} s for Socket Mode connection #{opened}; "
                    f"{self.socket_connections_opened} opened, connected={self.socket_connected}, "
                    f"apps.connections.open calls: {outcomes}"
                    + ("; uvicorn has no WebSocket library: install websockets" if no_library else "")
                )
            await asyncio.sleep(0.01)

    async def _socket_send(self, message: dict[str, Any], timeout: float) -> None:  # noqa: ASYNC109
        """Send ``message`` to the newest connected client, from any thread or loop."""
        live = self._live_sockets()
        if not live:
            raise AssertionError("FakeSlack: no Socket Mode client is connected (see wait_for_socket)")
        connection = live[-1]
        with self._lock:
            self._socket_sent.append(copy.deepcopy(message))
        sent = asyncio.run_coroutine_threadsafe(connection.send(message), connection.loop)
        await asyncio.wait_for(asyncio.wrap_future(sent), timeout)

    async def send_socket_envelope(
        self,
        payload: dict[str, Any],
        *,
        type: str = "interactive",
        accepts_response_payload: bool = False,
        envelope_id: str | None = None,
        retry_attempt: int = 0,
        retry_reason: str = "",
        timeout: float = 5.0,  # noqa: ASYNC109 - part of the public API
    ) -> dict[str, Any]:
        """Push an envelope to the connected Socket Mode client and return its ack.

        Sends ``{"envelope_id", "type", "payload", "accepts_response_payload"}`` as
        Slack does (``events_api`` envelopes also carry ``retry_attempt`` and
        ``retry_reason``). ``type`` is ``"interactive"`` (block_actions,
        view_submission, shortcuts, block_suggestion), ``"slash_commands"`` or
        ``"events_api"`` (``payload`` is then the ``event_callback`` wrapper). Slack
        sets ``accepts_response_payload`` for slash commands, view submissions and
        block suggestions.

        Returns the ack frame, ``{"envelope_id": ...}`` plus the optional ``payload``
        the app answered with (e.g. ``{"response_action": "errors", ...}``). Raises
        AssertionError when no client is connected, or no ack comes within
        ``timeout`` seconds (Slack would retry the envelope then).
        """
        envelope_id = envelope_id or str(uuid.uuid4())
        envelope: dict[str, Any] = {
            "envelope_id": envelope_id,
            "payload": copy.deepcopy(payload),
            "type": type,
            "accepts_response_payload": accepts_response_payload,
        }
        if type == "events_api":
            envelope["retry_attempt"] = retry_attempt
            envelope["retry_reason"] = retry_reason
        ack: concurrent.futures.Future[dict[str, Any]] = concurrent.futures.Future()
        with self._lock:
            self._pending_acks[envelope_id] = ack
        try:
            await self._socket_send(envelope, timeout)
            try:
                return await asyncio.wait_for(asyncio.wrap_future(ack), timeout)
            except TimeoutError:
                received = self.socket_received[-5:]
                raise AssertionError(
                    f"FakeSlack: no ack for {type} envelope {envelope_id} within {timeout:.1f} s; "
                    f"last frames from the client: {received}"
                ) from None
        finally:
            with self._lock:
                self._pending_acks.pop(envelope_id, None)

    async def send_socket_disconnect(
        self,
        reason: str = "refresh_requested",
        *,
        timeout: float = 5.0,  # noqa: ASYNC109 - part of the public API
    ) -> None:
        """Send Slack's ``{"type": "disconnect", "reason": ...}`` to the connected client.

        Slack sends ``warning`` about 10 s before it closes a connection,
        ``refresh_requested`` when the client should reconnect, and ``link_disabled``
        when Socket Mode was turned off. Clients answer by opening a new connection
        (``apps.connections.open`` again); :meth:`wait_for_socket` with ``opened=``
        waits for it.
        """
        await self._socket_send(
            {"type": "disconnect", "reason": reason, "debug_info": {"host": "applink-fake"}}, timeout
        )

    # -- HTTP plumbing -----------------------------------------------------------

    async def _handle_api(self, request: Request) -> Response:
        """Serve ``/api/<method>``: parse, authenticate, dispatch, record."""
        method = request.path_params["method"]
        received = time.monotonic()
        body = await request.body()
        args: dict[str, Any] = dict(request.query_params.multi_items())
        parse_error: str | None = None
        content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
        if body:
            if content_type == "application/json":
                try:
                    parsed = json.loads(body)
                except ValueError:
                    parse_error = "invalid_json"
                else:
                    if isinstance(parsed, dict):
                        args.update(parsed)
                    else:
                        parse_error = "json_not_object"
            elif content_type in ("application/x-www-form-urlencoded", ""):
                try:
                    args.update(parse_qsl(body.decode("utf-8"), keep_blank_values=True))
                except UnicodeDecodeError:
                    parse_error = "invalid_charset"
            else:
                parse_error = "invalid_form_data"
        for key in _JSON_ARGS & args.keys():
            if isinstance(args[key], str):
                try:
                    decoded = json.loads(args[key])
                except ValueError:
                    continue
                if isinstance(decoded, (dict, list)):
                    args[key] = decoded
        token: str | None = None
        authorization = request.headers.get("authorization", "")
        if authorization.lower().startswith("bearer "):
            token = authorization[7:].strip() or None
        arg_token = args.pop("token", None)
        if token is None and isinstance(arg_token, str) and arg_token:
            token = arg_token
        with self._lock:
            status, payload, headers = self._dispatch(method, args, token, parse_error)
            lost = self._lose_answer(method) if status == 200 and payload.get("ok") else None
            if lost == "drop":
                self._calls.append(Call(method, args, token, 0, {"ok": False, "error": "connection_dropped"}, received))
            elif lost == "500":
                payload = {"ok": False, "error": "internal_error"}
                self._calls.append(Call(method, args, token, 500, payload, received))
            else:
                self._calls.append(Call(method, args, token, status, payload, received))
        if lost == "drop":
            return _DropConnection()
        if lost == "500":
            return JSONResponse(payload, status_code=500)
        return JSONResponse(payload, status_code=status, headers=headers)

    def _dispatch(
        self, method: str, args: dict[str, Any], token: str | None, parse_error: str | None
    ) -> tuple[int, dict[str, Any], dict[str, str]]:
        """Answer one API call: ``(status, body, headers)``. Lock held."""
        try:
            self._apply_fault(method)
            handler = self._handlers.get(method)
            if handler is None:
                raise _SlackError("unknown_method", req_method=method)
            if method != "api.test":
                expected, other = self.bot_token, self.app_token
                if method in _APP_TOKEN_METHODS:
                    expected, other = other, expected
                if token is None:
                    raise _SlackError("not_authed")
                if token == other:
                    raise _SlackError("not_allowed_token_type")
                if token != expected:
                    raise _SlackError("invalid_auth")
            if parse_error is not None:
                raise _SlackError(parse_error)
            for name in REQUIRED_ARGS.get(method, ()) + EXTRA_REQUIRED_ARGS.get(method, ()):
                if _missing(args.get(name)) and not (name == "trigger_id" and args.get("interactivity_pointer")):
                    specific = _MISSING_ARG_ERRORS.get((method, name))
                    if specific is not None:
                        raise _SlackError(specific)
                    raise _SlackError("invalid_arguments", messages=[f"missing required field: {name}"])
            # Handlers store parts of the arguments: keep them apart from the recorded Call.
            payload = {"ok": True, **handler(copy.deepcopy(args))}
            return 200, payload, {}
        except _SlackError as exc:
            return exc.status, exc.body, exc.headers

    def _apply_fault(self, method: str) -> None:
        """Raise the next injected fault for ``method``, if any."""
        queue = self._faults.get(method)
        if not queue:
            return
        fault = queue[0]
        fault.times -= 1
        if fault.times <= 0:
            queue.pop(0)
        if fault.status == 429:
            self.rate_limited += 1
            raise _SlackError("ratelimited", status=429, headers={"Retry-After": str(fault.retry_after or 1)})
        raise _SlackError(fault.error, status=fault.status)

    async def _handle_upload(self, request: Request) -> Response:
        """Serve an ``upload_url``: store the raw (or multipart) bytes for the file."""
        file_id = request.path_params["file_id"]
        received = time.monotonic()
        body = await request.body()
        content = body
        content_type = request.headers.get("content-type", "")
        if content_type.lower().startswith("multipart/form-data"):
            message = BytesParser().parsebytes(f"Content-Type: {content_type}\r\n\r\n".encode("latin-1") + body)
            parts = [p for p in message.walk() if not p.is_multipart()]
            if parts:
                payload = parts[0].get_payload(decode=True)
                content = payload if isinstance(payload, bytes) else b""
        with self._lock:
            record = self._files.get(file_id)
            if record is None:
                status, response = 404, {"ok": False, "error": "file_not_found"}
            else:
                record["content"] = content
                record["uploaded_length"] = len(content)
                status, response = 200, {"ok": True}
            self._calls.append(
                Call(
                    UPLOAD_METHOD,
                    {"file_id": file_id, "length": len(content)},
                    None,
                    status,
                    response,
                    received,
                )
            )
        if status != 200:
            return PlainTextResponse("file not found", status_code=status)
        return PlainTextResponse(f"OK - {len(content)}")

    async def _handle_socket(self, websocket: WebSocket) -> None:
        """Serve one Socket Mode connection: check the ticket, say hello, collect acks."""
        ticket = websocket.path_params["ticket"]
        with self._lock:
            known = ticket in self._socket_tickets
            self._socket_tickets.discard(ticket)  # a ticket opens one connection, as on Slack
        if not known:
            await websocket.close(code=1008)  # before accept: the handshake fails with HTTP 403
            return
        await websocket.accept()
        with self._lock:
            self.socket_connections_opened += 1
            connection = _SocketConnection(self.socket_connections_opened, websocket, asyncio.get_running_loop())
            self._sockets.append(connection)
            hello = {
                "type": "hello",
                "num_connections": len(self._sockets),
                "debug_info": {
                    "host": "applink-fake",
                    "started": datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")[:-3],
                    "build_number": 1,
                    "approximate_connection_time": 18060,
                },
                "connection_info": {"app_id": self.app_id},
            }
            self._socket_sent.append(copy.deepcopy(hello))
        try:
            await connection.send(hello)
            with self._lock:
                connection.ready = True
            while True:
                message = await websocket.receive()
                if message["type"] == "websocket.disconnect":
                    break
                text = message.get("text")
                if text is None:
                    text = (message.get("bytes") or b"").decode("utf-8", "replace")
                try:
                    frame = json.loads(text)
                except ValueError:
                    frame = None
                if not isinstance(frame, dict):
                    frame = {"raw": text}
                with self._lock:
                    self._socket_received.append(frame)
                    envelope_id = frame.get("envelope_id")
                    ack = self._pending_acks.get(envelope_id) if isinstance(envelope_id, str) else None
                if ack is not None and not ack.done():
                    ack.set_result(copy.deepcopy(frame))
        finally:
            with self._lock:
                connection.ready = False
                if connection in self._sockets:
                    self._sockets.remove(connection)

    # -- helpers (called with the lock held) ---------------------------------------

    def _next_ts(self) -> str:
        """Next message timestamp: unique and increasing (``1700000000.000100``, …)."""
        micros = next(self._ts_counter) * 100
        return f"{1700000000 + micros // 1_000_000}.{micros % 1_000_000:06d}"

    def _next_id(self, prefix: str) -> str:
        """Next id such as ``V0001``/``F0002`` (one counter for all prefixes)."""
        return f"{prefix}{next(self._id_counter):04d}"

    def _resolve_channel(self, channel: str) -> str:
        """Map ``#name``/``name`` of a registered channel to its id."""
        name = channel[1:] if channel.startswith("#") else channel
        if channel not in self._channels:
            for cid, info in self._channels.items():
                if info["name"] == name:
                    return cid
        return channel

    def _channel_arg(self, args: dict[str, Any], key: str = "channel") -> str:
        """The channel id in ``args[key]``; ``channel_not_found`` when strict and unknown."""
        channel = self._resolve_channel(str(args[key]))
        if self.strict_channels and channel not in self._channels:
            raise _SlackError("channel_not_found")
        return channel

    def _live_message(self, channel: str, ts: Any) -> dict[str, Any]:
        """The stored, not deleted message, or ``message_not_found``."""
        msg = self._messages.get((channel, str(ts)))
        if msg is None or msg["deleted"]:
            raise _SlackError("message_not_found")
        return msg

    def _validate_content(self, args: dict[str, Any]) -> None:
        """Text, blocks, attachments and metadata checks shared by the chat methods: Slack answers the first."""
        errors = message_content_errors(args)
        if errors:
            code, details = errors[0]
            raise _SlackError(code, errors=details, messages=details) if code == "invalid_blocks" else _SlackError(code)

    def _thread_root(self, channel: str, thread_ts: Any) -> str | None:
        """The thread a ``thread_ts`` refers to (None if absent), or ``thread_not_found``."""
        if _missing(thread_ts):
            return None
        parent = self._messages.get((channel, str(thread_ts)))
        if parent is None or parent["deleted"]:
            raise _SlackError("thread_not_found")
        # A reply's ts names the thread of its parent.
        return str(parent["thread_ts"] or parent["ts"])

    def _store_message(
        self, channel: str, *, text: str, blocks: list[Any], thread_ts: str | None, **fields: Any
    ) -> dict[str, Any]:
        """Store a new message from the bot (counting it as a reply when threaded)."""
        ts = self._next_ts()
        msg: dict[str, Any] = {
            "type": "message",
            "channel": channel,
            "ts": ts,
            "text": text,
            "blocks": blocks,
            "attachments": None,
            "metadata": None,
            "thread_ts": thread_ts,
            "user": self.bot_user_id,
            "bot_id": self.bot_id,
            "app_id": self.app_id,
            "team": self.team_id,
            "files": [],
            "reply_count": 0,
            "edits": 0,
            "history": [],
            "deleted": False,
            **fields,
        }
        self._messages[(channel, ts)] = msg
        self._order.append((channel, ts))
        if thread_ts is not None:
            parent = self._messages[(channel, thread_ts)]
            parent["reply_count"] += 1
            parent["latest_reply"] = ts
        return msg

    def _public_message(self, msg: dict[str, Any]) -> dict[str, Any]:
        """The message as Slack returns it in API responses."""
        out = {
            k: v
            for k, v in msg.items()
            if k not in ("channel", "edits", "history", "deleted", "reply_count") and v is not None
        }
        if not out.get("files"):
            out.pop("files", None)
        return copy.deepcopy(out)

    # -- handlers (called with the lock held) -------------------------------------

    def _api_test(self, args: dict[str, Any]) -> dict[str, Any]:
        """``api.test``: echo the arguments; fail with ``error`` when given."""
        if args.get("error"):
            raise _SlackError(str(args["error"]), args=args)
        return {"args": args}

    def _apps_connections_open(self, args: dict[str, Any]) -> dict[str, Any]:
        """``apps.connections.open``: a single-use WebSocket URL for Socket Mode."""
        ticket = uuid.uuid4().hex
        self._socket_tickets.add(ticket)
        ws_base = "ws://" + self.base_url.removeprefix("http://")
        return {"url": f"{ws_base}{SOCKET_MODE_PATH}/{ticket}"}

    def _auth_test(self, args: dict[str, Any]) -> dict[str, Any]:
        """``auth.test``: the bot's identity."""
        host = urlsplit(self.workspace_url).hostname or "chatops-test.slack.com"
        return {
            "url": self.workspace_url,
            "team": host.split(".")[0],
            "user": "chatops",
            "team_id": self.team_id,
            "user_id": self.bot_user_id,
            "bot_id": self.bot_id,
            "is_enterprise_install": False,
        }

    def _chat_post_message(self, args: dict[str, Any]) -> dict[str, Any]:
        """``chat.postMessage``: validate, pace, store a message or thread reply."""
        channel = self._channel_arg(args)
        self._validate_content(args)
        thread_ts = self._thread_root(channel, args.get("thread_ts"))
        if self.post_interval > 0:
            now = time.monotonic()
            last = self._last_post.get(channel)
            if last is not None and now - last < self.post_interval:
                self.rate_limited += 1
                wait = max(1, math.ceil(self.post_interval - (now - last)))
                raise _SlackError("ratelimited", status=429, headers={"Retry-After": str(wait)})
            self._last_post[channel] = now
        msg = self._store_message(
            channel,
            text=str(args.get("text") or ""),
            blocks=args.get("blocks") or [],
            thread_ts=thread_ts,
            attachments=args.get("attachments"),
            metadata=args.get("metadata"),
            reply_broadcast=_truthy(args.get("reply_broadcast")),
            unfurl_links=_truthy(args.get("unfurl_links")),
            unfurl_media=_truthy(args.get("unfurl_media")),
        )
        self._metadata_posted(msg)
        return {"channel": channel, "ts": msg["ts"], "message": self._public_message(msg)}

    def _chat_update(self, args: dict[str, Any]) -> dict[str, Any]:
        """``chat.update``: replace the fields given, keeping a history of versions."""
        channel = self._channel_arg(args)
        msg = self._live_message(channel, args["ts"])
        self._validate_content(args)
        msg["history"].append({k: copy.deepcopy(msg[k]) for k in ("text", "blocks", "attachments", "metadata")})
        # Slack keeps fields the update leaves out (send blocks=[] to remove blocks).
        if "text" in args:
            msg["text"] = str(args["text"] or "")
        for key in ("blocks", "attachments", "metadata"):
            if key in args:
                msg[key] = args[key]
        msg["edits"] += 1
        msg["edited"] = {"user": self.bot_user_id, "ts": self._next_ts()}
        return {
            "channel": channel,
            "ts": msg["ts"],
            "text": msg["text"],
            "message": self._public_message(msg),
        }

    def _chat_post_ephemeral(self, args: dict[str, Any]) -> dict[str, Any]:
        """``chat.postEphemeral``: record a message only ``user`` sees."""
        channel = self._channel_arg(args)
        self._validate_content(args)
        message_ts = self._next_ts()
        self._ephemerals.append(
            {
                "channel": channel,
                "user": str(args["user"]),
                "text": str(args.get("text") or ""),
                "blocks": args.get("blocks") or [],
                "attachments": args.get("attachments"),
                "thread_ts": args.get("thread_ts") or None,
                "message_ts": message_ts,
            }
        )
        return {"message_ts": message_ts}

    def _chat_get_permalink(self, args: dict[str, Any]) -> dict[str, Any]:
        """``chat.getPermalink``: ``<workspace>/archives/<channel>/p<ts without dot>``."""
        channel = self._channel_arg(args)
        msg = self._live_message(channel, args["message_ts"])
        permalink = f"{self.workspace_url}archives/{channel}/p{msg['ts'].replace('.', '')}"
        if msg["thread_ts"] is not None:
            permalink += f"?thread_ts={msg['thread_ts']}&cid={channel}"
        return {"channel": channel, "permalink": permalink}

    def _chat_delete(self, args: dict[str, Any]) -> dict[str, Any]:
        """``chat.delete``: mark the message deleted."""
        channel = self._channel_arg(args)
        msg = self._live_message(channel, args["ts"])
        msg["deleted"] = True
        if msg["thread_ts"] is not None:
            self._messages[(channel, msg["thread_ts"])]["reply_count"] -= 1
        return {"channel": channel, "ts": msg["ts"]}

    def _check_view(self, view: Any, kinds: tuple[str, ...]) -> dict[str, Any]:
        """Validate a view payload or answer ``invalid_arguments`` naming each problem."""
        errors = view_errors(view, kinds=kinds)
        if errors:
            raise _SlackError("invalid_arguments", messages=errors)
        assert isinstance(view, dict)
        return view

    def _use_trigger(self, args: dict[str, Any]) -> tuple[str, str | None]:
        """Consume a trigger id: ``trigger_exchanged`` if reused, ``expired_trigger_id`` if stale."""
        trigger = str(args.get("trigger_id") or args.get("interactivity_pointer"))
        if trigger in self._used_triggers:
            raise _SlackError("trigger_exchanged")
        user: str | None = None
        issued = self._triggers.get(trigger)
        if issued is not None:
            user, at = issued
            if self.trigger_ttl is not None and time.monotonic() - at > self.trigger_ttl:
                raise _SlackError("expired_trigger_id")
        self._used_triggers.add(trigger)
        return trigger, user

    def _view_hash(self, view_id: str) -> str:
        """A fresh view hash in Slack's ``<seconds>.<token>`` shape."""
        n = next(self._id_counter)
        return f"{1700000000 + n}.{hashlib.sha256(f'{view_id}:{n}'.encode()).hexdigest()[:8]}"

    def _store_view(
        self,
        view: dict[str, Any],
        *,
        method: str,
        trigger_id: str | None,
        user: str | None,
        previous_view_id: str | None = None,
        view_id: str | None = None,
    ) -> dict[str, Any]:
        """Store (or replace) a view and return it as Slack renders it."""
        view_id = view_id or self._next_id("V")
        rendered = {
            "id": view_id,
            "team_id": self.team_id,
            "type": view.get("type"),
            "blocks": copy.deepcopy(view.get("blocks", [])),
            "private_metadata": view.get("private_metadata", ""),
            "callback_id": view.get("callback_id", ""),
            "state": {"values": {}},
            "hash": self._view_hash(view_id),
            "title": copy.deepcopy(view.get("title")),
            "clear_on_close": bool(view.get("clear_on_close", False)),
            "notify_on_close": bool(view.get("notify_on_close", False)),
            "close": copy.deepcopy(view.get("close")),
            "submit": copy.deepcopy(view.get("submit")),
            "previous_view_id": previous_view_id,
            "root_view_id": view_id,
            "app_id": self.app_id,
            "external_id": view.get("external_id", ""),
            "app_installed_team_id": self.team_id,
            "bot_id": self.bot_id,
        }
        record = self._views.get(view_id)
        if record is None:
            record = {"id": view_id, "method": method, "trigger_id": trigger_id, "user": user, "updates": 0}
            self._views[view_id] = record
        else:
            record["updates"] += 1
            rendered["root_view_id"] = record["view"]["root_view_id"]
            rendered["previous_view_id"] = record["view"]["previous_view_id"]
            if not rendered["external_id"]:
                rendered["external_id"] = record["view"]["external_id"]
        record["view"] = rendered
        record["hash"] = rendered["hash"]
        self._view_order.append(view_id)
        return {"view": copy.deepcopy(rendered)}

    def _views_open(self, args: dict[str, Any]) -> dict[str, Any]:
        """``views.open``: open a modal with a trigger id."""
        view = self._check_view(args["view"], ("modal",))
        trigger, user = self._use_trigger(args)
        return self._store_view(view, method="views.open", trigger_id=trigger, user=user)

    def _views_push(self, args: dict[str, Any]) -> dict[str, Any]:
        """``views.push``: push a modal onto the stack with a trigger id."""
        view = self._check_view(args["view"], ("modal",))
        trigger, user = self._use_trigger(args)
        return self._store_view(view, method="views.push", trigger_id=trigger, user=user)

    def _views_update(self, args: dict[str, Any]) -> dict[str, Any]:
        """``views.update``: replace a view found by ``view_id`` or ``external_id``."""
        view_id, external_id = args.get("view_id"), args.get("external_id")
        if _missing(view_id) and _missing(external_id):
            raise _SlackError("invalid_arguments", messages=["missing required field: view_id or external_id"])
        view = self._check_view(args["view"], ("modal", "home"))
        if _missing(view_id):
            matches = [v for v, r in self._views.items() if r["view"]["external_id"] == external_id]
            if not matches:
                raise _SlackError("not_found")
            view_id = matches[-1]
        record = self._views.get(str(view_id))
        if record is None:
            raise _SlackError("not_found")
        if not _missing(args.get("hash")) and args["hash"] != record["hash"]:
            raise _SlackError("hash_conflict")
        return self._store_view(
            view,
            method=record["method"],
            trigger_id=record["trigger_id"],
            user=record["user"],
            view_id=record["id"],
        )

    def _views_publish(self, args: dict[str, Any]) -> dict[str, Any]:
        """``views.publish``: publish a user's Home tab."""
        view = self._check_view(args["view"], ("home",))
        user_id = str(args["user_id"])
        existing = self._home_views.get(user_id)
        if existing is not None and not _missing(args.get("hash")) and args["hash"] != self._views[existing]["hash"]:
            raise _SlackError("hash_conflict")
        result = self._store_view(view, method="views.publish", trigger_id=None, user=user_id, view_id=existing)
        self._home_views[user_id] = result["view"]["id"]
        return result

    def _users_info(self, args: dict[str, Any]) -> dict[str, Any]:
        """``users.info``: a user registered with :meth:`add_user`."""
        user = self._users.get(str(args["user"]))
        if user is None:
            raise _SlackError("user_not_found")
        return {"user": copy.deepcopy(user)}

    def _conversations_history(self, args: dict[str, Any]) -> dict[str, Any]:
        """``conversations.history``: a channel's top-level messages, newest first.

        ``limit`` is capped at :attr:`history_limit` (15, Slack's cap for apps outside
        the Marketplace since 2025); metadata is included only with ``include_all_metadata``;
        ``oldest``/``latest`` bound the ts (exclusive unless ``inclusive``).
        """
        channel = self._channel_arg(args)
        try:
            limit = min(int(args.get("limit") or 100), self.history_limit)
        except ValueError:
            raise _SlackError("invalid_limit") from None
        inclusive = bool(_truthy(args.get("inclusive")))
        oldest, latest = args.get("oldest"), args.get("latest")
        found = []
        for key in reversed(self._order):
            msg = self._messages[key]
            if key[0] != channel or msg["deleted"] or msg["thread_ts"] is not None:
                continue
            ts = float(msg["ts"])
            if oldest is not None and (ts < float(oldest) or (ts == float(oldest) and not inclusive)):
                continue
            if latest is not None and (ts > float(latest) or (ts == float(latest) and not inclusive)):
                continue
            public = self._public_message(msg)
            if not _truthy(args.get("include_all_metadata")):
                public.pop("metadata", None)
            found.append(public)
        return {
            "messages": found[:limit],
            "has_more": len(found) > limit,
            "pin_count": 0,
            "response_metadata": {"next_cursor": ""},
        }

    def _conversations_info(self, args: dict[str, Any]) -> dict[str, Any]:
        """``conversations.info``: a channel registered with :meth:`add_channel`."""
        channel = self._channels.get(self._resolve_channel(str(args["channel"])))
        if channel is None:
            raise _SlackError("channel_not_found")
        return {"channel": copy.deepcopy(channel)}

    def _usergroups_list(self, args: dict[str, Any]) -> dict[str, Any]:
        """``usergroups.list``: registered usergroups (members with ``include_users``)."""
        include_users = bool(_truthy(args.get("include_users")))
        groups = []
        for group in self._usergroups.values():
            item = copy.deepcopy(group)
            item["user_count"] = len(group["users"])
            if not include_users:
                item.pop("users")
            groups.append(item)
        return {"usergroups": groups}

    def _usergroups_users_list(self, args: dict[str, Any]) -> dict[str, Any]:
        """``usergroups.users.list``: a usergroup's member ids."""
        group = self._usergroups.get(str(args["usergroup"]))
        if group is None:
            raise _SlackError("no_such_subteam")
        return {"users": list(group["users"])}

    def _files_get_upload_url(self, args: dict[str, Any]) -> dict[str, Any]:
        """``files.getUploadURLExternal``: a file id and an upload URL on this server."""
        try:
            length = int(args["length"])
        except (TypeError, ValueError):
            raise _SlackError("invalid_arguments", messages=["length must be an integer"]) from None
        file_id = self._next_id("F")
        self._files[file_id] = {
            "id": file_id,
            "filename": str(args["filename"]),
            "length": length,
            "alt_txt": args.get("alt_txt"),
            "content": None,
            "uploaded_length": None,
            "title": None,
            "channels": [],
            "completed": False,
        }
        return {"upload_url": f"{self.base_url}/upload/v1/{file_id}", "file_id": file_id}

    def _files_complete_upload(self, args: dict[str, Any]) -> dict[str, Any]:
        """``files.completeUploadExternal``: share uploaded files as a message."""
        files = args["files"]
        if not isinstance(files, list) or not all(isinstance(f, dict) and f.get("id") for f in files):
            raise _SlackError("invalid_arguments", messages=["files must be an array of {id, title}"])
        for item in files:
            record = self._files.get(str(item["id"]))
            if record is None or record["content"] is None:
                raise _SlackError("file_not_found")
        channels: list[str] = []
        if not _missing(args.get("channel_id")):
            channels.append(self._channel_arg(args, "channel_id"))
        if not _missing(args.get("channels")):
            channels.extend(self._resolve_channel(c.strip()) for c in str(args["channels"]).split(",") if c.strip())
        roots = {channel: self._thread_root(channel, args.get("thread_ts")) for channel in channels}
        shared = []
        for item in files:
            record = self._files[str(item["id"])]
            record["title"] = item.get("title") or record["filename"]
            record["completed"] = True
            record["channels"] = channels
            shared.append(
                {
                    "id": record["id"],
                    "name": record["filename"],
                    "title": record["title"],
                    "size": len(record["content"]),
                }
            )
        for channel in channels:
            self._store_message(
                channel,
                text=str(args.get("initial_comment") or ""),
                blocks=[],
                thread_ts=roots[channel],
                files=copy.deepcopy(shared),
                upload=True,
            )
        return {"files": shared}
