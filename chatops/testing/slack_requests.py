"""Build signed requests, shaped like Slack's, for a Bolt app in HTTP mode.

Slack POSTs interactions (``block_actions``, ``view_submission``) as
``application/x-www-form-urlencoded`` bodies holding one field, ``payload=<json>``;
slash commands as plain form fields; Events API callbacks as JSON. Every request
carries ``X-Slack-Request-Timestamp`` and ``X-Slack-Signature`` (``v0=`` + HMAC-SHA256
of ``v0:{timestamp}:{body}`` with the signing secret), which Bolt verifies::

    body = block_actions_body(user_id="U1", user_name="ann", channel_id="C1",
                              message_ts=ts, action_id="claim", value="42")
    response = await http.post("/slack/events", content=body,
                               headers=signed_headers(SECRET, body))

Payload shapes follow Slack's documentation of interaction payloads and the request
bodies used in slack-bolt's own test-suite.
"""

from __future__ import annotations

import copy
import hashlib
import itertools
import json
import time
from typing import Any
from urllib.parse import urlencode

from slack_sdk.signature import SignatureVerifier

__all__ = [
    "block_actions_body",
    "event_body",
    "new_trigger_id",
    "signed_headers",
    "slash_command_body",
    "view_submission_body",
]

#: Values Slack puts in every payload that chatops does not use.
API_APP_ID = "A0001"
VERIFICATION_TOKEN = "verification-token"  # noqa: S105 - Slack's deprecated verification token, a dummy
TEAM_DOMAIN = "chatops-test"

_counter = itertools.count(1)


def new_trigger_id() -> str:
    """A fresh trigger id in Slack's format (``<digits>.<digits>.<hex>``)."""
    n = next(_counter)
    return f"{int(time.time())}{n:04d}.1700000000.{hashlib.sha256(str(n).encode()).hexdigest()[:32]}"


def signed_headers(
    signing_secret: str,
    body: bytes | str,
    *,
    timestamp: int | None = None,
    content_type: str = "application/x-www-form-urlencoded",
) -> dict[str, str]:
    """Headers Slack sends with ``body``: content type, timestamp and ``v0=`` signature.

    ``timestamp`` defaults to now; pass an old one to test replay rejection (Bolt
    refuses timestamps more than 5 minutes off).
    """
    ts = str(int(time.time()) if timestamp is None else timestamp)
    raw = body.decode("utf-8") if isinstance(body, bytes) else body
    signature = SignatureVerifier(signing_secret).generate_signature(timestamp=ts, body=raw)
    assert signature is not None
    return {
        "Content-Type": content_type,
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": signature,
    }


def _form_payload(payload: dict[str, Any]) -> str:
    """``payload=<json>``, form-encoded, as Slack sends interactions."""
    return urlencode({"payload": json.dumps(payload, separators=(",", ":"))})


def _find_element(blocks: Any, block_id: str, action_id: str) -> dict[str, Any] | None:
    """The element a click came from, if the message's blocks contain it."""
    if not isinstance(blocks, list):
        return None
    for block in blocks:
        if not isinstance(block, dict) or block.get("block_id", block_id) != block_id:
            continue
        candidates = list(block.get("elements") or [])
        if isinstance(block.get("accessory"), dict):
            candidates.append(block["accessory"])
        for element in candidates:
            if isinstance(element, dict) and element.get("action_id") == action_id:
                return element
    return None


def block_actions_body(
    *,
    user_id: str,
    user_name: str,
    channel_id: str,
    message_ts: str,
    action_id: str,
    value: str,
    block_id: str = "actions",
    trigger_id: str | None = None,
    team_id: str = "T0001",
    message: dict[str, Any] | None = None,
    response_url: str | None = None,
    channel_name: str = "chatops",
    thread_ts: str | None = None,
) -> str:
    """Form body (``payload=<json>``) of a button click on a message, as Slack sends it.

    ``message`` (e.g. ``fake.message(channel, ts)``) is embedded as the clicked message;
    when its blocks contain the button, the action's ``text``/``style``/``url`` are
    taken from it. ``thread_ts`` marks a click on a thread reply.
    """
    embedded: dict[str, Any] = {"type": "message", "ts": message_ts, "text": ""}
    if message is not None:
        internal = ("edits", "history", "deleted", "channel")
        embedded.update({k: copy.deepcopy(v) for k, v in message.items() if k not in internal})
        embedded["ts"] = message_ts
    container: dict[str, Any] = {
        "type": "message",
        "message_ts": message_ts,
        "channel_id": channel_id,
        "is_ephemeral": False,
    }
    if thread_ts is not None:
        container["thread_ts"] = thread_ts
    action: dict[str, Any] = {
        "action_id": action_id,
        "block_id": block_id,
        "text": {"type": "plain_text", "text": "Button", "emoji": True},
        "value": value,
        "type": "button",
        "action_ts": f"{time.time():.6f}",
    }
    element = _find_element(embedded.get("blocks"), block_id, action_id)
    if element is not None:
        for key in ("text", "style", "url"):
            if key in element:
                action[key] = copy.deepcopy(element[key])
    payload: dict[str, Any] = {
        "type": "block_actions",
        "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id},
        "api_app_id": API_APP_ID,
        "token": VERIFICATION_TOKEN,
        "container": container,
        "trigger_id": trigger_id or new_trigger_id(),
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "enterprise": None,
        "is_enterprise_install": False,
        "channel": {"id": channel_id, "name": channel_name},
        "message": embedded,
        "state": {"values": {}},
        "response_url": response_url or f"https://hooks.slack.com/actions/{team_id}/1/{action_id}",
        "actions": [action],
    }
    return _form_payload(payload)


