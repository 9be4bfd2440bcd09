"""Benchmark of the push: batched aliased mutations against monday's limits on a compressed clock.

Loads the demo's first N orders (default 1,000, ~4 sizes each, so ~5,000 monday objects) into
a fresh SQLite database, stages every customer (one batch per customer) and pushes every
batch through `services.push.push` to the in-process sandbox on 127.0.0.1, whose "minute"
lasts `--window-seconds`. The complexity budget (10M points per window, a Pro personal
token's) is exceeded several times over, so the budget, not latency, should set the pace.
Every request is named by the query it carries, so what looking before creating costs (the
record_uuid lookups, their further pages, subitem reads, groups read again) is counted
apart: requests, complexity, time, and their shares of the push's.
The baseline is the same push with one mutation per request
(`Limits(max_mutations_per_request=1)`), on a fresh database and a fresh sandbox with the
same data, in the same run. Prints exactly one JSON object on stdout; progress on stderr.

    python bench/bench_push.py [--orders 1000] [--window-seconds S] [--seed S] [--profile]
"""

from __future__ import annotations

import argparse
import cProfile
import inspect
import io
import json
import logging
import math
import os
import platform
import pstats
import re
import sys
import time
from collections import Counter
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, fields
from functools import lru_cache
from typing import Any

import pandas as pd
from _common import (
    COMPLEXITY_BUDGET,
    MAX_COMPLEXITY_PER_REQUEST,
    PRO_DAILY_REQUESTS,
    PRO_REQUESTS_PER_MINUTE,
    pro_sandbox_config,
    scratch_home,
)
from graphql import DocumentNode, parse

from orders_sync_gui.core.models import BatchStatus
from orders_sync_gui.monday import board as monday_board
from orders_sync_gui.monday.client import MondayClient
from orders_sync_gui.monday.sandbox import SandboxConfig, SandboxServer
from orders_sync_gui.monday.sandbox import server as sandbox_server
from orders_sync_gui.monday.sandbox.complexity import query_cost
from orders_sync_gui.services import detection, staging
from orders_sync_gui.services.context import Context
from orders_sync_gui.services.monday_setup import Limits, MondaySetup, monday_setup
from orders_sync_gui.services.push import Progress, PushReport, push
from orders_sync_gui.services.staging import NothingToStageError
from orders_sync_gui.settings import load_customer_map, load_mapping
from orders_sync_gui.store.database import Store
from orders_sync_gui.store.demo import DEFAULT_ORDERS, DEFAULT_SEED, generate_orders, load_orders
from orders_sync_gui.store.staging import BatchInfo

MAX_REQUESTS_PER_MUTATION = 0.05
MAX_WALL_TO_IDEAL = 1.25
# Issue 11: looking before creating (the lookups below) keeps the push within 1.1x of the
# budget-limited ideal, the lookups' own complexity counted in the ideal.
MAX_WALL_TO_IDEAL_WITH_LOOKUPS = 1.1

CLIENT_LOGGER = "orders_sync_gui.monday.client"
RATE_CODES = ("RATE_LIMIT_EXCEEDED", "IP_RATE_LIMIT_EXCEEDED", "maxConcurrencyExceeded")

# Every request the push sends, named by the query it carries (monday/board.py's documents;
# the aliased mutation chunks of monday/operations.py are "mutation_chunk").
QUERY_KINDS = {
    monday_board.BOARD_QUERY: "board",
    monday_board.SUBITEM_BOARD_QUERY: "subitems_board",
    monday_board.GROUPS_QUERY: "groups",
    monday_board.ROOM_QUERY: "board_room",
    monday_board.LOOKUP_QUERY: "items_page_by_column_values",
    monday_board.NEXT_LOOKUP_QUERY: "next_items_page",
    monday_board.SUBITEMS_QUERY: "items_subitems",
    monday_board.GROUP_MUTATION: "create_group",
}
# Looking before creating: the record_uuid lookups and their further pages, the subitem
# reads of items this run did not create, and the groups read again before a create_group
# (with the board's room, once per push: the capacity check).
LOOKUP_KINDS = (
    "items_page_by_column_values",
    "next_items_page",
    "items_subitems",
    "groups",
    "board_room",
)
LOOKUP_CHUNK = inspect.signature(monday_board.find_items).parameters["chunk"].default
_ROOT_FIELD = re.compile(r"\{\s*(\w+)")


