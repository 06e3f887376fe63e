"""The generic webhook: signed JSON in, stored once; bad input refused with nothing stored."""

from __future__ import annotations

import asyncio
import json

import pytest
from sqlalchemy import func, select

from chatops.models import Conversation, Message, OutboxJob
from chatops.testing.bot import TestBot


async def _stored(bot: TestBot) -> tuple[int, int, int]:
    assert bot.app is not None
    async with bot.app.db.read() as session:
        counts = []
        for model in (Conversation, Message, OutboxJob):
            counts.append(int(await session.scalar(select(func.count()).select_from(model)) or 0))
        return counts[0], counts[1], counts[2]


async def test_accepted_message_answers_201_with_the_conversation(bot: TestBot) -> None:
    response = await bot.webhook(bot.comment_payload("Hei!"))
    assert response.status_code == 201
    assert response.json()["status"] == "stored"
    assert isinstance(response.json()["conversation_id"], int)


async def test_the_same_id_twice_is_stored_once(bot: TestBot) -> None:
    payload = bot.comment_payload("Duplicate me", id="dup-1")
    first = await bot.webhook(payload)
    second = await bot.webhook(payload)
    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json() == {"status": "duplicate", "conversation_id": first.json()["conversation_id"]}
    await bot.next_card()
    await bot.idle()
    assert len(bot.cards()) == 1
    assert (await _stored(bot))[:2] == (1, 1)


async def test_concurrent_deliveries_of_one_id_store_it_once(bot: TestBot) -> None:
    payload = bot.comment_payload("Sent ten times at once", id="race-1")
    responses = await asyncio.gather(*(bot.webhook(payload) for _ in range(10)))
    assert sorted(r.status_code for r in responses) == [200] * 9 + [201]
    await bot.next_card()
    await bot.idle()
    assert len(bot.cards()) == 1
    assert (await _stored(bot))[:2] == (1, 1)


async def test_concurrent_messages_of_one_new_thread_make_one_card(bot: TestBot) -> None:
    payloads = [bot.comment_payload(f"part {i}", id=f"p-{i}", thread_id="thread-x") for i in range(5)]
    responses = await asyncio.gather(*(bot.webhook(p) for p in payloads))
    assert all(r.status_code == 201 for r in responses)
    card = await bot.next_card()
    await bot.idle()
    assert len(bot.cards()) == 1
    assert len(card.thread()) == 4
    assert (await _stored(bot))[:2] == (1, 5)


@pytest.mark.parametrize(
    ("secret", "headers"),
    [
        ("wrong-secret-0123456789", None),
        (None, None),
        (None, {"X-Chatops-Signature": "sha256=" + "0" * 64}),
        (None, {"X-Chatops-Signature": "md5=abc"}),
    ],
    ids=["wrong-secret", "missing", "forged", "wrong-scheme"],
)
async def test_bad_signature_is_401_and_stores_nothing(
    bot: TestBot, secret: str | None, headers: dict[str, str] | None
) -> None:
    response = await bot.webhook(bot.comment_payload("forged"), secret=secret, headers=headers)
    assert response.status_code == 401
    assert "X-Chatops-Signature" in response.json()["error"]
    assert await _stored(bot) == (0, 0, 0)


async def test_signature_covers_the_raw_bytes(bot: TestBot) -> None:
    """A body re-serialised after signing (spaces changed) no longer matches."""
    from chatops_plugins.webhook.signature import sign
    from chatops_plugins.webhook.testing import WEBHOOK_SECRET

    payload = bot.comment_payload("bytes matter")
    signed = json.dumps(payload).encode()
    tampered = json.dumps(payload, indent=1).encode()
    response = await bot.webhook(tampered, secret=None, headers={"X-Chatops-Signature": sign(WEBHOOK_SECRET, signed)})
    assert response.status_code == 401
    assert await _stored(bot) == (0, 0, 0)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"{not json", "body is not valid JSON"),
        (b"[1, 2]", "body must be a JSON object"),
        (json.dumps({"text": "no id"}).encode(), "id: is required"),
        (json.dumps({"id": "a"}).encode(), "text: is required"),
        (json.dumps({"id": "a", "text": ""}).encode(), "text: String should have at least 1 character"),
        (json.dumps({"id": 5, "text": "x"}).encode(), "id: Input should be a valid string"),
        (json.dumps({"id": "a", "text": "x", "reply_ulr": "https://x"}).encode(), "reply_ulr: is not a known field"),
        (json.dumps({"id": "a", "text": "x", "reply_url": "ftp://x/y"}).encode(), "reply_url: must be an http(s) URL"),
        (json.dumps({"id": "a", "text": "x", "timestamp": "yesterday"}).encode(), "timestamp: Input should be"),
        (json.dumps({"id": "a", "text": "x", "timestamp": "2026-11-23T10:00:00"}).encode(), "timestamp: Input should"),
        (json.dumps({"id": "a", "text": "x", "author": {"nme": "Typo"}}).encode(), "author.nme: is not a known field"),
        (json.dumps({"id": "a", "text": "x" * 20_001}).encode(), "text: longer than 20000 characters"),
        (b"\xff\xfe", "body is not valid JSON"),
    ],
    ids=[
        "not-json",
        "not-object",
        "no-id",
        "no-text",
        "empty-text",
        "id-type",
        "unknown-field",
        "bad-reply-url",
        "bad-time",
        "naive-time",
        "nested-unknown",
        "text-too-long",
        "not-utf8",
    ],
)
async def test_malformed_payload_is_400_naming_the_field_and_stores_nothing(
    bot: TestBot, body: bytes, message: str
) -> None:
    response = await bot.webhook(body)
    assert response.status_code == 400
    assert response.json()["error"].startswith(message)
    assert await _stored(bot) == (0, 0, 0)


async def test_body_over_the_limit_is_413_and_stores_nothing(bot: TestBot) -> None:
    payload = bot.comment_payload("x" * 300_000)
    response = await bot.webhook(payload)
    assert response.status_code == 413
    assert await _stored(bot) == (0, 0, 0)


async def test_oversize_chunked_body_is_413_without_content_length(bot: TestBot) -> None:
    from chatops_plugins.webhook.signature import sign
    from chatops_plugins.webhook.testing import WEBHOOK_SECRET

    body = json.dumps(bot.comment_payload("y" * 300_000)).encode()

    async def chunks():  # type: ignore[no-untyped-def]
        for i in range(0, len(body), 65_536):
            yield body[i : i + 65_536]

    assert bot.http is not None
    response = await bot.http.post(
        "/webhooks/webhook", content=chunks(), headers={"X-Chatops-Signature": sign(WEBHOOK_SECRET, body)}
    )
    assert response.status_code == 413
    assert await _stored(bot) == (0, 0, 0)


async def test_reply_url_hosts_can_be_restricted(fake_slack, database_url: str) -> None:  # type: ignore[no-untyped-def]
    config = {"plugins": {"webhook": {"allowed_reply_hosts": ["crm.example.test"]}}}
    async with TestBot(fake_slack, database_url, config=config) as bot:
        refused = await bot.webhook(bot.comment_payload("x", reply_url="http://169.254.169.254/latest"))
        assert refused.status_code == 400
        assert "allowed_reply_hosts" in refused.json()["error"]
        accepted = await bot.webhook(bot.comment_payload("x", reply_url="https://crm.example.test/r"))
        assert accepted.status_code == 201
        assert (await _stored(bot))[:2] == (1, 1)
