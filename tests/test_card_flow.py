"""A webhook comment becomes one card, and the team works it with buttons."""

from __future__ import annotations

import asyncio

from sqlalchemy import func, select

from chatops.models import AuditEntry, Message
from chatops.testing.bot import ESCALATIONS, CallbackReceiver, TestBot, block_text
from chatops.testing.fake_slack import FakeSlack


async def _count(bot: TestBot, model: type, *where: object) -> int:
    assert bot.app is not None
    async with bot.app.db.read() as session:
        return int(await session.scalar(select(func.count()).select_from(model).where(*where)) or 0)


async def _audit_actions(bot: TestBot) -> list[tuple[str, str]]:
    assert bot.app is not None
    async with bot.app.db.read() as session:
        rows = await session.execute(select(AuditEntry.actor, AuditEntry.action).order_by(AuditEntry.id))
        return [(actor, action) for actor, action in rows.all()]


async def test_comment_becomes_exactly_one_card_with_author_context_and_buttons(
    bot: TestBot, callback: CallbackReceiver
) -> None:
    await bot.comment(
        "Where is my order #123?",
        reply_url=callback.url,
        context={"text": "Black Friday sale\nEverything -30%", "url": "https://example.test/p/9"},
    )
    card = await bot.next_card()
    text = card.text
    assert "Where is my order #123?" in text
    assert "<https://example.test/u/matti|Matti Meikäläinen (@matti)>" in text
    assert "Contact form" in text
    assert "On: <https://example.test/p/9|Black Friday sale>" in text
    # 10:00 UTC is noon in Helsinki in November.
    assert "Received 2026-11-23 12:00 EET" in text
    assert "New" in text
    assert sorted(card.buttons) == ["claim", "escalate", "open", "reply", "resolve", "tag"]
    assert card.buttons["open"]["url"] == "https://example.test/c/1"
    assert card.message["metadata"]["event_type"] == "chatops_conversation"
    await bot.idle()
    assert len(bot.cards()) == 1


async def test_a_message_without_reply_url_offers_no_reply_and_says_why(bot: TestBot) -> None:
    await bot.comment("Just saying hi")
    card = await bot.next_card()
    assert "reply" not in card.buttons
    assert "Reply not available: the sender gave no reply_url" in card.text


async def test_claim_shows_owner_and_unclaim_releases(bot: TestBot) -> None:
    anna = bot.person("Anna")
    await bot.comment("Hello?")
    card = await bot.next_card()
    await bot.click(anna, card, "claim")
    await card.wait_for(lambda c: "Claimed by <@UANNA>" in c.text)
    assert "unclaim" in card.buttons and "claim" not in card.buttons
    await bot.click(anna, card, "unclaim")
    await card.wait_for(lambda c: "claim" in c.buttons and "New" in c.text)
    actions = [a for _, a in await _audit_actions(bot)]
    assert actions.count("claimed") == 1 and actions.count("unclaimed") == 1


async def test_only_the_owner_can_unclaim(bot: TestBot) -> None:
    anna, ben = bot.person("Anna"), bot.person("Ben")
    await bot.comment("Hello?")
    card = await bot.next_card()
    await bot.click(anna, card, "claim")
    await card.wait_for(lambda c: "unclaim" in c.buttons)
    await bot.click(ben, card, "unclaim")
    await bot.slack.wait_for("chat.postEphemeral")
    assert bot.ephemerals(ben) == ["Only <@UANNA>, who claimed it, can unclaim this."]
    assert "Claimed by <@UANNA>" in card.text


async def test_simultaneous_claims_on_two_replicas_give_exactly_one_owner(
    fake_slack: FakeSlack, database_url: str
) -> None:
    async with (
        TestBot(fake_slack, database_url, instance_id="replica-a") as one,
        TestBot(fake_slack, database_url, instance_id="replica-b") as two,
    ):
        anna, ben = one.person("Anna"), two.person("Ben")
        await one.comment("Who takes this?")
        card = await one.next_card()
        other_view = await two.next_card()
        assert other_view.ts == card.ts
        await asyncio.gather(one.click(anna, card, "claim"), two.click(ben, other_view, "claim"))
        await fake_slack.wait_for("chat.postEphemeral")
        await one.idle()
        await two.idle()
        owner = "UANNA" if "Claimed by <@UANNA>" in card.text else "UBEN"
        loser = "UBEN" if owner == "UANNA" else "UANNA"
        assert f"Claimed by <@{owner}>" in card.text
        assert [e["text"] for e in fake_slack.ephemerals(loser)] == [f"Already claimed by <@{owner}>."]
        assert fake_slack.ephemerals(owner) == []
        claims = [actor for actor, action in await _audit_actions(one) if action == "claimed"]
        assert claims == [owner]


