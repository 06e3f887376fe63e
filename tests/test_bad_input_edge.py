"""Correctly signed but hostile or broken requests get a 4xx naming the problem, never a 500, and store nothing."""

from __future__ import annotations

import hashlib
import hmac
import json
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from slack_sdk.signature import SignatureVerifier
from sqlalchemy import func, select

from chatops.models import Conversation, Message, OutboxJob
from chatops.testing.bot import SIGNING_SECRET, CallbackReceiver, TestBot
from chatops.testing.slack_requests import block_actions_body, signed_headers

DEEP = "[" * 1000 + "]" * 1000
DIGITS = "9" * 5000


async def stored(bot: TestBot) -> tuple[int, int, int]:
    """Conversations, messages and outbox jobs in the database."""
    assert bot.app is not None
    async with bot.app.db.read() as session:
        counts = [
            int(await session.scalar(select(func.count()).select_from(model)) or 0)
            for model in (Conversation, Message, OutboxJob)
        ]
    return counts[0], counts[1], counts[2]


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ('{"id":"a","text":"b","extra":' + DEEP + "}", "body is refused: arrays and objects nested deeper than 64"),
        ('{"id":"a","text":"b","author":{"name":' + DEEP + "}}", "body is refused: arrays and objects nested deeper"),
        ('{"id":' + DIGITS + ',"text":"b"}', "body is refused: a number longer than 40 characters"),
        ('{"id":"a","text":' + DIGITS + "}", "body is refused: a number longer than 40 characters"),
        ('{"id":"a","text":"b","timestamp":' + DIGITS + "}", "body is refused: a number longer than 40 characters"),
        ('{"id":"a","text":"b","timestamp":1e999}', "body is refused: the number 1e999 is out of range"),
        ('{"id":"a","text":"b","timestamp":NaN}', "body is refused: NaN is not a JSON number"),
        ('{"id":"a","text":"b","timestamp":"9999-12-31T23:59:59-14:00"}', "timestamp: must be between 2000-01-01"),
        ('{"id":"a","text":"b","timestamp":"0001-01-01T00:00:00+14:00"}', "timestamp: must be between 2000-01-01"),
        ('{"id":"a","text":"b","timestamp":"9999-12-31T23:59:59Z"}', "timestamp: must be between 2000-01-01"),
        ('{"id":"a","text":"b","timestamp":"1999-12-31T23:59:59Z"}', "timestamp: must be between 2000-01-01"),
        ('{"id":"a","text":"\\u200b\\u200c\\u200d\\u2060\\ufeff"}', "text: has no visible characters"),
        ('{"id":"a","text":" \\u202e\\u2066\\u2069\\u200e \\t\\u3164"}', "text: has no visible characters"),
    ],
    ids=[
        "deep-array",
        "deep-author-name",
        "long-int-id",
        "long-int-text",
        "long-int-timestamp",
        "infinite-float",
        "nan",
        "year-9999-at-utc-14",
        "year-1-at-utc+14",
        "year-9999",
        "before-2000",
        "zero-width-text",
        "bidi-and-blank-text",
    ],
)
async def test_signed_webhook_with_unacceptable_content_is_400_naming_it_and_stores_nothing(
    bot: TestBot, body: str, message: str
) -> None:
    response = await bot.webhook(body.encode())
    assert response.status_code == 400, response.text
    assert response.json()["error"].startswith(message)
    assert await stored(bot) == (0, 0, 0)


async def test_a_sender_clock_slightly_ahead_is_stored_as_arrived_now(bot: TestBot) -> None:
    ahead = datetime.now(UTC) + timedelta(hours=3)
    response = await bot.webhook(bot.comment_payload("from the future", timestamp=ahead.isoformat()))
    assert response.status_code == 201
    assert bot.app is not None
    async with bot.app.db.read() as session:
        when = await session.scalar(select(Message.source_created_at))
    assert when is not None
    assert when.replace(tzinfo=UTC) <= datetime.now(UTC)
    card = await bot.next_card()
    assert "from the future" in card.text


async def test_a_lone_surrogate_in_webhook_text_becomes_a_replacement_character(bot: TestBot) -> None:
    body = json.dumps(bot.comment_payload("x\ud800y"), ensure_ascii=True).encode()
    assert b"\\ud800" in body
    response = await bot.webhook(body)
    assert response.status_code == 201, response.text
    card = await bot.next_card()
    assert "x\ufffdy" in card.text


async def test_a_nul_character_in_webhook_text_becomes_a_replacement_character(bot: TestBot) -> None:
    # PostgreSQL's text cannot hold U+0000 (found by test_http_properties: {"text": "0\x00"} answered 500).
    body = json.dumps(bot.comment_payload("x\u0000y", author={"name": "A\u0000"})).encode()
    assert b"\\u0000" in body
    response = await bot.webhook(body)
    assert response.status_code == 201, response.text
    card = await bot.next_card()
    assert "x\ufffdy" in card.text and "A\ufffd" in card.text


def _click_body() -> str:
    return block_actions_body(
        user_id="UANNA", user_name="anna", channel_id="CINBOX", message_ts="1.1", action_id="chatops:claim", value="1"
    )


def _signed_with_timestamp(body: str, timestamp: str) -> dict[str, str]:
    signature = SignatureVerifier(SIGNING_SECRET).generate_signature(timestamp=timestamp, body=body)
    assert signature is not None
    return {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": timestamp,
        "X-Slack-Signature": signature,
    }


