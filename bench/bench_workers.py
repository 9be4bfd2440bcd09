"""Benchmark of several workers on one monday account: the same work by 1 and by 3 `run`s.

A demo database of `--orders` orders (seeded) is copied twice. On the first copy one
`orders-sync run --customer A B C` process pushes three customers one after the other; on
the second, three `orders-sync run --customer X` processes, one per customer, start
together, as Kestra's ForEach starts them on its workers. Each setting gets a fresh
sandbox (in this process, on 127.0.0.1) with monday's Pro limits on a compressed clock
(a "minute" lasts `--window-seconds`), so the account's complexity budget, shared by every
connection, sets the pace. The workers coordinate only through what monday reports (the
budget left and its reset in each answer's `complexity`, `retry_in_seconds` on a refusal).

The budget-limited ideal is the complexity the sandbox charged for the work, in windows of
the budget: `charged / budget * window`. Prints exactly one JSON object on stdout:
both wall times, the ideal, their ratios, and checks (3 workers within 1.25x of the ideal
and not slower than 1 worker; every customer pushed; no item twice on the board).

    python bench/bench_workers.py [--orders 4000] [--window-seconds 4] [--repeat 1]
        [--customers A,B,C]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

from _common import COMPLEXITY_BUDGET, PRO_DAILY_REQUESTS, pro_sandbox_config, scratch_home

from orders_sync_gui.monday.sandbox import SandboxServer
from orders_sync_gui.monday.sandbox import server as sandbox_server
from orders_sync_gui.services.demo import demo_init

REPO = Path(__file__).resolve().parents[1]
TOKEN = "bench-workers-token"
MAX_WALL_TO_IDEAL = 1.25
DEFAULT_CUSTOMERS = ("RHONE", "VUORI", "TRAVISMATHEW")


def say(message: str) -> None:
    print(f"[bench_workers] {message}", file=sys.stderr, flush=True)


def write_settings(home: Path, window: float) -> None:
    """The workers' settings.json: monday's Pro limits on the sandbox's compressed clock."""
    limits = {
        "complexity_per_minute": COMPLEXITY_BUDGET,
        "requests_per_minute": 2_500,
        "daily_requests": PRO_DAILY_REQUESTS,
        "window_seconds": window,
    }
    section = {"limits": limits, "max_wait_seconds": 60 * window, "timeout_seconds": 30.0}
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "settings.json").write_text(json.dumps({"monday": section}), "utf-8")


class Timeline:
    """When each worker's requests reached the sandbox (workers told apart by their tokens,
    all of one account), and the start of every budget window."""

    def __init__(self, sandbox: SandboxServer) -> None:
        self.started = time.perf_counter()
        self.requests: list[tuple[float, str, int]] = []  # (seconds, token, HTTP status)
        self.windows: list[float] = []
        app = sandbox.app
        original, limits = app.handle_graphql, app.limits

        def handle(headers: Any, body: bytes, ip: str) -> Any:
            before = limits.complexity.start
            response = original(headers, body, ip)
            now = time.perf_counter() - self.started
            if limits.complexity.start is not None and limits.complexity.start != before:
                self.windows.append(now)
            self.requests.append((now, str(headers.get("Authorization")), response.status))
            return response

        app.handle_graphql = handle  # type: ignore[method-assign]

    def summary(self, tokens: list[str]) -> dict[str, Any]:
        per_worker = []
        for token in tokens:
            times = [t for t, tok, _ in self.requests if tok == token]
            per_worker.append(
                {
                    "first_request": round(min(times), 2) if times else None,
                    "last_request": round(max(times), 2) if times else None,
                    "requests": len(times),
                    "refused": sum(1 for _, tok, st in self.requests if tok == token and st != 200),
                }
            )
        return {"workers": per_worker, "window_starts": [round(w, 2) for w in self.windows]}


