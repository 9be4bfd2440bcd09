"""What the benchmarks share: monday.com's documented limits (a Pro account, personal
token), a sandbox with those limits on a compressed clock, and a throwaway home folder.

The benchmarks run as scripts (`python bench/bench_push.py`), so this folder is on
sys.path and they import this module as `_common`.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from orders_sync_gui.monday.sandbox import SandboxConfig

COMPLEXITY_BUDGET = 10_000_000  # points per minute
MAX_COMPLEXITY_PER_REQUEST = 5_000_000
PRO_REQUESTS_PER_MINUTE = 2_500
MUTATIONS_PER_MINUTE = 2_000  # besides the budget, every plan (rate-limits page)
PRO_CONCURRENCY = 100
PRO_DAILY_REQUESTS = 10_000
IP_REQUESTS = 5_000  # per 10 seconds
MINUTE = 60.0


def pro_sandbox_config(window: float, **extra: Any) -> SandboxConfig:
    """monday's Pro limits, every window compressed by the same factor (a "minute" lasts
    `window` seconds, a day 1,440 of them, its days starting on multiples of that length
    since the epoch as monday's start at 00:00 UTC); `extra` sets the other SandboxConfig
    fields. Reads are priced by the sandbox's documented model (nested subitems weighted),
    mutations capped at 2,000 a "minute", refused calls weigh 0.1 of a daily call."""
    scale = window / MINUTE
    return SandboxConfig(
        window_seconds=window,
        complexity_budget=COMPLEXITY_BUDGET,
        max_complexity_per_query=MAX_COMPLEXITY_PER_REQUEST,
        requests_per_minute=PRO_REQUESTS_PER_MINUTE,
        mutations_per_minute=MUTATIONS_PER_MINUTE,
        max_concurrency=PRO_CONCURRENCY,
        daily_limit=PRO_DAILY_REQUESTS,
        daily_window_seconds=86_400.0 * scale,
        ip_limit=IP_REQUESTS,
        ip_window_seconds=10.0 * scale,
        state_save_interval=0.0,
        **extra,
    )


@contextmanager
def scratch_home(prefix: str) -> Iterator[Path]:
    """A temporary folder whose home/ is ORDERS_SYNC_HOME (settings, logs, keyring-free),
    the operator named "bench", no database URL from the caller's environment; all
    restored after."""
    keys = ("ORDERS_SYNC_HOME", "ORDERS_SYNC_OPERATOR", "ORDERS_SYNC_DB_URL")
    saved = {k: os.environ.get(k) for k in keys}
    with tempfile.TemporaryDirectory(prefix=prefix) as tmp:
        root = Path(tmp)
        os.environ["ORDERS_SYNC_HOME"] = str(root / "home")
        os.environ["ORDERS_SYNC_OPERATOR"] = "bench"
        os.environ.pop("ORDERS_SYNC_DB_URL", None)
        try:
            yield root
        finally:
            for key, value in saved.items():
                if value is None:
                    os.environ.pop(key, None)
                else:
                    os.environ[key] = value
