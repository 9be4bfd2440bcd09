"""Staging batches: one transaction to stage, one to roll back, a lock per customer."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

import pandas as pd
from sqlalchemy import Connection, Engine, delete, select, update
from sqlalchemy.exc import IntegrityError

from ..core.models import OPEN_BATCH_STATUSES, BatchStatus, ChangeType, RowChange, RowStatus
from ..core.staged import StateRow
from .schema import batches, customer_locks, staged_rows, staged_subitems
from .syncstate import record_json, state_json


class BatchConflictError(RuntimeError):
    """The customer already has an open batch; names it, its operator and its time."""

    def __init__(
        self, customer: str, batch_id: int, operator: str, since: datetime, status: str
    ) -> None:
        super().__init__(
            f"{customer} already has open batch {batch_id} ({status}), staged by {operator} "
            f"at {since:%Y-%m-%d %H:%M}: push it or roll it back first"
        )
        self.customer = customer
        self.batch_id = batch_id
        self.operator = operator
        self.since = since


class BatchStateError(RuntimeError):
    pass


class BatchNotFoundError(LookupError):
    pass


@dataclass(frozen=True, slots=True)
class BatchInfo:
    batch_id: int
    customer: str
    status: str
    operator: str
    created_at: datetime
    updated_at: datetime
    change_types: str
    filter_po: str | None
    filter_limit: int | None
    item_count: int
    subitem_count: int
    new_count: int
    changed_count: int
    deleted_count: int
    excluded_count: int
    invalid_count: int
    succeeded_count: int
    failed_count: int
    message: str | None
    # Orders of the change set that another open batch holds, left out of this one when it
    # was staged (not stored: only the stage that made the batch knows them).
    held: tuple[HeldOrder, ...] = field(default=(), compare=False)

    @property
    def adoption(self) -> bool:
        """An adoption batch (store/adopting.py): board items linked to their orders."""
        return self.change_types == ChangeType.ADOPTED.value

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        out.pop("held")
        out["created_at"] = self.created_at.isoformat(timespec="seconds")
        out["updated_at"] = self.updated_at.isoformat(timespec="seconds")
        return out


def _batch(row: Any) -> BatchInfo:
    return BatchInfo(
        **{name: getattr(row, name) for name in BatchInfo.__dataclass_fields__ if name != "held"}
    )


@dataclass(frozen=True, slots=True)
class HeldOrder:
    """An order that an open batch holds: no other batch may stage it until that one ends."""

    record_uuid: str
    order_number: str | None
    batch_id: int
    customer: str

    def __str__(self) -> str:
        return (
            f"order {self.order_number or self.record_uuid} is in open batch {self.batch_id} "
            f"({self.customer}): push or roll back that batch first"
        )


def held_orders(conn: Connection, uuids: Sequence[str]) -> dict[str, HeldOrder]:
    """Which of these orders an open batch (staged, pushing or partial) holds. A record is
    in at most one open batch: two would each push it, and put two items on the board."""
    open_ = [s.value for s in OPEN_BATCH_STATUSES]
    found: dict[str, HeldOrder] = {}
    for i in range(0, len(uuids), 1000):  # SQL Server takes at most 2,100 parameters
        stmt = (
            select(
                staged_rows.c.source_uuid,
                staged_rows.c.order_number,
                batches.c.batch_id,
                batches.c.customer,
            )
            .join(batches, batches.c.batch_id == staged_rows.c.stg_batch_id)
            .where(batches.c.status.in_(open_), staged_rows.c.source_uuid.in_(uuids[i : i + 1000]))
        )
        for uid, number, batch_id, customer in conn.execute(stmt):
            found[str(uid)] = HeldOrder(str(uid), number, batch_id, customer)
    return found


def get_batch(conn: Connection, batch_id: int) -> BatchInfo:
    row = conn.execute(select(batches).where(batches.c.batch_id == batch_id)).first()
    if row is None:
        raise BatchNotFoundError(f"there is no batch {batch_id}")
    return _batch(row)


def list_batches(
    conn: Connection, customer: str | None = None, limit: int = 500
) -> list[BatchInfo]:
    stmt = select(batches).order_by(batches.c.batch_id.desc()).limit(limit)
    if customer is not None:
        stmt = stmt.where(batches.c.customer == customer)
    return [_batch(r) for r in conn.execute(stmt)]


def open_batches(conn: Connection) -> dict[str, int]:
    """{customer: batch id} of every customer that holds a lock."""
    return {
        c: b for c, b in conn.execute(select(customer_locks.c.customer, customer_locks.c.batch_id))
    }


def conflict_error(engine: Engine, customer: str) -> BatchConflictError | None:
    """The error naming the customer's open batch; None when it has none."""
    with engine.connect() as conn:
        lock = conn.execute(
            select(customer_locks).where(customer_locks.c.customer == customer)
        ).first()
        if lock is None:
            return None
        status = conn.execute(
            select(batches.c.status).where(batches.c.batch_id == lock.batch_id)
        ).scalar()
    return BatchConflictError(
        customer, lock.batch_id, lock.operator, lock.locked_at, status or "unknown"
    )


