"""Indexes for the digest's figures: a day's or a week's rows found without reading every row ever.

The digest (plugins/digest/figures.py) counts by time range: the conversations that started in
a window, the customer messages received in it (and who wrote them), and the replies people
sent in it. Without these indexes each of those is a full scan of conversations or messages;
with a million messages a daily digest took 7 s on SQLite and PostgreSQL, with them under 2 s.
Each costs one more index entry per row written (conversations once; messages on insert, and
``sent_at`` again when a reply is delivered).

- ``conversations(created_at)``: the window's conversations, the chart's days, the oldest open one;
- ``messages(received_at)``: customer messages in the window, the most active customers;
- ``messages(sent_at)``: replies people sent in the window (conversations handled per person).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-29 04:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_conversations_created_at", "conversations", ["created_at"])
    op.create_index("ix_messages_received_at", "messages", ["received_at"])
    op.create_index("ix_messages_sent_at", "messages", ["sent_at"])


def downgrade() -> None:
    op.drop_index("ix_messages_sent_at", table_name="messages")
    op.drop_index("ix_messages_received_at", table_name="messages")
    op.drop_index("ix_conversations_created_at", table_name="conversations")
