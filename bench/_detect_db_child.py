"""One measured operation of bench_detect_db.py, in a process of its own.

    python bench/_detect_db_child.py detect|preview|stage URL CUSTOMER

The orders_sync_gui imported is whichever PYTHONPATH names first: this branch's, or the
baseline's worktree. Prints one JSON object: seconds of the operation (opening the store
is not timed) and the process's peak resident set (VmHWM) at its end. Uses only calls
that both versions have.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import resource
import sys
import threading
import time

from orders_sync_gui.services import detection, staging
from orders_sync_gui.services.context import open_context


def main() -> None:
    op, url, customer = sys.argv[1:4]
    ctx = open_context(url)
    try:
        ctx.store.source()  # the reflection, as the window has it done before a count
        watch = WorkerPeaks()
        start = time.perf_counter()
        if op == "detect":
            counts, errors = detection.detect_counts(ctx, **chunk())
            detail = {"customers": len(counts), "errors": len(errors)}
        elif op == "preview":
            found = detection.preview(ctx, customer)
            detail = {"changes": len(found.changes)}
        elif op == "stage":
            batch = staging.stage(ctx, customer)
            detail = {"items": batch.item_count}
        else:
            raise SystemExit(f"unknown operation {op!r}")
        seconds = time.perf_counter() - start
        watch.stop()
        if op == "stage":
            staging.rollback(ctx, batch.batch_id)  # not timed: the next run stages again
    finally:
        ctx.close()
    own, workers = peak_mb(), watch.peaks
    # Worker processes (detection's, on SQLite at scale) count too: the sum of their
    # peaks, an upper bound of what they held at once.
    print(
        json.dumps(
            {
                "seconds": seconds,
                "peak_mb": own + sum(workers.values()),
                "own_peak_mb": own,
                "worker_peaks_mb": sorted(workers.values()),
                **detail,
            }
        )
    )


class WorkerPeaks:
    """Samples the peak resident set (VmHWM) of this process's children every 50 ms while
    the operation runs. Not getrusage(RUSAGE_CHILDREN): its ru_maxrss starts a spawned
    child at the parent's own peak, and keeps only the highest child."""

    def __init__(self) -> None:
        self.peaks: dict[int, float] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()

    def _run(self) -> None:
        while not self._stop.wait(0.05):
            for pid in child_pids():
                mb = vm_hwm_mb(f"/proc/{pid}/status")
                if mb is not None:
                    self.peaks[pid] = max(mb, self.peaks.get(pid, 0.0))

    def stop(self) -> None:
        self._stop.set()
        self._thread.join()


def child_pids() -> set[int]:
    """Every process this one started, from any of its threads: detection's worker
    processes and the child that reads a SQLite count's rows (store/sqlite_reader.py, a
    plain subprocess, which multiprocessing does not list)."""
    found: set[int] = set()
    try:
        for task in os.listdir("/proc/self/task"):
            with open(f"/proc/self/task/{task}/children", encoding="ascii") as listed:
                found.update(int(p) for p in listed.read().split())
    except OSError:
        found.update(c.pid for c in multiprocessing.active_children() if c.pid is not None)
    return found


def vm_hwm_mb(path: str) -> float | None:
    try:
        with open(path, encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return None


def chunk() -> dict[str, int]:
    """BENCH_CHUNK_ROWS (scratch experiments): detection's chunk size, else its default."""
    raw = os.environ.get("BENCH_CHUNK_ROWS")
    return {"chunk_rows": int(raw)} if raw else {}


def peak_mb() -> float:
    """This process's peak resident set. VmHWM on Linux: ru_maxrss keeps the parent's
    high-water mark across fork and exec, and the parent loaded the data."""
    found = vm_hwm_mb("/proc/self/status")
    if found is not None:
        return found
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()
