"""A main window on its own demo database and sandbox, for each test."""

from __future__ import annotations

import itertools
import logging
from collections.abc import Callable

import pytest
from PySide6.QtCore import QSettings, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from orders_sync_gui.monday.sandbox import SandboxConfig, SandboxServer
from orders_sync_gui.qt.log_pane import SignalLogHandler
from orders_sync_gui.qt.main_window import MainWindow
from orders_sync_gui.qt.session import Session
from orders_sync_gui.services.context import open_context
from orders_sync_gui.services.demo import demo_init
from orders_sync_gui.services.monday_setup import monday_setup

TOKEN = "gui-test-token-0123456789"


@pytest.fixture
def sandbox():
    with SandboxServer(SandboxConfig(token=TOKEN, window_seconds=1)) as server:
        yield server


@pytest.fixture
def db(tmp_path):
    url = f"sqlite:///{tmp_path / 'gui.db'}"
    demo_init(url, orders=400, seed=21)
    return url


@pytest.fixture
def pane_handler():
    handler = SignalLogHandler()
    root = logging.getLogger()
    old_level = root.level
    root.setLevel(logging.DEBUG)
    root.addHandler(handler)
    yield handler
    root.removeHandler(handler)
    root.setLevel(old_level)


@pytest.fixture
def window(qtbot, db, sandbox, pane_handler, isolated_home):
    contexts = []

    def opener() -> Session:
        ctx = open_context(db)
        contexts.append(ctx)
        setup = monday_setup(ctx, url=sandbox.url, token=TOKEN, board_id=sandbox.board_id)
        return Session(ctx, "TEST · sandbox", True, lambda: setup, ctx.close)

    settings = QSettings(str(isolated_home / "window.ini"), QSettings.Format.IniFormat)
    win = MainWindow(opener, pane_handler, settings, demo=True)
    win.resize(1440, 880)
    win.show()
    with qtbot.waitSignal(win.loaded, timeout=30_000):
        win.start()
    yield win
    win.runner.cancel_all()
    win.runner.wait(30_000)
    qtbot.waitUntil(lambda: not win.runner.busy(), timeout=10_000)
    win.close()
    win.deleteLater()


def answer_dialog(qtbot, button=QMessageBox.StandardButton.Yes, seen: list | None = None):
    """Press `button` on the next message box that opens (it is modal: the test waits)."""

    def press(box: QMessageBox) -> None:
        if seen is not None:
            seen.append(box.text())
        target = box.button(button)
        if target is None:  # a named button ("Push", "Undo"): the one that says yes
            yes = button == QMessageBox.StandardButton.Yes
            roles = {QMessageBox.ButtonRole.AcceptRole, QMessageBox.ButtonRole.YesRole}
            target = next(
                b
                for b in box.buttons()
                if (box.buttonRole(b) in roles) == yes
                and (yes or box.buttonRole(b) == QMessageBox.ButtonRole.RejectRole)
            )
        target.click()

    on_next_box(press)


# Which test is running: a wait for a message box ends with the test that asked for it.
_tests = itertools.count()
_running = [next(_tests)]


@pytest.fixture(autouse=True)
def _boxes_answered_within_their_test():
    """A box a test waited for but never saw must not be answered in a later test: its
    answer (Cancel, say) went to that test's own question (seen as a push the operator
    refused, on a loaded machine)."""
    yield
    _running[0] = next(_tests)


def on_next_box(
    act: Callable[[QMessageBox], None], ready: Callable[[QMessageBox], bool] | None = None
) -> None:
    """Do `act(box)` to the next message box that opens in this test (once `ready(box)`)."""
    asked_in = _running[0]

    def look() -> None:
        if _running[0] != asked_in:
            return
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox) and (ready is None or ready(box)):
            act(box)
        else:
            QTimer.singleShot(20, look)

    QTimer.singleShot(0, look)
