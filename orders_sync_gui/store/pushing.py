"""What a push and an undo read from, and write back to, the staging tables and sync state.

Each response's results are written in one transaction together with the sync state they
imply, so a kill between two responses loses nothing monday.com confirmed.
"""

from __future__ import annotations

import json
import os
import socket
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Column, ColumnElement, Connection, Row, Table, and_, delete, select, update

from ..core.models import BatchStatus, ChangeType, Record, RowStatus
from ..core.staged import StagedRow, StagedSubitem, StateRow
from .schema import batches, customer_locks, staged_rows, staged_subitems, sync_state
from .syncstate import forget_state, save_state, state_from_json, state_json


def load_rows(conn: Connection, batch_id: int) -> list[StagedRow]:
    stmt = (
        select(staged_rows)
        .where(staged_rows.c.stg_batch_id == batch_id)
        .order_by(staged_rows.c.stg_id)
    )
    out = []
    for r in conn.execute(stmt):
        uid = str(r.source_uuid)
        out.append(
            StagedRow(
                stg_id=r.stg_id,
                record_uuid=uid,
                source_hash=r.source_hash,
                change_type=ChangeType(r.change_type),
                status=RowStatus(r.stg_status),
                item_id=r.stg_monday_item_id,
                retry_count=r.stg_retry_count,
                order_number=r.order_number,
                customer=r.customer,
                values=json.loads(r.stg_values) if r.stg_values else None,
                previous=state_from_json(uid, r.stg_previous_values)
                if r.stg_previous_values
                else None,
                diff=json.loads(r.stg_diff) if r.stg_diff else None,
                error=r.stg_error_message,
                updated_at=r.stg_updated_at,
            )
        )
    return out


def load_subitems(
    conn: Connection, batch_id: int, only: Sequence[int] | None = None
) -> list[StagedSubitem]:
    stmt = (
        select(staged_subitems)
        .where(staged_subitems.c.stg_batch_id == batch_id)
        .order_by(staged_subitems.c.stg_subitem_id)
    )
    if only is not None:  # a few (add_subitems): well under SQL Server's 2,100 parameters
        stmt = stmt.where(staged_subitems.c.stg_subitem_id.in_(list(only)))
    return [
        StagedSubitem(
            stg_subitem_id=r.stg_subitem_id,
            stg_parent_id=r.stg_parent_id,
            record_uuid=str(r.source_uuid),
            size=r.size_label,
            qty=r.order_qty,
            previous_qty=r.previous_qty,
            change_type=ChangeType(r.change_type),
            status=RowStatus(r.stg_status),
            subitem_id=r.stg_monday_subitem_id,
            retry_count=r.stg_retry_count,
            error=r.stg_error_message,
            updated_at=r.stg_updated_at,
        )
        for r in conn.execute(stmt)
    ]


# The two staging tables differ only in their key and monday id columns.
_ROWS = (staged_rows, "stg_id", "stg_monday_item_id")
_SUBITEMS = (staged_subitems, "stg_subitem_id", "stg_monday_subitem_id")


def _set_status(
    which: tuple[Table, str, str], ids: Sequence[int], status: RowStatus, now: datetime
) -> Iterable[Any]:
    table, key, _ = which
    for i in range(0, len(ids), 1000):  # SQL Server takes at most 2,100 parameters
        yield (
            update(table)
            .where(table.c[key].in_(ids[i : i + 1000]))
            .values(stg_status=status.value, stg_updated_at=now)
        )


def set_row_status(
    conn: Connection, stg_ids: Sequence[int], status: RowStatus, now: datetime
) -> None:
    for stmt in _set_status(_ROWS, stg_ids, status, now):
        conn.execute(stmt)


def set_subitem_status(
    conn: Connection, ids: Sequence[int], status: RowStatus, now: datetime
) -> None:
    for stmt in _set_status(_SUBITEMS, ids, status, now):
        conn.execute(stmt)


def _record(
    conn: Connection,
    which: tuple[Table, str, str],
    ident: int,
    *,
    status: RowStatus,
    now: datetime,
    monday_id: str | None,
    error: str | None,
    failed: bool,
) -> None:
    table, key, id_column = which
    values: dict[str, Any] = {
        "stg_status": status.value,
        "stg_updated_at": now,
        "stg_error_message": error,
    }
    if monday_id is not None:
        values[id_column] = monday_id
    if failed:
        values["stg_retry_count"] = table.c.stg_retry_count + 1
    conn.execute(update(table).where(table.c[key] == ident).values(values))


