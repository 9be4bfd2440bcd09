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
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from ..core.models import BatchStatus, ChangeType, RowStatus
from ..monday.operations import ChunkPolicy, OperationResult
from ..store import pushing
from ..store.staging import BatchInfo, BatchStateError, get_batch, open_batches
from .batch_run import BatchRun, Progress, RunHooks, Step, end_run, execute, now
from .context import Context
from .made_already import made_already
from .monday_setup import MondaySetup
from .push_record import PushRecorder
from .recovery import recover_in_flight, target_of
from .undo_plan import undo_plan

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


class UndoHooks(RunHooks[UndoReport]):
    """An undo's part in the run skeleton. Its rows are not marked SENDING: SENDING means
    "a push's create may be on monday", which a recovery would look up and re-create. Left
    PUSHED, a killed undo simply runs again: a delete of what is gone counts as done, a
    revert of values is the same twice, and a chunk resent unchanged gets its first answer
    replayed (same Idempotency-Key)."""

    activity = "undo"
    from_statuses = (BatchStatus.PUSHED, BatchStatus.PARTIAL)
    lock_customer = True

    def __init__(self, run: BatchRun) -> None:
        super().__init__(run)
        self.not_undoable: list[str] = []
        self.superseded: set[int] = set()  # rows a later batch has pushed since

    def check(self) -> None:
        check_undoable(self.run.ctx, self.run.batch.batch_id)

    def recover(self) -> None:
        # A crashed push first learns what reached the board, recorded as a push records.
        recover_in_flight(self.run, PushRecorder(self.run))

    def leave_superseded(self) -> None:
        """Rows whose order a later batch has pushed since (it moved to another customer):
        that batch's item and sync state are left as they are, and the row counts as
        settled, with the reason on it."""
        run = self.run
        # Undone rows too: a re-run must not restore what an earlier run left alone.
        rows = [r for r in run.rows.values() if r.status in (RowStatus.PUSHED, RowStatus.UNDONE)]
        with run.engine.begin() as conn:
            later = pushing.pushed_later(conn, run.batch.batch_id, [r.record_uuid for r in rows])
            for row in (r for r in rows if r.record_uuid in later):
                self.superseded.add(row.stg_id)
                if row.status is RowStatus.UNDONE:
                    continue
                note = f"pushed since by batch {later[row.record_uuid]}: left as that batch made it"
                self.not_undoable.append(f"order {row.who}: {note}")
                row.status, row.error = RowStatus.UNDONE, f"undo: {note}"
                run.save_row(conn, row)
                for sub in run.subs_of(row):
                    if sub.status is RowStatus.PUSHED:
                        sub.status = RowStatus.UNDONE
                        run.save_subitem(conn, sub)

    def steps(self) -> Iterator[Step]:
        run = self.run
        self.leave_superseded()
        plan = undo_plan(target_of(run), run.rows, run.subs)
        for key in plan.settled:
            run.rows[int(key[1:])].status = RowStatus.UNDONE
        self.not_undoable += plan.notes
        log.info("batch %d: undoing %d changes on monday.com", run.batch.batch_id, len(plan.ops))
        run.total = run.done + len(plan.ops)
        # Deletes and value reverts are safe to repeat, whatever chunks a re-run makes.
        # Re-creations of deleted sizes are not: a killed undo re-run with other chunks
        # (another chunk size) would get no cached answer and create a size twice. They go
        # one to a request, each under a key of its own that never changes.
        yield Step([op for op in plan.ops if op.kind != "create_subitem"], "undo", self.record)
        alone = ChunkPolicy(
            max_mutations=1, max_complexity=sys.maxsize, budget_per_window=sys.maxsize
        )
        once = [op for op in plan.ops if op.kind == "create_subitem"]
        if once:
            # Look before re-creating: a size an earlier, stopped undo made is taken up.
            assert run.board is not None
            found = made_already(run.client, run.board, run.mapping, run.rows, once)
            if found:
                self.record([OperationResult(op, found[op.key]) for op in once if op.key in found])
                once = [op for op in once if op.key not in found]
        yield Step(once, "undo", self.record, policy=alone)

    def record(self, results: list[OperationResult]) -> None:
        run = self.run
        touched: set[int] = set()
        with run.engine.begin() as conn:
            run.heartbeat(conn)
            for res in results:
                kind, ident = res.op.key[0], int(res.op.key[1:])
                gone = res.error is not None and res.error.gone
                # Deleting what is already gone is done; so is taking the label off a
                # deleted order's item that is gone (its push may have found it so).
                ok = res.ok or (
                    gone
                    and (
                        res.op.kind == "delete_item"
                        or (kind == "r" and run.rows[ident].change_type is ChangeType.DELETED)
                    )
                )
                error = None if ok else f"undo: {res.error}"
                if kind == "r":
                    touched.add(self._record_row(conn, run.rows[ident], ok, error))
                else:
                    sub = run.subs[ident]
                    if ok:
                        sub.status = RowStatus.UNDONE
                        if res.op.kind == "create_subitem":  # a deleted size, recreated
                            sub.subitem_id = res.item_id
                    sub.error = error
                    run.save_subitem(conn, sub, failed=not ok)
                    touched.add(sub.stg_parent_id)
                if not ok:
                    log.error("undo of order %s: %s", run.order_of(res.op), res.error)
            self.restore_complete(conn, touched)

    def _record_row(self, conn, row, ok: bool, error: str | None) -> int:  # type: ignore[no-untyped-def]
        """A refused row keeps PUSHED (and gets a new key for its next request)."""
        run = self.run
        if ok and row.creates_item:
            for sub in run.subs_of(row):  # deleted with their parent
                sub.status = RowStatus.UNDONE
                run.save_subitem(conn, sub)
        row.status = RowStatus.UNDONE if ok else RowStatus.PUSHED
        row.error = error
        run.save_row(conn, row, failed=not ok)
        return row.stg_id

    def restore_complete(self, conn, stg_ids: set[int]) -> None:  # type: ignore[no-untyped-def]
        """Rows whose item and sizes are undone get their sync state from before the batch."""
        run = self.run
        done = []
        for stg_id in stg_ids:
            row = run.rows[stg_id]
            if stg_id in self.superseded:
                continue
            if row.status is RowStatus.UNDONE and all(
                s.status in (RowStatus.UNDONE, RowStatus.FAILED, RowStatus.PENDING)
                for s in run.subs_of(row)
            ):
                if row.recreates:
                    # A changed order whose item was gone got a new item, which the undo
                    # deleted: its state goes back to what the database had, the old
                    # (gone) item's id; "gone" only marked the row a create. Its next push
                    # meets monday's answer again.
                    assert row.previous is not None
                    row.previous.deleted_action = None
                if row.previous is not None:
                    # Recreated subitems have new ids: the restored state must know them.
                    for sub in run.subs_of(row):
                        if sub.change_type is ChangeType.DELETED and sub.subitem_id:
                            row.previous.subitem_ids[sub.size] = sub.subitem_id
                done.append(row)
        if done:
            pushing.restore(conn, done, now())

    def finish(self, *, started: float, error: str | None) -> UndoReport:
        if error is None:
            with self.run.engine.begin() as conn:
                self.restore_complete(conn, set(self.run.rows))
        return _finish_undo(self.run, started, self.not_undoable, error)

    def stopped(self, report: UndoReport) -> Exception:
        return UndoStopped(report.message, report)


