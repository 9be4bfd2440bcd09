"""The run of an adoption batch: the batch skeleton (batch_run.py) with adoption's hooks.

Each adopted order's item gets the order's record_uuid in its RECORD UUID column (one
change_multiple_column_values per item, nothing created); with monday's answer, in the same
transaction, the order's sync state is written with the values the board holds now as the
last pushed ones, the item and its subitems (by size) as the order's. So the next detect
says CHANGED exactly where the board and the database differ.

Resumable as a push is: a write of the record_uuid is the same twice, so rows a killed run
left PENDING are simply sent again, and rows already PUSHED have their sync state. Nothing
is created, so nothing can be duplicated. Undone like any pushed batch (undo.py): the
record_uuids are cleared and the sync state goes back to none.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator

from ..core.models import BatchStatus, ChangeType, RowStatus
from ..core.staged import RETRYABLE, StagedRow
from ..monday.operations import OperationResult
from ..store import pushing
from ..store.staging import BatchStateError
from .batch_run import RunHooks, Step, end_run, now
from .push import PushReport, PushStopped
from .push_plan import change_op
from .recovery import target_of

log = logging.getLogger(__name__)


class AdoptHooks(RunHooks[PushReport]):
    """An adoption's part in the run skeleton."""

    activity = "adopt"
    from_statuses = (BatchStatus.STAGED, BatchStatus.PARTIAL)

    def rows(self) -> list[StagedRow]:
        return [r for r in self.run.rows.values() if r.change_type is ChangeType.ADOPTED]

    def check(self) -> None:
        if any(r.status is RowStatus.UNDONE for r in self.rows()):
            raise BatchStateError(
                f"batch {self.run.batch.batch_id} is being undone: roll it back again to finish"
            )

    def recover(self) -> None:
        """Nothing is marked SENDING (see the module): a stopped run's rows are PENDING or
        done, and a PENDING one is sent again."""

    def steps(self) -> Iterator[Step]:
        run = self.run
        target = target_of(run)
        column = run.mapping.record_uuid_column.column_id
        todo = [r for r in self.rows() if r.status in RETRYABLE]
        ops = [
            change_op(
                f"r{row.stg_id}",
                target.board_id,
                row.item_id,
                {column: row.record_uuid},
                attempt=row.retry_count,
                cost=target.cost,
                create_labels=False,
            )
            for row in todo
        ]
        log.info("batch %d: linking %d board items to their orders", run.batch.batch_id, len(ops))
        run.total = run.done + len(ops)
        yield Step(ops, "adopt", self.record)

    def record(self, results: list[OperationResult]) -> None:
        run = self.run
        done = []
        with run.engine.begin() as conn:
            run.heartbeat(conn)
            for res in results:
                row = run.rows[int(res.op.key[1:])]
                row.status = RowStatus.PUSHED if res.ok else RowStatus.FAILED
                row.error = None
                if not res.ok:
                    gone = res.error is not None and res.error.gone
                    row.error = (
                        f"item {row.item_id} is no longer on the board: adopt again"
                        if gone
                        else f"monday.com refused the record_uuid: {res.error}"
                    )
                    log.error("order %s: %s", row.who, row.error)
                run.save_row(conn, row, failed=not res.ok)
                if res.ok:
                    assert row.values is not None
                    done.append((row, dict(row.values.get("subitem_ids") or {})))
            if done:
                pushing.promote(
                    conn, done, batch_id=run.batch.batch_id, now=now(), deleted_action=str
                )

    def finish(self, *, started: float, error: str | None) -> PushReport:
        run = self.run
        rows = self.rows()
        ok = [r for r in rows if r.status is RowStatus.PUSHED]
        failed = [r for r in rows if r.status is RowStatus.FAILED]
        complete = run.loaded and len(ok) == len(rows)
        if complete:
            status, message = BatchStatus.PUSHED, f"adopted {len(ok)} board items"
        else:
            touched = run.stats.requests or any(r.status is not RowStatus.PENDING for r in rows)
            status = BatchStatus.PARTIAL if touched else BatchStatus.STAGED
            reason = error or ("cancelled by the operator" if run.should_cancel() else None)
            message = (
                f"{len(ok)} of {len(rows)} board items adopted"
                + (f", {len(failed)} failed" if failed else "")
                + (f" ({reason})" if reason else "")
                + ": adopt again to finish"
            )
        status = end_run(
            run,
            status,
            message=message,
            succeeded=len(ok),
            failed=len(failed),
            release_lock=complete,
        )
        return PushReport(
            batch_id=run.batch.batch_id,
            status=status.value,
            succeeded=len(ok),
            failed=len(failed),
            requests=run.client.stats.requests,
            mutations=run.stats.mutations,
            retries=run.client.stats.retries,
            replays=run.client.stats.replays,
            seconds=time.monotonic() - started,
            message=message,
            failures=[
                {"order_number": r.order_number, "record_uuid": r.record_uuid, "error": r.error}
                for r in failed
            ],
            batch=run.read_batch(),
        )

    def stopped(self, report: PushReport) -> Exception:
        return PushStopped(report.message, report)
