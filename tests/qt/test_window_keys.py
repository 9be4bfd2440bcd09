"""The window by the keyboard, its pilot fields and counts, refusals before questions,
one instance per database, and export round trips: offscreen, on a real sandbox."""

from __future__ import annotations

import csv
from argparse import Namespace

import openpyxl
import pytest
import requests
from PySide6.QtCore import Qt
from PySide6.QtWidgets import QApplication, QMessageBox

from orders_sync_gui.qt import app as qt_app
from orders_sync_gui.qt.export_view import export_to, shown
from orders_sync_gui.qt.single_instance import SingleInstance, instance_key
from tests.qt.conftest import answer_dialog, on_next_box

CTRL, SHIFT = Qt.KeyboardModifier.ControlModifier, Qt.KeyboardModifier.ShiftModifier


def _board_items(sandbox) -> int:
    board = requests.get(f"{sandbox.base_url}/_sandbox/board", timeout=10).json()
    return sum(1 for i in board["items"] if i["state"] == "active")


def _activate(qtbot, window) -> None:
    window.activateWindow()
    qtbot.waitUntil(window.isActiveWindow, timeout=5_000)


def _on_next_box(qtbot, *keys, seen: list | None = None, tab_to: str | None = None) -> None:
    """Type `keys` (key, modifiers) into the next modal box that opens; with `tab_to`,
    first Tab to the button of that text (then Space presses it). Whatever happens, the box
    is closed afterwards, so a test that fails cannot hang on it."""

    def holds_focus(box: QMessageBox) -> bool:
        # Typed only once the box holds the focus: shown but not yet active (a loaded
        # machine), the keys went to the window behind it.
        focus = QApplication.focusWidget()
        return focus is not None and box.isAncestorOf(focus)

    def act(box: QMessageBox) -> None:
        if seen is not None:
            seen.append(box.text())
        if tab_to is not None:
            for _ in range(6):
                focus = QApplication.focusWidget()
                if focus is not None and getattr(focus, "text", lambda: "")() == tab_to:
                    break
                qtbot.keyClick(focus or box, Qt.Key.Key_Tab)
        for key, mods in keys:
            qtbot.keyClick(QApplication.focusWidget() or box, key, mods)
        if box.isVisible():
            box.reject()

    on_next_box(act, ready=holds_focus)


def _rows_to_sync(window) -> int:
    text = window.job_label.text()
    return int(text.split(": ")[-1].split(" rows to sync")[0])


