"""Crash recovery: what a stopped run left in flight, settled before anything new is sent.

The rows a stopped push left SENDING belong to the one request whose answer never came
back. Its creates are looked up on the board first (look before creating: monday may not
honour the Idempotency-Key, or no longer hold it). What is found is adopted and the rest
sent again later (settle_unknown). When nothing is found and the request is recent, it is
sent again as it was (the same rows in one chunk, so the same Idempotency-Key): it may
still be running on monday.com, which then makes the copy wait (409) and answers it from
the first one; or it never arrived, and runs now. Push and undo both recover this way,
recording as a push records.
"""

from __future__ import annotations

import logging
import sys
from datetime import timedelta

from ..core.models import RowStatus
from ..core.staged import RETRYABLE
from ..monday.board import ensure_group, find_items, subitems_of
from ..monday.operations import ChunkPolicy, OperationResult
from .batch_run import BatchRun, Step, now
from .push_plan import Target, group_title, item_plan, subitem_plan
from .push_record import PushRecorder

log = logging.getLogger(__name__)

# monday keeps a mutation's answer under its Idempotency-Key for 30 minutes; a request left
# in flight more recently than this is sent again with its key. The margin allows for the
# clocks of two computers (one killed, the other resuming) to differ.
REPLAY_WINDOW = timedelta(minutes=20)


def target_of(run: BatchRun) -> Target:
    assert run.board is not None
    return Target(
        run.mapping, run.board.board_id, run.board.subitems_board_id, run.setup.limits.mutation_cost
    )


def customer_group(run: BatchRun) -> str:
    """The id of the batch customer's group, created once whatever is lost or resumed."""
    assert run.board is not None
    return ensure_group(run.client, run.board, group_title(run.mapping, run.batch.customer))


def recover_in_flight(run: BatchRun, recorder: PushRecorder) -> None:
    """Settle the rows and sizes a stopped run left SENDING (see the module's rule)."""
    rows = [r for r in run.rows.values() if r.status is RowStatus.SENDING]
    subs = [x for x in run.subs.values() if x.status is RowStatus.SENDING]
    if not rows and not subs:
        return
    stamps = [r.updated_at for r in rows] + [x.updated_at for x in subs]
    recent = all(t is not None and now() - t < REPLAY_WINDOW for t in stamps)
    if not recent or (rows and subs) or reached_board(run, rows, subs):
        settle_unknown(run, recorder)
        return
    target = target_of(run)
    if rows:
        plan = item_plan(target, run.rows.values(), customer_group(run), (RowStatus.SENDING,))
        phase = "push-items"
    else:
        plan = subitem_plan(target, run.rows, run.subs.values(), (RowStatus.SENDING,))
        phase = "push-subitems"
    ops = recorder.apply(plan)
    log.warning(
        "batch %d: %d changes were in flight when the last run stopped: sent again as they "
        "were, so monday.com answers them once",
        run.batch.batch_id,
        len(ops),
    )
    replayed: list[OperationResult] = []

    def record(results: list[OperationResult]) -> None:
        replayed.extend(results)
        recorder.record(results)

    one_chunk = ChunkPolicy(
        max_mutations=max(1, len(ops)), max_complexity=sys.maxsize, budget_per_window=sys.maxsize
    )
    run.total += len(ops)
    run.send(Step(ops, phase, record, recorder.mark_sending, one_chunk))
    # Rows whose items the first request had created: found done, not created twice.
    recorder.adopted += sum(
        1 for r in replayed if r.replayed and r.ok and r.op.kind == "create_item"
    )


def reached_board(run: BatchRun, rows: list, subs: list) -> bool:
    """Did any create of the request in flight reach the board? (One lookup.)"""
    assert run.board is not None
    creates = [r for r in rows if r.creates_item]
    if creates:
        hits = find_items(
            run.client,
            run.board.board_id,
            run.mapping.record_uuid_column.column_id,
            [r.record_uuid for r in creates],
        )
        old = {r.record_uuid: r.previous.monday_item_id if r.previous else None for r in creates}
        return any(hit.item_id != old[u] for u, hit in hits.items())
    made = [
        (run.rows[x.stg_parent_id].item_id, x.size)
        for x in subs
        if x.created_under(run.rows[x.stg_parent_id]) and run.rows[x.stg_parent_id].item_id
    ]
    if not made:
        return False
    existing = subitems_of(run.client, sorted({parent for parent, _ in made if parent}))
    return any(size in existing.get(parent or "", {}) for parent, size in made)


def settle_unknown(run: BatchRun, recorder: PushRecorder) -> None:
    """Rows in flight too long ago for monday's cache: look their creates up on the board.

    Changes and deletes are safe to send again; a create is not, so a row whose push
    creates its item and that is found on the board by its record_uuid is adopted (with its
    subitems, matched by size) instead of created twice."""
    assert run.board is not None
    sending = [r for r in run.rows.values() if r.status is RowStatus.SENDING]
    new_rows = [r for r in sending if r.creates_item]
    found = (
        find_items(
            run.client,
            run.board.board_id,
            run.mapping.record_uuid_column.column_id,
            [r.record_uuid for r in new_rows],
        )
        if new_rows
        else {}
    )
    # Rows pushed earlier but not yet promoted may also have subitems in flight.
    parents = {
        r.item_id
        for r in run.rows.values()
        if r.item_id
        and any(s.status is RowStatus.SENDING and s.created_under(r) for s in run.subs_of(r))
    }
    parents |= {f.item_id for f in found.values()}
    existing = subitems_of(run.client, sorted(parents)) if parents else {}
    sending_ids = {r.stg_id for r in sending}
    in_flight_parents = {
        x.stg_parent_id for x in run.subs.values() if x.status is RowStatus.SENDING
    }
    with run.engine.begin() as conn:
        for row in sending:
            hit = found.get(row.record_uuid) if row.creates_item else None
            if (
                hit is not None
                and row.previous is not None
                and (hit.item_id == row.previous.monday_item_id)
            ):
                hit = None  # a returning record's old item (archived, or deleted) is not new
            if hit is not None:
                row.status, row.item_id = RowStatus.PUSHED, hit.item_id
                recorder.adopted += 1
                log.warning(
                    "order %s was already on the board (item %s): adopted, not created again",
                    row.order_number,
                    hit.item_id,
                )
            else:
                row.status = RowStatus.PENDING
            run.save_row(conn, row)
        for sub in run.subs.values():
            parent = run.rows[sub.stg_parent_id]
            retried = parent.stg_id in sending_ids and sub.status in RETRYABLE
            if (
                sub.created_under(parent)
                and parent.item_id
                and (sub.status is RowStatus.SENDING or retried)
            ):
                sub_id = existing.get(parent.item_id, {}).get(sub.size)
                if sub_id is not None:
                    sub.status, sub.subitem_id, sub.error = RowStatus.PUSHED, sub_id, None
                    run.save_subitem(conn, sub)
                    continue
            if sub.status is RowStatus.SENDING:
                sub.status, sub.error = RowStatus.PENDING, None
                run.save_subitem(conn, sub)
        # The rows settled here, and the parents of the sizes settled here: a row whose last
        # sizes were adopted is complete now, and no later answer would promote it.
        recorder.promote_complete(conn, sending_ids | in_flight_parents)
