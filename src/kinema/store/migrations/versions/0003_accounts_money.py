"""Accounts with balances and limits, restricted and revocable keys, the ledger, rate windows.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

MONEY = sa.Numeric(20, 6)


def upgrade() -> None:
    with op.batch_alter_table("accounts") as batch:
        batch.add_column(sa.Column("balance", MONEY, nullable=False, server_default="0"))
        batch.add_column(sa.Column("rpm_limit", sa.Integer, nullable=True))
        batch.add_column(sa.Column("max_queued", sa.Integer, nullable=True))
        batch.add_column(sa.Column("max_running", sa.Integer, nullable=True))
    with op.batch_alter_table("api_keys") as batch:
        batch.add_column(sa.Column("models", sa.JSON, nullable=True))
    with op.batch_alter_table("tasks") as batch:
        batch.add_column(sa.Column("price", MONEY, nullable=False, server_default="0"))
        batch.add_column(sa.Column("video_seconds", MONEY, nullable=False, server_default="0"))
        batch.add_column(sa.Column("usage_tokens", sa.Integer, nullable=False, server_default="0"))
    op.create_table(
        "ledger",
        sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
        sa.Column("account_id", sa.String(40), sa.ForeignKey("accounts.id"), nullable=False),
        sa.Column("task_id", sa.String(40), nullable=True),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("amount", MONEY, nullable=False),
        sa.Column("balance_after", MONEY, nullable=False),
        sa.Column("key", sa.String(120), nullable=False, unique=True),
        sa.Column("note", sa.String(200), nullable=True),
        sa.Column("created_at", sa.Float, nullable=False),
    )
    op.create_index("ix_ledger_account", "ledger", ["account_id", "id"])
    op.create_table(
        "rate_windows",
        sa.Column("key_id", sa.String(40), primary_key=True),
        sa.Column("window", sa.Integer, primary_key=True),
        sa.Column("count", sa.Integer, nullable=False),
    )


def downgrade() -> None:
    op.drop_table("rate_windows")
    op.drop_index("ix_ledger_account", table_name="ledger")
    op.drop_table("ledger")
    with op.batch_alter_table("tasks") as batch:
        batch.drop_column("usage_tokens")
        batch.drop_column("video_seconds")
        batch.drop_column("price")
    with op.batch_alter_table("api_keys") as batch:
        batch.drop_column("models")
    with op.batch_alter_table("accounts") as batch:
        batch.drop_column("max_running")
        batch.drop_column("max_queued")
        batch.drop_column("rpm_limit")
        batch.drop_column("balance")
