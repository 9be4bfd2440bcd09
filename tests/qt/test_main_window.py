"""The main window as an operator uses it, offscreen, on a real database and sandbox."""

from __future__ import annotations

import json
from collections import Counter

import numpy as np
import pandas as pd
import requests
from PySide6.QtCore import Qt

from orders_sync_gui.cli import main as cli_main
from orders_sync_gui.qt.models import FrameModel, text_mask
from orders_sync_gui.qt.panels import SUBITEM_COLUMNS
from orders_sync_gui.services import detection
from tests.helpers import mark_synced
from tests.qt.conftest import answer_dialog


def _board(sandbox) -> dict:
    return requests.get(f"{sandbox.base_url}/_sandbox/board", timeout=10).json()


def _select_customer(qtbot, window, name: str) -> None:
    model = window.customers.model
    row = next(r for r in range(model.rowCount()) if model.record(r)["customer"] == name)
    with qtbot.waitSignal(window.preview_shown, timeout=30_000):
        window.customers.view.selectRow(row)
    qtbot.waitUntil(lambda: not window.runner.busy(name), timeout=10_000)


def _cells(model, key: str) -> list:
    col = [c.key for c in model.columns].index(key)
    return [model.data(model.index(r, col)) for r in range(model.rowCount())]


def test_customer_counts_equal_the_cli(window, db, capsys):
    capsys.readouterr()
    assert cli_main(["--db", db, "detect", "--json"]) == 0
    expected = {
        c["customer"]: (c["new"], c["changed"], c["deleted"], c["unchanged"])
        for c in json.loads(capsys.readouterr().out)["customers"]
    }
    frame = window.customers.model.frame
    shown = {r.customer: (r.new, r.changed, r.deleted, r.unchanged) for r in frame.itertuples()}
    assert shown == expected
    assert window.customers.model.rowCount() == len(expected)


def test_customer_filter_and_sort_happen_in_the_model(window):
    window.customers.filter.setText("gre")
    assert _cells(window.customers.model, "customer") == ["GREYSON"]
    window.customers.filter.setText("")
    window.customers.view.sortByColumn(1, Qt.SortOrder.DescendingOrder)  # NEW
    news = [int(v) for v in _cells(window.customers.model, "new")]
    assert news == sorted(news, reverse=True) and len(news) > 10


def test_preview_shows_old_to_new_and_excluded_rows_stay_out(qtbot, window):
    ctx = window.session.ctx
    mark_synced(ctx, ["GREYSON"])
    info = ctx.store.source()
    with ctx.store.engine.begin() as conn:
        uid = conn.execute(
            info.table.select()
            .with_only_columns(info.table.c.record_uuid)
            .where(info.table.c["PO NUMBER"] == "4755")
            .limit(1)
        ).scalar()
        conn.execute(
            info.table.update()
            .where(info.table.c.record_uuid == uid)
            .values({"CUSTOMER COLOUR DESCRIPTION": "NEON PINK"})
        )
        extra = (
            conn.execute(
                info.table.select()
                .with_only_columns(info.table.c.record_uuid)
                .where(info.table.c["CUSTOMER NAME"] == "GREYSON")
                .where(info.table.c.record_uuid != uid)
                .limit(2)
            )
            .scalars()
            .all()
        )
        for other in extra:
            conn.execute(
                info.table.update()
                .where(info.table.c.record_uuid == other)
                .values({"NOTES": "rush"})
            )
    _select_customer(qtbot, window, "GREYSON")
    model = window.changes.model
    frame = model.frame
    row = int(np.flatnonzero(frame["record_uuid"] == uid)[0])
    diff = frame.loc[row, "diff"]
    assert "CUSTOMER COLOUR DESCRIPTION:" in diff and "→ NEON PINK" in diff
    assert frame.loc[row, "change"] == "CHANGED"
    view_row = next(r for r in range(model.rowCount()) if model.frame_row(r) == row)
    tooltip = model.data(model.index(view_row, 7), Qt.ItemDataRole.ToolTipRole)
    assert "NEON PINK" in tooltip
    assert (
        "#fff3d6"
        in model.data(model.index(view_row, 1), Qt.ItemDataRole.BackgroundRole).color().name()
    )
    assert model.data(model.index(view_row, 1)) == "CHANGED"  # the word, not colour alone

    skip = next(r for r in range(model.rowCount()) if model.record(r)["record_uuid"] == extra[0])
    model.setData(
        model.index(skip, 0), Qt.CheckState.Unchecked.value, Qt.ItemDataRole.CheckStateRole
    )
    window.changes.type_filter.setCurrentText("CHANGED")
    assert set(_cells(model, "change")) == {"CHANGED"}
    with qtbot.waitSignal(window.batch_shown, timeout=30_000):
        window.stage()
    qtbot.waitUntil(lambda: window.staged.rows.rowCount() == 2, timeout=10_000)
    staged = set(window.staged.rows.frame["source_uuid"].astype(str))
    assert str(uid) in staged and str(extra[0]) not in staged
    assert window.batch.excluded_count == 1


