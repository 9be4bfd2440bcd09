"""The main window: a shell that lays out the customers, change set, staged rows, batches,
live log and status bar, opens the session, and hands the operator's commands to action
classes (actions/). What is selected lives in a Selection model; every service call runs
as a job on the pool, and its results go through the views into the table models.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QSettings, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QProgressBar,
    QPushButton,
    QSplitter,
    QTabWidget,
)

from ..services.staging import BatchInfo
from . import commands, keys, menus, theme
from .actions import PushAction, RollbackAction, StageAction, Workbench
from .adopt_view import open_adopt
from .batch_views import HistoryView, StagedView
from .change_set_view import ChangeSetView
from .customers_view import CustomersView
from .drift_view import open_drift
from .job_status import JobStatus
from .log_pane import LogPane, SignalLogHandler
from .mapping_dialog import open_mapping
from .panels import BatchesPanel, ChangeSetPanel, CustomerPanel, StagedPanel
from .resume import check_interrupted
from .selection import Selection
from .session import Session
from .setup_check import SetupCheckDialog, open_setup_check
from .window_layout import build_panels, restore_layout, save_layout
from .workers import Job, JobRunner

log = logging.getLogger("orders_sync_gui.gui")


class MainWindow(QMainWindow):
    # Made by menus.build (act_*, one per entry of its table) and window_layout.build_panels.
    act_refresh: QAction
    act_preview: QAction
    act_stage: QAction
    act_push: QAction
    act_retry: QAction
    act_rollback: QAction
    act_settings: QAction
    act_adopt: QAction
    act_drift: QAction
    act_mapping: QAction
    act_check_setup: QAction
    act_cancel_job: QAction
    customers: CustomerPanel
    changes: ChangeSetPanel
    staged: StagedPanel
    history: BatchesPanel
    tabs: QTabWidget
    top: QSplitter
    main: QSplitter
    log_pane: LogPane
    jobs: JobStatus
    job_label: QLabel
    progress: QProgressBar
    cancel: QPushButton
    mode: QLabel
    loaded = Signal(int)  # the customer list is shown (count): --smoke and tests wait on it
    preview_shown = Signal(str)
    batch_shown = Signal(int)

    def __init__(
        self,
        opener: Callable[[], Session],
        handler: SignalLogHandler,
        settings: QSettings,
        *,
        demo: bool,
        offer_resume: bool = True,
    ) -> None:
        super().__init__()
        self.opener = opener
        self.settings = settings
        self.demo = demo
        self.offer_resume = offer_resume  # at start, offer to resume an interrupted batch
        self.session: Session | None = None
        self.closing = False  # asked to close while a job ran: closes once it has stopped
        self.close_poll = QTimer(self)
        self.close_poll.setInterval(50)
        self.close_poll.timeout.connect(self._close_when_idle)
        self.runner = JobRunner(self)
        self.selection = Selection(self)
        self.setWindowTitle("orders-sync" + (" — DEMO" if demo else ""))
        build_panels(self, handler)
        self._build_views()
        self.entries = menus.build(self)  # act_<name> too (menus.ENTRIES)
        keys.install(self)
        self.runner.changed.connect(self._update_actions)
        for changed in (
            self.selection.customer_changed,
            self.selection.preview_changed,
            self.selection.batch_changed,
        ):
            changed.connect(self._update_actions)
        self._update_actions()
        restore_layout(self, settings, self._splitters())

    # --- what is selected (the Selection model's) ---------------------------------------

    @property
    def customer(self) -> str | None:
        return self.selection.customer

    @property
    def batch(self) -> BatchInfo | None:
        return self.selection.batch

    @property
    def batches(self) -> list[BatchInfo]:
        return self.history_view.batches

    # --- layout -------------------------------------------------------------------------

    def _build_views(self) -> None:
        session, selection, jobs = (lambda: self.session), self.selection, self.jobs
        self.staged_view = StagedView(self.staged, self.tabs, selection, jobs, session)
        self.history_view = HistoryView(self.history, selection, self.staged_view)
        self.change_set = ChangeSetView(self.changes, self.tabs, selection, jobs, session)
        self.customer_list = CustomersView(
            self.customers, self.history_view, selection, jobs, session
        )
        self.customer_list.loaded.connect(self.loaded)
        self.change_set.preview_shown.connect(self.preview_shown)
        self.staged_view.batch_shown.connect(self.batch_shown)
        self.bench = Workbench(
            self,
            session,
            jobs,
            selection,
            self.customer_list,
            self.change_set,
            self.staged_view,
            self.history_view,
        )

    def _splitters(self) -> dict[str, QSplitter]:
        return {
            "main": self.main,
            "top": self.top,
            "changes": self.changes.splitter,
            "staged": self.staged.splitter,
        }

    def _update_actions(self) -> None:
        ready = self.session is not None and not self.closing
        busy, customer = self.runner.busy, self.customer
        self.act_refresh.setEnabled(ready and not busy("refresh"))
        self.act_preview.setEnabled(ready and customer is not None and not busy(customer))
        self.act_stage.setEnabled(ready and StageAction(self.bench).ok_to_run())
        can_push = ready and PushAction(self.bench).ok_to_run()
        self.act_push.setEnabled(can_push)
        self.act_retry.setEnabled(
            can_push and self.batch is not None and self.batch.failed_count > 0
        )
        self.act_rollback.setEnabled(ready and RollbackAction(self.bench).ok_to_run())
        self.act_adopt.setEnabled(ready and customer is not None and not busy(customer))
        self.act_settings.setEnabled(not busy() and not self.closing)
        self.act_cancel_job.setEnabled(busy() and not self.jobs.stopping)
        self.act_drift.setEnabled(ready)
        self.act_mapping.setEnabled(ready)
        self.jobs.update()

    # --- the operator's commands --------------------------------------------------------

    def start(self) -> None:
        """Open the session in the background, then load the customer list."""

        def opened(session: Session) -> None:
            self.session = session
            self.setWindowTitle(f"orders-sync — {session.label}")
            self.mode.setText(session.label)
            log.info("opened %s", session.label)
            self._update_actions()
            if self.offer_resume:
                self.customer_list.loaded.connect(self._look_for_interrupted)
            self.refresh()

        def open_session(job: Job) -> Session:
            return self.opener()

        self.jobs.run("Opening the database", "open", open_session, opened)

    def _look_for_interrupted(self) -> None:
        self.customer_list.loaded.disconnect(self._look_for_interrupted)  # once, at start
        if self.session is not None:
            check_interrupted(self, self.jobs, self.session, self.batches, self.resume)

    def resume(self, batch: BatchInfo) -> None:
        """Resume an interrupted batch: it becomes the current one, and Push asks as ever."""
        self.selection.set_batch(batch)
        self.show_batch(batch.batch_id)
        self.push()

    def refresh(self) -> None:
        self.customer_list.refresh()

    def load_preview(self) -> None:  # asked while its preview runs: once more after it
        self.change_set.load_preview(when_busy="again")

    def show_batch(self, batch_id: int, *, switch: bool = True) -> None:
        self.staged_view.show_batch(batch_id, switch=switch)

    def stage(self) -> None:
        StageAction(self.bench).do()

    def push(self) -> None:
        PushAction(self.bench).do()

    def rollback(self) -> None:
        RollbackAction(self.bench).do()

    def adopt(self) -> None:
        open_adopt(self.bench)

    def drift(self) -> None:
        open_drift(self)

    def map_columns(self) -> None:
        open_mapping(self)

    def cancel_jobs(self) -> None:
        self.jobs.cancel_jobs()

    # --- the menu's other commands (menus.py) -------------------------------------------

    def export(self) -> None:
        commands.export(self)

    def focus(self, pane: str) -> None:
        commands.focus(self, pane)

    def set_dark(self, dark: bool) -> None:
        theme.apply(dark)

    def about(self) -> None:
        commands.about(self)

    def open_log_folder(self) -> None:
        commands.open_log_folder()

    def open_settings(self) -> None:
        from .settings_dialog import SettingsDialog

        SettingsDialog(self, demo=self.demo).exec()

    def check_setup(self) -> SetupCheckDialog:
        """The Check setup dialog (the toolbar's action; a menu can call it too)."""
        return open_setup_check(self, lambda: self.session)

    def closeEvent(self, event: QCloseEvent) -> None:
        """Closing never blocks the window: a running job is asked to stop (every wait of a
        push wakes at once), the window says so, and it closes itself once the job has
        ended (within the request under way). Only a job that talks to monday.com is asked
        about first."""
        if self.runner.busy() or self.runner.running():
            if not self.closing and self.jobs.progress_keys and not self._confirm_close():
                event.ignore()
                return
            if not self.closing:
                self.closing = True
                self.runner.stop()
                self.jobs.closing = True
                self.jobs.cancel_jobs()
                self.setWindowTitle(self.windowTitle() + " — closing…")
                self.close_poll.start()
                self._update_actions()
            event.ignore()
            return
        self.close_poll.stop()
        self.runner.stop()  # nothing more starts: the session is closed
        save_layout(self, self.settings, self._splitters())
        if self.session is not None:
            self.session.close()
            self.session = None
        event.accept()

    def _confirm_close(self) -> bool:
        from .dialogs import confirm_close

        return confirm_close(self)

    def _close_when_idle(self) -> None:
        if not (self.runner.busy() or self.runner.running()):
            self.close_poll.stop()
            self.close()
