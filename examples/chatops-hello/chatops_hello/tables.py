"""The hello plugin's own table, ``hello_reply_counts``, and the queries on it.

The table is created by the plugin's Alembic migration (``chatops_hello/migrations``),
which ``chatops db upgrade`` runs after the core's once ``hello`` is enabled; this
module's ``metadata`` is what that migration is compared with in tests.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncSession

from chatops.plugin_migrations import PluginMigrations, plugin_metadata

metadata = plugin_metadata()

reply_counts = sa.Table(
    "hello_reply_counts",
    metadata,
    # One row per conversation; deleting the conversation (the core's retention) deletes its count.
    sa.Column(
        "conversation_id",
        sa.Integer,
        sa.ForeignKey("conversations.id", ondelete="CASCADE"),
        primary_key=True,
    ),
    sa.Column("replies", sa.Integer, nullable=False, server_default=sa.text("0")),
    sa.Column("last_reply_at", sa.DateTime(timezone=True), nullable=True),
)

# The core's table, declared only so the foreign key above resolves in this metadata.
sa.Table("conversations", metadata, sa.Column("id", sa.Integer, primary_key=True))

#: Where the migrations live; ``chatops_migrations`` answers with this.
MIGRATIONS = PluginMigrations(script_location="chatops_hello:migrations", metadata=metadata)


async def count_reply(session: AsyncSession, conversation_id: int, at: datetime) -> None:
    """Add one sent reply to the conversation's count (the row is made on the first)."""
    done = await session.execute(
        sa.update(reply_counts)
        .where(reply_counts.c.conversation_id == conversation_id)
        .values(replies=reply_counts.c.replies + 1, last_reply_at=at)
    )
    if done.rowcount == 0:  # type: ignore[attr-defined]
        # Events are told one at a time, in commit order, so no other insert races this one.
        await session.execute(
            sa.insert(reply_counts).values(conversation_id=conversation_id, replies=1, last_reply_at=at)
        )


async def replies_of(session: AsyncSession, conversation_id: int) -> int:
    """How many replies were counted for one conversation (0 when none)."""
    found = await session.scalar(
        sa.select(reply_counts.c.replies).where(reply_counts.c.conversation_id == conversation_id)
    )
    return int(found or 0)


async def all_counts(session: AsyncSession) -> dict[int, int]:
    """Every conversation's count, by conversation id."""
    rows = await session.execute(
        sa.select(reply_counts.c.conversation_id, reply_counts.c.replies).order_by(reply_counts.c.conversation_id)
    )
    return {int(cid): int(n) for cid, n in rows}
