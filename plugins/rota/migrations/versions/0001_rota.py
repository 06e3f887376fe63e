"""rota: shifts, covers and swaps, notices, out-of-hours replies, calendar feeds, handled requests.

Revision ID: 0001
Revises:
Create Date: 2026-11-29 01:00:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_TIME = sa.DateTime(timezone=True)


def upgrade() -> None:
    op.create_table(
        "rota_shifts",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("days", sa.String(16), nullable=False),
        sa.Column("start_minute", sa.Integer(), nullable=False),
        sa.Column("end_minute", sa.Integer(), nullable=False),
        sa.Column("people", sa.JSON(), nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("removed_by", sa.String(64), nullable=True),
        sa.Column("removed_at", _TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rota_shifts")),
    )
    op.create_table(
        "rota_changes",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("first_user", sa.String(64), nullable=False),
        sa.Column("second_user", sa.String(64), nullable=False),
        sa.Column("starts_at", _TIME, nullable=True),
        sa.Column("ends_at", _TIME, nullable=True),
        sa.Column("whole_shifts", sa.Boolean(), server_default=sa.false(), nullable=False),
        sa.Column("day", sa.Date(), nullable=True),
        sa.Column("ordered_at", _TIME, nullable=False),
        sa.Column("created_by", sa.String(64), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.Column("removed_by", sa.String(64), nullable=True),
        sa.Column("removed_at", _TIME, nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_rota_changes")),
    )
    op.create_table(
        "rota_notices",
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("at", _TIME, nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("kind", "at", name=op.f("pk_rota_notices")),
    )
    op.create_table(
        "rota_auto_replies",
        sa.Column("source", sa.String(64), nullable=False),
        sa.Column("author", sa.String(255), nullable=False),
        sa.Column("closed_since", _TIME, nullable=False),
        sa.Column("conversation_id", sa.BigInteger(), nullable=True),
        sa.Column("created_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("source", "author", "closed_since", name=op.f("pk_rota_auto_replies")),
    )
    op.create_table(
        "rota_feeds",
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("token", name=op.f("pk_rota_feeds")),
        sa.UniqueConstraint("owner", name=op.f("uq_rota_feeds_owner")),
    )
    op.create_table(
        "rota_requests",
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("created_at", _TIME, nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_rota_requests")),
    )
    op.create_index(op.f("ix_rota_requests_created_at"), "rota_requests", ["created_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_rota_requests_created_at"), table_name="rota_requests")
    for table in ("rota_requests", "rota_feeds", "rota_auto_replies", "rota_notices", "rota_changes", "rota_shifts"):
        op.drop_table(table)