def record_row(
    conn: Connection,
    stg_id: int,
    *,
    status: RowStatus,
    now: datetime,
    item_id: str | None = None,
    error: str | None = None,
    failed: bool = False,
) -> None:
    _record(
        conn, _ROWS, stg_id, status=status, now=now, monday_id=item_id, error=error, failed=failed
    )


def record_subitem(
    conn: Connection,
    stg_subitem_id: int,
    *,
    status: RowStatus,
    now: datetime,
    subitem_id: str | None = None,
    error: str | None = None,
    failed: bool = False,
) -> None:
    _record(
        conn,
        _SUBITEMS,
        stg_subitem_id,
        status=status,
        now=now,
        monday_id=subitem_id,
        error=error,
        failed=failed,
    )


def promote(
    conn: Connection,
    rows: Iterable[tuple[StagedRow, dict[str, str]]],
    *,
    batch_id: int,
    now: datetime,
    deleted_action: Callable[[StagedRow], str],
) -> int:
    """Move completed rows into the sync state: their hash, values and monday ids.

    `rows` pairs each row with its subitem ids after this batch ({size: id}). A DELETED row
    becomes a tombstone: its last values and monday ids, deleted_at, and what became of
    its item (`deleted_action(row)`: "status", "archive" or "gone").
    """
    keep: list[StateRow] = []
    gone: list[str] = []
    for row, subitem_ids in rows:
        if row.change_type is ChangeType.DELETED:
            if row.previous is None:
                gone.append(row.record_uuid)
            else:
                keep.append(
                    StateRow(
                        row.previous.record,
                        row.item_id or row.previous.monday_item_id,
                        subitem_ids,
                        batch_id,
                        now,
                        deleted_at=now,
                        deleted_action=deleted_action(row),
                    )
                )
            continue
        assert row.values is not None and row.source_hash is not None
        record = Record(
            row.record_uuid,
            row.customer,
            row.values["fields"],
            {k: int(v) for k, v in row.values["sizes"].items()},
            row.source_hash,
            row.values.get("db_hash"),
        )
        keep.append(StateRow(record, row.item_id, subitem_ids, batch_id, now))
    if gone:
        forget_state(conn, gone)
    if keep:
        save_state(conn, keep, now=now)
    return len(keep) + len(gone)


def set_previous(conn: Connection, stg_id: int, previous: StateRow, now: datetime) -> None:
    """A row's record of the sync state before its batch, corrected: the tombstone of a
    returning record whose labelled item turned out to be gone (so undo writes back what
    is true: that item no longer exists)."""
    conn.execute(
        update(staged_rows)
        .where(staged_rows.c.stg_id == stg_id)
        .values(stg_previous_values=state_json(previous), stg_updated_at=now)
    )


def add_subitems(
    conn: Connection, batch_id: int, parent: StagedRow, sizes: dict[str, int], now: datetime
) -> list[StagedSubitem]:
    """Stage sizes a row did not carry (its unchanged ones), for a push that creates the
    row's item anew: each as CHANGED at its own quantity, as staging does for a returning
    record's kept sizes. Returns them as loaded."""
    ids = []
    for size, qty in sizes.items():
        ids.append(
            conn.execute(
                staged_subitems.insert().values(
                    stg_batch_id=batch_id,
                    stg_parent_id=parent.stg_id,
                    source_uuid=parent.record_uuid,
                    size_label=size,
                    order_qty=qty,
                    previous_qty=qty,
                    change_type=ChangeType.CHANGED.value,
                    stg_status=RowStatus.PENDING.value,
                    stg_retry_count=0,
                    stg_created_at=now,
                    stg_updated_at=now,
                )
            ).inserted_primary_key[0]  # type: ignore[index]  # a one-row INSERT has its key
        )
    return load_subitems(conn, batch_id, ids) if ids else []


def recreate_subitem(conn: Connection, stg_subitem_id: int, now: datetime) -> None:
    """A size whose subitem is gone from monday.com becomes a create (NEW): PENDING, its
    subitem id cleared, and counted as a refusal, so that its create gets a new
    Idempotency-Key."""
    conn.execute(
        update(staged_subitems)
        .where(staged_subitems.c.stg_subitem_id == stg_subitem_id)
        .values(
            change_type=ChangeType.NEW.value,
            stg_status=RowStatus.PENDING.value,
            stg_monday_subitem_id=None,
            stg_error_message=None,
            stg_retry_count=staged_subitems.c.stg_retry_count + 1,
            stg_updated_at=now,
        )
    )


def restore(conn: Connection, rows: Iterable[StagedRow], now: datetime) -> None:
    """Undo's write-back: the sync state each row had before its batch (a tombstone
    included, as it was)."""
    back = [r.previous for r in rows if r.previous is not None]
    drop = [r.record_uuid for r in rows if r.previous is None]
    if drop:
        forget_state(conn, drop)
    if back:
        save_state(conn, back, now=now)


