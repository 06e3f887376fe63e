"""Property-based probes of the HTTP surface: any correctly signed input gets 2xx or a 4xx that says why.

For /webhooks/webhook, /slack/events and /healthz, hypothesis generates any JSON value in any field,
any string in any text field, deep nesting, huge numbers, lone surrogates and arbitrary headers, signs
the bytes correctly and checks what a sender would see: never a 5xx, a message with every 4xx, nothing
stored for a 4xx, and an answer within the client's timeout (a hang fails the request). Examples are
few and the deadline is off so CI stays fast; the cases hypothesis finds are worth more than volume.
"""

from __future__ import annotations

import json
from typing import Any
from urllib.parse import urlencode

from any_input import PROPERTY, TIMEOUT, any_json, any_text, check_answer, encode, maybe, rows
from hypothesis import given
from hypothesis import strategies as st

from chatops.testing.bot import SIGNING_SECRET, TestBot
from chatops.testing.slack_requests import signed_headers

#: Bodies a JSON encoder would not produce: nesting, long numbers, NaN, invalid UTF-8, truncation.
nasty_bodies = st.sampled_from(
    [
        b"[" * 5000 + b"]" * 5000,
        b'{"id":"a","text":"b","author":{"name":' + b"[" * 2000 + b"]" * 2000 + b"}}",
        b'{"id":"a","text":' + b"9" * 5000 + b"}",
        b'{"id":"a","text":"b","timestamp":' + b"9" * 400 + b"}",
        b'{"id":"a","text":"b","timestamp":1e999}',
        b'{"id":"a","text":NaN}',
        b'{"id":"a","text":"x\\ud800y"}',
        b'{"id":"a","text":"\\udc00"}',
        b"\xff\xfe{}",
        b'{"id":"a","text":"b"',
        b"",
    ]
) | st.binary(max_size=200)


webhook_messages = st.fixed_dictionaries(
    {"id": maybe(st.text(min_size=1, max_size=20)), "text": maybe(any_text)},
    optional={
        "thread_id": maybe(st.text(min_size=1, max_size=20)),
        "author": maybe(
            st.fixed_dictionaries(
                {}, optional={"name": maybe(any_text), "handle": maybe(any_text), "url": maybe(any_text)}
            )
        ),
        "timestamp": maybe(
            st.datetimes(timezones=st.timezones()).map(lambda d: d.isoformat())
            | st.sampled_from(["9999-12-31T23:59:59-14:00", "0001-01-01T00:00:00+14:00", "2026-11-23T10:00:00Z"])
        ),
        "url": maybe(st.sampled_from(["https://example.test/x", "ftp://x", "https://"])),
        "reply_url": maybe(st.just("https://example.test/reply")),
        "channel": maybe(any_text),
        "context": maybe(st.fixed_dictionaries({}, optional={"text": maybe(any_text), "url": maybe(any_text)})),
    },
)


@PROPERTY
@given(message=webhook_messages, ascii_only=st.booleans())
async def test_webhook_answers_any_signed_message_with_2xx_or_a_4xx_naming_the_problem(
    bot: TestBot, message: dict[str, Any], ascii_only: bool
) -> None:
    before = await rows(bot)
    response = await bot.webhook(encode(message, ascii_only))
    await check_answer(bot, response, before)


@PROPERTY
@given(body=nasty_bodies | any_json.map(lambda v: encode(v, True)))
async def test_webhook_answers_any_signed_body_with_2xx_or_4xx(bot: TestBot, body: bytes) -> None:
    before = await rows(bot)
    response = await bot.webhook(body)
    await check_answer(bot, response, before)
    assert response.status_code != 201 or isinstance(json.loads(body), dict)


header_names = st.sampled_from(
    ["X-Chatops-Signature", "Content-Type", "Content-Length", "X-Slack-Request-Timestamp", "X-Forwarded-For", "X-Any"]
)
#: What HTTP allows in a header value (visible ASCII and Latin-1, inner spaces), sent as raw bytes.
header_values = st.text(
    st.characters(
        min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f" + "".join(map(chr, range(0x80, 0xA0)))
    ),
    max_size=80,
).map(str.strip)


