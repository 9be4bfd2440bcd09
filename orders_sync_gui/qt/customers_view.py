"""The customer list: its filter, the selected customer, and the counts behind it (every
customer's on a refresh, one customer's line after its stage, push or undo)."""

from __future__ import annotations

import itertools
import logging
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, Qt, QTimer, Signal

from ..services import detection, staging
from ..services.detection import CustomerRow
from ..services.staging import BatchInfo
from . import frames
from .batch_views import HistoryView
from .job_status import JobStatus
from .models import text_mask
from .panels import CustomerPanel, fit_columns
from .selection import Selection
from .session import Session
from .workers import Job, Report

log = logging.getLogger("orders_sync_gui.gui")

# (the lines, the batch history, rows that cannot be synced, the count went to its end)
Counted = tuple[list[CustomerRow], list[BatchInfo], int, bool]
# A list filled in while counting is shown at most this often (seconds), after the first.
PARTIAL_EVERY = 0.3


class CountCancelled(Exception):
    """Raised from detection's progress hook when the operator cancels a count."""


def _streamed(job: Job) -> Callable[[detection.OverviewProgress], None]:
    """Detection's progress hook for a count job: stops it when cancelled; reports the
    list counted so far, the first time at once, then every PARTIAL_EVERY seconds."""
    last = [0.0]

    def hook(p: detection.OverviewProgress) -> None:
        if job.cancelled:
            raise CountCancelled
        now = time.monotonic()
        if last[0] and now - last[0] < PARTIAL_EVERY and p.rows_done < p.rows_total:
            return
        last[0] = now
        text = f"Counting changes… {p.rows_done:,} of {p.rows_total:,} rows"
        job.report(p.rows_done, p.rows_total, text, payload=p.rows)

    return hook


