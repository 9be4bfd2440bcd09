"""Push a staged batch to monday.com, resumably; the results land in the store as they come.

Order of work: check the board against the mapping, make sure the customer's group exists,
settle every row whose outcome a crash left unknown (recovery.py), check that the labelled
items returning records take up are still there, then items (create / change / delete
action), then their subitems. Each response is recorded, with the sync state it completes,
before the next request leaves (push_record.py). What each row becomes on monday.com is
push_plan.py's; the run's skeleton (claim, steps, end) is batch_run.py's.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

from ..core.board_state import BoardState
from ..core.models import BatchStatus, ChangeType, RowStatus
from ..core.staged import RETRYABLE, complete, existing_item
from ..monday.board import find_items, subitems_of
from ..monday.board_items import item_states
from ..store.staging import BatchInfo, BatchStateError, get_batch
from .batch_run import BatchBusyError, BatchRun, Progress, RunHooks, Step, end_run, execute
from .capacity import additions, board_capacity
from .context import Context
from .monday_setup import MondaySetup
from .push_plan import item_plan, subitem_plan
from .push_record import PushRecorder
from .recovery import customer_group, recover_in_flight, target_of

# The faces (cli, qt) and the tests know these by this module.
__all__ = ["BatchBusyError", "BoardFullError", "Progress", "PushReport", "PushStopped", "push"]

log = logging.getLogger(__name__)


@dataclass(slots=True)
class PushReport:
    batch_id: int
    status: str
    succeeded: int = 0
    failed: int = 0
    requests: int = 0
    mutations: int = 0
    retries: int = 0
    replays: int = 0
    adopted: int = 0  # rows found already on the board after a crash (not created twice)
    seconds: float = 0.0
    message: str = ""
    failures: list[dict[str, str | None]] = field(default_factory=list)
    # The batch as the run left it (status, counts, message): the faces show it as is.
    batch: BatchInfo | None = None

    def to_dict(self) -> dict[str, object]:
        return {
            "batch_id": self.batch_id,
            "status": self.status,
            "succeeded": self.succeeded,
            "failed": self.failed,
            "requests": self.requests,
            "mutations": self.mutations,
            "retries": self.retries,
            "replays": self.replays,
            "adopted": self.adopted,
            "seconds": round(self.seconds, 2),
            "message": self.message,
            "failures": self.failures,
        }


class PushHooks(RunHooks[PushReport]):
    """A push's part in the run skeleton."""

    activity = "push"
    from_statuses = (BatchStatus.STAGED, BatchStatus.PARTIAL)

    def __init__(self, run: BatchRun) -> None:
        super().__init__(run)
        self.recorder = PushRecorder(run)

    def check(self) -> None:
        run = self.run
        if any(r.status is RowStatus.UNDONE for r in run.rows.values()):
            raise BatchStateError(
                f"batch {run.batch.batch_id} is being undone: roll it back again to finish the undo"
            )
        items, subitems = additions(run.rows.values(), run.children)
        if items or subitems:
            assert run.board is not None
            room = board_capacity(
                run.client, run.board, items, subitems, run.setup.limits.max_items_per_board
            )
            if not room.fits:
                raise BoardFullError(room.message(run.batch.customer))

    def recover(self) -> None:
        recover_in_flight(self.run, self.recorder)
        self.check_items_on_board()

    def check_items_on_board(self) -> None:
        """Pre-flight: the items this push is about to change (a changed order's, a
        deleted order's, a returning record's labelled one) are read as they are now, in
        one read per 100 (monday/board_items.item_states, the reading drift uses too). An
        item archived or deleted by hand is found here, before it is updated in vain
        (monday lets an archived item be changed while it stays out of sight, and cannot
        unarchive it): a changed or returning order gets a new item with every size,
        as when monday answers that the item is gone; a deleted order's item is already
        off the board, which is what its delete wanted: done."""
        run = self.run
        rows = {r.stg_id: item for r in run.rows.values() if (item := existing_item(r))}
        if not rows:
            return
        states = item_states(run.client, sorted(set(rows.values())))
        lost = [run.rows[i] for i, item in rows.items() if states.get(item) != "active"]
        if not lost:
            return
        with run.engine.begin() as conn:
            for row in lost:
                item = rows[row.stg_id]
                if row.change_type is ChangeType.DELETED:
                    log.warning(
                        "order %s: its item %s is %s on monday.com already: the delete is done",
                        row.who,
                        item,
                        states[item],
                    )
                    row.status, row.item_id, row.error = RowStatus.PUSHED, item, None
                    self.recorder.gone.add(row.stg_id)
                    run.save_row(conn, row)
                else:
                    self.recorder.give_up_item(conn, row)
            self.recorder.promote_complete(conn, [r.stg_id for r in lost])

    def steps(self) -> Iterator[Step]:
        run, recorder = self.run, self.recorder
        log.info(
            "batch %d: pushing %d rows for %s to board %s",
            run.batch.batch_id,
            len(run.rows),
            run.batch.customer,
            run.board_id,
        )
        target, group_id = target_of(run), customer_group(run)
        plan = item_plan(target, run.rows.values(), group_id, found=self.items_on_board())
        items = recorder.apply(plan)
        run.total = run.done + len(items)
        run.total += sum(1 for x in run.subs.values() if x.status in RETRYABLE)
        yield self._step(items, "push-items")
        if recorder.recreate:
            # Rows whose item was gone: created now, not on the next push.
            only = set(recorder.recreate)
            again = item_plan(
                target,
                run.rows.values(),
                group_id,
                (RowStatus.PENDING,),
                only,
                found=self.items_on_board(only),
            )
            yield self._step(recorder.apply(again), "push-items", grows=True)
        found = self.subitems_on_board()
        yield self._step(
            recorder.apply(subitem_plan(target, run.rows, run.subs.values(), found=found)),
            "push-subitems",
        )
        if recorder.recreate_subs:
            # Changed sizes whose subitem was gone: created now, not on the next push.
            only = set(recorder.recreate_subs)
            again = subitem_plan(
                target,
                run.rows,
                run.subs.values(),
                (RowStatus.PENDING,),
                only,
                found=self.subitems_on_board(only),
            )
            yield self._step(recorder.apply(again), "push-subitems", grows=True)

    def items_on_board(self, only: set[int] | None = None) -> dict[str, str]:
        """Look before creating: {record_uuid: item id} of the active items already on the
        board for rows whose push would create one, in bulk (many values per lookup). A
        sync state reset or restored from a backup, a second batch of the same order, or an
        answer a crash lost: whatever happened to the database, the item found is taken up,
        not created twice. (An archived item, or a returning record's own old item, is not
        taken up: see push_plan._take_up.) monday's Idempotency-Key stays, a second guard."""
        run = self.run
        rows = [
            r
            for r in run.rows.values()
            if r.creates_item and r.status in RETRYABLE and (only is None or r.stg_id in only)
        ]
        if not rows:
            return {}
        hits = find_items(
            run.client,
            run.board_id,
            run.mapping.record_uuid_column.column_id,
            [r.record_uuid for r in rows],
        )
        found: dict[str, str] = {}
        for row in rows:
            hit = hits.get(row.record_uuid)
            old = row.previous.monday_item_id if row.previous else None
            if hit is None or hit.state != "active" or hit.item_id == old:
                continue
            found[row.record_uuid] = hit.item_id
            log.warning(
                "order %s is already on the board (item %s): taken up, not created again",
                row.who,
                hit.item_id,
            )
        self.recorder.adopted += len(found)
        return found

    def subitems_on_board(self, only: set[int] | None = None) -> dict[int, str]:
        """Look before creating subitems: {staged size: subitem id} of sizes about to be
        created under an item that already has a subitem of that name. Items this run
        created itself start empty and are not looked at."""
        run, fresh = self.run, self.recorder.fresh_items
        subs = [
            sub
            for sub in run.subs.values()
            if sub.status in RETRYABLE
            and (only is None or sub.stg_subitem_id in only)
            and run.rows[sub.stg_parent_id].status is RowStatus.PUSHED
            and sub.created_under(run.rows[sub.stg_parent_id])
            and run.rows[sub.stg_parent_id].item_id not in fresh
        ]
        parents = sorted({run.rows[sub.stg_parent_id].item_id or "" for sub in subs} - {""})
        if not parents:
            return {}
        existing = subitems_of(run.client, parents)
        found: dict[int, str] = {}
        for sub in subs:
            parent = run.rows[sub.stg_parent_id]
            sub_id = existing.get(parent.item_id or "", {}).get(sub.size)
            if sub_id is not None:
                found[sub.stg_subitem_id] = sub_id
                log.warning(
                    "order %s: size %s is already on the board (subitem %s): taken up",
                    parent.who,
                    sub.size,
                    sub_id,
                )
        return found

    def _step(self, ops: list, phase: str, *, grows: bool = False) -> Step:
        if grows:
            self.run.total += len(ops)
        return Step(ops, phase, self.recorder.record, self.recorder.mark_sending)

    def finish(self, *, started: float, error: str | None) -> PushReport:
        return _finish(self.run, self.recorder, started=started, error=error)

    def stopped(self, report: PushReport) -> Exception:
        return PushStopped(report.message, report)


