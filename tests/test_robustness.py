"""Hard cases: answers never sent twice, plugins hear events, bursts don't block, repeats are refused."""

from __future__ import annotations

import asyncio
from typing import Any

from sqlalchemy import func, select, update

from chatops.hookspecs import hookimpl
from chatops.models import Conversation, Message, OutboxJob
from chatops.testing.bot import ESCALATIONS, CallbackReceiver, TestBot
from chatops.testing.fake_slack import FakeSlack


async def test_a_receiver_that_reuses_ids_still_gets_each_reply_exactly_once(
    bot: TestBot, callback: CallbackReceiver
) -> None:
    callback.reply_id = "always-the-same"
    anna = bot.person("Anna")
    await bot.comment("first", reply_url=callback.url, id="r-1")
    first = await bot.next_card()
    await bot.comment("second", reply_url=callback.url, id="r-2")
    second = await bot.next_card()
    await bot.reply(anna, first, "answer one")
    await first.wait_for(lambda c: "✅ Reply by <@UANNA>" in c.text)
    await bot.reply(anna, second, "answer two")
    await second.wait_for(lambda c: "✅ Reply by <@UANNA>" in c.text)
    await bot.idle()
    assert [e["body"]["text"] for e in callback.received] == ["answer one", "answer two"]


async def test_an_answer_interrupted_mid_send_is_not_sent_again_but_offered_for_retry(
    fake_slack: FakeSlack, database_url: str, callback: CallbackReceiver
) -> None:
    async with TestBot(fake_slack, database_url) as first:
        anna = first.person("Anna")
        await first.comment("Hello", reply_url=callback.url)
        card = await first.next_card()
        answer_id = (await first.reply_while_delivery_stopped(anna, card, "Did this go out?")).id
        assert first.app is not None
        # The process dies after handing the reply to the platform, before recording the outcome.
        async with first.app.db.write() as session:
            await session.execute(update(Message).where(Message.id == answer_id).values(delivery="sending"))

    async with TestBot(fake_slack, database_url) as second:
        await card.wait_for(lambda c: "retry" in c.buttons)
        assert "an earlier attempt was interrupted before its outcome was known" in card.text
        assert callback.received == []
        await second.click(second.person("Anna"), card, "retry")
        [reply] = await callback.wait_for(1)
        assert reply["text"] == "Did this go out?"


async def test_plugins_hear_about_inbound_messages_and_actions(fake_slack: FakeSlack, database_url: str) -> None:
    heard: list[tuple[str, Any]] = []

    class Listener:
        @hookimpl
        def chatops_inbound(self, ctx: Any, message: Any, conversation_id: int, new: bool) -> None:
            heard.append(("inbound", (message.text, conversation_id, new, ctx.name)))

        @hookimpl
        async def chatops_event(self, ctx: Any, event: Any) -> None:
            if event.action in ("claimed", "received"):
                heard.append(("event", (event.action, event.actor, event.conversation_id, ctx.name)))

    config = {"plugins": {"enabled": ["webhook", "listener"]}}
    async with TestBot(fake_slack, database_url, config=config, extra_plugins={"listener": Listener()}) as bot:
        anna = bot.person("Anna")
        await bot.comment("hello plugins", id="p1", thread_id="t1")
        card = await bot.next_card()
        await bot.comment("again", id="p2", thread_id="t1")
        await bot.click(anna, card, "claim")
        await card.wait_for(lambda c: "Claimed by <@UANNA>" in c.text)
        await bot.app.events.drain()
    conversation = card.conversation_id
    author = "matti"  # the audit log names a customer by their handle
    # Inbound hooks run on the request's path; events follow the commit on their own task.
    assert [h for kind, h in heard if kind == "inbound"] == [
        ("hello plugins", conversation, True, "listener"),
        ("again", conversation, False, "listener"),
    ]
    assert [h for kind, h in heard if kind == "event"] == [
        ("received", author, conversation, "listener"),
        ("received", author, conversation, "listener"),
        ("claimed", "UANNA", conversation, "listener"),
    ]


