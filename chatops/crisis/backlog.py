"""The backlog: how many customer comments wait for a card, how long the oldest has waited, how many are urgent.

A comment waits for a card while its ``card.post`` job is pending in the outbox, or while it is
gathered on a roll-up (``conversations.rollup_id`` set, no card of its own) whose card is not
posted yet: once the roll-up's card is up, its members are visible there and wait no more. Both
counts read an index: the pending rows of ``ix_outbox_status_priority`` (done rows are never
visited) and ``ix_conversations_rollup_id`` (empty unless roll-ups are in use), so the cost
follows the backlog, not the 100,000 conversations behind it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapped

from chatops.db import Database
from chatops.models import Conversation, OutboxJob, OutboxStatus, Rollup
from chatops.store import POST_CARD


@dataclass(frozen=True, slots=True)
class Backlog:
    """Comments waiting for a card: on their own card's post, or gathered on a roll-up."""

    #: Pending card posts.
    waiting: int = 0
    #: Comments gathered on roll-ups whose card is not posted yet (and without a card of their own).
    rolled_up: int = 0
    #: Of both, those at least as urgent as ``[priority] own_card_at``.
    urgent: int = 0
    #: When the oldest of them arrived (None when nothing waits).
    oldest_at: datetime | None = None

    @property
    def total(self) -> int:
        """Every comment waiting for a card."""
        return self.waiting + self.rolled_up

    def age_seconds(self, now: datetime) -> float:
        """How long the oldest has waited (0 when nothing waits)."""
        return max(0.0, (now - self.oldest_at).total_seconds()) if self.oldest_at is not None else 0.0

    def __add__(self, other: Backlog) -> Backlog:
        oldest = [at for at in (self.oldest_at, other.oldest_at) if at is not None]
        return Backlog(
            self.waiting + other.waiting,
            self.rolled_up + other.rolled_up,
            self.urgent + other.urgent,
            min(oldest) if oldest else None,
        )


def _urgent(priority: Mapped[int], urgent_at: int) -> ColumnElement[int]:
    # SUM(CASE …) rather than COUNT(*) FILTER: the same SQL on SQLite and PostgreSQL.
    return func.coalesce(func.sum(case((priority >= urgent_at, 1), else_=0)), 0)


def _pending_posts() -> tuple[ColumnElement[bool], ...]:
    return (OutboxJob.status == OutboxStatus.PENDING.value, OutboxJob.kind == POST_CARD)


def _rolled_up() -> tuple[ColumnElement[bool], ...]:
    # "> 0", not "IS NOT NULL": SQLite scans the whole table for the latter, and reads the
    # rollup_id index for a range (ids are positive); PostgreSQL reads the index for either.
    # A member of a roll-up already posted is visible there: it waits for nothing.
    return (Conversation.rollup_id > 0, Conversation.slack_ts.is_(None), Rollup.slack_ts.is_(None))


async def measure(db: Database, urgent_at: int) -> Backlog:
    """The whole backlog, over every source: two aggregate reads on indexes."""
    async with db.read() as session:
        posts = (
            await session.execute(
                select(func.count(), func.min(OutboxJob.created_at), _urgent(OutboxJob.priority, urgent_at)).where(
                    *_pending_posts()
                )
            )
        ).one()
        members = await _members(session, urgent_at)
    return Backlog(int(posts[0]), 0, int(posts[2] or 0), posts[1]) + members


async def _members(session: AsyncSession, urgent_at: int) -> Backlog:
    row = (
        await session.execute(
            select(func.count(), func.min(Conversation.created_at), _urgent(Conversation.priority, urgent_at))
            .join(Rollup, Rollup.id == Conversation.rollup_id)
            .where(*_rolled_up())
        )
    ).one()
    return Backlog(0, int(row[0]), int(row[2] or 0), row[1])


async def measure_by_source(db: Database, urgent_at: int) -> dict[str, Backlog]:
    """The backlog of each source (for the banner of each inbox channel); read only during a crisis."""
    found: dict[str, Backlog] = {}
    async with db.read() as session:
        posts = await session.execute(
            select(
                Conversation.source,
                func.count(),
                func.min(OutboxJob.created_at),
                _urgent(OutboxJob.priority, urgent_at),
            )
            .join(Conversation, Conversation.id == OutboxJob.conversation_id)
            .where(*_pending_posts())
            .group_by(Conversation.source)
        )
        for source, count, oldest, urgent in posts.all():
            found[source] = found.get(source, Backlog()) + Backlog(int(count), 0, int(urgent or 0), oldest)
        # Grouped by "source || ''", not the column: grouped by the column, SQLite walks the
        # whole (source, thread_id) index in order instead of reading the few roll-up members.
        grouped = Conversation.source.op("||")("")
        members = await session.execute(
            select(
                grouped,
                func.count(),
                func.min(Conversation.created_at),
                _urgent(Conversation.priority, urgent_at),
            )
            .join(Rollup, Rollup.id == Conversation.rollup_id)
            .where(*_rolled_up())
            .group_by(grouped)
        )
        for source, count, oldest, urgent in members.all():
            found[source] = found.get(source, Backlog()) + Backlog(0, int(count), int(urgent or 0), oldest)
    return found


__all__ = ["Backlog", "measure", "measure_by_source"]
