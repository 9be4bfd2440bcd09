"""The window's start measured as an operator sees it: from the command (process start) to
the customer list, in a process of its own (`python -m orders_sync_gui --smoke`: the JSON
line is printed once the list is loaded with its counts).

The first run on a fresh home folder is the cold start (it makes the demo database); the
next `runs` are warm starts. The baseline, in the same run, is the floor of any PySide6
window: an interpreter that imports QtWidgets, shows an empty QMainWindow and prints a line.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

TARGET_SECONDS = 1.5
TIMEOUT_SECONDS = 300.0

BARE_WINDOW = """
from PySide6.QtCore import QTimer
from PySide6.QtWidgets import QApplication, QMainWindow
app = QApplication([])
window = QMainWindow()
window.show()
QTimer.singleShot(0, lambda: (print('{}', flush=True), app.quit()))
app.exec()
"""


def _seconds_to_line(command: list[str], env: dict[str, str]) -> tuple[float, dict[str, Any]]:
    """Seconds from starting `command` to its first stdout line (and that line's JSON)."""
    started = time.perf_counter()
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, env=env, text=True
    ) as process:
        assert process.stdout is not None
        line = process.stdout.readline()
        seconds = time.perf_counter() - started
        process.stdout.read()
        if process.wait(TIMEOUT_SECONDS) != 0 or not line.strip():
            raise RuntimeError(f"{command[1:]} exited {process.returncode} ({line.strip()!r})")
    return seconds, json.loads(line)


def _figures(values: list[float]) -> dict[str, float]:
    return {
        "median_seconds": round(statistics.median(values), 3),
        "min_seconds": round(min(values), 3),
        "max_seconds": round(max(values), 3),
    }


def measure_start(runs: int = 5, platform: str = "offscreen") -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="bench_start_") as home:
        env = {
            **os.environ,
            "ORDERS_SYNC_HOME": str(Path(home)),
            "QT_QPA_PLATFORM": platform,
        }
        env.pop("ORDERS_SYNC_DB_URL", None)
        app = [sys.executable, "-m", "orders_sync_gui", "--smoke"]
        cold, shown = _seconds_to_line(app, env)
        if not shown.get("customers"):
            raise RuntimeError(f"the customer list did not load: {shown}")
        warm = [_seconds_to_line(app, env)[0] for _ in range(runs)]
        bare = [_seconds_to_line([sys.executable, "-c", BARE_WINDOW], env)[0] for _ in range(runs)]
    median = statistics.median(warm)
    return {
        "measured": "process start to the customer list loaded (--smoke's JSON line)",
        "customers": shown["customers"],
        "cold_seconds": round(cold, 3),
        "warm": {"runs": runs, **_figures(warm)},
        "baseline": {"name": "bare_pyside6_window", **_figures(bare)},
        "ratio_to_baseline": round(median / statistics.median(bare), 2),
        "target_seconds": TARGET_SECONDS,
        "meets_target": bool(median < TARGET_SECONDS),
        "qt_platform": platform,
    }


if __name__ == "__main__":
    print(json.dumps(measure_start(int(sys.argv[1]) if len(sys.argv) > 1 else 5)))
