"""An operator's command as a small class (git-cola's ConfirmAction): ok_to_run, then a
job gathering what the confirmation shows (an estimate), then confirm, then the action
(a job), then success. Each run is a new instance holding what it works on; the window only
makes it and calls do()."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from PySide6.QtWidgets import QWidget

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
    statuses each step reports go into the batch's rows, and the batch shows as in progress,
    without reading the database while it runs."""

    activity = "run"

    def __init__(self, bench: Workbench) -> None:
        super().__init__(bench)
        self.batch = bench.selection.batch
        self.claimed = False

    def idle_customer(self) -> bool:
        batch = self.batch
        return batch is not None and not self.bench.runner.busy(batch.customer)

    def progress(self, report: Report) -> None:
        assert self.batch is not None
        changes: tuple[StatusChange, ...] = report.payload or ()
        if changes:
            self.bench.staged.apply(self.batch.batch_id, changes)
        if not self.claimed:  # it reports: it has claimed the batch, which is PUSHING now
            self.claimed = True
            shown = self.bench.history.find(self.batch.batch_id) or self.batch
            message = f"{self.activity} in progress"
            self.bench.history.update(
                replace(shown, status=BatchStatus.PUSHING.value, message=message)
            )

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
