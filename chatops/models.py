"""SQLAlchemy 2.0 tables: conversations, messages, people's actions, and the outbox.

Every time is stored as a timezone-aware UTC value. The schema is owned by the
Alembic migrations in ``chatops/migrations``; these classes must match them
(``tests/test_migrations.py`` fails when they drift).
"""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

# Stable constraint names so migrations can refer to them on both engines.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


def table_of(model: type[Any]) -> Table:
    """A mapped class's table, for Core statements (no ORM bookkeeping on the hot paths)."""
    table: Table = model.__table__
    return table


class UTCDateTime(TypeDecorator[datetime]):
    """A DateTime that always comes back timezone-aware UTC, on SQLite too."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetimes are not stored; pass a timezone-aware UTC time")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# SQLite only auto-increments INTEGER PRIMARY KEY; PostgreSQL gets a BIGINT.
BigId = BigInteger().with_variant(Integer(), "sqlite")


class Base(DeclarativeBase):
    """Declarative base with the shared naming convention."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class Status(enum.StrEnum):
    """Where a conversation stands in the team's workflow."""

    NEW = "new"  # nobody has taken it
    CLAIMED = "claimed"  # someone owns it, no reply yet
    REPLIED = "replied"  # the team answered; waiting for the customer
    RESOLVED = "resolved"  # closed


#: Every status but resolved: ask ``status IN OPEN_STATUSES`` (the index answers it; ``!=`` it cannot).
OPEN_STATUSES = (Status.NEW.value, Status.CLAIMED.value, Status.REPLIED.value)


class Direction(enum.StrEnum):
    """Who wrote a message: the customer, the team from Slack, or the account owner on the platform."""

    INBOUND = "inbound"
    OUTBOUND = "outbound"
    EXTERNAL = "external"  # e.g. the Page answered directly on Facebook


class Delivery(enum.StrEnum):
    """Progress of an outbound message towards the source platform."""

    PENDING = "pending"
    SENDING = "sending"  # handed to the platform; the outcome is not recorded yet
    SENT = "sent"
    FAILED = "failed"


class OutboxStatus(enum.StrEnum):
    """Progress of one outbox job."""

    PENDING = "pending"
    DONE = "done"
    DEAD = "dead"  # gave up; the failure is shown to people, who may retry