@pytest.mark.parametrize("timestamp", ["abc", "", "1e9", "1700000000.5", "-1", "٣٣٣٣", "9" * 400])
async def test_a_signed_slack_click_with_a_malformed_timestamp_is_401(bot: TestBot, timestamp: str) -> None:
    body = _click_body()
    assert bot.http is not None
    headers = _signed_with_timestamp(body, timestamp)
    response = await bot.http.post("/slack/events", content=body.encode(), headers=_latin1(headers))
    assert response.status_code == 401, response.text
    assert "X-Slack-Request-Timestamp" in response.json()["error"]


def _latin1(headers: dict[str, str]) -> list[tuple[bytes, bytes]]:
    # Raw header bytes, as a hand-rolled client may send them (httpx refuses non-ASCII str values).
    return [(k.encode(), v.encode("utf-8")) for k, v in headers.items()]


async def test_slack_requests_with_broken_signature_headers_are_401(bot: TestBot) -> None:
    body = _click_body()
    good = signed_headers(SIGNING_SECRET, body)
    assert bot.http is not None
    cases: list[list[tuple[bytes, bytes]]] = [
        [(k.encode(), v.encode()) for k, v in good.items() if k != "X-Slack-Signature"],
        [(k.encode(), v.encode()) for k, v in good.items() if k != "X-Slack-Request-Timestamp"],
        [*_latin1(good), (b"X-Slack-Request-Timestamp", good["X-Slack-Request-Timestamp"].encode())],
        [*_latin1({**good, "X-Slack-Signature": "v0=ääkkönen"})],
    ]
    for headers in cases:
        response = await bot.http.post("/slack/events", content=body.encode(), headers=headers)
        assert response.status_code == 401, (headers, response.text)
        assert "X-Slack-" in response.json()["error"]


@pytest.mark.parametrize(
    ("body", "problem"),
    [
        (b"payload=%7Bnot-json", "payload is not valid JSON"),
        (b"payload=%5B1%2C2%5D", "payload must be a JSON object"),
        (b"payload=" + b"%5B" * 1000 + b"%5D" * 1000, "payload is refused: arrays and objects nested deeper"),
        (b'{"type": "block_actions", "n": ' + b"1" * 5000 + b"}", "payload is refused: a number longer than 40"),
        (b"\xff\xfe\x00", "body is not UTF-8"),
        (b"payload=", "payload is not valid JSON"),
    ],
    ids=["payload-not-json", "payload-a-list", "payload-too-deep", "json-long-number", "not-utf8", "empty-payload"],
)
async def test_signed_slack_bodies_of_the_wrong_shape_are_400(bot: TestBot, body: bytes, problem: str) -> None:
    assert bot.http is not None
    ts = str(int(datetime.now(UTC).timestamp()))
    # Signed over the raw bytes (slack_sdk's helper needs text, and one case is not UTF-8).
    digest = hmac.new(SIGNING_SECRET.encode(), b"v0:" + ts.encode() + b":" + body, hashlib.sha256).hexdigest()
    headers = {
        "Content-Type": "application/x-www-form-urlencoded",
        "X-Slack-Request-Timestamp": ts,
        "X-Slack-Signature": f"v0={digest}",
    }
    response = await bot.http.post("/slack/events", content=body, headers=headers)
    assert 400 <= response.status_code < 500, response.text
    assert response.json()["error"].startswith(problem)
    assert await stored(bot) == (0, 0, 0)


async def test_a_slack_body_over_the_limit_is_413_even_when_chunked(bot: TestBot) -> None:
    body = ("payload=" + "x" * 2_000_000).encode()

    async def chunks():  # type: ignore[no-untyped-def]
        for i in range(0, len(body), 65_536):
            yield body[i : i + 65_536]

    assert bot.http is not None
    headers = signed_headers(SIGNING_SECRET, body)
    response = await bot.http.post("/slack/events", content=chunks(), headers=headers)
    assert response.status_code == 413


@pytest.mark.parametrize(
    ("payload", "problem"),
    [
        ({"type": "block_actions", "user": False}, "payload.user: must be an object or an id"),
        ({"type": "block_actions", "actions": [{"value": "1"}]}, "payload.actions[0].action_id: is required"),
        ({"type": "block_actions", "actions": "claim"}, "payload.actions: must be a non-empty list of objects"),
        ({"type": "view_submission", "view": {"id": "V1", "callback_id": ""}}, "payload.view.type: is required"),
        ({"type": "view_submission", "view": None}, "payload.view: must be an object"),
    ],
    ids=["user-not-object", "action-without-id", "actions-not-list", "view-without-type", "view-null"],
)
async def test_signed_slack_payloads_bolt_cannot_read_are_400_not_500(
    bot: TestBot, payload: dict[str, object], problem: str
) -> None:
    body = "payload=" + quote(json.dumps(payload))
    assert bot.http is not None
    response = await bot.http.post("/slack/events", content=body.encode(), headers=signed_headers(SIGNING_SECRET, body))
    assert response.status_code == 400, response.text
    assert response.json()["error"] == problem


async def test_a_reply_typed_with_a_nul_or_a_lone_surrogate_still_reaches_the_sender(
    bot: TestBot, callback: CallbackReceiver
) -> None:
    # Legal in the JSON of Slack's payload, refused by PostgreSQL: without the replacement the
    # dialog closed and the reply failed to store after it, lost without a word.
    anna = bot.person("Anna")
    await bot.comment("Is the shop open on Sunday?", reply_url=callback.url)
    card = await bot.next_card()
    view = await bot.open_modal(anna, card, "reply")
    await bot.submit(anna, view, {"text": {"text": "Yes\u0000, 10\ud800–16."}})
    [reply] = await callback.wait_for(1)
    assert reply["text"] == "Yes\ufffd, 10\ufffd–16."
    await card.wait_for(lambda c: "✅ Reply by <@UANNA>" in c.text)
