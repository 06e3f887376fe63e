"""Facebook Page comments arrive through the signed webhook and become cards; edits, removals, the Page's
own comments, duplicates and batches behave as the team expects; bad requests store nothing."""

from __future__ import annotations

from meta_world import (
    AINO,
    APP_SECRET,
    EERO,
    PAGE,
    PAGE_NAME,
    POST,
    VERIFY_TOKEN,
    Meta,
    audit_actions,
)

from chatops.testing.bot import TestBot
from chatops_plugins.graph_api.testing import (
    FakeGraph,
    facebook_comment_change,
    facebook_feed_entry,
    facebook_feed_payload,
    signed_webhook,
)

# -------------------------------------------------------------------------------------- handshake


async def test_subscription_handshake_echoes_challenge_only_for_our_verify_token(meta_bot: TestBot) -> None:
    assert meta_bot.http is not None
    for path in ("/webhooks/facebook", "/webhooks/instagram"):
        params = {"hub.mode": "subscribe", "hub.challenge": "1158201444", "hub.verify_token": VERIFY_TOKEN}
        ok = await meta_bot.http.get(path, params=params)
        assert ok.status_code == 200
        assert ok.text == "1158201444"
        wrong = await meta_bot.http.get(path, params={**params, "hub.verify_token": "guess"})
        assert wrong.status_code == 403
        assert "1158201444" not in wrong.text
        no_mode = await meta_bot.http.get(path, params={k: v for k, v in params.items() if k != "hub.mode"})
        assert no_mode.status_code == 403


# ------------------------------------------------------------------------------------- new comments


async def test_new_comment_becomes_a_card_with_author_post_and_actions(meta_bot: TestBot, meta: Meta) -> None:
    answer = await meta.facebook(meta.fb_comment("1_501", "Onko tämä gluteeniton?"))
    assert answer["stored"] == 1
    card = await meta_bot.next_card()
    text = card.text
    assert "Onko tämä gluteeniton?" in text
    # Who wrote it, with a profile link, and the post it is about (first line only), on the Page.
    assert f"<https://www.facebook.com/{AINO[0]}|{AINO[1]}>" in text
    assert "On: <https://www.facebook.com/1000/posts/1|Uusi kanelipulla on täällä! 🥐>" in text
    assert "Tule maistamaan" not in text
    assert f"*Facebook* · {PAGE_NAME}" in text
    assert {"reply", "private_reply", "hide", "open"} <= set(card.buttons)
    assert card.buttons["open"]["url"] == "https://www.facebook.com/1000/posts/1?comment_id=501"
    # Deliberately no Delete: criticism is answered in public.
    assert not {"delete", "remove"} & set(card.buttons)


async def test_reply_to_a_comment_threads_under_the_parent_card(meta_bot: TestBot, meta: Meta) -> None:
    await meta.facebook(meta.fb_comment("1_501", "Onko tämä gluteeniton?"))
    card = await meta_bot.next_card()
    await meta.facebook(meta.fb_comment("1_502", "Sama kysymys, entä laktoositon?", who=EERO, parent_id="1_501"))
    await card.wait_for(lambda c: "Sama kysymys, entä laktoositon?" in c.thread_text())
    assert f"{EERO[1]} wrote" in card.thread_text()
    await meta_bot.idle()
    assert len(meta_bot.cards()) == 1
    assert "2 messages in the thread" in card.text


async def test_team_reply_reaches_facebook_and_its_webhook_echo_is_not_a_second_answer(
    meta_bot: TestBot, meta: Meta, graph: FakeGraph
) -> None:
    anna = meta_bot.person("Anna")
    await meta.facebook(meta.fb_comment("1_501", "Onko tämä gluteeniton?"))
    card = await meta_bot.next_card()
    await meta_bot.reply(anna, card, "Kyllä on! Tervetuloa maistamaan 😊")
    await graph.wait_for("POST", r"/1_501/comments")
    # What the customer sees on Facebook: the Page's reply under their comment.
    (reply,) = graph.comment_replies("1_501")
    assert reply["message"] == "Kyllä on! Tervetuloa maistamaan 😊"
    assert reply["from"] == {"name": PAGE_NAME, "id": PAGE}
    await card.wait_for(lambda c: "✅ Reply by <@UANNA>" in c.text and "💬 Replied" in c.text)
    await card.wait_for(lambda c: "Reply sent on Facebook by <@UANNA>" in c.thread_text())
    # Meta delivers the Page's own new reply as a webhook too: it is the same answer, not news.
    echo = await meta.facebook(meta.page_comment(reply["id"], reply["message"], parent_id="1_501"))
    assert echo["duplicates"] == 1
    await meta_bot.idle()
    assert "Answered on Facebook" not in card.thread_text()
    assert "reply_sent" in await audit_actions(meta_bot)


