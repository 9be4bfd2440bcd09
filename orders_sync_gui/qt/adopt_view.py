"""Adopt board items: the preview of which board item is which order, and the apply.

Opened from the toolbar for the selected customer. It reads the customer's orders and
board items in the background (services/adopt.py, a dry run), shows the four classes with
their counts, lets the operator choose the item of each ambiguous order (or hold it), and
applies in the background after a confirmation whose default is Cancel. The adoption is a
batch: it shows in the Batches tab, where Roll back / Undo batch undoes it.
"""

from __future__ import annotations

import logging

import shiboken6
from PySide6.QtCore import Qt, Signal
from PySide6.QtWidgets import (
    QAbstractItemView,
    QComboBox,
    QDialog,
    QHBoxLayout,
    QHeaderView,
    QLabel,
    QMessageBox,
    QPushButton,
    QTableWidget,
    QTableWidgetItem,
    QVBoxLayout,
    QWidget,
)

from ..core.columns import ORDER_NUMBER
from ..core.models import Record
from ..services.adopt import AdoptReport, adopt
from .actions import Workbench
from .models import family_tint, paint
from .workers import Job

log = logging.getLogger("orders_sync_gui.gui")

CLASSES = ("Matched", "Ambiguous", "Board only", "Source only")
# Each class's tint family (qt/models.TINTS: a light and a dark pair).
TINTS = {"Matched": "green", "Ambiguous": "amber", "Board only": "lilac", "Source only": "blue"}
HOLD = "Hold: choose later"
COLUMNS = ("Class", "Order", "Board item", "Item name", "Note")


def _number(order: Record) -> str:
    return str(order.fields.get(ORDER_NUMBER) or order.record_uuid)


