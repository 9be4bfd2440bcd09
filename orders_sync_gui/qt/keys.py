"""The keyboard: Tab moves between panes (not from cell to cell), Enter on a customer
previews it, Space ticks the current row of the change set; the menu's shortcuts do the
rest (menus.py)."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QEvent, QObject, Qt
from PySide6.QtGui import QKeyEvent
from PySide6.QtWidgets import QAbstractItemView, QTableView

ENTER = {Qt.Key.Key_Return, Qt.Key.Key_Enter}


class TableKeys(QObject):
    """Enter and Space on a table view, as the window wants them."""

    def __init__(self, view: QTableView, *, on_enter: Any = None, tick: bool = False) -> None:
        super().__init__(view)
        self.view, self.on_enter, self.tick = view, on_enter, tick
        view.installEventFilter(self)

    def eventFilter(self, watched: QObject, event: QEvent) -> bool:
        if event.type() != QEvent.Type.KeyPress or not isinstance(event, QKeyEvent):
            return False
        key = event.key()
        if key in ENTER and self.on_enter is not None and not event.modifiers():
            self.on_enter()
            return True
        if key == Qt.Key.Key_Space and self.tick and not event.modifiers():
            return toggle_check(self.view)
        return False


def toggle_check(view: QTableView) -> bool:
    """Tick or untick the current row (its checkbox is in column 0), whichever cell has
    the focus."""
    current = view.currentIndex()
    model = view.model()
    if not current.isValid():
        return False
    box = model.index(current.row(), 0)
    if not model.flags(box) & Qt.ItemFlag.ItemIsUserCheckable:
        return False
    state = model.data(box, Qt.ItemDataRole.CheckStateRole)
    checked = Qt.CheckState(state) == Qt.CheckState.Checked
    new = Qt.CheckState.Unchecked if checked else Qt.CheckState.Checked
    return bool(model.setData(box, new.value, Qt.ItemDataRole.CheckStateRole))


def install(window: Any) -> None:
    """Keys of the main window's panes (called once its panels exist)."""
    for view in window.findChildren(QTableView):
        view.setTabKeyNavigation(False)  # Tab leaves the table for the next pane
        view.setEditTriggers(QAbstractItemView.EditTrigger.NoEditTriggers)
    TableKeys(window.customers.view, on_enter=window.load_preview)
    TableKeys(window.changes.view, tick=True)
