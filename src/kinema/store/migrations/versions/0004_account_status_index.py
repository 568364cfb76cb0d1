"""Index tasks by (account, status): the per-account queue and running counts of every submit
and claim would otherwise scan every queued task of every account.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24
"""

from __future__ import annotations

from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_tasks_account_status", "tasks", ["account_id", "status"])


def downgrade() -> None:
    op.drop_index("ix_tasks_account_status", table_name="tasks")