def worker_env(db: Path, sandbox: SandboxServer, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("ORDERS_SYNC_", "MONDAY_"))}
    env |= {
        "ORDERS_SYNC_DB_URL": f"sqlite:///{db}",
        "ORDERS_SYNC_MONDAY_URL": sandbox.url,
        "MONDAY_API_TOKEN": TOKEN,
        "ORDERS_SYNC_BOARD_ID": sandbox.board_id,
        "ORDERS_SYNC_HOME": str(home),
        "ORDERS_SYNC_OPERATOR": "kestra",
        "PYTHONPATH": os.pathsep.join(filter(None, [str(REPO), env.get("PYTHONPATH")])),
    }
    return env


def run_setting(
    name: str, template: Path, root: Path, groups: list[list[str]], window: float
) -> dict[str, Any]:
    """One `run` process per group of customers, all started at once; timed to the last."""
    db = root / f"{name}.db"
    shutil.copyfile(template, db)
    home = root / f"home-{name}"
    write_settings(home, window)
    # One token per worker, all of one account: one budget, and the timeline tells them apart.
    tokens = [f"{TOKEN}-{i}" for i in range(len(groups))]
    config = pro_sandbox_config(window, token=TOKEN, account_tokens=tuple(tokens))
    sandbox = SandboxServer(config).start()
    try:
        env = worker_env(db, sandbox, home)
        timeline = Timeline(sandbox)
        start = time.perf_counter()
        procs = [
            subprocess.Popen(
                [sys.executable, "-m", "orders_sync_gui.cli", "run", "--json", "--customer", *g],
                cwd=REPO,
                env={**env, "MONDAY_API_TOKEN": token},
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for g, token in zip(groups, tokens, strict=True)
        ]
        finished: list[float] = []
        outputs = []
        for proc in procs:
            out, err = proc.communicate(timeout=1800)
            finished.append(time.perf_counter() - start)
            outputs.append((proc.returncode, out, err))
        wall = time.perf_counter() - start
        stats = sandbox.stats()
        dump = sandbox.dump()
        charged = sandbox.app.limits.snapshot()["budget_used_total"]
    finally:
        sandbox.stop()
    reports = []
    for code, out, err in outputs:
        if code != 0:
            say(f"{name}: a worker exited {code}: {err.strip().splitlines()[-1:]}")
        reports.append(json.loads(out.strip().splitlines()[-1]))
    customers = [c for r in reports for c in r["customers"]]
    uuids = Counter(
        item["column_values"]["text_record_uuid"]["text"]
        for item in dump["items"]
        if item["state"] == "active"
    )
    return {
        "workers": len(groups),
        "wall_seconds": round(wall, 2),
        "worker_seconds": [round(s, 2) for s in finished],
        "run_seconds": [r["seconds"] for r in reports],
        "complexity_charged": charged,
        "requests": stats["requests"],
        "refused": {
            code: n
            for code, n in stats["errors"].items()
            if code in ("COMPLEXITY_BUDGET_EXHAUSTED", "RATE_LIMIT_EXCEEDED")
        },
        "mutations": sum(r["mutations"] for r in reports),
        "statuses": {c["customer"]: c["status"] for c in customers},
        "duplicates": sum(n - 1 for n in uuids.values() if n > 1),
        "items": sum(uuids.values()),
        "timeline": timeline.summary(tokens),
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=4_000, help="demo orders (4,000)")
    parser.add_argument("--seed", type=int, default=4755, help="demo data seed")
    parser.add_argument("--window-seconds", type=float, default=4.0, help="monday's 'minute'")
    parser.add_argument(
        "--repeat", type=int, default=1, help="runs of each setting, in turns; medians (1)"
    )
    parser.add_argument(
        "--customers",
        default=",".join(DEFAULT_CUSTOMERS),
        help="three customers of similar size (default: %(default)s)",
    )
    args = parser.parse_args(argv)
    if args.orders < 1 or args.window_seconds <= 0 or args.repeat < 1:
        parser.error("--orders and --repeat must be at least 1, --window-seconds > 0")
    return args


def sending(run: dict[str, Any]) -> float:
    """Seconds from the run's first request to its last (its workers' start-up left out)."""
    workers = run["timeline"]["workers"]
    first = min(w["first_request"] for w in workers if w["first_request"] is not None)
    return max(w["last_request"] for w in workers if w["last_request"] is not None) - first


def median(values: list[float]) -> float:
    return round(statistics.median(values), 2)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    customers = [c.strip() for c in args.customers.split(",") if c.strip()]
    window = args.window_seconds
    handler = sandbox_server._Handler
    saved = handler.disable_nagle_algorithm
    # As bench_push.py: the stand-in's 40 ms Nagle stall is not monday's.
    handler.disable_nagle_algorithm = True
    ones: list[dict[str, Any]] = []
    threes: list[dict[str, Any]] = []
    try:
        with scratch_home("bench-workers-") as root:
            template = root / "template.db"
            say(f"demo database: {args.orders:,} orders, seed {args.seed}")
            demo_init(f"sqlite:///{template}", orders=args.orders, seed=args.seed)
            # Taken in turns, so that the machine's other load falls on both alike.
            for i in range(args.repeat):
                ones.append(run_setting(f"one-{i}", template, root, [customers], window))
                say(f"1 worker: {ones[-1]['wall_seconds']} s")
                groups = [[c] for c in customers]
                threes.append(run_setting(f"three-{i}", template, root, groups, window))
                say(f"3 workers: {threes[-1]['wall_seconds']} s")
    finally:
        handler.disable_nagle_algorithm = saved
    one_wall = median([r["wall_seconds"] for r in ones])
    three_wall = median([r["wall_seconds"] for r in threes])
    ideal = ones[0]["complexity_charged"] / COMPLEXITY_BUDGET * window
    result: dict[str, Any] = {
        "benchmark": "workers",
        "orders": args.orders,
        "customers": customers,
        "window_seconds": window,
        "complexity_budget": COMPLEXITY_BUDGET,
        "repeat": args.repeat,
        "ideal_seconds": round(ideal, 2),
        "one_worker_seconds": one_wall,  # medians over the repeats
        "three_workers_seconds": three_wall,
        "one_worker_to_ideal": round(one_wall / ideal, 3),
        "three_workers_to_ideal": round(three_wall / ideal, 3),
        "three_to_one": round(three_wall / one_wall, 3),
        "three_to_one_sending": round(
            statistics.median([sending(r) for r in threes])
            / statistics.median([sending(r) for r in ones]),
            3,
        ),
        # From the first request to the last, start-up left out: the part the budget paces.
        "one_worker_sending_seconds": median([sending(r) for r in ones]),
        "three_workers_sending_seconds": median([sending(r) for r in threes]),
        "one_worker_runs": [r["wall_seconds"] for r in ones],
        "three_workers_runs": [r["wall_seconds"] for r in threes],
        "one_worker": ones[-1],
        "three_workers": threes[-1],
        "target": {"max_three_workers_to_ideal": MAX_WALL_TO_IDEAL, "max_three_to_one": 1.0},
    }
    runs = ones + threes
    second_window = [
        r["timeline"]["window_starts"][1] if len(r["timeline"]["window_starts"]) > 1 else 1e9
        for r in threes
    ]
    result["checks"] = {
        "every_customer_pushed": all(
            len(r["statuses"]) == len(customers)
            and all(s == "PUSHED" for s in r["statuses"].values())
            for r in runs
        ),
        "no_duplicates": all(r["duplicates"] == 0 for r in runs),
        # No worker starved: each of the three sent its first request in the first window.
        "no_worker_starved": all(
            all(
                w["first_request"] is not None and w["first_request"] < limit
                for w in r["timeline"]["workers"]
            )
            for r, limit in zip(threes, second_window, strict=True)
        ),
        "three_workers_within_ideal": result["three_workers_to_ideal"] <= MAX_WALL_TO_IDEAL,
        "three_not_slower_than_one": result["three_to_one"] <= 1.0,
    }
    result["meets_target"] = all(result["checks"].values())
    result["python"] = platform.python_version()
    result["machine"] = {"cpus": os.cpu_count(), "arch": platform.machine()}
    print(json.dumps(result))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
