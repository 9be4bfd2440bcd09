"""Benchmark of change detection's hot path: canonical SHA-256 hashing of wide order rows.

Times `hash_frame` (the vectorised row hashing of Method 2) over a full-width demo frame of
ORDERS_UNIFIED, against the naive row-wise `DataFrame.apply` a first script would write, on
the same frame in the same run; also times the full Method 2 count (hash + compare with a
sync state). Prints exactly one JSON object on stdout; progress goes to stderr.

    python bench/bench_detect.py [--rows N] [--seed S] [--repeat R] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import hashlib
import io
import json
import os
import platform
import pstats
import sys
import time
from collections.abc import Callable
from typing import Any, TypeVar

import numpy as np
import pandas as pd

from orders_sync_gui.core.columns import COLOUR, DEMO_COLUMNS, RECORD_UUID, SIZE_NAMES
from orders_sync_gui.core.detect import count_by_customer
from orders_sync_gui.core.models import CustomerCounts
from orders_sync_gui.core.records import HashedFrame, SourceSpec, hash_frame
from orders_sync_gui.settings import load_customer_map, load_mapping
from orders_sync_gui.store.demo import DEFAULT_SEED, generate_orders

T = TypeVar("T")

MIN_SPEEDUP = 10
MAX_SECONDS_FOR_100K = 3.0
MIN_BASELINE_ROWS = 10_000

Triple = tuple[str, str, str]


def log(message: str) -> None:
    print(f"[bench_detect] {message}", file=sys.stderr, flush=True)


def best_of(repeat: int, label: str, func: Callable[[], T]) -> tuple[float, T]:
    """The fastest of `repeat` timed calls (time.perf_counter), and the last result."""
    best = float("inf")
    result: T | None = None
    for i in range(repeat):
        start = time.perf_counter()
        result = func()
        elapsed = time.perf_counter() - start
        best = min(best, elapsed)
        log(f"{label}: run {i + 1}/{repeat} {elapsed:.3f} s")
    assert result is not None
    return best, result


def build_spec() -> SourceSpec:
    return SourceSpec(
        mapped=load_mapping().sources,
        kinds={c.name: c.kind for c in DEMO_COLUMNS},
        sizes=list(SIZE_NAMES),
        customers=load_customer_map(),
    )


def hashed_columns(spec: SourceSpec) -> list[str]:
    """The columns a row hash covers: mapped columns, then sizes (no duplicates)."""
    return list(dict.fromkeys([*spec.mapped, *spec.sizes]))


def naive_hashes(frame: pd.DataFrame, cols: list[str]) -> pd.Series:
    """The way a first script would do it: one Python call per row, str() of each cell."""
    return frame.apply(
        lambda row: hashlib.sha256("|".join(str(v) for v in row[cols]).encode("utf-8")).hexdigest(),
        axis=1,
    )


def triples(hashed: HashedFrame) -> list[Triple]:
    """(uuid, customer, hash) of the valid rows, as detection feeds count_by_customer."""
    return [
        (u, c, h)
        for u, c, h in zip(hashed.uuids, hashed.customers, hashed.hashes, strict=True)
        if u is not None and c is not None and h is not None
    ]


def as_source_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as store.source.read_rows hands it over: every column object, NULL None."""
    return frame.astype(object).where(frame.notna(), None)


