"""Polling mode: a pass reads recent posts' comments since a stored cursor; with webhooks too, nothing doubles."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from meta_world import AINO, EERO, IG, LIISA, MEDIA, PAGE, PAGE_NAME, POST, TOKEN, Meta

from chatops.testing.bot import TestBot
from chatops_plugins.graph_api.testing import FakeGraph


def _ago(**delta: float) -> datetime:
    return datetime.now(UTC).replace(microsecond=0) - timedelta(**delta)


async def test_polling_pass_creates_cards_threads_replies_and_stores_its_cursor(
    meta_bot: TestBot, meta: Meta, graph: FakeGraph
) -> None:
    assert meta_bot.app is not None
    graph.add_comment(
        "1_499", post_id=POST, message="Liian vanha", from_id=AINO[0], from_name=AINO[1], created_time=_ago(days=2)
    )
    graph.add_comment(
        "1_501", post_id=POST, message="Onko auki?", from_id=AINO[0], from_name=AINO[1], created_time=_ago(hours=2)
    )
    graph.add_comment(
        "1_502",
        post_id=POST,
        message="Minäkin kysyn",
        from_id=EERO[0],
        from_name=EERO[1],
        parent_id="1_501",
        created_time=_ago(hours=1),
    )
    newest = _ago(minutes=30)
    graph.add_comment(
        "1_503",
        post_id=POST,
        message="Auki klo 8–20!",
        from_id=PAGE,
        from_name=PAGE_NAME,
        parent_id="1_501",
        created_time=newest,
    )
    assert await meta.poll("facebook")
    card = await meta_bot.next_card()
    assert "Onko auki?" in card.text
    assert "On: <https://www.facebook.com/1000/posts/1|Uusi kanelipulla on täällä! 🥐>" in card.text
    await card.wait_for(lambda c: "Minäkin kysyn" in c.thread_text())
    await card.wait_for(lambda c: f"Answered on Facebook by {PAGE_NAME}" in c.thread_text())
    await meta_bot.idle()
    # The first pass looks back 24 hours only: the two-day-old comment is history, not work.
    assert len(meta_bot.cards()) == 1
    assert "Liian vanha" not in card.text + card.thread_text()
    cursor = await meta_bot.app.store.get_state("facebook", f"poll_cursor:{PAGE}")
    assert cursor is not None and datetime.fromisoformat(cursor) == newest
    (comments_call, *_) = graph.calls_to("GET", rf"/{POST}/comments")
    assert comments_call.params["filter"] == "stream"

    # The next pass reads from the cursor and stores nothing twice; a new comment gets its card.
    assert await meta.poll("facebook")
    await meta_bot.idle()
    assert await meta.stored_messages() == 3
    graph.add_comment("1_504", post_id=POST, message="Uusi asia", from_id=EERO[0], from_name=EERO[1])
    assert await meta.poll("facebook")
    second = await meta_bot.next_card()
    assert "Uusi asia" in second.text
    await meta_bot.idle()
    assert len(meta_bot.cards()) == 2


async def test_webhook_and_polling_together_never_double_ingest(
    meta_bot: TestBot, meta: Meta, graph: FakeGraph
) -> None:
    # Webhook first, then a pass that finds the same comment.
    await meta.facebook(meta.fb_comment("1_501", "Webhook ehti ensin"))
    card = await meta_bot.next_card()
    assert await meta.poll("facebook")
    # Polling first, then Meta's (late) webhook for the same comment.
    graph.add_comment("1_601", post_id=POST, message="Pollaus ehti ensin", from_id=EERO[0], from_name=EERO[1])
    assert await meta.poll("facebook")
    other = await meta_bot.next_card()
    late = await meta.facebook(meta.fb_comment("1_601", "Pollaus ehti ensin", who=EERO))
    assert late["duplicates"] == 1
    await meta_bot.idle()
    assert len(meta_bot.cards()) == 2
    assert card.thread() == [] and other.thread() == []
    assert await meta.stored_messages() == 2


async def test_the_teams_own_reply_found_by_polling_is_not_a_second_answer(
    meta_bot: TestBot, meta: Meta, graph: FakeGraph
) -> None:
    graph.add_comment("1_501", post_id=POST, message="Kysymys", from_id=AINO[0], from_name=AINO[1])
    assert await meta.poll("facebook")
    card = await meta_bot.next_card()
    await meta_bot.reply(meta_bot.person("Anna"), card, "Vastaus Slackista")
    await card.wait_for(lambda c: "✅ Reply by <@UANNA>" in c.text)
    assert await meta.poll("facebook")  # the Page's reply is now among the post's comments
    await meta_bot.idle()
    assert "Answered on Facebook" not in card.thread_text()
    assert await meta.stored_messages() == 2


async def test_polling_with_a_dead_token_alerts_once_and_keeps_its_cursor(
    meta_bot: TestBot, meta: Meta, graph: FakeGraph
) -> None:
    assert meta_bot.app is not None
    graph.add_comment("1_501", post_id=POST, message="Kysymys", from_id=AINO[0], from_name=AINO[1])
    graph.access_token = "EAAG-someone-else"
    await meta.poll("facebook")
    await meta.poll("facebook")
    await meta_bot.idle()
    (alert,) = meta.ops_alerts()
    assert "Facebook needs an admin" in alert and "page_access_token" in alert
    assert await meta_bot.app.store.get_state("facebook", f"poll_cursor:{PAGE}") is None
    assert meta_bot.cards() == []
    # Once Meta accepts the token again, the next pass picks up what was missed.
    graph.access_token = TOKEN
    assert await meta.poll("facebook")
    card = await meta_bot.next_card()
    assert "Kysymys" in card.text


async def test_instagram_polling_reads_media_comments(meta_bot: TestBot, meta: Meta, graph: FakeGraph) -> None:
    graph.add_ig_comment(
        "17800000000000001", media_id=MEDIA, text="Paljonko maksaa?", from_id=LIISA[0], username=LIISA[1]
    )
    graph.add_ig_comment(
        "17800000000000002",
        media_id=MEDIA,
        text="5 €, tervetuloa!",
        from_id=IG,
        username="kahvila.aurinko",
        parent_id="17800000000000001",
    )
    assert await meta.poll("instagram")
    card = await meta_bot.next_card()
    assert "Paljonko maksaa?" in card.text
    assert "On: <https://www.instagram.com/p/17900000000000001/|Pullapäivä ☕>" in card.text
    await card.wait_for(lambda c: "Answered on Instagram by kahvila.aurinko" in c.thread_text())
    assert await meta.poll("instagram")
    await meta_bot.idle()
    assert len(meta_bot.cards()) == 1
    assert await meta.stored_messages() == 2
