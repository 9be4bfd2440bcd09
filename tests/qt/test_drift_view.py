"""The Drift view, offscreen, on the window's database and sandbox: a value edited by hand
shows with its board, pushed and database values; re-pushed from the view it is restored
(a batch in the history); accepting the board's value makes it the last pushed one."""

from __future__ import annotations

import json

import pytest
from PySide6.QtCore import QItemSelectionModel
from PySide6.QtWidgets import QMessageBox

from orders_sync_gui.monday.client import ClientSettings, MondayClient
from orders_sync_gui.qt.drift_view import DriftView, open_drift
from orders_sync_gui.services import detection, staging
from orders_sync_gui.services.push import push
from orders_sync_gui.store.syncstate import load_state
from tests.qt.conftest import TOKEN, answer_dialog

CUSTOMER = "GREYSON"
FIELD, COLUMN = "DESTINATION", "text_destination"
EDIT = """mutation ($board: ID!, $item: ID!, $values: JSON!) {
  change_multiple_column_values(board_id: $board, item_id: $item, column_values: $values) {
    id } }"""
ARCHIVE = """mutation ($item: ID!) { archive_item(item_id: $item) { id } }"""


def by_hand(sandbox, query: str, **variables) -> None:
    client = MondayClient(TOKEN, ClientSettings(url=sandbox.url))
    try:
        assert not client.execute(query, variables, mutation=True).field_errors
    finally:
        client.close()


def board_text(sandbox, item_id: str) -> str | None:
    item = next(i for i in sandbox.dump()["items"] if i["id"] == item_id)
    return item["column_values"][COLUMN]["text"]


@pytest.fixture
def edited(qtbot, window, sandbox):
    """Five GREYSON orders pushed; one's DESTINATION typed over by hand, another archived."""
    session = window.session
    batch = staging.stage(session.ctx, CUSTOMER, limit=5)
    assert push(session.ctx, batch.batch_id, session.monday()).status == "PUSHED"
    with session.ctx.store.engine.connect() as conn:
        rows = sorted(load_state(conn, CUSTOMER), key=lambda s: int(s.monday_item_id))
    by_hand(
        sandbox,
        EDIT,
        board=sandbox.board_id,
        item=rows[0].monday_item_id,
        values=json.dumps({COLUMN: "TYPED BY HAND"}),
    )
    by_hand(sandbox, ARCHIVE, item=rows[1].monday_item_id)
    window.selection.set_customer(CUSTOMER)
    return rows


def opened(qtbot, window) -> DriftView:
    view = DriftView(window, lambda: window.session, window.jobs, CUSTOMER)
    with qtbot.waitSignal(view.shown, timeout=30_000):
        view.show()
        view.load()
    return view


def select(view: DriftView, kinds: set[str]) -> None:
    table, model = view.table, view.table.selectionModel()
    model.clearSelection()
    flags = QItemSelectionModel.SelectionFlag.Select | QItemSelectionModel.SelectionFlag.Rows
    for row in range(table.rowCount()):
        if table.item(row, 0).text() in kinds:
            model.select(table.model().index(row, 0), flags)


def test_the_view_lists_the_hand_edit_and_re_pushing_restores_it(qtbot, window, sandbox, edited):
    view = opened(qtbot, window)
    table = view.table
    rows = {
        table.item(r, 0).text(): [table.item(r, c).text() for c in range(7)]
        for r in range(table.rowCount())
    }
    pushed = edited[0].record.fields[FIELD]
    assert rows["changed"][3:] == [FIELD, "TYPED BY HAND", pushed, pushed]
    assert rows["gone"][3] == "item archived"
    assert not view.push_button.isEnabled()  # nothing selected yet

    select(view, {"changed", "gone"})
    assert set(view.selected_orders()) == {
        edited[0].record.record_uuid,
        edited[1].record.record_uuid,
    }
    assert view.push_button.isEnabled()
    seen: list[str] = []
    answer_dialog(qtbot, QMessageBox.StandardButton.Ok, seen)
    with qtbot.waitSignal(view.acted, timeout=60_000) as done:
        view.push_button.click()
    assert "PUSHED" in done.args[0]
    assert "Requests:" in seen[0] and "reading the items first" in seen[0]
    assert board_text(sandbox, edited[0].monday_item_id) == pushed
    qtbot.waitUntil(lambda: view.drift is not None and view.drift.clean, timeout=30_000)
    batches = staging.history(window.session.ctx, CUSTOMER)
    assert batches[0].status == "PUSHED" and batches[0].changed_count == 2
    view.close()


def test_cancel_is_the_default_and_discards_the_staged_batch(qtbot, window, sandbox, edited):
    view = opened(qtbot, window)
    select(view, {"changed"})
    answer_dialog(qtbot, QMessageBox.StandardButton.Cancel)
    view.push_button.click()
    qtbot.waitUntil(
        lambda: staging.history(window.session.ctx, CUSTOMER)[0].status == "ROLLED_BACK",
        timeout=30_000,
    )
    assert board_text(sandbox, edited[0].monday_item_id) == "TYPED BY HAND"
    view.close()


def test_accept_board_makes_the_hand_edit_the_last_pushed_value(qtbot, window, sandbox, edited):
    view = opened(qtbot, window)
    select(view, {"changed"})
    answer_dialog(qtbot, QMessageBox.StandardButton.Ok)
    with qtbot.waitSignal(view.acted, timeout=30_000):
        view.accept_button.click()
    qtbot.waitUntil(lambda: view.drift is not None and not view.drift.changed, timeout=30_000)
    preview = detection.preview(window.session.ctx, CUSTOMER)
    [change] = [c for c in preview.changes if c.record_uuid == edited[0].record.record_uuid]
    assert [(d.old, d.new) for d in change.field_diffs] == [
        ("TYPED BY HAND", edited[0].record.fields[FIELD])
    ]
    view.close()


def test_the_toolbar_opens_the_view_for_the_selected_customer(qtbot, window, edited):
    assert window.act_drift.isEnabled()
    view = open_drift(window)
    qtbot.waitSignal(view.shown, timeout=30_000).wait()
    assert view.windowTitle() == f"Drift — {CUSTOMER}"
    view.close()


def test_every_customer_is_listed_read_only(qtbot, window, edited):
    view = DriftView(window, lambda: window.session, window.jobs, None)
    with qtbot.waitSignal(view.shown, timeout=30_000) as shown:
        view.show()
        view.load()
    assert {c.field for c in shown.args[0].changed} == {FIELD}
    assert view.windowTitle() == "Drift — every customer"
    view.table.selectAll()
    assert not view.push_button.isEnabled() and not view.accept_button.isEnabled()
    view.close()
