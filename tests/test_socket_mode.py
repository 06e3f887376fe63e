"""The bot in Socket Mode (its default) against the fake Slack's WebSocket endpoint.

The real :class:`ChatOps` app connects exactly as ``chatops run`` does
(:func:`chatops.server.connect_socket_mode`): slack_sdk's aiohttp client calls
``apps.connections.open`` on the fake with the app-level token, opens the returned
``ws://`` URL, and the test pushes envelopes the way Slack does.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import aiohttp
import pytest
from slack_bolt.adapter.socket_mode.async_handler import AsyncSocketModeHandler
from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from chatops.app import ChatOps
from chatops.config import ConfigError, Settings, parse_settings
from chatops.server import connect_socket_mode
from chatops.slack import modals
from chatops.slack.card import ACTION_PREFIX
from chatops.sources import InboundMessage
from chatops.testing.bot import block_text
from chatops.testing.fake_slack import SOCKET_MODE_PATH, Call, FakeSlack
from chatops.testing.slack_requests import block_actions_body, slash_command_body, view_submission_body

INBOX = "CINBOX"
WEBHOOK_SECRET = "socket-mode-webhook-secret"
ANNA = ("UANNA", "anna")


def socket_settings(fake: FakeSlack, tmp_path: Path, *, app_token: str | None = None) -> Settings:
    return parse_settings(
        {
            "team": {"timezone": "Europe/Helsinki", "language": "en"},
            "slack": {
                "mode": "socket",
                "bot_token": fake.bot_token,
                "app_token": app_token if app_token is not None else fake.app_token,
                "api_url": fake.api_url,
                "inbox_channel": INBOX,
                "post_interval_seconds": 0.0,
            },
            "database": {"url": f"sqlite+aiosqlite:///{tmp_path / 'chatops.db'}"},
            "delivery": {"poll_interval_seconds": 0.05, "backoff_base_seconds": 0.05, "backoff_max_seconds": 0.5},
            "plugins": {"enabled": ["webhook"], "webhook": {"secret": WEBHOOK_SECRET}},
        },
        environ={},
    )


async def started_app(fake: FakeSlack, tmp_path: Path, *, app_token: str | None = None) -> ChatOps:
    app = ChatOps(socket_settings(fake, tmp_path, app_token=app_token), instance_id="socket-test")
    await app.start()
    return app


@pytest.fixture
async def app(fake_slack: FakeSlack, tmp_path: Path) -> AsyncIterator[ChatOps]:
    running = await started_app(fake_slack, tmp_path)
    try:
        yield running
    finally:
        await running.stop()


@pytest.fixture
async def socket_mode(app: ChatOps, fake_slack: FakeSlack) -> AsyncIterator[AsyncSocketModeHandler]:
    handler = await connect_socket_mode(app)
    try:
        await fake_slack.wait_for_socket()
        yield handler
    finally:
        await handler.close_async()


def _form_payload(body: str) -> dict[str, Any]:
    """The JSON in a ``payload=`` form body: what a Socket Mode envelope carries instead."""
    return json.loads(dict(parse_qsl(body))["payload"])


def _buttons(message: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found = {}
    for block in message.get("blocks") or []:
        for element in [*(block.get("elements") or []), *([block["accessory"]] if block.get("accessory") else [])]:
            action = element.get("action_id", "")
            if element.get("type") == "button" and action.startswith(ACTION_PREFIX):
                found[action[len(ACTION_PREFIX) :].split(":")[0]] = {**element, "block_id": block.get("block_id")}
    return found


def click_payload(fake: FakeSlack, card: dict[str, Any], button: str, user: tuple[str, str] = ANNA) -> dict[str, Any]:
    """The ``block_actions`` payload of ``user`` pressing ``button`` on ``card``."""
    element = _buttons(card)[button]
    body = block_actions_body(
        user_id=user[0],
        user_name=user[1],
        channel_id=card["channel"],
        message_ts=card["ts"],
        action_id=element["action_id"],
        value=element.get("value", ""),
        block_id=element.get("block_id") or "actions",
        trigger_id=fake.new_trigger_id(user[0]),
        message=card,
    )
    return _form_payload(body)


async def new_card(app: ChatOps, fake: FakeSlack, text: str = "hi") -> dict[str, Any]:
    await app.ingest(InboundMessage(source="webhook", external_id="m1", thread_id="m1", text=text))
    await fake.wait_for("chat.postMessage", lambda c: c.ok and c.args.get("channel") == INBOX)
    [card] = fake.top_level_messages(INBOX)
    return card


def _updated_to_claimed(call: Call) -> bool:
    return call.ok and "Claimed by <@UANNA>" in block_text(call.args.get("blocks") or [])


# ---------------------------------------------------------------------------
# the bot over Socket Mode
# ---------------------------------------------------------------------------


async def test_connects_with_the_app_token_and_gets_slacks_hello(
    app: ChatOps, fake_slack: FakeSlack, socket_mode: AsyncSocketModeHandler
) -> None:
    [opened] = fake_slack.calls_to("apps.connections.open")
    assert opened.ok and opened.token == fake_slack.app_token
    url = opened.response["url"]
    assert url.startswith(fake_slack.base_url.replace("http://", "ws://") + SOCKET_MODE_PATH + "/")
    hello = fake_slack.socket_sent[0]
    assert hello["type"] == "hello"
    assert hello["num_connections"] == 1
    assert hello["connection_info"] == {"app_id": fake_slack.app_id}
    assert hello["debug_info"]["approximate_connection_time"] > 0
    assert await socket_mode.client.is_connected()


async def test_claim_button_over_socket_mode_is_acked_and_updates_the_card(
    app: ChatOps, fake_slack: FakeSlack, socket_mode: AsyncSocketModeHandler
) -> None:
    fake_slack.add_user(ANNA[0], name=ANNA[1], real_name="Anna")
    card = await new_card(app, fake_slack, "Where is my order?")
    assert "claim" in _buttons(card)

    ack = await fake_slack.send_socket_envelope(click_payload(fake_slack, card, "claim"))

    assert ack == {"envelope_id": ack["envelope_id"]}  # a plain ack: no response payload for a button
    await fake_slack.wait_for("chat.update", _updated_to_claimed)
    now = fake_slack.message(INBOX, card["ts"])
    assert "Claimed by <@UANNA>" in block_text(now["blocks"])
    assert "unclaim" in _buttons(now) and "claim" not in _buttons(now)


async def test_view_submission_errors_come_back_in_the_ack(
    app: ChatOps, fake_slack: FakeSlack, socket_mode: AsyncSocketModeHandler
) -> None:
    card = await new_card(app, fake_slack)
    await fake_slack.send_socket_envelope(click_payload(fake_slack, card, "escalate"))
    [opened] = await fake_slack.wait_for("views.open", lambda c: c.ok)
    view = opened.response["view"]
    body = view_submission_body(
        user_id=ANNA[0],
        user_name=ANNA[1],
        view=view,
        values={modals.REASON_BLOCK: {modals.REASON_ACTION: "   "}},
    )

    ack = await fake_slack.send_socket_envelope(_form_payload(body), accepts_response_payload=True)

    assert ack["payload"] == {"response_action": "errors", "errors": {modals.REASON_BLOCK: "Write something first."}}


async def test_slash_command_answer_comes_back_in_the_ack(
    app: ChatOps, fake_slack: FakeSlack, socket_mode: AsyncSocketModeHandler
) -> None:
    body = slash_command_body(command="/rota", text="", user_id=ANNA[0], user_name=ANNA[1], channel_id=INBOX)

    ack = await fake_slack.send_socket_envelope(
        dict(parse_qsl(body)), type="slash_commands", accepts_response_payload=True
    )

    assert "/rota" in ack["payload"]["text"]


async def test_reconnects_when_slack_asks_and_keeps_working(
    app: ChatOps, fake_slack: FakeSlack, socket_mode: AsyncSocketModeHandler
) -> None:
    card = await new_card(app, fake_slack)
    await fake_slack.send_socket_disconnect("refresh_requested")
    await fake_slack.wait_for_socket(opened=2)
    assert len(fake_slack.calls_to("apps.connections.open")) == 2

    ack = await fake_slack.send_socket_envelope(click_payload(fake_slack, card, "claim"))

    assert ack["envelope_id"]
    await fake_slack.wait_for("chat.update", _updated_to_claimed)


# A bot token (xoxb-) in app_token's place is refused by the settings before this point
# (tests/test_config_errors.py); Slack's answer to a token of the wrong type is played by a fault.
@pytest.mark.parametrize(
    ("token", "fault"),
    [("xapp-1-wrong", None), ("xapp-test", "not_allowed_token_type")],
    ids=["wrong-app-token", "wrong-token-type"],
)
async def test_a_bad_app_token_fails_to_connect_with_a_clear_error(
    fake_slack: FakeSlack, tmp_path: Path, token: str, fault: str | None
) -> None:
    app = await started_app(fake_slack, tmp_path, app_token=token)
    if fault is not None:
        fake_slack.fail_next("apps.connections.open", error=fault)
    try:
        with pytest.raises(ConfigError) as raised:
            await connect_socket_mode(app)
    finally:
        await app.stop()
    expected = fault or "invalid_auth"
    assert raised.value.key == "slack.app_token"
    assert f"apps.connections.open: {expected}" in str(raised.value)
    assert not fake_slack.socket_connected
    assert fake_slack.socket_connections_opened == 0


async def test_a_websocket_that_never_opens_times_out_with_a_clear_error(
    fake_slack: FakeSlack, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A URL whose ticket the fake never issued: the handshake is refused (HTTP 403), and
    # slack_sdk on its own would retry it forever.
    bogus = "ws://" + fake_slack.base_url.removeprefix("http://") + SOCKET_MODE_PATH + "/never-issued"
    monkeypatch.setitem(fake_slack._handlers, "apps.connections.open", lambda args: {"url": bogus})
    app = await started_app(fake_slack, tmp_path)
    try:
        with pytest.raises(ConnectionError, match=r"no WebSocket connection to Slack within 0\.5 s"):
            await connect_socket_mode(app, connect_timeout=0.5)
    finally:
        await app.stop()
    assert not fake_slack.socket_connected


async def test_slack_out_of_reach_is_a_clear_connection_error(fake_slack: FakeSlack, tmp_path: Path) -> None:
    from chatops.sockets import bind

    closed = bind("127.0.0.1", 0)  # bound, never listening: connections are refused
    port = closed.getsockname()[1]
    settings = socket_settings(fake_slack, tmp_path)
    unreachable = settings.model_copy(
        update={"slack": settings.slack.model_copy(update={"api_url": f"http://127.0.0.1:{port}/api/"})}
    )
    app = ChatOps(unreachable, instance_id="socket-test")
    await app.start()
    try:
        with pytest.raises(ConnectionError, match=rf"cannot reach Slack at http://127\.0\.0\.1:{port}/api/"):
            await connect_socket_mode(app, connect_timeout=5)
    finally:
        await app.stop()
        closed.close()


# ---------------------------------------------------------------------------
# the fake's Socket Mode itself
# ---------------------------------------------------------------------------


async def test_apps_connections_open_takes_only_the_app_token(fake_slack: FakeSlack) -> None:
    async def error(token: str | None) -> str:
        client = AsyncWebClient(base_url=fake_slack.api_url)
        with pytest.raises(SlackApiError) as raised:
            await client.apps_connections_open(app_token=token)  # type: ignore[arg-type]
        return str(raised.value.response["error"])

    assert await error(None) == "not_authed"
    assert await error("xapp-other") == "invalid_auth"
    assert await error(fake_slack.bot_token) == "not_allowed_token_type"
    app_client = AsyncWebClient(base_url=fake_slack.api_url, token=fake_slack.app_token)
    with pytest.raises(SlackApiError) as raised:
        await app_client.chat_postMessage(channel="C1", text="x")
    assert raised.value.response["error"] == "not_allowed_token_type"


async def test_tickets_are_single_use_and_acks_are_collected(fake_slack: FakeSlack) -> None:
    client = AsyncWebClient(base_url=fake_slack.api_url)
    url = (await client.apps_connections_open(app_token=fake_slack.app_token))["url"]
    async with aiohttp.ClientSession() as session, session.ws_connect(url) as ws:
        hello = await ws.receive_json(timeout=5)
        assert hello["type"] == "hello"
        await fake_slack.wait_for_socket()
        with pytest.raises(aiohttp.WSServerHandshakeError) as refused:
            await session.ws_connect(url)
        assert refused.value.status == 403

        task = asyncio.ensure_future(fake_slack.send_socket_envelope({"type": "shortcut"}))
        envelope = await ws.receive_json(timeout=5)
        assert envelope == {
            "envelope_id": envelope["envelope_id"],
            "payload": {"type": "shortcut"},
            "type": "interactive",
            "accepts_response_payload": False,
        }
        await ws.send_json({"envelope_id": envelope["envelope_id"], "payload": {"ok": 1}})
        assert await task == {"envelope_id": envelope["envelope_id"], "payload": {"ok": 1}}

        # An envelope the client never acks fails the test that sent it, as Slack would retry it.
        with pytest.raises(AssertionError, match="no ack for events_api envelope"):
            await fake_slack.send_socket_envelope({"event": {}}, type="events_api", timeout=0.2)
        unacked = await ws.receive_json(timeout=5)
        assert unacked["type"] == "events_api" and unacked["retry_attempt"] == 0 and unacked["retry_reason"] == ""
    await _wait_until_disconnected(fake_slack)
    with pytest.raises(AssertionError, match="no Socket Mode client is connected"):
        await fake_slack.send_socket_envelope({"type": "shortcut"})


async def _wait_until_disconnected(fake: FakeSlack) -> None:
    for _ in range(500):
        if not fake.socket_connected:
            return
        await asyncio.sleep(0.01)
    raise AssertionError("the fake still counts a closed connection")
