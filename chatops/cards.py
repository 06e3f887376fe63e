"""What a card shows, read from the database in one place.

``CardData`` is the neutral view of a conversation that the Slack layer renders
and that plugins decorate (``chatops_card_blocks``). It holds no Slack syntax.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import func, select
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
    """Read a conversation's card data; None if the conversation does not exist."""
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
        answers = (
            await session.scalars(
                select(Message)
                .where(
                    Message.conversation_id == conversation_id,
                    Message.direction.in_([Direction.OUTBOUND.value, Direction.EXTERNAL.value]),
                )
                .order_by(Message.id.desc())
                .limit(ANSWERS_ON_CARD)
            )
        ).all()
        count = await session.scalar(select(func.count(Message.id)).where(Message.conversation_id == conversation_id))
        answer_count = await session.scalar(
            select(func.count(Message.id)).where(
                Message.conversation_id == conversation_id,
                Message.direction.in_([Direction.OUTBOUND.value, Direction.EXTERNAL.value]),
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
