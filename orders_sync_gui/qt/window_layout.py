"""The window's geometry and splitters, remembered between runs."""

from __future__ import annotations

from typing import Any

from PySide6.QtCore import QByteArray, QSettings, Qt
from PySide6.QtWidgets import QSplitter, QTabWidget, QWidget

from .job_status import JobStatus
from .log_pane import LogPane, SignalLogHandler
from .panels import BatchesPanel, ChangeSetPanel, CustomerPanel, StagedPanel

# Sizes of a first run (no saved state): the tables get most of the height and width.
DEFAULT_SIZES = {"main": [640, 220], "top": [640, 800]}


def restore_layout(window: QWidget, settings: QSettings, splitters: dict[str, QSplitter]) -> None:
    geometry = settings.value("window/geometry")
    if isinstance(geometry, QByteArray) and not geometry.isEmpty():
        window.restoreGeometry(geometry)
    else:
        window.resize(1440, 880)
    for name, splitter in splitters.items():
        state = settings.value(f"window/{name}")
        if isinstance(state, QByteArray) and not state.isEmpty():
            splitter.restoreState(state)
        elif name in DEFAULT_SIZES:
            splitter.setSizes(DEFAULT_SIZES[name])


def save_layout(window: QWidget, settings: QSettings, splitters: dict[str, QSplitter]) -> None:
    settings.setValue("window/geometry", window.saveGeometry())
    for name, splitter in splitters.items():
        settings.setValue(f"window/{name}", splitter.saveState())
    settings.sync()


def build_panels(window: Any, handler: SignalLogHandler) -> None:  # the MainWindow
    """The panes: customers | (change set, staged rows, batches) over the log, and the
    status bar's job line."""
    window.customers = CustomerPanel()
    window.changes = ChangeSetPanel()
    window.staged = StagedPanel()
    window.history = BatchesPanel()
    window.tabs = QTabWidget()
    window.tabs.addTab(window.changes, "Change set")
    window.tabs.addTab(window.staged, "Staged rows")
    window.tabs.addTab(window.history, "Batches")
    window.top = QSplitter(Qt.Orientation.Horizontal)
    window.top.addWidget(window.customers)
    window.top.addWidget(window.tabs)
    window.top.setStretchFactor(0, 2)
    window.top.setStretchFactor(1, 3)
    window.log_pane = LogPane(handler)
    window.main = QSplitter(Qt.Orientation.Vertical)
    window.main.addWidget(window.top)
    window.main.addWidget(window.log_pane)
    window.main.setStretchFactor(0, 4)
    window.main.setStretchFactor(1, 1)
    window.setCentralWidget(window.main)
    window.jobs = JobStatus(window.runner, window, demo=window.demo)
    window.jobs.install(window.statusBar())
    window.job_label, window.progress = window.jobs.label, window.jobs.progress
    window.cancel, window.mode = window.jobs.cancel, window.jobs.mode
