"""Adoption batches in the store: staged like any batch, and the orders they hold back.

An adoption batch (change_types "ADOPTED") stages one row per order it adopts (ADOPTED: the
item it takes, and the record the board holds for it in stg_values, with the subitem of
each size) and one per order it holds back (HELD: several items, or several orders, share
its match values; the reason in stg_error_message). It takes the customer's lock like any
batch. A HELD order stays held while its batch stands (not undone or rolled back) and it
has no sync state: once an operator's choice adopts it, it is synced, no longer held.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection, Engine, select
from sqlalchemy.exc import IntegrityError

from ..core.models import BatchStatus, ChangeType, Record, RowStatus
from .schema import batches, customer_locks, staged_rows, sync_state
from .staging import BatchInfo, conflict_error, get_batch

ADOPTION = ChangeType.ADOPTED.value  # an adoption batch's change_types
# The batches whose holds stand: an adoption that was not undone, nor discarded unpushed.
_STANDING = (
    BatchStatus.STAGED.value,
    BatchStatus.PUSHING.value,
    BatchStatus.PUSHED.value,
    BatchStatus.PARTIAL.value,
)


@dataclass(frozen=True, slots=True)
class AdoptRow:
    """An order and the item it adopts: the record the board holds for it (its values and
    sizes as the board shows them, hashed), and the subitem of each size."""

    board: Record
    item_id: str
    subitem_ids: dict[str, str]
    keys: tuple[str | None, str | None, str | None, str | None]  # order no, PO, style, colour


@dataclass(frozen=True, slots=True)
class HeldRow:
    record_uuid: str
    keys: tuple[str | None, str | None, str | None, str | None]
    reason: str
    item_ids: tuple[str, ...]


def _clip(value: str | None, column: str) -> str | None:
    length = getattr(staged_rows.c[column].type, "length", None)
    return value[:length] if value is not None and length else value


def _row(batch_id: int, customer: str, now: datetime, uid: str, keys: Sequence[str | None]) -> dict:
    return {
        "stg_batch_id": batch_id,
        "source_uuid": uid,
        "customer": customer,
        "order_number": _clip(keys[0], "order_number"),
        "po_number": _clip(keys[1], "po_number"),
        "style": _clip(keys[2], "style"),
        "colour": _clip(keys[3], "colour"),
        "source_hash": None,
        "order_qty": None,
        "stg_values": None,
        "stg_monday_item_id": None,
        "stg_diff": None,
        "stg_error_message": None,
        "stg_status": RowStatus.PENDING.value,
        "stg_retry_count": 0,
        "stg_created_at": now,
        "stg_updated_at": now,
    }


def stage_adoption(
    engine: Engine,
    *,
    customer: str,
    operator: str,
    adopted: Sequence[AdoptRow],
    held: Sequence[HeldRow],
    now: datetime,
) -> BatchInfo:
    """Stage an adoption batch, all or nothing; refused (BatchConflictError) while the
    customer has an open batch."""
    rows = [
        {
            **_row(0, customer, now, a.board.record_uuid, a.keys),
            "source_hash": a.board.hash,
            "change_type": ChangeType.ADOPTED.value,
            "order_qty": sum(a.board.sizes.values()),
            "stg_values": json.dumps(
                {"fields": a.board.fields, "sizes": a.board.sizes, "subitem_ids": a.subitem_ids},
                ensure_ascii=False,
                separators=(",", ":"),
            ),
            "stg_monday_item_id": a.item_id,
        }
        for a in adopted
    ]
    rows += [
        {
            **_row(0, customer, now, h.record_uuid, h.keys),
            "change_type": ChangeType.HELD.value,
            "stg_diff": json.dumps({"items": list(h.item_ids)}),
            "stg_error_message": h.reason,
        }
        for h in held
    ]
    try:
        with engine.begin() as conn:
            batch_id = conn.execute(
                batches.insert().values(
                    customer=customer,
                    status=BatchStatus.STAGED.value,
                    operator=operator,
                    created_at=now,
                    updated_at=now,
                    change_types=ADOPTION,
                    item_count=len(adopted),
                    subitem_count=sum(len(a.subitem_ids) for a in adopted),
                    new_count=0,
                    changed_count=0,
                    deleted_count=0,
                    excluded_count=len(held),
                    invalid_count=0,
                    succeeded_count=0,
                    failed_count=0,
                    message=f"adoption: {len(adopted)} board items to link, {len(held)} held",
                )
            ).inserted_primary_key[0]  # type: ignore[index]
            conn.execute(
                customer_locks.insert().values(
                    customer=customer, batch_id=batch_id, operator=operator, locked_at=now
                )
            )
            if rows:
                conn.execute(staged_rows.insert(), [{**r, "stg_batch_id": batch_id} for r in rows])
            return get_batch(conn, batch_id)
    except IntegrityError:
        conflict = conflict_error(engine, customer)
        if conflict is not None:
            raise conflict from None
        raise


def held_back(conn: Connection, customer: str | None = None) -> dict[str, str]:
    """{record_uuid: why} of the orders standing adoption batches hold back (see the
    module's rule). The batches first: without an adoption, no staged row is read."""
    stmt = select(batches.c.batch_id).where(
        batches.c.change_types == ADOPTION, batches.c.status.in_(_STANDING)
    )
    if customer is not None:
        stmt = stmt.where(batches.c.customer == customer)
    ids = list(conn.execute(stmt).scalars())
    held: dict[str, str] = {}
    for i in range(0, len(ids), 1000):  # SQL Server takes at most 2,100 parameters
        rows = (
            select(staged_rows.c.source_uuid, staged_rows.c.stg_error_message)
            .outerjoin(sync_state, sync_state.c.record_uuid == staged_rows.c.source_uuid)
            .where(
                staged_rows.c.stg_batch_id.in_(ids[i : i + 1000]),
                staged_rows.c.change_type == ChangeType.HELD.value,
                sync_state.c.record_uuid.is_(None),
            )
        )
        held.update({str(u): r or "held by an adoption" for u, r in conn.execute(rows)})
    return held


def open_adoption(conn: Connection, customer: str) -> BatchInfo | None:
    """The customer's open batch when it is an adoption (one a stopped adopt left)."""
    batch_id = conn.execute(
        select(customer_locks.c.batch_id).where(customer_locks.c.customer == customer)
    ).scalar()
    if batch_id is None:
        return None
    batch = get_batch(conn, batch_id)
    return batch if batch.adoption else None
