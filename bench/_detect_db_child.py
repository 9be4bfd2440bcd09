"""One measured operation of bench_detect_db.py, in a process of its own.

    python bench/_detect_db_child.py detect|preview|stage URL CUSTOMER

The orders_sync_gui imported is whichever PYTHONPATH names first: this branch's, or the
baseline's worktree. Prints one JSON object: seconds of the operation (opening the store
is not timed) and the process's peak resident set (VmHWM) at its end. Uses only calls
that both versions have.
"""

from __future__ import annotations

import json
import resource
import sys
import time

from orders_sync_gui.services import detection, staging
from orders_sync_gui.services.context import open_context


def main() -> None:
    op, url, customer = sys.argv[1:4]
    ctx = open_context(url)
    try:
        ctx.store.source()  # the reflection, as the window has it done before a count
        start = time.perf_counter()
        if op == "detect":
            counts, errors = detection.detect_counts(ctx)
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
        if op == "stage":
            staging.rollback(ctx, batch.batch_id)  # not timed: the next run stages again
    finally:
        ctx.close()
    print(json.dumps({"seconds": seconds, "peak_mb": peak_mb(), **detail}))


def peak_mb() -> float:
    """This process's peak resident set. VmHWM on Linux: ru_maxrss keeps the parent's
    high-water mark across fork and exec, and the parent loaded the data."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024
    except OSError:
        pass
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


if __name__ == "__main__":
    main()
