"""Stage, roll back and list batches."""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import datetime

import pandas as pd

from ..core.columns import COLOUR, ORDER_NUMBER, PO_NUMBER, STYLE
from ..core.models import STAGEABLE, ChangeType, RowChange
from ..store import staging as store_staging
from ..store.staging import BatchConflictError, BatchInfo, HeldOrder
from .context import Context
from .detection import Preview, preview

log = logging.getLogger(__name__)


class NothingToStageError(RuntimeError):
    pass


def _now() -> datetime:
    # Naive local time: what operators read in the history, and what DATETIME2 stores.
    return datetime.now().replace(microsecond=0)


def _raise_if_locked(ctx: Context, customer: str) -> None:
    with ctx.store.engine.connect() as conn:
        batch_id = store_staging.open_batches(conn).get(customer)
        if batch_id is None:
            return
        batch = store_staging.get_batch(conn, batch_id)
    raise BatchConflictError(
        customer, batch.batch_id, batch.operator, batch.created_at, batch.status
    )


def stage(
    ctx: Context,
    customer: str,
    *,
    types: Sequence[ChangeType] = STAGEABLE,
    po_number: str | None = None,
    limit: int | None = None,
    exclude: Collection[str] = (),
    found: Preview | None = None,
) -> BatchInfo:
    """Stage a customer's change set (the chosen types, minus excluded rows) as one batch.

    `found`: the customer's whole change set as the caller just previewed it (a scheduled
    run holds it to its safeguards first): not read and hashed a second time."""
    customer = ctx.customers.canonical(customer) or customer
    _raise_if_locked(ctx, customer)  # say so before the detection work, not after
    wanted = set(types)
    if found is None or found.customer != customer or po_number is not None:
        found = preview(ctx, customer, po_number=po_number)
    chosen = [c for c in found.changes if c.change_type in wanted]
    excluded = [c for c in chosen if c.record_uuid in exclude]
    chosen = [c for c in chosen if c.record_uuid not in exclude]
    held = _held_elsewhere(ctx, chosen)
    chosen = [c for c in chosen if c.record_uuid not in held]
    if limit is not None:
        chosen = chosen[:limit]
    if not chosen:
        counts = found.counts
        raise NothingToStageError(
            f"{customer} has nothing to stage for {','.join(t.value for t in types)}"
            f"{f' in PO {po_number}' if po_number else ''} ({counts.new} new, "
            f"{counts.changed} changed, {counts.deleted} deleted, {counts.invalid} invalid)"
            + "".join(f"; {h}" for h in list(held.values())[:5])
        )
    batch = store_staging.stage_batch(
        ctx.store.engine,
        customer=customer,
        operator=ctx.operator,
        changes=chosen,
        change_types=[t for t in STAGEABLE if t in wanted],
        key_fields=(ORDER_NUMBER, PO_NUMBER, STYLE, COLOUR),
        now=_now(),
        filter_po=po_number,
        filter_limit=limit,
        excluded_count=len(excluded),
        invalid_count=len(found.errors),
        previous=found.previous,
    )
    batch = replace(batch, held=tuple(held.values()))
    for order in batch.held:
        log.warning("%s: left out of batch %d (%s)", order, batch.batch_id, customer)
    return batch


def _held_elsewhere(ctx: Context, changes: Sequence[RowChange]) -> dict[str, HeldOrder]:
    """The orders of a change set that another open batch holds: an order moved to this
    customer (in the source, or by the customer map) while its old customer's batch is
    open is that batch's to push."""
    with ctx.store.engine.connect() as conn:
        return store_staging.held_orders(conn, [c.record_uuid for c in changes])


def rollback(ctx: Context, batch_id: int) -> BatchInfo:
    """Roll back a batch that has not reached monday.com."""
    return store_staging.rollback_unpushed(ctx.store.engine, batch_id, now=_now())


def history(ctx: Context, customer: str | None = None) -> list[BatchInfo]:
    # Batches are filed under the canonical customer (as stage() names it): the name as
    # typed (`--customer greyson`, or a spelling the map folds) is folded the same way.
    if customer:
        customer = ctx.customers.canonical(customer) or customer
    with ctx.store.engine.connect() as conn:
        return store_staging.list_batches(conn, customer)


def batch_rows(ctx: Context, batch_id: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The staged rows and subitems of a batch, with their push status, for display."""
    with ctx.store.engine.connect() as conn:
        return (
            store_staging.staged_rows_frame(conn, batch_id),
            store_staging.staged_subitems_frame(conn, batch_id),
        )


def batch_statuses(ctx: Context, batch_id: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Only the push status of a batch's rows and subitems (ids, status, monday id, message,
    retries): what a window re-reads while a push runs."""
    with ctx.store.engine.connect() as conn:
        return store_staging.staged_statuses(conn, batch_id)


def get(ctx: Context, batch_id: int) -> BatchInfo:
    with ctx.store.engine.connect() as conn:
        return store_staging.get_batch(conn, batch_id)


__all__ = [
    "BatchConflictError",
    "BatchInfo",
    "NothingToStageError",
    "batch_rows",
    "batch_statuses",
    "get",
    "history",
    "rollback",
    "stage",
]
