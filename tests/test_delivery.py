"""Delivery: paced posts, 429s honoured, failures retried, nothing lost or doubled across restarts."""

from __future__ import annotations

import itertools
from dataclasses import replace

from sqlalchemy import select

from chatops import store as kinds
from chatops.db import DatabaseUnavailable
from chatops.models import OutboxJob
from chatops.outbox import DueJob, JobSlack
from chatops.testing.bot import INBOX, CallbackReceiver, TestBot
from chatops.testing.fake_slack import FakeSlack


async def test_restart_with_pending_outbox_delivers_each_card_exactly_once(
    fake_slack: FakeSlack, database_url: str
) -> None:
    async with TestBot(fake_slack, database_url, deliver=False) as first:
        for i in range(3):
            await first.comment(f"while Slack was away {i}", id=f"away-{i}")
    assert fake_slack.calls_to("chat.postMessage") == []

    async with TestBot(fake_slack, database_url) as second:
        for _ in range(3):
            await second.next_card()
        await second.idle()
    texts = sorted(m["text"] for m in fake_slack.top_level_messages(INBOX))
    assert len(texts) == 3 and all("while Slack was away" in t for t in texts)

    async with TestBot(fake_slack, database_url) as third:
        await third.idle()
    assert len(fake_slack.calls_to("chat.postMessage")) == 3


async def test_a_reply_stored_during_an_outage_is_sent_after_restart(
    fake_slack: FakeSlack, database_url: str, callback: CallbackReceiver
) -> None:
    async with TestBot(fake_slack, database_url) as first:
        anna = first.person("Anna")
        await first.comment("Hello?", reply_url=callback.url)
        card = await first.next_card()
        stored = await first.reply_while_delivery_stopped(anna, card, "Sorry for the wait!")
        assert stored.text == "Sorry for the wait!" and stored.delivery == "pending"
        assert callback.received == []

    async with TestBot(fake_slack, database_url) as second:
        [reply] = await callback.wait_for(1)
        assert reply["text"] == "Sorry for the wait!"
        await card.wait_for(lambda c: "✅ Reply by <@UANNA>" in c.text)
        await second.idle()
    assert len(callback.received) == 1


async def test_posts_are_paced_per_channel_without_tripping_slack(fake_slack: FakeSlack, database_url: str) -> None:
    fake_slack.post_interval = 0.3
    config = {"slack": {"post_interval_seconds": 0.3}}
    async with TestBot(fake_slack, database_url, config=config) as bot:
        for i in range(4):
            await bot.comment(f"burst {i}", id=f"burst-{i}")
        for _ in range(4):
            await bot.next_card()
        await bot.idle()
    posts = [c for c in fake_slack.calls_to("chat.postMessage") if c.ok]
    assert len(posts) == 4
    assert fake_slack.rate_limited == 0
    gaps = [b.at - a.at for a, b in itertools.pairwise(posts)]
    assert min(gaps) >= 0.29


async def test_a_429_is_waited_out_and_the_card_posted_once(bot: TestBot) -> None:
    bot.slack.fail_next("chat.postMessage", status=429, retry_after=1)
    await bot.comment("rate limited")
    card = await bot.next_card(timeout=10)
    await bot.idle()
    attempts = bot.slack.calls_to("chat.postMessage")
    assert [c.status for c in attempts] == [429, 200]
    assert attempts[1].at - attempts[0].at >= 0.95
    assert len(bot.cards()) == 1 and "rate limited" in card.text


async def test_slack_errors_are_retried_with_backoff(bot: TestBot) -> None:
    anna = bot.person("Anna")
    await bot.comment("update me")
    card = await bot.next_card()
    bot.slack.fail_next("chat.update", error="internal_error", times=2)
    await bot.click(anna, card, "claim")
    await card.wait_for(lambda c: "Claimed by <@UANNA>" in c.text)
    updates = bot.slack.calls_to("chat.update")
    assert [c.error for c in updates][:3] == ["internal_error", "internal_error", None]
    # Backoff doubles from 0.05 s (±10% jitter): the second wait is longer than the first.
    first_wait, second_wait = updates[1].at - updates[0].at, updates[2].at - updates[1].at
    assert first_wait >= 0.045 and second_wait >= 0.09


async def test_a_job_that_keeps_failing_is_given_up_and_recorded(fake_slack: FakeSlack, database_url: str) -> None:
    config = {"delivery": {"max_attempts": 2}}
    async with TestBot(fake_slack, database_url, config=config) as bot:
        fake_slack.fail_next("chat.postMessage", error="channel_not_found", times=5)
        await bot.comment("nowhere to go")
        await bot.idle()
        assert bot.app is not None
        async with bot.app.db.read() as session:
            job = await session.scalar(select(OutboxJob).where(OutboxJob.kind == "card.post"))
        assert job is not None
        assert (job.status, job.attempts, job.last_error) == ("dead", 2, "Slack: channel_not_found")


async def test_updates_wait_for_the_card_to_exist(bot: TestBot) -> None:
    """A follow-up that arrives before its card is posted is threaded under it, not lost."""
    bot.slack.fail_next("chat.postMessage", status=429, retry_after=1)
    await bot.comment("first", id="a1", thread_id="th")
    await bot.comment("second", id="a2", thread_id="th")
    card = await bot.next_card(timeout=10)
    await bot.idle()
    assert "second" in card.thread_text()
    assert len(bot.cards()) == 1


async def test_a_job_that_meets_a_database_outage_counts_no_attempt_and_runs_when_it_is_back(
    fake_slack: FakeSlack, database_url: str
) -> None:
    async with TestBot(fake_slack, database_url) as bot:
        assert bot.app is not None
        registry = bot.app.delivery.kinds
        post_card = registry.kinds[kinds.POST_CARD]
        outages = []

        async def post_card_after_an_outage(job: DueJob, slack: JobSlack) -> None:
            if not outages:
                outages.append(job.id)
                raise DatabaseUnavailable("database is locked")
            await post_card.handler(job, slack)

        registry.kinds[kinds.POST_CARD] = replace(post_card, handler=post_card_after_an_outage)
        await bot.comment("written while the database was locked")
        card = await bot.next_card()
        assert "written while the database was locked" in card.text
        await bot.idle()
        async with bot.app.db.read() as session:
            job = await session.get_one(OutboxJob, outages[0])
        assert (job.status, job.attempts, job.last_error) == ("done", 0, None)
