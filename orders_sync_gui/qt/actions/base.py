"""An operator's command as a small class (git-cola's ConfirmAction): ok_to_run, then a
job gathering what the confirmation shows (an estimate), then confirm, then the action
(a job), then success. Each run is a new instance holding what it works on; the window only
makes it and calls do()."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtWidgets import QMessageBox, QWidget

from ...core.models import BatchStatus
from ...core.staged import StatusChange
from ...services.staging import BatchInfo
from ..batch_views import HistoryView, StagedView
from ..change_set_view import ChangeSetView
from ..customers_view import CustomersView
from ..job_status import JobStatus
from ..selection import Selection
from ..session import Session
from ..workers import Job, JobRunner, Report

log = logging.getLogger("orders_sync_gui.gui")

# A batch in one of these can be pushed (or pushed again).
OPEN = {BatchStatus.STAGED.value, BatchStatus.PUSHING.value, BatchStatus.PARTIAL.value}


@dataclass(slots=True)
class Workbench:
    """What the actions work with: the window's session, jobs and selection, and the views
    they update."""

    parent: QWidget  # dialogs open over it
    session: Callable[[], Session | None]
    jobs: JobStatus
    selection: Selection
    customers: CustomersView
    change_set: ChangeSetView
    staged: StagedView
    history: HistoryView

    @property
    def runner(self) -> JobRunner:
        return self.jobs.runner


@dataclass(frozen=True, slots=True)
class Step:
    """A job of an action: its name in the status bar, its key (one job per key), the work."""

    name: str
    key: str
    work: Callable[[Job], Any]
    progress: bool = False  # it reports progress (a bar, and progress() gets each report)


class ConfirmAction:
    def __init__(self, bench: Workbench) -> None:
        self.bench = bench
        self.session = bench.session()

    def ok_to_run(self) -> bool:
        """Whether the command can run now (its button is enabled by the same answer)."""
        return self.session is not None

    def why_not(self) -> str:
        sel = self.bench.selection
        batch = sel.batch
        return (
            f"customer {sel.customer}, batch "
            f"{f'{batch.batch_id} {batch.status}' if batch else None}, "
            f"jobs {sorted(self.bench.runner.jobs)}"
        )

    def prepare(self) -> Step | None:
        """A job whose result the confirmation shows, if the command needs one."""
        return None

    def confirm(self, prepared: Any) -> bool:
        return True

    def action(self, prepared: Any) -> Step:
        raise NotImplementedError

    def progress(self, report: Report) -> None:
        """A report of the action's job, on the GUI thread."""

    def success(self, result: Any) -> None:
        """The action's job's result, on the GUI thread."""

    def failure(self, message: str) -> None:
        """The action's job failed (the status bar, the log and a box have said so)."""

    def do(self) -> None:
        if not self.ok_to_run():
            log.info("%s: not possible now (%s)", type(self).__name__, self.why_not())
            return
        step = self.prepare()
        if step is None:
            self._confirmed(None)
        else:
            self.bench.jobs.run(step.name, step.key, step.work, self._confirmed)

    def _confirmed(self, prepared: Any) -> None:
        if not self.confirm(prepared):
            return
        step = self.action(prepared)
        self.bench.jobs.run(
            step.name,
            step.key,
            step.work,
            self.success,
            on_progress=self.progress if step.progress else None,
            on_failure=self.failure,
        )


class BatchRunAction(ConfirmAction):
    """A command that runs the current batch against monday.com (a push, an undo): the
    statuses each step reports go into the batch's rows, and the status bar, the batch's
    line in the history and the Staged rows title all say what is on the board from those
    same rows (core/board_state.py), without reading the database while it runs."""

    activity = "run"
    shown_status = BatchStatus.PUSHING.value  # the batch's status while the run holds it

    def __init__(self, bench: Workbench) -> None:
        super().__init__(bench)
        self.batch = bench.selection.batch
        self.said = ""

    def idle_customer(self) -> bool:
        batch = self.batch
        return batch is not None and not self.bench.runner.busy(batch.customer)

    def refused(self, title: str, message: str) -> None:
        """Said before any confirmation: the command cannot run now."""
        log.warning("%s: %s", title, message)
        self.bench.jobs.idle(f"{title}: {message}")
        QMessageBox.information(self.bench.parent, title, message)

    def progress(self, report: Report) -> None:
        assert self.batch is not None
        batch_id = self.batch.batch_id
        changes: tuple[StatusChange, ...] = report.payload or ()
        if changes:
            self.bench.staged.apply(batch_id, changes)
        state = self.bench.staged.board_state(batch_id)
        said = state.text() if state is not None else f"{report.done:,} of {report.total:,} sent"
        self.bench.jobs.say(self.batch.customer, f"{report.text} — {said}")
        if said != self.said:  # the batch's line in the history says the same, in place
            self.said = said
            shown = self.bench.history.find(batch_id) or self.batch
            message = f"{self.activity} in progress: {said}"
            self.bench.history.update(replace(shown, status=self.shown_status, message=message))

    def ended(self, batch: BatchInfo | None) -> None:
        """The run is over: the batch as it left it (if known), and its customer recounted:
        the only read after it."""
        assert self.batch is not None
        self.bench.staged.settle(self.batch.batch_id)
        if batch is not None:
            self.bench.history.update(batch)
        self.bench.customers.recount(self.batch.customer)

    def failure(self, message: str) -> None:
        self.ended(None)
