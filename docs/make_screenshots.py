"""Make the README's screenshots from the real window, offscreen, on a throwaway demo.

    .venv/bin/python docs/make_screenshots.py [--out docs/screenshots]

Drives the window as an operator would: loads the customer list, pushes a first GREYSON
batch to an in-process sandbox, changes a few orders in the source, previews the changes,
pushes them (captured mid-push, with the log), shows the batch history, and runs Check
setup with its live test; then edits GREYSON's items by hand and opens the Drift view, and
opens the mapping dialog on a board laid out with generated column ids.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import sys
import tempfile
from datetime import datetime
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from PySide6.QtCore import QEventLoop, QPoint, QSettings, QTimer  # noqa: E402
from PySide6.QtGui import QPainter, QPixmap  # noqa: E402
from PySide6.QtWidgets import QApplication, QMenu, QMessageBox  # noqa: E402

from orders_sync_gui.monday.client import ClientSettings, MondayClient  # noqa: E402
from orders_sync_gui.monday.sandbox import FaultConfig, SandboxConfig, SandboxServer  # noqa: E402
from orders_sync_gui.qt import theme  # noqa: E402
from orders_sync_gui.qt.drift_view import open_drift  # noqa: E402
from orders_sync_gui.qt.export_view import export_to  # noqa: E402
from orders_sync_gui.qt.log_pane import SignalLogHandler  # noqa: E402
from orders_sync_gui.qt.main_window import MainWindow  # noqa: E402
from orders_sync_gui.qt.mapping_dialog import MappingDialog  # noqa: E402
from orders_sync_gui.qt.session import Session  # noqa: E402
from orders_sync_gui.qt.setup_check import SetupCheckDialog  # noqa: E402
from orders_sync_gui.services.context import open_context  # noqa: E402
from orders_sync_gui.services.demo import demo_init  # noqa: E402
from orders_sync_gui.services.monday_setup import monday_setup  # noqa: E402
from orders_sync_gui.store.demo import mutate_orders  # noqa: E402
from orders_sync_gui.store.syncstate import load_state  # noqa: E402

TOKEN = "screenshot-token"


def wait_until(app: QApplication, check, timeout: float = 120.0) -> None:  # type: ignore[no-untyped-def]
    loop = QEventLoop()
    timer = QTimer()
    timer.timeout.connect(lambda: loop.quit() if check() else None)
    timer.start(20)
    QTimer.singleShot(int(timeout * 1000), loop.quit)
    loop.exec()
    timer.stop()
    if not check():
        raise TimeoutError("the window did not get there in time")


def say_yes() -> None:
    box = QApplication.activeModalWidget()
    if isinstance(box, QMessageBox):
        # Push and Undo confirmations name their button and default to Cancel.
        yes = box.button(QMessageBox.StandardButton.Yes) or next(
            b for b in box.buttons() if box.buttonRole(b) == QMessageBox.ButtonRole.AcceptRole
        )
        yes.click()
    else:
        QTimer.singleShot(20, say_yes)


def check_setup(app: QApplication, window: MainWindow, out: Path) -> None:
    """Check setup, then its live test (confirmed), as the operator sees the result."""
    dialog: SetupCheckDialog = window.check_setup()
    dialog.resize(940, 720)
    wait_until(app, lambda: dialog.report is not None and not dialog.runner.busy())

    def confirm() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            dialog.run_button.click()
        else:
            QTimer.singleShot(20, confirm)

    tested: list[object] = []
    dialog.live_tested.connect(tested.append)
    QTimer.singleShot(0, confirm)
    dialog.ask_live_test()
    wait_until(app, lambda: bool(tested) and not dialog.runner.busy())
    app.processEvents()
    dialog.grab().save(str(out / "check_setup.png"))
    dialog.close()


def with_popup(app: QApplication, window: MainWindow, menu: QMenu, at: QPoint) -> QPixmap:
    """The window with an open menu drawn over it (offscreen, a popup is a window of its
    own: grabbed apart and painted where it opened)."""
    menu.popup(window.mapToGlobal(at))
    for _ in range(5):
        app.processEvents()
    shot = window.grab()
    painter = QPainter(shot)
    painter.drawPixmap(window.mapFromGlobal(menu.pos()), menu.grab())
    painter.end()
    menu.hide()
    return shot


def window_shots(app: QApplication, window: MainWindow, out: Path, home: Path) -> None:
    """The menu, an export, the dark palette and the 1024×700 window (issue 15)."""
    sync = next(a.menu() for a in window.menuBar().actions() if a.text() == "&Sync")
    at = window.menuBar().actionGeometry(window.menuBar().actions()[1]).bottomLeft()
    with_popup(app, window, sync, window.menuBar().mapTo(window, at)).save(str(out / "menu.png"))

    window.tabs.setCurrentWidget(window.history)
    target = home / "batch-history.xlsx"
    export_to(window.history.view, target, window.jobs, "Batch history")
    wait_until(app, lambda: not window.runner.busy())
    view = window.history.view
    popup = QMenu(view)
    popup.addAction("Export Batch history…")
    where = view.viewport().mapTo(window, view.visualRect(view.model().index(0, 2)).center())
    with_popup(app, window, popup, where).save(str(out / "export.png"))

    theme.apply(True)
    window.tabs.setCurrentWidget(window.changes)
    app.processEvents()
    window.grab().save(str(out / "dark-palette.png"))
    theme.apply(False)

    window.resize(1024, 700)
    window.tabs.setCurrentWidget(window.staged)
    for _ in range(3):
        app.processEvents()
    window.grab().save(str(out / "window-1024x700.png"))


def batch_status(window: MainWindow) -> str | None:
    if window.batch is None:
        return None
    return next((b.status for b in window.batches if b.batch_id == window.batch.batch_id), None)


def by_hand(sandbox: SandboxServer, query: str, **variables: object) -> None:
    """What someone does on the board: a GraphQL request of their own."""
    client = MondayClient(TOKEN, ClientSettings(url=sandbox.url))
    try:
        client.execute(query, dict(variables), mutation=True)
    finally:
        client.close()


def drift_view_shot(
    app: QApplication, window: MainWindow, sandbox: SandboxServer, out: Path
) -> None:
    """Hand edits on GREYSON's items (two values, an archived item, a removed size), then
    the Drift view with the edited rows selected."""
    session = window.session
    assert session is not None
    with session.ctx.store.engine.connect() as conn:
        rows = sorted(load_state(conn, "GREYSON"), key=lambda s: int(s.monday_item_id or 0))
    edit = """mutation ($board: ID!, $item: ID!, $values: JSON!) {
      change_multiple_column_values(board_id: $board, item_id: $item, column_values: $values)
      { id } }"""
    for row, values in (
        (rows[0], {"text_destination": "ROTTERDAM (per Jana, call)"}),
        (rows[2], {"date_ex_factory": {"date": "2027-09-01"}}),
    ):
        by_hand(
            sandbox,
            edit,
            board=sandbox.board_id,
            item=row.monday_item_id,
            values=json.dumps(values),
        )
    by_hand(
        sandbox,
        "mutation ($item: ID!) { archive_item(item_id: $item) { id } }",
        item=rows[5].monday_item_id,
    )
    sub = next(iter(rows[7].subitem_ids.values()))
    by_hand(sandbox, "mutation ($item: ID!) { delete_item(item_id: $item) { id } }", item=sub)
    view = open_drift(window)
    wait_until(app, lambda: view.drift is not None and not window.runner.busy())
    view.resize(1180, 420)
    view.table.selectRow(0)
    app.processEvents()
    view.grab().save(str(out / "drift_view.png"))
    view.close()


def mapping_dialog_shot(app: QApplication, window: MainWindow, out: Path) -> None:
    """The mapping dialog against a board laid out with generated ids, one column missing
    and two look-alikes: the operator's choices still open."""
    session = window.session
    assert session is not None
    config = SandboxConfig(
        token=TOKEN,
        column_ids="generated",
        missing_columns=("text_drop",),
        extra_columns=({"column_id": "text_mkplanner2", "title": "Planner", "type": "text"},),
    )
    with SandboxServer(config) as board:
        setup = monday_setup(session.ctx, url=board.url, token=TOKEN, board_id=board.board_id)
        other = Session(session.ctx, "mapping", True, lambda: setup)
        dialog = MappingDialog(window, lambda: other, window.jobs)
        dialog.resize(1180, 560)
        dialog.show()
        dialog.load()
        wait_until(app, lambda: dialog.choices is not None and not window.runner.busy())
        dialog.table.selectRow(1)
        app.processEvents()
        dialog.grab().save(str(out / "mapping_dialog.png"))
        dialog.close()


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="orders-sync-shots-"))
    os.environ["ORDERS_SYNC_HOME"] = str(home)
    os.environ["ORDERS_SYNC_OPERATOR"] = "a.nowak"
    url = f"sqlite:///{home / 'demo.db'}"
    demo_init(url, orders=4000, seed=4755)

    app = QApplication.instance() or QApplication(sys.argv[:1])
    handler = SignalLogHandler()
    logging.getLogger().addHandler(handler)
    logging.getLogger().setLevel(logging.INFO)
    sandbox = SandboxServer(SandboxConfig(token=TOKEN, window_seconds=60)).start()
    port = sandbox.url.split(":")[2].split("/")[0]

    def opener() -> Session:
        ctx = open_context(url)
        setup = monday_setup(ctx, url=sandbox.url, token=TOKEN, board_id=sandbox.board_id)
        return Session(ctx, f"DEMO · sandbox 127.0.0.1:{port}", True, lambda: setup, ctx.close)

    settings = QSettings(str(home / "window.ini"), QSettings.Format.IniFormat)
    window = MainWindow(opener, handler, settings, demo=True, offer_resume=False)
    window.resize(1440, 880)
    window.show()
    loaded: list[int] = []
    window.loaded.connect(loaded.append)
    window.start()
    wait_until(app, lambda: loaded and not window.runner.busy())
    window.grab().save(str(args.out / "main-window.png"))

    def select(customer: str) -> None:
        shown: list[str] = []
        window.preview_shown.connect(shown.append)
        model = window.customers.model
        row = next(r for r in range(model.rowCount()) if model.record(r)["customer"] == customer)
        window.customers.view.selectRow(row)
        if window.customer == customer and not window.runner.busy(customer):
            window.load_preview()
        wait_until(app, lambda: shown and not window.runner.busy())
        window.preview_shown.disconnect(shown.append)

    def stage_and_push(limit: int) -> None:
        window.changes.limit.setValue(limit)
        window.stage()
        wait_until(app, lambda: batch_status(window) == "STAGED" and not window.runner.busy())
        window.changes.limit.setValue(0)
        QTimer.singleShot(0, say_yes)
        window.push()

    select("GREYSON")
    stage_and_push(40)
    wait_until(app, lambda: batch_status(window) == "PUSHED" and not window.runner.busy())

    ctx = open_context(url)
    mutate_orders(
        ctx.store.engine,
        changed=8,
        deleted=1,
        added=0,
        seed=7,
        customer_spellings=["GREYSON", "GREYSON CLOTHIERS", "Greyson "],
    )
    # Only rows that were pushed can show as CHANGED: make sure some of them move too.
    info = ctx.store.source()
    pushed = [r.source_uuid for r in window.staged.rows.frame.itertuples()][:4]
    with ctx.store.engine.begin() as conn:
        for i, uid in enumerate(pushed[:3]):
            values = (
                {"EX FACTORY DATE": datetime(2027, 8, 15)}
                if i == 0
                else {"CUSTOMER COLOUR DESCRIPTION": "SAGE HEATHER"}
                if i == 1
                else {"NOTES": "Split shipment: 60% air, 40% ocean"}
            )
            conn.execute(
                info.table.update().where(info.table.c.record_uuid == str(uid)).values(values)
            )
        conn.execute(info.table.delete().where(info.table.c.record_uuid == str(pushed[3])))
    ctx.close()
    window.refresh()
    wait_until(app, lambda: not window.runner.busy())
    select("GREYSON")
    window.changes.type_filter.setCurrentText("All changes")
    model = window.changes.model
    changed = next(
        (r for r in range(model.rowCount()) if model.record(r)["change"] == "CHANGED"), 0
    )
    window.changes.view.selectRow(changed)
    app.processEvents()
    window.grab().save(str(args.out / "preview-with-diffs.png"))

    sandbox.set_faults(
        FaultConfig(every_n=1, kinds=("delay",), delay_seconds=0.25, mutations_only=True)
    )
    stage_and_push(300)
    wait_until(
        app,
        lambda: (
            window.progress.isVisible()
            and window.progress.maximum() > 1
            and window.progress.value() > window.progress.maximum() * 0.3
        ),
    )
    window.tabs.setCurrentWidget(window.staged)
    app.processEvents()
    window.grab().save(str(args.out / "push-in-progress.png"))
    sandbox.set_faults(FaultConfig())
    wait_until(app, lambda: batch_status(window) == "PUSHED" and not window.runner.busy())
    window.tabs.setCurrentWidget(window.history)
    window.history.view.selectRow(0)
    wait_until(app, lambda: not window.runner.busy())
    window.grab().save(str(args.out / "batch-history.png"))
    check_setup(app, window, args.out)

    drift_view_shot(app, window, sandbox, args.out)
    mapping_dialog_shot(app, window, args.out)
    window_shots(app, window, args.out, home)
    window.close()
    sandbox.stop()
    adopt_preview(app, handler, home, args.out)
    for name in sorted(p.name for p in args.out.glob("*.png")):
        print(args.out / name)
    return 0