@PROPERTY
@given(extra=st.lists(st.tuples(header_names, header_values), max_size=4))
async def test_webhook_answers_arbitrary_headers_with_2xx_or_4xx(bot: TestBot, extra: list[tuple[str, str]]) -> None:
    from chatops_plugins.webhook.signature import sign
    from chatops_plugins.webhook.testing import WEBHOOK_SECRET

    body = encode(bot.comment_payload("headers"), False)
    headers = [("Content-Type", "application/json"), ("X-Chatops-Signature", sign(WEBHOOK_SECRET, body))]
    headers += [(k, v) for k, v in extra if k != "Content-Length"]
    before = await rows(bot)
    assert bot.http is not None
    raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in headers]
    response = await bot.http.post("/webhooks/webhook", content=body, headers=raw, timeout=TIMEOUT)
    await check_answer(bot, response, before)


slack_types = st.sampled_from(["block_actions", "view_submission", "view_closed", "shortcut", "message_action"])
slack_payloads = st.fixed_dictionaries(
    {"type": maybe(slack_types)},
    optional={
        "user": maybe(st.fixed_dictionaries({"id": maybe(st.just("UANNA")), "name": maybe(any_text)})),
        "team": maybe(st.fixed_dictionaries({"id": maybe(st.just("T0001"))})),
        "actions": maybe(
            st.lists(
                st.fixed_dictionaries(
                    {
                        "action_id": maybe(st.sampled_from(["chatops:claim", "chatops:reply", "chatops:resolve"])),
                        "value": maybe(any_text | st.integers().map(str)),
                        "block_id": maybe(any_text),
                    }
                ),
                max_size=2,
            )
        ),
        "container": maybe(st.fixed_dictionaries({"channel_id": maybe(st.just("CINBOX")), "message_ts": any_json})),
        "view": maybe(
            st.fixed_dictionaries(
                {"id": maybe(any_text), "callback_id": maybe(any_text), "private_metadata": maybe(any_text)},
                optional={"state": any_json, "hash": any_json},
            )
        ),
        "trigger_id": maybe(any_text),
    },
)


@PROPERTY
@given(payload=slack_payloads | any_json, form=st.booleans())
async def test_slack_events_answers_any_signed_payload_without_a_5xx(bot: TestBot, payload: Any, form: bool) -> None:
    text = json.dumps(payload, ensure_ascii=True)
    body = urlencode({"payload": text}) if form else text
    content_type = "application/x-www-form-urlencoded" if form else "application/json"
    before = await rows(bot)
    assert bot.http is not None
    response = await bot.http.post(
        "/slack/events",
        content=body.encode(),
        headers=signed_headers(SIGNING_SECRET, body, content_type=content_type),
        timeout=TIMEOUT,
    )
    await check_answer(bot, response, before)


@PROPERTY
@given(
    timestamp=st.one_of(st.none(), header_values, st.integers().map(str)),
    signature=st.one_of(st.none(), header_values, st.just("v0=" + "0" * 64)),
    body=st.binary(max_size=100) | st.just(b"payload=%7B%7D"),
)
async def test_slack_events_answers_any_signature_headers_with_a_4xx(
    bot: TestBot, timestamp: str | None, signature: str | None, body: bytes
) -> None:
    headers = [(b"Content-Type", b"application/x-www-form-urlencoded")]
    if timestamp is not None:
        headers.append((b"X-Slack-Request-Timestamp", timestamp.encode("latin-1")))
    if signature is not None:
        headers.append((b"X-Slack-Signature", signature.encode("latin-1")))
    before = await rows(bot)
    assert bot.http is not None
    response = await bot.http.post("/slack/events", content=body, headers=headers, timeout=TIMEOUT)
    await check_answer(bot, response, before)
    assert 400 <= response.status_code < 500


@PROPERTY
@given(
    query=st.dictionaries(any_text.filter(lambda s: "\x00" not in s), any_text, max_size=3),
    extra=st.lists(st.tuples(header_names, header_values), max_size=3),
)
async def test_healthz_answers_200_whatever_is_sent(
    bot: TestBot, query: dict[str, str], extra: list[tuple[str, str]]
) -> None:
    assert bot.http is not None
    raw = [(k.encode("latin-1"), v.encode("latin-1")) for k, v in extra if k != "Content-Length"]
    params = {
        k.encode("utf-8", "surrogatepass").decode("utf-8", "replace"): v.encode("utf-8", "surrogatepass").decode(
            "utf-8", "replace"
        )
        for k, v in query.items()
    }
    response = await bot.http.get("/healthz", params=params, headers=raw, timeout=TIMEOUT)
    assert response.status_code == 200
    assert response.json()["status"] == "ok"