async def test_reply_reaches_the_sender_and_the_card_shows_it(bot: TestBot, callback: CallbackReceiver) -> None:
    from chatops_plugins.webhook.signature import verify
    from chatops_plugins.webhook.testing import WEBHOOK_SECRET

    anna = bot.person("Anna")
    await bot.comment("Is the shop open on Sunday?", reply_url=callback.url, id="q-1", thread_id="t-1")
    card = await bot.next_card()
    response = await bot.reply(anna, card, "Yes, 10–16. Tervetuloa! <!channel>")
    assert response.status_code == 200
    [reply] = await callback.wait_for(1)
    assert reply["text"] == "Yes, 10–16. Tervetuloa! <!channel>"
    assert reply["in_reply_to"] == "q-1" and reply["thread_id"] == "t-1"
    assert reply["author"] == {"slack_user_id": "UANNA", "name": "Anna"}
    entry = callback.received[0]
    assert verify(WEBHOOK_SECRET, entry["raw"], entry["headers"]["x-chatops-signature"])
    assert entry["headers"]["idempotency-key"].startswith("chatops-")
    await card.wait_for(lambda c: "✅ Reply by <@UANNA>" in c.text)
    assert "Yes, 10–16. Tervetuloa! &lt;!channel&gt;" in card.text
    assert "Replied" in card.text and "Assignee: <@UANNA>" in card.text
    await bot.idle()
    assert "Reply sent on Webhook by <@UANNA>" in card.thread_text()


async def test_reply_modal_refuses_empty_and_too_long_text(bot: TestBot, callback: CallbackReceiver) -> None:
    anna = bot.person("Anna")
    await bot.comment("Hi", reply_url=callback.url)
    card = await bot.next_card()
    view = await bot.open_modal(anna, card, "reply")
    empty = await bot.submit(anna, view, {"text": {"text": "   "}})
    assert empty.json() == {"response_action": "errors", "errors": {"text": "Write something first."}}
    long = await bot.submit(anna, view, {"text": {"text": "x" * 5001}})
    assert long.json()["errors"]["text"] == "That is 5001 characters; Webhook accepts at most 5000."
    await bot.idle()
    assert callback.received == []
    assert await _count(bot, Message, Message.direction == "outbound") == 0


async def test_failed_reply_shows_the_error_and_retry_sends_it(bot: TestBot, callback: CallbackReceiver) -> None:
    anna, ben = bot.person("Anna"), bot.person("Ben")
    callback.fail_next(404, "no such ticket")
    await bot.comment("Refund please", reply_url=callback.url)
    card = await bot.next_card()
    await bot.reply(anna, card, "Refund is on its way.")
    await card.wait_for(lambda c: "retry" in c.buttons)
    assert "⚠️ Reply by <@UANNA> failed: the reply_url answered 404: no such ticket" in card.text
    assert "Refund is on its way." in card.text
    await bot.click(ben, card, "retry")
    [reply] = await callback.wait_for(1)
    assert reply["text"] == "Refund is on its way."
    await card.wait_for(lambda c: "✅ Reply by <@UANNA>" in c.text and "retry" not in c.buttons)
    actions = [a for _, a in await _audit_actions(bot)]
    assert "reply_failed" in actions and "retry" in actions and actions[-1] != "reply_failed"


async def test_transient_reply_failures_are_retried_automatically(bot: TestBot, callback: CallbackReceiver) -> None:
    anna = bot.person("Anna")
    callback.fail_next(503, "busy", times=2)
    await bot.comment("Hello", reply_url=callback.url)
    card = await bot.next_card()
    await bot.reply(anna, card, "Hi there")
    await callback.wait_for(1)
    assert [e["answered"] for e in callback.received] == [503, 503, 200]
    # Every attempt carried the same idempotency key, so the receiver can drop repeats.
    assert len({e["headers"]["idempotency-key"] for e in callback.received}) == 1
    await card.wait_for(lambda c: "✅ Reply by <@UANNA>" in c.text)