def _finish(
    s: BatchRun, recorder: PushRecorder, *, started: float, error: str | None
) -> PushReport:
    rows = list(s.rows.values())
    ok = [r for r in rows if complete(r, s.subs_of(r))]
    failed = [
        r
        for r in rows
        if r.status is RowStatus.FAILED or any(x.status is RowStatus.FAILED for x in s.subs_of(r))
    ]
    # A run stopped before its rows were loaded knows no rows: that is not "every row
    # pushed".
    done = s.loaded and len(ok) == len(rows)
    if done:
        status, message = BatchStatus.PUSHED, f"pushed {len(ok)} rows"
    else:
        # STAGED only while nothing can have reached monday.com: a row left SENDING by a
        # stopped request may be on the board, and a STAGED batch may be discarded without a
        # look at monday.com, orphaning its items.
        touched = (
            s.stats.requests
            or any(r.status is not RowStatus.PENDING for r in rows)
            or any(x.status is not RowStatus.PENDING for x in s.subs.values())
        )
        status = BatchStatus.PARTIAL if touched else BatchStatus.STAGED
        # What is on the board, as the window says it too (core/board_state.py).
        state = BoardState.of(
            {r.stg_id: r.status.value for r in rows},
            ((x.stg_parent_id, x.status.value) for x in s.subs.values()),
        )
        reason = error or ("cancelled by the operator" if s.should_cancel() else None)
        message = (
            state.text() + (f" ({reason})" if reason else "") + ": push again to send what is left"
        )
    status = end_run(
        s, status, message=message, succeeded=len(ok), failed=len(failed), release_lock=done
    )
    return PushReport(
        batch_id=s.batch.batch_id,
        status=status.value,
        succeeded=len(ok),
        failed=len(failed),
        requests=s.client.stats.requests,
        mutations=s.stats.mutations,
        retries=s.client.stats.retries,
        replays=s.client.stats.replays,
        adopted=recorder.adopted + s.taken_up,
        seconds=time.monotonic() - started,
        message=message,
        failures=[
            {
                "order_number": r.order_number,
                "record_uuid": r.record_uuid,
                "error": r.error or next((x.error for x in s.subs_of(r) if x.error), None),
            }
            for r in failed
        ],
        batch=s.read_batch(),
    )