def make_state(frame: pd.DataFrame, spec: SourceSpec, seed: int) -> list[Triple]:
    """A sync state as if the frame had been pushed once and a few percent changed since.

    About 2% of rows get another colour and 1% another size quantity (CHANGED), 1% are
    missing from the state (NEW), and 1% of state rows no longer exist in the source
    (DELETED).
    """
    rng = np.random.default_rng(seed + 1)
    n = len(frame)
    old = frame.copy()
    picks = rng.permutation(n)
    recolour = picks[: n // 50]
    resize = picks[n // 50 : n // 50 + n // 100]
    colour_pos = old.columns.get_loc(COLOUR)
    old.iloc[recolour, colour_pos] = "OLD COLOUR"
    for r in resize:
        row = old.iloc[int(r)]
        present = [s for s in spec.sizes if pd.notna(row[s]) and row[s] != 0]
        size = present[0] if present else "M"
        pos = old.columns.get_loc(size)
        current = old.iat[int(r), pos]
        old.iat[int(r), pos] = (0.0 if pd.isna(current) else float(current)) + 6.0
    state = triples(hash_frame(old, spec, with_sizes=False))
    missing = set(old[RECORD_UUID].iloc[picks[-(n // 100) :]].tolist())
    state = [t for t in state if t[0] not in missing]
    deleted_base = len(state)
    state += [
        (f"00000000-0000-4000-8000-{i:012d}", state[i % deleted_base][1], "0" * 64)
        for i in range(n // 100)
    ]
    return state


def detect_counts(
    frame: pd.DataFrame, spec: SourceSpec, state: list[Triple]
) -> dict[str, CustomerCounts]:
    """The Method 2 path of detection: hash the source, then count against the state."""
    hashed = hash_frame(frame, spec, with_sizes=False)
    return count_by_customer(triples(hashed), state)


def profile_once(frame: pd.DataFrame, spec: SourceSpec, top: int = 15) -> None:
    profiler = cProfile.Profile()
    profiler.enable()
    hash_frame(frame, spec, with_sizes=False)
    profiler.disable()
    out = io.StringIO()
    pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(top)
    print(out.getvalue(), file=sys.stderr, flush=True)


def blas_info() -> dict[str, Any]:
    """BLAS kernel and the OpenBLAS variables that can slow numpy (see the env notes)."""
    info: dict[str, Any] = {
        k: os.environ[k] for k in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if k in os.environ
    }
    try:
        from threadpoolctl import threadpool_info

        info["threadpools"] = [
            {k: p.get(k) for k in ("internal_api", "architecture", "num_threads")}
            for p in threadpool_info()
        ]
    except ImportError:
        pass
    return info


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000, help="rows to hash (100,000)")
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="demo data seed")
    parser.add_argument("--repeat", type=int, default=3, help="runs per timing; best is kept")
    parser.add_argument(
        "--baseline-rows",
        type=int,
        default=20_000,
        help="rows for the naive baseline (at most --rows, at least 10,000 when possible)",
    )
    parser.add_argument(
        "--frame",
        choices=("object", "native"),
        default="native",
        help="native: generate_orders' own dtypes (float64 sizes, str, datetime64); "
        "object: columns as store.source.read_rows delivers them (dtype=object, NULL None)",
    )
    parser.add_argument(
        "--profile", action="store_true", help="cProfile one hash_frame run (top 15 to stderr)"
    )
    args = parser.parse_args(argv)
    if args.rows < 1 or args.repeat < 1:
        parser.error("--rows and --repeat must be at least 1")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    spec = build_spec()
    cols = hashed_columns(spec)

    log(f"generating {args.rows:,} rows (seed {args.seed}) ...")
    start = time.perf_counter()
    frame = generate_orders(args.rows, seed=args.seed)
    if args.frame == "object":
        frame = as_source_rows(frame)
    log(f"generated {frame.shape[0]:,} x {frame.shape[1]} in {time.perf_counter() - start:.1f} s")
    state = make_state(frame, spec, args.seed)
    log(f"sync state of {len(state):,} rows made")

    seconds, hashed = best_of(
        args.repeat, "hash_frame", lambda: hash_frame(frame, spec, with_sizes=False)
    )
    if hashed.errors:
        log(f"warning: {len(hashed.errors)} rows failed validation: {hashed.errors[0]}")
    counts_seconds, counts = best_of(
        args.repeat, "detect counts", lambda: detect_counts(frame, spec, state)
    )
    totals = {
        kind: sum(getattr(c, kind) for c in counts.values())
        for kind in ("new", "changed", "deleted", "unchanged")
    }
    log(f"method 2 counts: {totals}")

    n_base = min(args.rows, max(args.baseline_rows, MIN_BASELINE_ROWS))
    base_frame = frame.iloc[:n_base]
    log(f"naive baseline on {n_base:,} rows ...")
    base_seconds, _ = best_of(args.repeat, "naive apply", lambda: naive_hashes(base_frame, cols))

    if args.profile:
        profile_once(frame, spec)

    rate = args.rows / seconds
    base_rate = n_base / base_seconds
    speedup = rate / base_rate
    # The seconds target is for 100k rows: scale linearly when another size is asked for.
    seconds_100k = seconds * 100_000 / args.rows
    result = {
        "benchmark": "detect_hash",
        "rows": args.rows,
        "columns": frame.shape[1],
        "hashed_columns": len(cols),
        "seconds": round(seconds, 4),
        "rows_per_second": round(rate, 1),
        "detect_counts_seconds": round(counts_seconds, 4),
        "detect_counts": totals,
        "baseline": {
            "name": "naive_rowwise_apply",
            "rows": n_base,
            "seconds": round(base_seconds, 4),
            "rows_per_second": round(base_rate, 1),
        },
        "speedup": round(speedup, 2),
        "target": {"min_speedup": MIN_SPEEDUP, "max_seconds_for_100k": MAX_SECONDS_FOR_100K},
        "meets_target": bool(speedup >= MIN_SPEEDUP and seconds_100k < MAX_SECONDS_FOR_100K),
        "frame": args.frame,
        "repeat": args.repeat,
        "seed": args.seed,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "pandas": pd.__version__,
        "machine": {
            "cpus": os.cpu_count(),
            "arch": platform.machine(),
            "system": platform.system(),
            "blas": blas_info(),
        },
    }
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
