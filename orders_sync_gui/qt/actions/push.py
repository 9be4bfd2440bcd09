"""Push to monday.com (or resume, or retry the failed rows): estimate, confirm, push.

While it runs, the statuses its steps report are written into the batch's rows in place;
afterwards the batch is shown as the push left it and only its customer is recounted: no
status is read from the database during or after the push.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, replace

from ...core.models import BatchStatus, ChangeType
from ...services.batch_guard import busy_message
from ...services.batch_run import Progress
from ...services.estimate import Estimate, estimate, time_left
from ...services.monday_setup import MondaySetup
from ...services.push import PushReport, PushStopped, push
from ...services.staging import BatchInfo
from ..dialogs import confirm_push
from ..job_status import clock
from ..workers import Job
from .base import OPEN, BatchRunAction, Step

log = logging.getLogger("orders_sync_gui.gui")


@dataclass(frozen=True, slots=True)
class Prepared:
    """What the confirmation needs: the setup, and the estimate or why it cannot run."""

    setup: MondaySetup
    estimate: Estimate | None
    refusal: str | None


class PushAction(BatchRunAction):
    activity = "push"

    def ok_to_run(self) -> bool:
        return (
            self.session is not None
            and self.batch is not None
            and self.batch.status in OPEN
            and self.batch.change_types != ChangeType.ADOPTED.value  # Adopt board items' own
            and self.idle_customer()
        )

    def prepare(self) -> Step:
        assert self.session is not None and self.batch is not None
        session, batch_id = self.session, self.batch.batch_id

        def work(job: Job) -> Prepared:
            setup = session.monday()
            busy = busy_message(session.ctx, batch_id, setup)
            if busy is not None:
                return Prepared(setup, None, busy)
            return Prepared(setup, estimate(session.ctx, batch_id, setup.limits), None)

        return Step("Estimating the push", f"estimate:{batch_id}", work)

    def confirm(self, prepared: Prepared) -> bool:
        assert self.batch is not None
        if prepared.refusal is not None or prepared.estimate is None:
            self.refused("Push not started", prepared.refusal or "no estimate")
            return False
        if confirm_push(self.bench.parent, self.batch, prepared.estimate):
            return True
        log.info("push of batch %d not started (the operator said no)", self.batch.batch_id)
        return False

    def action(self, prepared: Prepared) -> Step:
        assert self.session is not None and self.batch is not None
        ctx, batch, setup = self.session.ctx, self.batch, prepared.setup
        self.bench.staged.reveal(batch.batch_id)
        name = f"Pushing {batch.customer} batch {batch.batch_id}"

        def work(job: Job) -> PushReport:
            def progress(p: Progress) -> None:
                eta = time_left(
                    setup.limits,
                    p.total - p.done,
                    requests_done=p.requests,
                    elapsed=p.elapsed,
                    waiting=p.waiting,
                )
                text = name + (f" · {p.wait_reason}: {clock(p.waiting)} left" if p.waiting else "")
                job.report(p.done, p.total, text, p.changes, eta)

            try:
                return push(
                    ctx,
                    batch.batch_id,
                    setup,
                    progress=progress,
                    should_cancel=lambda: job.cancelled,
                    cancel=job.token.event,
                )
            except PushStopped as stopped:
                log.error("push stopped: %s", stopped)
                return stopped.report

        return Step(f"Pushing batch {batch.batch_id}", batch.customer, work, progress=True)

    def success(self, report: PushReport) -> None:
        assert self.batch is not None
        log.info(
            "push of batch %d: %s (%d ok, %d failed, %d requests)",
            report.batch_id,
            report.status,
            report.succeeded,
            report.failed,
            report.requests,
        )
        if report.status == BatchStatus.PUSHED.value:
            self.bench.jobs.complete()
        self.ended(report.batch or self._as_reported(report))
        self.bench.jobs.idle(f"Batch {report.batch_id}: {report.status} — {report.message}")

    def _as_reported(self, report: PushReport) -> BatchInfo:
        assert self.batch is not None
        return replace(
            self.batch,
            status=report.status,
            message=report.message,
            succeeded_count=report.succeeded,
            failed_count=report.failed,
        )