async def test_reply_is_acknowledged_before_the_platform_answers(bot: TestBot) -> None:
    """The modal closes at once even while the sender's server hangs: sending happens after ack()."""
    import threading

    from starlette.applications import Starlette
    from starlette.requests import Request
    from starlette.responses import JSONResponse
    from starlette.routing import Route

    from chatops.testing.server import ThreadedServer

    gate = threading.Event()
    seen: list[bytes] = []

    async def slow(request: Request) -> JSONResponse:
        seen.append(await request.body())
        await asyncio.to_thread(gate.wait, 10)
        return JSONResponse({"id": "r1"})

    with ThreadedServer(Starlette(routes=[Route("/reply", slow, methods=["POST"])])) as server:
        anna = bot.person("Anna")
        await bot.comment("Hello", reply_url=server.base_url + "/reply")
        card = await bot.next_card()
        response = await bot.reply(anna, card, "Hi!")
        assert response.status_code == 200 and response.content == b""
        gate.set()
        await card.wait_for(lambda c: "✅ Reply by <@UANNA>" in c.text)
        assert len(seen) == 1


async def test_tagging_with_known_and_new_tags(bot: TestBot) -> None:
    anna = bot.person("Anna")
    await bot.comment("The app crashes")
    card = await bot.next_card()
    view = await bot.open_modal(anna, card, "tag")
    offered = [o["value"] for o in view["blocks"][0]["element"]["options"]]
    assert offered == ["billing", "bug", "complaint", "praise", "question"]
    chosen = {
        "type": "multi_static_select",
        "selected_options": [{"value": "bug", "text": {"type": "plain_text", "text": "bug"}}],
    }
    await bot.submit(anna, view, {"tags": {"tags": chosen}, "new_tags": {"new_tags": "iOS, VIP"}})
    await card.wait_for(lambda c: "Tags: `bug`, `ios`, `vip`" in c.text)
    view = await bot.open_modal(anna, card, "tag")
    assert "vip" in [o["value"] for o in view["blocks"][0]["element"]["options"]]
    assert [o["value"] for o in view["blocks"][0]["element"]["initial_options"]] == ["bug", "ios", "vip"]


def _kept(view: dict) -> dict:
    """The Tag modal submitted as opened: every tag it shows as chosen stays chosen."""
    element = view["blocks"][0]["element"]
    return {"type": "multi_static_select", "selected_options": element.get("initial_options") or []}


async def test_saving_the_tag_modal_keeps_tags_it_could_not_show(bot: TestBot) -> None:
    # Slack's multi-select holds at most 100 options; a conversation may carry more tags than
    # that. Saving the modal to add one tag used to remove every tag the modal had not listed.
    anna = bot.person("Anna")
    await bot.comment("Tag me a lot")
    card = await bot.next_card()
    assert bot.app is not None
    many = [f"t{i:03d}" for i in range(120)]
    await bot.app.workflow.set_tags(card.conversation_id, "UBEN", many, None)
    view = await bot.open_modal(anna, card, "tag")
    assert len(view["blocks"][0]["element"]["options"]) <= 100
    await bot.submit(anna, view, {"tags": {"tags": _kept(view)}, "new_tags": {"new_tags": "vip"}})
    await card.wait_for(lambda c: "`vip`" in c.text)
    stored = await bot.app.workflow.card(card.conversation_id)
    assert stored is not None and sorted(stored.tags) == sorted([*many, "vip"])


async def test_a_tag_added_while_the_modal_was_open_is_not_removed_by_saving_it(bot: TestBot) -> None:
    anna, ben = bot.person("Anna"), bot.person("Ben")
    await bot.comment("Two people tagging")
    card = await bot.next_card()
    view = await bot.open_modal(anna, card, "tag")
    other = await bot.open_modal(ben, card, "tag")
    await bot.submit(ben, other, {"new_tags": {"new_tags": "urgent"}})
    card = await card.wait_for(lambda c: "`urgent`" in c.text)
    chosen = {
        "type": "multi_static_select",
        "selected_options": [{"value": "bug", "text": {"type": "plain_text", "text": "bug"}}],
    }
    await bot.submit(anna, view, {"tags": {"tags": chosen}})
    await card.wait_for(lambda c: "`bug`" in c.text)
    assert bot.app is not None
    stored = await bot.app.workflow.card(card.conversation_id)
    assert stored is not None and sorted(stored.tags) == ["bug", "urgent"]


async def test_escalation_posts_to_leads_with_a_link_and_marks_the_card(bot: TestBot) -> None:
    anna = bot.person("Anna")
    await bot.comment("I will sue you <!here>")
    card = await bot.next_card()
    view = await bot.open_modal(anna, card, "escalate")
    await bot.submit(anna, view, {"reason": {"reason": "Legal threat <@U999>"}})
    await card.wait_for(lambda c: "Escalated" in c.text and "escalate" not in c.buttons)
    await bot.idle()
    [post] = bot.slack.top_level_messages(ESCALATIONS)
    text = post["blocks"][0]["text"]["text"]
    assert "<@UANNA> escalated a conversation from Webhook. <@ULEAD> <!subteam^SLEADS>" in text
    assert "*Reason:* Legal threat &lt;@U999&gt;" in text
    assert "I will sue you &lt;!here&gt;" in text
    permalink = bot.slack.calls_to("chat.getPermalink")[0].response["permalink"]
    assert f"<{permalink}|Open the card>" in text
    assert "Reason:* Legal threat &lt;@U999&gt;" in card.text


