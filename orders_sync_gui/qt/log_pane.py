"""The live log: a logging.Handler that only emits a signal, and the pane that shows it."""

from __future__ import annotations

import contextlib
import logging
from pathlib import Path

from PySide6.QtCore import QObject, Signal, Slot
from PySide6.QtGui import QFont, QGuiApplication, QTextCursor
from PySide6.QtWidgets import (
    QComboBox,
    QFileDialog,
    QHBoxLayout,
    QLabel,
    QPlainTextEdit,
    QPushButton,
    QVBoxLayout,
    QWidget,
)

LEVELS = [
    ("DEBUG and above", logging.DEBUG),
    ("INFO and above", logging.INFO),
    ("WARNING and above", logging.WARNING),
    ("ERROR only", logging.ERROR),
]
MAX_LINES = 5_000


class _Bridge(QObject):
    record = Signal(int, str)


class SignalLogHandler(logging.Handler):
    """Thread-safe by construction: emit() formats and signals; the slot runs on the GUI."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.bridge = _Bridge()
        self.setFormatter(logging.Formatter("%(asctime)s %(levelname)-7s %(message)s", "%H:%M:%S"))

    def emit(self, record: logging.LogRecord) -> None:
        with contextlib.suppress(RuntimeError):  # the pane is gone (shutdown)
            self.bridge.record.emit(record.levelno, self.format(record))


class LogPane(QWidget):
    def __init__(self, handler: SignalLogHandler, parent: QWidget | None = None) -> None:
        super().__init__(parent)
        self._lines: list[tuple[int, str]] = []
        title = QLabel("<b>Log</b>")
        self.level = QComboBox()
        for label, level in LEVELS:
            self.level.addItem(label, level)
        self.level.setCurrentIndex(1)
        self.level.currentIndexChanged.connect(self._refilter)
        copy = QPushButton("Copy")
        copy.clicked.connect(self.copy)
        save = QPushButton("Save…")
        save.clicked.connect(self.save_dialog)
        top = QHBoxLayout()
        top.addWidget(title)
        top.addStretch(1)
        top.addWidget(self.level)
        top.addWidget(copy)
        top.addWidget(save)
        self.view = QPlainTextEdit()
        self.view.setReadOnly(True)
        self.view.setMaximumBlockCount(MAX_LINES)
        self.view.setFont(QFont("DejaVu Sans Mono", 9))
        layout = QVBoxLayout(self)
        layout.setContentsMargins(0, 0, 0, 0)
        layout.addLayout(top)
        layout.addWidget(self.view)
        handler.bridge.record.connect(self.append)

    @Slot(int, str)
    def append(self, level: int, text: str) -> None:
        self._lines.append((level, text))
        if len(self._lines) > MAX_LINES:
            del self._lines[: len(self._lines) - MAX_LINES]
        if level >= self.level.currentData():
            self.view.appendPlainText(text)

    def _refilter(self) -> None:
        floor = self.level.currentData()
        self.view.setPlainText("\n".join(t for lv, t in self._lines if lv >= floor))
        self.view.moveCursor(QTextCursor.MoveOperation.End)  # it keeps following new lines
        self.view.ensureCursorVisible()

    def text(self) -> str:
        return self.view.toPlainText()

    def copy(self) -> None:
        QGuiApplication.clipboard().setText(self.text())

    def save(self, path: Path) -> None:
        path.write_text(self.text() + "\n", encoding="utf-8")

    def save_dialog(self) -> None:
        start = Path.home() / "orders-sync-log.txt"  # not the process's working folder
        name, _ = QFileDialog.getSaveFileName(
            self, "Save the log", str(start), "Text files (*.txt)"
        )
        if name:
            self.save(Path(name))
