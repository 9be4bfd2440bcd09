"""The Drift view: where the board no longer says what was last pushed, and what to do.

It reads the board in the background (services/drift.py) and lists every difference: a
value edited by hand (board, last pushed, database now), an item archived or deleted by
hand, an item with a record_uuid the sync state does not know, two items of one order, a
subitem added, removed or re-quantified by hand. For the selected orders of a customer:

- Push database values: a batch (services/drift_repush.py) pushed by the ordinary push,
  after a confirmation with its estimate (Cancel is the default); it is in the history and
  undone like any other batch. Said no to, the staged batch is discarded.
- Accept board values: the sync state takes what the items hold as last pushed
  (services/drift_accept.py), after a confirmation; nothing is sent.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core.drift import Drift
from ..services.drift import DriftReport, read_drift
from ..services.drift_accept import Accepted, accept_board
from ..services.drift_repush import Repush, stage_repush
from ..services.estimate import Estimate, estimate
from ..services.monday_setup import MondaySetup
from ..services.push import PushReport, PushStopped, push
from ..services.staging import rollback
from .confirm import confirm_outward
from .job_status import JobStatus
from .models import paint
from .session import Session
from .workers import Job

log = logging.getLogger("orders_sync_gui.gui")

HEADERS = [
    "Difference",
    "Order",
    "Item",
    "Field / size",
    "On the board",
    "Last pushed",
    "Database now",
]
# Each kind's tint family (qt/models.TINTS: a light and a dark pair).
TINTS = {"changed": "amber", "gone": "red", "subitem": "lilac", "unknown": "grey", "twice": "grey"}
ACTIONABLE = {"changed", "gone", "subitem"}  # what a push or an accept can put right


def _text(value: Any) -> str:
    return "—" if value is None or value == "" else str(value)


def drift_lines(drift: Drift) -> list[tuple[str, str | None, list[str]]]:
    """(kind, record_uuid, cells) per difference, in the order the table shows them."""
    name = drift.numbers.get
    out: list[tuple[str, str | None, list[str]]] = []
    cells: list[Any]
    for c in drift.changed:
        cells = [name(c.record_uuid), c.item_id, c.field, c.board, c.pushed, c.source]
        out.append(("changed", c.record_uuid, [_text(x) for x in cells]))
    for g in drift.gone:
        cells = [g.order_number, g.item_id, f"item {g.state}", None, None, None]
        out.append(("gone", g.record_uuid, [_text(x) for x in cells]))
    for s in drift.subitems:
        cells = [
            name(s.record_uuid),
            s.item_id,
            f"size {s.size} ({s.kind})",
            s.board,
            s.pushed,
            s.source,
        ]
        out.append(("subitem", s.record_uuid, [_text(x) for x in cells]))
    for u in drift.unknown:
        cells = [None, u.item_id, f"record_uuid {u.record_uuid}", u.name, None, None]
        out.append(("unknown", None, [_text(x) for x in cells]))
    for d in drift.duplicates:
        cells = [
            name(d.record_uuid),
            ", ".join(d.item_ids),
            "one order, several items",
            None,
            d.known_item_id,
            None,
        ]
        out.append(("twice", None, [_text(x) for x in cells]))
    return out


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


class DriftView(QDialog):
    """A window of its own over the main window (not modal: the log stays in view)."""

    shown = Signal(object)  # a Drift, once listed: tests and screenshots wait on it
    acted = Signal(str)  # what an action did, in a line

    def __init__(
        self,
        parent: QWidget,
        session: Callable[[], Session | None],
        jobs: JobStatus,
        customer: str | None,
        recount: Callable[[str], None] = lambda _c: None,
    ) -> None:
        super().__init__(parent)
        self.session, self.jobs, self.customer, self.recount = session, jobs, customer, recount
        self.drift: Drift | None = None
        self.setWindowTitle(f"Drift — {customer or 'every customer'}")
        self.resize(1100, 520)
        self._build()

    def _build(self) -> None:
        self.summary = QLabel("Reading the board…")
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        header = self.table.horizontalHeader()
        header.setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        header.setStretchLastSection(True)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.read_again = QPushButton("Read the board again")
        self.read_again.clicked.connect(self.load)
        self.push_button = QPushButton("Push database values…")
        self.push_button.setToolTip(
            "Write the database's values over the selected orders' items, as a batch you can undo"
        )
        self.push_button.clicked.connect(self.push_selected)
        self.accept_button = QPushButton("Accept board values…")
        self.accept_button.setToolTip(
            "Record what the selected orders' items hold as last pushed (nothing is sent)"
        )
        self.accept_button.clicked.connect(self.accept_selected)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        for button in (self.read_again, self.push_button, self.accept_button):
            buttons.addWidget(button)
        buttons.addStretch(1)
        buttons.addWidget(close)
        layout = QVBoxLayout(self)
        layout.addWidget(self.summary)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self._update_buttons()

    # --- reading ---------------------------------------------------------------------------

    def load(self) -> None:
        session = self.session()
        if session is None:
            return
        customer = self.customer
        self.summary.setText("Reading the board…")
        self.read_again.setEnabled(False)

        def work(job: Job) -> DriftReport:
            return read_drift(session.ctx, session.monday(), customer)

        started = self.jobs.run(
            "Reading the board for drift",
            f"drift:{customer or '*'}",
            work,
            self._show,
            on_failure=self._failed,
        )
        if started is None:
            self.read_again.setEnabled(True)

    def _failed(self, message: str) -> None:
        self.summary.setText(f"The board could not be read: {message}")
        self.read_again.setEnabled(True)

    def _show(self, report: DriftReport) -> None:
        drift = self.drift = report.drift
        lines = drift_lines(drift)
        self.table.setRowCount(len(lines))
        for row, (kind, uid, cells) in enumerate(lines):
            for col, text in enumerate([kind, *cells]):
                cell = QTableWidgetItem(text)
                cell.setToolTip(text)
                paint(cell, TINTS[kind])
                if col == 0:
                    cell.setData(Qt.ItemDataRole.UserRole, uid)
                self.table.setItem(row, col, cell)
        self.table.resizeColumnsToContents()
        for col in range(self.table.columnCount()):
            self.table.setColumnWidth(col, min(self.table.columnWidth(col) + 12, 260))
        self.summary.setText(self._summary(drift, report.requests))
        self.read_again.setEnabled(True)
        self._update_buttons()
        self.shown.emit(drift)

    def _summary(self, drift: Drift, requests: int) -> str:
        who = self.customer or "every customer"
        if drift.clean:
            return (
                f"{who}: the board says what was last pushed for all {drift.checked} "
                f"orders checked ({requests} requests)."
            )
        counts = [
            _count(len(drift.changed), "value edited by hand", "values edited by hand"),
            _count(len(drift.gone), "item gone", "items gone"),
            _count(len(drift.subitems), "subitem difference", "subitem differences"),
            _count(len(drift.unknown), "unknown item", "unknown items"),
            _count(len(drift.duplicates), "order with several items", "orders with several items"),
        ]
        return (
            f"{who}: {drift.checked} orders checked ({requests} requests) — "
            f"{', '.join(counts)}. Select orders to push the database's values back, or to "
            "accept the board's."
        )

    # --- selection -------------------------------------------------------------------------

    def selected_orders(self) -> list[str]:
        """The record_uuids of the selected differences a push or an accept can settle."""
        rows = sorted({i.row() for i in self.table.selectedIndexes()})
        found = []
        for row in rows:
            cell = self.table.item(row, 0)
            uid = cell.data(Qt.ItemDataRole.UserRole) if cell else None
            if cell is not None and uid and cell.text() in ACTIONABLE:
                found.append(str(uid))
        return list(dict.fromkeys(found))

    def _update_buttons(self) -> None:
        chosen = bool(self.selected_orders()) and self.customer is not None
        idle = not self.jobs.runner.busy(self.customer or "")
        self.push_button.setEnabled(chosen and idle)
        self.accept_button.setEnabled(chosen and idle)
        if self.customer is None:
            tip = "Open Drift with a customer selected to act on its orders"
            self.push_button.setToolTip(tip)
            self.accept_button.setToolTip(tip)

    # --- push the database's values back ---------------------------------------------------

    def push_selected(self) -> None:
        session, customer, uuids = self.session(), self.customer, self.selected_orders()
        if session is None or customer is None or not uuids:
            return

        def work(job: Job) -> tuple[MondaySetup, Repush, Estimate]:
            setup = session.monday()
            staged = stage_repush(session.ctx, setup, customer, uuids)
            return setup, staged, estimate(session.ctx, staged.batch.batch_id, setup.limits)

        self.jobs.run("Staging the database's values", customer, work, self._confirm_push)

    def _confirm_push(self, prepared: tuple[MondaySetup, Repush, Estimate]) -> None:
        setup, staged, est = prepared
        batch = staged.batch
        text = (
            f"Push the database's values of {batch.item_count} {batch.customer} orders back "
            f"onto their items (batch {batch.batch_id})?\n\n"
            f"Requests: {est.requests:,} ({est.board_reads} reading the items first)  ·  "
            f"{est.mutations} changes  ·  complexity {est.complexity:,} points\n"
            "An item archived or deleted by hand gets a new item with every size.\n\n"
            "Roll back / Undo batch gives the items back what they hold now."
        )
        if staged.left_out:
            text += "\n\nLeft out:\n" + "\n".join(f"  • {r}" for r in staged.left_out[:8])
        if not confirm_outward(self, "Push database values", text, ok="Push"):
            log.info("drift: batch %d not pushed (the operator said no): discarded", batch.batch_id)
            self._discard(batch.batch_id, batch.customer)
            return
        self._push(setup, batch.batch_id, batch.customer)

    def _discard(self, batch_id: int, customer: str) -> None:
        session = self.session()
        assert session is not None
        self.jobs.run(
            "Discarding the drift batch",
            customer,
            lambda job: rollback(session.ctx, batch_id),
            lambda _b: self.recount(customer),
        )

    def _push(self, setup: MondaySetup, batch_id: int, customer: str) -> None:
        session = self.session()
        assert session is not None

        def work(job: Job) -> PushReport:
            try:
                return push(session.ctx, batch_id, setup, should_cancel=lambda: job.cancelled)
            except PushStopped as stopped:
                return stopped.report

        def done(report: PushReport) -> None:
            line = f"Batch {report.batch_id}: {report.status} — {report.message}"
            log.info("drift: %s", line)
            self.jobs.idle(line)
            self.recount(customer)
            self.acted.emit(line)
            self.load()

        self.jobs.run(f"Pushing batch {batch_id}", customer, work, done)

    # --- accept the board's values ---------------------------------------------------------

    def accept_selected(self) -> None:
        session, customer, uuids = self.session(), self.customer, self.selected_orders()
        if session is None or customer is None or not uuids:
            return
        text = (
            f"Accept what the items of {len(uuids)} {customer} orders hold as last pushed?\n\n"
            "Nothing is sent to monday.com. Where the database says otherwise, the order "
            "then shows as CHANGED, and its next push writes the database's value. An order "
            "whose item is gone from the board shows as NEW: its next push makes a new item."
        )
        if not confirm_outward(self, "Accept board values", text, ok="Accept"):
            return

        def work(job: Job) -> Accepted:
            return accept_board(session.ctx, session.monday(), customer, uuids)

        def done(accepted: Accepted) -> None:
            line = (
                f"{accepted.orders} orders take the board's values; {accepted.gone} whose "
                "item is gone are NEW again"
            )
            self.jobs.idle(line)
            self.recount(customer)
            self.acted.emit(line)
            self.load()

        self.jobs.run("Accepting the board's values", customer, work, done)


DRIFT_TIP = "Where the board no longer says what was last pushed"


def open_drift(window: Any) -> DriftView:
    """The Drift view over the main window, for its selected customer (or every one)."""
    view = DriftView(
        window,
        lambda: window.session,
        window.jobs,
        window.customer,
        window.customer_list.recount,
    )
    window.drift_view = view
    view.show()
    view.load()
    return view
