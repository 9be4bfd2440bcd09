"""The main window: a shell that lays out the customers, change set, staged rows, batches,
live log and status bar, opens the session, and hands the operator's commands to action
classes (actions/). What is selected lives in a Selection model; every service call runs
as a job on the pool, and its results go through the views into the table models.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtCore import QSettings, Qt, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import QMainWindow, QMessageBox, QSplitter, QStyle, QTabWidget, QToolBar

from ..services.staging import BatchInfo
from .actions import PushAction, RollbackAction, StageAction, Workbench
from .adopt_view import open_adopt
from .batch_views import HistoryView, StagedView
from .change_set_view import ChangeSetView
from .customers_view import CustomersView
from .drift_view import DRIFT_TIP, open_drift
from .job_status import JobStatus
from .log_pane import LogPane, SignalLogHandler
from .mapping_dialog import MAPPING_TIP, open_mapping
from .panels import BatchesPanel, ChangeSetPanel, CustomerPanel, StagedPanel
from .selection import Selection
from .session import Session
from .setup_check import SetupCheckDialog, open_setup_check
from .window_layout import restore_layout, save_layout
from .workers import Job, JobRunner

log = logging.getLogger("orders_sync_gui.gui")


class MainWindow(QMainWindow):
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
    ) -> None:
        super().__init__()
        self.opener = opener
        self.settings = settings
        self.demo = demo
        self.session: Session | None = None
        self.runner = JobRunner(self)
        self.selection = Selection(self)
        self.setWindowTitle("orders-sync" + (" — DEMO" if demo else ""))
        self._build_panels(handler)
        self._build_views()
        self._build_toolbar()
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

    def _build_panels(self, handler: SignalLogHandler) -> None:
        self.customers = CustomerPanel()
        self.changes = ChangeSetPanel()
        self.staged = StagedPanel()
        self.history = BatchesPanel()
        self.tabs = QTabWidget()
        self.tabs.addTab(self.changes, "Change set")
        self.tabs.addTab(self.staged, "Staged rows")
        self.tabs.addTab(self.history, "Batches")
        self.top = QSplitter(Qt.Orientation.Horizontal)
        self.top.addWidget(self.customers)
        self.top.addWidget(self.tabs)
        self.top.setStretchFactor(0, 2)
        self.top.setStretchFactor(1, 3)
        self.log_pane = LogPane(handler)
        self.main = QSplitter(Qt.Orientation.Vertical)
        self.main.addWidget(self.top)
        self.main.addWidget(self.log_pane)
        self.main.setStretchFactor(0, 4)
        self.main.setStretchFactor(1, 1)
        self.setCentralWidget(self.main)
        self.jobs = JobStatus(self.runner, self, demo=self.demo)
        self.jobs.install(self.statusBar())
        self.job_label, self.progress = self.jobs.label, self.jobs.progress
        self.cancel, self.mode = self.jobs.cancel, self.jobs.mode

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

    def _action(
        self,
        text: str,
        icon: QStyle.StandardPixmap,
        slot: Callable[[], object],
        tip: str,
        shortcut: str | None = None,
    ) -> QAction:
        action = QAction(self.style().standardIcon(icon), text, self)
        action.setToolTip(tip)
        action.triggered.connect(slot)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        return action

    def _build_toolbar(self) -> None:
        sp = QStyle.StandardPixmap
        refresh_tip = "Recount every customer's changes"
        self.act_refresh = self._action(
            "Refresh", sp.SP_BrowserReload, self.refresh, refresh_tip, "F5"
        )
        self.act_preview = self._action(
            "Preview",
            sp.SP_FileDialogContentsView,
            self.load_preview,
            "Show the selected customer's changes field by field",
        )
        self.act_stage = self._action(
            "Stage batch",
            sp.SP_FileDialogNewFolder,
            self.stage,
            "Stage the checked rows as a batch",
        )
        self.act_push = self._action(
            "Push to monday.com",
            sp.SP_ArrowUp,
            self.push,
            "Send the batch to monday.com (asks first, with the cost and time)",
        )
        self.act_retry = self._action(
            "Retry failed", sp.SP_BrowserReload, self.push, "Send the batch's failed rows again"
        )
        self.act_rollback = self._action(
            "Roll back / Undo batch",
            sp.SP_DialogDiscardButton,
            self.rollback,
            "Discard a staged batch, or undo a pushed one on monday.com",
        )
        adopt_tip = "Link the board items the earlier scripts made to their orders"
        self.act_adopt = self._action(
            "Adopt board items", sp.SP_DialogApplyButton, self.adopt, adopt_tip
        )
        self.act_settings = self._action(
            "Settings",
            sp.SP_FileDialogDetailedView,
            self.open_settings,
            "Database, monday.com, mapping",
        )
        self.act_check = self._action(
            "Check setup",
            sp.SP_DialogApplyButton,
            self.check_setup,
            "Check the database, the files, the token and the board (as orders-sync doctor)",
        )
        bar = QToolBar("Actions")
        bar.setObjectName("actions")
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        bar.setMovable(False)
        bar.addActions([self.act_refresh, self.act_preview, self.act_stage, self.act_push])
        bar.addActions([self.act_retry, self.act_rollback, self.act_adopt])
        bar.addSeparator()
        self.act_drift = self._action(
            "Drift", sp.SP_MessageBoxWarning, lambda: open_drift(self), DRIFT_TIP
        )
        self.act_mapping = self._action(
            "Map columns", sp.SP_FileDialogListView, lambda: open_mapping(self), MAPPING_TIP
        )
        bar.addActions([self.act_drift, self.act_mapping, self.act_settings, self.act_check])
        self.addToolBar(bar)

    def _splitters(self) -> dict[str, QSplitter]:
        return {
            "main": self.main,
            "top": self.top,
            "changes": self.changes.splitter,
            "staged": self.staged.splitter,
        }

    def _update_actions(self) -> None:
        ready, busy, customer = self.session is not None, self.runner.busy, self.customer
        self.act_refresh.setEnabled(ready and not busy("refresh"))
        self.act_preview.setEnabled(ready and customer is not None and not busy(customer))
        self.act_stage.setEnabled(StageAction(self.bench).ok_to_run())
        can_push = PushAction(self.bench).ok_to_run()
        self.act_push.setEnabled(can_push)
        self.act_retry.setEnabled(
            can_push and self.batch is not None and self.batch.failed_count > 0
        )
        self.act_rollback.setEnabled(RollbackAction(self.bench).ok_to_run())
        self.act_adopt.setEnabled(ready and customer is not None and not busy(customer))
        self.act_settings.setEnabled(not busy())
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
            self.refresh()

        def open_session(job: Job) -> Session:
            return self.opener()

        self.jobs.run("Opening the database", "open", open_session, opened)

    def refresh(self) -> None:
        self.customer_list.refresh()

    def load_preview(self) -> None:
        self.change_set.load_preview()

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

    def cancel_jobs(self) -> None:
        self.jobs.cancel_jobs()

    def open_settings(self) -> None:
        from .settings_dialog import SettingsDialog

        SettingsDialog(self, demo=self.demo).exec()

    def check_setup(self) -> SetupCheckDialog:
        """The Check setup dialog (the toolbar's action; a menu can call it too)."""
        return open_setup_check(self, lambda: self.session)

    def closeEvent(self, event: QCloseEvent) -> None:
        # Short jobs (a refresh, loading rows) are let finish; only a long one is asked about.
        if self.runner.running() and not self.runner.wait(1500):
            answer = QMessageBox.question(
                self,
                "A job is running",
                "A job is still running. Cancel it and close? Nothing is lost: an interrupted "
                "push resumes where it stopped.",
            )
            if answer != QMessageBox.StandardButton.Yes:
                event.ignore()
                return
            self.runner.stop()
            self.runner.wait(60_000)
        self.runner.stop()  # nothing more starts: the session is closed
        save_layout(self, self.settings, self._splitters())
        if self.session is not None:
            self.session.close()
        event.accept()