def check_undoable(ctx: Context, batch_id: int) -> None:
    """Refuse (BatchStateError) an undo that cannot run: asked before any confirmation."""
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
    cancel: threading.Event | None = None,
) -> UndoReport:
    with ctx.store.engine.connect() as conn:
        batch = get_batch(conn, batch_id)
    return execute(UndoHooks(BatchRun(ctx, setup, batch, progress, should_cancel, cancel)))


def _finish_undo(
    s: BatchRun, started: float, not_undoable: list[str], error: str | None
) -> UndoReport:
    rows = list(s.rows.values())
    # A row is still to revert while its item, or one of the sizes of an item that was there
    # before the batch, is not: the batch is UNDONE (and its lock given up) only when the
    # board and the sync state are both back.
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
        or (r.keeps_item and any(x.status is RowStatus.PUSHED for x in s.subs_of(r)))
    ]
    undone = [r for r in rows if r.status is RowStatus.UNDONE]
    if not left and error is None:
        status = BatchStatus.UNDONE
        message = f"undone: {len(undone)} rows reverted on monday.com"
        if not_undoable:
            message += f"; {len(not_undoable)} could not be undone through the API"
    else:
        # An undo stopped before it reverted anything (401, the daily limit on the first
        # read) leaves the batch as it was, not PARTIAL as if half undone.
        status = BatchStatus.PARTIAL if undone else BatchStatus(s.batch.status)
        if status is BatchStatus.PUSHING:
            # A killed run left the batch PUSHING: a stopped undo ends it PUSHED or PARTIAL,
            # never PUSHING without a live run (every later run would wait for the lease).
            complete = all(r.status is RowStatus.PUSHED for r in rows) and all(
                x.status is RowStatus.PUSHED for x in s.subs.values()
            )
            status = BatchStatus.PUSHED if complete else BatchStatus.PARTIAL
        message = (
            f"undo incomplete: {len(undone)} reverted, {len(left)} still to revert"
            + (f" ({error})" if error else "")
            + ": roll back again to finish"
        )
    status = end_run(
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