def _diff_json(change: RowChange) -> str | None:
    if change.change_type is not ChangeType.CHANGED:
        return None
    return json.dumps(
        {
            "fields": [{"field": d.field, "old": d.old, "new": d.new} for d in change.field_diffs],
            "sizes": [{"size": d.size, "old": d.old, "new": d.new} for d in change.size_diffs],
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def _previous_json(change: RowChange, previous: Mapping[str, StateRow]) -> str | None:
    """The row's sync state before this batch (values and monday ids): the diff's "old" and
    what undo writes back. For a NEW row, the tombstone of a record that comes back: its
    push takes up the item the delete left on the board, and its undo writes the
    tombstone back."""
    if change.old is None:
        tomb = previous.get(change.record_uuid)
        return state_json(tomb) if tomb is not None and tomb.tombstone else None
    state = previous.get(change.record_uuid) or StateRow(change.old)
    return state_json(state)


def _clip(value: str | None, column: str) -> str | None:
    """Key fields are for display and search; the full values live in stg_values."""
    length = getattr(staged_rows.c[column].type, "length", None)
    return value[:length] if value is not None and length else value


def _subitem_rows(
    change: RowChange, tomb: StateRow | None = None
) -> list[tuple[str, int | None, int | None, ChangeType]]:
    """(size, qty, previous qty, change type) of the subitem work a staged row carries."""
    if change.change_type is ChangeType.NEW and change.new is not None:
        if tomb is not None and tomb.kept_item_id:
            # A record that comes back to the item its delete labelled: that item still has
            # the subitems it had. Every size it keeps is written (CHANGED, also at the same
            # quantity: the push sets the whole item, and should the item be gone by then,
            # the push creates a new one with every size), a new size is created, a size it
            # no longer has is deleted.
            old, new = tomb.record.sizes, change.new.sizes
            kept: list[tuple[str, int | None, int | None, ChangeType]] = [
                (s, q, old.get(s), ChangeType.CHANGED if s in old else ChangeType.NEW)
                for s, q in new.items()
            ]
            return kept + [(s, None, q, ChangeType.DELETED) for s, q in old.items() if s not in new]
        return [(s, q, None, ChangeType.NEW) for s, q in change.new.sizes.items()]
    if change.change_type is ChangeType.CHANGED:
        return [
            (
                d.size,
                d.new,
                d.old,
                ChangeType.NEW
                if d.old is None
                else ChangeType.DELETED
                if d.new is None
                else ChangeType.CHANGED,
            )
            for d in change.size_diffs
        ]
    return []  # DELETED: the item's fate (archive or a status) covers its subitems


def stage_batch(
    engine: Engine,
    *,
    customer: str,
    operator: str,
    changes: Sequence[RowChange],
    change_types: Sequence[ChangeType],
    key_fields: tuple[str, str, str, str],
    now: datetime,
    filter_po: str | None = None,
    filter_limit: int | None = None,
    excluded_count: int = 0,
    invalid_count: int = 0,
    previous: Mapping[str, StateRow] | None = None,
) -> BatchInfo:
    """Stage the changes as one batch, all or nothing; refuse when the customer is locked.

    key_fields: the source columns shown per staged row (order number, PO, style, colour).
    """
    previous = previous or {}
    counts = {t: sum(1 for c in changes if c.change_type is t) for t in ChangeType}
    subitems = {
        c.record_uuid: _subitem_rows(
            c, previous.get(c.record_uuid) if c.change_type is ChangeType.NEW else None
        )
        for c in changes
    }
    order_no, po, style, colour = key_fields
    try:
        with engine.begin() as conn:
            batch_id = conn.execute(
                batches.insert().values(
                    customer=customer,
                    status=BatchStatus.STAGED.value,
                    operator=operator,
                    created_at=now,
                    updated_at=now,
                    change_types=",".join(t.value for t in change_types),
                    filter_po=filter_po,
                    filter_limit=filter_limit,
                    item_count=len(changes),
                    subitem_count=sum(len(v) for v in subitems.values()),
                    new_count=counts[ChangeType.NEW],
                    changed_count=counts[ChangeType.CHANGED],
                    deleted_count=counts[ChangeType.DELETED],
                    excluded_count=excluded_count,
                    invalid_count=invalid_count,
                    succeeded_count=0,
                    failed_count=0,
                )
            ).inserted_primary_key[0]  # type: ignore[index]  # a one-row INSERT has its key
            # The lock's primary key makes a concurrent second batch fail right here.
            conn.execute(
                customer_locks.insert().values(
                    customer=customer, batch_id=batch_id, operator=operator, locked_at=now
                )
            )
            if changes:
                conn.execute(
                    staged_rows.insert(),
                    [
                        {
                            "stg_batch_id": batch_id,
                            "source_uuid": c.record_uuid,
                            "source_hash": c.new.hash if c.new else None,
                            "change_type": c.change_type.value,
                            "customer": customer,
                            "order_number": _clip(c.value(order_no), "order_number"),
                            "po_number": _clip(c.value(po), "po_number"),
                            "style": _clip(c.value(style), "style"),
                            "colour": _clip(c.value(colour), "colour"),
                            "order_qty": sum(c.current.sizes.values()),
                            "stg_values": record_json(c.new) if c.new else None,
                            "stg_previous_values": _previous_json(c, previous),
                            "stg_diff": _diff_json(c),
                            "stg_status": RowStatus.PENDING.value,
                            "stg_retry_count": 0,
                            "stg_created_at": now,
                            "stg_updated_at": now,
                        }
                        for c in changes
                    ],
                )
            parent_ids = dict(
                conn.execute(
                    select(staged_rows.c.source_uuid, staged_rows.c.stg_id).where(
                        staged_rows.c.stg_batch_id == batch_id
                    )
                ).all()
            )
            sub_rows = [
                {
                    "stg_batch_id": batch_id,
                    "stg_parent_id": parent_ids[uid],
                    "source_uuid": uid,
                    "size_label": size,
                    "order_qty": qty,
                    "previous_qty": prev,
                    "change_type": kind.value,
                    "stg_status": RowStatus.PENDING.value,
                    "stg_retry_count": 0,
                    "stg_created_at": now,
                    "stg_updated_at": now,
                }
                for uid, rows in subitems.items()
                for size, qty, prev, kind in rows
            ]
            if sub_rows:
                conn.execute(staged_subitems.insert(), sub_rows)
            return get_batch(conn, batch_id)
    except IntegrityError:
        conflict = conflict_error(engine, customer)
        if conflict is not None:
            raise conflict from None
        raise


def rollback_unpushed(engine: Engine, batch_id: int, *, now: datetime) -> BatchInfo:
    """Discard a STAGED batch in one transaction: its rows go, source and sync state stay."""
    with engine.begin() as conn:
        batch = get_batch(conn, batch_id)
        if batch.status != BatchStatus.STAGED:
            raise BatchStateError(
                f"batch {batch_id} is {batch.status}: only a STAGED batch can be rolled back "
                "without touching monday.com"
            )
        conn.execute(delete(staged_subitems).where(staged_subitems.c.stg_batch_id == batch_id))
        conn.execute(delete(staged_rows).where(staged_rows.c.stg_batch_id == batch_id))
        conn.execute(delete(customer_locks).where(customer_locks.c.batch_id == batch_id))
        conn.execute(
            update(batches)
            .where(batches.c.batch_id == batch_id)
            .values(
                status=BatchStatus.ROLLED_BACK.value,
                updated_at=now,
                message=f"rolled back before push; {batch.item_count} staged rows discarded",
            )
        )
        return get_batch(conn, batch_id)


def is_open(status: str) -> bool:
    return status in {s.value for s in OPEN_BATCH_STATUSES}


def staged_rows_frame(conn: Connection, batch_id: int) -> pd.DataFrame:
    stmt = (
        select(staged_rows)
        .where(staged_rows.c.stg_batch_id == batch_id)
        .order_by(staged_rows.c.stg_id)
    )
    result = conn.execute(stmt)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


def staged_subitems_frame(conn: Connection, batch_id: int) -> pd.DataFrame:
    stmt = (
        select(staged_subitems)
        .where(staged_subitems.c.stg_batch_id == batch_id)
        .order_by(staged_subitems.c.stg_subitem_id)
    )
    result = conn.execute(stmt)
    return pd.DataFrame(result.fetchall(), columns=list(result.keys()))


# What a push changes on a staged row: all a live view needs to re-read while it runs.
ROW_STATUS_COLUMNS = ("stg_status", "stg_monday_item_id", "stg_error_message", "stg_retry_count")
SUBITEM_STATUS_COLUMNS = (
    "stg_status",
    "stg_monday_subitem_id",
    "stg_error_message",
    "stg_retry_count",
)


def staged_statuses(conn: Connection, batch_id: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The push status of a batch's rows and subitems, keyed by their ids: a few narrow
    columns, not the staged values (a tenth of the work of the full frames)."""
    frames = []
    for table, key, columns in (
        (staged_rows, "stg_id", ROW_STATUS_COLUMNS),
        (staged_subitems, "stg_subitem_id", SUBITEM_STATUS_COLUMNS),
    ):
        stmt = (
            select(table.c[key], *(table.c[c] for c in columns))
            .where(table.c.stg_batch_id == batch_id)
            .order_by(table.c[key])
        )
        result = conn.execute(stmt)
        frames.append(pd.DataFrame(result.fetchall(), columns=list(result.keys())))
    return frames[0], frames[1]
