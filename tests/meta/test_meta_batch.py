"""Large and mixed Meta webhook batches: stored whole, each comment once, in few transactions and Graph reads."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from meta_world import AINO, EERO, PAGE, Meta, meta_config
from sqlalchemy import event, func, select

from chatops.models import Conversation, Message, OutboxJob
from chatops.testing.bot import TestBot
from chatops.testing.fake_slack import FakeSlack
from chatops_plugins.graph_api.testing import FakeGraph, facebook_feed_entry


@contextmanager
def counting_transactions(bot: TestBot) -> Iterator[list[int]]:
    """Count the database transactions begun inside the block (reads and writes)."""
    assert bot.app is not None
    engine = bot.app.db.engine.sync_engine
    counted = [0]

    def begun(_conn: Any) -> None:
        counted[0] += 1

    event.listen(engine, "begin", begun)
    try:
        yield counted
    finally:
        event.remove(engine, "begin", begun)


async def _counts(bot: TestBot) -> tuple[int, int, int]:
    assert bot.app is not None
    async with bot.app.db.read() as session:
        conversations = await session.scalar(select(func.count(Conversation.id)))
        messages = await session.scalar(select(func.count(Message.id)))
        distinct = await session.scalar(select(func.count(func.distinct(Message.external_id))))
    return int(conversations or 0), int(messages or 0), int(distinct or 0)


async def test_a_batch_of_400_entries_is_stored_whole_in_few_transactions_and_graph_reads(
    fake_slack: FakeSlack, database_url: str, graph: FakeGraph
) -> None:
    posts = [f"{PAGE}_{n}" for n in range(2, 42)]  # 40 posts, ten comments on each
    for n, post in enumerate(posts):
        graph.add_post(post, f"Post {n}")
    # Delivery off: only the webhook's own transactions are counted.
    async with TestBot(
        fake_slack, database_url, config=meta_config(graph_api_url=graph.base_url), deliver=False
    ) as bot:
        meta = Meta(bot, graph)
        entries = [
            facebook_feed_entry(
                PAGE, meta.fb_comment(f"{posts[i % 40]}_{7000 + i}", f"Comment {i}", post_id=posts[i % 40])
            )
            for i in range(400)
        ]
        reads_before = len(graph.calls_to("GET", r"/.*"))
        with counting_transactions(bot) as transactions:
            answer = await meta.facebook(*entries)
        reads = len(graph.calls_to("GET", r"/.*")) - reads_before
        assert answer == {"received": 400, "stored": 400, "duplicates": 0, "updated": 0, "ignored": 0}
        # One read per post plus the Page's name; the old code did the same reads one after another.
        assert reads <= 41
        # The old code wrote each comment in a transaction of its own (400 and more).
        assert transactions[0] <= 5
        assert await _counts(bot) == (400, 400, 400)
        # Delivered again by Meta: all duplicates, nothing new.
        again = await meta.facebook(*entries)
        assert again["duplicates"] == 400
        assert await _counts(bot) == (400, 400, 400)
        assert bot.app is not None
        async with bot.app.db.read() as session:
            jobs = await session.scalar(select(func.count(OutboxJob.id)))
        assert jobs == 400


async def test_a_mixed_batch_is_stored_as_if_its_changes_came_one_by_one(meta_bot: TestBot, meta: Meta) -> None:
    await meta.facebook(meta.fb_comment("1_800", "Earlier question"))
    earlier = await meta_bot.next_card()
    first = meta.fb_comment("1_801", "New question")
    answer = await meta.facebook(
        first,
        meta.fb_comment("1_802", "Same here", who=EERO, parent_id="1_801"),  # joins the new thread
        first,  # Meta repeats itself
        meta.fb_comment("1_803", "Follow-up on the earlier one", parent_id="1_800"),
        meta.fb_comment("1_800", "Earlier question"),  # already stored
        meta.fb_comment("1_801", "New question (edited)", verb="edited"),
        meta.fb_comment("1_804", "x", who=AINO, verb="remove"),  # never seen: ignored
        meta.page_comment("1_805", "Thanks, we'll check", parent_id="1_800"),
    )
    assert answer == {"received": 8, "stored": 4, "duplicates": 2, "updated": 1, "ignored": 1}
    card = await meta_bot.next_card()
    await card.wait_for(lambda c: "Same here" in c.thread_text())
    await earlier.wait_for(lambda c: "Follow-up on the earlier one" in c.thread_text())
    await meta_bot.idle()
    assert len(meta_bot.cards()) == 2
    assert "New question (edited)" in card.text + card.thread_text()
    assert await _counts(meta_bot) == (2, 5, 5)


async def test_a_comment_known_in_another_thread_stays_where_it_is_in_a_batch(meta_bot: TestBot, meta: Meta) -> None:
    await meta.facebook(meta.fb_comment("1_900", "Top-level"))
    await meta_bot.next_card()
    await meta.facebook(meta.fb_comment("1_901", "Reply", parent_id="1_900"))
    # Meta now names no parent for 1_901: it would start a thread of its own, but it is already stored.
    moved = meta.fb_comment("1_901", "Reply")
    answer = await meta.facebook(moved, meta.fb_comment("1_902", "Brand new"))
    assert answer["duplicates"] == 1 and answer["stored"] == 1
    await meta_bot.next_card()
    await meta_bot.idle()
    assert len(meta_bot.cards()) == 2
    assert meta_bot.app is not None
    async with meta_bot.app.db.read() as session:
        threads = sorted((await session.scalars(select(Conversation.thread_id))).all())
    assert threads == ["1_900", "1_902"]
