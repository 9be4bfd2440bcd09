"""End-to-end benchmark of detection against a real database, this branch vs main as it was.

    python bench/bench_detect_db.py --rows 100000 --db sqlite|postgresql \
        [--baseline-rows M] [--customer TRAVISMATHEW] [--seed 4755] [--no-baseline]

Loads `--rows` demo orders into a fresh database (SQLite file, or a database on a throwaway
PostgreSQL server like the test suite's), records them all as pushed but those of
`--customer` (a customer being taken on: all its orders NEW), as a push leaves the sync
state (with the database's own row hash where it computes one), then changes 0.5% of the
orders, deletes 0.1% and adds 0.1%, as a day's loads do. None of that is timed. Then, each in a
child process of its own (its peak resident set is that process's ru_maxrss):

- detect: every customer's NEW/CHANGED/DELETED/UNCHANGED/INVALID counts (read, hash, count);
- preview: one customer's change set with field diffs (`--customer`);
- stage: the same customer's change set staged as one batch (rolled back after, untimed).

The baseline is the same three operations by the code main had before this work
(BASELINE_COMMIT, checked out into a temporary git worktree and put first on the child's
PYTHONPATH) on a database of `--baseline-rows` orders loaded the same way (default: the
same number). Exactly one JSON object goes to stdout; progress to stderr.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

from sqlalchemy import MetaData, Table, create_engine, select

from orders_sync_gui.core.columns import RECORD_HASH
from orders_sync_gui.core.records import SourceSpec, hash_frame, records_of
from orders_sync_gui.services.context import open_context
from orders_sync_gui.settings import load_customer_map, load_mapping
from orders_sync_gui.store import dbhash
from orders_sync_gui.store.demo import demo_chunks, load_orders, mutate_orders
from orders_sync_gui.store.schema import sync_state as app_sync_state
from orders_sync_gui.store.source import reflect_source, source_columns, stream_frames
from orders_sync_gui.store.syncstate import record_json

REPO = Path(__file__).resolve().parent.parent
# main as it was when this work began: "today's code path" of issue 16.
BASELINE_COMMIT = "6cc22e2"
CHILD = Path(__file__).resolve().parent / "_detect_db_child.py"
OPS = ("detect", "preview", "stage")


def log(message: str) -> None:
    print(f"[bench_detect_db] {message}", file=sys.stderr, flush=True)


@contextmanager
def baseline_tree() -> Iterator[Path]:
    """BASELINE_COMMIT checked out (detached) in a temporary worktree, removed after."""
    path = Path(tempfile.mkdtemp(prefix="orders-sync-baseline-"))
    subprocess.run(
        ["git", "-C", str(REPO), "worktree", "add", "--detach", str(path), BASELINE_COMMIT],
        check=True,
        capture_output=True,
    )
    try:
        yield path
    finally:
        subprocess.run(
            ["git", "-C", str(REPO), "worktree", "remove", "--force", str(path)],
            check=False,
            capture_output=True,
        )


@contextmanager
def postgres() -> Iterator[Any]:
    sys.path.insert(0, str(REPO))
    from tests.pg_server import PostgresServer, find_pg_bin

    bin_dir = find_pg_bin()
    if bin_dir is None:
        raise SystemExit("no PostgreSQL binaries (initdb, pg_ctl): apt-get install postgresql")
    server = PostgresServer(bin_dir)
    server.start()
    try:
        yield server
    finally:
        server.stop()


def _bulk(conn: Any, table: Table, rows: list[dict[str, Any]]) -> None:
    """Rows into an app table at bulk speed: COPY on PostgreSQL, executemany elsewhere,
    each value through the app's column type's bind processing (as the app would store
    it: a reflected CHAR(32) would keep a uuid's dashes, that the app's Uuid drops)."""
    if not rows:
        return
    dialect = conn.dialect
    names = list(rows[0])
    typed = [app_sync_state.c[n] if n in app_sync_state.c else table.c[n] for n in names]
    procs = [c.type._cached_bind_processor(dialect) for c in typed]
    values = [
        tuple(v if p is None or v is None else p(v) for v, p in zip(r.values(), procs, strict=True))
        for r in rows
    ]
    quoted = ", ".join(dialect.identifier_preparer.quote(n) for n in names)
    cursor = conn.connection.dbapi_connection.cursor()
    try:
        if dialect.name == "postgresql":
            with cursor.copy(f'COPY "{table.name}" ({quoted}) FROM STDIN') as copy:
                for row in values:
                    copy.write_row(row)
        else:
            marks = ", ".join("?" for _ in names)
            cursor.executemany(f'INSERT INTO "{table.name}" ({quoted}) VALUES ({marks})', values)
    finally:
        cursor.close()


def seed_state(url: str, *, with_db_hash: bool, skip: str) -> int:
    """Record every order as pushed now, but those of the customer `skip` (being taken on:
    all its orders are NEW, so its preview and stage carry every one of them): what a push
    leaves in the sync state (the database's row hash beside ours where the branch keeps
    it). Through a bare engine: a Store of this branch would upgrade the baseline's."""
    engine = create_engine(url)
    try:
        info = reflect_source(engine)
        mapping = load_mapping()
        spec = SourceSpec(mapping.sources, info.kinds, info.sizes, load_customer_map())
        state = Table("MON_SyncState", MetaData(), autoload_with=engine)
        names = [*mapping.sources, *info.sizes]
        if with_db_hash and "db_hash" in state.c:
            names.append(RECORD_HASH)
        now = datetime(2026, 11, 1, 9, 0)
        total = 0
        with engine.connect() as read, engine.begin() as write:
            stmt = select(*source_columns(info, names))
            for frame in stream_frames(read, stmt, chunk_rows=20_000):
                hashed = hash_frame(frame, spec)
                db_hashes = frame[RECORD_HASH].tolist() if RECORD_HASH in frame else None
                rows = []
                for i, rec in zip(hashed.valid_rows(), records_of(hashed, spec), strict=True):
                    if rec.customer == skip:
                        continue
                    row = {
                        "record_uuid": rec.record_uuid,
                        "customer": rec.customer,
                        "source_hash": rec.hash,
                        "pushed_values": record_json(rec),
                        "monday_item_id": str(10_000_000 + total + len(rows)),
                        "monday_subitem_ids": "{}",
                        "last_batch_id": 1,
                        "synced_at": now,
                    }
                    if db_hashes is not None:
                        row["db_hash"] = dbhash.as_bytes(db_hashes[i])
                    rows.append(row)
                _bulk(write, state, rows)
                total += len(rows)
        return total
    finally:
        engine.dispose()