def query_kind(query: str, mutation: bool) -> str:
    kind = QUERY_KINDS.get(query)
    if kind is not None:
        return kind
    if mutation:
        return "mutation_chunk"
    root = _ROOT_FIELD.search(query)
    return f"other:{root.group(1) if root else '?'}"


@lru_cache(maxsize=256)
def _document(query: str) -> DocumentNode:
    return parse(query)


def say(message: str) -> None:
    print(f"[bench_push] {message}", file=sys.stderr, flush=True)


# --- observation (read-only: the push service runs unchanged) ------------------------------


@dataclass(slots=True)
class Call:
    """One `client.execute` (a GraphQL request and its retries): what it carried, how long
    it took, and each HTTP attempt as (status, charged by the sandbox, seconds)."""

    kind: str
    query: str
    variables: dict[str, Any] | None
    seconds: float = 0.0
    attempts: list[tuple[int, bool, float]] = field(default_factory=list)


@dataclass
class Observed:
    """What the clients of one run saw: HTTP round trips, waits, chunk sizes per phase, and
    every request by the query it carried."""

    clients: list[MondayClient] = field(default_factory=list)
    http_seconds: float = 0.0
    http_calls: int = 0
    chunks: dict[str, list[int]] = field(default_factory=dict)
    calls: list[Call] = field(default_factory=list)

    def by_query(self, config: SandboxConfig) -> dict[str, dict[str, Any]]:
        """Per kind of request: calls, HTTP requests, refused ones, the complexity the
        sandbox charged (its own cost model applied to each request it ran: /_sandbox/stats
        has the total only), time in client.execute and in the round trips."""
        out: dict[str, dict[str, Any]] = {}
        for call in self.calls:
            row = out.setdefault(
                call.kind,
                {
                    "calls": 0,
                    "requests": 0,
                    "refused": 0,
                    "complexity": 0,
                    "seconds": 0.0,
                    "http_seconds": 0.0,
                },
            )
            row["calls"] += 1
            row["seconds"] += call.seconds
            for _status, charged, seconds in call.attempts:
                row["requests"] += 1
                row["http_seconds"] += seconds
                if charged:
                    row["complexity"] += query_cost(
                        _document(call.query), None, call.variables, config
                    )
                else:
                    row["refused"] += 1
        for row in out.values():
            row["seconds"] = round(row["seconds"], 3)
            row["http_seconds"] = round(row["http_seconds"], 3)
            charged = row["requests"] - row["refused"]
            row["complexity_per_request"] = round(row["complexity"] / charged) if charged else 0
        return dict(sorted(out.items()))

    def progress(self) -> Callable[[Progress], None]:
        """A callback for one batch's push: each call reports one response's results."""
        last = 0

        def on_progress(p: Progress) -> None:
            nonlocal last
            key = "items" if p.phase == "push-items" else "subitems"
            self.chunks.setdefault(key, []).append(p.done - last)
            last = p.done

        return on_progress

    def waited_seconds(self) -> float:
        return sum(c.stats.waited_seconds for c in self.clients)

    def retries(self) -> int:
        return sum(c.stats.retries for c in self.clients)

    def by_reason(self) -> dict[str, int]:
        total: Counter[str] = Counter()
        for c in self.clients:
            total.update(c.stats.by_reason)
        return dict(total)


