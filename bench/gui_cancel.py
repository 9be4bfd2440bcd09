"""Cancel latency during a pacing wait, for bench_gui.py: from the click on the window's
Cancel to the push stopped (its job ended), while the push waits for monday's complexity
budget. The baseline, in the same run, is the push as it was before: cancel checked only
between requests (services.push with should_cancel and no cancel event), so it stops
when the wait is over. Target: under 1 s."""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from pathlib import Path
from typing import Any

from PySide6.QtCore import QEventLoop, QSettings, QTimer
from PySide6.QtWidgets import QApplication, QMessageBox

from orders_sync_gui.monday.sandbox import SandboxConfig, SandboxServer
from orders_sync_gui.qt.log_pane import SignalLogHandler
from orders_sync_gui.qt.main_window import MainWindow
from orders_sync_gui.qt.session import Session
from orders_sync_gui.services import staging
from orders_sync_gui.services.batch_run import Progress
from orders_sync_gui.services.context import open_context
from orders_sync_gui.services.demo import demo_init
from orders_sync_gui.services.monday_setup import monday_setup
from orders_sync_gui.services.push import PushStopped, push

TOKEN = "bench-cancel-token-0123456789"
# One request of 50 items (500,000 points) fits; the next waits for the window to roll.
BUDGET = 900_000


def _spin(app: QApplication, until: Any, timeout: float) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        app.processEvents(QEventLoop.ProcessEventsFlag.AllEvents, 20)
        if until():
            return True
    return False


def _yes_to_the_next_box() -> None:
    def press() -> None:
        box = QApplication.activeModalWidget()
        if isinstance(box, QMessageBox):
            go = next(b for b in box.buttons() if b.text() == "Push")
            go.click()
        else:
            QTimer.singleShot(10, press)

    QTimer.singleShot(0, press)


def window_latency(app: QApplication, db: str, sandbox: SandboxServer, home: Path) -> float:
    """Seconds from Cancel's click to the push's job ended, during a pacing wait."""
    ctx = open_context(db)
    setup = monday_setup(ctx, url=sandbox.url, token=TOKEN, board_id=sandbox.board_id)
    session = Session(ctx, "BENCH", True, lambda: setup, ctx.close)
    settings = QSettings(str(home / "window.ini"), QSettings.Format.IniFormat)
    window = MainWindow(lambda: session, SignalLogHandler(), settings, demo=True)
    window.offer_resume = False
    window.show()
    loaded: list[int] = []
    window.loaded.connect(loaded.append)
    window.start()
    assert _spin(app, lambda: loaded and not window.runner.busy(), 60)
    batch = staging.stage(ctx, "GREYSON", limit=60)
    window.selection.set_batch(batch)
    _yes_to_the_next_box()
    window.push()
    assert _spin(app, lambda: "pacing" in window.job_label.text(), 60), "no pacing wait"
    started = time.perf_counter()
    window.cancel.click()
    assert _spin(app, lambda: not window.runner.busy("GREYSON"), 120)
    latency = time.perf_counter() - started
    _spin(app, lambda: not window.runner.busy(), 30)
    window.close()
    return latency


def baseline_latency(db: str, sandbox: SandboxServer) -> float:
    """The same cancel, checked between requests only (no event to wake the wait)."""
    ctx = open_context(db)
    setup = monday_setup(ctx, url=sandbox.url, token=TOKEN, board_id=sandbox.board_id)
    batch = staging.stage(ctx, "RHONE", limit=60)
    waiting = threading.Event()
    flag = threading.Event()

    def progress(p: Progress) -> None:
        if p.waiting > 0:
            waiting.set()

    def run() -> None:
        with contextlib.suppress(PushStopped):
            push(ctx, batch.batch_id, setup, progress=progress, should_cancel=flag.is_set)

    worker = threading.Thread(target=run)
    worker.start()
    assert waiting.wait(60), "no pacing wait"
    started = time.perf_counter()
    flag.set()
    worker.join()
    ctx.close()
    return time.perf_counter() - started


def measure_cancel(app: QApplication, root: Path, window_seconds: float = 10.0) -> dict[str, Any]:
    logging.getLogger("orders_sync_gui").setLevel(logging.WARNING)
    db = f"sqlite:///{root / 'cancel.db'}"
    demo_init(db, orders=600, seed=21)
    config = SandboxConfig(token=TOKEN, window_seconds=window_seconds, complexity_budget=BUDGET)
    with SandboxServer(config) as sandbox:
        latency = window_latency(app, db, sandbox, root)
    with SandboxServer(config) as sandbox:  # a fresh budget: the same wait to cut short
        baseline = baseline_latency(db, sandbox)
    return {
        "cancel_latency_seconds": round(latency, 3),
        "cancel_target_seconds": 1.0,
        "cancel_baseline_seconds": round(baseline, 3),
        "cancel_ratio_vs_baseline": round(latency / baseline, 4) if baseline else None,
        "pacing_window_seconds": window_seconds,
    }
