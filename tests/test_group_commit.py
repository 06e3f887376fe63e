"""Group commit: webhooks arriving together share a transaction, and each sender still gets the truth.

A 201 means the message is committed (another connection sees it the moment the answer
arrives); a repeat is a duplicate of the one stored, however the requests were grouped; a
thread's follow-ups stay in order; one message the database refuses fails alone; an outage
in the middle of a group answers every member 503 and leaves nothing of the group behind.
"""

from __future__ import annotations

import asyncio
import logging
import uuid
from collections import Counter
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select, text
from sqlalchemy.ext.asyncio import create_async_engine

from chatops.config import normalise_database_url
from chatops.hookspecs import hookimpl
from chatops.models import Conversation, Message
from chatops.sources import InboundMessage
from chatops.testing.bot import TestBot
from chatops.testing.fake_slack import FakeSlack
from chatops.testing.outages import write_lock_held_elsewhere

PROPERTY_EXAMPLES = 12


async def _counts(bot: TestBot) -> tuple[int, int]:
    """Conversations and messages stored."""
    assert bot.app is not None
    async with bot.app.db.read() as session:
        conversations = await session.scalar(select(func.count()).select_from(Conversation))
        messages = await session.scalar(select(func.count()).select_from(Message))
    return int(conversations or 0), int(messages or 0)


async def _stored_ids(bot: TestBot, prefix: str = "") -> list[str]:
    """External ids of the stored customers' messages (starting with ``prefix``), in the order stored."""
    assert bot.app is not None
    async with bot.app.db.read() as session:
        found = await session.scalars(
            select(Message.external_id)
            .where(Message.direction == "inbound", Message.external_id.startswith(prefix))
            .order_by(Message.id)
        )
        return [i for i in found if i is not None]


async def test_a_burst_with_repeats_and_follow_ups_is_stored_once_and_each_201_is_already_committed(
    bot: TestBot, database_url: str
) -> None:
    # Eight new threads, each with a follow-up, sent all at once; three messages sent twice more.
    payloads = []
    for n in range(8):
        payloads.append(bot.comment_payload(f"Order {n} is late", id=f"t{n}-a", thread_id=f"thread-{n}"))
        payloads.append(bot.comment_payload(f"Still waiting for order {n}", id=f"t{n}-b", thread_id=f"thread-{n}"))
    payloads += [payloads[0], payloads[3], payloads[3]]
    # An observer on a connection of its own: what a 201 promises must be visible to it already.
    observer = create_async_engine(normalise_database_url(database_url))

    async def send(payload: dict[str, Any]) -> tuple[dict[str, Any], httpx.Response, bool]:
        response = await bot.webhook(payload)
        async with observer.connect() as conn:
            visible = await conn.scalar(
                text("SELECT count(*) FROM messages WHERE external_id = :id"), {"id": payload["id"]}
            )
        return payload, response, visible == 1

    try:
        answers = await asyncio.gather(*(send(p) for p in payloads))
    finally:
        await observer.dispose()
    statuses = Counter(response.status_code for _, response, _ in answers)
    assert statuses == {201: 16, 200: 3}, statuses
    assert all(visible for _, _, visible in answers), "a sender heard 201 before its message was committed"
    conversation_of = {p["id"]: r.json()["conversation_id"] for p, r, _ in answers if r.status_code == 201}
    for payload, response, _ in answers:
        if response.status_code == 200:
            assert response.json() == {"status": "duplicate", "conversation_id": conversation_of[payload["id"]]}
    for n in range(8):  # a thread's follow-up went to its thread's conversation, whatever group it was in
        assert conversation_of[f"t{n}-a"] == conversation_of[f"t{n}-b"]
    assert await _counts(bot) == (8, 16)
    for _ in range(8):
        await bot.next_card()
    await bot.idle()
    assert len(bot.cards()) == 8  # one card per thread, its follow-up in the card's thread
    for n in range(8):
        (card,) = [c for c in bot.cards() if f"Order {n} is late" in c.text]
        assert f"Still waiting for order {n}" in card.thread_text()


async def test_follow_ups_sent_one_after_another_are_stored_in_order(bot: TestBot) -> None:
    # Each waits for its answer, so each joins a later group than the one before.
    for n in range(5):
        response = await bot.webhook(bot.comment_payload(f"part {n}", id=f"ordered-{n}", thread_id="one-thread"))
        assert response.status_code == 201
    assert await _stored_ids(bot, "ordered-") == [f"ordered-{n}" for n in range(5)]
    card = await bot.next_card()
    await card.wait_for(lambda c: len(c.thread()) == 4)
    assert "part 0" in card.text
    thread = card.thread_text()
    assert [thread.index(f"part {n}") for n in range(1, 5)] == sorted(thread.index(f"part {n}") for n in range(1, 5))


class Unstorable:
    """A value no JSON column can hold: what a buggy source plugin might put in a message's ``extra``."""


class BuggySource:
    """A plugin that stores messages through its context, as a source plugin does (one of them bad)."""

    ctx: Any = None

    @hookimpl
    def chatops_startup(self, ctx: Any) -> None:
        """Keep the context, for the test to ingest through."""
        self.ctx = ctx