def test_stage_push_progress_log_and_board(qtbot, window, sandbox):
    _select_customer(qtbot, window, "GREYSON")
    window.changes.po.setText("4755")
    window.changes.limit.setValue(5)
    with qtbot.waitSignal(window.batch_shown, timeout=30_000):
        window.stage()
    batch = window.batch
    assert batch.item_count == min(5, batch.item_count) and batch.status == "STAGED"
    # The customer's line is recounted after the staging (a job of its own): its open batch.
    qtbot.waitUntil(
        lambda: _customer_line(window, "GREYSON")["open_batch"] == f"#{batch.batch_id} STAGED",
        timeout=10_000,
    )
    qtbot.waitUntil(lambda: not window.runner.busy(), timeout=10_000)
    line = _customer_line(window, "GREYSON")
    seen: list[str] = []
    answer_dialog(qtbot, seen=seen)
    progress_values: list[tuple[int, int]] = []
    window.progress.valueChanged.connect(
        lambda v: progress_values.append((v, window.progress.maximum()))
    )
    window.push()
    qtbot.waitUntil(
        lambda: (
            not window.runner.busy() and window.batch is not None and _status(window) == "PUSHED"
        ),
        timeout=60_000,
    )
    assert "Requests:" in seen[0] and "daily request quota" in seen[0]
    assert f"Adds to the board: {batch.new_count:,} items and " in seen[0]
    assert progress_values and progress_values[-1][0] == progress_values[-1][1]
    log_text = window.log_pane.text()
    assert f"batch {batch.batch_id} push-items" in log_text
    assert f"push of batch {batch.batch_id}: PUSHED" in log_text
    qtbot.waitUntil(
        lambda: set(window.staged.rows.frame["stg_status"]) == {"PUSHED"}, timeout=10_000
    )
    items = [i for i in _board(sandbox)["items"] if i["state"] == "active"]
    assert len(items) == batch.item_count
    # The customer's line is recounted in place: its pushed rows are now unchanged, and the
    # operator's selection in the list stays on GREYSON.
    qtbot.waitUntil(
        lambda: (
            _customer_line(window, "GREYSON")["unchanged"] == line["unchanged"] + batch.item_count
        ),
        timeout=10_000,
    )
    after = _customer_line(window, "GREYSON")
    assert after["new"] == line["new"] - batch.item_count and after["open_batch"] == ""
    current = window.customers.view.currentIndex().row()
    assert window.customers.model.record(current)["customer"] == "GREYSON"
    history = window.history.model.frame.set_index("batch_id")
    assert history.loc[batch.batch_id, "status"] == "PUSHED"


def _customer_line(window, name: str) -> dict:
    frame = window.customers.model.frame
    return frame[frame["customer"] == name].iloc[0].to_dict()