def adopt_preview(app: QApplication, handler: SignalLogHandler, home: Path, out: Path) -> None:
    """The Adopt board items preview, on a board the earlier scripts filled (GREYSON's
    orders with the seeded mess: values edited, orders doubled, missing and orphaned)."""
    from orders_sync_gui.monday.sandbox.config import LegacyMess
    from orders_sync_gui.qt.adopt_view import open_adopt
    from orders_sync_gui.services.legacy_source import legacy_records

    url = f"sqlite:///{home / 'legacy.db'}"
    demo_init(url, orders=1500, seed=4755)
    records = tuple(legacy_records(url, ["GREYSON"]))
    mess = LegacyMess(edited=0.06, duplicated=0.03, missing=0.03, orphan=0.03)
    config = SandboxConfig(token=TOKEN, board_seed=3, legacy_records=records, legacy_mess=mess)
    sandbox = SandboxServer(config).start()

    def opener() -> Session:
        ctx = open_context(url)
        setup = monday_setup(ctx, url=sandbox.url, token=TOKEN, board_id=sandbox.board_id)
        return Session(ctx, "DEMO · legacy board", True, lambda: setup, ctx.close)

    settings = QSettings(str(home / "legacy-window.ini"), QSettings.Format.IniFormat)
    window = MainWindow(opener, handler, settings, demo=True)
    window.resize(1440, 880)
    window.show()
    loaded: list[int] = []
    window.loaded.connect(loaded.append)
    window.start()
    wait_until(app, lambda: loaded and not window.runner.busy())
    model = window.customers.model
    row = next(r for r in range(model.rowCount()) if model.record(r)["customer"] == "GREYSON")
    window.customers.view.selectRow(row)
    wait_until(app, lambda: window.act_adopt.isEnabled())
    dialog = open_adopt(window.bench)
    assert dialog is not None
    wait_until(app, lambda: dialog.report is not None and not window.runner.busy())
    for combo in list(dialog.combos.values())[:1]:
        combo.setCurrentIndex(1)
    app.processEvents()
    dialog.grab().save(str(out / "adopt_preview.png"))
    dialog.close()
    window.close()
    sandbox.stop()


if __name__ == "__main__":
    sys.exit(main())
