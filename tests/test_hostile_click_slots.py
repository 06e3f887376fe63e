"""Hostile tests of the post-ack slots (chatops.slack.handlers.POST_ACK_SLOTS): a click's work after
its ack waits for one of a few slots. A slow Slack must not let a few clicks hold every slot.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from slack_sdk.web.async_client import AsyncWebClient
from sqlalchemy import select

from chatops.app import ChatOps
from chatops.db import Database
from chatops.models import Conversation
from chatops.slack.handlers import POST_ACK_SLOTS
from chatops.testing.bot import CallbackReceiver, TestBot
from chatops.testing.fake_slack import FakeSlack
from chatops.workflow import Outcome, Workflow


async def test_a_slow_slack_telling_people_no_holds_up_no_one_elses_click(
    bot: TestBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Refusals are told through chat.postEphemeral; with Slack answering slowly (up to the client's
    30 s timeout), the refused clicks held every slot while they
    waited, and everyone else's Claim and Resolve waited behind them."""
    anna = bot.person("Anna")
    await bot.comment("Hello?", id="held")
    card = await bot.next_card()
    await bot.comment("Another one", id="other")
    other = await bot.next_card()
    await bot.click(anna, card, "claim")
    await card.wait_for(lambda c: "unclaim" in c.buttons)

    released = asyncio.Event()
    told: list[dict[str, Any]] = []
    real = AsyncWebClient.chat_postEphemeral

    async def slow(self: AsyncWebClient, **kwargs: Any) -> Any:
        told.append(kwargs)
        await released.wait()
        return await real(self, **kwargs)

    monkeypatch.setattr(AsyncWebClient, "chat_postEphemeral", slow)
    refused = [bot.person(name) for name in ("Ben", "Cai", "Dora", "Eve", "Fay")[:POST_ACK_SLOTS]]
    for person in refused:
        await bot.click(person, card, "unclaim")  # acked: only Anna may unclaim, each is told so
    for _ in range(250):
        if len(told) == len(refused):
            break
        await asyncio.sleep(0.02)
    assert len(told) == len(refused)

    await bot.click(anna, other, "claim")
    await other.wait_for(lambda c: "unclaim" in c.buttons)  # while Slack still has not answered
    released.set()
    for person in refused:
        await bot.slack.wait_for("chat.postEphemeral", lambda c, p=person: c.args.get("user") == p.id)
    assert all(bot.ephemerals(p) == ["Only <@UANNA>, who claimed it, can unclaim this."] for p in refused)


async def test_fifty_clicks_behind_four_hung_ones_are_acked_kept_and_a_modal_still_opens(
    bot: TestBot, callback: CallbackReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The first clicks' work hangs (a slow database): every click is still acked at once, a
    Reply still opens its dialog while they hang, and once they finish every click has had its
    effect: one claim, everyone else told who has it."""
    await bot.comment("Where is my refund?", reply_url=callback.url)
    card = await bot.next_card()
    released = asyncio.Event()
    hanging: list[str] = []
    real = Workflow.claim

    async def slow_claim(self: Workflow, conversation_id: int, user: str) -> Outcome:
        if len(hanging) < POST_ACK_SLOTS:
            hanging.append(user)
            await released.wait()
        return await real(self, conversation_id, user)

    monkeypatch.setattr(Workflow, "claim", slow_claim)
    people = [bot.person(f"Agent{i}") for i in range(50)]
    for person in people:
        await bot.click(person, card, "claim")  # each answered 200: acked
    for _ in range(250):
        if len(hanging) == POST_ACK_SLOTS:
            break
        await asyncio.sleep(0.02)
    assert len(hanging) == POST_ACK_SLOTS

    anna = bot.person("Anna")
    await bot.click(anna, card, "reply")
    await bot.slack.wait_for("views.open", lambda c: c.ok, timeout=3)  # its trigger_id lives 3 s
    released.set()
    await card.wait_for(lambda c: "unclaim" in c.buttons)
    winner = next(p for p in people if f"<@{p.id}>" in card.text)
    for person in people:
        if person is not winner:
            await bot.slack.wait_for("chat.postEphemeral", lambda c, p=person: c.args.get("user") == p.id)
            assert bot.ephemerals(person) == [f"Already claimed by <@{winner.id}>."]


async def test_clicks_acked_and_waiting_for_a_slot_are_done_before_the_bot_stops(
    fake_slack: FakeSlack, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A deploy stops the bot while clicks wait for a slot: they were acked (Slack will not send
    them again) and nobody was told otherwise, so they are done before the database is closed.
    Before, stopping closed the database under them and the process exit dropped them."""
    released = asyncio.Event()
    real_claim, real_stop = Workflow.claim, ChatOps.stop

    async def slow_claim(self: Workflow, conversation_id: int, user: str) -> Outcome:
        await released.wait()  # each takes a moment once the database answers again
        await asyncio.sleep(0.1)
        return await real_claim(self, conversation_id, user)

    async def stop(self: ChatOps) -> None:
        released.set()  # the slow database recovers as the deploy stops the bot
        await real_stop(self)

    async with TestBot(fake_slack, database_url) as bot:
        await bot.comment("First", id="first")
        first = await bot.next_card()
        await bot.comment("Second", id="second")
        second = await bot.next_card()
        monkeypatch.setattr(Workflow, "claim", slow_claim)
        monkeypatch.setattr(ChatOps, "stop", stop)
        for i in range(POST_ACK_SLOTS):
            await bot.click(bot.person(f"Early{i}"), first, "claim")
        zed = bot.person("Zed")
        await bot.click(zed, second, "claim")  # acked; its work waits for a slot
    database = Database(database_url)
    try:
        async with database.read() as session:
            owners = (await session.scalars(select(Conversation.assignee).order_by(Conversation.id))).all()
    finally:
        await database.dispose()
    assert owners[0] is not None and owners[0].startswith("UEARLY")
    assert owners[1] == zed.id