def test_statuses_update_live_and_the_selected_row_stays_selected(qtbot, window, sandbox):
    from orders_sync_gui.monday.sandbox import FaultConfig

    _select_customer(qtbot, window, "GREYSON")
    window.changes.limit.setValue(40)
    with qtbot.waitSignal(window.batch_shown, timeout=30_000):
        window.stage()
    view, rows = window.staged.rows_view, window.staged.rows
    view.sortByColumn(
        [c.key for c in rows.columns].index("order_number"), Qt.SortOrder.DescendingOrder
    )
    view.selectRow(7)
    chosen = int(rows.record(7)["stg_id"])
    view.verticalScrollBar().setValue(3)
    sandbox.set_faults(FaultConfig(every_n=1, kinds=("delay",), delay_seconds=1.0))
    answer_dialog(qtbot)
    window.push()
    customer, subitems = window.batch.customer, window.staged.subitems

    # Mid-push (50 subitems a request), some sizes already show PUSHED while others still
    # wait: the statuses are live.
    def some_pushed_while_running() -> bool:
        statuses = set(subitems.frame["stg_status"])
        return window.runner.busy(customer) and {"PUSHED", "PENDING"} <= statuses

    qtbot.waitUntil(some_pushed_while_running, timeout=60_000)
    assert set(rows.frame["stg_status"]) == {"PUSHED"}  # the items went first
    batch_id = window.batch.batch_id
    assert f"{customer}, PUSHING:" in window.staged.title.text()  # the batch's own status
    history = window.history.model.frame.set_index("batch_id")
    assert history.loc[batch_id, "status"] == "PUSHING"
    # The live update wrote into the rows: the operator's row, sort and scroll are kept.
    assert int(rows.record(view.currentIndex().row())["stg_id"]) == chosen
    assert view.currentIndex().row() == 7
    assert view.verticalScrollBar().value() == 3
    sandbox.set_faults(FaultConfig())
    qtbot.waitUntil(lambda: not window.runner.busy(), timeout=60_000)
    qtbot.waitUntil(lambda: set(rows.frame["stg_status"]) == {"PUSHED"}, timeout=10_000)
    assert rows.frame["stg_monday_item_id"].notna().all()  # monday's ids arrive with them
    assert "40 rows (40 pushed)" in window.staged.title.text()

    # Opening the batch while a load of it runs loads it again once that one is done (it
    # used to be dropped, leaving the table as it was): the runner keeps the last request.
    shown: list[int] = []
    window.batch_shown.connect(shown.append)
    window.show_batch(batch_id)
    window.show_batch(batch_id)
    assert window.runner.busy("rows")
    qtbot.waitUntil(lambda: not window.runner.busy() and len(shown) == 2, timeout=10_000)
    assert rows.rowCount() == 40


def test_an_in_place_update_repaints_moves_sorted_rows_and_keeps_the_selection(qtbot):
    from PySide6.QtWidgets import QTableView

    from orders_sync_gui.qt.panels import STAGED_COLUMNS

    frame = pd.DataFrame(
        {
            "stg_id": [1, 2, 3, 4],
            "order_number": ["A1", "A2", "A3", "A4"],
            "stg_status": ["PENDING"] * 4,
            "stg_error_message": [None] * 4,
            "stg_retry_count": [0] * 4,
        }
    )
    model = FrameModel(STAGED_COLUMNS)
    model.set_frame(frame)
    view = QTableView()
    qtbot.addWidget(view)
    view.setModel(model)
    status = [c.key for c in STAGED_COLUMNS].index("stg_status")
    view.setSortingEnabled(True)
    view.sortByColumn(status, Qt.SortOrder.AscendingOrder)
    view.selectRow(2)
    chosen = model.record(2)["stg_id"]
    changes = pd.DataFrame(
        {
            "stg_id": [3, 4, 99],  # 99: not on show, ignored
            "stg_status": ["FAILED", "PENDING", "PUSHED"],
            "stg_error_message": ["ColumnValueException: bad date", None, None],
            "stg_retry_count": [1, 0, 0],
        }
    )
    with qtbot.waitSignal(model.layoutChanged, timeout=1000):
        assert model.update_rows("stg_id", changes) == 1  # only row 3 differs
    assert _cells(model, "stg_status")[0] == "FAILED"  # sorted to the top
    assert model.record(view.currentIndex().row())["stg_id"] == chosen  # selection followed
    message = [c.key for c in STAGED_COLUMNS].index("stg_error_message")
    failed = model.index(0, message)
    assert model.data(failed) == "ColumnValueException: bad date"
    assert model.data(failed, Qt.ItemDataRole.ToolTipRole) == "ColumnValueException: bad date"
    assert model.update_rows("stg_id", changes) == 0  # nothing new: nothing repainted
    view.sortByColumn(1, Qt.SortOrder.DescendingOrder)  # a header click: the row goes along
    assert _cells(model, "order_number") == ["A4", "A3", "A2", "A1"]
    assert model.record(view.currentIndex().row())["stg_id"] == chosen


def _status(window) -> str | None:
    found = [b for b in window.batches if window.batch and b.batch_id == window.batch.batch_id]
    return found[0].status if found else None


