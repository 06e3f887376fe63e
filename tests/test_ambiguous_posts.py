"""A post whose answer is lost is reconciled through Slack's metadata event, never repeated blindly.

The fake Slack performs a share of ``chat.postMessage`` calls and then breaks the
connection (or answers 500), and sends ``message_metadata_posted`` for every message
the app subscribed to, as Slack does. Every comment must end as exactly one card.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from pathlib import Path
from typing import Any

import aiohttp
import pytest
from slack_sdk.errors import SlackApiError
from slack_sdk.web.slack_response import SlackResponse
from sqlalchemy import select
from test_socket_mode import started_app

from chatops.app import ChatOps
from chatops.models import Conversation, Escalation, Message
from chatops.server import connect_socket_mode
from chatops.slack.posting import POST_ID_KEY, SUBSCRIBED_EVENT_TYPES, outcome_unknown
from chatops.sources import InboundMessage
from chatops.testing.bot import ESCALATIONS, INBOX, SIGNING_SECRET, TestBot
from chatops.testing.fake_slack import FakeSlack
from chatops.testing.slack_requests import event_body, signed_headers

COMMENTS = 53


def _cards_per_conversation(fake: FakeSlack) -> Counter[int]:
    return Counter(
        int(m["metadata"]["event_payload"]["conversation_id"])
        for m in fake.top_level_messages(INBOX)
        if (m.get("metadata") or {}).get("event_type") == "chatops_conversation"
    )


async def _wait_for_cards(bot: TestBot, count: int, timeout: float = 60.0) -> None:  # noqa: ASYNC109
    deadline = time.monotonic() + timeout
    while len(_cards_per_conversation(bot.slack)) < count:
        if time.monotonic() > deadline:
            raise AssertionError(f"only {len(_cards_per_conversation(bot.slack))} of {count} comments were carded")
        await asyncio.sleep(0.05)
    await bot.idle(timeout=timeout)


@pytest.mark.parametrize("how", ["drop", "500"])
async def test_lost_answers_leave_one_card_per_comment_and_one_thread_post_per_follow_up(
    bot: TestBot, how: str
) -> None:
    bot.slack.lose_answers("chat.postMessage", share=0.3, how=how, seed=6)
    for n in range(COMMENTS):
        await bot.comment(f"Question {n}", id=f"q-{n}", thread_id=f"t-{n}")
    for n in range(0, COMMENTS, 5):
        await bot.comment(f"Follow-up {n}", id=f"f-{n}", thread_id=f"t-{n}")
    await _wait_for_cards(bot, COMMENTS)
    lost = [c for c in bot.slack.calls_to("chat.postMessage") if not c.ok]
    assert len(lost) >= 10, "the fault was not injected"
    cards = _cards_per_conversation(bot.slack)
    duplicates = sum(n - 1 for n in cards.values())
    assert (len(cards), duplicates) == (COMMENTS, 0), f"{COMMENTS} comments, {sum(cards.values())} cards"
    assert bot.app is not None
    async with bot.app.db.read() as session:
        recorded = {
            cid: ts for cid, ts in (await session.execute(select(Conversation.id, Conversation.slack_ts))).all()
        }
        follow_ups = (await session.scalars(select(Message).where(Message.external_id.like("f-%")))).all()
    # The card each conversation updates is the one in the channel.
    in_channel = {
        int(m["metadata"]["event_payload"]["conversation_id"]): m["ts"] for m in bot.slack.top_level_messages(INBOX)
    }
    assert recorded == in_channel
    for message in follow_ups:
        conversation_ts = recorded[message.conversation_id]
        # The follow-up is the only post in its card's thread, once.
        assert [m["ts"] for m in bot.slack.thread(INBOX, conversation_ts)] == [message.slack_ts]


async def test_without_the_event_a_history_look_up_finds_the_card(fake_slack: FakeSlack, database_url: str) -> None:
    async with TestBot(fake_slack, database_url, metadata_events=False) as bot:
        fake_slack.lose_answers("chat.postMessage", times=1)
        await bot.comment("Is anyone there?")
        await fake_slack.wait_for("conversations.history")
        await _wait_for_cards(bot, 1)
        [card] = fake_slack.top_level_messages(INBOX)
        assert len(fake_slack.calls_to("chat.postMessage")) == 1
        [look_up] = fake_slack.calls_to("conversations.history")
        assert look_up.args["channel"] == INBOX and int(look_up.args["limit"]) <= 15
        assert bot.app is not None
        assert await _recorded_card(bot.app) == card["ts"]


async def _posted_twice(bot: TestBot, fake: FakeSlack) -> tuple[dict[str, Any], dict[str, Any]]:
    """A card whose first post's answer is lost, with no event and no look-up allowed: the two messages."""
    fake.lose_answers("chat.postMessage", times=1)
    fake.fail_next("conversations.history", error="missing_scope")  # the optional scope not granted
    await bot.comment("Is anyone there?")
    await _wait_for_cards(bot, 1)
    first, second = fake.top_level_messages(INBOX)
    return first, second


