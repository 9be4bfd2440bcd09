"""`orders-sync run` against the sandbox on 127.0.0.1: every customer pushed, then nothing to
do; another operator's open batch skipped and named; a customer over a safeguard refused
with nothing staged while the others go on; a run killed with SIGKILL and started again; and
three runs on different customers at once, sharing the account's budget.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import pytest
from pushkit import TOKEN, WINDOW, active, assert_no_duplicates, texts

from orders_sync_gui.cli import main
from orders_sync_gui.monday.sandbox import SandboxServer
from orders_sync_gui.services import staging
from orders_sync_gui.services.context import open_context

REPO = Path(__file__).resolve().parents[2]


def write_settings(home: Path, chunk: int = 10) -> None:
    """Small chunks (many requests per customer) and a client that backs off quickly."""
    section = {
        "limits": {"max_mutations_per_request": chunk, "window_seconds": WINDOW},
        "timeout_seconds": 5.0,
        "max_wait_seconds": 20.0,
        "base_backoff_seconds": 0.05,
        "max_backoff_seconds": 0.3,
    }
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "settings.json").write_text(json.dumps({"monday": section}), "utf-8")


@pytest.fixture
def env(monkeypatch, isolated_home, sandbox: SandboxServer, db: str) -> dict[str, str]:
    """The environment of a scheduled run: database, monday.com URL, token and board."""
    write_settings(isolated_home)
    values = {
        "ORDERS_SYNC_DB_URL": db,
        "ORDERS_SYNC_MONDAY_URL": sandbox.url,
        "MONDAY_API_TOKEN": TOKEN,
        "ORDERS_SYNC_BOARD_ID": sandbox.board_id,
    }
    for key, value in values.items():
        monkeypatch.setenv(key, value)
    return {**os.environ, **values, "PYTHONPATH": str(REPO)}


def run(capsys, *args: str) -> tuple[int, dict[str, Any], list[dict[str, Any]]]:
    """`orders-sync run ARGS --json` in this process: exit code, report, progress lines."""
    capsys.readouterr()
    code = main(["run", *args, "--json"])
    out, err = capsys.readouterr()
    progress = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    return code, json.loads(out.strip().splitlines()[-1]), progress


def by_customer(report: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {c["customer"]: c for c in report["customers"]}


def uuids_on_board(sandbox: SandboxServer) -> list[str]:
    return [texts(i)["text_record_uuid"] for i in active(sandbox.dump()["items"])]


def source_uuids(db: str, customers: list[str] | None = None) -> set[str]:
    ctx = open_context(db)
    try:
        table = ctx.store.source().table
        stmt = table.select().with_only_columns(table.c.record_uuid, table.c["CUSTOMER NAME"])
        with ctx.store.engine.connect() as conn:
            rows = conn.execute(stmt).all()
        return {
            str(uid)
            for uid, name in rows
            if customers is None or ctx.customers.canonical(name or "") in customers
        }
    finally:
        ctx.close()


def test_run_all_pushes_every_customer_then_finds_nothing_to_send(capsys, env, sandbox, db):
    code, report, progress = run(capsys, "--all")
    assert code == 0 and report["ok"] is True
    statuses = {c["status"] for c in report["customers"]}
    assert statuses == {"PUSHED"}, report
    assert len(report["customers"]) > 10
    assert set(report) >= {"customers", "requests", "mutations", "seconds", "ok"}
    assert set(report["customers"][0]) >= {
        "customer", "status", "batch_id", "new", "changed", "deleted",
        "succeeded", "failed", "reason",
    }  # fmt: skip
    # Every order of the source is on the board once.
    on_board = uuids_on_board(sandbox)
    assert sorted(on_board) == sorted(source_uuids(db))
    assert_no_duplicates(sandbox.dump())
    # Progress: one JSON line per answered request, with the customer, batch, done, total, eta.
    assert len(progress) >= report["requests"] - 4 * len(report["customers"])
    assert {"customer", "batch", "done", "total", "eta"} <= set(progress[-1])
    last = progress[-1]
    assert last["done"] == last["total"]

    requests_before = sandbox.stats()["requests"]
    code, again, _ = run(capsys, "--all")
    assert code == 0
    assert {c["status"] for c in again["customers"]} == {"UNCHANGED"}
    assert again["requests"] == 0 and again["mutations"] == 0
    assert sandbox.stats()["requests"] == requests_before  # nothing was sent


def test_an_open_batch_of_another_operator_is_skipped_and_named(
    capsys, env, sandbox, db, monkeypatch
):
    monkeypatch.setenv("ORDERS_SYNC_OPERATOR", "b.kowalski")
    ctx = open_context(db)
    theirs = staging.stage(ctx, "GREYSON", limit=3)
    ctx.close()
    monkeypatch.setenv("ORDERS_SYNC_OPERATOR", "kestra")

    code, report, _ = run(capsys, "--customer", "GREYSON", "VUORI")
    assert code == 0  # skipped for a lock is not a failure
    rows = by_customer(report)
    assert rows["GREYSON"]["status"] == "SKIPPED"
    assert rows["GREYSON"]["batch_id"] == theirs.batch_id
    assert "b.kowalski" in rows["GREYSON"]["reason"]
    assert f"batch {theirs.batch_id}" in rows["GREYSON"]["reason"]
    assert rows["VUORI"]["status"] == "PUSHED"
    # Their batch is as they left it: staged, nothing of GREYSON on the board.
    ctx = open_context(db)
    assert staging.get(ctx, theirs.batch_id).status == "STAGED"
    ctx.close()
    assert not set(uuids_on_board(sandbox)) & source_uuids(db, ["GREYSON"])


def change_orders(db: str, customer: str, how_many: int | None, column: str, value: str) -> int:
    ctx = open_context(db)
    table = ctx.store.source().table
    try:
        with ctx.store.engine.connect() as conn:
            names = conn.execute(
                table.select().with_only_columns(table.c["CUSTOMER NAME"]).distinct()
            ).scalars()
            spellings = [n for n in names if ctx.customers.canonical(n or "") == customer]
        with ctx.store.engine.begin() as conn:
            uuids = [
                str(u)
                for u in conn.execute(
                    table.select()
                    .with_only_columns(table.c.record_uuid)
                    .where(table.c["CUSTOMER NAME"].in_(spellings))
                    .order_by(table.c.record_uuid)
                ).scalars()
            ][:how_many]
            conn.execute(
                table.update().where(table.c.record_uuid.in_(uuids)).values({column: value})
            )
        return len(uuids)
    finally:
        ctx.close()


def test_a_customer_over_max_change_pct_is_refused_and_the_others_pushed(capsys, env, sandbox, db):
    code, _, _ = run(capsys, "--customer", "GREYSON", "VUORI")
    assert code == 0
    changed = change_orders(db, "GREYSON", None, "CUSTOMER COLOUR DESCRIPTION", "NEON")
    assert changed >= 10
    change_orders(db, "VUORI", 1, "CUSTOMER COLOUR DESCRIPTION", "NEON")
    ctx = open_context(db)
    batches_before = [b.batch_id for b in staging.history(ctx, "GREYSON")]
    ctx.close()
    mutations_before = sandbox.stats()["mutations"]

    code, report, _ = run(capsys, "--customer", "GREYSON", "VUORI", "--max-change-pct", "20")
    assert code == 1 and report["ok"] is False
    rows = by_customer(report)
    greyson = rows["GREYSON"]
    assert greyson["status"] == "REFUSED" and greyson["batch_id"] is None
    assert greyson["changed"] == changed
    assert "--max-change-pct 20" in greyson["reason"] and "100.0%" in greyson["reason"]
    assert rows["VUORI"]["status"] == "PUSHED" and rows["VUORI"]["succeeded"] == 1
    ctx = open_context(db)
    assert [b.batch_id for b in staging.history(ctx, "GREYSON")] == batches_before
    ctx.close()
    assert sandbox.stats()["mutations"] > mutations_before  # VUORI's change went out
    on_board = {texts(i)["text_record_uuid"]: texts(i) for i in active(sandbox.dump()["items"])}
    greyson_uuids = source_uuids(db, ["GREYSON"])
    assert all("NEON" not in json.dumps(on_board[u]) for u in greyson_uuids)


def test_safeguards_on_counts_refuse_before_anything_is_staged(capsys, env, sandbox, db):
    code, report, _ = run(capsys, "--customer", "GREYSON", "VUORI", "--max-changes", "0")
    assert code == 1
    assert {c["status"] for c in report["customers"]} == {"REFUSED"}
    assert "--max-changes 0" in report["customers"][0]["reason"]
    assert sandbox.stats()["requests"] == 0


def test_dry_run_stops_after_the_estimate(capsys, env, sandbox, db):
    code, report, _ = run(capsys, "--all", "--dry-run")
    assert code == 0 and report["dry_run"] is True
    assert {c["status"] for c in report["customers"]} == {"ESTIMATED"}
    assert all(c["estimate"]["mutations"] > 0 for c in report["customers"])
    assert sandbox.stats()["requests"] == 0
    ctx = open_context(db)
    assert staging.history(ctx) == []
    ctx.close()


def test_usage_errors_exit_2(capsys, env):
    for args in (["run"], ["run", "--all", "--customer", "X"], ["run", "--all", "--types", "FOO"]):
        with pytest.raises(SystemExit) as exit_:
            main(args)
        assert exit_.value.code == 2


class Tap:
    """Runs the sandbox's `nth` mutation request, then holds its answer back until released:
    the run is killed while monday has done the work and the client has not heard."""

    def __init__(self, server: SandboxServer, nth: int) -> None:
        self.original = server.app.handle_graphql
        self.nth, self.seen = nth, 0
        self.lock = threading.Lock()
        self.parked, self.release = threading.Event(), threading.Event()
        server.app.handle_graphql = self

    def __call__(self, headers, body, ip):  # type: ignore[no-untyped-def]
        response = self.original(headers, body, ip)
        if not json.loads(body).get("query", "").lstrip().startswith("mutation"):
            return response
        with self.lock:
            self.seen += 1
            target = self.seen == self.nth
        if target:
            self.parked.set()
            self.release.wait(30)
        return response


def spawn(env: dict[str, str], *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "orders_sync_gui.cli", "run", *args, "--json"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def finished(proc: subprocess.Popen[str]) -> tuple[int, dict[str, Any]]:
    out, err = proc.communicate(timeout=180)
    assert out.strip(), err
    return proc.returncode, json.loads(out.strip().splitlines()[-1])


def test_a_run_killed_with_sigkill_and_started_again_ends_with_no_duplicates(env, sandbox, db):
    customers = ["GREYSON", "VUORI", "RHONE"]
    tap = Tap(sandbox, nth=7)  # well into the first customer's push: its answer never comes
    proc = spawn(env, "--customer", *customers)
    assert tap.parked.wait(120), "the run never reached its 7th mutation request"
    proc.kill()
    proc.wait(30)
    tap.release.set()
    assert proc.returncode == -9

    code, report = finished(spawn(env, "--customer", *customers))
    assert code == 0, report
    assert {c["status"] for c in report["customers"]} == {"PUSHED"}, report
    assert_no_duplicates(sandbox.dump())
    assert sorted(uuids_on_board(sandbox)) == sorted(source_uuids(db, customers))


def test_three_runs_on_different_customers_at_once_share_the_account(env, sandbox, db):
    customers = ["GREYSON", "VUORI", "RHONE"]
    procs = [spawn({**env, "ORDERS_SYNC_OPERATOR": "kestra"}, "--customer", c) for c in customers]
    results = [finished(p) for p in procs]
    for (code, report), customer in zip(results, customers, strict=True):
        assert code == 0, report
        [row] = report["customers"]
        assert (row["customer"], row["status"]) == (customer, "PUSHED")
        assert row["succeeded"] == row["new"] > 0
    assert_no_duplicates(sandbox.dump())
    assert sorted(uuids_on_board(sandbox)) == sorted(source_uuids(db, customers))


def test_without_a_token_nothing_is_staged_and_the_run_fails(capsys, env, db, monkeypatch):
    monkeypatch.delenv("MONDAY_API_TOKEN")
    code, report, _ = run(capsys, "--customer", "GREYSON")
    assert code == 1
    [row] = report["customers"]
    assert row["status"] == "FAILED" and "token" in row["reason"] and row["batch_id"] is None
    ctx = open_context(db)
    assert staging.history(ctx) == []  # no batch left behind for the next run to stumble on
    ctx.close()


def test_safeguards_name_the_figures_that_break_them():
    from orders_sync_gui.core.models import CustomerCounts
    from orders_sync_gui.services.run import Safeguards

    counts = CustomerCounts("ACME", new=5, changed=10, deleted=30, unchanged=60)
    assert Safeguards().breach(counts) is None
    assert Safeguards(max_changes=45).breach(counts) is None
    assert "45 changes exceed --max-changes 44" in Safeguards(max_changes=44).breach(counts)
    assert "30 deletes exceed --max-deletes 29" in Safeguards(max_deletes=29).breach(counts)
    # 45 changes against the 100 orders on the board (unchanged, changed and deleted): 45%.
    assert Safeguards(max_change_pct=45).breach(counts) is None
    assert "45.0% of the 100 orders" in Safeguards(max_change_pct=44.9).breach(counts)
    # A customer never pushed has nothing on the board to wipe: the counts still hold.
    first = CustomerCounts("NEW CO", new=500)
    assert Safeguards(max_change_pct=1).breach(first) is None
    assert Safeguards(max_changes=100).breach(first) is not None
