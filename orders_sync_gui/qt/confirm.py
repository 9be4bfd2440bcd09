"""A confirmation for an action that goes out (to monday.com, or into the sync state):
OK and Cancel, with Cancel the default, so that Enter never sends anything by itself."""

from __future__ import annotations

from PySide6.QtWidgets import QMessageBox, QWidget


def confirm_outward(parent: QWidget, title: str, text: str, ok: str = "OK") -> bool:
    box = QMessageBox(parent)
    box.setIcon(QMessageBox.Icon.Question)
    box.setWindowTitle(title)
    box.setText(text)
    box.setStandardButtons(QMessageBox.StandardButton.Ok | QMessageBox.StandardButton.Cancel)
    box.button(QMessageBox.StandardButton.Ok).setText(ok)
    box.setDefaultButton(QMessageBox.StandardButton.Cancel)
    box.setEscapeButton(QMessageBox.StandardButton.Cancel)
    return box.exec() == QMessageBox.StandardButton.Ok
