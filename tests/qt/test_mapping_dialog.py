"""The mapping dialog, offscreen, against a sandbox laid out with monday-like generated ids,
one column missing (DROP) and two look-alikes (PLANNER): choose, create, save."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QItemSelectionModel
from PySide6.QtWidgets import QMessageBox, QWidget

from orders_sync_gui.monday.board import check_mapping, fetch_board
from orders_sync_gui.monday.sandbox import SandboxConfig, SandboxServer
from orders_sync_gui.qt.job_status import JobStatus
from orders_sync_gui.qt.mapping_dialog import MappingDialog
from orders_sync_gui.qt.session import Session
from orders_sync_gui.qt.workers import JobRunner
from orders_sync_gui.services.context import open_context
from orders_sync_gui.services.demo import demo_init
from orders_sync_gui.services.mapping_from_board import mapping_from_board
from orders_sync_gui.services.monday_setup import monday_setup
from orders_sync_gui.settings import load_mapping, user_mapping_file
from tests.qt.conftest import TOKEN, on_next_box

LOOK_ALIKE = {"column_id": "text_mkplanner2", "title": "Planner", "type": "text"}


@pytest.fixture
def generated_board():
    config = SandboxConfig(
        token=TOKEN,
        window_seconds=1,
        column_ids="generated",
        missing_columns=("text_drop",),
        extra_columns=(LOOK_ALIKE,),
    )
    with SandboxServer(config) as server:
        yield server


@pytest.fixture
def dialog(qtbot, tmp_path, generated_board, isolated_home):
    url = f"sqlite:///{tmp_path / 'map.db'}"
    demo_init(url, orders=40, seed=3)
    ctx = open_context(url)
    setup = monday_setup(
        ctx, url=generated_board.url, token=TOKEN, board_id=generated_board.board_id
    )
    session = Session(ctx, "TEST", True, lambda: setup, ctx.close)
    parent = QWidget()
    qtbot.addWidget(parent)
    runner = JobRunner(parent)
    jobs = JobStatus(runner, parent, demo=True)
    view = MappingDialog(parent, lambda: session, jobs)
    view.resize(1180, 620)
    with qtbot.waitSignal(view.loaded, timeout=30_000):
        view.show()
        view.load()
    yield view, session, setup
    runner.wait(30_000)
    view.close()
    ctx.close()


def press_later(button: QMessageBox.StandardButton, defaults: list) -> None:
    """Press `button` on the next message box, noting which button was its default."""

    def press(box: QMessageBox) -> None:
        defaults.append(box.defaultButton() is box.button(QMessageBox.StandardButton.Cancel))
        box.button(button).click()

    on_next_box(press)


def line(view: MappingDialog, source: str) -> int:
    return next(i for i, (_s, slot, _c) in enumerate(view.lines) if slot.source == source)


def test_choose_create_and_save_writes_the_users_mapping(qtbot, dialog, generated_board):
    view, session, setup = dialog
    status = {slot.source: s for s, slot, _c in view.lines}
    assert status["PLANNER"] == "ambiguous" and status["DROP"] == "unmatched"
    assert sum(s == "matched" for s in status.values()) == len(status) - 2
    assert not view.save_button.isEnabled()  # two columns have none yet

    # The ambiguous PLANNER: the operator picks the look-alike made by hand.
    combo = view.lines[line(view, "PLANNER")][2]
    assert combo is not None
    picked = [combo.itemData(i) for i in range(combo.count()) if combo.itemData(i)]
    combo.setCurrentIndex(1 + [c.column_id for c in picked].index(LOOK_ALIKE["column_id"]))

    # The missing DROP: created on the board, after a confirmation whose default is Cancel.
    view.table.selectionModel().select(
        view.table.model().index(line(view, "DROP"), 0),
        QItemSelectionModel.SelectionFlag.ClearAndSelect | QItemSelectionModel.SelectionFlag.Rows,
    )
    assert view.create_button.isEnabled()
    defaults: list[bool] = []
    press_later(QMessageBox.StandardButton.Ok, defaults)
    with qtbot.waitSignal(view.loaded, timeout=30_000):
        view.create_button.click()
    assert defaults == [True]
    drop = [c for c in generated_board.dump()["board"]["columns"] if c["title"] == "DROP"]
    assert len(drop) == 1
    status = {slot.source: s for s, slot, _c in view.lines}
    assert status["DROP"] == "matched" and status["PLANNER"] == "ambiguous"
    kept = view.lines[line(view, "PLANNER")][2]
    assert kept is not None and kept.currentData().column_id == LOOK_ALIKE["column_id"]

    assert view.save_button.isEnabled()
    with qtbot.waitSignal(view.saved, timeout=5_000) as saved:
        view.save_button.click()
    assert saved.args[0] == user_mapping_file() and user_mapping_file().exists()
    written = load_mapping()
    by_source = {m.source: m.column.column_id for m in written.columns}
    assert by_source["PLANNER"] == LOOK_ALIKE["column_id"]
    assert by_source["DROP"] == drop[0]["id"]
    assert session.ctx.mapping == written  # the window's next push uses it
    # The saved mapping passes the push's check against the board, and `mapping
    # --from-board` now matches every column (the operator's choice stands).
    client = setup.client()
    try:
        check_mapping(fetch_board(client, setup.board_id), written)
    finally:
        client.close()
    report = mapping_from_board(setup=setup)
    assert report.complete and len(report.match.matched) == report.match.slots
    chosen = {m.slot.source: m.column.column_id for m in report.match.matched}
    assert chosen["PLANNER"] == LOOK_ALIKE["column_id"]


def test_cancel_creates_nothing(qtbot, dialog, generated_board):
    view, _session, _setup = dialog
    view.table.selectRow(line(view, "DROP"))
    defaults: list[bool] = []
    press_later(QMessageBox.StandardButton.Cancel, defaults)
    view.create_button.click()
    assert defaults == [True]
    assert not [c for c in generated_board.dump()["board"]["columns"] if c["title"] == "DROP"]