class CustomersView(QObject):
    """Counting runs as one job at a time (key "refresh"); what is asked for meanwhile runs
    once it ends, and includes every customer still waiting for a count (the last request
    wins, so it must carry the earlier ones)."""

    loaded = Signal(int)  # the whole list is shown (how many customers)
    partial = Signal(int)  # the list as counted so far is shown (how many customers)

    def __init__(
        self,
        panel: CustomerPanel,
        history: HistoryView,
        selection: Selection,
        jobs: JobStatus,
        session: Callable[[], Session | None],
    ) -> None:
        super().__init__(panel)
        self.panel, self.history, self.selection = panel, history, selection
        self.jobs, self.session = jobs, session
        self.asks = itertools.count(1)
        self.everyone: int | None = None  # the ask for a count of every customer, if any
        self.due: dict[str, int] = {}  # customers to recount, with the ask that wants it
        self.chunk_rows = detection.CHUNK_ROWS  # rows hashed between two reports of a count
        # The latest list counted so far, shown once the reports queued before it have been
        # read: a count whose reports came faster than the list was rebuilt held up what
        # was queued behind them (a preview's answer waited 1.8 s in a test's count of
        # 3,000 rows that reported every 10).
        self._partial: list[CustomerRow] | None = None
        self._partial_due = QTimer(self)
        self._partial_due.setSingleShot(True)
        self._partial_due.setInterval(0)
        self._partial_due.timeout.connect(self._flush_partial)
        panel.filter.textChanged.connect(self.filter)
        panel.view.selectionModel().currentRowChanged.connect(self._selected)

    def _selected(self, current: Any, _previous: Any) -> None:
        if current.isValid():
            self.selection.set_customer(str(self.panel.model.record(current.row())["customer"]))

    def filter(self, text: str) -> None:
        model = self.panel.model
        model.set_mask(text_mask(model.frame, ["customer"], text))
        self.keep_current()

    def keep_current(self) -> None:
        """The selected customer stays highlighted when the list is read again or
        filtered: the toolbar acts on what the list shows as selected."""
        model, name = self.panel.model, self.selection.customer
        if name is None:
            return
        for row in range(model.rowCount()):
            if model.record(row)["customer"] == name:
                self.panel.view.setCurrentIndex(model.index(row, 0))
                return

    def refresh(self) -> None:
        """Count every customer's changes."""
        self.everyone = next(self.asks)
        self._ask()

    def recount(self, customer: str) -> None:
        """Recount one customer (after its stage, push or undo) and write its line and the
        batch history in place: a fraction of a refresh's work, and the selection stays."""
        self.due[customer] = next(self.asks)
        self._ask()

    def _ask(self) -> None:
        session = self.session()
        if session is None:
            return
        ctx, everyone, due = session.ctx, self.everyone, dict(self.due)
        chunk_rows = self.chunk_rows

        def count(job: Job) -> Counted:
            started = time.monotonic()
            if everyone is not None:
                try:
                    rows, errors = detection.customer_overview(
                        ctx, progress=_streamed(job), chunk_rows=chunk_rows
                    )
                except CountCancelled:
                    log.warning("detect: count cancelled; the list shows what was counted")
                    return [], staging.history(ctx), 0, False
                log.info(
                    "detect: %d customers counted in %.2f s (%d rows cannot be synced)",
                    len(rows),
                    time.monotonic() - started,
                    len(errors),
                )
                return rows, staging.history(ctx), len(errors), True
            rows = [r for c in sorted(due) for r in detection.customer_overview(ctx, c)[0]]
            return rows, staging.history(ctx), 0, True

        def counted(result: Counted) -> None:
            self._partial_due.stop()
            if everyone is not None and not result[3]:
                self._flush_partial()  # a cancelled count's list is what it had counted
            self._partial = None
            if self.everyone == everyone:
                self.everyone = None
            for customer, ask in due.items():
                if self.due.get(customer) == ask:
                    del self.due[customer]
            if everyone is not None and not result[3]:
                self._show_cancelled(result)
            elif everyone is not None:
                self._show_all(result)
            else:
                self._show_lines(sorted(due), result)

        def progressed(report: Report) -> None:
            if everyone is not None and report.payload is not None:
                self._partial = report.payload
                self._partial_due.start()

        if everyone is not None:
            self.jobs.run(
                "Counting changes",
                "refresh",
                count,
                counted,
                on_progress=progressed,
                when_busy="again",
            )
        else:
            name = f"Recounting {', '.join(sorted(due))}"
            self.jobs.runner.start(name, "refresh", count, on_success=counted, when_busy="again")

    def _flush_partial(self) -> None:
        rows, self._partial = self._partial, None
        if rows is not None:
            self._show_partial(rows)

    def _show_partial(self, rows: list[CustomerRow]) -> None:
        """The list as counted so far: new customers added (the selection kept), the others'
        counts written in place. The numbers grow until the count ends."""
        model = self.panel.model
        lines = frames.customers_frame(rows, {})
        known = set(model.frame["customer"]) if len(model.frame) else set()
        if set(lines["customer"]) - known:
            first_load = model.rowCount() == 0
            model.set_frame(lines)
            if first_load:
                self.panel.view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
            self.filter(self.panel.filter.text())
            self._reselect()
            fit_columns(self.panel.view, maximum=200)
        else:
            model.update_rows("customer", lines)
        self.partial.emit(len(rows))

    def _reselect(self) -> None:
        """The selected customer's row selected again after the list was rebuilt."""
        wanted = self.selection.customer
        model = self.panel.model
        for row in range(model.rowCount()):
            if model.record(row)["customer"] == wanted:
                self.panel.view.setCurrentIndex(model.index(row, 0))
                self.panel.view.selectRow(row)
                return

    def _show_cancelled(self, result: Counted) -> None:
        _rows, batches, _invalid, _complete = result
        self.history.show(batches)
        self.jobs.progress.reset()  # the next job's progress starts from nothing
        self.jobs.idle("Count cancelled: the counts shown are partial; F5 counts again")

    def _show_all(self, result: Counted) -> None:
        rows, batches, invalid, _complete = result
        status = {b.batch_id: b.status for b in batches}
        first_load = self.panel.model.rowCount() == 0
        self.panel.model.set_frame(frames.customers_frame(rows, status))
        if first_load:
            self.panel.view.sortByColumn(0, Qt.SortOrder.AscendingOrder)
        self.filter(self.panel.filter.text())
        self._reselect()
        fit_columns(self.panel.view, maximum=150)
        self.history.show(batches)
        self.jobs.progress.reset()  # the next job's progress starts from nothing
        self.jobs.idle(
            f"{len(rows)} customers"
            + (f"; {invalid} rows cannot be synced (see the log)" if invalid else "")
        )
        self.loaded.emit(len(rows))

    def _show_lines(self, customers: list[str], result: Counted) -> None:
        rows, batches, _invalid, _complete = result
        self.history.show(batches)
        lines = frames.customers_frame(rows, {b.batch_id: b.status for b in batches})
        known = set(self.panel.model.frame["customer"])
        if not set(customers) <= known:
            self.refresh()  # a customer the list did not have yet: counted after this
        else:
            self.panel.model.update_rows("customer", lines)
