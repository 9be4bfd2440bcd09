"""The Adopt board items step in the window, on a board the earlier scripts filled.

The preview shows the four classes with their counts; an ambiguous order's item is chosen
in place; Apply asks first (Cancel is the default, and cancelling does nothing), then runs
in the background; the adoption is a batch of the history, undone from there.
"""

from __future__ import annotations

import pytest
from PySide6.QtWidgets import QMessageBox

from orders_sync_gui.monday.sandbox import SandboxConfig, SandboxServer
from orders_sync_gui.monday.sandbox.config import LegacyMess
from orders_sync_gui.qt.adopt_view import AdoptDialog
from orders_sync_gui.services.legacy_source import legacy_records
from tests.qt.conftest import TOKEN, answer_dialog, on_next_box

CUSTOMER = "GREYSON"
MESS = LegacyMess(edited=0.08, duplicated=0.03, missing=0.03, orphan=0.03)


@pytest.fixture
def sandbox(db):
    """The window's sandbox, filled from its database as the earlier scripts did."""
    config = SandboxConfig(
        token=TOKEN,
        window_seconds=1,
        board_seed=3,
        legacy_records=tuple(legacy_records(db, [CUSTOMER])),
        legacy_mess=MESS,
    )
    with SandboxServer(config) as server:
        yield server


def select(qtbot, window, customer: str) -> None:
    model = window.customers.model
    row = next(r for r in range(model.rowCount()) if model.record(r)["customer"] == customer)
    window.customers.view.selectRow(row)
    qtbot.waitUntil(lambda: window.customer == customer, timeout=10_000)
    qtbot.waitUntil(lambda: window.act_adopt.isEnabled(), timeout=30_000)


def uuids(sandbox: SandboxServer) -> dict[str, str]:
    dump = sandbox.dump()
    column = next(c["id"] for c in dump["board"]["columns"] if c["title"] == "RECORD UUID")
    return {
        i["id"]: i["column_values"][column]["text"] for i in dump["items"] if i["state"] == "active"
    }


def press(button: QMessageBox.StandardButton, seen: list[QMessageBox]) -> None:
    """Press `button` on the next message box, noting the box (its default button)."""

    def click(box: QMessageBox) -> None:
        seen.append(box)
        box.button(button).click()

    on_next_box(click)


def test_preview_choose_apply_and_undo_from_the_history(qtbot, window, sandbox, tmp_path):
    truth = sandbox.app.legacy_truth
    select(qtbot, window, CUSTOMER)
    window.act_adopt.trigger()
    dialog = window.findChild(AdoptDialog)
    assert dialog is not None and dialog.isVisible()
    qtbot.waitUntil(lambda: dialog.report is not None, timeout=30_000)
    found = dialog.report.found
    counts = found.counts()
    assert dialog.counts["Matched"].text() == f"Matched: {counts['matched']}"
    assert dialog.counts["Board only"].text() == f"Board only: {counts['board_only']}"
    assert dialog.counts["Source only"].text() == f"Source only: {counts['source_only']}"
    rows = counts["matched"] + counts["ambiguous_orders"] + counts["board_only"]
    assert dialog.table.rowCount() == rows + counts["source_only"]
    assert counts["matched"] + counts["ambiguous_items"] + counts["board_only"] == len(
        uuids(sandbox)
    )
    assert found.ambiguous, "the seed gives GREYSON an order with two items"
    dialog.grab().save(str(tmp_path / "adopt_preview.png"))

    # Choose the second item of the first ambiguous order.
    group = found.ambiguous[0]
    [order] = group.orders
    combo = dialog.combos[order.record_uuid]
    combo.setCurrentIndex(2)
    chosen = group.items[1].item_id
    assert dialog.choices() == {order.record_uuid: chosen}

    # Cancel is the default, and cancelling writes nothing.
    boxes: list[QMessageBox] = []
    press(QMessageBox.StandardButton.Cancel, boxes)
    dialog.apply_button.click()
    qtbot.waitUntil(lambda: bool(boxes), timeout=10_000)
    assert boxes[0].defaultButton() is boxes[0].button(QMessageBox.StandardButton.Cancel)
    assert "Adopt" in boxes[0].text() and "record_uuid" in boxes[0].text()
    assert set(uuids(sandbox).values()) == {""}

    press(QMessageBox.StandardButton.Yes, boxes)
    with qtbot.waitSignal(dialog.applied, timeout=60_000) as applied:
        dialog.apply_button.click()
    report = applied.args[0]
    assert report.status == "PUSHED" and report.adopted == counts["matched"] + 1
    on_board = uuids(sandbox)
    assert on_board[chosen] == order.record_uuid
    for pair in found.matched:
        assert on_board[pair.item.item_id] == truth.item_orders[pair.item.item_id]
    qtbot.waitUntil(lambda: dialog.report is not None and dialog.outcome != "", timeout=30_000)
    qtbot.waitUntil(lambda: window.history_view.find(report.batch_id) is not None, timeout=30_000)
    dialog.close()

    # Undo from the batch history: the record_uuids are cleared again.
    qtbot.waitUntil(lambda: not window.runner.busy(), timeout=30_000)
    window.tabs.setCurrentWidget(window.history)
    model = window.history.model
    row = next(r for r in range(model.rowCount()) if model.record(r)["batch_id"] == report.batch_id)
    window.history.view.selectRow(row)
    qtbot.waitUntil(lambda: window.act_rollback.isEnabled(), timeout=30_000)
    seen: list[str] = []
    answer_dialog(qtbot, seen=seen)
    window.rollback()
    qtbot.waitUntil(
        lambda: window.history_view.find(report.batch_id).status == "UNDONE", timeout=60_000
    )
    assert "record_uuid" in seen[0]
    assert set(uuids(sandbox).values()) == {""}
