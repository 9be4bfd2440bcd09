"""The main window: customers, change set, staged rows, batches, live log, status bar.

Every service call runs as a Job on the pool; slots only move results into models.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QByteArray, QSettings, Qt, QTimer, Signal
from PySide6.QtGui import QAction, QCloseEvent, QKeySequence
from PySide6.QtWidgets import (
    QLabel,
    QMainWindow,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSplitter,
    QStyle,
    QTabWidget,
    QToolBar,
    QWidget,
)

from ..core.models import STAGEABLE, BatchStatus, ChangeType, RowChange
from ..services import detection, staging
from ..services.estimate import estimate
from ..services.push import PushReport, PushStopped, push
from ..services.staging import BatchInfo
from ..services.undo import UndoReport, UndoStopped, undo
from . import frames
from .dialogs import confirm_push, confirm_rollback
from .log_pane import LogPane, SignalLogHandler
from .models import text_mask
from .panels import BatchesPanel, ChangeSetPanel, CustomerPanel, StagedPanel, fit_columns
from .session import Session
from .workers import Job, JobRunner, Report

log = logging.getLogger("orders_sync_gui.gui")
OPEN = {BatchStatus.STAGED.value, BatchStatus.PUSHING.value, BatchStatus.PARTIAL.value}


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
        self.session: Session | None = None
        self.runner = JobRunner(self)
        self.customer: str | None = None
        self.preview: detection.Preview | None = None
        self.excluded: set[str] = set()
        self.batch: BatchInfo | None = None
        self.batches: list[BatchInfo] = []
        self.demo = demo
        self._job_started = 0.0
        self._rows_reloaded = 0.0
        self.shown_batch: int | None = None  # whose rows the Staged rows tab holds
        self._statuses_due = False  # a status read was asked for while one was running
        self._show_due: tuple[int, bool] | None = None  # a batch to load when its rows job ends
        self._recount_due: set[str] = set()  # customers to recount after the running refresh
        self._refresh_due = False  # a full refresh was asked for while a count was running
        self.setWindowTitle("orders-sync" + (" — DEMO" if demo else ""))
        self._build(handler)
        self.runner.changed.connect(self._update_actions)
        self.runner.changed.connect(self._read_statuses_due)
        self.runner.changed.connect(self._count_when_free)
        self._update_actions()
        self._restore_layout()

    # --- layout -------------------------------------------------------------------------

    def _action(
        self,
        text: str,
        icon: QStyle.StandardPixmap,
        slot: Callable[[], None],
        tip: str,
        shortcut: str | None = None,
    ) -> QAction:
        action = QAction(self.style().standardIcon(icon), text, self)
        action.setToolTip(tip)
        action.triggered.connect(slot)
        if shortcut:
            action.setShortcut(QKeySequence(shortcut))
        return action

    def _build(self, handler: SignalLogHandler) -> None:
        sp = QStyle.StandardPixmap
        self.act_refresh = self._action(
            "Refresh", sp.SP_BrowserReload, self.refresh, "Recount every customer's changes", "F5"
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
        self.act_settings = self._action(
            "Settings",
            sp.SP_FileDialogDetailedView,
            self.open_settings,
            "Database, monday.com, mapping",
        )
        bar = QToolBar("Actions")
        bar.setObjectName("actions")
        bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
        bar.setMovable(False)
        for action in (
            self.act_refresh,
            self.act_preview,
            self.act_stage,
            self.act_push,
            self.act_retry,
            self.act_rollback,
        ):
            bar.addAction(action)
        bar.addSeparator()
        bar.addAction(self.act_settings)
        self.addToolBar(bar)

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

        self.job_label = QLabel("Starting…")
        self.progress = QProgressBar()
        self.progress.setMinimumWidth(260)
        self.progress.setMaximumWidth(360)
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.cancel = QPushButton("Cancel")
        self.cancel.setEnabled(False)
        self.cancel.clicked.connect(self.cancel_jobs)
        self.mode = QLabel("DEMO" if self.demo else "")
        self.mode.setStyleSheet(
            "padding: 0 6px; font-weight: bold;" + (" color: #8a4b00;" if self.demo else "")
        )
        status = self.statusBar()
        status.addWidget(self.job_label, 1)
        status.addPermanentWidget(self.progress)
        status.addPermanentWidget(self.cancel)
        status.addPermanentWidget(self.mode)

        self.customers.filter.textChanged.connect(self._filter_customers)
        self.customers.view.selectionModel().currentRowChanged.connect(self._customer_selected)
        self.changes.type_filter.currentIndexChanged.connect(self._filter_changes)
        self.changes.view.selectionModel().currentRowChanged.connect(self._change_selected)
        self.changes.model.checks_changed.connect(self._checks_changed)
        self.history.view.selectionModel().currentRowChanged.connect(self._batch_selected)
        self.staged.sub_filter.textChanged.connect(self._filter_subitems)

    def _restore_layout(self) -> None:
        geometry = self.settings.value("window/geometry")
        if isinstance(geometry, QByteArray) and not geometry.isEmpty():
            self.restoreGeometry(geometry)
        else:
            self.resize(1440, 880)
        for name, splitter in self._splitters().items():
            state = self.settings.value(f"window/{name}")
            if isinstance(state, QByteArray) and not state.isEmpty():
                splitter.restoreState(state)
            elif name == "main":
                splitter.setSizes([640, 220])
            elif name == "top":
                splitter.setSizes([640, 800])

    def _splitters(self) -> dict[str, QSplitter]:
        return {
            "main": self.main,
            "top": self.top,
            "changes": self.changes.splitter,
            "staged": self.staged.splitter,
        }

    def _save_layout(self) -> None:
        self.settings.setValue("window/geometry", self.saveGeometry())
        for name, splitter in self._splitters().items():
            self.settings.setValue(f"window/{name}", splitter.saveState())
        self.settings.sync()

    # --- jobs ---------------------------------------------------------------------------

    def _run(
        self,
        name: str,
        key: str,
        fn: Callable[[Job], Any],
        on_success: Callable[[Any], None],
        *,
        progress: bool = False,
    ) -> Job | None:
        def failed(message: str) -> None:
            log.error("%s failed: %s", name, message)
            self.job_label.setText(f"{name} failed: {message}")
            if key != "open":
                QMessageBox.warning(self, f"{name} failed", message)

        job = self.runner.start(
            name,
            key,
            fn,
            on_success=on_success,
            on_failure=failed,
            on_progress=self._on_progress if progress else None,
        )
        if job is not None:
            self._job_started = time.monotonic()
            self.job_label.setText(f"{name}…")
            if progress:
                self.progress.setRange(0, 0)
                self.progress.show()
        return job

    def _on_progress(self, report: Report) -> None:
        done, total, text = report.done, report.total, report.text
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        elapsed = time.monotonic() - self._job_started
        eta = ""
        if 0 < done < total and elapsed > 0.5:
            left = int(elapsed / done * (total - done))
            eta = f" · ETA {left // 60}:{left % 60:02d}"
        self.progress.setFormat(f"{done} / {total}{eta}")
        self.job_label.setText(text)
        # Live statuses, at most once a second, one read at a time (the clock starts when a
        # read has been shown, not when it was asked for).
        if self.batch is not None and time.monotonic() - self._rows_reloaded > 1.0:
            self.update_statuses(self.batch.batch_id)

    def _idle(self, text: str) -> None:
        if not self.runner.busy():
            self.progress.hide()
        self.job_label.setText(text)

    def cancel_jobs(self) -> None:
        log.warning("cancel requested: the running job stops after its current request")
        self.runner.cancel_all()

    def _update_actions(self) -> None:
        ready = self.session is not None
        customer_busy = self.customer is not None and self.runner.busy(self.customer)
        has_changes = bool(self.preview and self.preview.changes)
        batch = self.batch
        open_batch = batch is not None and batch.status in OPEN
        self.act_refresh.setEnabled(ready and not self.runner.busy("refresh"))
        self.act_preview.setEnabled(ready and self.customer is not None and not customer_busy)
        self.act_stage.setEnabled(ready and has_changes and not customer_busy)
        self.act_push.setEnabled(
            ready and open_batch and not self.runner.busy(batch.customer if batch else "")
        )
        self.act_retry.setEnabled(
            self.act_push.isEnabled() and batch is not None and batch.failed_count > 0
        )
        self.act_rollback.setEnabled(
            ready
            and batch is not None
            and batch.status in (*OPEN, BatchStatus.PUSHED.value)
            and not self.runner.busy(batch.customer)
        )
        self.act_settings.setEnabled(not self.runner.busy())
        self.cancel.setEnabled(self.runner.busy())
        if not self.runner.busy():
            self.progress.hide()

    # --- start-up and refresh -----------------------------------------------------------

    def start(self) -> None:
        """Open the session in the background, then load the customer list."""

        def opened(session: Session) -> None:
            self.session = session
            self.setWindowTitle(f"orders-sync — {session.label}")
            self.mode.setText(session.label)
            log.info("opened %s", session.label)
            self._update_actions()
            self.refresh()

        self._run("Opening the database", "open", lambda job: self.opener(), opened)

    def refresh(self) -> None:
        if self.session is None:
            return
        if self.runner.busy("refresh"):
            self._refresh_due = True  # counted again when the running count is done
            return
        ctx = self.session.ctx

        def work(job: Job) -> tuple[list[detection.CustomerRow], list[BatchInfo], int]:
            started = time.monotonic()
            rows, errors = detection.customer_overview(ctx)
            batches = staging.history(ctx)
            log.info(
                "detect: %d customers counted in %.2f s (%d rows cannot be synced)",
                len(rows),
                time.monotonic() - started,
                len(errors),
            )
            return rows, batches, len(errors)

        self._run("Counting changes", "refresh", work, self._show_customers)

    def recount(self, customer: str) -> None:
        """Recount one customer (after its stage, push or undo) and update its line and the
        batch history in place: a fraction of a full refresh's work, and the operator's
        selection stays put."""
        if self.session is None:
            return
        if self.runner.busy("refresh"):
            self._recount_due.add(customer)  # counted when the running refresh is done
            return
        ctx = self.session.ctx

        def work(job: Job) -> tuple[list[detection.CustomerRow], list[BatchInfo]]:
            rows, _errors = detection.customer_overview(ctx, customer)
            return rows, staging.history(ctx)

        def counted(result: tuple[list[detection.CustomerRow], list[BatchInfo]]) -> None:
            rows, batches = result
            self._show_batches(batches)
            line = frames.customers_frame(rows, {b.batch_id: b.status for b in batches})
            if not (self.customers.model.frame["customer"] == customer).any():
                self.refresh()  # a customer the list did not have yet: counted after this
            else:
                self.customers.model.update_rows("customer", line)
            self._update_actions()

        self.runner.start(f"Recounting {customer}", "refresh", work, on_success=counted)

    def _count_when_free(self) -> None:
        if self.runner.busy("refresh"):
            return
        if self._refresh_due:
            self._refresh_due = False
            self.refresh()
        elif self._recount_due:
            self.recount(self._recount_due.pop())

    def _show_batches(self, batches: list[BatchInfo]) -> None:
        """The history: written in place when it holds the same batches (the selection
        stays), replaced when a batch was added."""
        self.batches = batches
        frame = frames.batches_frame(batches)
        model = self.history.model
        if sorted(model.frame["batch_id"].tolist()) == sorted(frame["batch_id"].tolist()):
            model.update_rows("batch_id", frame)
        else:
            model.set_frame(frame)
            fit_columns(self.history.view)
        if self.batch is not None:
            self.batch = next((b for b in batches if b.batch_id == self.batch.batch_id), self.batch)

    def _show_customers(
        self, result: tuple[list[detection.CustomerRow], list[BatchInfo], int]
    ) -> None:
        rows, batches, invalid = result
        self._recount_due.clear()  # every customer was just counted
        status = {b.batch_id: b.status for b in batches}
        first_load = self.customers.model.rowCount() == 0
        self.customers.model.set_frame(frames.customers_frame(rows, status))
        if first_load:
            self.customers.view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self._filter_customers(self.customers.filter.text())
        fit_columns(self.customers.view, maximum=200)
        self._show_batches(batches)
        self._idle(
            f"{len(rows)} customers"
            + (f"; {invalid} rows cannot be synced (see the log)" if invalid else "")
        )
        self._update_actions()
        self.loaded.emit(len(rows))

    def _filter_customers(self, text: str) -> None:
        model = self.customers.model
        model.set_mask(text_mask(model.frame, ["customer"], text))

    # --- preview ------------------------------------------------------------------------

    def _customer_selected(self, current: Any, _previous: Any) -> None:
        if not current.isValid():
            return
        name = str(self.customers.model.record(current.row())["customer"])
        if name != self.customer:
            self.customer = name
            self.excluded.clear()
            self.load_preview()

    def load_preview(self) -> None:
        if self.session is None or self.customer is None:
            return
        ctx, customer = self.session.ctx, self.customer
        po = self.changes.po.text().strip() or None

        def work(job: Job) -> detection.Preview:
            found = detection.preview(ctx, customer, po_number=po)
            c = found.counts
            log.info(
                "preview %s: %d new, %d changed, %d deleted", customer, c.new, c.changed, c.deleted
            )
            return found

        self._run(f"Preview of {customer}", customer, work, self._show_preview)

    def _show_preview(self, found: detection.Preview) -> None:
        if found.customer != self.customer:
            return  # the operator moved on to another customer meanwhile
        self.preview = found
        c = found.counts
        self.changes.title.setText(
            f"<b>{found.customer}</b> — change set: {c.new} new · {c.changed} changed · "
            f"{c.deleted} deleted" + (f" · {c.invalid} invalid" if c.invalid else "")
        )
        self.changes.model.set_frame(frames.changes_frame(found.changes, self.excluded))
        self._filter_changes()
        fit_columns(self.changes.view, maximum=180)
        self.changes.view.setColumnWidth(0, 28)
        self.changes.sizes.set_frame(
            frames.sizes_frame(found.changes[0])
            if found.changes
            else frames.sizes_frame(_empty_change())
        )
        self.tabs.setCurrentWidget(self.changes)
        self._idle(f"{found.customer}: {len(found.changes)} rows to sync")
        self._update_actions()
        self.preview_shown.emit(found.customer)

    def _filter_changes(self) -> None:
        model = self.changes.model
        kind = self.changes.type_filter.currentText()
        if kind in ("NEW", "CHANGED", "DELETED"):
            model.set_mask((model.frame["change"] == kind).to_numpy())
        else:
            model.set_mask(None)

    def _checks_changed(self) -> None:
        frame = self.changes.model.frame
        self.excluded = set(frame.loc[~frame["include"].astype(bool), "record_uuid"])

    def _change_selected(self, current: Any, _previous: Any) -> None:
        if not current.isValid() or self.preview is None:
            return
        uid = self.changes.model.record(current.row())["record_uuid"]
        change = next((c for c in self.preview.changes if c.record_uuid == uid), None)
        if change is not None:
            order = change.value("AAG ORDER NUMBER") or ""
            self.changes.sizes_title.setText(f"Sizes of {order} (subitems)")
            self.changes.sizes.set_frame(frames.sizes_frame(change))

    # --- stage --------------------------------------------------------------------------

    def stage(self) -> None:
        if self.session is None or self.customer is None or self.preview is None:
            return
        ctx, customer, exclude = self.session.ctx, self.customer, set(self.excluded)
        kind = self.changes.type_filter.currentText()
        types = [ChangeType(kind)] if kind in ("NEW", "CHANGED", "DELETED") else list(STAGEABLE)
        po = self.changes.po.text().strip() or None
        limit = self.changes.limit.value() or None

        def work(job: Job) -> BatchInfo:
            batch = staging.stage(
                ctx, customer, types=types, po_number=po, limit=limit, exclude=exclude
            )
            log.info(
                "stage %s: batch %d staged (%d items, %d subitems)",
                customer,
                batch.batch_id,
                batch.item_count,
                batch.subitem_count,
            )
            return batch

        def staged(batch: BatchInfo) -> None:
            self.batch = batch
            self.show_batch(batch.batch_id)
            self.recount(batch.customer)

        self._run(f"Staging {customer}", customer, work, staged)

    # --- batches ------------------------------------------------------------------------

    def _batch_selected(self, current: Any, _previous: Any) -> None:
        if not current.isValid():
            return
        batch_id = int(self.history.model.record(current.row())["batch_id"])
        self.batch = next((b for b in self.batches if b.batch_id == batch_id), None)
        self._update_actions()
        self.show_batch(batch_id, switch=False)

    def show_batch(self, batch_id: int, *, switch: bool = True) -> None:
        if self.session is None:
            return
        if self.runner.busy(f"rows:{batch_id}"):
            self._show_due = (batch_id, switch)  # loaded when the running read is done
            return
        ctx = self.session.ctx

        def work(job: Job) -> tuple[Any, Any]:
            rows, subs = staging.batch_rows(ctx, batch_id)
            numbers = dict(zip(rows["stg_id"], rows["order_number"], strict=True))
            return rows, subs.assign(order_number=subs["stg_parent_id"].map(numbers))

        def shown(result: tuple[Any, Any]) -> None:
            rows, subs = result
            self.staged.rows.set_frame(rows)
            self.staged.subitems.set_frame(subs)
            self.shown_batch = batch_id
            self._filter_subitems(self.staged.sub_filter.text())
            fit_columns(self.staged.rows_view)
            fit_columns(self.staged.sub_view)
            self._rows_reloaded = time.monotonic()
            self._title_batch(batch_id)
            if switch:
                self.tabs.setCurrentWidget(self.staged)
            self.batch_shown.emit(batch_id)

        self.runner.start("Loading batch rows", f"rows:{batch_id}", work, on_success=shown)

    def update_statuses(self, batch_id: int) -> None:
        """Re-read only the statuses of the batch on show and write them into the tables in
        place: cheap enough to run every second of a push, and the operator's selection,
        scroll position and sort stay where they were."""
        if self.session is None or self.shown_batch != batch_id:
            return
        if self.runner.busy(f"rows:{batch_id}"):
            self._statuses_due = True  # read again when this one is done: the last word counts
            return
        ctx = self.session.ctx

        def work(job: Job) -> tuple[Any, Any, BatchInfo]:
            rows, subs = staging.batch_statuses(ctx, batch_id)
            return rows, subs, staging.get(ctx, batch_id)

        def shown(result: tuple[Any, Any, BatchInfo]) -> None:
            rows, subs, info = result
            self._batch_changed(info)
            if self.shown_batch != batch_id:
                return  # the operator opened another batch meanwhile
            self.staged.rows.update_rows("stg_id", rows)
            if self.staged.subitems.update_rows("stg_subitem_id", subs) and (
                self.staged.sub_filter.text().strip()
            ):
                self._filter_subitems(self.staged.sub_filter.text())  # it may filter on status
            self._rows_reloaded = time.monotonic()
            self._title_batch(batch_id)
            self.batch_shown.emit(batch_id)

        self.runner.start("Reading batch statuses", f"rows:{batch_id}", work, on_success=shown)

    def _batch_changed(self, info: BatchInfo) -> None:
        """A fresh reading of one batch (its status, its counts) into the history's line."""
        self.batches = [info if b.batch_id == info.batch_id else b for b in self.batches]
        if self.batch is not None and self.batch.batch_id == info.batch_id:
            self.batch = info
        self.history.model.update_rows("batch_id", frames.batches_frame([info]))
        self._update_actions()

    def _read_statuses_due(self) -> None:
        """Run the batch load or status read that was asked for while another ran."""
        if self._show_due is not None and not self.runner.busy(f"rows:{self._show_due[0]}"):
            (batch_id, switch), self._show_due = self._show_due, None
            self._statuses_due = False  # a full load reads the statuses too
            self.show_batch(batch_id, switch=switch)
            return
        batch_id = self.shown_batch
        if self._statuses_due and batch_id is not None and not self.runner.busy(f"rows:{batch_id}"):
            self._statuses_due = False
            self.update_statuses(batch_id)

    def _title_batch(self, batch_id: int) -> None:
        rows, subs = self.staged.rows.frame, self.staged.subitems.frame
        counts = rows["stg_status"].value_counts().to_dict() if len(rows) else {}
        described = ", ".join(f"{n} {s.lower()}" for s, n in sorted(counts.items()))
        batch = self.batch if self.batch and self.batch.batch_id == batch_id else None
        self.staged.title.setText(
            f"<b>Batch {batch_id}</b>"
            + (f" — {batch.customer}, {batch.status}" if batch else "")
            + f": {len(rows)} rows ({described}), {len(subs)} subitems"
        )

    def _filter_subitems(self, text: str) -> None:
        model = self.staged.subitems
        model.set_mask(
            text_mask(
                model.frame, ["order_number", "size_label", "stg_status", "change_type"], text
            )
        )

    # --- push ---------------------------------------------------------------------------

    def push(self) -> None:
        if self.session is None or self.batch is None:
            return
        session, batch = self.session, self.batch

        def work_estimate(job: Job) -> Any:
            setup = session.monday()
            return setup, estimate(session.ctx, batch.batch_id, setup.limits)

        def confirmed(result: Any) -> None:
            setup, est = result
            if not confirm_push(self, batch, est):
                log.info("push of batch %d not started (the operator said no)", batch.batch_id)
                return
            self._start_push(setup, batch)

        self._run("Estimating the push", f"estimate:{batch.batch_id}", work_estimate, confirmed)

    def _start_push(self, setup: Any, batch: BatchInfo) -> None:
        assert self.session is not None
        ctx = self.session.ctx
        if self.shown_batch == batch.batch_id:  # its rows are on show: no need to reload them
            self.tabs.setCurrentWidget(self.staged)
        else:
            self.show_batch(batch.batch_id)

        def work(job: Job) -> PushReport:
            def progress(p: Any) -> None:
                job.report(
                    p.done,
                    p.total,
                    f"Pushing {batch.customer} batch {batch.batch_id}"
                    f" — {p.done} / {p.total} mutations, {p.requests} requests",
                )

            try:
                return push(
                    ctx,
                    batch.batch_id,
                    setup,
                    progress=progress,
                    should_cancel=lambda: job.cancelled,
                )
            except PushStopped as stopped:
                log.error("push stopped: %s", stopped)
                return stopped.report

        def done(report: PushReport) -> None:
            log.info(
                "push of batch %d: %s (%d ok, %d failed, %d requests)",
                report.batch_id,
                report.status,
                report.succeeded,
                report.failed,
                report.requests,
            )
            if report.status == BatchStatus.PUSHED.value:
                self.progress.setRange(0, 1)
                self.progress.setValue(1)
            if self.shown_batch == report.batch_id:
                self.update_statuses(report.batch_id)
            else:
                self.show_batch(report.batch_id)
            self.recount(batch.customer)
            self._idle(f"Batch {report.batch_id}: {report.status} — {report.message}")

        self._run(f"Pushing batch {batch.batch_id}", batch.customer, work, done, progress=True)

    # --- roll back / undo ---------------------------------------------------------------

    def rollback(self) -> None:
        if self.session is None or self.batch is None:
            return
        session, batch = self.session, self.batch
        if not confirm_rollback(self, batch):
            return

        def work(job: Job) -> Any:
            if batch.status == BatchStatus.STAGED.value:
                return staging.rollback(session.ctx, batch.batch_id)
            try:
                return undo(
                    session.ctx,
                    batch.batch_id,
                    session.monday(),
                    progress=lambda p: job.report(
                        p.done, p.total, f"Undoing batch {batch.batch_id}"
                    ),
                    should_cancel=lambda: job.cancelled,
                )
            except UndoStopped as stopped:
                return stopped.report

        def done(result: Any) -> None:
            if isinstance(result, UndoReport):
                log.info("undo of batch %d: %s", result.batch_id, result.message)
                for note in result.not_undoable:
                    log.warning("not undoable: %s", note)
            else:
                log.info("batch %d rolled back: %s", result.batch_id, result.message)
            self.show_batch(batch.batch_id)
            self.recount(batch.customer)
            if self.customer == batch.customer:
                self.load_preview()

        self._run(f"Rolling back batch {batch.batch_id}", batch.customer, work, done, progress=True)

    # --- settings and closing -------------------------------------------------------------

    def open_settings(self) -> None:
        from .settings_dialog import SettingsDialog

        SettingsDialog(self, demo=self.demo).exec()

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
            self.runner.cancel_all()
            self.runner.wait(60_000)
        self._save_layout()
        if self.session is not None:
            self.session.close()
        event.accept()


def _empty_change() -> RowChange:
    from ..core.models import Record

    empty = Record("", "", {}, {}, "")
    return RowChange("", ChangeType.UNCHANGED, "", empty, empty)


__all__ = ["MainWindow", "QTimer", "QWidget"]
