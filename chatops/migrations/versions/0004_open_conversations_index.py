"""An index on conversations (status, assignee): open cards found without reading every conversation ever.

The rota's hand-off lists the open cards and its least-loaded routing counts each person's open
cards for every new conversation; both ask ``status IN (open statuses)`` (and ``assignee IN …``),
which this index answers on a database holding years of resolved conversations.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-29 01:50:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_conversations_status_assignee", "conversations", ["status", "assignee"])


def downgrade() -> None:
    op.drop_index("ix_conversations_status_assignee", table_name="conversations")
