"""Light or dark: the application's palette. The tables choose their tints from whichever
palette is in force (models.tint), so both read well."""

from __future__ import annotations

from PySide6.QtGui import QColor, QGuiApplication, QPalette
from PySide6.QtWidgets import QApplication, QWidget

_SYSTEM: dict[str, QPalette] = {}  # the palette the application started with

DARK_COLOURS = {
    QPalette.ColorRole.Window: "#2b2b2b",
    QPalette.ColorRole.WindowText: "#ececec",
    QPalette.ColorRole.Base: "#1f1f1f",
    QPalette.ColorRole.AlternateBase: "#292929",
    QPalette.ColorRole.ToolTipBase: "#3a3a3a",
    QPalette.ColorRole.ToolTipText: "#ececec",
    QPalette.ColorRole.Text: "#ececec",
    QPalette.ColorRole.Button: "#353535",
    QPalette.ColorRole.ButtonText: "#ececec",
    QPalette.ColorRole.BrightText: "#ff6b6b",
    QPalette.ColorRole.Link: "#6ab0ff",
    QPalette.ColorRole.Highlight: "#2f65ca",
    QPalette.ColorRole.HighlightedText: "#ffffff",
    QPalette.ColorRole.PlaceholderText: "#9a9a9a",
}


def dark_palette() -> QPalette:
    palette = QPalette()
    for role, colour in DARK_COLOURS.items():
        palette.setColor(role, QColor(colour))
    for role in (
        QPalette.ColorRole.Text,
        QPalette.ColorRole.ButtonText,
        QPalette.ColorRole.WindowText,
    ):
        palette.setColor(QPalette.ColorGroup.Disabled, role, QColor("#7a7a7a"))
    return palette


def apply(dark: bool) -> None:
    """The dark palette, or back to the one the application started with."""
    app = QApplication.instance()
    if not isinstance(app, QApplication):
        return
    if "system" not in _SYSTEM:
        _SYSTEM["system"] = QGuiApplication.palette()
    if dark:
        app.setStyle("Fusion")  # the platform styles draw with their own colours
    app.setPalette(dark_palette() if dark else _SYSTEM["system"])
    for widget in app.topLevelWidgets():
        _repaint(widget)


def _repaint(widget: QWidget) -> None:
    widget.update()
    for child in widget.findChildren(QWidget):
        child.update()