class PacingWatch(logging.Handler):
    """Reads the client's pacing and retry log lines, and the sandbox's true time to reset.

    `overshoot` is how much longer each pacing sleep was than the budget window really had
    left (the sandbox reports reset_in_x_seconds in whole seconds, as monday does).
    """

    def __init__(self, sandbox: SandboxServer) -> None:
        super().__init__(logging.INFO)
        self.sandbox = sandbox
        self.pacing: list[tuple[float, float]] = []  # (slept, window really had left)
        self.retry_waits: dict[str, float] = {}

    def emit(self, record: logging.LogRecord) -> None:
        args = record.args if isinstance(record.args, tuple) else ()
        if record.msg.startswith("pacing:") and args:
            # "pacing: ... waiting %.1f s for it": the wait is the last argument
            left = self.sandbox.app.limits.snapshot()["budget_reset_in_seconds"]
            self.pacing.append((float(args[-1]), float(left)))
        elif record.msg.startswith("monday.com: %s; retry") and len(args) == 4:
            reason = str(args[0])
            self.retry_waits[reason] = self.retry_waits.get(reason, 0.0) + float(args[3])

    @contextmanager
    def watching(self) -> Iterator[PacingWatch]:
        logger = logging.getLogger(CLIENT_LOGGER)
        level, propagate = logger.level, logger.propagate
        logger.setLevel(logging.INFO)
        logger.propagate = False  # counted here, not printed
        logger.addHandler(self)
        try:
            yield self
        finally:
            logger.removeHandler(self)
            logger.setLevel(level)
            logger.propagate = propagate

    def summary(self) -> dict[str, Any]:
        slept = sum(w for w, _ in self.pacing)
        needed = sum(min(w, left) for w, left in self.pacing)
        return {
            "waits": len(self.pacing),
            "seconds": round(slept, 3),
            "needed_seconds": round(needed, 3),
            "overshoot_seconds": round(slept - needed, 3),
            "retry_wait_seconds": {k: round(v, 3) for k, v in self.retry_waits.items()},
        }


