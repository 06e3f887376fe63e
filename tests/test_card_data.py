"""A card's data read in one SELECT is the data the seven SELECTs it replaced read.

``reference_card`` below is ``load_card`` as it was (a query per part); hypothesis builds
conversations with many answers of every direction, kind and delivery state, tags with
commas, quotes and non-Latin letters, several escalations, hidden, edited and removed
messages, and a neighbour conversation that must not leak in, on SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from any_input import PROPERTY
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import func, select

from chatops.cards import ANSWERS_ON_CARD, CardData, MessageView, answered_kinds, load_card
from chatops.db import Database
from chatops.models import Conversation, ConversationTag, Delivery, Direction, Escalation, Message, Tag

T0 = datetime(2026, 11, 23, 10, 0, tzinfo=UTC)


async def reference_card(db: Database, conversation_id: int) -> CardData | None:
    """``load_card`` before it became one SELECT: the behaviour to keep."""
    async with db.read() as session:
        conv = await session.get(Conversation, conversation_id)
        if conv is None:
            return None
        root = await session.scalar(
            select(Message)
            .where(Message.conversation_id == conversation_id, Message.direction == Direction.INBOUND.value)
            .order_by(Message.id)
            .limit(1)
        )
        if root is None:
            return None
        answer_directions = [Direction.OUTBOUND.value, Direction.EXTERNAL.value]
        answers = (
            await session.scalars(
                select(Message)
                .where(Message.conversation_id == conversation_id, Message.direction.in_(answer_directions))
                .order_by(Message.id.desc())
                .limit(ANSWERS_ON_CARD)
            )
        ).all()
        count = await session.scalar(select(func.count(Message.id)).where(Message.conversation_id == conversation_id))
        answer_count = await session.scalar(
            select(func.count(Message.id)).where(
                Message.conversation_id == conversation_id, Message.direction.in_(answer_directions)
            )
        )
        tags = (
            await session.scalars(
                select(Tag.name)
                .join(ConversationTag, ConversationTag.tag_id == Tag.id)
                .where(ConversationTag.conversation_id == conversation_id)
                .order_by(Tag.name)
            )
        ).all()
        answered = await answered_kinds(session, root.id)
        reason = await session.scalar(
            select(Escalation.reason)
            .where(Escalation.conversation_id == conversation_id)
            .order_by(Escalation.id.desc())
            .limit(1)
        )
        return CardData(
            conversation_id=conv.id,
            source=conv.source,
            thread_id=conv.thread_id,
            channel_name=conv.channel_name,
            context_text=conv.context_text,
            context_url=conv.context_url,
            status=conv.status,
            assignee=conv.assignee,
            escalated_at=conv.escalated_at,
            escalation_reason=reason,
            followup_pending=conv.followup_pending,
            slack_channel=conv.slack_channel,
            slack_ts=conv.slack_ts,
            root=MessageView.of(root),
            answers=[MessageView.of(a) for a in reversed(answers)],
            message_count=int(count or 0),
            tags=list(tags),
            root_answered_kinds=answered,
            answer_count=int(answer_count or 0),
            priority=conv.priority or 0,
            rollup_id=conv.rollup_id,
        )


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[Database]:
    database = Database(database_url)
    yield database
    await database.dispose()


texts = st.text(max_size=30)
tag_names = st.lists(
    st.text(min_size=1, max_size=20).filter(lambda s: "\x00" not in s)
    | st.sampled_from(["a,b", 'say "hi"', "[x]", "ÄÖ", "zł", "\\", "null"]),
    unique=True,
    max_size=6,
)
messages = st.lists(
    st.fixed_dictionaries(
        {
            "direction": st.sampled_from([d.value for d in Direction]),
            "kind": st.sampled_from(["comment", "reply", "private_reply", "dm", "plugin:kind"]),
            "delivery": st.sampled_from([None, *(d.value for d in Delivery)]),
            "to_first": st.booleans(),
            "hidden": st.booleans(),
            "edited": st.booleans(),
            "removed": st.booleans(),
            "text": texts.filter(lambda s: "\x00" not in s),
        }
    ),
    max_size=9,
)
conversations = st.fixed_dictionaries(
    {
        "messages": messages,
        "tags": tag_names,
        "reasons": st.lists(texts.filter(lambda s: "\x00" not in s), max_size=3),
        "priority": st.integers(0, 200),
        "escalated": st.booleans(),
    }
)


async def store(db: Database, spec: dict[str, Any], number: int, tags: dict[str, int]) -> int:
    """One conversation as ``spec`` describes it; the id."""
    async with db.write() as session:
        conv = Conversation(
            source="webhook",
            thread_id=f"thread-{number}",
            channel_name="Contact form",
            priority=spec["priority"],
            escalated_at=T0 if spec["escalated"] else None,
            assignee="UANNA" if spec["escalated"] else None,
        )
        session.add(conv)
        await session.flush()
        first: Message | None = None
        for i, m in enumerate(spec["messages"]):
            message = Message(
                conversation_id=conv.id,
                source="webhook",
                external_id=f"m-{number}-{i}",
                direction=m["direction"],
                kind=m["kind"],
                text=m["text"],
                author_name="Matti",
                received_at=T0 + timedelta(minutes=i),
                edited_at=T0 + timedelta(hours=1) if m["edited"] else None,
                removed_at=T0 + timedelta(hours=2) if m["removed"] else None,
                hidden=m["hidden"],
                delivery=m["delivery"],
                in_reply_to_id=first.id if first is not None and m["to_first"] else None,
                extra={"priority": {"score": spec["priority"], "reasons": ["vip"]}} if i == 0 else {},
            )
            session.add(message)
            await session.flush()
            if first is None and m["direction"] == Direction.INBOUND.value:
                first = message
        for name in spec["tags"]:
            if name not in tags:
                tag = Tag(name=name)
                session.add(tag)
                await session.flush()
                tags[name] = tag.id
            session.add(ConversationTag(conversation_id=conv.id, tag_id=tags[name], added_by="UANNA"))
        for reason in spec["reasons"]:
            session.add(Escalation(conversation_id=conv.id, reason=reason, escalated_by="UANNA"))
        return conv.id


@PROPERTY
@given(card=conversations, neighbour=conversations)
async def test_one_select_reads_what_seven_did(db: Database, card: dict[str, Any], neighbour: dict[str, Any]) -> None:
    async with db.write() as session:
        known = {name: id_ for id_, name in (await session.execute(select(Tag.id, Tag.name))).all()}
        number = int(await session.scalar(select(func.count(Conversation.id))) or 0)
    conversation_id = await store(db, card, number, known)
    await store(db, neighbour, number + 1, known)
    assert await load_card(db, conversation_id) == await reference_card(db, conversation_id)


async def test_a_conversation_that_does_not_exist_has_no_card(db: Database) -> None:
    assert await load_card(db, 424242) is None


async def test_a_conversation_without_a_customer_message_has_no_card(db: Database) -> None:
    spec = {"messages": [], "tags": ["x"], "reasons": ["why"], "priority": 0, "escalated": True}
    conversation_id = await store(db, spec, 0, {})
    assert await load_card(db, conversation_id) is None
