"""The fake Slack's bad days and events, as plugin authors use them: lost answers, metadata events."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator

import aiohttp
import httpx
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.signature import SignatureVerifier
from slack_sdk.web.async_client import AsyncWebClient
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from chatops.testing.fake_slack import FakeSlack
from chatops.testing.server import ThreadedServer

SECRET = "events-secret"
METADATA = {"event_type": "task_created", "event_payload": {"id": 7}}


@pytest.fixture
def fake(fake_slack: FakeSlack) -> FakeSlack:
    return fake_slack


def client(fake: FakeSlack) -> AsyncWebClient:
    return AsyncWebClient(base_url=fake.api_url, token=fake.bot_token, retry_handlers=[])


@pytest.mark.parametrize("how", ["drop", "500"])
async def test_a_lost_answer_still_posts_the_message(fake: FakeSlack, how: str) -> None:
    fake.lose_answers("chat.postMessage", how=how, times=1)
    with pytest.raises(aiohttp.ClientError if how == "drop" else SlackApiError):
        await client(fake).chat_postMessage(channel="C1", text="first")
    await client(fake).chat_postMessage(channel="C1", text="second")
    assert [m["text"] for m in fake.top_level_messages("C1")] == ["first", "second"]
    assert [c.status for c in fake.calls_to("chat.postMessage")] == [0 if how == "drop" else 500, 200]


def test_a_share_of_answers_is_lost_repeatably(fake: FakeSlack) -> None:
    def lost_pattern() -> list[bool]:
        fake.reset()
        fake.lose_answers("api.test", share=0.5, seed=3)
        pattern = []
        for _ in range(20):
            try:
                pattern.append(not httpx.post(fake.api_url + "api.test", timeout=5).json().get("ok", False))
            except Exception:
                pattern.append(True)
        return pattern

    first = lost_pattern()
    assert 3 <= sum(first) <= 17 and lost_pattern() == first


@pytest.fixture
def receiver() -> Iterator[tuple[ThreadedServer, list[tuple[dict[str, str], bytes]]]]:
    received: list[tuple[dict[str, str], bytes]] = []

    async def events(request: Request) -> Response:
        received.append((dict(request.headers), await request.body()))
        return Response(status_code=200)

    server = ThreadedServer(Starlette(routes=[Route("/slack/events", events, methods=["POST"])]))
    server.start()
    yield server, received
    server.stop()


async def test_subscribed_metadata_is_followed_by_a_signed_event(
    fake: FakeSlack, receiver: tuple[ThreadedServer, list[tuple[dict[str, str], bytes]]]
) -> None:
    server, received = receiver
    fake.subscribe_events(server.base_url + "/slack/events", SECRET, metadata_event_types=["task_created"])
    posted = await client(fake).chat_postMessage(channel="C1", text="x", metadata=METADATA)
    await client(fake).chat_postMessage(channel="C1", text="y", metadata={**METADATA, "event_type": "other"})
    await client(fake).chat_postMessage(channel="C1", text="z")
    deadline = time.monotonic() + 5
    while not fake.events:
        assert time.monotonic() < deadline
        await asyncio.sleep(0.01)
    await asyncio.sleep(0.2)
    [(headers, body)] = received
    assert SignatureVerifier(SECRET).is_valid(
        body.decode(), headers["x-slack-request-timestamp"], headers["x-slack-signature"]
    )
    event = json.loads(body)["event"]
    assert event["type"] == "message_metadata_posted"
    assert (event["channel_id"], event["message_ts"], event["metadata"]) == ("C1", posted["ts"], METADATA)
    assert event["bot_id"] == fake.bot_id and event["app_id"] == fake.app_id
    assert [e["status"] for e in fake.events] == [200]
    fake.unsubscribe_events()
    await client(fake).chat_postMessage(channel="C1", text="x", metadata=METADATA)
    await asyncio.sleep(0.2)
    assert len(received) == 1
