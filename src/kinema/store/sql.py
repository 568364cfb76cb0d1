"""``SqlStore``: the TaskStore contract in SQLAlchemy Core, for SQLite and PostgreSQL alike."""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Connection, Engine, Row
from sqlalchemy.exc import IntegrityError

from kinema.domain.errors import QuotaExceeded
from kinema.domain.request import GenerationRequest
from kinema.domain.task import TaskStatus
from kinema.store.base import (
    Account,
    ApiKeyRecord,
    Claim,
    NewTask,
    Task,
    TaskFilter,
    TaskOutputs,
    TaskPage,
)
from kinema.store.engine import create_db_engine, db_now, read_transaction, write_transaction
from kinema.store.migrate import upgrade
from kinema.store.schema import accounts, api_keys, meta, tasks

KEY_PREFIX_CHARS = 10
IDEMPOTENCY_WINDOW_SECONDS = 86_400


def hash_key(key: str) -> str:
    """API keys are 288-bit random strings, so a plain SHA-256 is a safe, fast lookup hash."""
    return hashlib.sha256(key.encode()).hexdigest()


class SqlStore:
    """The one TaskStore implementation (see ``kinema.store.base`` for the contract)."""

    def __init__(self, url: str, *, migrate: bool = True) -> None:
        self.url = url
        self.engine: Engine = create_db_engine(url)
        if migrate:
            upgrade(self.engine)
        self._now = db_now(self.engine)

    def close(self) -> None:
        self.engine.dispose()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def now(self) -> float:
        """The database clock."""
        with read_transaction(self.engine) as conn:
            return float(conn.execute(sa.select(self._now)).scalar_one())

    # -- accounts and keys -------------------------------------------------------------------

    def create_account(self, name: str) -> Account:
        with write_transaction(self.engine) as conn:
            if conn.execute(sa.select(accounts.c.id).where(accounts.c.name == name)).first():
                raise ValueError(f"an account named {name!r} already exists")
            now = self._clock(conn)
            account = Account(
                id="acct_" + secrets.token_hex(8),
                name=name,
                webhook_secret="whsec_" + secrets.token_urlsafe(32),
                created_at=now,
            )
            conn.execute(
                accounts.insert().values(
                    id=account.id,
                    name=account.name,
                    webhook_secret=account.webhook_secret,
                    created_at=now,
                )
            )
            return account

    def get_account_by_name(self, name: str) -> Account | None:
        with read_transaction(self.engine) as conn:
            row = conn.execute(sa.select(accounts).where(accounts.c.name == name)).first()
            return _account(row) if row else None

    def count_accounts(self) -> int:
        with read_transaction(self.engine) as conn:
            return int(conn.execute(sa.select(sa.func.count()).select_from(accounts)).scalar_one())

    def add_api_key(self, account_id: str, key: str, name: str | None = None) -> ApiKeyRecord:
        with write_transaction(self.engine) as conn:
            record = ApiKeyRecord(
                id="key_" + secrets.token_hex(8),
                account_id=account_id,
                prefix=key[:KEY_PREFIX_CHARS],
                name=name,
                created_at=self._clock(conn),
                revoked_at=None,
            )
            conn.execute(
                api_keys.insert().values(
                    id=record.id,
                    account_id=account_id,
                    prefix=record.prefix,
                    key_hash=hash_key(key),
                    name=name,
                    created_at=record.created_at,
                )
            )
            return record

    def authenticate(self, key: str) -> tuple[Account, ApiKeyRecord] | None:
        query = (
            sa.select(accounts, api_keys.c.id.label("key_id"), api_keys.c.prefix,
                      api_keys.c.name.label("key_name"), api_keys.c.created_at.label("key_at"),
                      api_keys.c.revoked_at)
            .join(api_keys, api_keys.c.account_id == accounts.c.id)
            .where(api_keys.c.key_hash == hash_key(key))
        )  # fmt: skip
        with read_transaction(self.engine) as conn:
            row = conn.execute(query).first()
        if row is None:
            return None
        key_record = ApiKeyRecord(
            id=row.key_id,
            account_id=row.id,
            prefix=row.prefix,
            name=row.key_name,
            created_at=row.key_at,
            revoked_at=row.revoked_at,
        )
        return _account(row), key_record

    # -- tasks -------------------------------------------------------------------------------

    def create_task(self, new: NewTask, max_queued: int | None = None) -> tuple[Task, bool]:
        """See the contract; also refuses a task beyond ``max_queued`` queued ones (429)."""
        with write_transaction(self.engine) as conn:
            # Lock the account row first (PostgreSQL) so that concurrent submits count queued
            # tasks one at a time; SQLite's BEGIN IMMEDIATE already serialises writers.
            conn.execute(
                sa.select(accounts.c.id).where(accounts.c.id == new.account_id).with_for_update()
            )
            now = self._clock(conn)
            if new.idempotency_key is not None:
                existing = conn.execute(
                    sa.select(tasks).where(
                        tasks.c.account_id == new.account_id,
                        tasks.c.idempotency_key == new.idempotency_key,
                    )
                ).first()
                if existing is not None:
                    if existing.created_at > now - IDEMPOTENCY_WINDOW_SECONDS:
                        return _task(existing), False
                    # The key is free again after its window: release it from the old task.
                    conn.execute(
                        tasks.update().where(tasks.c.id == existing.id).values(idempotency_key=None)
                    )
            if max_queued is not None:
                self._check_queue_quota(conn, new.account_id, max_queued)
            request = new.request
            values = {
                "id": new.id,
                "account_id": new.account_id,
                "model": request.model,
                "engine": new.engine,
                "status": TaskStatus.QUEUED.value,
                "request": request.to_json(),
                "service_tier": request.service_tier,
                "priority": request.priority,
                "idempotency_key": new.idempotency_key,
                "created_at": now,
                "updated_at": now,
                "expires_at": now + request.execution_expires_after,
                "available_at": now,
                "max_attempts": new.max_attempts,
            }
            conn.execute(tasks.insert().values(**values))
            row = conn.execute(sa.select(tasks).where(tasks.c.id == new.id)).one()
            return _task(row), True

    def find_by_idempotency_key(self, account_id: str, key: str) -> Task | None:
        with read_transaction(self.engine) as conn:
            row = conn.execute(
                sa.select(tasks).where(
                    tasks.c.account_id == account_id,
                    tasks.c.idempotency_key == key,
                    tasks.c.created_at > self._now - IDEMPOTENCY_WINDOW_SECONDS,
                )
            ).first()
        return _task(row) if row else None

    def _check_queue_quota(self, conn: Connection, account_id: str, max_queued: int) -> None:
        queued = conn.execute(
            sa.select(sa.func.count())
            .select_from(tasks)
            .where(tasks.c.account_id == account_id, tasks.c.status == TaskStatus.QUEUED.value)
        ).scalar_one()
        if queued >= max_queued:
            raise QuotaExceeded(
                f"too many queued tasks: this account may have at most {max_queued} queued",
                retry_after=5,
            )

    def get_task(self, task_id: str, account_id: str | None = None) -> Task | None:
        query = sa.select(tasks).where(tasks.c.id == task_id)
        if account_id is not None:
            query = query.where(tasks.c.account_id == account_id)
        with read_transaction(self.engine) as conn:
            row = conn.execute(query).first()
        return _task(row) if row else None

    def list_tasks(
        self, account_id: str, flt: TaskFilter, page_num: int, page_size: int
    ) -> TaskPage:
        where: list[sa.ColumnElement[bool]] = [tasks.c.account_id == account_id]
        if flt.statuses:
            where.append(tasks.c.status.in_([s.value for s in flt.statuses]))
        if flt.task_ids:
            where.append(tasks.c.id.in_(list(flt.task_ids)))
        if flt.model:
            where.append(tasks.c.model == flt.model)
        if flt.service_tier:
            where.append(tasks.c.service_tier == flt.service_tier)
        with read_transaction(self.engine) as conn:
            total = conn.execute(
                sa.select(sa.func.count()).select_from(tasks).where(*where)
            ).scalar_one()
            rows = conn.execute(
                sa.select(tasks)
                .where(*where)
                .order_by(tasks.c.created_at.desc(), tasks.c.id.desc())
                .offset((page_num - 1) * page_size)
                .limit(page_size)
            ).all()
        return TaskPage(total=int(total), items=[_task(row) for row in rows])

    def queue_position(self, task: Task) -> int:
        ahead = sa.or_(
            tasks.c.priority > task.request.priority,
            sa.and_(
                tasks.c.priority == task.request.priority,
                sa.or_(
                    tasks.c.created_at < task.created_at,
                    sa.and_(tasks.c.created_at == task.created_at, tasks.c.id < task.id),
                ),
            ),
        )
        with read_transaction(self.engine) as conn:
            count = conn.execute(
                sa.select(sa.func.count())
                .select_from(tasks)
                .where(tasks.c.status == TaskStatus.QUEUED.value, ahead)
            ).scalar_one()
        return int(count)

    def cancel_queued(self, task_id: str, account_id: str) -> Task | None:
        with write_transaction(self.engine) as conn:
            now = self._clock(conn)
            result = conn.execute(
                tasks.update()
                .where(
                    tasks.c.id == task_id,
                    tasks.c.account_id == account_id,
                    tasks.c.status == TaskStatus.QUEUED.value,
                )
                .values(status=TaskStatus.CANCELLED.value, updated_at=now, finished_at=now)
            )
            if result.rowcount != 1:
                return None
            return _task(conn.execute(sa.select(tasks).where(tasks.c.id == task_id)).one())

    def delete_task(self, task_id: str, account_id: str) -> Task | None:
        terminal = [s.value for s in TaskStatus if s.terminal and s is not TaskStatus.CANCELLED]
        with write_transaction(self.engine) as conn:
            row = conn.execute(
                sa.select(tasks).where(
                    tasks.c.id == task_id,
                    tasks.c.account_id == account_id,
                    tasks.c.status.in_(terminal),
                )
            ).first()
            if row is None:
                return None
            conn.execute(tasks.delete().where(tasks.c.id == task_id))
            return _task(row)

    # -- the queue ---------------------------------------------------------------------------

    def claim(self, owner: str, lease_seconds: float, models: Sequence[str] = ()) -> Claim | None:
        with write_transaction(self.engine) as conn:
            now = self._clock(conn)
            query = (
                sa.select(tasks.c.id)
                .where(
                    tasks.c.status == TaskStatus.QUEUED.value,
                    tasks.c.available_at <= now,
                    tasks.c.expires_at > now,
                )
                .order_by(tasks.c.priority.desc(), tasks.c.created_at, tasks.c.id)
                .limit(1)
                .with_for_update(skip_locked=True)
            )
            if models:
                query = query.where(tasks.c.model.in_(list(models)))
            task_id = conn.execute(query).scalar()
            if task_id is None:
                return None
            token = secrets.token_hex(16)
            conn.execute(
                tasks.update()
                .where(tasks.c.id == task_id)
                .values(
                    status=TaskStatus.RUNNING.value,
                    lease_owner=owner,
                    lease_token=token,
                    lease_expires_at=now + lease_seconds,
                    attempts=tasks.c.attempts + 1,
                    started_at=sa.func.coalesce(tasks.c.started_at, now),
                    updated_at=now,
                    progress=0.0,
                )
            )
            row = conn.execute(sa.select(tasks).where(tasks.c.id == task_id)).one()
            return Claim(task=_task(row), owner=owner, token=token)

    def _fenced(self, claim: Claim) -> sa.ColumnElement[bool]:
        return sa.and_(
            tasks.c.id == claim.task.id,
            tasks.c.status == TaskStatus.RUNNING.value,
            tasks.c.lease_owner == claim.owner,
            tasks.c.lease_token == claim.token,
        )

    def heartbeat(self, claim: Claim, lease_seconds: float, progress: float) -> bool | None:
        with write_transaction(self.engine) as conn:
            now = self._clock(conn)
            result = conn.execute(
                tasks.update()
                .where(self._fenced(claim))
                .values(lease_expires_at=now + lease_seconds, progress=progress)
            )
            if result.rowcount != 1:
                return None
            return bool(
                conn.execute(
                    sa.select(tasks.c.cancel_requested).where(tasks.c.id == claim.task.id)
                ).scalar_one()
            )

    def complete(self, claim: Claim, outputs: TaskOutputs, execution_ms: int) -> bool:
        return self._finish(
            claim,
            status=TaskStatus.SUCCEEDED,
            outputs=outputs.to_json(),
            progress=1.0,
            execution_ms=execution_ms,
        )

    def fail(self, claim: Claim, code: str, message: str, execution_ms: int) -> bool:
        return self._finish(
            claim,
            status=TaskStatus.FAILED,
            error_code=code,
            error_message=message,
            execution_ms=execution_ms,
        )

    def release(
        self, claim: Claim, *, retry_delay: float, reason: str, count_attempt: bool = True
    ) -> TaskStatus | None:
        """See the contract."""
        with write_transaction(self.engine) as conn:
            now = self._clock(conn)
            row = conn.execute(
                sa.select(tasks.c.attempts, tasks.c.max_attempts).where(self._fenced(claim))
            ).first()
            if row is None:
                return None
            lease_cleared = {"lease_owner": None, "lease_token": None, "lease_expires_at": None}
            if count_attempt and row.attempts >= row.max_attempts:
                conn.execute(
                    tasks.update()
                    .where(tasks.c.id == claim.task.id)
                    .values(
                        status=TaskStatus.FAILED.value,
                        error_code="InternalServiceError",
                        error_message=f"{reason} (gave up after {row.attempts} attempts)",
                        updated_at=now,
                        finished_at=now,
                        **lease_cleared,
                    )
                )
                return TaskStatus.FAILED
            conn.execute(
                tasks.update()
                .where(tasks.c.id == claim.task.id)
                .values(
                    status=TaskStatus.QUEUED.value,
                    available_at=now + retry_delay,
                    attempts=row.attempts if count_attempt else row.attempts - 1,
                    progress=0.0,
                    updated_at=now,
                    **lease_cleared,
                )
            )
            return TaskStatus.QUEUED

    def _finish(self, claim: Claim, *, status: TaskStatus, **values: Any) -> bool:
        with write_transaction(self.engine) as conn:
            now = self._clock(conn)
            result = conn.execute(
                tasks.update()
                .where(self._fenced(claim))
                .values(
                    status=status.value,
                    updated_at=now,
                    finished_at=now,
                    lease_owner=None,
                    lease_token=None,
                    lease_expires_at=None,
                    **values,
                )
            )
            return result.rowcount == 1

    # -- installation-wide values ------------------------------------------------------------

    def get_or_create_meta(self, name: str, make: str) -> str:
        with write_transaction(self.engine) as conn:
            value = conn.execute(sa.select(meta.c.value).where(meta.c.name == name)).scalar()
            if value is not None:
                return str(value)
            try:
                with conn.begin_nested():
                    conn.execute(meta.insert().values(name=name, value=make))
            except IntegrityError:
                # Another process stored it first (PostgreSQL): theirs is the value.
                return str(
                    conn.execute(sa.select(meta.c.value).where(meta.c.name == name)).scalar_one()
                )
            return make

    # -- helpers -----------------------------------------------------------------------------

    def _clock(self, conn: Connection) -> float:
        return float(conn.execute(sa.select(self._now)).scalar_one())


def _account(row: Row[Any]) -> Account:
    return Account(
        id=row.id, name=row.name, webhook_secret=row.webhook_secret, created_at=row.created_at
    )


def _task(row: Row[Any]) -> Task:
    outputs = row.outputs
    return Task(
        id=row.id,
        account_id=row.account_id,
        model=row.model,
        engine=row.engine,
        status=TaskStatus(row.status),
        request=GenerationRequest.from_json(row.request),
        created_at=row.created_at,
        updated_at=row.updated_at,
        expires_at=row.expires_at,
        attempts=row.attempts,
        max_attempts=row.max_attempts,
        started_at=row.started_at,
        finished_at=row.finished_at,
        progress=row.progress,
        execution_ms=row.execution_ms,
        error_code=row.error_code,
        error_message=row.error_message,
        outputs=TaskOutputs(**outputs) if outputs else None,
        idempotency_key=row.idempotency_key,
        cancel_requested=bool(row.cancel_requested),
    )