async def test_without_the_event_or_a_look_up_the_card_is_posted_again_so_nothing_is_lost(
    fake_slack: FakeSlack, database_url: str
) -> None:
    async with TestBot(fake_slack, database_url, metadata_events=False) as bot:
        first, second = await _posted_twice(bot, fake_slack)
        # The bot waited for the event (reconcile_seconds) before posting again.
        calls = fake_slack.calls_to("chat.postMessage")
        assert calls[1].at - calls[0].at >= 0.9
        card = bot.cards()[-1]
        await bot.click(bot.person("Anna"), card, "claim")
        await card.wait_for(lambda c: "Claimed by <@UANNA>" in c.text)
        assert bot.slack.message(INBOX, second["ts"])["edits"] == 1
        assert bot.slack.message(INBOX, first["ts"])["edits"] == 0


async def test_an_event_arriving_after_the_repost_removes_the_extra_card(
    fake_slack: FakeSlack, database_url: str
) -> None:
    async with TestBot(fake_slack, database_url, metadata_events=False) as bot:
        first, second = await _posted_twice(bot, fake_slack)
        # Slack's event for the first post, late (delivery is retried for up to an hour).
        event = {
            "type": "message_metadata_posted",
            "app_id": fake_slack.app_id,
            "bot_id": fake_slack.bot_id,
            "user_id": fake_slack.bot_user_id,
            "team_id": fake_slack.team_id,
            "channel_id": INBOX,
            "metadata": first["metadata"],
            "message_ts": first["ts"],
            "event_ts": first["ts"],
        }
        body = event_body(event)
        assert bot.http is not None
        headers = signed_headers(SIGNING_SECRET, body, content_type="application/json")
        assert (await bot.http.post("/slack/events", content=body, headers=headers)).status_code == 200
        await fake_slack.wait_for("chat.delete")
        assert [m["ts"] for m in fake_slack.top_level_messages(INBOX)] == [second["ts"]]
        # Another app's message with the same metadata is not taken for the bot's own.
        event = {**event, "bot_id": "BOTHER", "app_id": "AOTHER", "message_ts": "1.000001"}
        body = event_body(event)
        headers = signed_headers(SIGNING_SECRET, body, content_type="application/json")
        assert (await bot.http.post("/slack/events", content=body, headers=headers)).status_code == 200
        await asyncio.sleep(0.3)
        assert len(fake_slack.calls_to("chat.delete")) == 1
        assert first["metadata"]["event_payload"][POST_ID_KEY] >= 1


