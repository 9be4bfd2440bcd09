"""True undo of a pushed batch: monday.com and the sync state as they were before it.

Items the batch created are deleted (their subitems with them); items it changed get their
previous values back, subitem by subitem; a status-label delete is reverted. What the API
cannot undo is said before the push (see estimate.py) and again in the report: an archived
item stays archived (restore it from the board's archive), and a subitem the batch deleted
comes back as a new subitem without the production figures planners had typed on it.
Undo is resumable like a push: rows already reverted are skipped.

A returning record (NEW, with the tombstone of its pushed delete) is undone as what its
push did: the item it took up again gets the tombstone's values and label back, an item it
created is deleted; either way the tombstone is written back as it was.

Idempotency: each request's key names its rows and their attempt (their retry count, which
a refusal recorded here raises, as a push's does). A killed undo re-sends its chunk under
the same key and gets monday's cached answer (nothing done twice); a row monday refused is
sent again under a new key, so that a second undo really runs it instead of getting the
cached refusal for 30 minutes.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from ..core.board_values import compact_json, item_values, subitem_values
from ..core.models import BatchStatus, ChangeType, RowStatus
from ..core.staged import StagedRow
from ..monday.client import MondayError
from ..monday.operations import ChunkPolicy, Operation, OperationResult
from ..store import pushing
from ..store.staging import BatchInfo, BatchStateError, get_batch, open_batches
from .batch_run import GONE_CODES, Progress, _now, finish, running, start
from .context import Context
from .monday_setup import MondaySetup
from .push import _Session, recover_in_flight
from .push_plan import _renamed, change_op, recreates, whole_item

log = logging.getLogger(__name__)


@dataclass(slots=True)
class UndoReport:
    batch_id: int
    status: str
    undone: int = 0
    failed: int = 0
    not_undoable: list[str] = field(default_factory=list)
    requests: int = 0
    mutations: int = 0
    seconds: float = 0.0
    message: str = ""
    # The batch as the run left it (status, counts, message): the faces show it as is.
    batch: BatchInfo | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "batch_id": self.batch_id,
            "status": self.status,
            "undone": self.undone,
            "failed": self.failed,
            "not_undoable": self.not_undoable,
            "requests": self.requests,
            "mutations": self.mutations,
            "seconds": round(self.seconds, 2),
            "message": self.message,
        }


class _UndoSession(_Session):
    def mark_sending(self, ops: list[Operation]) -> None:
        """Fix: an undo's rows are not marked SENDING. SENDING means "a push's create may
        be on monday", and the next run settled such rows as a crashed push would: an item
        whose delete had run was not found, so its row went back to PENDING, was never
        restored (its sync state still named the deleted item) and the batch said UNDONE.
        Left PUSHED, a killed undo simply runs again: a delete of what is gone counts as
        done, a revert of values is the same twice, and a chunk resent unchanged gets its
        first answer replayed (same Idempotency-Key)."""

    def record(self, results: list[OperationResult]) -> None:
        now = _now()
        touched: set[int] = set()
        with self.engine.begin() as conn:
            self.heartbeat(conn, now)
            for res in results:
                kind, ident = res.op.key[0], int(res.op.key[1:])
                gone = res.error is not None and res.error.code in GONE_CODES
                # Deleting what is already gone is done; so is taking the label off a
                # deleted order's item that is gone (its push may have found it so).
                ok = res.ok or (
                    gone
                    and (
                        res.op.kind == "delete_item"
                        or (kind == "r" and self.rows[ident].change_type is ChangeType.DELETED)
                    )
                )
                error = None if ok else f"undo: {res.error}"
                if kind == "r":
                    row = self.rows[ident]
                    status = RowStatus.UNDONE if ok else RowStatus.PUSHED
                    row.error = error
                    if ok and self.creates_item(row):
                        for sub in self.subs_of(row):  # deleted with their parent
                            sub.status = RowStatus.UNDONE
                            pushing.record_subitem(
                                conn,
                                sub.stg_subitem_id,
                                status=sub.status,
                                now=now,
                                subitem_id=sub.subitem_id,
                            )
                    row.status = status
                    if not ok:  # a refusal: the row's next request gets a new key
                        row.retry_count += 1
                    pushing.record_row(
                        conn,
                        ident,
                        status=status,
                        now=now,
                        item_id=row.item_id,
                        error=error,
                        failed=not ok,
                    )
                    touched.add(ident)
                else:
                    sub = self.subs[ident]
                    if ok:
                        sub.status = RowStatus.UNDONE
                        if res.op.kind == "create_subitem":  # a deleted size, recreated
                            sub.subitem_id = res.item_id
                    else:
                        sub.retry_count += 1
                    sub.error = error
                    pushing.record_subitem(
                        conn,
                        ident,
                        status=sub.status,
                        now=now,
                        subitem_id=sub.subitem_id,
                        error=error,
                        failed=not ok,
                    )
                    touched.add(sub.stg_parent_id)
                if not ok:
                    log.error("undo of order %s: %s", self._order_of(res.op), res.error)
            self._restore_complete(conn, touched, now)

    def _restore_complete(self, conn, stg_ids: set[int], now: datetime) -> None:  # type: ignore[no-untyped-def]
        done = []
        for stg_id in stg_ids:
            row = self.rows[stg_id]
            if row.status is RowStatus.UNDONE and all(
                s.status in (RowStatus.UNDONE, RowStatus.FAILED, RowStatus.PENDING)
                for s in self.subs_of(row)
            ):
                if recreates(row):
                    # A changed order whose item was gone got a new item, which the undo
                    # deleted: its state goes back to what the database had, the old
                    # (gone) item's id; "gone" only marked the row a create (see
                    # push.recreates). Its next push meets monday's answer again.
                    assert row.previous is not None
                    row.previous.deleted_action = None
                if row.previous is not None:
                    # Recreated subitems have new ids: the restored state must know them.
                    for sub in self.subs_of(row):
                        if sub.change_type is ChangeType.DELETED and sub.subitem_id:
                            row.previous.subitem_ids[sub.size] = sub.subitem_id
                done.append(row)
        if done:
            pushing.restore(conn, done, now)


def _undo_ops(s: _UndoSession) -> tuple[list[Operation], list[str]]:
    assert s.board is not None
    mapping, cost = s.mapping, s.setup.limits.mutation_cost
    ops: list[Operation] = []
    not_undoable: list[str] = []
    for row in s.rows.values():
        if row.status is not RowStatus.PUSHED or not row.item_id:
            continue
        key, attempt = f"r{row.stg_id}", row.retry_count
        if s.creates_item(row):
            ops.append(
                Operation(key, "delete_item", {"item_id": row.item_id}, attempt=attempt, cost=cost)
            )
            continue
        assert row.previous is not None
        if row.kept_item_id:
            # A returning record took up its labelled item: the tombstone's values, name
            # and label go back on it.
            previous = row.previous.record
            values = whole_item(mapping, row, previous.fields, previous.sizes, labelled=True)
        elif row.change_type is ChangeType.DELETED:
            action = mapping.deleted_action
            if action.get("kind") != "status":
                not_undoable.append(
                    f"order {row.order_number}: archived item {row.item_id} "
                    "stays archived (restore it from the board's archive)"
                )
                continue
            values = {str(action["column_id"]): None}
        else:
            assert row.diff is not None
            fields = [d["field"] for d in row.diff.get("fields", [])]
            values = item_values(
                mapping,
                row.record_uuid,
                row.previous.record.fields,
                row.previous.record.sizes,
                only=fields,
                with_qty=bool(row.diff.get("sizes")),
            )
            # The push renamed the item when a name field changed: give the old name back.
            old_name = _renamed(mapping, fields, row.previous.record.fields, row.order_number)
            if old_name is not None:
                values["name"] = old_name
        if values:
            ops.append(
                change_op(key, s.board.board_id, row.item_id, values, attempt=attempt, cost=cost)
            )
    for sub in s.subs.values():
        parent = s.rows[sub.stg_parent_id]
        if sub.status is not RowStatus.PUSHED or not _keeps_item(parent):
            continue
        key, attempt = f"s{sub.stg_subitem_id}", sub.retry_count
        if sub.change_type is ChangeType.NEW and sub.subitem_id:
            ops.append(
                Operation(
                    key, "delete_item", {"item_id": sub.subitem_id}, attempt=attempt, cost=cost
                )
            )
        elif sub.change_type is ChangeType.CHANGED and sub.subitem_id:
            ops.append(
                change_op(
                    key,
                    s.board.subitems_board_id,
                    sub.subitem_id,
                    subitem_values(mapping, sub.size, sub.previous_qty),
                    attempt=attempt,
                    cost=cost,
                    create_labels=False,
                )
            )
        elif sub.change_type is ChangeType.DELETED:
            not_undoable.append(
                f"order {parent.order_number}: size {sub.size} comes back as "
                "a new subitem, without figures typed on the old one"
            )
            ops.append(
                Operation(
                    key,
                    "create_subitem",
                    {
                        "parent_item_id": parent.item_id,
                        "item_name": sub.size,
                        "column_values": compact_json(
                            subitem_values(mapping, sub.size, sub.previous_qty)
                        ),
                        "create_labels_if_missing": True,
                    },
                    attempt=attempt,
                    cost=cost,
                )
            )
    # Rows whose own values did not change (only subitems) are reverted once their subitems are.
    keys = {op.key for op in ops}  # (a set: scanning `ops` per row was quadratic)
    for row in s.rows.values():
        if (
            row.status is RowStatus.PUSHED
            and row.change_type is ChangeType.CHANGED
            and f"r{row.stg_id}" not in keys
        ):
            row.status = RowStatus.UNDONE
    return ops, not_undoable


def _keeps_item(row: StagedRow) -> bool:
    """A row whose push worked on an item that was there before it (a change, or a
    returning record taking up its item): its subitems are undone one by one. (A changed
    order whose item was gone got a new one: undone as a NEW row's, deleted whole.)"""
    return (row.change_type is ChangeType.CHANGED and not recreates(row)) or bool(row.kept_item_id)


def _check_undoable(ctx: Context, batch_id: int) -> None:
    with ctx.store.engine.connect() as conn:
        batch = get_batch(conn, batch_id)
        latest = pushing.latest_pushed_batch(conn, batch.customer)
        holder = open_batches(conn).get(batch.customer)
    if batch.status not in (BatchStatus.PUSHED, BatchStatus.PARTIAL, BatchStatus.PUSHING):
        raise BatchStateError(f"batch {batch_id} is {batch.status}: there is nothing to undo")
    if latest != batch_id:
        raise BatchStateError(
            f"batch {batch_id} is not {batch.customer}'s latest pushed batch ({latest}): "
            "undo the later one first, so that no newer change is overwritten"
        )
    if holder is not None and holder != batch_id:
        raise BatchStateError(f"{batch.customer} has open batch {holder}: roll it back first")


def undo(
    ctx: Context,
    batch_id: int,
    setup: MondaySetup,
    *,
    progress: Callable[[Progress], None] | None = None,
    should_cancel: Callable[[], bool] = lambda: False,
) -> UndoReport:
    started = time.monotonic()
    _check_undoable(ctx, batch_id)
    with ctx.store.engine.connect() as conn:
        batch = get_batch(conn, batch_id)
    s = _UndoSession(ctx, setup, batch, progress, should_cancel)
    with running(s):
        try:
            start(s, "undo", (BatchStatus.PUSHED, BatchStatus.PARTIAL), lock_customer=True)
            return _undo(s, started)
        except MondayError as exc:
            report = _finish_undo(s, started, [], str(exc))
            raise UndoStopped(str(exc), report) from None


def _undo(s: _UndoSession, started: float) -> UndoReport:
    ctx, batch_id, should_cancel = s.ctx, s.batch.batch_id, s.should_cancel
    recover_in_flight(s)  # a crashed push first learns what reached the board
    ops, not_undoable = _undo_ops(s)
    log.info("batch %d: undoing %d changes on monday.com", batch_id, len(ops))
    # Fix: a killed undo is run again, and a request resent unchanged is answered from
    # monday's cache (same Idempotency-Key) only if it holds the same changes: with
    # another chunk size (the GUI's settings, not the CLI's), or a chunk split anew, a
    # size the batch had deleted was created twice. Deletes and value reverts are safe
    # to repeat; these re-creations go one to a request, each with a key of its own.
    again = [op for op in ops if op.kind != "create_subitem"]
    once = [op for op in ops if op.kind == "create_subitem"]
    done = s.run(again, "undo", 0, len(ops))
    if once and not should_cancel():
        alone = ChunkPolicy(
            max_mutations=1, max_complexity=sys.maxsize, budget_per_window=sys.maxsize
        )
        s.run(once, "undo", done, len(ops), policy=alone)
    with ctx.store.engine.begin() as conn:
        s._restore_complete(conn, {r.stg_id for r in s.rows.values()}, _now())
    return _finish_undo(s, started, not_undoable, None)


def _finish_undo(
    s: _UndoSession, started: float, not_undoable: list[str], error: str | None
) -> UndoReport:
    rows: list[StagedRow] = list(s.rows.values())
    # Fix: a row whose item was reverted but one of whose subitems was not (its revert
    # failed) is still to revert; counted done, the batch became UNDONE (lock released)
    # while the board kept the subitem's new quantity and the sync state the batch's values.
    left = [
        r
        for r in rows
        if (
            r.status is RowStatus.PUSHED
            and not (
                r.change_type is ChangeType.DELETED
                and s.mapping.deleted_action.get("kind") != "status"
            )
        )
        or (_keeps_item(r) and any(x.status is RowStatus.PUSHED for x in s.subs_of(r)))
    ]
    undone = [r for r in rows if r.status is RowStatus.UNDONE]
    if not left and error is None:
        status = BatchStatus.UNDONE
        message = f"undone: {len(undone)} rows reverted on monday.com"
        if not_undoable:
            message += f"; {len(not_undoable)} could not be undone through the API"
    else:
        # Fix: an undo stopped before it reverted anything (401, daily limit on the first
        # read) used to turn a PUSHED batch PARTIAL, as if it were half undone.
        status = BatchStatus.PARTIAL if undone else BatchStatus(s.batch.status)
        if status is BatchStatus.PUSHING:
            # Fix: resuming a killed run (its batch PUSHING), the stopped undo kept PUSHING
            # with this message in place of a run's claim: no live run, yet every later
            # undo or push was refused as "busy" until the lease ran out (12 minutes).
            complete = all(x.status is RowStatus.PUSHED for x in [*rows, *s.subs.values()])
            status = BatchStatus.PUSHED if complete else BatchStatus.PARTIAL
        message = (
            f"undo incomplete: {len(undone)} reverted, {len(left)} still to revert"
            + (f" ({error})" if error else "")
            + ": roll back again to finish"
        )
    status = finish(
        s,
        status,
        message=message,
        # An undo holds its customer's lock (see batch_run.claim): given up when it is
        # done, and when it stopped before reverting anything (PUSHED again).
        release_lock=status in (BatchStatus.UNDONE, BatchStatus.PUSHED),
    )
    return UndoReport(
        s.batch.batch_id,
        status.value,
        len(undone),
        len(left),
        not_undoable,
        s.client.stats.requests,
        s.stats.mutations,
        time.monotonic() - started,
        message,
        s.read_batch(),
    )


class UndoStopped(RuntimeError):
    def __init__(self, message: str, report: UndoReport) -> None:
        # One message: the report's names the cause already (see PushStopped).
        super().__init__(report.message if message in report.message else message)
        self.report = report