async def test_a_message_the_database_refuses_fails_alone_and_the_rest_of_its_group_is_stored(
    fake_slack: FakeSlack, database_url: str
) -> None:
    plugin = BuggySource()
    config = {"plugins": {"enabled": ["webhook", "buggy"]}}
    async with TestBot(fake_slack, database_url, config=config, extra_plugins={"buggy": plugin}) as bot:
        payloads = [bot.comment_payload(f"Fine comment {n}", id=f"fine-{n}") for n in range(10)]
        bad = InboundMessage(
            source="webhook", external_id="bad", thread_id="bad", text="Unstorable", extra={"x": Unstorable()}
        )
        said: list[str] = []
        heard = logging.Handler(logging.WARNING)
        heard.emit = lambda record: said.append(record.getMessage())  # type: ignore[method-assign]
        logging.getLogger("chatops.group_commit").addHandler(heard)
        # Held for a moment: the first arrivals' group waits for the lock, and everything arriving
        # meanwhile (the bad message among them) queues up to be written as the next group.
        async with write_lock_held_elsewhere(database_url):
            sent = [asyncio.create_task(bot.webhook(p)) for p in payloads[:5]]
            await asyncio.sleep(0.2)
            refused = asyncio.create_task(plugin.ctx.ingest(bad))
            sent += [asyncio.create_task(bot.webhook(p)) for p in payloads[5:]]
            await asyncio.sleep(0.3)
        answers = await asyncio.gather(*sent)
        with pytest.raises(Exception, match="not JSON serializable"):
            await refused
        assert [r.status_code for r in answers] == [201] * 10
        logging.getLogger("chatops.group_commit").removeHandler(heard)
        if database_url.startswith("sqlite"):  # one writer: the queue behind the held lock is surely one group
            assert any("writing each alone" in line for line in said), said  # it was a group, and it was split
        assert sorted(await _stored_ids(bot)) == sorted(f"fine-{n}" for n in range(10))
        for _ in range(10):
            await bot.next_card()
        await bot.idle()
        assert not any("Unstorable" in card.text for card in bot.cards())
        # The sender's retry of the other messages finds them stored, once.
        again = await bot.webhook(payloads[0])
        assert (again.status_code, again.json()["status"]) == (200, "duplicate")


async def test_an_outage_in_the_middle_of_a_group_answers_every_member_503_and_stores_none_of_it(
    fake_slack: FakeSlack, database_url: str
) -> None:
    config = {"database": {"lock_timeout_seconds": 1.0}}
    async with TestBot(fake_slack, database_url, config=config) as bot:
        payloads = [
            bot.comment_payload(f"During the outage {n}", id=f"outage-{n}", thread_id=f"o{n % 3}") for n in range(9)
        ]
        if database_url.startswith("sqlite"):
            held = write_lock_held_elsewhere(database_url)
        else:
            # Only the outbox is locked: the group stores its conversations and messages, then waits
            # on the outbox until its lock timeout. Its transaction must take all of it back.
            held = _table_locked(database_url, "outbox")
        async with held:
            answers = await asyncio.gather(*(bot.webhook(p) for p in payloads))
        assert [r.status_code for r in answers] == [503] * 9, [r.text for r in answers]
        assert all(r.headers["Retry-After"].isdigit() for r in answers)
        assert await _counts(bot) == (0, 0)
        # The senders retry: everything is stored once, three threads, three cards.
        retried = await asyncio.gather(*(bot.webhook(p) for p in payloads))
        assert sorted(r.status_code for r in retried) == [201] * 9
        assert await _counts(bot) == (3, 9)
        for _ in range(3):
            await bot.next_card()


class _table_locked:
    """Another connection holding ``table`` locked (PostgreSQL) until the block ends."""

    def __init__(self, database_url: str, table: str) -> None:
        self.engine = create_async_engine(normalise_database_url(database_url))
        self.table = table
        self.conn: Any = None

    async def __aenter__(self) -> None:
        self.conn = await self.engine.connect()
        await self.conn.execute(text("BEGIN"))
        await self.conn.execute(text(f"LOCK TABLE {self.table} IN ACCESS EXCLUSIVE MODE"))

    async def __aexit__(self, *exc: object) -> None:
        await self.conn.execute(text("ROLLBACK"))
        await self.conn.close()
        await self.engine.dispose()


@settings(max_examples=PROPERTY_EXAMPLES, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(messages=st.lists(st.integers(0, 9), min_size=1, max_size=16))
async def test_any_mix_of_concurrent_new_messages_repeats_and_follow_ups_keeps_each_message_once(
    bot: TestBot, messages: list[int]
) -> None:
    # Message i belongs to thread i % 3, as a platform's ids belong to one thread; each example in
    # a namespace of its own (the bot and its database live through all the examples).
    run = uuid.uuid4().hex[:8]
    payloads = [
        bot.comment_payload(f"message {i}", id=f"{run}-{i}", thread_id=f"{run}-thread-{i % 3}") for i in messages
    ]
    before = await _counts(bot)
    answers = await asyncio.gather(*(bot.webhook(p) for p in payloads))
    first: dict[str, int] = {}
    for payload, response in zip(payloads, answers, strict=True):
        assert response.status_code in (200, 201), response.text
        if response.status_code == 201:
            assert payload["id"] not in first, "stored twice"
            first[payload["id"]] = response.json()["conversation_id"]
    distinct_ids = {p["id"] for p in payloads}
    assert set(first) == distinct_ids  # every message stored once...
    for payload, response in zip(payloads, answers, strict=True):
        # ...and every repeat told which conversation holds it.
        assert response.json()["conversation_id"] == first[payload["id"]]
    by_thread: dict[str, set[int]] = {}
    for payload in payloads:
        by_thread.setdefault(payload["thread_id"], set()).add(first[payload["id"]])
    assert all(len(ids) == 1 for ids in by_thread.values())  # one conversation per thread
    assert await _counts(bot) == (before[0] + len(by_thread), before[1] + len(distinct_ids))