@dataclass(frozen=True, slots=True)
class BatchClaim:
    """Which push or undo run holds a batch: MON_BatchProcessing's claim columns (sql/005).

    `run` is the run's random id, "" for a claim whose columns are empty: a batch an app
    before 005 left PUSHING (its claim was only text in the message, kept in `note`),
    which is taken over by the lease alone. `at` is when the run claimed the batch; its
    last sign of life is the batch's updated_at (the heartbeat).
    """

    run: str
    pid: int | None
    host: str | None
    operator: str | None
    activity: str  # "push" or "undo"
    at: datetime | None = None
    note: str | None = None  # an unknown run's account of itself (see above)

    @classmethod
    def new(cls, activity: str, operator: str | None) -> BatchClaim:
        """A claim for a run of this process, with a new run id."""
        return cls(
            run=uuid.uuid4().hex,
            pid=os.getpid(),
            host=socket.gethostname()[:255],
            operator=operator[:100] if operator else None,
            activity=activity,
        )

    @classmethod
    def unknown(cls, note: str | None) -> BatchClaim:
        return cls(run="", pid=None, host=None, operator=None, activity="", note=note)

    @property
    def known(self) -> bool:
        """False: the claim of a run this app cannot identify (see the class)."""
        return bool(self.run)

    @property
    def text(self) -> str:
        """For people (the batch's message, a refusal): "push in progress · run 1a2b3c4d ·
        pid 1234 on HOST · a.nowak"."""
        if not self.known:
            return self.note or "another run"
        parts = [f"{self.activity} in progress", f"run {self.run[:8]}"]
        if self.pid is not None:
            parts.append(f"pid {self.pid}" + (f" on {self.host}" if self.host else ""))
        elif self.host:
            parts.append(f"on {self.host}")
        if self.operator:
            parts.append(self.operator)
        return " · ".join(parts)

    def __str__(self) -> str:
        return self.text


_CLAIM = (
    batches.c.claim_run,
    batches.c.claim_pid,
    batches.c.claim_host,
    batches.c.claim_operator,
    batches.c.claim_activity,
    batches.c.claim_at,
)
_NO_CLAIM: dict[str, Any] = {c.name: None for c in _CLAIM}


def _claim_values(claim: BatchClaim, now: datetime) -> dict[str, Any]:
    return {
        "claim_run": claim.run,
        "claim_pid": claim.pid,
        "claim_host": claim.host,
        "claim_operator": claim.operator,
        "claim_activity": claim.activity,
        "claim_at": now,
    }


def _holder(row: Row[Any]) -> BatchClaim:
    """The claim a batch row records (its status aside)."""
    if row.claim_run is None:
        return BatchClaim.unknown(row.message)
    return BatchClaim(
        run=row.claim_run,
        pid=row.claim_pid,
        host=row.claim_host,
        operator=row.claim_operator,
        activity=row.claim_activity or "",
        at=row.claim_at,
    )


def _same(column: Column[Any], value: Any) -> ColumnElement[bool]:
    return column.is_(None) if value is None else column == value


def _claim_row(conn: Connection, batch_id: int) -> Row[*tuple[Any, ...]]:
    c = batches.c
    return conn.execute(
        select(c.status, c.updated_at, c.message, *_CLAIM).where(c.batch_id == batch_id)
    ).one()


def batch_claim(conn: Connection, batch_id: int) -> tuple[BatchClaim, datetime | None] | None:
    """The claim of the run holding a PUSHING batch, with its last sign of life; None when
    the batch is not PUSHING."""
    row = _claim_row(conn, batch_id)
    if row.status != BatchStatus.PUSHING.value:
        return None
    return _holder(row), row.updated_at