class AdoptDialog(QDialog):
    previewed = Signal(object)  # an AdoptReport (a dry run)
    applied = Signal(object)  # the AdoptReport of the apply

    def __init__(self, bench: Workbench, customer: str) -> None:
        super().__init__(bench.parent)
        self.bench, self.customer = bench, customer
        self.report: AdoptReport | None = None
        self.outcome = ""  # the last apply's, shown under the preview that follows it
        self.combos: dict[str, QComboBox] = {}  # record_uuid -> its item choice
        self.setWindowTitle(f"Adopt board items — {customer}")
        self.setAttribute(Qt.WidgetAttribute.WA_DeleteOnClose)
        self.resize(1100, 620)
        intro = QLabel(
            f"Board items of {customer}'s group matched to its orders on the order number, "
            "style and colour. Apply writes each matched order's record_uuid on its item and "
            "records the board's values as last pushed; ambiguous orders are held out of "
            "staging until you choose their item. Board-only items are never touched."
        )
        intro.setWordWrap(True)
        self.counts = {name: QLabel(f"{name}: …") for name in CLASSES}
        row = QHBoxLayout()
        for name, label in self.counts.items():
            background, text = family_tint(TINTS[name])
            label.setStyleSheet(
                f"background: {background.name()}; color: {text.name()}; "
                "padding: 4px 10px; border-radius: 3px;"
            )
            row.addWidget(label)
        row.addStretch(1)
        self.table = QTableWidget(0, len(COLUMNS))
        self.table.setHorizontalHeaderLabels(COLUMNS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().hide()
        self.table.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        self.status = QLabel("Reading the board…")
        self.reload_button = QPushButton("Preview again")
        self.apply_button = QPushButton("Apply…")
        close = QPushButton("Close")
        self.reload_button.clicked.connect(self.load)
        self.apply_button.clicked.connect(self.apply)
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.status, 1)
        for button in (self.reload_button, self.apply_button, close):
            buttons.addWidget(button)
        layout = QVBoxLayout(self)
        layout.addWidget(intro)
        layout.addLayout(row)
        layout.addWidget(self.table, 1)
        layout.addLayout(buttons)
        self._enable(False)

    def _enable(self, ready: bool) -> None:
        self.reload_button.setEnabled(ready)
        self.apply_button.setEnabled(ready and self.report is not None and self._work() > 0)

    def _work(self) -> int:
        """What an apply would do: orders to link, ambiguous orders to hold or settle."""
        if self.report is None:
            return 0
        found = self.report.found
        return sum(not p.linked for p in found.matched) + len(found.ambiguous) + len(self.choices())

    def choices(self) -> dict[str, str]:
        """{record_uuid: item id} chosen for ambiguous orders."""
        return {uid: str(c.currentData()) for uid, c in self.combos.items() if c.currentData()}

    # --- preview ------------------------------------------------------------------------

    def load(self) -> None:
        session = self.bench.session()
        if session is None:
            return
        customer, chosen = self.customer, self.choices()
        self._enable(False)
        self.status.setText("Reading the board…")

        def work(job: Job) -> AdoptReport:
            return adopt(session.ctx, session.monday(), customer, choose=chosen, dry_run=True)

        def failed(message: str) -> None:
            if self.gone():
                return
            self.status.setText(f"Could not read the board: {message}")
            self._enable(True)

        self.bench.jobs.run(
            f"Reading {customer}'s board items",
            customer,
            work,
            self.show_report,
            on_failure=failed,
            when_busy="again",  # after an apply, whose job ends just after its answer
        )

    def gone(self) -> bool:
        """Closed (and deleted) while a job of its own ran: its answer has nowhere to go."""
        return not shiboken6.isValid(self.status)

    def show_report(self, report: AdoptReport) -> None:
        if self.gone():
            return
        self.report = report
        found, counts = report.found, report.found.counts()
        self.counts["Matched"].setText(f"Matched: {counts['matched']}")
        self.counts["Ambiguous"].setText(
            f"Ambiguous: {counts['ambiguous_orders']} orders, {counts['ambiguous_items']} items"
        )
        self.counts["Board only"].setText(f"Board only: {counts['board_only']}")
        self.counts["Source only"].setText(f"Source only: {counts['source_only']}")
        chosen = self.choices()
        self.combos = {}
        self.table.setRowCount(0)
        for group in found.ambiguous:  # first: what needs the operator
            for order in group.orders:
                combo = QComboBox()
                combo.addItem(HOLD, None)
                for item in group.items:
                    combo.addItem(f"{item.item_id} — {item.name}", item.item_id)
                if order.record_uuid in chosen:
                    combo.setCurrentIndex(max(0, combo.findData(chosen[order.record_uuid])))
                combo.currentIndexChanged.connect(lambda _i: self._enable(True))
                self.combos[order.record_uuid] = combo
                self._row("Ambiguous", _number(order), "", "", group.reason, combo)
        for pair in found.matched:
            note = "linked already" if pair.linked else "gets its order's record_uuid"
            self._row("Matched", _number(pair.order), pair.item.item_id, pair.item.name, note)
        for item in found.board_only:
            self._row("Board only", "", item.item_id, item.name, "no order matches: left as it is")
        for order in found.source_only:
            self._row("Source only", _number(order), "", "", "no item matches: a push creates it")
        self.table.resizeColumnsToContents()
        self.table.horizontalHeader().setSectionResizeMode(4, QHeaderView.ResizeMode.Stretch)
        invalid = f"{len(report.invalid)} rows cannot be synced (not matched)"
        self.status.setText(
            "  ·  ".join(t for t in (self.outcome, invalid if report.invalid else "") if t)
        )
        self._enable(True)
        self.previewed.emit(report)

    def _row(
        self, kind: str, order: str, item: str, name: str, note: str, combo: QWidget | None = None
    ) -> None:
        row = self.table.rowCount()
        self.table.insertRow(row)
        for column, text in enumerate((kind, order, item, name, note)):
            cell = QTableWidgetItem(text)
            if column == 0:
                paint(cell, TINTS[kind])
            if column == 4:
                cell.setToolTip(text)
            self.table.setItem(row, column, cell)
        if combo is not None:
            self.table.setCellWidget(row, 2, combo)
            self.table.setSpan(row, 2, 1, 2)

    # --- apply ---------------------------------------------------------------------------

    def confirm_text(self) -> str:
        assert self.report is not None
        found, chosen = self.report.found, self.choices()
        link = sum(not p.linked for p in found.matched) + len(chosen)
        held = sum(len(g.orders) for g in found.ambiguous) - len(chosen)
        return (
            f"Adopt {link} board items of {self.customer}?\n\n"
            "• each gets its order's record_uuid on monday.com; nothing else on the board "
            "changes;\n"
            "• the sync state takes the values the board holds now, so the next preview shows "
            "as CHANGED the orders where the board and the database differ;\n"
            f"• {held} ambiguous orders are held out of staging until you choose their item;\n"
            f"• {len(found.board_only)} board-only items are not touched.\n\n"
            "The adoption is a batch: Roll back / Undo batch in the Batches tab clears the "
            "record_uuids again."
        )

    def apply(self) -> None:
        if self.report is None:
            return
        box = QMessageBox(
            QMessageBox.Icon.Question, "Adopt board items", self.confirm_text(), parent=self
        )
        box.setStandardButtons(QMessageBox.StandardButton.Yes | QMessageBox.StandardButton.Cancel)
        box.setDefaultButton(QMessageBox.StandardButton.Cancel)
        if box.exec() != QMessageBox.StandardButton.Yes:
            log.info("adoption of %s not started (the operator said no)", self.customer)
            return
        session = self.bench.session()
        assert session is not None
        customer, chosen = self.customer, self.choices()
        self._enable(False)

        def work(job: Job) -> AdoptReport:
            def progress(p) -> None:  # type: ignore[no-untyped-def]
                job.report(p.done, p.total, f"Adopting {customer}'s board items")

            return adopt(
                session.ctx,
                session.monday(),
                customer,
                choose=chosen,
                progress=progress,
                should_cancel=lambda: job.cancelled,
            )

        def failed(message: str) -> None:
            log.warning("adoption of %s failed: %s", customer, message)
            if self.gone():
                return
            self.status.setText(f"Adoption failed: {message}")
            self._enable(True)

        self.bench.jobs.run(
            f"Adopting {customer}'s board items",
            customer,
            work,
            self.show_outcome,
            on_progress=lambda _r: None,
            on_failure=failed,
        )

    def show_outcome(self, report: AdoptReport) -> None:
        text = (
            f"Batch {report.batch_id}: {report.status}, {report.adopted} board items adopted"
            if report.batch_id is not None
            else "Nothing to adopt"
        )
        log.info("adoption of %s: %s", self.customer, text)
        self.bench.jobs.idle(text)
        self.bench.customers.recount(self.customer)
        if self.gone():  # the adoption happened: the log and the list say so
            return
        self.outcome = text
        self.applied.emit(report)
        self.load()


def open_adopt(bench: Workbench) -> AdoptDialog | None:
    """The Adopt board items step for the selected customer."""
    customer = bench.selection.customer
    if customer is None or bench.session() is None:
        return None
    dialog = AdoptDialog(bench, customer)
    dialog.show()
    dialog.load()
    return dialog


__all__ = ["AdoptDialog", "open_adopt"]
