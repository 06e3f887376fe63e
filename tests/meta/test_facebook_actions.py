"""Move to DM, Hide / Unhide and failing Graph calls, as the customer on Facebook and the team in Slack see them."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from meta_world import AINO, EERO, PAGE, TOKEN, Meta, audit_actions, meta_config

from chatops.testing.bot import TestBot
from chatops.testing.fake_slack import FakeSlack
from chatops_plugins.graph_api.testing import FakeGraph

# ------------------------------------------------------------------------------------- Move to DM


async def test_move_to_dm_sends_one_private_reply_and_the_optional_public_note(
    meta_bot: TestBot, meta: Meta, graph: FakeGraph
) -> None:
    anna = meta_bot.person("Anna")
    await meta.facebook(meta.fb_comment("1_501", "Tilaukseni #4411 ei ole vieläkään tullut!"))
    card = await meta_bot.next_card()
    view = await meta_bot.open_modal(anna, card, "private_reply")
    assert any(block.get("block_id") == "notice" for block in view["blocks"])
    await meta_bot.submit(
        anna,
        view,
        {"text": {"text": "Hei Aino, selvitämme tilauksesi heti."}, "notice": {"notice": "Lähetimme sinulle viestin."}},
    )
    await graph.wait_for("POST", rf"/{PAGE}/messages")
    (message,) = graph.private_messages("1_501")
    assert message["text"] == "Hei Aino, selvitämme tilauksesi heti."
    assert message["recipient_id"] == AINO[0]
    assert message["platform"] == "facebook"
    # The public note under the comment, so onlookers see the complaint is being handled.
    await graph.wait_for("POST", r"/1_501/comments")
    assert [r["message"] for r in graph.comment_replies("1_501")] == ["Lähetimme sinulle viestin."]
    # Meta allows one private reply per comment: the card says so instead of offering the button.
    await card.wait_for(lambda c: "✅ Private message by <@UANNA>" in c.text)
    await card.wait_for(lambda c: "Move to DM not available: a private reply was already sent" in c.text)
    assert "private_reply" not in card.buttons
    assert "reply" in card.buttons
    await meta_bot.idle()
    actions = await audit_actions(meta_bot)
    assert "private_reply_sent" in actions and "reply_sent" in actions


async def test_move_to_dm_is_explained_away_after_seven_days(meta_bot: TestBot, meta: Meta) -> None:
    eight_days_ago = datetime.now(UTC) - timedelta(days=8)
    await meta.facebook(meta.fb_comment("1_501", "Vanha kysymys", created=eight_days_ago))
    card = await meta_bot.next_card()
    assert "private_reply" not in card.buttons
    assert "Move to DM not available: Meta allows a private reply only within 7 days of the comment" in card.text
    assert "8 days ago" in card.text
    assert "reply" in card.buttons  # a public reply is still possible


async def test_meta_refusing_a_late_private_reply_fails_on_the_card_without_an_alert(
    meta_bot: TestBot, meta: Meta, graph: FakeGraph
) -> None:
    graph.private_reply_window = timedelta(hours=1)  # Meta closes the window before the card does
    await meta.facebook(meta.fb_comment("1_501", "Kysymys", created=datetime.now(UTC) - timedelta(hours=2)))
    card = await meta_bot.next_card()
    await meta_bot.reply(meta_bot.person("Anna"), card, "Hei!", button="private_reply")
    await card.wait_for(lambda c: "failed: Meta refused the private reply: the 7-day window has passed" in c.text)
    assert "retry" in card.buttons
    await meta_bot.idle()
    assert meta.ops_alerts() == []
    assert graph.private_messages() == []


# ---------------------------------------------------------------------------------------- Hide


async def test_hide_and_unhide_reach_facebook_after_a_confirmation(
    meta_bot: TestBot, meta: Meta, graph: FakeGraph
) -> None:
    anna = meta_bot.person("Anna")
    await meta.facebook(meta.fb_comment("1_501", "Roskapostia: osta halpoja kelloja!!!"))
    card = await meta_bot.next_card()
    assert card.buttons["hide"]["confirm"]["title"]["text"] == "Hide this comment?"
    await meta_bot.click(anna, card, "hide")
    await card.wait_for(lambda c: "Hidden on Facebook" in c.text and "unhide" in c.buttons)
    assert graph.is_hidden("1_501")
    (call,) = graph.calls_to("POST", r"/1_501")
    assert call.data == {"is_hidden": "true"}
    await meta_bot.click(anna, card, "unhide")
    await card.wait_for(lambda c: "hide" in c.buttons and "Hidden on Facebook" not in c.text)
    assert not graph.is_hidden("1_501")
    # A refused hide shows on the card, and the button stays for another try.
    graph.fail_next("POST", r"/1_501", code=100, message="(#100) Comment cannot be hidden")
    await meta_bot.click(anna, card, "hide")
    await card.wait_for(lambda c: "Hiding failed" in c.text and "Comment cannot be hidden" in c.text)
    assert not graph.is_hidden("1_501") and "hide" in card.buttons
    await meta_bot.idle()
    actions = await audit_actions(meta_bot)
    assert actions.index("hidden") < actions.index("unhidden") < actions.index("hide_failed")


async def test_a_hide_that_meets_a_server_error_is_retried(meta_bot: TestBot, meta: Meta, graph: FakeGraph) -> None:
    anna = meta_bot.person("Anna")
    await meta.facebook(meta.fb_comment("1_501", "Roskapostia taas"))
    card = await meta_bot.next_card()
    graph.fail_next("POST", r"/1_501", code=2, http_status=500, message="Service temporarily unavailable")
    await meta_bot.click(anna, card, "hide")
    await card.wait_for(lambda c: "Hidden on Facebook" in c.text and "unhide" in c.buttons)
    assert graph.is_hidden("1_501")
    assert [c.status for c in graph.calls_to("POST", r"/1_501$")] == [500, 200]
    assert "Hiding failed" not in card.text


# --------------------------------------------------------------------------------- Graph failures


async def test_expired_token_keeps_replies_queued_and_raises_one_alert(
    fake_slack: FakeSlack, database_url: str, meta_bot: TestBot, meta: Meta, graph: FakeGraph
) -> None:
    graph.access_token = "EAAG-renewed-token"  # Meta no longer accepts the token chatops has
    anna = meta_bot.person("Anna")
    await meta.facebook(meta.fb_comment("1_501", "Ensimmäinen kysymys"))
    first = await meta_bot.next_card()
    await meta.facebook(meta.fb_comment("1_601", "Toinen kysymys", who=EERO))
    second = await meta_bot.next_card()
    # Cards still arrive while Meta refuses the token (without the post's text, which needs a read).
    assert "Ensimmäinen kysymys" in first.text and "On: <https://www.facebook.com/1000/posts/1|" in first.text
    await meta_bot.reply(anna, first, "Vastaus yksi")
    await meta_bot.reply(anna, second, "Vastaus kaksi")
    for card in (first, second):
        # The card says what failed and what to renew; the reply waits.
        await card.wait_for(lambda c: "not sent yet" in c.text and "page_access_token" in c.text)
    # Several attempts each, and still one alert for the admin, not one per comment.
    await graph.wait_for("POST", r"/1_(501|601)/comments", count=4)
    await meta_bot.idle(horizon=0)
    (alert,) = meta.ops_alerts()
    assert "Facebook needs an admin: the Page access token used for Page 1000 was rejected" in alert
    assert "CHATOPS_PLUGINS__FACEBOOK__PAGE_ACCESS_TOKEN" in alert
    assert graph.comment_replies("1_501") == [] and graph.comment_replies("1_601") == []

    # The admin sets the renewed token and restarts chatops: the queued replies go out.
    await meta_bot.stop()
    config = meta_config(graph_api_url=graph.base_url, page_access_token="EAAG-renewed-token")
    async with TestBot(fake_slack, database_url, config=config):
        await first.wait_for(lambda c: "✅ Reply by <@UANNA>" in c.text)
        await second.wait_for(lambda c: "✅ Reply by <@UANNA>" in c.text)
    assert [r["message"] for r in graph.comment_replies("1_501")] == ["Vastaus yksi"]
    assert [r["message"] for r in graph.comment_replies("1_601")] == ["Vastaus kaksi"]
    assert len(meta.ops_alerts()) == 1
    graph.access_token = TOKEN


async def test_missing_permission_alerts_once_naming_the_permission(
    meta_bot: TestBot, meta: Meta, graph: FakeGraph
) -> None:
    graph.fail_next(
        "POST", rf"/{PAGE}/messages", code=200, message="(#200) Requires pages_messaging permission", times=2
    )
    await meta.facebook(meta.fb_comment("1_501", "Voinko kysyä yksityisesti?"))
    card = await meta_bot.next_card()
    await meta_bot.reply(meta_bot.person("Anna"), card, "Totta kai, tässä viesti.", button="private_reply")
    # Once the permission is granted (the scripted failures run out) the queued message goes out.
    await graph.wait_for("POST", rf"/{PAGE}/messages", count=3)
    await card.wait_for(lambda c: "✅ Private message by <@UANNA>" in c.text)
    assert [m["text"] for m in graph.private_messages("1_501")] == ["Totta kai, tässä viesti."]
    await meta_bot.idle()
    (alert,) = meta.ops_alerts()
    assert "grant pages_messaging" in alert


async def test_rate_limits_and_server_errors_are_retried(meta_bot: TestBot, meta: Meta, graph: FakeGraph) -> None:
    anna = meta_bot.person("Anna")
    await meta.facebook(meta.fb_comment("1_501", "Ensimmäinen"))
    throttled = await meta_bot.next_card()
    await meta.facebook(meta.fb_comment("1_601", "Toinen", who=EERO))
    unavailable = await meta_bot.next_card()
    graph.fail_next("POST", r"/1_501/comments", code=4, times=1)  # application request limit
    graph.fail_next("POST", r"/1_601/comments", code=2, http_status=503, times=2)
    await meta_bot.reply(anna, throttled, "Vastaus yksi")
    await meta_bot.reply(anna, unavailable, "Vastaus kaksi")
    assert [c.status for c in await graph.wait_for("POST", r"/1_501/comments", count=2)] == [400, 200]
    assert [c.status for c in await graph.wait_for("POST", r"/1_601/comments", count=3)] == [503, 503, 200]
    for card in (throttled, unavailable):
        await card.wait_for(lambda c: "✅ Reply by <@UANNA>" in c.text)
    assert [r["message"] for r in graph.comment_replies("1_501")] == ["Vastaus yksi"]
    assert [r["message"] for r in graph.comment_replies("1_601")] == ["Vastaus kaksi"]
    await meta_bot.idle()
    assert meta.ops_alerts() == []


async def test_a_reply_whose_answer_comes_too_late_is_found_on_facebook_not_posted_again(
    fake_slack: FakeSlack, database_url: str, graph: FakeGraph
) -> None:
    # Meta took the reply but answered after the client's timeout. Retrying the POST posted the
    # same public reply again on every attempt (three times, and the card said it failed).
    config = meta_config(graph_api_url=graph.base_url, timeout_seconds=1)
    async with TestBot(fake_slack, database_url, config=config) as bot:
        meta = Meta(bot, graph)
        await meta.facebook(meta.fb_comment("1_501", "Onko kauppa auki?"))
        card = await bot.next_card()
        graph.delay_answers("POST", r"/1_501/comments$", seconds=2.5, times=5)
        await bot.reply(bot.person("Anna"), card, "Kyllä, 10–16.")
        await card.wait_for(lambda c: "✅ Reply by <@UANNA>" in c.text, timeout=15)
        await bot.idle()
    assert [r["message"] for r in graph.comment_replies("1_501")] == ["Kyllä, 10–16."]
    assert len(graph.calls_to("POST", r"/1_501/comments$")) == 1
