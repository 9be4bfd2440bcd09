# ruff: noqa: E501  (the table keeps one entry to a line)
"""The menu bar and the toolbar, from one table: an entry is one line (its menu, the
window's action attribute, text, the window method it calls, shortcut, tip, icon, and
whether the toolbar shows it too). Adding a command to the window is adding a line here
and a method on MainWindow."""

from __future__ import annotations

from dataclasses import dataclass

from PySide6.QtCore import Qt
from PySide6.QtGui import QAction, QKeySequence
from PySide6.QtWidgets import QMainWindow, QStyle, QToolBar

SP = QStyle.StandardPixmap


@dataclass(frozen=True, slots=True)
class Entry:
    menu: str  # "&File", "&Sync", "&View", "&Help"
    name: str  # the window's attribute: act_<name>
    text: str
    slot: str  # the MainWindow method it calls ("method:argument" passes one string)
    shortcut: str | None = None
    tip: str = ""
    icon: QStyle.StandardPixmap | None = None
    toolbar: bool = False  # on the toolbar too (in table order)
    checkable: bool = False  # a toggle: the slot gets the new state
    group: int = 0  # a separator goes between groups of a menu (and of the toolbar)


ENTRIES: tuple[Entry, ...] = (
    Entry("&File", "export", "&Export…", "export", "Ctrl+E", "Save the table on show as CSV or Excel (.xlsx)", SP.SP_DialogSaveButton),
    Entry("&File", "settings", "&Settings…", "open_settings", "Ctrl+,", "Database, monday.com, mapping", SP.SP_FileDialogDetailedView, toolbar=True, group=1),
    Entry("&File", "quit", "&Quit", "close", "Ctrl+Q", "Close the window (a running job is stopped first)", group=2),
    Entry("&Sync", "refresh", "&Refresh", "refresh", "F5", "Recount every customer's changes", SP.SP_BrowserReload, toolbar=True),
    Entry("&Sync", "preview", "&Preview", "load_preview", "Ctrl+P", "Show the selected customer's changes field by field", SP.SP_FileDialogContentsView, toolbar=True),
    Entry("&Sync", "stage", "&Stage batch", "stage", "Ctrl+B", "Stage the checked rows as a batch", SP.SP_FileDialogNewFolder, toolbar=True),
    Entry("&Sync", "push", "P&ush to monday.com…", "push", "Ctrl+Shift+P", "Send the batch to monday.com (asks first, with the cost and time)", SP.SP_ArrowUp, toolbar=True),
    Entry("&Sync", "retry", "Re&try failed…", "push", "Ctrl+Shift+T", "Send the batch's failed rows again", SP.SP_BrowserReload, toolbar=True, group=1),
    Entry("&Sync", "rollback", "Roll &back / Undo batch…", "rollback", "Ctrl+Shift+Z", "Discard a staged batch, or undo a pushed one on monday.com", SP.SP_DialogDiscardButton, toolbar=True, group=1),
    Entry("&Board", "adopt", "&Adopt board items…", "adopt", None, "Link the board items the earlier scripts made to their orders", SP.SP_DialogApplyButton, toolbar=True),
    Entry("&Board", "drift", "&Drift…", "drift", None, "Where the board no longer says what was pushed: values edited, items archived by hand", SP.SP_MessageBoxWarning, toolbar=True),
    Entry("&Board", "mapping", "&Map columns…", "map_columns", None, "Match the mapping's columns to the board's, by title", SP.SP_FileDialogListView),
    Entry("&Sync", "cancel_job", "&Cancel the running job", "cancel_jobs", "Ctrl+.", "Stop after the request under way", group=2),
    Entry("&View", "go_customers", "&Customers", "focus:customers", "Alt+1", "Move to the customer list"),
    Entry("&View", "go_changes", "C&hange set", "focus:changes", "Alt+2", "Move to the change set"),
    Entry("&View", "go_staged", "S&taged rows", "focus:staged", "Alt+3", "Move to the staged rows"),
    Entry("&View", "go_batches", "&Batches", "focus:batches", "Alt+4", "Move to the batch history"),
    Entry("&View", "go_log", "&Log", "focus:log", "Alt+5", "Move to the log"),
    Entry("&View", "dark", "&Dark palette", "set_dark", None, "Dark colours, whatever the system's theme", checkable=True, group=1),
    Entry("&Help", "check_setup", "&Check setup…", "check_setup", None, "Is everything ready for a push? Each check with a fix (as orders-sync doctor)", SP.SP_DialogApplyButton, toolbar=True),
    Entry("&Help", "open_log_folder", "Open &log folder", "open_log_folder", None, "Open the folder of the log files"),
    Entry("&Help", "about", "&About orders-sync", "about", None, "The version and the data, config and log folders", group=1),
)  # fmt: skip


def build(window: QMainWindow, entries: tuple[Entry, ...] = ENTRIES) -> dict[str, QAction]:
    """Make each entry's action (window.act_<name>), the menus and the toolbar."""
    actions: dict[str, QAction] = {}
    menus: dict[str, tuple[object, int]] = {}
    bar = QToolBar("Actions")
    bar.setObjectName("actions")
    bar.setToolButtonStyle(Qt.ToolButtonStyle.ToolButtonTextBesideIcon)
    bar.setMovable(False)
    tool_group: int | None = None
    for e in entries:
        action = _action(window, e)
        actions[e.name] = action
        setattr(window, f"act_{e.name}", action)
        menu, group = menus.get(e.menu, (None, e.group))
        if menu is None:
            menu = window.menuBar().addMenu(e.menu)
        elif group != e.group:
            menu.addSeparator()  # type: ignore[attr-defined]
        menu.addAction(action)  # type: ignore[attr-defined]
        menus[e.menu] = (menu, e.group)
    # The toolbar: the Sync commands first, in table order, then the others.
    for e in sorted((e for e in entries if e.toolbar), key=lambda e: e.menu != "&Sync"):
        if tool_group is not None and (tool_group, e.menu) != (e.group, _menu_of(bar)):
            bar.addSeparator()
        bar.addAction(actions[e.name])
        bar.setProperty("last_menu", e.menu)
        tool_group = e.group
    window.addToolBar(bar)
    return actions


def _menu_of(bar: QToolBar) -> str:
    return str(bar.property("last_menu") or "")


def _action(window: QMainWindow, e: Entry) -> QAction:
    icon = window.style().standardIcon(e.icon) if e.icon is not None else None
    action = QAction(icon, e.text, window) if icon is not None else QAction(e.text, window)
    method, _, argument = e.slot.partition(":")
    bound = getattr(window, method)
    slot = (lambda *_: bound(argument)) if argument else bound
    tip = e.tip + (f" ({QKeySequence(e.shortcut).toString()})" if e.shortcut else "")
    action.setToolTip(tip)
    action.setStatusTip(e.tip)
    if e.shortcut:
        action.setShortcut(QKeySequence(e.shortcut))
    if e.checkable:
        action.setCheckable(True)
        action.toggled.connect(slot)
    else:
        action.triggered.connect(lambda _checked=False: slot())
    return action