async def test_the_pages_own_comments_are_not_customer_messages(meta_bot: TestBot, meta: Meta) -> None:
    # The Page commenting on its own post starts no conversation (and so no loop).
    answer = await meta.facebook(meta.page_comment("1_400", "Tervetuloa kaikki! Kahvi on valmis."))
    assert answer["ignored"] == 1
    await meta.facebook(meta.fb_comment("1_501", "Milloin olette auki sunnuntaina?"))
    card = await meta_bot.next_card()
    # Someone answers directly on Facebook as the Page: the card's thread says so.
    await meta.facebook(meta.page_comment("1_502", "Sunnuntaisin klo 10–16!", parent_id="1_501"))
    await card.wait_for(lambda c: f"Answered on Facebook by {PAGE_NAME}" in c.thread_text())
    assert "Sunnuntaisin klo 10–16!" in card.thread_text()
    await card.wait_for(lambda c: "💬 Replied" in c.text)
    await meta_bot.idle()
    assert len(meta_bot.cards()) == 1
    assert await meta.stored_messages() == 2


# ---------------------------------------------------------------------------------- edits, removals


async def test_edit_shows_the_new_text_and_removal_says_the_author_removed_it(meta_bot: TestBot, meta: Meta) -> None:
    await meta.facebook(meta.fb_comment("1_501", "Paljonko pulla maksaa? 5 €?"))
    card = await meta_bot.next_card()
    answer = await meta.facebook(meta.fb_comment("1_501", "Paljonko pulla maksaa? 4,50 €?", verb="edited"))
    assert answer["updated"] == 1
    await card.wait_for(lambda c: "4,50 €?" in c.text and "✏️ edited" in c.text)
    assert "5 €?" not in card.text
    await card.wait_for(lambda c: "edited their message" in c.thread_text())
    answer = await meta.facebook(meta.fb_comment("1_501", "", verb="remove"))
    assert answer["updated"] == 1
    await card.wait_for(lambda c: "Removed by the author" in c.text)
    await card.wait_for(lambda c: f"{AINO[1]} removed their message" in c.thread_text())
    # Nothing left to answer publicly or hide.
    assert not {"reply", "hide"} & set(card.buttons)
    await meta_bot.idle()
    actions = await audit_actions(meta_bot)
    assert "edited" in actions and "removed" in actions


async def test_duplicates_are_stored_once(meta_bot: TestBot, meta: Meta) -> None:
    payload = facebook_feed_payload(meta.fb_comment("1_501", "Onko tämä gluteeniton?"))
    first = await meta.send("facebook", payload)
    again = await meta.send("facebook", payload)  # Meta retries for 36 hours
    assert first.json()["stored"] == 1
    assert again.json()["duplicates"] == 1
    card = await meta_bot.next_card()
    # An edit whose "add" Meta is still retrying is stored with its current text; the late add is a duplicate.
    answer = await meta.facebook(meta.fb_comment("1_601", "Korjattu kysymys", who=EERO, verb="edited"))
    assert answer["stored"] == 1
    edited_first = await meta_bot.next_card()
    assert "Korjattu kysymys" in edited_first.text
    late_add = await meta.facebook(meta.fb_comment("1_601", "Alkuperäinen kysymys", who=EERO))
    assert late_add["duplicates"] == 1
    await meta_bot.idle()
    assert len(meta_bot.cards()) == 2
    assert card.thread() == [] and edited_first.thread() == []
    assert "Alkuperäinen" not in edited_first.text
    assert await meta.stored_messages() == 2


async def test_every_entry_and_change_of_a_batch_is_handled(meta_bot: TestBot, meta: Meta, graph: FakeGraph) -> None:
    graph.add_post(f"{PAGE}_2", "Lounaslista viikolle 48\nMaanantaina keittoa.")
    first = facebook_feed_entry(
        PAGE,
        meta.fb_comment("1_501", "Onko tämä gluteeniton?"),
        {"field": "feed", "value": {"item": "reaction", "verb": "add", "post_id": POST, "reaction_type": "like"}},
        meta.fb_comment("1_502", "Kiinnostaa myös!", who=EERO, parent_id="1_501"),
    )
    second = facebook_feed_entry(PAGE, meta.fb_comment("2_601", "Onko keitto vegaaninen?", post_id=f"{PAGE}_2"))
    other_page = facebook_feed_entry(
        "2000",
        facebook_comment_change(
            page_id="2000", comment_id="9_1", post_id="2000_9", message="Another Page", from_id="7", from_name="X"
        ),
    )
    answer = await meta.facebook(first, second, other_page)
    assert answer["stored"] == 3
    await meta_bot.idle()
    cards = meta_bot.cards()
    assert len(cards) == 2
    texts = "\n".join(c.text for c in cards)
    assert "Onko tämä gluteeniton?" in texts and "Onko keitto vegaaninen?" in texts
    assert "On: <https://www.facebook.com/1000/posts/2|Lounaslista viikolle 48>" in texts
    assert "Another Page" not in texts
    gluten = next(c for c in cards if "gluteeniton" in c.text)
    assert "Kiinnostaa myös!" in gluten.thread_text()


