"""Hostile Slack and database during the scheduled post: failures, lost answers, a locked database (both databases).

Whatever Slack does to the post job (500, 429, an answer lost after the message was posted),
the managers get one digest and one chart; a tick that cannot write claims nothing, and the
next minute's tick posts it once.
"""

from __future__ import annotations

import contextlib
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from digest_kit import MANAGERS, Data, DigestBot, clock_of, digests_of_bot

from chatops.models import OutboxJob
from chatops.testing.bot import TestBot
from chatops.testing.outages import write_lock_held_elsewhere
from chatops_plugins.digest import schedule, tables

TUESDAY_0800 = datetime(2026, 12, 1, 6, 0, tzinfo=UTC)


def digests(bot: TestBot) -> list[dict[str, Any]]:
    return [m for m in bot.slack.top_level_messages(MANAGERS) if not m.get("upload")]


def charts(bot: TestBot) -> list[dict[str, Any]]:
    return [bot.slack.file(f["id"]) for m in bot.slack.top_level_messages(MANAGERS) for f in m.get("files") or []]


async def monday(bot: TestBot) -> None:
    assert bot.app is not None
    data = Data(bot.app.db)
    one = await data.conversation(datetime(2026, 11, 30, 8, 0, tzinfo=UTC))
    await data.reply(one, datetime(2026, 11, 30, 8, 20, tzinfo=UTC))


async def due_now(bot: TestBot) -> None:
    clock_of(bot).set(TUESDAY_0800)
    await schedule.tick(digests_of_bot(bot))
    await bot.idle(timeout=30)


async def test_a_post_refused_with_500_then_429_is_posted_once_with_one_chart(digest_bot: DigestBot) -> None:
    async with digest_bot(now=TUESDAY_0800 - timedelta(hours=1), weekly_on="") as bot:
        await monday(bot)
        bot.slack.fail_next("chat.postMessage", status=500, error="internal_error")
        bot.slack.fail_next("chat.postMessage", status=429, retry_after=1)
        await due_now(bot)
        assert len(digests(bot)) == 1
        assert len(charts(bot)) == 1


async def test_a_post_whose_answer_was_lost_is_posted_once_with_one_chart(digest_bot: DigestBot) -> None:
    async with digest_bot(now=TUESDAY_0800 - timedelta(hours=1), weekly_on="") as bot:
        await monday(bot)
        bot.slack.lose_answers("chat.postMessage", how="drop", times=1)
        await due_now(bot)
        assert len(digests(bot)) == 1
        assert len(charts(bot)) == 1


@pytest.mark.xfail(
    strict=True,
    reason="PluginJob.upload is not reconciled: a chart upload whose answer was lost is uploaded again on retry",
)
async def test_a_chart_upload_whose_answer_was_lost_is_shared_once(digest_bot: DigestBot) -> None:
    async with digest_bot(now=TUESDAY_0800 - timedelta(hours=1), weekly_on="") as bot:
        await monday(bot)
        bot.slack.lose_answers("files.completeUploadExternal", how="500", times=1)
        await due_now(bot)
        assert len(digests(bot)) == 1
        assert len(charts(bot)) == 1, "the managers' channel shows the chart twice"


async def test_a_tick_that_cannot_write_claims_nothing_and_the_next_one_posts_once(
    digest_bot: DigestBot, database_url: str
) -> None:
    async with digest_bot(now=TUESDAY_0800 - timedelta(hours=1), weekly_on="") as bot:
        await monday(bot)
        assert bot.app is not None
        clock_of(bot).set(TUESDAY_0800)
        async with write_lock_held_elsewhere(database_url):
            # The minute job's runner logs what a tick raises; what matters is what is stored.
            with contextlib.suppress(Exception):
                await schedule.tick(digests_of_bot(bot))
        async with bot.app.db.read() as session:
            claimed = (await session.execute(sa.select(tables.runs.c.kind, tables.runs.c.outbox_id))).all()
            jobs = await session.scalar(sa.select(sa.func.count()).select_from(OutboxJob))
        # All or nothing: either no claim and no job, or a claim with its job.
        assert (claimed == [] and not jobs) or (len(claimed) == 1 and claimed[0][1] is not None)
        clock_of(bot).advance(minutes=1)
        await schedule.tick(digests_of_bot(bot))
        await bot.idle(timeout=30)
        assert len(digests(bot)) == 1
        async with bot.app.db.read() as session:
            assert await session.scalar(sa.select(sa.func.count()).select_from(tables.runs)) == 1
