"""A crisis day: priorities on conversations and outbox jobs, and roll-up cards.

- ``conversations.priority`` and ``outbox.priority``: while posts queue behind Slack's pace of about
  one message per second per channel, the most urgent (negative, a keyword, a VIP author, a reply to
  our reply, or what a classifier plugin says) are posted first. The index serves the worker's
  "pending, most urgent first" query without sorting the whole backlog.
- ``rollups`` and ``conversations.rollup_id``: a flood of new conversations on one post is gathered on
  one card instead of one card each (``chatops.rollups``): how many joined, when the last did, whether
  a redraw is queued, the listing job still filling up, and who resolved them all.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-29 12:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

#: The models' id type, spelled out: a migration must not change when the models do.
BIG_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "rollups",
        sa.Column("id", BIG_ID, autoincrement=True, nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("key", sa.String(length=255), nullable=False),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("url", sa.Text(), nullable=True),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("slack_channel", sa.String(length=64), nullable=True),
        sa.Column("slack_ts", sa.String(length=32), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("gathered", sa.Integer(), server_default="0", nullable=False),
        sa.Column("last_joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("redraw_pending", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("drawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("listing_job_id", BIG_ID, nullable=True),
        sa.Column("resolved_by", sa.String(length=64), nullable=True),
        sa.Column("resolved_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rollups")),
    )
    op.create_index("ix_rollups_source_key_status", "rollups", ["source", "key", "status"])
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("priority", sa.Integer(), server_default="0", nullable=False))
        batch_op.add_column(sa.Column("rollup_id", BIG_ID, nullable=True))
        batch_op.create_foreign_key(
            op.f("fk_conversations_rollup_id_rollups"), "rollups", ["rollup_id"], ["id"], ondelete="SET NULL"
        )
        batch_op.create_index(op.f("ix_conversations_rollup_id"), ["rollup_id"])
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.add_column(sa.Column("priority", sa.Integer(), server_default="0", nullable=False))
        batch_op.create_index("ix_outbox_status_priority", ["status", "priority", "id"])
    _create_crisis_banners()


def _create_crisis_banners() -> None:
    """The crisis banner of each inbox channel (chatops.crisis.banner): one row per channel, claimed by replicas."""
    op.create_table(
        "crisis_banners",
        sa.Column("channel", sa.String(length=64), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("slack_ts", sa.String(length=32), nullable=True),
        sa.Column("waiting", sa.Integer(), nullable=False),
        sa.Column("rolled_up", sa.Integer(), nullable=False),
        sa.Column("urgent", sa.Integer(), nullable=False),
        sa.Column("oldest_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("peak", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("next_update_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("channel", name=op.f("pk_crisis_banners")),
    )


def downgrade() -> None:
    op.drop_table("crisis_banners")
    with op.batch_alter_table("outbox", schema=None) as batch_op:
        batch_op.drop_index("ix_outbox_status_priority")
        batch_op.drop_column("priority")
    with op.batch_alter_table("conversations", schema=None) as batch_op:
        batch_op.drop_index(op.f("ix_conversations_rollup_id"))
        batch_op.drop_constraint(op.f("fk_conversations_rollup_id_rollups"), type_="foreignkey")
        batch_op.drop_column("rollup_id")
        batch_op.drop_column("priority")
    op.drop_index("ix_rollups_source_key_status", table_name="rollups")
    op.drop_table("rollups")