class ObservedSetup(MondaySetup):
    """MondaySetup whose clients are kept (for their stats), whose requests are named by the
    query they carry and timed, and whose POSTs are timed."""

    observed: Observed

    def client(self) -> MondayClient:
        client = MondaySetup.client(self)
        session = client._session  # timing only: the request is unchanged
        post = session.post
        execute = client.execute
        observed = self.observed
        current: list[Call] = []

        def timed_post(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            status, charged = 0, False
            try:
                response = post(*args, **kwargs)
                status = response.status_code
                # The sandbox charges the complexity of what it ran, and only then answers
                # 200 with "data" first (json_response keeps the payload's key order).
                charged = status == 200 and response.content.startswith(b'{"data":')
                return response
            finally:
                seconds = time.perf_counter() - start
                observed.http_seconds += seconds
                observed.http_calls += 1
                if current:
                    current[-1].attempts.append((status, charged, seconds))

        def named_execute(query: str, variables: dict[str, Any] | None = None, **kw: Any) -> Any:
            call = Call(query_kind(query, bool(kw.get("mutation"))), query, variables)
            observed.calls.append(call)
            current.append(call)
            start = time.perf_counter()
            try:
                return execute(query, variables, **kw)
            finally:
                call.seconds = time.perf_counter() - start
                current.pop()

        session.post = timed_post  # type: ignore[method-assign]
        client.execute = named_execute  # type: ignore[method-assign]
        observed.clients.append(client)
        return client


def observed_setup(base: MondaySetup, observed: Observed) -> ObservedSetup:
    setup = ObservedSetup(**{f.name: getattr(base, f.name) for f in fields(base)})
    setup.observed = observed
    return setup


# --- one run ------------------------------------------------------------------------------


def client_limits(window: float, per_request: int) -> Limits:
    return Limits(
        complexity_per_minute=COMPLEXITY_BUDGET,
        max_complexity_per_request=MAX_COMPLEXITY_PER_REQUEST,
        requests_per_minute=PRO_REQUESTS_PER_MINUTE,
        daily_requests=PRO_DAILY_REQUESTS,
        max_mutations_per_request=per_request,
        window_seconds=window,
    )


def stage_all(ctx: Context) -> list[BatchInfo]:
    batches = []
    for customer in detection.list_customers(ctx):
        try:
            batches.append(staging.stage(ctx, customer))
        except NothingToStageError as exc:
            say(f"  {exc}")
    return batches


def summary(sizes: list[int]) -> dict[str, Any]:
    if not sizes:
        return {"requests": 0}
    return {
        "requests": len(sizes),
        "mutations": sum(sizes),
        "mean": round(sum(sizes) / len(sizes), 2),
        "full": sum(1 for s in sizes if s == max(sizes)),
        "max": max(sizes),
        "min": min(sizes),
    }


@dataclass
class PushRun:
    """One push of every staged batch: the reports and what was observed meanwhile."""

    reports: list[PushReport]
    wall: float
    stats: dict[str, Any]
    observed: Observed
    pacing: dict[str, Any]
    by_query: dict[str, dict[str, Any]]


def push_all(
    ctx: Context,
    batches: list[BatchInfo],
    sandbox: SandboxServer,
    limits: Limits,
    name: str,
    profile: bool,
) -> PushRun:
    """Push every batch, one after the other, as an operator (or a scheduled run) would."""
    base = monday_setup(
        ctx, url=sandbox.url, token=sandbox.config.token, board_id=sandbox.board_id, limits=limits
    )
    observed = Observed()
    setup = observed_setup(base, observed)
    watch = PacingWatch(sandbox)
    profiler = cProfile.Profile() if profile else None
    reports: list[PushReport] = []
    with watch.watching():
        start = time.perf_counter()
        if profiler is not None:
            profiler.enable()
        for i, batch in enumerate(batches, 1):
            reports.append(push(ctx, batch.batch_id, setup, progress=observed.progress()))
            if i % 10 == 0 or i == len(batches):
                say(
                    f"{name}: {i}/{len(batches)} batches, {time.perf_counter() - start:.1f} s, "
                    f"{sandbox.stats()['requests']:,} requests"
                )
        if profiler is not None:
            profiler.disable()
        wall = time.perf_counter() - start
    if profiler is not None:
        out = io.StringIO()
        pstats.Stats(profiler, stream=out).sort_stats("cumulative").print_stats(30)
        print(out.getvalue(), file=sys.stderr, flush=True)
    by_query = observed.by_query(sandbox.config)  # after the clock: costing is not timed
    return PushRun(reports, wall, sandbox.stats(), observed, watch.summary(), by_query)


def request_floors(batches: list[BatchInfo], per_request: int) -> dict[str, int]:
    """Fewest requests of a first sync: today's structure without the lookups (the board
    and its subitems board read once per setup, then per customer 1 create_group, the items,
    then the subitems), the lookups it adds (per customer 1 group read and 1 record_uuid
    lookup per LOOKUP_CHUNK items; an empty board has no second page and no subitems to
    read), the two together, and every mutation in full chunks."""
    structure = 2 + sum(
        1 + math.ceil(b.item_count / per_request) + math.ceil(b.subitem_count / per_request)
        for b in batches
    )
    lookups = sum(1 + math.ceil(b.item_count / LOOKUP_CHUNK) for b in batches)
    mutations = sum(b.item_count + b.subitem_count + 1 for b in batches)
    return {
        "per_batch_structure": structure,
        "lookups": lookups,
        "with_lookups": structure + lookups,
        "full_chunks": math.ceil(mutations / per_request),
    }


def lookup_figures(
    by_query: dict[str, dict[str, Any]],
    *,
    requests: int,
    mutations: int,
    complexity: int,
    wall: float,
    window: float,
    adopted: int,
) -> dict[str, Any]:
    """What looking before creating cost: its requests, their complexity, their share of the
    push's requests, complexity (so of the ideal) and wall time, and the push's figures
    against an ideal without them."""
    rows = {k: by_query.get(k, {}) for k in LOOKUP_KINDS}
    lookup_requests = sum(r.get("requests", 0) for r in rows.values())
    lookup_complexity = sum(r.get("complexity", 0) for r in rows.values())
    seconds = sum(r.get("seconds", 0.0) for r in rows.values())
    http = sum(r.get("http_seconds", 0.0) for r in rows.values())
    ideal = lookup_complexity / COMPLEXITY_BUDGET * window
    ideal_without = (complexity - lookup_complexity) / COMPLEXITY_BUDGET * window
    without = requests - lookup_requests
    return {
        "queries": {k: r.get("requests", 0) for k, r in rows.items()},
        "requests": lookup_requests,
        "refused": sum(r.get("refused", 0) for r in rows.values()),
        "complexity": lookup_complexity,
        "complexity_per_query": {k: r.get("complexity_per_request", 0) for k, r in rows.items()},
        "seconds": round(seconds, 3),  # in client.execute: round trips, encoding, retries
        "http_seconds": round(http, 3),
        "ideal_seconds": round(ideal, 3),
        "requests_share": round(lookup_requests / requests, 4) if requests else None,
        "complexity_share": round(lookup_complexity / complexity, 4) if complexity else None,
        "wall_share": round(seconds / wall, 4) if wall else None,
        "adopted": adopted,  # items found already on the board and taken up
        "without": {
            "requests": without,
            "requests_per_mutation": round(without / mutations, 4) if mutations else None,
            "ideal_seconds": round(ideal_without, 3),
            "wall_to_ideal": round(wall / ideal_without, 3) if ideal_without else None,
        },
    }


def run_push(
    name: str,
    frame: pd.DataFrame,
    *,
    window: float,
    per_request: int,
    profile: bool = False,
) -> dict[str, Any]:
    """Fresh database, fresh sandbox, stage every customer, push every batch; the figures."""
    with scratch_home("bench_push_") as root:
        store = Store(f"sqlite:///{root / 'orders.db'}", new_file=True)
        ctx = Context(store, load_mapping(), load_customer_map(), operator="bench")
        try:
            load_orders(store.engine, frame)
            store.source(refresh=True)
            start = time.perf_counter()
            batches = stage_all(ctx)
            stage_seconds = time.perf_counter() - start
            items = sum(b.item_count for b in batches)
            subitems = sum(b.subitem_count for b in batches)
            invalid = sum(b.invalid_count for b in batches)
            say(
                f"{name}: staged {len(batches)} batches, {items:,} items + {subitems:,} "
                f"subitems ({invalid} invalid rows) in {stage_seconds:.1f} s"
            )
            with SandboxServer(pro_sandbox_config(window, host="127.0.0.1")) as sandbox:
                limits = client_limits(window, per_request)
                run = push_all(ctx, batches, sandbox, limits, name, profile)
        finally:
            ctx.close()

    stats, observed = run.stats, run.observed
    complexity = int(stats["limits"]["budget_used_total"])
    ideal = complexity / COMPLEXITY_BUDGET * window
    # Item and subitem mutations (aliased fields), plus one create_group per customer (the
    # sandbox board starts empty).
    mutations = sum(r.mutations for r in run.reports) + len(batches)
    requests = int(stats["requests"])
    waited = observed.waited_seconds()
    errors = stats.get("errors") or {}
    sizes = sorted(b.item_count for b in batches)
    latency = observed.http_seconds + max(0.0, run.wall - waited - observed.http_seconds)
    accounted = sum(r["complexity"] for r in run.by_query.values())
    rate_refused = sum(errors.get(c, 0) for c in RATE_CODES)
    if rate_refused:
        limited_by = "requests_per_minute"
    elif waited >= latency:
        limited_by = "complexity_budget"
    else:
        limited_by = "per_request_latency"
    return {
        "name": name,
        "max_mutations_per_request": per_request,
        "batches": len(batches),
        "items": items,
        "subitems": subitems,
        "requests": requests,
        "mutations": mutations,
        "wall_seconds": round(run.wall, 3),
        "ideal_seconds": round(ideal, 3),
        "wall_to_ideal": round(run.wall / ideal, 3) if ideal else None,
        "requests_per_mutation": round(requests / mutations, 4) if mutations else None,
        "complexity": complexity,
        "requests_by_kind": {
            "queries": int(stats["queries"]),
            "mutation_requests": int(stats["mutations"]),
            "refused": int(sum(errors.values())),
        },
        "refusals": errors,
        "requests_by_query": run.by_query,
        "lookups": lookup_figures(
            run.by_query,
            requests=requests,
            mutations=mutations,
            complexity=complexity,
            wall=run.wall,
            window=window,
            adopted=sum(r.adopted for r in run.reports),
        ),
        # The complexity per request is the sandbox's cost model applied client side to each
        # request it ran; their sum must be what the sandbox charged in all.
        "complexity_accounted": {
            "sandbox_total": complexity,
            "by_query_total": accounted,
            "matches": accounted == complexity,
        },
        "request_floors": request_floors(batches, per_request),
        "orders_per_batch": {
            "min": sizes[0] if sizes else 0,
            "median": sizes[len(sizes) // 2] if sizes else 0,
            "max": sizes[-1] if sizes else 0,
            "under_25": sum(1 for n in sizes if n < 25),
        },
        "chunks": {k: summary(v) for k, v in observed.chunks.items()},
        "time_split_seconds": {
            "waiting": round(waited, 3),  # pacing sleeps plus retry sleeps
            "http": round(observed.http_seconds, 3),  # round trips, sandbox work included
            "client_side": round(max(0.0, run.wall - waited - observed.http_seconds), 3),
        },
        "pacing": run.pacing,
        "limited_by": limited_by,
        "mean_requests_per_window": round(requests / run.wall * window, 1),
        "client_retries": observed.retries(),
        "daily_quota_share": round(requests / PRO_DAILY_REQUESTS, 4),
        "stage_seconds": round(stage_seconds, 2),
        "rows_pushed": sum(r.succeeded for r in run.reports),
        "rows_failed": sum(r.failed for r in run.reports),
        "board": {"items": stats["items"], "subitems": stats["subitems"]},
        "verified": bool(
            all(r.status == BatchStatus.PUSHED for r in run.reports)
            and stats["items"] == items
            and stats["subitems"] == subitems
        ),
    }


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--orders", type=int, default=1_000, help="demo orders to push (1,000)")
    parser.add_argument(
        "--window-seconds",
        type=float,
        default=3.0,
        help="length of monday's 'minute' in the sandbox and the client (3.0)",
    )
    parser.add_argument(
        "--max-mutations",
        type=int,
        default=Limits().max_mutations_per_request,
        help="mutations per request of the batched push (Limits' default)",
    )
    parser.add_argument("--seed", type=int, default=DEFAULT_SEED, help="demo data seed")
    parser.add_argument(
        "--no-baseline", action="store_true", help="skip the one-mutation-per-request baseline"
    )
    parser.add_argument(
        "--profile", action="store_true", help="cProfile the batched push (top 30 to stderr)"
    )
    parser.add_argument(
        "--nagle",
        action="store_true",
        help="leave the sandbox's HTTP handler as shipped (Nagle on: ~40 ms per response)",
    )
    args = parser.parse_args(argv)
    if args.orders < 1 or args.window_seconds <= 0 or args.max_mutations < 1:
        parser.error("--orders and --max-mutations must be at least 1, --window-seconds > 0")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    logging.basicConfig(level=logging.ERROR, stream=sys.stderr)
    with sandbox_transport(nagle=args.nagle):
        result = measure(args)
    print(json.dumps(result))
    return 0


@contextmanager
def sandbox_transport(*, nagle: bool) -> Iterator[None]:
    """TCP_NODELAY on the in-process sandbox's connections, unless --nagle.

    As shipped, the sandbox's handler writes a response's headers and body in two sends
    with Nagle's algorithm on; the client's delayed ACK then holds the body ~40 ms, so every
    request costs >= 40 ms on loopback (2 ms with TCP_NODELAY). That stall is the stand-in's,
    not monday's: the bench sets the handler's standard `disable_nagle_algorithm` switch
    for its own process and puts it back after.
    """
    handler = sandbox_server._Handler
    saved = handler.disable_nagle_algorithm
    handler.disable_nagle_algorithm = not nagle
    try:
        yield
    finally:
        handler.disable_nagle_algorithm = saved


def measure(args: argparse.Namespace) -> dict[str, Any]:
    say(f"generating the demo ({max(DEFAULT_ORDERS, args.orders):,} orders, seed {args.seed})")
    frame = generate_orders(max(DEFAULT_ORDERS, args.orders), seed=args.seed)
    frame = frame.iloc[: args.orders].reset_index(drop=True)

    batched = run_push(
        "batched",
        frame,
        window=args.window_seconds,
        per_request=args.max_mutations,
        profile=args.profile,
    )
    say(f"batched: {batched['wall_seconds']} s, {batched['requests']:,} requests")
    baseline = None
    if not args.no_baseline:
        baseline = run_push(
            "one_mutation_per_request", frame, window=args.window_seconds, per_request=1
        )
        say(f"baseline: {baseline['wall_seconds']} s, {baseline['requests']:,} requests")

    result: dict[str, Any] = {
        "benchmark": "push",
        "orders": args.orders,
        "window_seconds": args.window_seconds,
        "sandbox_nagle": args.nagle,
        "limits": {
            "complexity_budget": COMPLEXITY_BUDGET,
            "requests_per_window": PRO_REQUESTS_PER_MINUTE,
            "daily_requests": PRO_DAILY_REQUESTS,
        },
        **{
            k: batched[k]
            for k in (
                "requests",
                "mutations",
                "wall_seconds",
                "ideal_seconds",
                "wall_to_ideal",
                "requests_per_mutation",
            )
        },
        "batched": batched,
        "baseline": baseline,
    }
    if baseline is not None:
        result["requests_reduction"] = round(baseline["requests"] / batched["requests"], 2)
        result["wall_speedup"] = round(baseline["wall_seconds"] / batched["wall_seconds"], 2)
    result["lookups"] = batched["lookups"]
    result["target"] = {
        "max_requests_per_mutation": MAX_REQUESTS_PER_MUTATION,
        "max_wall_to_ideal": MAX_WALL_TO_IDEAL,
        "max_wall_to_ideal_with_lookups": MAX_WALL_TO_IDEAL_WITH_LOOKUPS,
    }
    ratio = batched["wall_to_ideal"]
    result["checks"] = {
        "verified": batched["verified"],
        # Batching is judged on the requests that carry or prepare mutations; the lookups
        # (look before creating) are held to their own criterion below.
        "requests_per_mutation": batched["lookups"]["without"]["requests_per_mutation"]
        <= MAX_REQUESTS_PER_MUTATION,
        "wall_to_ideal": ratio is not None and ratio <= MAX_WALL_TO_IDEAL,
        # the lookups criterion: they ran, were all charged to the ideal, and the push
        # stayed within 1.1x of it
        "wall_to_ideal_with_lookups": bool(
            batched["lookups"]["requests"] > 0
            and batched["complexity_accounted"]["matches"]
            and ratio is not None
            and ratio <= MAX_WALL_TO_IDEAL_WITH_LOOKUPS
        ),
    }
    result["meets_lookups_target"] = bool(
        batched["verified"] and result["checks"]["wall_to_ideal_with_lookups"]
    )
    result["meets_target"] = all(result["checks"].values())
    result["seed"] = args.seed
    result["python"] = platform.python_version()
    result["machine"] = {"cpus": os.cpu_count(), "arch": platform.machine()}
    return result


if __name__ == "__main__":
    raise SystemExit(main())
