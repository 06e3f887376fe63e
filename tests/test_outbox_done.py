"""A delivery pass marks each job done in the same transaction as the next job's lease (one write less per job).

What people see must not change: every card posted once, every job done, none left leased,
also when a job in the pass fails, when the bot stops right after a job, and across a restart.
"""

from __future__ import annotations

from sqlalchemy import select

from chatops.models import OutboxJob
from chatops.testing.bot import INBOX, TestBot
from chatops.testing.fake_slack import FakeSlack


async def outbox(bot: TestBot) -> list[tuple[str, str | None]]:
    """Every job's status and lease holder."""
    assert bot.app is not None
    async with bot.app.db.read() as session:
        return [(j.status, j.leased_by) for j in (await session.scalars(select(OutboxJob))).all()]


async def test_a_pass_of_many_cards_posts_each_once_and_leaves_every_job_done(
    fake_slack: FakeSlack, database_url: str
) -> None:
    async with TestBot(fake_slack, database_url, deliver=False) as first:
        for i in range(6):
            await first.comment(f"queued {i}", id=f"queued-{i}")
    # One worker finds all six due at once: they go through in one pass.
    async with TestBot(fake_slack, database_url) as bot:
        for _ in range(6):
            await bot.next_card()
        await bot.idle()
        assert await outbox(bot) == [("done", None)] * 6
    assert sorted(m["text"].split(": ")[-1] for m in fake_slack.top_level_messages(INBOX)) == [
        f"queued {i}" for i in range(6)
    ]
    assert len(fake_slack.calls_to("chat.postMessage")) == 6


async def test_a_pass_where_one_post_fails_and_one_goes_through_ends_with_both_done_and_posted_once(
    fake_slack: FakeSlack, database_url: str
) -> None:
    async with TestBot(fake_slack, database_url, deliver=False) as first:
        for i in range(2):
            await first.comment(f"pair {i}", id=f"pair-{i}")
    fake_slack.fail_next("chat.postMessage", error="internal_error", times=1)
    async with TestBot(fake_slack, database_url) as bot:
        await bot.next_card()
        await bot.next_card()
        await bot.idle()
        assert await outbox(bot) == [("done", None)] * 2
    posted = [c for c in fake_slack.calls_to("chat.postMessage") if c.error is None]
    assert len(posted) == 2


async def test_a_bot_stopped_right_after_a_card_went_out_does_not_post_it_again(
    fake_slack: FakeSlack, database_url: str
) -> None:
    async with TestBot(fake_slack, database_url) as bot:
        await bot.comment("just in time")
        await bot.next_card()
    # Stopped at once: the job went through, and it is marked done by the time the bot is down.
    async with TestBot(fake_slack, database_url) as again:
        await again.idle()
        assert await outbox(again) == [("done", None)]
    assert len(fake_slack.calls_to("chat.postMessage")) == 1
