"""Check setup in the window: the doctor's checks, failing first, run in the background; the
live test only after a confirmation whose default (Enter) sends nothing to monday.com."""

from __future__ import annotations

import json
from pathlib import Path

from PySide6.QtCore import QSettings, Qt
from PySide6.QtTest import QTest
from PySide6.QtWidgets import QMessageBox

from orders_sync_gui.paths import log_dir
from orders_sync_gui.qt.main_window import MainWindow
from orders_sync_gui.qt.session import Session
from orders_sync_gui.qt.setup_check import SetupCheckDialog
from orders_sync_gui.resources import resource_path
from tests.qt.conftest import TOKEN, on_next_box

RANK = {"fail": 0, "warn": 1, "skip": 2, "pass": 3}


def _open_checked(qtbot, window) -> SetupCheckDialog:
    """Check setup as the operator starts it (the toolbar), its first checks shown."""
    window.act_check_setup.trigger()
    dialog = window.findChild(SetupCheckDialog)
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.report is not None and not dialog.runner.busy(), timeout=60_000)
    return dialog


def _on_next_box(qtbot, act, seen: list[QMessageBox]) -> None:
    """Do `act(box)` to the next message box that opens (modal: the test waits for it)."""

    def note(box: QMessageBox) -> None:
        seen.append(box)
        act(box)

    on_next_box(note)


def test_a_mapped_column_the_source_lacks_is_listed_first(qtbot, window, isolated_home):
    mapping = json.loads(resource_path("board_mapping.json").read_text("utf-8"))
    mapping["columns"][3]["source"] = "CUSTOMER ALT PO NUMBER"  # not in ORDERS_UNIFIED
    (isolated_home / "config").mkdir(parents=True, exist_ok=True)
    (isolated_home / "config" / "board_mapping.json").write_text(json.dumps(mapping))

    dialog = _open_checked(qtbot, window)

    first = dialog.shown[0]
    assert (first.name, first.status) == ("mapped columns", "fail")
    assert "[CUSTOMER ALT PO NUMBER]" in first.detail and "board_mapping.json" in first.fix
    statuses = [c.status for c in dialog.shown]
    assert statuses == sorted(statuses, key=RANK.__getitem__) and "pass" in statuses
    assert len(dialog.shown) == 16  # every check of `orders-sync doctor`
    # What the operator reads: the failing check on top, its detail and its fix.
    text = dialog.list.toPlainText()
    assert text.index("FAIL") < text.index("WARN") < text.index("PASS")
    assert text.index("[CUSTOMER ALT PO NUMBER]") < text.index("PASS")
    assert "Fix: correct the source column names in board_mapping.json" in text
    assert dialog.summary.text().startswith("Not ready")
    assert TOKEN not in text


def test_enter_on_the_live_test_question_sends_nothing(qtbot, window, sandbox):
    dialog = _open_checked(qtbot, window)
    assert dialog.report is not None and dialog.report.ok, dialog.report
    before = sandbox.stats()
    seen: list[QMessageBox] = []
    defaults: list[str] = []

    def press_enter(box: QMessageBox) -> None:
        defaults.append(box.defaultButton().text())
        QTest.keyClick(box, Qt.Key.Key_Return)

    _on_next_box(qtbot, press_enter, seen)
    qtbot.mouseClick(dialog.live, Qt.MouseButton.LeftButton)  # returns once the box closed

    assert seen and "scratch group" in seen[0].text() and str(log_dir()) in seen[0].text()
    assert defaults == ["Cancel"]
    assert not dialog.runner.busy() and dialog.live_label.isHidden()
    after = sandbox.stats()
    assert after["requests"] == before["requests"]  # not one request, let alone a mutation
    assert after["mutations"] == 0
    assert not list(log_dir().glob("live-test-*.json"))


def test_the_live_test_runs_after_yes_and_says_where_its_transcript_is(qtbot, window, sandbox):
    dialog = _open_checked(qtbot, window)
    seen: list[QMessageBox] = []
    _on_next_box(qtbot, lambda box: dialog.run_button.click(), seen)
    with qtbot.waitSignal(dialog.live_tested, timeout=120_000) as done:
        qtbot.mouseClick(dialog.live, Qt.MouseButton.LeftButton)
    report = done.args[0]

    assert seen and report.transcript is not None
    transcript = Path(report.transcript)
    assert transcript.is_file() and transcript.parent == log_dir()
    text = dialog.live_label.text()
    assert text.startswith("Live test passed") and str(transcript) in text
    assert TOKEN not in transcript.read_text("utf-8")
    steps = [c for c in dialog.shown if c.name.startswith("live test: ")]
    assert len(steps) == 11 and all(c.status != "fail" for c in steps)
    stats = sandbox.stats()
    assert stats["mutations"] > 0  # it did work on the board ...
    assert stats["items"] == 0 and stats["subitems"] == 0  # ... and left nothing behind


def test_the_window_answers_while_the_checks_wait_on_monday(qtbot, window, sandbox):
    with sandbox.hold():  # every request to the sandbox waits at its door
        window.act_check_setup.trigger()
        dialog = window.findChild(SetupCheckDialog)
        qtbot.waitUntil(lambda: sandbox.wait_held(1, timeout=0), timeout=30_000)
        # The checks are stuck on monday.com; the window is not.
        assert dialog.runner.busy() and dialog.summary.text().startswith("Checking")
        assert not dialog.live.isEnabled() and not dialog.again.isEnabled()
        with qtbot.waitSignal(window.loaded, timeout=30_000):
            window.refresh()  # a recount of every customer, on the database, completes
        window.customers.filter.setText("GREY")
        assert window.customers.model.rowCount() == 1
        assert dialog.report is None and dialog.runner.busy()
    qtbot.waitUntil(lambda: dialog.report is not None, timeout=60_000)
    assert dialog.report.ok and dialog.live.isEnabled()


def test_a_window_whose_database_did_not_open_can_still_check_its_setup(
    qtbot, pane_handler, isolated_home, monkeypatch
):
    missing = isolated_home / "nowhere" / "orders.db"
    monkeypatch.setenv("ORDERS_SYNC_DB_URL", f"sqlite:///{missing}")

    def opener() -> Session:
        raise RuntimeError(f"no database at {missing}")

    settings = QSettings(str(isolated_home / "window.ini"), QSettings.Format.IniFormat)
    win = MainWindow(opener, pane_handler, settings, demo=False)
    qtbot.addWidget(win)
    win.show()
    win.start()
    qtbot.waitUntil(lambda: "failed" in win.job_label.text(), timeout=30_000)
    assert win.session is None

    dialog = _open_checked(qtbot, win)
    assert dialog.shown[0].name == "database" and dialog.shown[0].status == "fail"
    assert str(missing) in dialog.shown[0].detail
    assert "Settings" in dialog.shown[0].fix
    win.close()