def prepare(
    url: str, rows: int, seed: int, customer: str, *, branch: bool, baseline: Path | None
) -> None:
    """The database at url: rows demo orders, all pushed but `customer`'s, then a day's
    changes."""
    started = time.perf_counter()
    engine = create_engine(url)
    load_orders(engine, demo_chunks(rows, seed), replace=True)
    engine.dispose()
    if branch:
        ctx = open_context(url)  # this branch's tables (and in-database hash, where it can)
        dbhash.install(ctx.store.engine, ctx.store.source(), ctx.mapping)
        ctx.close()
    else:
        assert baseline is not None
        # The baseline's own app makes its tables (its schema version, its columns).
        code = "from orders_sync_gui.services.context import open_context as o; o(%r).close()"
        env = {**os.environ, "PYTHONPATH": str(baseline)}
        # cwd too: `python -c` puts the working folder first on sys.path.
        subprocess.run([sys.executable, "-c", code % url], check=True, env=env, cwd=baseline)
    seeded = seed_state(url, with_db_hash=branch, skip=customer)
    engine = create_engine(url)
    day = max(1, rows // 200)  # 0.5% changed, 0.1% deleted, 0.1% added
    mutate_orders(engine, changed=day, deleted=day // 5 or 1, added=day // 5 or 1, seed=seed)
    engine.dispose()
    log(f"prepared {rows:,} orders ({seeded:,} pushed) in {time.perf_counter() - started:.0f} s")


def run_op(op: str, url: str, customer: str, pythonpath: Path) -> dict[str, Any]:
    env = {**os.environ, "PYTHONPATH": str(pythonpath)}
    done = subprocess.run(
        [sys.executable, str(CHILD), op, url, customer],
        env=env,
        capture_output=True,
        text=True,
        cwd=pythonpath,
    )
    if done.returncode != 0:
        raise SystemExit(f"{op} failed ({pythonpath}):\n{done.stderr[-3000:]}")
    result = json.loads(done.stdout.strip().splitlines()[-1])
    log(f"{pythonpath.name} {op}: {result}")
    return result


def measure(url: str, customer: str, pythonpath: Path, rows: int) -> dict[str, Any]:
    out: dict[str, Any] = {"rows": rows}
    for op in OPS:
        result = run_op(op, url, customer, pythonpath)
        out[f"{op}_seconds"] = round(result["seconds"], 3)
        out[f"{op}_peak_mb"] = round(result["peak_mb"], 1)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--baseline-rows", type=int, default=None)
    parser.add_argument("--customer", default="TRAVISMATHEW")
    parser.add_argument("--seed", type=int, default=4755)
    parser.add_argument("--no-baseline", action="store_true")
    args = parser.parse_args()
    base_rows = args.baseline_rows or args.rows
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-detect-db-")))
        os.environ["ORDERS_SYNC_HOME"] = str(tmp / "home")
        os.environ["ORDERS_SYNC_OPERATOR"] = "bench"
        os.environ.pop("ORDERS_SYNC_DB_URL", None)
        if args.db == "postgresql":
            server = stack.enter_context(postgres())
            url, base_url = server.create_database(), server.create_database()
        else:
            url, base_url = f"sqlite:///{tmp / 'branch.db'}", f"sqlite:///{tmp / 'baseline.db'}"
        prepare(url, args.rows, args.seed, args.customer, branch=True, baseline=None)
        measured = measure(url, args.customer, REPO, args.rows)
        result: dict[str, Any] = {"rows": measured.pop("rows"), "db": args.db, **measured}
        if not args.no_baseline:
            tree = stack.enter_context(baseline_tree())
            prepare(base_url, base_rows, args.seed, args.customer, branch=False, baseline=tree)
            base = measure(base_url, args.customer, tree, base_rows)
            result["baseline"] = base
            # Per row, so that a smaller baseline still compares (it scales about linearly).
            per_row = result["detect_seconds"] / args.rows
            result["speedup"] = round(base["detect_seconds"] / base_rows / per_row, 2)
            result["memory_ratio"] = round(base["detect_peak_mb"] / result["detect_peak_mb"], 2)
        log(f"customer {args.customer}; {os.cpu_count()} cores, load {os.getloadavg()}")
    print(json.dumps(result))


if __name__ == "__main__":
    main()
