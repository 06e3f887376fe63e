"""Instagram comments through the signed webhook: cards, replies, private replies and hiding."""

from __future__ import annotations

from meta_world import IG, IG_USERNAME, LIISA, Meta, audit_actions, meta_config

from chatops.testing.bot import TestBot
from chatops.testing.fake_slack import FakeSlack
from chatops_plugins.graph_api.testing import FakeGraph, facebook_feed_payload, instagram_comment_change

C1 = "17850000000000001"
C2 = "17850000000000002"
C3 = "17850000000000003"
OLLI = ("1784100000000888", "olli.o")


async def test_comment_becomes_a_card_and_reply_and_hide_reach_instagram(
    meta_bot: TestBot, meta: Meta, graph: FakeGraph
) -> None:
    answer = await meta.instagram(meta.ig_comment(C1, "Onko tätä vielä jäljellä? 😍"))
    assert answer["stored"] == 1
    card = await meta_bot.next_card()
    text = card.text
    assert "Onko tätä vielä jäljellä? 😍" in text
    assert f"<https://www.instagram.com/{LIISA[1]}/|{LIISA[1]}>" in text
    assert "On: <https://www.instagram.com/p/17900000000000001/|Pullapäivä ☕>" in text
    assert f"*Instagram* · @{IG_USERNAME}" in text
    assert {"reply", "private_reply", "hide"} <= set(card.buttons)
    await meta_bot.reply(meta_bot.person("Anna"), card, "On vielä, tervetuloa! 🥐")
    await graph.wait_for("POST", rf"/{C1}/replies")
    (reply,) = graph.comment_replies(C1)
    assert reply["text"] == "On vielä, tervetuloa! 🥐"
    assert reply["username"] == IG_USERNAME
    await card.wait_for(lambda c: "✅ Reply by <@UANNA>" in c.text)
    await meta_bot.click(meta_bot.person("Anna"), card, "hide")
    await card.wait_for(lambda c: "Hidden on Instagram" in c.text)
    assert graph.is_hidden(C1)
    (call,) = graph.calls_to("POST", rf"/{C1}")
    assert call.data == {"hide": "true"}
    await meta_bot.idle()
    assert "hidden" in await audit_actions(meta_bot)


async def test_reply_under_a_comment_joins_its_card(meta_bot: TestBot, meta: Meta) -> None:
    await meta.instagram(meta.ig_comment(C1, "Mikä hinta?"))
    card = await meta_bot.next_card()
    await meta.instagram(meta.ig_comment(C2, "Sama kysymys", who=OLLI, parent_id=C1))
    await card.wait_for(lambda c: "Sama kysymys" in c.thread_text())
    await meta_bot.idle()
    assert len(meta_bot.cards()) == 1


async def test_reply_to_a_reply_is_explained_on_the_card(meta_bot: TestBot, meta: Meta, graph: FakeGraph) -> None:
    # The account's own top-level comment starts no card; a customer's reply under it does.
    ignored = await meta.instagram(meta.ig_comment(C1, "Arvonta! Kommentoi alle 🎉", who=(IG, IG_USERNAME)))
    assert ignored["ignored"] == 1
    await meta.instagram(meta.ig_comment(C2, "Minä osallistun!", parent_id=C1))
    card = await meta_bot.next_card()
    assert "reply" not in card.buttons
    assert "Reply not available: Instagram takes public replies only under top-level comments" in card.text
    assert "private_reply" in card.buttons  # a private reply still works
    await meta_bot.reply(meta_bot.person("Anna"), card, "Onnea arvontaan!", button="private_reply")
    await graph.wait_for("POST", rf"/{IG}/messages")
    (message,) = graph.private_messages(C2)
    assert message["text"] == "Onnea arvontaan!"
    assert message["platform"] == "instagram"
    assert message["recipient_id"] == LIISA[0]
    await card.wait_for(lambda c: "Move to DM not available: a private reply was already sent" in c.text)


async def test_batch_duplicates_and_other_fields(meta_bot: TestBot, meta: Meta) -> None:
    first = meta.ig_comment(C1, "Ensimmäinen")
    second = meta.ig_comment(C3, "Toinen", who=OLLI)
    mention = {"field": "mentions", "value": {"comment_id": "1", "media_id": "2"}}
    answer = await meta.instagram(first, mention, second)
    assert answer == {"received": 2, "stored": 2, "duplicates": 0, "updated": 0, "ignored": 0}
    again = await meta.instagram(first, second)
    assert again["duplicates"] == 2
    await meta_bot.idle()
    assert len(meta_bot.cards()) == 2


async def test_bad_requests_store_nothing(meta_bot: TestBot, meta: Meta) -> None:
    change = instagram_comment_change(
        comment_id=C1, media_id="17900000000000001", text="Hei", from_id=LIISA[0], username=LIISA[1]
    )
    payload = {"object": "instagram", "entry": [{"id": IG, "time": 0, "changes": [change]}]}
    assert (await meta.send("instagram", payload, secret="wrong")).status_code == 401
    # A Page payload sent to the Instagram endpoint is refused as malformed.
    wrong_object = await meta.send("instagram", facebook_feed_payload())
    assert wrong_object.status_code == 400
    assert "object: must be 'instagram'" in wrong_object.json()["error"]
    no_media = {**change, "value": {k: v for k, v in change["value"].items() if k != "media"}}
    missing = await meta.send("instagram", {"object": "instagram", "entry": [{"id": IG, "changes": [no_media]}]})
    assert missing.status_code == 400
    assert "entry[0].changes[0].value.media: must be an object" in missing.json()["error"]
    await meta_bot.idle()
    assert meta_bot.cards() == []
    assert await meta.stored_messages() == 0


async def test_a_reply_whose_answer_is_lost_is_not_posted_again_and_says_to_check_instagram(
    fake_slack: FakeSlack, database_url: str, graph: FakeGraph
) -> None:
    # Meta took the reply but its answer came after the client's timeout: each retry posted it again.
    config = meta_config(graph_api_url=graph.base_url, instagram={"timeout_seconds": 1})
    async with TestBot(fake_slack, database_url, config=config) as bot:
        meta = Meta(bot, graph)
        await meta.instagram(meta.ig_comment(C1, "Mikä hinta?"))
        card = await bot.next_card()
        graph.delay_answers("POST", rf"/{C1}/replies$", seconds=2.5, times=5)
        await bot.reply(bot.person("Anna"), card, "12 €")
        await card.wait_for(lambda c: "check Instagram before pressing Retry" in c.text, timeout=15)
        await bot.idle()
    assert [r["text"] for r in graph.comment_replies(C1)] == ["12 €"]
    assert len(graph.calls_to("POST", rf"/{C1}/replies$")) == 1