async def test_a_burst_of_new_cards_does_not_hold_up_a_claim(fake_slack: FakeSlack, database_url: str) -> None:
    fake_slack.post_interval = 0.05
    config = {"slack": {"post_interval_seconds": 0.05}}
    async with TestBot(fake_slack, database_url, config=config) as bot:
        anna = bot.person("Anna")
        await bot.comment("the first one", id="b-0")
        card = await bot.next_card()
        # 120 new cards wait for the channel's pace: more than one batch of the outbox.
        await asyncio.gather(*(bot.comment(f"burst {i}", id=f"b-{i}") for i in range(1, 121)))
        await bot.click(anna, card, "claim")
        await card.wait_for(lambda c: "Claimed by <@UANNA>" in c.text)
        posted_when_claimed = len(bot.cards())
    # The claim's card update went out between paced posts, not after the queue drained
    # (behind a full batch of 50 waiting posts it would show only after 70 more cards).
    assert posted_when_claimed < 40
    assert fake_slack.rate_limited == 0


async def test_escalating_twice_from_a_stale_card_posts_once(bot: TestBot) -> None:
    anna, ben = bot.person("Anna"), bot.person("Ben")
    await bot.comment("This is unacceptable")
    card = await bot.next_card()
    view_a = await bot.open_modal(anna, card, "escalate")
    view_b = await bot.open_modal(ben, card, "escalate")
    await bot.submit(anna, view_a, {"reason": {"reason": "angry customer"}})
    await card.wait_for(lambda c: "Escalated" in c.text)
    await bot.submit(ben, view_b, {"reason": {"reason": "also angry"}})
    await bot.slack.wait_for("chat.postEphemeral")
    await bot.idle()
    assert len(bot.slack.top_level_messages(ESCALATIONS)) == 1
    assert bot.ephemerals(ben) == ["This conversation is already escalated."]


async def test_a_known_message_id_in_another_thread_is_a_duplicate(bot: TestBot) -> None:
    first = await bot.webhook(bot.comment_payload("where do I belong?", id="m-1", thread_id="A"))
    moved = await bot.webhook(bot.comment_payload("where do I belong?", id="m-1", thread_id="B"))
    assert first.status_code == 201
    assert moved.status_code == 200
    assert moved.json() == {"status": "duplicate", "conversation_id": first.json()["conversation_id"]}
    assert bot.app is not None
    async with bot.app.db.read() as session:
        threads = (await session.scalars(select(Conversation.thread_id))).all()
        jobs = await session.scalar(select(func.count(OutboxJob.id)))
    assert threads == ["A"] and jobs == 1


async def test_a_non_ascii_signature_is_refused_with_401(bot: TestBot) -> None:
    body = bot.comment_payload("x")
    # Raw UTF-8 bytes in the header, as a hand-rolled client might send them.
    header = "sha256=ääkkönen".encode()
    response = await bot.webhook(body, secret=None, headers={"X-Chatops-Signature": header})  # type: ignore[dict-item]
    assert response.status_code == 401


async def test_a_reply_url_on_a_private_address_is_refused_by_default(
    fake_slack: FakeSlack, database_url: str, callback: CallbackReceiver
) -> None:
    config = {"plugins": {"webhook": {"allow_private_reply_urls": False}}}
    async with TestBot(fake_slack, database_url, config=config) as bot:
        anna = bot.person("Anna")
        await bot.comment("Hello", reply_url=callback.url)
        card = await bot.next_card()
        await bot.reply(anna, card, "Hi")
        await card.wait_for(lambda c: "retry" in c.buttons)
        assert "failed: the reply_url points at a private address (127.0.0.1)" in card.text
        assert callback.received == []


async def test_the_platforms_echo_stored_first_becomes_the_answer_not_a_second_one(
    bot: TestBot, callback: CallbackReceiver
) -> None:
    """Another replica may store the platform's echo of a reply before this one records the send."""
    from chatops.sources import Author, InboundMessage

    callback.reply_id = "platform-7"
    anna = bot.person("Anna")
    await bot.comment("Question", id="q-1", reply_url=callback.url)
    card = await bot.next_card()
    await bot.reply_while_delivery_stopped(anna, card, "Answer")
    assert bot.app is not None
    echo = InboundMessage(
        source="webhook",
        external_id="platform-7",
        thread_id="q-1",
        text="Answer",
        author=Author(name="The shop"),
        from_account=True,
    )
    assert (await bot.app.ingest(echo)).message_id is not None
    bot.app.delivery.start()
    await callback.wait_for(1)
    await card.wait_for(lambda c: "✅ Reply by <@UANNA>" in c.text)
    await bot.idle()
    assert "Answered on Webhook" not in card.text + card.thread_text()
    async with bot.app.db.read() as session:
        rows = (await session.execute(select(Message.direction, Message.external_id).order_by(Message.id))).all()
    assert [tuple(r) for r in rows] == [("inbound", "q-1"), ("outbound", "platform-7")]
    assert len(callback.received) == 1