def test_the_whole_workflow_by_keys_and_enter_sends_nothing(qtbot, window, sandbox):
    _activate(qtbot, window)
    customers = window.customers.view
    customers.setFocus()
    model = window.customers.model
    target = next(r for r in range(model.rowCount()) if model.record(r)["customer"] == "RHONE")
    qtbot.keyClick(customers, Qt.Key.Key_Home)
    for _ in range(target):
        qtbot.keyClick(customers, Qt.Key.Key_Down)
    assert window.customer == "RHONE"
    with qtbot.waitSignal(window.preview_shown, timeout=30_000):
        qtbot.keyClick(customers, Qt.Key.Key_Return)  # Enter previews
    # every preview the arrow keys started on the way down has ended
    qtbot.waitUntil(lambda: not window.runner.busy(), timeout=30_000)
    # Tab leaves the table for the next pane instead of walking its cells.
    qtbot.keyClick(customers, Qt.Key.Key_Tab)
    assert window.focusWidget() is not customers
    qtbot.keyClick(window.focusWidget(), Qt.Key.Key_2, Qt.KeyboardModifier.AltModifier)
    assert window.focusWidget() is window.changes.view
    window.changes.limit.setValue(4)
    before = _rows_to_sync(window)
    assert before == 4
    qtbot.keyClick(window.changes.view, Qt.Key.Key_Space)  # Space unticks the current row
    unticked = window.changes.model.frame["include"].astype(bool)
    assert (~unticked).sum() == 1  # unticked, still on show to tick again
    assert _rows_to_sync(window) == 4  # the limit takes the next row in its place
    window.changes.limit.setValue(3)
    assert _rows_to_sync(window) == 3
    with qtbot.waitSignal(window.batch_shown, timeout=30_000):
        qtbot.keyClick(window.changes.view, Qt.Key.Key_B, CTRL)  # Stage
    qtbot.waitUntil(lambda: not window.runner.busy(), timeout=10_000)
    assert window.batch.item_count == 3

    # Push: the confirmation opens, Enter picks its default, Cancel: nothing is sent.
    seen: list[str] = []
    _on_next_box(qtbot, (Qt.Key.Key_Return, Qt.KeyboardModifier.NoModifier), seen=seen)
    qtbot.keyClick(window.focusWidget(), Qt.Key.Key_P, CTRL | SHIFT)
    qtbot.waitUntil(lambda: bool(seen) and not window.runner.busy(), timeout=30_000)
    assert "Push batch" in seen[0] and _board_items(sandbox) == 0
    assert window.batch.status == "STAGED"
    # Now by the keys that mean it: Tab to the Push button, Space.
    _activate(qtbot, window)
    _on_next_box(
        qtbot, (Qt.Key.Key_Space, Qt.KeyboardModifier.NoModifier), seen=seen, tab_to="Push"
    )
    qtbot.keyClick(window.focusWidget(), Qt.Key.Key_P, CTRL | SHIFT)
    qtbot.waitUntil(lambda: len(seen) == 2, timeout=30_000)
    qtbot.waitUntil(
        lambda: not window.runner.busy() and window.batch.status == "PUSHED", timeout=60_000
    )
    assert _board_items(sandbox) == 3

    # Undo: Enter on its confirmation sends nothing either.
    seen.clear()
    _activate(qtbot, window)
    _on_next_box(qtbot, (Qt.Key.Key_Return, Qt.KeyboardModifier.NoModifier), seen=seen)
    qtbot.keyClick(window.focusWidget(), Qt.Key.Key_Z, CTRL | SHIFT)
    qtbot.waitUntil(lambda: bool(seen) and not window.runner.busy(), timeout=30_000)
    assert "Undo batch" in seen[0] and "Time: about" in seen[0]  # with its estimate
    assert _board_items(sandbox) == 3 and window.batch.status == "PUSHED"


def test_po_applies_on_enter_and_the_counts_follow(qtbot, window):
    model = window.customers.model
    row = next(r for r in range(model.rowCount()) if model.record(r)["customer"] == "GREYSON")
    with qtbot.waitSignal(window.preview_shown, timeout=30_000):
        window.customers.view.selectRow(row)
    qtbot.waitUntil(lambda: not window.runner.busy("GREYSON"), timeout=10_000)
    everything = window.changes.model.rowCount()
    qtbot.keyClicks(window.changes.po, "4755")
    with qtbot.waitSignal(window.preview_shown, timeout=30_000):
        qtbot.keyClick(window.changes.po, Qt.Key.Key_Return)
    shown_rows = window.changes.model
    pos = {shown_rows.record(r)["po"] for r in range(shown_rows.rowCount())}
    assert pos == {"4755"} and 0 < shown_rows.rowCount() < everything
    count = shown_rows.rowCount()
    assert (
        f"{count} new" in window.changes.title.text() and "PO 4755" in window.changes.title.text()
    )
    assert _rows_to_sync(window) == count
    window.changes.view.setFocus()
    qtbot.keyClick(window.changes.view, Qt.Key.Key_Space)
    assert _rows_to_sync(window) == count - 1
    window.changes.limit.setValue(2)
    assert _rows_to_sync(window) == 2
    current = shown_rows.record(window.changes.view.currentIndex().row())
    assert window.changes.sizes_title.text() == f"Sizes of {current['order']} (subitems)"


