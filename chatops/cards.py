"""What a card shows, read from the database in one place.

``CardData`` is the neutral view of a conversation that the Slack layer renders
and that plugins decorate (``chatops_card_blocks``). It holds no Slack syntax.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, func, or_, select
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.ext.asyncio import AsyncSession

from chatops.db import Database
from chatops.models import Conversation, ConversationTag, Delivery, Direction, Escalation, Message, Tag
from chatops.sources import Author, Target

#: How many of the team's latest answers a card lists (the thread holds them all).
ANSWERS_ON_CARD = 3


@dataclass(frozen=True, slots=True)
class MessageView:
    """A message as a card shows it."""

    id: int
    direction: str
    kind: str
    text: str
    author_id: str | None
    author_name: str | None
    author_handle: str | None
    author_url: str | None
    permalink: str | None
    created_at: datetime | None
    received_at: datetime
    edited_at: datetime | None
    removed_at: datetime | None
    hidden: bool
    sent_by: str | None
    delivery: str | None
    delivery_error: str | None
    sent_at: datetime | None
    hide_error: str | None
    slack_ts: str | None
    external_id: str | None
    extra: dict[str, Any]

    @classmethod
    def of(cls, m: Message) -> MessageView:
        """Copy the fields a card needs from a Message row."""
        return cls(
            id=m.id,
            direction=m.direction,
            kind=m.kind,
            text=m.text,
            author_id=m.author_id,
            author_name=m.author_name,
            author_handle=m.author_handle,
            author_url=m.author_url,
            permalink=m.permalink,
            created_at=m.source_created_at,
            received_at=m.received_at,
            edited_at=m.edited_at,
            removed_at=m.removed_at,
            hidden=m.hidden,
            sent_by=m.sent_by,
            delivery=m.delivery,
            delivery_error=m.delivery_error,
            sent_at=m.sent_at,
            hide_error=(m.extra or {}).get("hide_error"),
            slack_ts=m.slack_ts,
            external_id=m.external_id,
            extra=dict(m.extra or {}),
        )


@dataclass(frozen=True, slots=True)
class CardData:
    """Everything a conversation's card shows."""

    conversation_id: int
    source: str
    thread_id: str
    channel_name: str | None
    context_text: str | None
    context_url: str | None
    status: str
    assignee: str | None
    escalated_at: datetime | None
    escalation_reason: str | None
    followup_pending: bool
    slack_channel: str | None
    slack_ts: str | None
    root: MessageView
    answers: list[MessageView] = field(default_factory=list)
    message_count: int = 1
    tags: list[str] = field(default_factory=list)
    root_answered_kinds: frozenset[str] = frozenset()
    #: All answers in the conversation (``answers`` holds only the latest few); 0 means ``len(answers)``.
    answer_count: int = 0
    #: How urgent the conversation is (chatops.priority); the reasons are in ``root.extra["priority"]``.
    priority: int = 0
    #: The roll-up card the conversation is gathered on, while it has no card of its own.
    rollup_id: int | None = None

    def target(self) -> Target:
        """The customer's first message, as the source plugin sees it."""
        return Target(
            conversation_id=self.conversation_id,
            message_id=self.root.id,
            external_id=self.root.external_id or "",
            thread_id=self.thread_id,
            extra=self.root.extra,
            created_at=self.root.created_at or self.root.received_at,
            author=Author(self.root.author_id, self.root.author_name, self.root.author_handle, self.root.author_url),
            # Sources decide from this what is still possible (e.g. one private reply per comment).
            answered_kinds=self.root_answered_kinds,
        )


async def load_card(db: Database, conversation_id: int) -> CardData | None:
    """Read a conversation's card data in one SELECT; None if the conversation (or its first message) does not exist.

    A card is drawn after every click and every answer, and its seven SELECTs (conversation,
    first message, latest answers, two counts, tags, answered kinds, escalation reason) were
    seven round trips. Here the first message and the latest answers are the rows, and the rest
    are subqueries on the conversation's id alone, which SQLite and PostgreSQL run once per query,
    not once per row; tags and answered kinds come as JSON arrays (``json_group_array`` on
    SQLite, ``json_agg`` on PostgreSQL).
    """
    statement = _card_statement(sqlite=db.is_sqlite)
    async with db.read() as session:
        rows = (await session.execute(statement, {"b_conversation_id": conversation_id})).all()
    if not rows or rows[0].root_id is None:
        return None
    first = rows[0]
    conv: Conversation = first.Conversation
    root = next(row.Message for row in rows if row.Message.id == first.root_id)
    answers = [row.Message for row in rows if row.Message.id != first.root_id]
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
        escalation_reason=first.reason,
        followup_pending=conv.followup_pending,
        slack_channel=conv.slack_channel,
        slack_ts=conv.slack_ts,
        root=MessageView.of(root),
        answers=[MessageView.of(a) for a in answers],
        message_count=int(first.message_count or 0),
        tags=_json_list(first.tags),
        root_answered_kinds=frozenset(_json_list(first.answered_kinds)),
        answer_count=int(first.answer_count or 0),
        priority=conv.priority or 0,
        rollup_id=conv.rollup_id,
    )


