"""The window's geometry and splitters, remembered between runs."""

from __future__ import annotations

from PySide6.QtCore import QByteArray, QSettings
from PySide6.QtWidgets import QSplitter, QWidget

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