def test_an_undo_of_a_batch_that_is_not_the_latest_is_refused_without_a_question(qtbot, window):
    model = window.customers.model
    row = next(r for r in range(model.rowCount()) if model.record(r)["customer"] == "RHONE")
    with qtbot.waitSignal(window.preview_shown, timeout=30_000):
        window.customers.view.selectRow(row)
    qtbot.waitUntil(lambda: not window.runner.busy(), timeout=10_000)
    pushed = []
    for _ in range(2):
        window.changes.limit.setValue(2)
        window.stage()
        qtbot.waitUntil(
            lambda: (
                window.batch is not None
                and window.batch.batch_id not in pushed
                and not window.runner.busy()
            ),
            timeout=30_000,
        )
        answer_dialog(qtbot)
        window.push()
        qtbot.waitUntil(
            lambda: not window.runner.busy() and window.batch.status == "PUSHED", timeout=60_000
        )
        pushed.append(window.batch.batch_id)
        window.load_preview()
        qtbot.waitUntil(lambda: not window.runner.busy(), timeout=30_000)
    hist = window.history.model
    first = next(r for r in range(hist.rowCount()) if hist.record(r)["batch_id"] == pushed[0])
    window.history.view.selectRow(first)
    assert window.batch.batch_id == pushed[0]
    seen: list[str] = []
    answer_dialog(qtbot, QMessageBox.StandardButton.Ok, seen=seen)
    window.rollback()
    qtbot.waitUntil(lambda: bool(seen) and not window.runner.busy(), timeout=30_000)
    assert len(seen) == 1 and "not RHONE's latest pushed batch" in seen[0]
    assert "Undo batch" not in seen[0]  # no confirmation was asked first
    assert window.batch.status == "PUSHED"


def test_a_second_instance_on_the_same_database_is_refused_and_brings_the_first_forward(
    qtbot, tmp_path, isolated_home
):
    from orders_sync_gui.paths import data_dir

    database = f"sqlite:///{tmp_path / 'orders.db'}"
    args = Namespace(demo=False, db=database)
    first = qt_app.one_instance(args)  # the first start on this database
    assert first is not None
    seen: list[str] = []
    answer_dialog(qtbot, QMessageBox.StandardButton.Ok, seen=seen)
    with qtbot.waitSignal(first.activated, timeout=5_000):  # it is brought forward
        assert qt_app.one_instance(args) is None  # the second is refused
    assert "already open on this database" in seen[0]
    other = SingleInstance(instance_key(f"sqlite:///{tmp_path / 'other.db'}"), data_dir())
    assert other.acquire()  # another database: a window of its own
    first.release()
    other.release()


@pytest.mark.parametrize("suffix", [".csv", ".xlsx"])
def test_export_writes_exactly_the_rows_and_columns_shown(qtbot, window, tmp_path, suffix):
    window.customers.filter.setText("r")  # a filter, and a sort: what is shown
    window.customers.view.sortByColumn(1, Qt.SortOrder.DescendingOrder)
    window.customers.view.setColumnHidden(6, True)  # UNCHANGED
    titles, rows = shown(window.customers.view)
    assert "UNCHANGED" not in titles and len(rows) == window.customers.model.rowCount()
    path = tmp_path / f"customers{suffix}"
    with qtbot.waitSignal(window.runner.changed, timeout=10_000):
        export_to(window.customers.view, path, window.jobs, "Customers")
    qtbot.waitUntil(lambda: not window.runner.busy("export"), timeout=10_000)
    if suffix == ".csv":
        with path.open(encoding="utf-8-sig", newline="") as f:
            back = list(csv.reader(f))
        assert back[0] == titles
        assert back[1:] == [[str(v) for v in r] for r in rows]
    else:
        sheet = openpyxl.load_workbook(path).active
        back = [[c.value for c in line] for line in sheet.iter_rows()]
        assert back[0] == titles
        assert back[1:] == [[None if v == "" else v for v in r] for r in rows]
    assert f"Exported {len(rows):,} rows" in window.job_label.text()