def claim_batch(
    conn: Connection,
    batch_id: int,
    *,
    claim: BatchClaim,
    now: datetime,
    from_statuses: Sequence[BatchStatus],
    lease_seconds: float,
    holder_gone: Callable[[BatchClaim], bool],
) -> BatchClaim | None:
    """Make this run the batch's only pusher (or undoer); None when claimed, else the claim
    of the run that holds it.

    Claimed, the batch is PUSHING, with `claim` in its claim columns (claim_at = now) and
    its text in `message`, for people. A batch another run holds shows PUSHING, with that
    run's claim and its last activity in `updated_at`. It can be taken over when that run
    has been silent past the lease, or when `holder_gone(its claim)` says it is known to be
    gone (a process of this machine that no longer exists). A batch PUSHING without a claim
    (left by an app before sql/005) is held by a run nobody can identify: only the lease
    frees it. The update compares status, updated_at and claim_run, so of two runs racing,
    one wins.
    """
    if not claim.known:
        raise ValueError("a run claims a batch with its own run id (BatchClaim.new)")
    row = _claim_row(conn, batch_id)
    holder = _holder(row)
    free = row.status in {s.value for s in from_statuses}
    stale = row.status == BatchStatus.PUSHING.value and (
        row.updated_at is None
        or (now - row.updated_at).total_seconds() > lease_seconds
        or (holder.known and holder_gone(holder))
    )
    if not (free or stale):
        return holder
    c = batches.c
    claimed = conn.execute(
        update(batches)
        .where(
            c.batch_id == batch_id,
            c.status == row.status,
            _same(c.updated_at, row.updated_at),
            _same(c.claim_run, row.claim_run),
        )
        .values(
            status=BatchStatus.PUSHING.value,
            updated_at=now,
            message=claim.text,
            **_claim_values(claim, now),
        )
    ).rowcount
    if claimed == 1:
        return None
    winner = _claim_row(conn, batch_id)
    if winner.status == BatchStatus.PUSHING.value and winner.claim_run is not None:
        return _holder(winner)
    return BatchClaim.unknown("another run, which claimed it a moment ago")


def set_batch(
    conn: Connection,
    batch_id: int,
    *,
    status: BatchStatus,
    now: datetime,
    succeeded: int | None = None,
    failed: int | None = None,
    message: str | None = None,
    release_lock: bool = False,
) -> None:
    """A run's end: the batch's status, counts and message; its claim is given up (the
    claim columns back to NULL). `release_lock`: the customer's lock too."""
    values: dict[str, Any] = {"status": status.value, "updated_at": now, **_NO_CLAIM}
    if succeeded is not None:
        values["succeeded_count"] = succeeded
    if failed is not None:
        values["failed_count"] = failed
    if message is not None:
        values["message"] = message
    conn.execute(update(batches).where(batches.c.batch_id == batch_id).values(values))
    if release_lock:
        conn.execute(delete(customer_locks).where(customer_locks.c.batch_id == batch_id))


def pushed_later(conn: Connection, batch_id: int, uuids: Sequence[str]) -> dict[str, int]:
    """{record_uuid: batch} of these records whose sync state a later batch wrote (the
    record moved to another customer, whose batch pushed it since): theirs, not this
    batch's, to undo."""
    found: dict[str, int] = {}
    for i in range(0, len(uuids), 1000):  # SQL Server takes at most 2,100 parameters
        stmt = select(sync_state.c.record_uuid, sync_state.c.last_batch_id).where(
            sync_state.c.record_uuid.in_(uuids[i : i + 1000]),
            sync_state.c.last_batch_id > batch_id,
        )
        found.update({str(u): int(b) for u, b in conn.execute(stmt)})
    return found


def latest_pushed_batch(conn: Connection, customer: str) -> int | None:
    """The newest batch of a customer that reached monday.com (the only one undo may revert)."""
    stmt = (
        select(batches.c.batch_id)
        .where(
            and_(
                batches.c.customer == customer,
                batches.c.status.in_(
                    [BatchStatus.PUSHED.value, BatchStatus.PARTIAL.value, BatchStatus.PUSHING.value]
                ),
            )
        )
        .order_by(batches.c.batch_id.desc())
        .limit(1)
    )
    return conn.execute(stmt).scalar()


def lock_customer(
    conn: Connection, batch_id: int, customer: str, operator: str, now: datetime
) -> int | None:
    """Hold the customer's lock for this batch (an undo takes back the lock its pushed batch
    gave up); None when held now, else the other batch that holds it. A concurrent stage
    that takes it first makes the insert fail (IntegrityError)."""
    holder = conn.execute(
        select(customer_locks.c.batch_id).where(customer_locks.c.customer == customer)
    ).scalar()
    if holder is None:
        conn.execute(
            customer_locks.insert().values(
                customer=customer, batch_id=batch_id, operator=operator, locked_at=now
            )
        )
        return None
    return None if holder == batch_id else int(holder)


def heartbeat(conn: Connection, batch_id: int, run_id: str, now: datetime) -> bool:
    """The run is alive: keeps its claim from looking abandoned. False when the run no
    longer holds the batch (another took it over, or the run has ended): nothing changes."""
    return (
        conn.execute(
            update(batches)
            .where(batches.c.batch_id == batch_id, batches.c.claim_run == run_id)
            .values(updated_at=now)
        ).rowcount
        == 1
    )
