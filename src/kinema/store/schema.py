"""Table definitions (SQLAlchemy Core), shared by the store and the Alembic migrations.

Times are Unix seconds as doubles, taken from the database clock, so that leases mean the same on
every host of a fleet.
"""

from __future__ import annotations

import sqlalchemy as sa

metadata = sa.MetaData()

MONEY = sa.Numeric(20, 6)
"""Exact decimal amounts; never floats."""

accounts = sa.Table(
    "accounts",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("name", sa.String(200), nullable=False, unique=True),
    sa.Column("webhook_secret", sa.String(80), nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    # When a worker last claimed one of the account's tasks: accounts take turns by it.
    sa.Column("last_claimed_at", sa.Float, nullable=True),
    sa.Column("balance", MONEY, nullable=False, server_default="0"),
    # Per-account limits; NULL means the settings' default.
    sa.Column("rpm_limit", sa.Integer, nullable=True),
    sa.Column("max_queued", sa.Integer, nullable=True),
    sa.Column("max_running", sa.Integer, nullable=True),
)

api_keys = sa.Table(
    "api_keys",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("account_id", sa.String(40), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("prefix", sa.String(16), nullable=False),
    sa.Column("key_hash", sa.String(64), nullable=False, unique=True),
    sa.Column("name", sa.String(200), nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("revoked_at", sa.Float, nullable=True),
    # The model ids this key may use; NULL means every model.
    sa.Column("models", sa.JSON, nullable=True),
)

tasks = sa.Table(
    "tasks",
    metadata,
    sa.Column("id", sa.String(40), primary_key=True),
    sa.Column("account_id", sa.String(40), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("model", sa.String(120), nullable=False),
    sa.Column("engine", sa.String(40), nullable=False),
    sa.Column("status", sa.String(16), nullable=False),
    sa.Column("request", sa.JSON, nullable=False),
    sa.Column("service_tier", sa.String(16), nullable=False),
    sa.Column("priority", sa.Integer, nullable=False),
    sa.Column("idempotency_key", sa.String(200), nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("updated_at", sa.Float, nullable=False),
    # When an unfinished task becomes ``expired`` (created + execution_expires_after).
    sa.Column("expires_at", sa.Float, nullable=False),
    # Not claimable before this time (retry backoff).
    sa.Column("available_at", sa.Float, nullable=False),
    sa.Column("started_at", sa.Float, nullable=True),
    sa.Column("finished_at", sa.Float, nullable=True),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("max_attempts", sa.Integer, nullable=False),
    sa.Column("lease_owner", sa.String(80), nullable=True),
    sa.Column("lease_token", sa.String(40), nullable=True),
    sa.Column("lease_expires_at", sa.Float, nullable=True),
    sa.Column("cancel_requested", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("progress", sa.Float, nullable=False, server_default="0"),
    sa.Column("execution_ms", sa.Integer, nullable=False, server_default="0"),
    sa.Column("error_code", sa.String(80), nullable=True),
    sa.Column("error_message", sa.Text, nullable=True),
    sa.Column("outputs", sa.JSON, nullable=True),
    # The base URL the task was submitted on, for links in callbacks sent by other processes.
    sa.Column("base_url", sa.String(500), nullable=True),
    sa.Column("files_purged", sa.Boolean, nullable=False, server_default=sa.false()),
    sa.Column("price", MONEY, nullable=False, server_default="0"),
    sa.Column("video_seconds", MONEY, nullable=False, server_default="0"),
    sa.Column("usage_tokens", sa.Integer, nullable=False, server_default="0"),
    sa.Index("ix_tasks_queue", "status", "priority", "created_at"),
    sa.Index("ix_tasks_lease", "status", "lease_expires_at"),
    sa.Index("ix_tasks_finished", "finished_at"),
    sa.Index("ix_tasks_account_created", "account_id", "created_at"),
    sa.Index("ix_tasks_account_status", "account_id", "status"),
    sa.Index("ux_tasks_idempotency", "account_id", "idempotency_key", unique=True),
)

meta = sa.Table(
    "meta",
    metadata,
    sa.Column("name", sa.String(80), primary_key=True),
    sa.Column("value", sa.Text, nullable=False),
)
"""Installation-wide values shared by every process (e.g. the URL signing secret)."""

outbox = sa.Table(
    "outbox",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("task_id", sa.String(40), nullable=False),
    sa.Column("account_id", sa.String(40), nullable=False),
    sa.Column("url", sa.String(2048), nullable=False),
    sa.Column("event", sa.String(16), nullable=False),
    sa.Column("payload", sa.JSON, nullable=False),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Column("attempts", sa.Integer, nullable=False, server_default="0"),
    sa.Column("next_attempt_at", sa.Float, nullable=False),
    sa.Column("lease_owner", sa.String(80), nullable=True),
    sa.Column("lease_expires_at", sa.Float, nullable=True),
    sa.Column("delivered_at", sa.Float, nullable=True),
    sa.Column("dead_at", sa.Float, nullable=True),
    sa.Column("last_error", sa.Text, nullable=True),
    sa.Index("ix_outbox_due", "delivered_at", "dead_at", "next_attempt_at"),
)
"""Callback deliveries, written in the same transaction as the status change they report."""

ledger = sa.Table(
    "ledger",
    metadata,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("account_id", sa.String(40), sa.ForeignKey("accounts.id"), nullable=False),
    sa.Column("task_id", sa.String(40), nullable=True),
    sa.Column("kind", sa.String(16), nullable=False),
    sa.Column("amount", MONEY, nullable=False),
    sa.Column("balance_after", MONEY, nullable=False),
    # What makes a movement happen once: "<task>:hold", "<task>:capture", a top-up's own key.
    sa.Column("key", sa.String(120), nullable=False, unique=True),
    sa.Column("note", sa.String(200), nullable=True),
    sa.Column("created_at", sa.Float, nullable=False),
    sa.Index("ix_ledger_account", "account_id", "id"),
)
"""Every change of a balance is a row here, written with the change itself."""

rate_windows = sa.Table(
    "rate_windows",
    metadata,
    sa.Column("key_id", sa.String(40), primary_key=True),
    sa.Column("window", sa.Integer, primary_key=True),
    sa.Column("count", sa.Integer, nullable=False),
)
"""Requests per API key per minute, shared by every API process of an installation."""