def test_cancel_mid_push_then_push_again_leaves_no_duplicates(qtbot, window, sandbox):
    from orders_sync_gui.monday.sandbox import FaultConfig

    _select_customer(qtbot, window, "GREYSON")
    window.changes.limit.setValue(60)
    with qtbot.waitSignal(window.batch_shown, timeout=30_000):
        window.stage()
    sandbox.set_faults(FaultConfig(every_n=1, kinds=("delay",), delay_seconds=0.05))
    answer_dialog(qtbot)
    window.push()
    qtbot.waitUntil(lambda: window.progress.value() > 0, timeout=30_000)
    window.cancel.click()
    qtbot.waitUntil(lambda: not window.runner.busy(), timeout=60_000)
    qtbot.waitUntil(lambda: _status(window) == "PARTIAL", timeout=10_000)
    sandbox.set_faults(FaultConfig())
    answer_dialog(qtbot)
    window.push()
    qtbot.waitUntil(
        lambda: not window.runner.busy() and _status(window) == "PUSHED", timeout=60_000
    )
    board = _board(sandbox)
    active = [item for item in board["items"] if item["state"] == "active"]
    uuids = Counter(item["column_values"]["text_record_uuid"]["text"] for item in active)
    assert len(uuids) == 60 and max(uuids.values()) == 1
    for item in active:  # and no subitem twice
        names = Counter(sub["name"] for sub in item["subitems"] if sub["state"] == "active")
        assert not names or max(names.values()) == 1


def test_roll_back_unpushed_and_undo_pushed(qtbot, window, sandbox):
    _select_customer(qtbot, window, "RHONE")
    window.changes.limit.setValue(3)
    with qtbot.waitSignal(window.batch_shown, timeout=30_000):
        window.stage()
    first = window.batch.batch_id
    seen: list[str] = []
    answer_dialog(qtbot, seen=seen)
    # The customer's change set is read again after the rollback (a job of the customer's:
    # the next stage waits for it).
    with qtbot.waitSignal(window.preview_shown, timeout=30_000):
        window.rollback()
    qtbot.waitUntil(
        lambda: not window.runner.busy() and _status(window) == "ROLLED_BACK", timeout=30_000
    )
    assert "Nothing was sent" in seen[0]
    assert len(_board(sandbox)["items"]) == 0

    with qtbot.waitSignal(window.batch_shown, timeout=30_000):
        window.stage()
    assert window.batch.batch_id != first
    answer_dialog(qtbot)
    window.push()
    qtbot.waitUntil(
        lambda: not window.runner.busy() and _status(window) == "PUSHED", timeout=60_000
    )
    assert len(_board(sandbox)["items"]) == 3
    before = detection.detect_counts(window.session.ctx, "RHONE")[0][0]
    assert before.unchanged == 3
    answer_dialog(qtbot, seen=seen)
    # The customer's change set is read again once the undo has let go of the customer.
    with qtbot.waitSignal(window.preview_shown, timeout=60_000):
        window.rollback()
    qtbot.waitUntil(
        lambda: not window.runner.busy() and _status(window) == "UNDONE", timeout=60_000
    )
    assert "are deleted" in seen[-1]
    qtbot.waitUntil(
        lambda: set(window.staged.rows.frame["stg_status"]) == {"UNDONE"}, timeout=10_000
    )
    assert [i for i in _board(sandbox)["items"] if i["state"] == "active"] == []
    after = detection.detect_counts(window.session.ctx, "RHONE")[0][0]
    assert after.unchanged == 0 and after.new == before.new + 3