#: What a card counts as the team's answers (the customer's own messages are inbound).
_ANSWER_DIRECTIONS = (Direction.OUTBOUND.value, Direction.EXTERNAL.value)
#: An answer that is sent or on its way: the source must not be offered the same kind again.
_LIVE_DELIVERIES = (Delivery.PENDING.value, Delivery.SENDING.value, Delivery.SENT.value)


@functools.cache
def _card_statement(*, sqlite: bool) -> Select[Any]:
    """The one SELECT of :func:`load_card`: rows of (Message, Conversation, …), the first message and latest answers.

    Built once per dialect and run with the conversation's id as ``b_conversation_id``: building
    it was most of load_card's time in the event loop (profiled; every card update runs it).
    """
    conversation_id: Any = bindparam("b_conversation_id")
    of_conversation = Message.conversation_id == conversation_id
    root_id = (
        select(func.min(Message.id))
        .where(of_conversation, Message.direction == Direction.INBOUND.value)
        .scalar_subquery()
    )
    latest_answers = (
        select(Message.id)
        .where(of_conversation, Message.direction.in_(_ANSWER_DIRECTIONS))
        .order_by(Message.id.desc())
        .limit(ANSWERS_ON_CARD)
    )
    message_count = select(func.count(Message.id)).where(of_conversation).scalar_subquery()
    answer_count = (
        select(func.count(Message.id)).where(of_conversation, Message.direction.in_(_ANSWER_DIRECTIONS))
    ).scalar_subquery()
    reason = (
        select(Escalation.reason)
        .where(Escalation.conversation_id == conversation_id)
        .order_by(Escalation.id.desc())
        .limit(1)
        .scalar_subquery()
    )
    tag_names = (
        select(Tag.name)
        .join(ConversationTag, ConversationTag.tag_id == Tag.id)
        .where(ConversationTag.conversation_id == conversation_id)
    )
    kinds = (
        select(Message.kind)
        .where(Message.in_reply_to_id == root_id, Message.delivery.in_(_LIVE_DELIVERIES))
        .distinct()
        .subquery()
    )
    if sqlite:
        # SQLite's json_group_array keeps the order of the rows it is fed.
        ordered = tag_names.order_by(Tag.name).subquery()
        tags = select(func.json_group_array(ordered.c.name)).scalar_subquery()
        answered = select(func.json_group_array(kinds.c.kind)).scalar_subquery()
    else:
        tags = tag_names.with_only_columns(func.json_agg(aggregate_order_by(Tag.name, Tag.name))).scalar_subquery()
        answered = select(func.json_agg(kinds.c.kind)).scalar_subquery()
    return (
        select(
            Message,
            Conversation,
            root_id.label("root_id"),
            message_count.label("message_count"),
            answer_count.label("answer_count"),
            reason.label("reason"),
            tags.label("tags"),
            answered.label("answered_kinds"),
        )
        .join(Conversation, Conversation.id == Message.conversation_id)
        .where(of_conversation, or_(Message.id == root_id, Message.id.in_(latest_answers)))
        .order_by(Message.id)
    )


def _json_list(value: Any) -> list[str]:
    """A JSON array from the database as a list (drivers give text or the parsed list; NULL when empty)."""
    if value is None:
        return []
    parsed = json.loads(value) if isinstance(value, str | bytes) else value
    return [str(item) for item in parsed or []]


async def answered_kinds(session: AsyncSession, message_id: int) -> frozenset[str]:
    """Kinds of answers sent or on their way for one customer message."""
    kinds = await session.scalars(
        select(Message.kind)
        .where(
            Message.in_reply_to_id == message_id,
            Message.delivery.in_([Delivery.PENDING.value, Delivery.SENDING.value, Delivery.SENT.value]),
        )
        .distinct()
    )
    return frozenset(kinds.all())


async def load_message(db: Database, message_id: int) -> MessageView | None:
    """One message as a card shows it."""
    async with db.read() as session:
        msg = await session.get(Message, message_id)
        return MessageView.of(msg) if msg else None
