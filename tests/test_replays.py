"""A click or a modal submission acts once, however many times the same signed request arrives.

Each interaction is delivered three times: one after another, all at once, and at once to
two replicas on one database. What reached the sender, the card and the audit log counts.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
from replaying import MODES, Replays, replaying
from sqlalchemy import func, select

from chatops.models import AuditEntry, Interaction, Message
from chatops.testing.bot import ESCALATIONS, CallbackReceiver, TestBot
from chatops.testing.fake_slack import FakeSlack


@pytest.fixture(params=MODES)
async def replays(request: pytest.FixtureRequest, fake_slack: FakeSlack, database_url: str) -> AsyncIterator[Replays]:
    async with replaying(request.param, fake_slack, database_url) as running:
        yield running


async def _actions(bot: TestBot, action: str) -> int:
    assert bot.app is not None
    async with bot.app.db.read() as session:
        return int(await session.scalar(select(func.count(AuditEntry.id)).where(AuditEntry.action == action)) or 0)


async def _settled(replays: Replays) -> None:
    await replays.bot.idle()
    if "to" in replays.how:
        await replays.how["to"].idle()


async def test_a_replayed_reply_reaches_the_sender_once(replays: Replays, callback: CallbackReceiver) -> None:
    bot = replays.bot
    anna = bot.person("Anna")
    await bot.comment("Is the shop open on Sunday?", reply_url=callback.url)
    card = await bot.next_card()
    view = await bot.open_modal(anna, card, "reply")
    response = await bot.submit(anna, view, {"text": {"text": "Yes, 10–16."}}, **replays.how)
    assert response.status_code == 200 and response.content == b""  # the modal closes, no error shown
    await card.wait_for(lambda c: "✅ Reply by <@UANNA>" in c.text)
    await _settled(replays)
    assert [r["text"] for r in callback.accepted] == ["Yes, 10–16."]
    assert card.thread_text().count("Reply sent on Webhook") == 1
    assert await _actions(bot, "reply_sent") == 1
    assert bot.slack.ephemerals() == []


async def test_a_replayed_tag_submission_tags_once(replays: Replays) -> None:
    bot = replays.bot
    anna = bot.person("Anna")
    await bot.comment("The app crashes")
    card = await bot.next_card()
    view = await bot.open_modal(anna, card, "tag")
    await bot.submit(anna, view, {"new_tags": {"new_tags": "iOS"}}, **replays.how)
    await card.wait_for(lambda c: "Tags: `ios`" in c.text)
    await _settled(replays)
    assert await _actions(bot, "tagged") == 1


async def test_a_replayed_escalation_is_posted_once_and_shows_no_error(replays: Replays) -> None:
    bot = replays.bot
    anna = bot.person("Anna")
    await bot.comment("I will sue you")
    card = await bot.next_card()
    view = await bot.open_modal(anna, card, "escalate")
    await bot.submit(anna, view, {"reason": {"reason": "Legal threat"}}, **replays.how)
    await card.wait_for(lambda c: "Escalated" in c.text)
    await _settled(replays)
    assert len(bot.slack.top_level_messages(ESCALATIONS)) == 1
    assert await _actions(bot, "escalated") == 1
    assert bot.slack.ephemerals() == []  # no "already escalated" for the copies


async def test_replayed_clicks_act_once_and_a_later_click_still_counts(replays: Replays) -> None:
    bot = replays.bot
    anna = bot.person("Anna")
    await bot.comment("Thanks, all good")
    card = await bot.next_card()
    for button, done, action in [
        ("claim", "Claimed by <@UANNA>", "claimed"),
        ("unclaim", "New", "unclaimed"),
        ("resolve", "Resolved", "resolved"),
        ("reopen", "New", "reopened"),
    ]:
        await bot.click(anna, card, button, **replays.how)
        await card.wait_for(lambda c, done=done: done in c.text)
        await _settled(replays)
        assert await _actions(bot, action) == 1, button
    # Copies of "unclaim" would have been told "not claimed": nobody was told anything.
    assert bot.slack.ephemerals() == []
    # The same person pressing the same button again later is a new click (a new action_ts).
    await bot.click(anna, card, "claim")
    await card.wait_for(lambda c: "Claimed by <@UANNA>" in c.text)
    await _settled(replays)
    assert await _actions(bot, "claimed") == 2


@pytest.mark.parametrize("button", ["reply", "tag", "escalate", "full_text"])
async def test_a_replayed_click_opens_one_modal(replays: Replays, callback: CallbackReceiver, button: str) -> None:
    bot = replays.bot
    anna = bot.person("Anna")
    await bot.comment("Long story " * 400, reply_url=callback.url)
    card = await bot.next_card()
    await bot.click(anna, card, button, **replays.how)
    await bot.slack.wait_for("views.open")
    await _settled(replays)
    # The copies never reach Slack (where the used trigger_id would fail with trigger_exchanged).
    assert [c.ok for c in bot.slack.calls_to("views.open")] == [True]


async def test_a_replayed_retry_sends_the_failed_reply_once(replays: Replays, callback: CallbackReceiver) -> None:
    bot = replays.bot
    anna = bot.person("Anna")
    callback.fail_next(404, "no such ticket")
    await bot.comment("Refund please", reply_url=callback.url)
    card = await bot.next_card()
    await bot.reply(anna, card, "Refund is on its way.")
    await card.wait_for(lambda c: "retry" in c.buttons)
    await bot.click(anna, card, "retry", **replays.how)
    await card.wait_for(lambda c: "✅ Reply by <@UANNA>" in c.text)
    await _settled(replays)
    assert [e["answered"] for e in callback.received] == [404, 200]
    assert bot.slack.ephemerals() == []  # no "not failed" for the copies


async def test_a_refused_submission_is_answered_the_same_every_time_and_then_accepted(
    bot: TestBot, callback: CallbackReceiver
) -> None:
    anna = bot.person("Anna")
    await bot.comment("Hi", reply_url=callback.url)
    card = await bot.next_card()
    view = await bot.open_modal(anna, card, "reply")
    refused = await bot.submit(anna, view, {"text": {"text": "   "}}, replay=2)
    assert refused.json()["response_action"] == "errors"
    # A refusal is not remembered: the corrected submission of the same view goes through.
    await bot.submit(anna, view, {"text": {"text": "Hello!"}})
    await callback.wait_for(1)
    await bot.idle()
    assert [r["text"] for r in callback.accepted] == ["Hello!"]
    assert bot.app is not None
    async with bot.app.db.read() as session:
        assert await session.scalar(select(func.count(Message.id)).where(Message.direction == "outbound")) == 1
        kinds = sorted((await session.scalars(select(Interaction.kind))).all())
    assert kinds == ["click:reply", "view:reply"]
