"""Roll back / Undo batch: services.rollback decides (discard a staged batch, or undo a
pushed one on monday.com); the window confirms, runs it and shows the outcome."""

from __future__ import annotations

import logging

from ...core.models import BatchStatus
from ...services.batch_run import Progress
from ...services.rollback import RollbackResult, roll_back
from ...services.undo import UndoStopped
from ..dialogs import confirm_rollback
from ..workers import Job
from .base import OPEN, BatchRunAction, Step

log = logging.getLogger("orders_sync_gui.gui")
UNDOABLE = {*OPEN, BatchStatus.PUSHED.value}


class RollbackAction(BatchRunAction):
    activity = "undo"

    def ok_to_run(self) -> bool:
        return (
            self.session is not None
            and self.batch is not None
            and self.batch.status in UNDOABLE
            and self.idle_customer()
        )

    def confirm(self, prepared: None) -> bool:
        assert self.batch is not None
        return confirm_rollback(self.bench.parent, self.batch)

    def action(self, prepared: None) -> Step:
        assert self.session is not None and self.batch is not None
        session, batch = self.session, self.batch
        batch_id = batch.batch_id

        def work(job: Job) -> RollbackResult:
            def progress(p: Progress) -> None:
                job.report(p.done, p.total, f"Undoing batch {batch_id}", p.changes)

            try:
                return roll_back(
                    session.ctx,
                    batch_id,
                    session.monday,
                    progress=progress,
                    should_cancel=lambda: job.cancelled,
                )
            except UndoStopped as stopped:
                return RollbackResult(stopped.report.batch or batch, stopped.report)

        return Step(f"Rolling back batch {batch_id}", batch.customer, work, progress=True)

    def success(self, result: RollbackResult) -> None:
        assert self.batch is not None
        batch_id, customer = self.batch.batch_id, self.batch.customer
        if result.undo is not None:
            log.info("undo of batch %d: %s", batch_id, result.message)
            for note in result.undo.not_undoable:
                log.warning("not undoable: %s", note)
        else:
            log.info("batch %d rolled back: %s", batch_id, result.message)
        self.ended(result.batch)
        self.bench.staged.show_batch(batch_id)
        self.bench.jobs.idle(f"Batch {batch_id}: {result.batch.status} — {result.message}")
        if self.bench.selection.customer == customer:
            self.bench.change_set.load_preview(when_busy="again")
