"""What a face asks before it asks the operator: whether a push or an undo of a batch can
run now (another window or process holding it, an undo that is not the customer's
latest), what an undo would cost, and which batches a stopped run left to resume."""

from __future__ import annotations

import math
from collections.abc import Iterable

from ..core.models import BatchStatus, RowStatus
from ..store import pushing
from ..store.staging import BatchInfo, BatchStateError, get_batch, list_batches
from .batch_run import holder_gone, lease_seconds, now
from .context import Context
from .estimate import READS, Estimate, chunk_size, run_minutes
from .monday_setup import Limits, MondaySetup
from .undo import check_undoable

__all__ = ["busy_message", "interrupted_batches", "undo_estimate", "undo_refusal"]


def busy_message(ctx: Context, batch_id: int, setup: MondaySetup) -> str | None:
    """Why a run of the batch cannot start now: a live run (this or another window, another
    process or computer) holds it. None when it is free, or its holder is gone."""
    with ctx.store.engine.connect() as conn:
        held = pushing.batch_claim(conn, batch_id)
    if held is None:
        return None
    claim, seen = held
    silent = (now() - seen).total_seconds() if seen is not None else math.inf
    if silent > lease_seconds(setup) or (claim.known and holder_gone(claim)):
        return None
    return f"batch {batch_id} is busy: {claim.text}. Wait for it to finish, then try again"


def undo_refusal(ctx: Context, batch_id: int) -> str | None:
    """Why the batch cannot be undone (not the customer's latest, another batch open ...);
    None when it can."""
    try:
        check_undoable(ctx, batch_id)
    except BatchStateError as exc:
        return str(exc)
    return None


def undo_estimate(ctx: Context, batch_id: int, limits: Limits | None = None) -> Estimate:
    """An undo's cost and time, by the push estimate's model: an item of the batch on the
    board is deleted or reverted, a size of an item kept is deleted, reverted or made again
    (at most: rows whose sizes alone changed need no request of their own)."""
    limits = limits or Limits()
    with ctx.store.engine.connect() as conn:
        batch = get_batch(conn, batch_id)
        rows = {r.stg_id: r for r in pushing.load_rows(conn, batch_id)}
        subs = pushing.load_subitems(conn, batch_id)
    items = sum(1 for r in rows.values() if r.status is RowStatus.PUSHED and r.item_id)
    subitems = sum(
        1 for s in subs if s.status is RowStatus.PUSHED and rows[s.stg_parent_id].keeps_item
    )
    mutations = items + subitems
    requests = math.ceil(mutations / chunk_size(limits)) + READS
    return Estimate(
        batch_id=batch_id,
        customer=batch.customer,
        items=items,
        subitems=subitems,
        mutations=mutations,
        requests=requests,
        complexity=mutations * limits.mutation_cost,
        minutes=run_minutes(limits, mutations, requests),
        daily_share=requests / limits.daily_requests,
    )


def interrupted_batches(
    ctx: Context, batches: Iterable[BatchInfo] | None = None
) -> list[BatchInfo]:
    """Batches a stopped push left to resume: PARTIAL, or PUSHING while no live run holds
    them (a crash, a kill, a window closed mid-push)."""
    with ctx.store.engine.connect() as conn:
        known = list(batches) if batches is not None else list_batches(conn)
        out = []
        for batch in known:
            if batch.status == BatchStatus.PARTIAL.value:
                out.append(batch)
            elif batch.status == BatchStatus.PUSHING.value:
                held = pushing.batch_claim(conn, batch.batch_id)
                if held is not None and held[0].known and holder_gone(held[0]):
                    out.append(batch)
    return out
