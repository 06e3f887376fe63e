"""The Slack Web API as the fake describes it: the rules a call must pass before any state changes.

Which methods exist and the arguments each requires (from Slack's OpenAPI description,
plus what Slack needs in practice), which token each method takes, how a request's
arguments are read (query string, form or JSON body, JSON-encoded fields), how Slack
words an error, and the :class:`Call` every request is recorded as. Nothing here holds
state; :class:`~chatops.testing.fake_slack.fake.FakeSlack` applies these rules.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl

from starlette.requests import Request

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
MISSING_ARG_ERRORS: dict[tuple[str, str], str] = {
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
JSON_ARGS = frozenset({"blocks", "attachments", "metadata", "view", "files"})

#: Pseudo method name under which uploads to an ``upload_url`` are recorded.
UPLOAD_METHOD = "files.upload.bytes"

# Methods that take the app-level token (``xapp-…``) instead of the bot token.
APP_TOKEN_METHODS = frozenset({"apps.connections.open"})

#: A method's handler: the call's arguments in, the answer's fields (beside ``"ok": true``) out.
Handler = Callable[[dict[str, Any]], dict[str, Any]]


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


class SlackError(Exception):
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


def truthy(value: Any) -> bool | None:
    """Slack-style boolean argument ("1", "true", True) or None when absent."""
    if value is None:
        return None
    if isinstance(value, bool):
        return value
    return str(value).strip().lower() in ("1", "true", "yes")


def missing(value: Any) -> bool:
    """True when a required argument counts as absent (None, empty string or container)."""
    return value is None or value == "" or value == [] or value == {}


async def read_arguments(request: Request) -> tuple[dict[str, Any], str | None, str | None]:
    """Read a Web API request as Slack does: ``(arguments, token, parse_error)``.

    Arguments come from the query string and a form or JSON body; the fields Slack takes
    as JSON (blocks, view, …) are decoded when they arrive as strings. The token comes
    from ``Authorization: Bearer`` or, failing that, the ``token`` argument (removed from
    the arguments). ``parse_error`` is the error Slack answers for a body it cannot read.
    """
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
    for key in JSON_ARGS & args.keys():
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
    return args, token, parse_error


def check_token(method: str, token: str | None, *, bot_token: str, app_token: str) -> None:
    """Raise Slack's error when ``token`` may not call ``method`` (``api.test`` needs none)."""
    if method == "api.test":
        return
    expected, other = bot_token, app_token
    if method in APP_TOKEN_METHODS:
        expected, other = other, expected
    if token is None:
        raise SlackError("not_authed")
    if token == other:
        raise SlackError("not_allowed_token_type")
    if token != expected:
        raise SlackError("invalid_auth")


def check_arguments(method: str, args: dict[str, Any], parse_error: str | None) -> None:
    """Raise Slack's error for an unreadable body or a missing required argument."""
    if parse_error is not None:
        raise SlackError(parse_error)
    for name in REQUIRED_ARGS.get(method, ()) + EXTRA_REQUIRED_ARGS.get(method, ()):
        if missing(args.get(name)) and not (name == "trigger_id" and args.get("interactivity_pointer")):
            specific = MISSING_ARG_ERRORS.get((method, name))
            if specific is not None:
                raise SlackError(specific)
            raise SlackError("invalid_arguments", messages=[f"missing required field: {name}"])
