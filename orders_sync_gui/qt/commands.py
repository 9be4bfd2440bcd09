"""The window's commands that are not about syncing: About, the log folder, Check setup,
Export from the menu, and moving between panes."""

from __future__ import annotations

import logging
from typing import Any

from PySide6.QtCore import QUrl
from PySide6.QtGui import QDesktopServices
from PySide6.QtWidgets import QMessageBox, QTableView, QWidget

from .. import __version__
from ..paths import config_dir, data_dir, log_dir
from .export_view import ask_and_export

log = logging.getLogger("orders_sync_gui.gui")


def about_text() -> str:
    return (
        f"<b>orders-sync {__version__}</b><br>"
        "Keeps the monday.com Customer Master Schedule in step with ORDERS_UNIFIED.<br><br>"
        f"Data folder: {data_dir()}<br>"
        f"Config folder: {config_dir()}<br>"
        f"Log folder: {log_dir()}"
    )


def about(parent: QWidget) -> None:
    box = QMessageBox(
        QMessageBox.Icon.Information, "About orders-sync", about_text(), parent=parent
    )
    box.setTextInteractionFlags(box.textInteractionFlags())
    box.exec()


def open_log_folder() -> bool:
    folder = log_dir()
    folder.mkdir(parents=True, exist_ok=True)
    log.info("opening the log folder %s", folder)
    return QDesktopServices.openUrl(QUrl.fromLocalFile(str(folder)))


def table_in_use(window: Any) -> tuple[QTableView, str]:
    """The table File → Export writes: the one with the focus, else the current tab's."""
    tables = {
        window.customers.view: "Customers",
        window.changes.view: "Change set",
        window.changes.sizes_view: "Sizes",
        window.staged.rows_view: "Staged rows",
        window.staged.sub_view: "Staged subitems",
        window.history.view: "Batch history",
    }
    focus = window.focusWidget()
    if focus in tables:
        return focus, tables[focus]
    tab = window.tabs.currentWidget()
    if tab is window.staged:
        return window.staged.rows_view, "Staged rows"
    if tab is window.history:
        return window.history.view, "Batch history"
    return window.changes.view, "Change set"


def export(window: Any) -> None:
    view, name = table_in_use(window)
    ask_and_export(window, view, window.jobs, name, window.settings)


def focus(window: Any, pane: str) -> None:
    """Move the keyboard to a pane (View menu, Alt+1..5)."""
    targets = {
        "customers": (None, window.customers.view),
        "changes": (window.changes, window.changes.view),
        "staged": (window.staged, window.staged.rows_view),
        "batches": (window.history, window.history.view),
        "log": (None, window.log_pane.view),
    }
    tab, widget = targets[pane]
    if tab is not None:
        window.tabs.setCurrentWidget(tab)
    widget.setFocus()
    if isinstance(widget, QTableView) and not widget.currentIndex().isValid():
        model = widget.model()
        if model.rowCount():
            widget.setCurrentIndex(model.index(0, 0))