def push(
    ctx: Context,
    batch_id: int,
    setup: MondaySetup,
    *,
    progress: Callable[[Progress], None] | None = None,
    should_cancel: Callable[[], bool] = lambda: False,
    cancel: threading.Event | None = None,
) -> PushReport:
    """Push (or resume, or retry the failed rows of) a batch."""
    with ctx.store.engine.connect() as conn:
        batch = get_batch(conn, batch_id)
    if batch.status == BatchStatus.PUSHED:
        return PushReport(
            batch_id,
            batch.status,
            batch.succeeded_count,
            0,
            message="already pushed: nothing to do",
            batch=batch,
        )
    if batch.status not in (BatchStatus.STAGED, BatchStatus.PUSHING, BatchStatus.PARTIAL):
        raise BatchStateError(f"batch {batch_id} is {batch.status}: it cannot be pushed")
    if batch.adoption:  # services/adopt.py finishes it
        raise BatchStateError(
            f"batch {batch_id} adopts board items: finish it with "
            f"`orders-sync adopt --customer {batch.customer}`"
        )
    run = BatchRun(ctx, setup, batch, progress, should_cancel, cancel)
    return execute(PushHooks(run))


class BoardFullError(BatchStateError):
    """The board (or its subitems board) cannot hold what the push would add: nothing was
    sent."""


class PushStopped(RuntimeError):
    """monday.com stopped the push (token, limits, board); what was done is recorded."""

    def __init__(self, message: str, report: PushReport) -> None:
        # One message: the report's already names the cause ("... (cause): push again");
        # wrapping it in the cause again said everything twice.
        super().__init__(report.message if message in report.message else message)
        self.report = report
