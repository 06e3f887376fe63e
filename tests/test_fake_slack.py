"""FakeSlack and the signed-request helpers, exercised through slack_sdk and slack_bolt."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from slack_bolt.adapter.starlette.async_handler import AsyncSlackRequestHandler
from slack_bolt.app.async_app import AsyncApp
from slack_bolt.request.async_request import AsyncBoltRequest
from slack_sdk.errors import SlackApiError
from slack_sdk.http_retry.builtin_async_handlers import AsyncRateLimitErrorRetryHandler
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.routing import Route

from chatops.testing.fake_slack import (
    EXTRA_REQUIRED_ARGS,
    MISSING_ARG_ERRORS,
    NOT_IN_SPEC,
    REQUIRED_ARGS,
    UPLOAD_METHOD,
    Call,
    FakeSlack,
)
from chatops.testing.server import ThreadedServer
from chatops.testing.slack_requests import (
    block_actions_body,
    event_body,
    signed_headers,
    slash_command_body,
    view_submission_body,
)

TOKEN = "xoxb-test"
SECRET = "test-signing-secret"
SPEC = Path("/work/shared/specs/slack/slack_web_openapi_v2.json")


# ---------------------------------------------------------------------------
# fixtures and helpers
# ---------------------------------------------------------------------------


@pytest.fixture(scope="module")
def server() -> Iterator[FakeSlack]:
    """One running fake per module (starting/stopping costs ~0.2 s); reset per test."""
    with FakeSlack(bot_token=TOKEN) as fake:
        yield fake


@pytest.fixture
def fake(server: FakeSlack) -> FakeSlack:
    server.reset(directory=True)
    server.post_interval = 0.0
    server.strict_channels = False
    server.trigger_ttl = 3.0
    return server


@pytest.fixture
def client(fake: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(base_url=fake.api_url, token=TOKEN)


async def slack_error(coro: Any) -> SlackApiError:
    """Await a client call that must fail; return the error."""
    with pytest.raises(SlackApiError) as info:
        await coro
    return info.value


def section(text: str, **extra: Any) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text}, **extra}


def button(**over: Any) -> dict[str, Any]:
    return {
        "type": "button",
        "action_id": "go",
        "text": {"type": "plain_text", "text": "Go"},
        "value": "v",
        **over,
    }


def actions(*elements: dict[str, Any]) -> dict[str, Any]:
    return {"type": "actions", "block_id": "act", "elements": list(elements)}


def select(text: str = "One", value: str = "1") -> dict[str, Any]:
    return {
        "type": "static_select",
        "action_id": "pick",
        "placeholder": {"type": "plain_text", "text": "Pick"},
        "options": [{"text": {"type": "plain_text", "text": text}, "value": value}],
    }


def modal(**over: Any) -> dict[str, Any]:
    return {"type": "modal", "title": {"type": "plain_text", "text": "Reply"}, "blocks": [], **over}


def input_block() -> dict[str, Any]:
    return {
        "type": "input",
        "block_id": "reply",
        "label": {"type": "plain_text", "text": "Reply"},
        "element": {"type": "plain_text_input", "action_id": "text"},
    }


# ---------------------------------------------------------------------------
# lifecycle, auth, request formats
# ---------------------------------------------------------------------------


def test_api_url_and_lifecycle() -> None:
    fake = FakeSlack()
    with pytest.raises(RuntimeError):
        _ = fake.api_url
    with fake:
        assert fake.api_url.startswith("http://127.0.0.1:")
        assert fake.api_url.endswith("/api/")
        assert httpx.post(fake.api_url + "api.test").json()["ok"] is True
        url = fake.api_url
    with pytest.raises(httpx.ConnectError):
        httpx.post(url + "api.test")


async def test_auth_test_reports_bot_identity() -> None:
    with FakeSlack(bot_token="xoxb-other", team_id="T9", bot_user_id="U9", workspace_url="https://w.slack.com/") as f:
        response = await AsyncWebClient(base_url=f.api_url, token="xoxb-other").auth_test()
    assert response["user_id"] == "U9"
    assert response["team_id"] == "T9"
    assert response["url"] == "https://w.slack.com/"
    assert response["bot_id"] == "B0001"


async def test_api_test_needs_no_token_and_echoes(fake: FakeSlack) -> None:
    anonymous = AsyncWebClient(base_url=fake.api_url, token=None)
    response = await anonymous.api_test(foo="bar")
    assert response["args"] == {"foo": "bar"}
    err = await slack_error(anonymous.api_test(error="my_error"))
    assert err.response["error"] == "my_error"


async def test_missing_token_is_not_authed(fake: FakeSlack) -> None:
    anonymous = AsyncWebClient(base_url=fake.api_url, token=None)
    err = await slack_error(anonymous.chat_postMessage(channel="C1", text="hi"))
    assert err.response.status_code == 200
    assert err.response["error"] == "not_authed"
    assert fake.messages() == []


async def test_wrong_token_is_invalid_auth(fake: FakeSlack) -> None:
    wrong = AsyncWebClient(base_url=fake.api_url, token="xoxb-wrong")
    err = await slack_error(wrong.auth_test())
    assert err.response["error"] == "invalid_auth"
    assert fake.calls_to("auth.test")[0].token == "xoxb-wrong"


async def test_token_argument_authenticates(fake: FakeSlack) -> None:
    anonymous = AsyncWebClient(base_url=fake.api_url, token=None)
    response = await anonymous.api_call("auth.test", data={"token": TOKEN})
    assert response["ok"] is True
    call = fake.calls_to("auth.test")[0]
    assert call.token == TOKEN
    assert "token" not in call.args


async def test_unknown_method(client: AsyncWebClient, fake: FakeSlack) -> None:
    err = await slack_error(client.api_call("chat.postMesage", json={"channel": "C1"}))
    assert err.response["error"] == "unknown_method"
    assert fake.calls[0].method == "chat.postMesage"


async def test_form_and_json_bodies_are_recorded_alike(client: AsyncWebClient, fake: FakeSlack) -> None:
    blocks = [section("hello")]
    metadata = {"event_type": "card", "event_payload": {"id": 7}}
    await client.api_call(
        "chat.postMessage",
        data={"channel": "C1", "text": "t", "blocks": json.dumps(blocks), "metadata": json.dumps(metadata)},
    )
    await client.chat_postMessage(channel="C1", text="t", blocks=blocks, metadata=metadata)
    await client.api_call("chat.postMessage", params={"channel": "C1"}, data={"text": "t"})
    form, as_json, query = fake.calls_to("chat.postMessage")
    assert form.args == as_json.args == {"channel": "C1", "text": "t", "blocks": blocks, "metadata": metadata}
    assert query.args == {"channel": "C1", "text": "t"}
    assert all(c.ok and c.status == 200 for c in (form, as_json, query))
    assert [m["blocks"] for m in fake.messages("C1")] == [blocks, blocks, []]


# ---------------------------------------------------------------------------
# required arguments
# ---------------------------------------------------------------------------


def _spec_required_args() -> dict[str, tuple[str, ...]]:
    spec = json.loads(SPEC.read_text())
    derived = {}
    for method in REQUIRED_ARGS:
        operations = spec["paths"].get("/" + method)
        if operations is None:
            continue
        names = {
            p["name"]
            for op in operations.values()
            for p in op.get("parameters", [])
            if p.get("required") and p["name"] != "token"
        }
        derived[method] = tuple(sorted(names))
    return derived


@pytest.mark.skipif(not SPEC.exists(), reason="Slack OpenAPI spec not available")
def test_required_args_match_slack_openapi_spec() -> None:
    derived = _spec_required_args()
    assert set(derived) == set(REQUIRED_ARGS) - NOT_IN_SPEC
    assert {m: REQUIRED_ARGS[m] for m in derived} == derived
    # The extras are what the (2020) spec under-declares, not restatements of it.
    for method, names in EXTRA_REQUIRED_ARGS.items():
        assert not set(names) & set(derived.get(method, ()))


VALID_ARGS: dict[str, dict[str, Any]] = {
    "chat.postMessage": {"channel": "C1", "text": "x"},
    "chat.update": {"channel": "C1", "ts": "1.2", "text": "x"},
    "chat.postEphemeral": {"channel": "C1", "user": "U1", "text": "x"},
    "chat.getPermalink": {"channel": "C1", "message_ts": "1.2"},
    "chat.delete": {"channel": "C1", "ts": "1.2"},
    "usergroups.users.list": {"usergroup": "S1"},
    "users.info": {"user": "U1"},
    "conversations.history": {"channel": "C1"},
    "conversations.info": {"channel": "C1"},
    "views.open": {"trigger_id": "t", "view": modal()},
    "views.push": {"trigger_id": "t", "view": modal()},
    "views.publish": {"user_id": "U1", "view": {"type": "home", "blocks": []}},
    "views.update": {"view_id": "V1", "view": modal()},
    "files.getUploadURLExternal": {"filename": "a.png", "length": 3},
    "files.completeUploadExternal": {"files": [{"id": "F1"}]},
}
MISSING_CASES = [
    (method, name) for method in REQUIRED_ARGS for name in REQUIRED_ARGS[method] + EXTRA_REQUIRED_ARGS.get(method, ())
]


@pytest.mark.parametrize(("method", "name"), MISSING_CASES, ids=[f"{m}-{n}" for m, n in MISSING_CASES])
async def test_missing_required_argument_is_rejected(
    client: AsyncWebClient, fake: FakeSlack, method: str, name: str
) -> None:
    args = {k: v for k, v in VALID_ARGS[method].items() if k != name}
    err = await slack_error(client.api_call(method, json=args))
    expected = MISSING_ARG_ERRORS.get((method, name), "invalid_arguments")
    assert err.response["error"] == expected
    if expected == "invalid_arguments":
        assert err.response["response_metadata"]["messages"] == [f"[ERROR] missing required field: {name}"]
    assert fake.messages() == [] and fake.views() == []


# ---------------------------------------------------------------------------
# chat.postMessage and threads
# ---------------------------------------------------------------------------


async def test_post_message_returns_increasing_ts_and_stores_state(client: AsyncWebClient, fake: FakeSlack) -> None:
    metadata = {"event_type": "comment_card", "event_payload": {"comment_id": "c1"}}
    first = await client.chat_postMessage(channel="C1", text="one", blocks=[section("*one*")], metadata=metadata)
    second = await client.chat_postMessage(channel="C2", text="two")
    assert first["ts"] == "1700000000.000100"
    assert float(second["ts"]) > float(first["ts"])
    assert first["channel"] == "C1"
    assert first["message"]["text"] == "one"
    assert first["message"]["metadata"] == metadata
    stored = fake.message("C1", first["ts"])
    assert stored["text"] == "one"
    assert stored["blocks"] == [section("*one*")]
    assert stored["metadata"] == metadata
    assert stored["user"] == "UBOT"
    assert stored["thread_ts"] is None
    assert stored["edits"] == 0
    with pytest.raises(KeyError, match="no message"):
        fake.message("C1", second["ts"])


async def test_unfurl_flags_are_stored_as_booleans(client: AsyncWebClient, fake: FakeSlack) -> None:
    posted = await client.chat_postMessage(channel="C1", text="https://x.example", unfurl_links=False)
    await client.api_call("chat.postMessage", data={"channel": "C1", "text": "y", "unfurl_media": "true"})
    first, second = fake.messages("C1")
    assert first["ts"] == posted["ts"]
    assert first["unfurl_links"] is False
    assert second["unfurl_media"] is True


async def test_thread_replies_and_top_level_messages(client: AsyncWebClient, fake: FakeSlack) -> None:
    card = await client.chat_postMessage(channel="C1", text="card")
    r1 = await client.chat_postMessage(channel="C1", text="r1", thread_ts=card["ts"])
    other = await client.chat_postMessage(channel="C1", text="other card")
    r2 = await client.chat_postMessage(channel="C1", text="r2", thread_ts=card["ts"])
    assert [m["ts"] for m in fake.thread("C1", card["ts"])] == [r1["ts"], r2["ts"]]
    assert [m["text"] for m in fake.top_level_messages("C1")] == ["card", "other card"]
    assert fake.message("C1", card["ts"])["reply_count"] == 2
    assert fake.thread("C1", other["ts"]) == []


async def test_reply_to_unknown_thread_is_thread_not_found(client: AsyncWebClient, fake: FakeSlack) -> None:
    err = await slack_error(client.chat_postMessage(channel="C1", text="r", thread_ts="1699999999.000100"))
    assert err.response["error"] == "thread_not_found"
    assert fake.messages() == []


async def test_post_without_content_is_no_text(client: AsyncWebClient, fake: FakeSlack) -> None:
    err = await slack_error(client.api_call("chat.postMessage", json={"channel": "C1"}))
    assert err.response["error"] == "no_text"
    assert fake.messages() == []


async def test_strict_channels_and_channel_names(client: AsyncWebClient, fake: FakeSlack) -> None:
    fake.add_channel("C1", "support")
    fake.strict_channels = True
    err = await slack_error(client.chat_postMessage(channel="C404", text="x"))
    assert err.response["error"] == "channel_not_found"
    posted = await client.chat_postMessage(channel="#support", text="x")
    assert posted["channel"] == "C1"
    assert fake.top_level_messages("C1")[0]["text"] == "x"


async def test_text_longer_than_40000_is_msg_too_long(client: AsyncWebClient, fake: FakeSlack) -> None:
    await client.chat_postMessage(channel="C1", text="x" * 40_000)
    err = await slack_error(client.chat_postMessage(channel="C1", text="x" * 40_001))
    assert err.response["error"] == "msg_too_long"
    assert len(fake.messages("C1")) == 1


@pytest.mark.parametrize(
    "metadata",
    [
        {"event_payload": {"a": 1}},
        {"event_type": "card"},
        {"event_type": "card", "event_payload": "not an object"},
        {"event_type": 5, "event_payload": {}},
        ["not", "an", "object"],
    ],
)
async def test_invalid_metadata(client: AsyncWebClient, fake: FakeSlack, metadata: Any) -> None:
    err = await slack_error(
        client.api_call("chat.postMessage", json={"channel": "C1", "text": "x", "metadata": metadata})
    )
    assert err.response["error"] == "invalid_metadata"
    assert fake.messages() == []


# ---------------------------------------------------------------------------
# chat.update, chat.postEphemeral, chat.getPermalink, chat.delete
# ---------------------------------------------------------------------------


async def test_update_replaces_content_and_counts_edits(client: AsyncWebClient, fake: FakeSlack) -> None:
    posted = await client.chat_postMessage(channel="C1", text="new", blocks=[section("new")])
    metadata = {"event_type": "card", "event_payload": {"state": "claimed"}}
    response = await client.chat_update(
        channel="C1", ts=posted["ts"], text="claimed", blocks=[section("claimed by ann")], metadata=metadata
    )
    assert response["ts"] == posted["ts"]
    assert response["message"]["text"] == "claimed"
    await client.chat_update(channel="C1", ts=posted["ts"], text="claimed!")
    stored = fake.message("C1", posted["ts"])
    assert stored["text"] == "claimed!"
    assert stored["blocks"] == [section("claimed by ann")]  # omitted blocks are kept, as Slack does
    assert stored["metadata"] == metadata
    assert stored["edits"] == 2
    assert [h["text"] for h in stored["history"]] == ["new", "claimed"]


async def test_update_unknown_message_is_message_not_found(client: AsyncWebClient) -> None:
    err = await slack_error(client.chat_update(channel="C1", ts="1700000000.000100", text="x"))
    assert err.response["error"] == "message_not_found"


async def test_post_ephemeral(client: AsyncWebClient, fake: FakeSlack) -> None:
    response = await client.chat_postEphemeral(channel="C1", user="U1", text="only you", blocks=[section("hi")])
    await client.chat_postEphemeral(channel="C1", user="U2", text="you too")
    assert response["message_ts"]
    (mine,) = fake.ephemerals("U1")
    assert mine["text"] == "only you"
    assert mine["channel"] == "C1"
    assert mine["blocks"] == [section("hi")]
    assert mine["message_ts"] == response["message_ts"]
    assert len(fake.ephemerals()) == 2
    assert fake.messages() == []  # ephemeral messages are not channel messages
    err = await slack_error(client.api_call("chat.postEphemeral", json={"channel": "C1", "user": "U1"}))
    assert err.response["error"] == "no_text"


async def test_get_permalink(client: AsyncWebClient, fake: FakeSlack) -> None:
    card = await client.chat_postMessage(channel="C1", text="card")
    reply = await client.chat_postMessage(channel="C1", text="r", thread_ts=card["ts"])
    link = await client.chat_getPermalink(channel="C1", message_ts=card["ts"])
    assert link["permalink"] == "https://chatops-test.slack.com/archives/C1/p1700000000000100"
    reply_link = await client.chat_getPermalink(channel="C1", message_ts=reply["ts"])
    assert reply_link["permalink"].endswith(f"/p1700000000000200?thread_ts={card['ts']}&cid=C1")
    err = await slack_error(client.chat_getPermalink(channel="C1", message_ts="1.000001"))
    assert err.response["error"] == "message_not_found"


async def test_delete(client: AsyncWebClient, fake: FakeSlack) -> None:
    card = await client.chat_postMessage(channel="C1", text="card")
    response = await client.chat_delete(channel="C1", ts=card["ts"])
    assert response["ts"] == card["ts"]
    assert fake.top_level_messages("C1") == []
    assert fake.message("C1", card["ts"])["deleted"] is True
    err = await slack_error(client.chat_update(channel="C1", ts=card["ts"], text="x"))
    assert err.response["error"] == "message_not_found"
    err = await slack_error(client.chat_delete(channel="C1", ts=card["ts"]))
    assert err.response["error"] == "message_not_found"


# ---------------------------------------------------------------------------
# Block Kit limits
# ---------------------------------------------------------------------------


def _buttons(n: int) -> list[dict[str, Any]]:
    return [button(action_id=f"b{i}") for i in range(n)]


def _context(n: int) -> dict[str, Any]:
    return {"type": "context", "elements": [{"type": "mrkdwn", "text": "c"}] * n}


def _confirm(title: int = 5, text: int = 5, yes: int = 3, no: int = 2) -> dict[str, Any]:
    """A confirmation dialog with texts of the given lengths."""
    return {
        "title": {"type": "plain_text", "text": "t" * title},
        "text": {"type": "mrkdwn", "text": "x" * text},
        "confirm": {"type": "plain_text", "text": "y" * yes},
        "deny": {"type": "plain_text", "text": "n" * no},
    }


def _fields(n: int, length: int = 1) -> dict[str, Any]:
    return {"type": "section", "fields": [{"type": "mrkdwn", "text": "f" * length}] * n}


def _header(n: int, kind: str = "plain_text") -> dict[str, Any]:
    return {"type": "header", "text": {"type": kind, "text": "h" * n}}


# (limit, blocks at the limit, blocks over it, JSON pointer and message Slack-style)
LIMIT_CASES = [
    (
        "50 blocks",
        [{"type": "divider"}] * 50,
        [{"type": "divider"}] * 51,
        "no more than 50 items allowed [json-pointer:/blocks]",
    ),
    ("section text 3000", [section("x" * 3000)], [section("x" * 3001)], "/blocks/0/text/text"),
    (
        "10 fields",
        [_fields(10)],
        [_fields(11)],
        "no more than 10 items allowed [json-pointer:/blocks/0/fields]",
    ),
    ("field text 2000", [_fields(1, 2000)], [_fields(1, 2001)], "/blocks/0/fields/0/text"),
    (
        "header text 150",
        [_header(150)],
        [_header(151)],
        "must be less than 151 characters [json-pointer:/blocks/0/text/text]",
    ),
    ("header is plain_text", [_header(5)], [_header(5, "mrkdwn")], "/blocks/0/text/type"),
    (
        "text object type",
        [section("x")],
        [{"type": "section", "text": {"type": "html", "text": "x"}}],
        "/blocks/0/text/type",
    ),
    (
        "block_id 255",
        [{"type": "divider", "block_id": "b" * 255}],
        [{"type": "divider", "block_id": "b" * 256}],
        "/blocks/0/block_id",
    ),
    (
        "action_id 255",
        [actions(button(action_id="a" * 255))],
        [actions(button(action_id="a" * 256))],
        "/blocks/0/elements/0/action_id",
    ),
    (
        "button text 75",
        [actions(button(text={"type": "plain_text", "text": "t" * 75}))],
        [actions(button(text={"type": "plain_text", "text": "t" * 76}))],
        "must be less than 76 characters [json-pointer:/blocks/0/elements/0/text/text]",
    ),
    (
        "button value 2000",
        [actions(button(value="v" * 2000))],
        [actions(button(value="v" * 2001))],
        "/blocks/0/elements/0/value",
    ),
    (
        "button url 3000",
        [actions(button(url="https://x.example/" + "u" * 2982))],
        [actions(button(url="https://x.example/" + "u" * 2983))],
        "/blocks/0/elements/0/url",
    ),
    (
        "25 actions elements",
        [actions(*_buttons(25))],
        [actions(*_buttons(26))],
        "no more than 25 items allowed [json-pointer:/blocks/0/elements]",
    ),
    (
        "option text 75",
        [actions(select(text="o" * 75))],
        [actions(select(text="o" * 76))],
        "/blocks/0/elements/0/options/0/text/text",
    ),
    (
        "option value 150",
        [actions(select(value="1" * 150))],
        [actions(select(value="1" * 151))],
        "/blocks/0/elements/0/options/0/value",
    ),
    (
        "10 context elements",
        [_context(10)],
        [_context(11)],
        "no more than 10 items allowed [json-pointer:/blocks/0/elements]",
    ),
    (
        "unique block_id",
        [section("a", block_id="x"), section("b", block_id="y")],
        [section("a", block_id="x"), section("b", block_id="x")],
        "/blocks/1/block_id",
    ),
    (
        "confirm title 100",
        [actions(button(confirm=_confirm(title=100)))],
        [actions(button(confirm=_confirm(title=101)))],
        "/blocks/0/elements/0/confirm/title/text",
    ),
    (
        "confirm text 300",
        [actions(button(confirm=_confirm(text=300)))],
        [actions(button(confirm=_confirm(text=301)))],
        "/blocks/0/elements/0/confirm/text/text",
    ),
    (
        "confirm buttons 30",
        [actions(button(confirm=_confirm(yes=30, no=30)))],
        [actions(button(confirm=_confirm(yes=30, no=31)))],
        "/blocks/0/elements/0/confirm/deny/text",
    ),
]


@pytest.mark.parametrize(
    ("ok_blocks", "bad_blocks", "expected"), [c[1:] for c in LIMIT_CASES], ids=[c[0] for c in LIMIT_CASES]
)
async def test_block_kit_limits_on_post(
    client: AsyncWebClient, fake: FakeSlack, ok_blocks: list[Any], bad_blocks: list[Any], expected: str
) -> None:
    await client.chat_postMessage(channel="C1", text="fallback", blocks=ok_blocks)
    err = await slack_error(client.chat_postMessage(channel="C1", text="fallback", blocks=bad_blocks))
    assert err.response["error"] == "invalid_blocks"
    messages = err.response["response_metadata"]["messages"]
    assert any(m.startswith("[ERROR] ") and expected in m for m in messages), messages
    assert len(fake.messages("C1")) == 1


async def test_block_kit_limits_on_update_and_ephemeral(client: AsyncWebClient, fake: FakeSlack) -> None:
    posted = await client.chat_postMessage(channel="C1", text="x", blocks=[section("ok")])
    err = await slack_error(client.chat_update(channel="C1", ts=posted["ts"], text="x", blocks=[section("x" * 3001)]))
    assert err.response["error"] == "invalid_blocks"
    assert fake.message("C1", posted["ts"])["blocks"] == [section("ok")]
    err = await slack_error(client.chat_postEphemeral(channel="C1", user="U1", text="x", blocks=[_header(151)]))
    assert err.response["error"] == "invalid_blocks"
    assert fake.ephemerals() == []


async def test_total_block_text_over_12000_is_msg_blocks_too_long(client: AsyncWebClient, fake: FakeSlack) -> None:
    await client.chat_postMessage(channel="C1", text="x", blocks=[section("x" * 3000)] * 4)
    err = await slack_error(client.chat_postMessage(channel="C1", text="x", blocks=[section("x" * 2500)] * 5))
    assert err.response["error"] == "msg_blocks_too_long"
    assert len(fake.messages("C1")) == 1


async def test_blocks_that_are_not_an_array(client: AsyncWebClient) -> None:
    err = await slack_error(client.api_call("chat.postMessage", data={"channel": "C1", "blocks": '{"type": "x"}'}))
    assert err.response["error"] == "invalid_blocks_format"


# ---------------------------------------------------------------------------
# views
# ---------------------------------------------------------------------------


async def test_views_open_records_trigger_user_and_returns_view(client: AsyncWebClient, fake: FakeSlack) -> None:
    trigger = fake.new_trigger_id("U1")
    sent = modal(callback_id="reply", private_metadata='{"card": 1}', submit={"type": "plain_text", "text": "Send"})
    sent["blocks"] = [input_block()]
    response = await client.views_open(trigger_id=trigger, view=sent)
    view = response["view"]
    assert view["id"] == "V0002"  # ids share one counter with trigger ids
    assert view["state"] == {"values": {}}
    assert view["hash"]
    assert view["callback_id"] == "reply"
    assert view["private_metadata"] == '{"card": 1}'
    record = fake.last_view()
    assert record == fake.view(view["id"])
    assert record["trigger_id"] == trigger
    assert record["user"] == "U1"
    assert record["hash"] == view["hash"]
    assert record["view"]["blocks"] == [input_block()]


async def test_views_open_accepts_views_at_the_limits(client: AsyncWebClient, fake: FakeSlack) -> None:
    view = modal(
        title={"type": "plain_text", "text": "t" * 24},
        submit={"type": "plain_text", "text": "s" * 24},
        close={"type": "plain_text", "text": "c" * 24},
        callback_id="c" * 255,
        blocks=[{"type": "divider"}] * 100,
    )
    response = await client.views_open(trigger_id="t1", view=view)
    assert len(response["view"]["blocks"]) == 100


VIEW_CASES = [
    ("title 24", modal(title={"type": "plain_text", "text": "t" * 25}), "/view/title/text"),
    ("title plain_text", modal(title={"type": "mrkdwn", "text": "t"}), "/view/title/type"),
    ("type modal", modal(type="home"), "/view/type"),
    (
        "100 blocks",
        modal(blocks=[{"type": "divider"}] * 101),
        "no more than 100 items allowed [json-pointer:/view/blocks]",
    ),
    ("callback_id 255", modal(callback_id="c" * 256), "/view/callback_id"),
    ("submit 24", modal(submit={"type": "plain_text", "text": "s" * 25}), "/view/submit/text"),
    ("close 24", modal(close={"type": "plain_text", "text": "c" * 25}), "/view/close/text"),
    ("input needs submit", modal(blocks=[input_block()]), "/view/submit"),
    ("block limits apply", modal(blocks=[section("x" * 3001)]), "/view/blocks/0/text/text"),
]


@pytest.mark.parametrize(("view", "pointer"), [c[1:] for c in VIEW_CASES], ids=[c[0] for c in VIEW_CASES])
async def test_views_open_validates_view(
    client: AsyncWebClient, fake: FakeSlack, view: dict[str, Any], pointer: str
) -> None:
    err = await slack_error(client.views_open(trigger_id="t", view=view))
    assert err.response["error"] == "invalid_arguments"
    assert any(pointer in m for m in err.response["response_metadata"]["messages"])
    assert fake.views() == []


async def test_trigger_ids_are_single_use_and_expire(client: AsyncWebClient, fake: FakeSlack) -> None:
    await client.views_open(trigger_id="t1", view=modal())
    err = await slack_error(client.views_open(trigger_id="t1", view=modal()))
    assert err.response["error"] == "trigger_exchanged"
    fake.trigger_ttl = 0.05
    stale = fake.new_trigger_id("U1")
    await asyncio.sleep(0.1)
    err = await slack_error(client.views_open(trigger_id=stale, view=modal()))
    assert err.response["error"] == "expired_trigger_id"
    assert len(fake.views()) == 1


async def test_views_update_by_id_and_external_id(client: AsyncWebClient, fake: FakeSlack) -> None:
    opened = (await client.views_open(trigger_id="t1", view=modal(external_id="card-1")))["view"]
    updated = await client.views_update(view_id=opened["id"], view=modal(title={"type": "plain_text", "text": "Done"}))
    assert updated["view"]["id"] == opened["id"]
    assert updated["view"]["hash"] != opened["hash"]
    err = await slack_error(client.views_update(view_id=opened["id"], hash=opened["hash"], view=modal()))
    assert err.response["error"] == "hash_conflict"
    await client.views_update(external_id="card-1", hash=updated["view"]["hash"], view=modal(private_metadata="m"))
    record = fake.view(opened["id"])
    assert record["updates"] == 2
    assert record["view"]["private_metadata"] == "m"
    assert record["trigger_id"] == "t1"
    err = await slack_error(client.views_update(view_id="V9999", view=modal()))
    assert err.response["error"] == "not_found"
    err = await slack_error(client.api_call("views.update", json={"view": modal()}))
    assert err.response["error"] == "invalid_arguments"


async def test_views_push_and_publish(client: AsyncWebClient, fake: FakeSlack) -> None:
    await client.views_open(trigger_id="t1", view=modal())
    pushed = await client.views_push(trigger_id="t2", view=modal(callback_id="step2"))
    assert fake.last_view()["id"] == pushed["view"]["id"]
    assert fake.last_view()["method"] == "views.push"
    home = {"type": "home", "blocks": [section("Your queue")]}
    first = await client.views_publish(user_id="U1", view=home)
    again = await client.views_publish(user_id="U1", view=home)
    assert again["view"]["id"] == first["view"]["id"]
    assert fake.view(first["view"]["id"])["user"] == "U1"
    err = await slack_error(client.views_publish(user_id="U1", view=modal()))
    assert err.response["error"] == "invalid_arguments"


# ---------------------------------------------------------------------------
# directory: users, conversations, usergroups
# ---------------------------------------------------------------------------


async def test_users_info(client: AsyncWebClient, fake: FakeSlack) -> None:
    fake.add_user("U1", name="ann", real_name="Ann Agent", tz="America/New_York")
    user = (await client.users_info(user="U1"))["user"]
    assert user["id"] == "U1"
    assert user["name"] == "ann"
    assert user["real_name"] == "Ann Agent"
    assert user["tz"] == "America/New_York"
    assert user["tz_offset"] in (-18000, -14400)
    assert user["profile"] == {
        "display_name": "ann",
        "display_name_normalized": "ann",
        "real_name": "Ann Agent",
        "real_name_normalized": "Ann Agent",
        "team": "T0001",
    }
    assert user["is_bot"] is False
    err = await slack_error(client.users_info(user="U404"))
    assert err.response["error"] == "user_not_found"


async def test_conversations_info(client: AsyncWebClient, fake: FakeSlack) -> None:
    fake.add_channel("C1", "support")
    channel = (await client.conversations_info(channel="C1"))["channel"]
    assert (channel["id"], channel["name"], channel["is_member"]) == ("C1", "support", True)
    err = await slack_error(client.conversations_info(channel="C404"))
    assert err.response["error"] == "channel_not_found"


async def test_usergroups(client: AsyncWebClient, fake: FakeSlack) -> None:
    fake.add_usergroup("S1", "leads", users=["U1", "U2"])
    groups = (await client.usergroups_list(include_users=True))["usergroups"]
    assert [(g["id"], g["handle"], g["users"], g["user_count"]) for g in groups] == [("S1", "leads", ["U1", "U2"], 2)]
    assert "users" not in (await client.usergroups_list())["usergroups"][0]
    assert (await client.usergroups_users_list(usergroup="S1"))["users"] == ["U1", "U2"]
    err = await slack_error(client.usergroups_users_list(usergroup="S404"))
    assert err.response["error"] == "no_such_subteam"


# ---------------------------------------------------------------------------
# files
# ---------------------------------------------------------------------------


async def test_files_upload_v2_end_to_end(client: AsyncWebClient, fake: FakeSlack) -> None:
    card = await client.chat_postMessage(channel="C1", text="digest")
    png = b"\x89PNG fake chart"
    response = await client.files_upload_v2(
        channel="C1",
        content=png,
        filename="chart.png",
        title="Chart",
        initial_comment="Weekly",
        thread_ts=card["ts"],
    )
    file_id = response["file"]["id"]
    upload_url = fake.calls_to("files.getUploadURLExternal")[0].response["upload_url"]
    assert upload_url.startswith(fake.base_url + "/")
    assert fake.calls_to(UPLOAD_METHOD)[0].args == {"file_id": file_id, "length": len(png)}
    stored = fake.file(file_id)
    assert stored["content"] == png
    assert stored["title"] == "Chart"
    assert stored["completed"] is True
    (reply,) = fake.thread("C1", card["ts"])
    assert reply["text"] == "Weekly"
    assert [f["id"] for f in reply["files"]] == [file_id]
    complete = fake.calls_to("files.completeUploadExternal")[0]
    assert complete.args["files"] == [{"id": file_id, "title": "Chart"}]


async def test_complete_upload_of_unknown_file(client: AsyncWebClient, fake: FakeSlack) -> None:
    err = await slack_error(client.files_completeUploadExternal(files=[{"id": "F404", "title": "x"}], channel_id="C1"))
    assert err.response["error"] == "file_not_found"
    assert fake.messages() == []


# ---------------------------------------------------------------------------
# faults and pacing
# ---------------------------------------------------------------------------


async def test_fail_next_ratelimited(client: AsyncWebClient, fake: FakeSlack) -> None:
    fake.fail_next("chat.postMessage", status=429, retry_after=7)
    err = await slack_error(client.chat_postMessage(channel="C1", text="x"))
    assert err.response.status_code == 429
    assert err.response.headers["Retry-After"] == "7"
    assert err.response["error"] == "ratelimited"
    assert fake.rate_limited == 1
    assert fake.messages() == []
    await client.chat_postMessage(channel="C1", text="x")
    assert len(fake.messages("C1")) == 1


async def test_fail_next_error_and_server_error(client: AsyncWebClient, fake: FakeSlack) -> None:
    fake.fail_next("chat.update", error="cant_update_message", times=2)
    fake.fail_next("chat.update", status=500)
    for expected_status, expected_error in [(200, "cant_update_message")] * 2 + [(500, "internal_error")]:
        err = await slack_error(client.chat_update(channel="C1", ts="1.1", text="x"))
        assert (err.response.status_code, err.response["error"]) == (expected_status, expected_error)
    err = await slack_error(client.chat_update(channel="C1", ts="1.1", text="x"))
    assert err.response["error"] == "message_not_found"  # faults used up: real behaviour again
    assert [c.status for c in fake.calls_to("chat.update")] == [200, 200, 500, 200]


async def test_rate_limit_retry_handler_recovers(fake: FakeSlack) -> None:
    client = AsyncWebClient(
        base_url=fake.api_url,
        token=TOKEN,
        retry_handlers=[AsyncRateLimitErrorRetryHandler(max_retry_count=1)],
    )
    fake.fail_next("chat.postMessage", status=429, retry_after=1)
    response = await client.chat_postMessage(channel="C1", text="x")
    assert response["ok"] is True
    first, second = fake.calls_to("chat.postMessage")
    assert first.status == 429
    assert second.at - first.at >= 1.0
    assert len(fake.messages("C1")) == 1


async def test_post_interval_paces_posts_per_channel(client: AsyncWebClient, fake: FakeSlack) -> None:
    fake.post_interval = 0.3
    await client.chat_postMessage(channel="C1", text="first")
    err = await slack_error(client.chat_postMessage(channel="C1", text="too soon"))
    assert err.response.status_code == 429
    assert err.response.headers["Retry-After"] == "1"
    assert err.response["error"] == "ratelimited"
    assert fake.rate_limited == 1
    assert [m["text"] for m in fake.messages("C1")] == ["first"]
    await client.chat_postMessage(channel="C2", text="other channel")  # pacing is per channel
    await asyncio.sleep(0.3)
    await client.chat_postMessage(channel="C1", text="later")
    assert [m["text"] for m in fake.messages("C1")] == ["first", "later"]


def test_retry_after_rounds_up() -> None:
    with FakeSlack(post_interval=2.5) as fake:
        http = httpx.Client(base_url=fake.api_url, headers={"Authorization": "Bearer xoxb-test"})
        assert http.post("chat.postMessage", data={"channel": "C1", "text": "a"}).json()["ok"] is True
        response = http.post("chat.postMessage", data={"channel": "C1", "text": "b"})
    assert response.status_code == 429
    assert response.headers["Retry-After"] == "3"


# ---------------------------------------------------------------------------
# waiting and recording
# ---------------------------------------------------------------------------


async def test_wait_for_sees_calls_made_later(client: AsyncWebClient, fake: FakeSlack) -> None:
    async def bot() -> None:
        await asyncio.sleep(0.05)
        await client.chat_postMessage(channel="C1", text="one")
        await client.chat_postMessage(channel="C1", text="two")

    task = asyncio.create_task(bot())
    calls = await fake.wait_for("chat.postMessage", lambda c: c.args["text"] == "two", timeout=2)
    assert [c.args["text"] for c in calls] == ["two"]
    assert len(await fake.wait_for("chat.postMessage", count=2)) == 2
    await task
    assert all(isinstance(c, Call) and c.ok for c in calls)


async def test_wait_for_timeout_dumps_recent_calls(client: AsyncWebClient, fake: FakeSlack) -> None:
    await client.chat_postMessage(channel="C1", text="hello")
    with pytest.raises(AssertionError) as info:
        await fake.wait_for("chat.update", timeout=0.05)
    text = str(info.value)
    assert "chat.update" in text
    assert "chat.postMessage -> 200 ok" in text
    assert '"text": "hello"' in text


def test_wait_for_sync(fake: FakeSlack) -> None:
    def post() -> None:
        time.sleep(0.05)
        httpx.post(fake.api_url + "chat.postMessage", data={"channel": "C1", "text": "x", "token": TOKEN})

    thread = threading.Thread(target=post)
    thread.start()
    (call,) = fake.wait_for_sync("chat.postMessage", timeout=2)
    thread.join()
    assert call.ok and call.args == {"channel": "C1", "text": "x"}
    with pytest.raises(AssertionError, match=r"saw 0"):
        fake.wait_for_sync("chat.delete", timeout=0.05)


async def test_calls_are_copies_and_concurrent_posts_are_all_kept(client: AsyncWebClient, fake: FakeSlack) -> None:
    results = await asyncio.gather(*(client.chat_postMessage(channel="C1", text=str(i)) for i in range(40)))
    assert len({r["ts"] for r in results}) == 40
    assert len(fake.calls_to("chat.postMessage")) == 40
    snapshot = fake.calls
    snapshot.clear()
    assert len(fake.calls) == 40
    fake.message("C1", results[0]["ts"])["text"] = "mutated"
    assert fake.message("C1", results[0]["ts"])["text"] == "0"


# ---------------------------------------------------------------------------
# signed requests into a Bolt app
# ---------------------------------------------------------------------------


def test_signed_headers_verify() -> None:
    body = slash_command_body(command="/chatops", text="stats", user_id="U1", user_name="ann", channel_id="C1")
    headers = signed_headers(SECRET, body, timestamp=1_700_000_000)
    verifier = SignatureVerifier(SECRET)
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    assert headers["X-Slack-Request-Timestamp"] == "1700000000"
    assert verifier.is_valid(body, headers["X-Slack-Request-Timestamp"], headers["X-Slack-Signature"]) is False  # stale
    fresh = signed_headers(SECRET, body.encode())
    assert verifier.is_valid(body, fresh["X-Slack-Request-Timestamp"], fresh["X-Slack-Signature"])
    assert not SignatureVerifier("other").is_valid(body, fresh["X-Slack-Request-Timestamp"], fresh["X-Slack-Signature"])


def bolt_request(body: str, **kwargs: Any) -> AsyncBoltRequest:
    return AsyncBoltRequest(body=body, headers={k: [v] for k, v in signed_headers(SECRET, body, **kwargs).items()})


async def test_block_actions_reach_bolt_listener(client: AsyncWebClient, fake: FakeSlack) -> None:
    card = await client.chat_postMessage(
        channel="C1",
        text="card",
        blocks=[section("comment"), actions(button(action_id="claim", value="42", style="primary"))],
    )
    app = AsyncApp(client=client, signing_secret=SECRET)
    seen: dict[str, Any] = {}

    @app.action("claim")
    async def claim(ack: Any, body: dict[str, Any], action: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        seen.update(body=body, action=action)
        await client.chat_update(
            channel=body["container"]["channel_id"], ts=body["container"]["message_ts"], text="claimed"
        )

    body = block_actions_body(
        user_id="U1",
        user_name="ann",
        channel_id="C1",
        message_ts=card["ts"],
        action_id="claim",
        value="42",
        block_id="act",
        message=fake.message("C1", card["ts"]),
    )
    assert body.startswith("payload=")
    response = await app.async_dispatch(bolt_request(body))
    assert response.status == 200
    await fake.wait_for("chat.update")
    assert fake.message("C1", card["ts"])["text"] == "claimed"
    assert seen["action"]["value"] == "42"
    assert seen["action"]["style"] == "primary"
    assert seen["action"]["text"]["text"] == "Go"
    assert seen["body"]["user"] == {"id": "U1", "username": "ann", "name": "ann", "team_id": "T0001"}
    assert seen["body"]["container"]["is_ephemeral"] is False
    assert seen["body"]["message"]["blocks"][1]["block_id"] == "act"
    assert seen["body"]["trigger_id"]
    assert fake.calls_to("auth.test")  # Bolt authorised against the fake


async def test_tampered_request_is_rejected_by_bolt(client: AsyncWebClient) -> None:
    app = AsyncApp(client=client, signing_secret=SECRET)
    body = block_actions_body(
        user_id="U1", user_name="ann", channel_id="C1", message_ts="1.1", action_id="a", value="v"
    )
    request = bolt_request(body)
    request.raw_body = body.replace("U1", "U2")
    assert (await app.async_dispatch(request)).status == 401
    old = bolt_request(body, timestamp=int(time.time()) - 600)
    assert (await app.async_dispatch(old)).status == 401


async def test_slash_command_opens_modal_with_its_trigger(client: AsyncWebClient, fake: FakeSlack) -> None:
    app = AsyncApp(client=client, signing_secret=SECRET)

    @app.command("/chatops")
    async def command(ack: Any, command: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.views_open(trigger_id=command["trigger_id"], view=modal(private_metadata=command["text"]))

    trigger = fake.new_trigger_id("U1")
    body = slash_command_body(
        command="/chatops",
        text="reply 42",
        user_id="U1",
        user_name="ann",
        channel_id="C1",
        trigger_id=trigger,
    )
    assert (await app.async_dispatch(bolt_request(body))).status == 200
    await fake.wait_for("views.open")
    record = fake.last_view()
    assert record["user"] == "U1"
    assert record["view"]["private_metadata"] == "reply 42"


async def test_view_submission_reaches_bolt_listener(client: AsyncWebClient, fake: FakeSlack) -> None:
    opened = await client.views_open(
        trigger_id="t1",
        view=modal(
            callback_id="reply",
            private_metadata="card-9",
            submit={"type": "plain_text", "text": "Send"},
            blocks=[input_block()],
        ),
    )
    app = AsyncApp(client=client, signing_secret=SECRET)
    seen: dict[str, Any] = {}

    @app.view("reply")
    async def submitted(ack: Any, view: dict[str, Any], body: dict[str, Any]) -> None:
        await ack()
        seen.update(view=view, body=body)

    body = view_submission_body(
        user_id="U1", user_name="ann", view=opened["view"], values={"reply": {"text": "Thanks!"}}
    )
    assert (await app.async_dispatch(bolt_request(body))).status == 200
    assert seen["view"]["state"]["values"] == {"reply": {"text": {"type": "plain_text_input", "value": "Thanks!"}}}
    assert seen["view"]["id"] == opened["view"]["id"]
    assert seen["view"]["private_metadata"] == "card-9"
    assert seen["body"]["type"] == "view_submission"
    assert seen["body"]["user"]["id"] == "U1"


async def test_event_body_reaches_bolt_listener(client: AsyncWebClient, fake: FakeSlack) -> None:
    app = AsyncApp(client=client, signing_secret=SECRET)

    @app.event("app_mention")
    async def mention(event: dict[str, Any], say: Any) -> None:
        await say(text=f"hi <@{event['user']}>", thread_ts=event["ts"])

    parent = await client.chat_postMessage(channel="C1", text="root")
    body = event_body(
        {"type": "app_mention", "user": "U1", "text": "<@UBOT> help", "ts": parent["ts"], "channel": "C1"}
    )
    request = bolt_request(body, content_type="application/json")
    assert (await app.async_dispatch(request)).status == 200
    await fake.wait_for("chat.postMessage", count=2)
    assert fake.thread("C1", parent["ts"])[0]["text"] == "hi <@U1>"


async def test_bolt_http_mode_over_real_http(fake: FakeSlack) -> None:
    bot_client = AsyncWebClient(base_url=fake.api_url, token=TOKEN)
    app = AsyncApp(client=bot_client, signing_secret=SECRET)
    handler = AsyncSlackRequestHandler(app)

    @app.action("claim")
    async def claim(ack: Any, body: dict[str, Any], client: AsyncWebClient) -> None:
        await ack()
        await client.chat_postEphemeral(channel="C1", user=body["user"]["id"], text="claimed")

    async def endpoint(request: Request) -> Any:
        return await handler.handle(request)

    with ThreadedServer(Starlette(routes=[Route("/slack/events", endpoint, methods=["POST"])])) as bot:
        body = block_actions_body(
            user_id="U7", user_name="bo", channel_id="C1", message_ts="1.1", action_id="claim", value="1"
        )
        async with httpx.AsyncClient(base_url=bot.base_url) as http:
            response = await http.post("/slack/events", content=body, headers=signed_headers(SECRET, body))
            forged = await http.post("/slack/events", content=body, headers=signed_headers("wrong", body))
        assert response.status_code == 200
        assert forged.status_code == 401
        await fake.wait_for("chat.postEphemeral")
    assert [e["text"] for e in fake.ephemerals("U7")] == ["claimed"]