def test_sixty_thousand_rows_sort_and_filter_in_the_model(qtbot):
    n = 60_000
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "order_number": [f"AAG-{i:07d}" for i in rng.permutation(n)],
            "size_label": rng.choice(["XS", "S", "M", "L", "XL"], n),
            "change_type": "NEW",
            "previous_qty": None,
            "order_qty": rng.integers(1, 500, n),
            "stg_status": rng.choice(["PENDING", "PUSHED", "FAILED"], n),
            "stg_monday_subitem_id": None,
            "stg_retry_count": 0,
            "stg_error_message": None,
        }
    )
    model = FrameModel(SUBITEM_COLUMNS)
    model.set_frame(frame)
    assert model.rowCount() == n
    model.sort(4, Qt.SortOrder.DescendingOrder)
    qty = [int(model.data(model.index(r, 4))) for r in (0, 1, n // 2, n - 1)]
    assert qty == sorted(qty, reverse=True)
    model.set_mask(text_mask(model.frame, ["stg_status"], "failed"))
    assert 0 < model.rowCount() < n
    assert {model.data(model.index(r, 5)) for r in range(0, model.rowCount(), 97)} == {"FAILED"}
    qty = [int(model.data(model.index(r, 4))) for r in range(model.rowCount())]
    assert qty == sorted(qty, reverse=True)  # the sort survives the filter


def test_a_push_reads_no_status_and_then_recounts_only_its_customer(
    qtbot, window, sandbox, monkeypatch
):
    """While a push runs, the statuses its steps report are all the window shows: no read
    of the staged tables, by the window or its jobs; after it, one job: the customer's
    recount. What the tables then show is what the database holds."""
    import threading
    import time

    from sqlalchemy import event

    from orders_sync_gui.monday.sandbox import FaultConfig
    from orders_sync_gui.qt.actions import push as push_action
    from orders_sync_gui.services import staging

    _select_customer(qtbot, window, "GREYSON")
    window.changes.limit.setValue(30)
    with qtbot.waitSignal(window.batch_shown, timeout=30_000):
        window.stage()
    qtbot.waitUntil(lambda: not window.runner.busy(), timeout=10_000)  # the stage's recount
    batch_id = window.batch.batch_id

    reads: Counter[str] = Counter()  # the service calls that read staged statuses or rows
    for name in ("batch_statuses", "batch_rows", "get"):
        original = getattr(staging, name)

        def counted(*args, _name=name, _original=original, **kwargs):
            reads[_name] += 1
            return _original(*args, **kwargs)

        monkeypatch.setattr(staging, name, counted)
    pushing: dict[str, float | int] = {}
    service_push = push_action.push

    def timed_push(*args, **kwargs):
        pushing["thread"], pushing["start"] = threading.get_ident(), time.monotonic()
        try:
            return service_push(*args, **kwargs)
        finally:
            pushing["end"] = time.monotonic()

    monkeypatch.setattr(push_action, "push", timed_push)
    statements: list[tuple[float, int, str]] = []

    def on_sql(conn, cursor, statement, parameters, context, executemany) -> None:
        statements.append((time.monotonic(), threading.get_ident(), statement))

    engine = window.session.ctx.store.engine
    event.listen(engine, "before_cursor_execute", on_sql)
    jobs: dict[int, tuple[str, str]] = {}

    def seen_jobs() -> None:
        jobs.update({id(job): (job.name, job.key) for job in window.runner.jobs.values()})

    window.runner.changed.connect(seen_jobs)
    reports: list[int] = []
    window.progress.valueChanged.connect(reports.append)
    sandbox.set_faults(FaultConfig(every_n=1, kinds=("delay",), delay_seconds=0.3))
    try:
        answer_dialog(qtbot)
        window.push()
        qtbot.waitUntil(
            lambda: "end" in pushing and not window.runner.busy() and _status(window) == "PUSHED",
            timeout=60_000,
        )
    finally:
        event.remove(engine, "before_cursor_execute", on_sql)
        window.runner.changed.disconnect(seen_jobs)
        sandbox.set_faults(FaultConfig())

    assert len(reports) > 3  # the push reported several steps while the window watched
    assert reads == Counter()
    during = [
        s
        for t, thread, s in statements
        if pushing["start"] <= t <= pushing["end"] and thread != pushing["thread"]
    ]
    assert during == []  # nothing but the push itself touched the database meanwhile
    after = [s for t, _thread, s in statements if t > pushing["end"]]
    assert after and not [s for s in after if "STG_MON" in s]
    assert list(jobs.values()) == [
        ("Estimating the push", f"estimate:{batch_id}"),
        (f"Pushing batch {batch_id}", "GREYSON"),
        ("Recounting GREYSON", "refresh"),
    ]
    # What the window shows, from the push's reports alone, is what the database holds.
    rows, subs = staging.batch_statuses(window.session.ctx, batch_id)
    shown = window.staged.rows.frame.set_index("stg_id")[rows.columns[1:]]
    assert shown.loc[rows["stg_id"]].astype(str).to_numpy().tolist() == (
        rows.set_index("stg_id").astype(str).to_numpy().tolist()
    )
    shown_subs = window.staged.subitems.frame.set_index("stg_subitem_id")[subs.columns[1:]]
    assert shown_subs.loc[subs["stg_subitem_id"]].astype(str).to_numpy().tolist() == (
        subs.set_index("stg_subitem_id").astype(str).to_numpy().tolist()
    )
    assert f"{len(rows)} rows ({len(rows)} pushed)" in window.staged.title.text()
    assert "GREYSON, PUSHED" in window.staged.title.text()
