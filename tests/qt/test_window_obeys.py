"""Cancel and close obey at once, and the window says one truth: on a sandbox whose
complexity budget makes the push wait a full minute after its first request."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from orders_sync_gui.core.board_state import BoardState
from orders_sync_gui.monday.sandbox import SandboxConfig, SandboxServer
from orders_sync_gui.qt.job_status import STOPPING_TEXT
from orders_sync_gui.qt.main_window import MainWindow
from orders_sync_gui.qt.session import Session
from orders_sync_gui.services import staging
from orders_sync_gui.services.context import open_context
from orders_sync_gui.services.monday_setup import monday_setup
from tests.qt.conftest import TOKEN, answer_dialog


@pytest.fixture
def sandbox():
    # 60 rows: two requests of items at 500,000 points each; the budget holds one, so the
    # second waits for the window to roll over (a minute); the reads before them cost
    # a little of it too.
    config = SandboxConfig(token=TOKEN, window_seconds=60, complexity_budget=900_000)
    with SandboxServer(config) as server:
        yield server


def _stage(qtbot, window, customer: str = "GREYSON", limit: int = 60) -> int:
    model = window.customers.model
    row = next(r for r in range(model.rowCount()) if model.record(r)["customer"] == customer)
    with qtbot.waitSignal(window.preview_shown, timeout=30_000):
        window.customers.view.selectRow(row)
    qtbot.waitUntil(lambda: not window.runner.busy(customer), timeout=10_000)
    window.changes.limit.setValue(limit)
    with qtbot.waitSignal(window.batch_shown, timeout=30_000):
        window.stage()
    qtbot.waitUntil(lambda: not window.runner.busy(), timeout=10_000)
    return window.batch.batch_id


def _push_until_pacing(qtbot, window) -> None:
    answer_dialog(qtbot)
    window.push()
    # The status bar says the wait as it goes (a report at least once a second).
    qtbot.waitUntil(lambda: "pacing" in window.job_label.text(), timeout=30_000)


def _db_state(window, batch_id: int) -> tuple[BoardState, object]:
    rows, subs = staging.batch_statuses(window.session.ctx, batch_id)
    parents = dict(
        zip(
            window.staged.subitems.frame["stg_subitem_id"],
            window.staged.subitems.frame["stg_parent_id"],
            strict=True,
        )
    )
    state = BoardState.of(
        dict(zip(rows["stg_id"], rows["stg_status"].astype(str), strict=True)),
        (
            (parents[i], str(s))
            for i, s in zip(subs["stg_subitem_id"], subs["stg_status"], strict=True)
        ),
    )
    return state, staging.get(window.session.ctx, batch_id)


def test_cancel_during_a_pacing_wait_stops_at_once_and_every_face_agrees(qtbot, window):
    batch_id = _stage(qtbot, window)
    _push_until_pacing(qtbot, window)
    window.cancel.click()
    assert window.cancel.text() == STOPPING_TEXT and not window.cancel.isEnabled()
    assert window.job_label.text().startswith("Stopping")
    # The wait had most of a minute to go: it wakes on the cancel.
    qtbot.waitUntil(lambda: not window.runner.busy("GREYSON"), timeout=2_000)
    qtbot.waitUntil(lambda: not window.runner.busy(), timeout=10_000)
    assert window.cancel.text() == "Cancel"

    state, batch = _db_state(window, batch_id)
    assert batch.status == "PARTIAL" and state.items > 0 and not state.complete
    said = state.text()
    assert said in batch.message and "cancelled by the operator" in batch.message
    # The status bar, the Staged rows title, the history line and the table: the same.
    assert said in window.job_label.text() and "PARTIAL" in window.job_label.text()
    assert said in window.staged.title.text() and "GREYSON, PARTIAL" in window.staged.title.text()
    history = window.history.model.frame.set_index("batch_id")
    assert (history.loc[batch_id, "status"], history.loc[batch_id, "message"]) == (
        "PARTIAL",
        batch.message,
    )
    rows, _subs = staging.batch_statuses(window.session.ctx, batch_id)
    shown = window.staged.rows.frame.set_index("stg_id")["stg_status"]
    assert shown.loc[rows["stg_id"]].tolist() == rows["stg_status"].tolist()
    assert window.windowTitle().endswith("sandbox")  # no job's words left in the title


def test_close_during_a_push_returns_at_once_and_the_next_start_offers_to_resume(
    qtbot, window, db, sandbox, pane_handler, isolated_home
):
    batch_id = _stage(qtbot, window)
    _push_until_pacing(qtbot, window)
    asked: list[str] = []
    answer_dialog(qtbot, seen=asked)  # "Stop it and close?": yes
    assert window.close() is False  # control is back at once: the close waits for the job
    assert asked and "Stop it and close?" in asked[0]
    assert window.isVisible() and "closing" in window.windowTitle()
    assert "Closing" in window.job_label.text()
    qtbot.waitUntil(lambda: not window.isVisible(), timeout=2_000)
    assert staging.get(open_context(db), batch_id).status == "PARTIAL"

    def opener() -> Session:
        ctx = open_context(db)
        setup = monday_setup(ctx, url=sandbox.url, token=TOKEN, board_id=sandbox.board_id)
        return Session(ctx, "TEST · sandbox", True, lambda: setup, ctx.close)

    settings = QSettings(str(isolated_home / "window2.ini"), QSettings.Format.IniFormat)
    again = MainWindow(opener, pane_handler, settings, demo=True)
    qtbot.addWidget(again)
    offered: list[str] = []
    from PySide6.QtWidgets import QMessageBox

    answer_dialog(qtbot, QMessageBox.StandardButton.Cancel, seen=offered)  # "later"
    again.start()
    qtbot.waitUntil(lambda: bool(offered), timeout=30_000)
    assert f"Batch {batch_id} of GREYSON was interrupted" in offered[0]
    qtbot.waitUntil(lambda: not again.runner.busy(), timeout=10_000)
    again.close()