class Conversation(Base):
    """One source thread (a post's comment thread, a tweet chain, …) and its Slack card."""

    __tablename__ = "conversations"
    __table_args__ = (
        UniqueConstraint("source", "thread_id", name="uq_conversations_source_thread"),
        # Open cards (status IN OPEN_STATUSES), and who owns them, without reading resolved ones.
        Index("ix_conversations_status_assignee", "status", "assignee"),
        # The digest: conversations that started in a day or week (migration 0005).
        Index("ix_conversations_created_at", "created_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(64))
    thread_id: Mapped[str] = mapped_column(String(255))
    channel_name: Mapped[str | None] = mapped_column(String(255))
    context_text: Mapped[str | None] = mapped_column(Text)
    context_url: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default=Status.NEW.value)
    assignee: Mapped[str | None] = mapped_column(String(64))
    claimed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    first_response_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_inbound_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    followup_pending: Mapped[bool] = mapped_column(Boolean, default=False)
    slack_channel: Mapped[str | None] = mapped_column(String(64))
    slack_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    #: How urgent the conversation is (0 = ordinary): its first message's score, raised by follow-ups
    #: (see :mod:`chatops.priority`). Cards are posted highest first while posts queue.
    priority: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: The roll-up card it is gathered on during a flood, instead of a card of its own (migration 0006).
    rollup_id: Mapped[int | None] = mapped_column(ForeignKey("rollups.id", ondelete="SET NULL"), index=True)

    messages: Mapped[list[Message]] = relationship(back_populates="conversation", order_by="Message.id", lazy="raise")


class Message(Base):
    """A customer's comment, a team reply, or a platform-side answer, in one conversation."""

    __tablename__ = "messages"
    __table_args__ = (
        UniqueConstraint("source", "external_id", name="uq_messages_source_external_id"),
        Index("ix_messages_conversation", "conversation_id", "id"),
        # The digest: customer messages received, and replies sent, in a day or week (migration 0005).
        Index("ix_messages_received_at", "received_at"),
        Index("ix_messages_sent_at", "sent_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    source: Mapped[str] = mapped_column(String(64))
    # Null for a team reply until the platform has accepted it and given it an id.
    external_id: Mapped[str | None] = mapped_column(String(255))
    direction: Mapped[str] = mapped_column(String(16))
    author_id: Mapped[str | None] = mapped_column(String(255))
    author_name: Mapped[str | None] = mapped_column(String(255))
    author_handle: Mapped[str | None] = mapped_column(String(255))
    author_url: Mapped[str | None] = mapped_column(Text)
    text: Mapped[str] = mapped_column(Text)
    permalink: Mapped[str | None] = mapped_column(Text)
    source_created_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    edited_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hidden: Mapped[bool] = mapped_column(Boolean, default=False)
    # Source-specific data a plugin needs to answer (callback URL, page id, …).
    extra: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    # Outbound only: what kind of answer, who sent it from Slack, and how it went.
    kind: Mapped[str] = mapped_column(String(32), default="comment")
    in_reply_to_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id"))
    sent_by: Mapped[str | None] = mapped_column(String(64))
    delivery: Mapped[str | None] = mapped_column(String(16))
    delivery_error: Mapped[str | None] = mapped_column(Text)
    delivery_attempts: Mapped[int] = mapped_column(Integer, default=0)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    slack_ts: Mapped[str | None] = mapped_column(String(32))

    conversation: Mapped[Conversation] = relationship(back_populates="messages", lazy="raise")


class Assignment(Base):
    """Who owned a conversation and when: the history behind ``Conversation.assignee``."""

    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    assignee: Mapped[str] = mapped_column(String(64))
    assigned_by: Mapped[str] = mapped_column(String(64))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Tag(Base):
    """A label the team puts on conversations (vocabulary grows as people add tags)."""

    __tablename__ = "tags"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class ConversationTag(Base):
    """A tag on a conversation, with who added it."""

    __tablename__ = "conversation_tags"

    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), primary_key=True)
    tag_id: Mapped[int] = mapped_column(ForeignKey("tags.id", ondelete="CASCADE"), primary_key=True)
    added_by: Mapped[str] = mapped_column(String(64))
    added_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Escalation(Base):
    """A conversation raised to the leads, with the reason given."""

    __tablename__ = "escalations"

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[int] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"), index=True)
    reason: Mapped[str] = mapped_column(Text)
    escalated_by: Mapped[str] = mapped_column(String(64))
    escalated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    slack_channel: Mapped[str | None] = mapped_column(String(64))
    slack_ts: Mapped[str | None] = mapped_column(String(32))


class AuditEntry(Base):
    """One line of the complete record: who did what, to which conversation, when (UTC)."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_conversation", "conversation_id", "at"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="SET NULL"))
    actor: Mapped[str] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class OutboxJob(Base):
    """Work announced in the same transaction as the data it concerns, done later by delivery."""

    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_due", "status", "due_at"),
        # Pending work, most urgent first (migration 0006).
        Index("ix_outbox_status_priority", "status", "priority", "id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    kind: Mapped[str] = mapped_column(String(64))
    conversation_id: Mapped[int | None] = mapped_column(ForeignKey("conversations.id", ondelete="CASCADE"))
    message_id: Mapped[int | None] = mapped_column(ForeignKey("messages.id", ondelete="CASCADE"))
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    status: Mapped[str] = mapped_column(String(16), default=OutboxStatus.PENDING.value)
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    leased_by: Mapped[str | None] = mapped_column(String(64))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    done_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: Order among due jobs of the same lane: higher first, then oldest first (a card's priority).
    priority: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class Rollup(Base):
    """One card gathering a flood of new conversations on one post (or one source), instead of one card each.

    ``key`` names what they have in common: the post's URL or text, or ``*`` for a source's
    comments without a post. While ``status`` is ``open``, new conversations on the key join it.
    """

    __tablename__ = "rollups"
    __table_args__ = (Index("ix_rollups_source_key_status", "source", "key", "status"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True, autoincrement=True)
    source: Mapped[str] = mapped_column(String(64))
    key: Mapped[str] = mapped_column(String(255))
    title: Mapped[str | None] = mapped_column(Text)
    url: Mapped[str | None] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="open")
    slack_channel: Mapped[str | None] = mapped_column(String(64))
    slack_ts: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)
    #: Conversations ever gathered here (those opened as cards since included): the card's "N in all".
    gathered: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    #: When the last conversation joined: an open roll-up older than the window takes no more.
    last_joined_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    #: A redraw of the card is queued (one pending ``rollup.update`` job at most), and when it was last drawn.
    redraw_pending: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())
    drawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: The listing job still filling up (not yet started): new members are appended to it.
    listing_job_id: Mapped[int | None] = mapped_column(BigId)
    #: Who resolved every member at once ("Resolve all"), and when.
    resolved_by: Mapped[str | None] = mapped_column(String(64))
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class CrisisBanner(Base):
    """The crisis banner of one inbox channel: where it is, what it last said, and who may redraw it next.

    One row per channel, so two replicas never post two banners: the first to insert the row
    (or to re-open an ended one) queues the post; the one whose conditional UPDATE moves
    ``next_update_at`` queues the redraw (``chatops.crisis.banner``). ``generation`` counts the
    crises in the channel: a post or redraw queued for an earlier one does nothing.
    """

    __tablename__ = "crisis_banners"

    channel: Mapped[str] = mapped_column(String(64), primary_key=True)
    generation: Mapped[int] = mapped_column(Integer, default=1)
    #: ``active`` while the backlog lasts, then ``over`` (the message stays, saying so).
    state: Mapped[str] = mapped_column(String(16), default="active")
    slack_ts: Mapped[str | None] = mapped_column(String(32))
    waiting: Mapped[int] = mapped_column(Integer, default=0)
    rolled_up: Mapped[int] = mapped_column(Integer, default=0)
    urgent: Mapped[int] = mapped_column(Integer, default=0)
    oldest_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    peak: Mapped[int] = mapped_column(Integer, default=0)
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    #: No replica redraws the banner before this (the pace holds across replicas and restarts).
    next_update_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SourceState(Base):
    """Small durable state a plugin keeps, such as a polling cursor or X's since_id."""

    __tablename__ = "source_state"

    plugin: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class JobRun(Base):
    """A claimed occurrence of a scheduled job, so only one replica runs it."""

    __tablename__ = "job_runs"

    job_id: Mapped[str] = mapped_column(String(128), primary_key=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, primary_key=True)
    claimed_by: Mapped[str] = mapped_column(String(64))
    claimed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)


