"""The customer list fills in while the count runs: customers appear chunk by chunk with a
progress line, a selected customer's preview comes before the count ends, and a count can
be cancelled (the list then says its numbers are partial)."""

from __future__ import annotations

import pytest
from PySide6.QtCore import QSettings

from orders_sync_gui.qt import customers_view
from orders_sync_gui.qt.main_window import MainWindow
from orders_sync_gui.qt.session import Session
from orders_sync_gui.services.context import open_context
from orders_sync_gui.services.demo import demo_init
from orders_sync_gui.services.monday_setup import monday_setup
from tests.qt.conftest import TOKEN

ORDERS = 3000
CHUNK = 10  # 300 chunks: the count lasts long enough to be watched while it runs


@pytest.fixture
def big_db(tmp_path):
    url = f"sqlite:///{tmp_path / 'gui.db'}"
    demo_init(url, orders=ORDERS, seed=21)
    return url


@pytest.fixture
def counting(qtbot, big_db, sandbox, pane_handler, isolated_home, monkeypatch):
    """A window whose first count has shown its first customers and is still running."""
    monkeypatch.setattr(customers_view, "PARTIAL_EVERY", 0.0)  # every chunk is shown
    contexts = []

    def opener() -> Session:
        ctx = open_context(big_db)
        contexts.append(ctx)
        setup = monday_setup(ctx, url=sandbox.url, token=TOKEN, board_id=sandbox.board_id)
        return Session(ctx, "TEST · sandbox", True, lambda: setup, ctx.close)

    settings = QSettings(str(isolated_home / "window.ini"), QSettings.Format.IniFormat)
    win = MainWindow(opener, pane_handler, settings, demo=True)
    win.customer_list.chunk_rows = CHUNK
    win.resize(1440, 880)
    win.show()
    loaded: list[int] = []
    win.loaded.connect(loaded.append)
    with qtbot.waitSignal(win.customer_list.partial, timeout=30_000):
        win.start()
    win.loaded_counts = loaded  # type: ignore[attr-defined]
    yield win
    win.runner.cancel_all()
    win.runner.wait(60_000)
    qtbot.waitUntil(lambda: not win.runner.busy(), timeout=10_000)
    win.close()
    win.deleteLater()


def _counted(win) -> int:
    frame = win.customers.model.frame
    return int(frame[["new", "changed", "unchanged", "invalid"]].to_numpy().sum())


def test_customers_appear_while_the_count_runs_with_a_progress_line(qtbot, counting):
    win = counting
    assert win.runner.busy("refresh") and not win.loaded_counts
    first = _counted(win)
    assert 0 < first < ORDERS and win.customers.model.rowCount() >= 1
    label = win.jobs.label.text()
    assert label.startswith("Counting changes…") and f"of {ORDERS:,} rows" in label
    assert win.jobs.progress.isVisible()
    with qtbot.waitSignal(win.loaded, timeout=120_000):
        pass
    assert _counted(win) == ORDERS  # every order counted in the end (all NEW here)
    assert win.customers.model.rowCount() == 45


def test_the_selected_customers_preview_does_not_wait_for_the_count(qtbot, counting):
    win = counting
    model = win.customers.model
    name = str(model.record(0)["customer"])
    with qtbot.waitSignal(win.preview_shown, timeout=30_000):
        win.customers.view.selectRow(0)
    assert win.runner.busy("refresh") and not win.loaded_counts, "the count is still running"
    assert win.selection.current_preview() is not None
    assert win.selection.current_preview().customer == name
    # The list goes on filling in around the selection.
    with qtbot.waitSignal(win.loaded, timeout=120_000):
        pass
    assert win.selection.customer == name
    assert model.record(win.customers.view.currentIndex().row())["customer"] == name


def test_a_count_can_be_cancelled(qtbot, counting):
    win = counting
    assert win.jobs.cancel.isEnabled()
    win.jobs.cancel.click()
    qtbot.waitUntil(lambda: not win.runner.busy("refresh"), timeout=30_000)
    assert not win.loaded_counts
    assert "Count cancelled" in win.jobs.label.text()
    assert 0 < _counted(win) < ORDERS  # what was counted stays on show