# ------------------------------------------------------------------------------------- text handling


async def test_emoji_finnish_and_polish_text_arrive_and_leave_intact(
    meta_bot: TestBot, meta: Meta, graph: FakeGraph
) -> None:
    comment = "Zażółć gęślą jaźń 🐍 — äiti ja Åke sanovat: kiitos! 👍🏽 <!channel>"
    await meta.facebook(meta.fb_comment("1_501", comment, who=("5559", "Łukasz Żółw")))
    card = await meta_bot.next_card()
    assert "Zażółć gęślą jaźń 🐍 — äiti ja Åke sanovat: kiitos! 👍🏽 &lt;!channel&gt;" in card.text
    assert "Łukasz Żółw" in card.text
    anna = meta_bot.person("Anna")
    reply = "Dziękujemy, Łukasz! Kiitos äiti ❤️ — Łódź 🇵🇱"
    await meta_bot.reply(anna, card, reply)
    await graph.wait_for("POST", r"/1_501/comments")
    assert [r["message"] for r in graph.comment_replies("1_501")] == [reply]


async def test_ten_thousand_character_comment_is_truncated_on_the_card_with_full_text(
    meta_bot: TestBot, meta: Meta
) -> None:
    text = ("Pitkä palaute äöå łęż 🙂 " * 500)[:10_000]
    assert len(text) == 10_000
    await meta.facebook(meta.fb_comment("1_501", text))
    card = await meta_bot.next_card()
    assert "of 10000 characters" in card.text
    assert "full_text" in card.buttons
    view = await meta_bot.open_modal(meta_bot.person("Anna"), card, "full_text")
    shown = "".join(block["text"]["text"] for block in view["blocks"] if block.get("type") == "section")
    assert shown == text


# -------------------------------------------------------------------------------------- bad requests


async def test_bad_signature_is_rejected_with_401_and_stores_nothing(meta_bot: TestBot, meta: Meta) -> None:
    payload = facebook_feed_payload(meta.fb_comment("1_501", "Onko tämä gluteeniton?"))
    assert (await meta.send("facebook", payload, secret="not-the-app-secret")).status_code == 401
    assert (await meta.send("facebook", payload, secret=None)).status_code == 401
    body, headers = signed_webhook(APP_SECRET, payload)
    tampered = body.replace(b"gluteeniton", b"vegaaninen!")
    assert (await meta.send("facebook", tampered, secret=None, headers=headers)).status_code == 401
    # An Instagram-signed body is not accepted on a header for a different body either.
    assert (await meta.send("instagram", tampered, secret=None, headers=headers)).status_code == 401
    await meta_bot.idle()
    assert meta_bot.cards() == []
    assert await meta.stored_messages() == 0


async def test_malformed_or_oversized_payloads_are_rejected_and_store_nothing(meta_bot: TestBot, meta: Meta) -> None:
    good = meta.fb_comment("1_501", "Onko tämä gluteeniton?")
    no_id = {"field": "feed", "value": {"item": "comment", "verb": "add", "post_id": POST, "message": "x"}}
    cases: list[tuple[bytes | dict, str]] = [
        (b"{not json", "not valid JSON"),
        (b"[]", "body: must be an object"),
        ({"object": "user", "entry": []}, "object: must be 'page'"),
        ({"object": "page"}, "body.entry: is required"),
        ({"object": "page", "entry": {"id": PAGE}}, "body.entry: must be a list"),
        ({"object": "page", "entry": [{"changes": [good]}]}, "entry[0].id: is required"),
        # One bad change spoils the batch: the good one before it is not stored either.
        (facebook_feed_payload(good, no_id), "entry[0].changes[1].value.comment_id: is required"),
        (_with(good, comment_id="../../me/feed"), "comment_id: is not a valid Graph id"),
        (_with(good, **{"from": "Aino"}), "value.from: must be an object"),
        (_with(good, created_time="eilen"), "created_time: is not a date-time"),
        (_with(good, message=["x"]), "value.message: must be a string"),
        ({"object": "page", "entry": [{"id": PAGE, "changes": [{"field": "feed", "value": []}]}]}, "value: must be"),
    ]
    for payload, problem in cases:
        response = await meta.send("facebook", payload)
        assert response.status_code == 400, (payload, response.text)
        assert problem in response.json()["error"], (payload, response.text)
    oversized = await meta.send("facebook", b"{" + b" " * (4 * 1024 * 1024) + b"}")
    assert oversized.status_code == 413
    await meta_bot.idle()
    assert meta_bot.cards() == []
    assert await meta.stored_messages() == 0


def _with(change: dict, **value: object) -> dict:
    """A whole webhook body holding ``change`` with some value fields replaced."""
    changed = {"field": change["field"], "value": {**change["value"], **value}}
    return {"object": "page", "entry": [{"id": PAGE, "time": 0, "changes": [changed]}]}