def view_submission_body(
    *,
    user_id: str,
    user_name: str,
    view: dict[str, Any],
    values: dict[str, dict[str, dict[str, Any] | str]],
    team_id: str = "T0001",
    trigger_id: str | None = None,
) -> str:
    """Form body (``payload=<json>``) of a modal submission, as Slack sends it.

    ``view`` is the view as opened (e.g. ``fake.last_view()["view"]`` or the JSON the
    app sent); ``values`` is ``{block_id: {action_id: {"type": ..., "value": ...}}}``.
    A bare string stands for ``{"type": "plain_text_input", "value": string}``.
    """
    state: dict[str, dict[str, dict[str, Any]]] = {
        block_id: {
            action_id: ({"type": "plain_text_input", "value": v} if isinstance(v, str) else copy.deepcopy(v))
            for action_id, v in actions.items()
        }
        for block_id, actions in values.items()
    }
    view_id = view.get("id") or "V0001"
    submitted = {
        "id": view_id,
        "team_id": team_id,
        "type": view.get("type", "modal"),
        "blocks": copy.deepcopy(view.get("blocks", [])),
        "private_metadata": view.get("private_metadata", ""),
        "callback_id": view.get("callback_id", ""),
        "state": {"values": state},
        "hash": view.get("hash") or f"{int(time.time())}.fakehash",
        "title": copy.deepcopy(view.get("title")),
        "clear_on_close": view.get("clear_on_close", False),
        "notify_on_close": view.get("notify_on_close", False),
        "close": copy.deepcopy(view.get("close")),
        "submit": copy.deepcopy(view.get("submit")),
        "previous_view_id": view.get("previous_view_id"),
        "root_view_id": view.get("root_view_id") or view_id,
        "app_id": view.get("app_id", API_APP_ID),
        "external_id": view.get("external_id", ""),
        "app_installed_team_id": view.get("app_installed_team_id", team_id),
        "bot_id": view.get("bot_id", "B0001"),
    }
    payload = {
        "type": "view_submission",
        "team": {"id": team_id, "domain": TEAM_DOMAIN},
        "user": {"id": user_id, "username": user_name, "name": user_name, "team_id": team_id},
        "api_app_id": API_APP_ID,
        "token": VERIFICATION_TOKEN,
        "trigger_id": trigger_id or new_trigger_id(),
        "view": submitted,
        "response_urls": [],
        "is_enterprise_install": False,
        "enterprise": None,
    }
    return _form_payload(payload)


def slash_command_body(
    *,
    command: str,
    text: str,
    user_id: str,
    user_name: str,
    channel_id: str,
    trigger_id: str | None = None,
    response_url: str | None = None,
    team_id: str = "T0001",
    channel_name: str = "chatops",
) -> str:
    """Form body of a slash command invocation, as Slack sends it."""
    return urlencode(
        {
            "token": VERIFICATION_TOKEN,
            "team_id": team_id,
            "team_domain": TEAM_DOMAIN,
            "channel_id": channel_id,
            "channel_name": channel_name,
            "user_id": user_id,
            "user_name": user_name,
            "command": command,
            "text": text,
            "api_app_id": API_APP_ID,
            "is_enterprise_install": "false",
            "response_url": response_url or f"https://hooks.slack.com/commands/{team_id}/1/fake",
            "trigger_id": trigger_id or new_trigger_id(),
        }
    )


def event_body(
    event: dict[str, Any],
    *,
    team_id: str = "T0001",
    event_id: str | None = None,
    event_time: int | None = None,
) -> str:
    """JSON body of an Events API ``event_callback`` wrapping ``event``.

    Sign it with ``signed_headers(secret, body, content_type="application/json")``.
    """
    n = next(_counter)
    return json.dumps(
        {
            "token": VERIFICATION_TOKEN,
            "team_id": team_id,
            "api_app_id": API_APP_ID,
            "event": event,
            "type": "event_callback",
            "event_id": event_id or f"Ev{n:08d}",
            "event_time": event_time if event_time is not None else int(time.time()),
            "authorizations": [{"enterprise_id": None, "team_id": team_id, "user_id": "UBOT", "is_bot": True}],
            "is_ext_shared_channel": False,
        }
    )
