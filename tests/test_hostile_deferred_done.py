"""Hostile tests of the delivery pass's deferred "done": a job that went through is marked done
only with the next job's lease or at the end of the pass.

A process killed in between leaves the job pending under a lease that runs out; the next
worker runs it again. What people see must not change: the card, the thread post and the
platform answer each once, the answer shown as sent (not "outcome unknown", whose Retry
would send it twice).
"""

from __future__ import annotations

import asyncio
import contextlib
import copy
from datetime import datetime, timedelta

import pytest
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from chatops.models import Message, OutboxJob, utcnow
from chatops.outbox.worker import OutboxWorker
from chatops.testing.bot import INBOX, CallbackReceiver, TestBot
from chatops.testing.fake_slack import FakeSlack


async def _never_marked(self: OutboxWorker, session: object, done: object) -> None:
    """A deferred "done" that never reaches the database (the process was killed first)."""


async def test_a_worker_killed_before_its_deferred_done_sends_nothing_twice(
    fake_slack: FakeSlack, database_url: str, callback: CallbackReceiver, monkeypatch: pytest.MonkeyPatch
) -> None:
    with monkeypatch.context() as killed:
        killed.setattr(OutboxWorker, "_mark_done", _never_marked)
        async with TestBot(fake_slack, database_url) as first:
            anna = first.person("Anna")
            await first.comment("My order never came", id="c-1", thread_id="t-1", reply_url=callback.url)
            card = await first.next_card()
            await first.reply(anna, card, "Sorry, we are on it")
            await callback.wait_for(1)
            await card.wait_for(lambda c: "✅ Reply by <@UANNA>" in c.text)
            await first.comment("Still nothing", id="c-2", thread_id="t-1", reply_url=callback.url)
            for _ in range(250):  # no idle(): the jobs stay in hand
                if len(fake_slack.thread(card.channel, card.ts)) >= 2:
                    break
                await asyncio.sleep(0.02)
            thread = [m["text"] for m in fake_slack.thread(card.channel, card.ts)]
            assert len(thread) == 2  # the answer shown in the thread, and the follow-up
            assert first.app is not None
            async with first.app.db.read() as session:
                undone = (await session.scalars(select(OutboxJob.kind).where(OutboxJob.status == "pending"))).all()
            assert undone, "every job went through but none is marked done: the crash left them in hand"
            await first.app.delivery.stop()  # "killed": its deferred done never written
            # Every lease the dead worker held runs out.
            async with first.app.db.write() as session:
                await session.execute(update(OutboxJob).values(lease_until=utcnow() - timedelta(seconds=1)))

    async with TestBot(fake_slack, database_url) as second:
        await second.idle()
        assert second.app is not None
        async with second.app.db.read() as session:
            statuses = set((await session.scalars(select(OutboxJob.status))).all())
            answer = await session.scalar(select(Message).where(Message.direction == "outbound"))
        assert statuses == {"done"}
        assert answer is not None and answer.delivery == "sent"
    assert len(callback.received) == 1
    assert len(fake_slack.top_level_messages(INBOX)) == 1
    assert [m["text"] for m in fake_slack.thread(card.channel, card.ts)] == thread
    assert "✅ Reply by <@UANNA>" in card.text and "unknown" not in card.text.lower()


async def test_two_replicas_each_marking_done_the_job_the_other_leases_do_not_deadlock(
    fake_slack: FakeSlack, database_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Replica A finished job X and leases Y; replica B finished Y and leases X (due lists read
    before a priority changed). Each lease transaction marks its own job done first, so the two
    hold crossed row locks; neither may wait on the other's (a deadlock would stop the pass as
    "database unavailable"): each row is still leased in the other's snapshot, so it is skipped."""
    if not database_url.startswith("postgresql"):
        pytest.skip("row locks: SQLite has one writer at a time")
    async with TestBot(fake_slack, database_url, deliver=False) as bot:
        for i in range(2):
            await bot.comment(f"crossed {i}", id=f"crossed-{i}")
        assert bot.app is not None
        a = bot.app.delivery
        b = copy.copy(a)
        b.worker_id = a.worker_id + "-b"
        due = {job.id: job for job in await a._due_jobs()}
        x, y = sorted(due)
        until = utcnow() + timedelta(seconds=60)
        async with bot.app.db.write() as session:
            await session.execute(
                update(OutboxJob).where(OutboxJob.id == x).values(leased_by=a.worker_id, lease_until=until)
            )
            await session.execute(
                update(OutboxJob).where(OutboxJob.id == y).values(leased_by=b.worker_id, lease_until=until)
            )
        a._done, b._done = (x, utcnow()), (y, utcnow())
        both_marked = asyncio.Barrier(2)
        mark_done = OutboxWorker._mark_done

        async def mark_then_meet(self: OutboxWorker, session: AsyncSession, done: tuple[int, datetime] | None) -> None:
            await mark_done(self, session, done)
            if done is not None:  # both hold their own row's lock before either leases
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(both_marked.wait(), 0.5)

        monkeypatch.setattr(OutboxWorker, "_mark_done", mark_then_meet)
        leased = await asyncio.gather(a._lease(due[y]), b._lease(due[x]), return_exceptions=True)
        assert leased == [False, False]  # each job is done, so neither is leased again
        async with bot.app.db.read() as session:
            rows = (await session.execute(select(OutboxJob.status, OutboxJob.leased_by).order_by(OutboxJob.id))).all()
        assert [tuple(r) for r in rows] == [("done", None), ("done", None)]
