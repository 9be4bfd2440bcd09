"""Roll back / Undo batch: services.rollback decides (discard a staged batch, or undo a
pushed one on monday.com). Whether it can run is asked before the confirmation (the
customer's latest batch first, no other run holding it); an undo's confirmation gives its
estimate as a push's does; then it runs and the window shows the outcome."""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ...core.models import BatchStatus
from ...services.batch_guard import busy_message, undo_estimate, undo_refusal
from ...services.batch_run import Progress
from ...services.estimate import Estimate, time_left
from ...services.rollback import RollbackResult, needs_undo, roll_back
from ...services.undo import UndoStopped
from ..dialogs import confirm_rollback
from ..job_status import clock
from ..workers import Job
from .base import OPEN, BatchRunAction, Step

log = logging.getLogger("orders_sync_gui.gui")
UNDOABLE = {*OPEN, BatchStatus.PUSHED.value}
UNDOING = "UNDOING"  # how the window shows a batch an undo holds (PUSHING in the database)


@dataclass(frozen=True, slots=True)
class Prepared:
    estimate: Estimate | None  # None: a staged batch, discarded without a request
    refusal: str | None


class RollbackAction(BatchRunAction):
    activity = "undo"
    shown_status = UNDOING

    def ok_to_run(self) -> bool:
        return (
            self.session is not None
            and self.batch is not None
            and self.batch.status in UNDOABLE
            and self.idle_customer()
        )

    def prepare(self) -> Step:
        assert self.session is not None and self.batch is not None
        session, batch = self.session, self.batch

        def work(job: Job) -> Prepared:
            if not needs_undo(batch):
                return Prepared(None, None)
            refusal = undo_refusal(session.ctx, batch.batch_id)
            if refusal is not None:
                return Prepared(None, refusal)
            setup = session.monday()
            busy = busy_message(session.ctx, batch.batch_id, setup)
            if busy is not None:
                return Prepared(None, busy)
            return Prepared(undo_estimate(session.ctx, batch.batch_id, setup.limits), None)

        return Step("Checking the undo", f"check-undo:{batch.batch_id}", work)

    def confirm(self, prepared: Prepared) -> bool:
        assert self.batch is not None
        if prepared.refusal is not None:
            self.refused("Undo not started", prepared.refusal)
            return False
        return confirm_rollback(self.bench.parent, self.batch, prepared.estimate)

    def action(self, prepared: Prepared) -> Step:
        assert self.session is not None and self.batch is not None
        session, batch = self.session, self.batch
        batch_id = batch.batch_id

        def work(job: Job) -> RollbackResult:
            limits = None

            def progress(p: Progress) -> None:
                eta = None
                if limits is not None:
                    eta = time_left(
                        limits,
                        p.total - p.done,
                        requests_done=p.requests,
                        elapsed=p.elapsed,
                        waiting=p.waiting,
                    )
                text = f"Undoing {batch.customer} batch {batch_id}" + (
                    f" · {p.wait_reason}: {clock(p.waiting)} left" if p.waiting else ""
                )
                job.report(p.done, p.total, text, p.changes, eta)

            def monday():  # type: ignore[no-untyped-def]
                nonlocal limits
                setup = session.monday()
                limits = setup.limits
                return setup

            try:
                return roll_back(
                    session.ctx,
                    batch_id,
                    monday,
                    progress=progress,
                    should_cancel=lambda: job.cancelled,
                    cancel=job.token.event,
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
        if result.undo is None and self.bench.selection.shown_batch == batch_id:
            self.bench.staged.discarded(batch_id)  # nothing left to read
        else:
            self.bench.staged.show_batch(batch_id)
        said = result.message or "its staged rows were discarded; nothing was sent"
        self.bench.jobs.idle(f"Batch {batch_id}: {result.batch.status} — {said}")
        if self.bench.selection.customer == customer:
            self.bench.change_set.load_preview(when_busy="again")
