"""The mapping dialog: the board's columns matched to the mapping by title and type, and the
operator's choice where the match is ambiguous or missing (services/mapping_choice.py).

Each column the mapping names is one line: matched (the board's column shown), ambiguous
(a choice among the look-alikes), unmatched (a choice among the board's columns of a
fitting type, or Create column…, which makes it on the board after a confirmation whose
default is Cancel). Save writes the user's mapping (the bundled file stays the template)
once every line has a column; the board is read in the background.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from PySide6.QtCore import Signal
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

from ..core.mapping import BoardMapping
from ..core.mapping_match import SUBITEMS, FoundColumn, Slot
from ..services.mapping_choice import (
    MappingChoices,
    MappingNotSaved,
    create_column_for,
    read_choices,
    save_choices,
)
from .confirm import confirm_outward
from .job_status import JobStatus
from .models import paint
from .session import Session
from .workers import Job

log = logging.getLogger("orders_sync_gui.gui")

MAPPING_TIP = "Match the mapping's columns to the board's own (by title and type)"
HEADERS = ["Mapping column", "Board", "Wants", "Found", "Board column", "Why"]
# Each status's tint family (qt/models.TINTS: a light and a dark pair).
TINTS = {"matched": "green", "ambiguous": "amber", "unmatched": "red"}


def _label(column: FoundColumn) -> str:
    return f"{column.title}  ({column.column_id}, {column.type})"


class MappingDialog(QDialog):
    loaded = Signal(object)  # MappingChoices, once shown
    saved = Signal(object)  # the Path written

    def __init__(
        self, parent: QWidget | None, session: Callable[[], Session | None], jobs: JobStatus
    ) -> None:
        super().__init__(parent)
        self.session, self.jobs = session, jobs
        self.choices: MappingChoices | None = None
        self.lines: list[tuple[str, Slot, QComboBox | None]] = []
        self.setWindowTitle("Map columns to the board")
        self.resize(1080, 560)
        self.summary = QLabel("Reading the board's columns…")
        self.summary.setWordWrap(True)
        self.table = QTableWidget(0, len(HEADERS))
        self.table.setHorizontalHeaderLabels(HEADERS)
        self.table.setSelectionBehavior(QAbstractItemView.SelectionBehavior.SelectRows)
        self.table.setSelectionMode(QAbstractItemView.SelectionMode.SingleSelection)
        self.table.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
        self.table.verticalHeader().setVisible(False)
        self.table.horizontalHeader().setStretchLastSection(True)
        self.table.horizontalHeader().setSectionResizeMode(QHeaderView.ResizeMode.Interactive)
        self.table.itemSelectionChanged.connect(self._update_buttons)
        self.create_button = QPushButton("Create column on the board…")
        self.create_button.clicked.connect(self.create_selected)
        self.read_button = QPushButton("Read the board again")
        self.read_button.clicked.connect(self.load)
        self.save_button = QPushButton("Save")
        self.save_button.clicked.connect(self.save)
        close = QPushButton("Close")
        close.clicked.connect(self.close)
        buttons = QHBoxLayout()
        buttons.addWidget(self.read_button)
        buttons.addWidget(self.create_button)
        buttons.addStretch(1)
        buttons.addWidget(self.save_button)
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
        self.summary.setText("Reading the board's columns…")

        def work(job: Job) -> MappingChoices:
            return read_choices(session.monday())

        self.jobs.run("Reading the board's columns", "mapping", work, self.show_choices)

    def show_choices(self, choices: MappingChoices) -> None:
        kept = {path: column.column_id for path, column in self.picks().items()}
        self.choices, match = choices, choices.match
        lines: list[tuple[str, Slot, str]] = [
            ("ambiguous", a.slot, f"{len(a.candidates)} columns titled alike: choose one")
            for a in match.ambiguous
        ]
        lines += [("unmatched", u.slot, u.reason) for u in match.unmatched]
        lines += [("matched", m.slot, "") for m in match.matched]
        found = {m.slot.path: m.column for m in match.matched}
        self.table.setRowCount(len(lines))
        self.lines = []
        for row, (status, slot, why) in enumerate(lines):
            board = "subitems" if slot.board == SUBITEMS else "board"
            cells = [slot.source, board, f"{slot.title} · {slot.type}", status]
            self._fill(row, status, [*cells, "", why])
            combo = None
            if status == "matched":
                self.table.setItem(row, 4, self._cell(_label(found[slot.path]), status))
            else:
                combo = self._combo(choices, slot, status, kept.get(slot.path))
                self.table.setCellWidget(row, 4, combo)
            self.lines.append((status, slot, combo))
        self.table.resizeColumnsToContents()
        self.table.setColumnWidth(4, max(self.table.columnWidth(4), 300))
        self.summary.setText(
            f"Board {choices.board.name!r} ({choices.board.board_id}): {len(match.matched)} of "
            f"the mapping's {match.slots} columns matched, {len(match.ambiguous)} ambiguous, "
            f"{len(match.unmatched)} unmatched. Choose a column for each of the others, or "
            "create a missing one; Save writes your copy of the mapping."
        )
        self._update_buttons()
        self.loaded.emit(choices)

    def _cell(self, text: str, status: str) -> QTableWidgetItem:
        cell = QTableWidgetItem(text)
        cell.setToolTip(text)
        paint(cell, TINTS[status])
        return cell

    def _fill(self, row: int, status: str, cells: list[str]) -> None:
        for col, text in enumerate(cells):
            self.table.setItem(row, col, self._cell(text, status))

    def _combo(
        self, choices: MappingChoices, slot: Slot, status: str, kept: str | None
    ) -> QComboBox:
        """The columns the slot may take; the one chosen before a new reading stays chosen."""
        combo = QComboBox()
        combo.addItem("— choose a column —", None)
        for column in choices.candidates(slot):
            combo.addItem(_label(column), column)
            if column.column_id == kept:
                combo.setCurrentIndex(combo.count() - 1)
        combo.currentIndexChanged.connect(self._update_buttons)
        if status == "ambiguous":
            combo.setStyleSheet("QComboBox { background: #fff3cd; }")
        return combo

    # --- the operator's choices ------------------------------------------------------------

    def picks(self) -> dict[Any, FoundColumn]:
        return {
            slot.path: combo.currentData()
            for _status, slot, combo in self.lines
            if combo is not None and combo.currentData() is not None
        }

    def selected_slot(self) -> tuple[str, Slot] | None:
        rows = {i.row() for i in self.table.selectedIndexes()}
        if len(rows) != 1:
            return None
        status, slot, _ = self.lines[rows.pop()]
        return status, slot

    def _update_buttons(self) -> None:
        open_lines = [line for line in self.lines if line[2] is not None]
        self.save_button.setEnabled(
            self.choices is not None and len(self.picks()) == len(open_lines)
        )
        chosen = self.selected_slot()
        self.create_button.setEnabled(chosen is not None and chosen[0] == "unmatched")

    def create_selected(self) -> None:
        chosen, session = self.selected_slot(), self.session()
        if chosen is None or session is None or chosen[0] != "unmatched":
            return
        slot = chosen[1]
        where = "subitems board" if slot.board == SUBITEMS else "board"
        text = (
            f"Create a {slot.type} column titled {slot.title!r} on the {where}?\n\n"
            "monday.com gives it an id of its own; the mapping takes it when you Save."
        )
        if not confirm_outward(self, "Create column", text, ok="Create"):
            return

        def work(job: Job) -> MappingChoices:
            return create_column_for(session.monday(), slot)

        self.jobs.run(f"Creating the column {slot.title!r}", "mapping", work, self.show_choices)

    def save(self) -> None:
        if self.choices is None:
            return
        try:
            path, mapping = save_choices(self.choices, self.picks())
        except MappingNotSaved as exc:
            QMessageBox.warning(self, "Mapping not saved", str(exc))
            return
        self._use(mapping, path)

    def _use(self, mapping: BoardMapping, path: Path) -> None:
        session = self.session()
        if session is not None:
            session.ctx.mapping = mapping  # the next detect and push use it
        log.info("mapping saved to %s", path)
        self.summary.setText(f"Saved: {path}")
        self.saved.emit(path)


def open_mapping(window: Any) -> MappingDialog:
    dialog = MappingDialog(window, lambda: window.session, window.jobs)
    window.mapping_dialog = dialog
    dialog.show()
    dialog.load()
    return dialog