class Alert(Base):
    """An operational alert raised once per (plugin, key) until it is cleared (e.g. an expired token)."""

    __tablename__ = "alerts"

    plugin: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    message: Mapped[str] = mapped_column(Text)
    raised_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    cleared_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Interaction(Base):
    """A Slack click or modal submission already taken in: a replay of the same one is ignored.

    Slack's interactive payloads carry no event id and Bolt does not de-duplicate them, so a
    signed request replayed within the 5-minute signature window would act again. The key
    (a digest of the view's id and hash, or of the click's user, action and ``action_ts``)
    is inserted once; whoever inserts it applies the interaction, every other arrival,
    on any replica, does nothing.
    """

    __tablename__ = "interactions"

    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    actor: Mapped[str] = mapped_column(String(64))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


class SlackPost(Base):
    """The ``chat.postMessage`` of one outbox job: started before the call, its ``ts`` once known.

    A post whose answer was lost (connection dropped, timeout, 5xx) may have happened. The
    row says a post is in doubt since ``started_at``; Slack's ``message_metadata_posted``
    event (or the answer) fills in ``channel``/``ts``, and the first ``ts`` recorded is the
    one kept, so the job reconciles instead of posting again.
    """

    __tablename__ = "slack_posts"

    outbox_id: Mapped[int] = mapped_column(
        ForeignKey("outbox.id", ondelete="CASCADE"), primary_key=True, autoincrement=False
    )
    channel: Mapped[str | None] = mapped_column(String(64))
    ts: Mapped[str | None] = mapped_column(String(32))
    started_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    attempts: Mapped[int] = mapped_column(Integer, default=1)
