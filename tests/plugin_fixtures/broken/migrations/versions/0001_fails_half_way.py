"""Creates a table, then fails: the whole plugin's upgrade must roll back.

Revision ID: 0001
Revises:
Create Date: 2026-11-28 22:20:00.000000
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table("plugin_broken_things", sa.Column("id", sa.Integer(), primary_key=True))
    op.execute("INSERT INTO plugin_broken_things (no_such_column) VALUES (1)")


def downgrade() -> None:
    op.drop_table("plugin_broken_things")