async def test_over_socket_mode_the_event_reconciles_the_card_too(fake_slack: FakeSlack, tmp_path: Path) -> None:
    app = await started_app(fake_slack, tmp_path)
    try:
        handler = await connect_socket_mode(app)
        await fake_slack.wait_for_socket()
        fake_slack.subscribe_events(None, "", metadata_event_types=SUBSCRIBED_EVENT_TYPES)
        fake_slack.lose_answers("chat.postMessage", times=1)
        await app.ingest(InboundMessage(source="webhook", external_id="m1", thread_id="m1", text="hi"))
        deadline = time.monotonic() + 5
        while not (slack_ts := await _recorded_card(app)):
            assert time.monotonic() < deadline, f"card never recorded; events: {fake_slack.events}"
            await asyncio.sleep(0.05)
        # Well before reconcile_seconds (20 s by default): the event, not a repost, settled it.
        [card] = fake_slack.top_level_messages(INBOX)
        assert slack_ts == card["ts"]
        assert [e["status"] for e in fake_slack.events] == ["acked"]
        assert len(fake_slack.calls_to("chat.postMessage")) == 1
        await handler.close_async()
    finally:
        await app.stop()


async def _recorded_card(app: ChatOps) -> str | None:
    async with app.db.read() as session:
        return await session.scalar(select(Conversation.slack_ts))


def test_the_manifest_subscribes_to_the_metadata_events_of_the_bots_posts() -> None:
    manifest = (Path(__file__).parent.parent / "slack-app-manifest.yml").read_text()
    assert "- metadata.message:read" in manifest
    assert "- message_metadata_posted" in manifest
    for event_type in SUBSCRIBED_EVENT_TYPES:
        assert f"event_type: {event_type}" in manifest


async def test_two_replicas_reconcile_each_others_lost_posts(fake_slack: FakeSlack, database_url: str) -> None:
    async with (
        TestBot(fake_slack, database_url, instance_id="replica-a") as one,
        TestBot(fake_slack, database_url, instance_id="replica-b") as two,
    ):
        # Slack sends each event to one request URL (here replica b's); both replicas post cards.
        fake_slack.lose_answers("chat.postMessage", share=0.3, seed=7)
        for n in range(20):
            await (one if n % 2 else two).comment(f"Question {n}", id=f"q-{n}", thread_id=f"t-{n}")
        await _wait_for_cards(one, 20)
        await two.idle()
        assert any(not c.ok for c in fake_slack.calls_to("chat.postMessage")), "the fault was not injected"
        cards = _cards_per_conversation(fake_slack)
        assert (len(cards), sum(cards.values())) == (20, 20)


async def test_an_escalation_post_whose_answer_is_lost_is_posted_once(bot: TestBot) -> None:
    anna = bot.person("Anna")
    await bot.comment("I will sue you")
    card = await bot.next_card()
    view = await bot.open_modal(anna, card, "escalate")
    bot.slack.lose_answers("chat.postMessage", times=1)
    await bot.submit(anna, view, {"reason": {"reason": "Legal threat"}})
    await card.wait_for(lambda c: "Escalated" in c.text)
    await bot.idle()
    [post] = bot.slack.top_level_messages(ESCALATIONS)
    assert [c.status for c in bot.slack.calls_to("chat.postMessage") if c.args.get("channel") == ESCALATIONS] == [0]
    assert bot.app is not None
    async with bot.app.db.read() as session:
        assert await session.scalar(select(Escalation.slack_ts)) == post["ts"]


def test_only_an_answer_that_never_came_leaves_a_post_in_doubt() -> None:
    def slack_error(status: int) -> SlackApiError:
        return SlackApiError(
            "x",
            SlackResponse(
                client=None,
                http_verb="POST",
                api_url="",
                req_args={},
                data={"ok": False},
                headers={},
                status_code=status,
            ),
        )

    assert outcome_unknown(slack_error(500)) and outcome_unknown(slack_error(503))
    assert not outcome_unknown(slack_error(200))  # channel_not_found and the like: Slack said no
    assert not outcome_unknown(slack_error(429))
    assert outcome_unknown(aiohttp.ServerDisconnectedError()) and outcome_unknown(TimeoutError())
    assert outcome_unknown(aiohttp.ClientPayloadError("payload not completed"))
    refused = aiohttp.ClientConnectorError(connection_key=None, os_error=ConnectionRefusedError(111, "refused"))  # type: ignore[arg-type]
    assert not outcome_unknown(refused)  # never reached Slack