async def test_resolve_and_reopen(bot: TestBot) -> None:
    anna = bot.person("Anna")
    await bot.comment("Thanks, all good")
    card = await bot.next_card()
    await bot.click(anna, card, "resolve")
    await card.wait_for(lambda c: "Resolved" in c.text and "reopen" in c.buttons)
    await bot.click(anna, card, "reopen")
    await card.wait_for(lambda c: "New" in c.text and "resolve" in c.buttons)
    actions = [a for _, a in await _audit_actions(bot)]
    assert actions[-2:] == ["resolved", "reopened"]


async def test_follow_up_lands_in_the_thread_and_bumps_the_card(bot: TestBot) -> None:
    anna = bot.person("Anna")
    await bot.comment("First question", id="m-1", thread_id="ticket-7")
    card = await bot.next_card()
    await bot.click(anna, card, "resolve")
    await card.wait_for(lambda c: "Resolved" in c.text)
    await bot.comment("Actually, one more <@U123>", id="m-2", thread_id="ticket-7")
    await card.wait_for(lambda c: "The customer wrote again" in c.text and "New" in c.text)
    await bot.idle()
    assert len(bot.cards()) == 1
    thread = card.thread_text()
    assert "Matti Meikäläinen (@matti) wrote:" in thread
    assert "Actually, one more &lt;@U123&gt;" in thread
    assert "2 messages in the thread" in card.text
    assert ("customer", "reopened") in await _audit_actions(bot)


INJECTIONS = "<!channel> <!here> <!everyone> <@U123> <!subteam^S1> <https://evil.example|your invoice> &amp;"


async def test_injection_strings_render_inert(bot: TestBot) -> None:
    await bot.comment(INJECTIONS, id="x1", author={"name": "<!channel> Eve", "handle": "<@U1>"}, channel="<!here>")
    card = await bot.next_card()
    await bot.comment("follow-up " + INJECTIONS, id="x2", thread_id="x1")
    await bot.comment("another card " + INJECTIONS, id="x3")
    await bot.next_card()
    await bot.idle()
    assert "follow-up &lt;!channel&gt;" in card.thread_text()
    # The card, its notification text, and every other message the bot posted.
    every_text = "\n".join(
        [card.text, card.message["text"], card.thread_text()]
        + [m.get("text", "") + block_text(m.get("blocks") or []) for m in bot.slack.messages()]
    )
    for raw in ("<!channel>", "<!here>", "<!everyone>", "<@U123>", "<!subteam^S1>", "<https://evil.example"):
        assert raw not in every_text
    assert (
        "&lt;!channel&gt; &lt;!here&gt; &lt;!everyone&gt; &lt;@U123&gt; &lt;!subteam^S1&gt; "
        "&lt;https://evil.example|your invoice&gt; &amp;amp;"
    ) in card.text
    assert "&lt;!channel&gt; Eve (@&lt;@U1&gt;)" in card.text
    assert "link_names" not in bot.slack.calls_to("chat.postMessage")[0].args


async def test_long_text_is_cut_on_the_card_and_readable_in_full(bot: TestBot) -> None:
    anna = bot.person("Anna")
    long_text = ("Pitkä viesti ääkkösillä & <tags> " * 400)[:10_000]
    await bot.comment(long_text)
    card = await bot.next_card()
    assert "Showing " in card.text and "of 10000 characters" in card.text
    message_block = next(b for b in card.message["blocks"] if b.get("block_id") == "message")
    assert len(message_block["text"]["text"]) <= 3000
    view = await bot.open_modal(anna, card, "full_text")
    shown = "".join(b["text"]["text"] for b in view["blocks"])
    assert shown == long_text
    assert all(b["text"]["type"] == "plain_text" for b in view["blocks"])


async def test_unknown_conversation_button_is_explained(bot: TestBot) -> None:
    anna = bot.person("Anna")
    await bot.comment("Hi")
    card = await bot.next_card()
    assert bot.app is not None
    async with bot.app.db.write() as session:
        from sqlalchemy import delete

        from chatops.models import Conversation

        await session.execute(delete(Conversation))
    await bot.click(anna, card, "tag")
    await bot.slack.wait_for("chat.postEphemeral")
    assert bot.ephemerals(anna) == ["This card no longer exists in chatops."]
