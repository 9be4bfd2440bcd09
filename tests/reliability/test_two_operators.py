"""Two operators at once, as two `orders-sync` processes on one database and one board.

A race is made to happen, not hoped for: both processes block at the same statement (the
batch's INSERT, or the push's claim) until both are there, then go on together
(tests/reliability/crash_cli.py's barrier). On SQLite the second writer waits out the
first (busy_timeout); on PostgreSQL row locks and the lock table's key decide.
"""

from __future__ import annotations

import shutil
import threading
from pathlib import Path

import pytest
from relkit import (
    CUSTOMER,
    Barrier,
    CliProcess,
    KillSwitch,
    audit,
    batch_truth,
    cli_env,
    duplicates_on,
    store_problems,
    wait_for,
    write_cli_settings,
)

from orders_sync_gui.core.models import BatchStatus
from orders_sync_gui.services import staging
from orders_sync_gui.services.context import open_context
from orders_sync_gui.services.push import BatchBusyError, PushStopped, push
from orders_sync_gui.store.staging import get_batch
from tests.monday.pushkit import make_demo_db, quick_setup, staged

OTHER = "VUORI"  # the second-biggest customer of the seeded demo database
STAGE_SQL = r'^INSERT INTO "MON_BatchProcessing"'
CLAIM_SQL = r'^UPDATE "MON_BatchProcessing" SET status='


@pytest.fixture(params=["sqlite", "postgres"])
def shared_db(request, tmp_path: Path, demo_template: Path) -> str:
    """One database both operators use: a SQLite file, or a PostgreSQL database."""
    if request.param == "sqlite":
        path = tmp_path / "shared.db"
        shutil.copyfile(demo_template, path)
        return f"sqlite:///{path}"
    return make_demo_db(request.getfixturevalue("pg_url"))


@pytest.fixture
def shared_ctx(shared_db: str):
    context = open_context(shared_db)
    yield context
    context.close()


def _operator(
    db: str, server, tmp_path: Path, name: str, args: list[str], **env: str
) -> CliProcess:  # type: ignore[no-untyped-def]
    home = tmp_path / f"home-{name}"
    write_cli_settings(home, chunk=4)
    environment = cli_env(db, server, home, ORDERS_SYNC_OPERATOR=name, **env)
    return CliProcess(args, environment, tmp_path / "runs", hooks=True)


def test_two_processes_staging_one_customer_at_once_one_wins_the_other_names_its_batch(
    shared_db, shared_ctx, sandbox, tmp_path
):
    barrier = Barrier(2)
    args = ["stage", "--customer", CUSTOMER, "--limit", "5", "--json"]
    runs = [
        _operator(shared_db, sandbox, tmp_path, name, args, **barrier.env(STAGE_SQL))
        for name in ("alice", "bob")
    ]
    codes = [run.wait() for run in runs]
    barrier.close()
    assert len(barrier.arrived) == 2, "both reached the batch's INSERT before either went on"
    assert sorted(codes) == [0, 1], [run.stderr for run in runs]
    winner, loser = (runs[0], runs[1]) if codes[0] == 0 else (runs[1], runs[0])
    batch = winner.json()["batch_id"]
    operator = "alice" if winner is runs[0] else "bob"
    message = loser.stderr.strip()
    assert len(message.splitlines()) == 1 and "Traceback" not in message
    assert f"{CUSTOMER} already has open batch {batch} (STAGED), staged by {operator}" in message
    [only] = staging.history(shared_ctx)
    assert (only.batch_id, only.operator, only.item_count) == (batch, operator, 5)
    assert len(staged(shared_ctx, batch)) == 5
    assert store_problems(shared_ctx) == []


def test_two_operators_with_different_customers_stage_and_push_side_by_side(
    shared_db, shared_ctx, sandbox, tmp_path
):
    results: dict[str, list[CliProcess]] = {}
    stage_barrier, push_barrier = Barrier(2), Barrier(2)

    def operator(name: str, customer: str) -> None:
        stage = _operator(
            shared_db,
            sandbox,
            tmp_path,
            name,
            ["stage", "--customer", customer, "--limit", "8", "--json"],
            **stage_barrier.env(STAGE_SQL),
        )
        runs = results.setdefault(name, [stage])
        if stage.wait() != 0:
            return
        batch = str(stage.json()["batch_id"])
        push_run = _operator(
            shared_db,
            sandbox,
            tmp_path,
            name,
            ["push", "--batch", batch, "--json"],
            **push_barrier.env(CLAIM_SQL),
        )
        runs.append(push_run)
        push_run.wait()

    threads = [
        threading.Thread(target=operator, args=("alice", CUSTOMER)),
        threading.Thread(target=operator, args=("bob", OTHER)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    stage_barrier.close()
    push_barrier.close()
    for name, runs in results.items():
        assert [r.process.returncode for r in runs] == [0, 0], (name, [r.stderr for r in runs])
    assert len(push_barrier.arrived) == 2, "both pushes claimed their batch at the same time"
    dump = sandbox.dump()
    assert duplicates_on(dump) == []
    assert {g["title"] for g in dump["board"]["groups"]} >= {CUSTOMER, OTHER}
    for customer in (CUSTOMER, OTHER):
        result = audit(shared_ctx, dump, customer)
        result.record()
        result.assert_clean(customer)
        assert result.synced == 8
    for batch in staging.history(shared_ctx):
        assert batch.status == BatchStatus.PUSHED and batch_truth(shared_ctx, batch.batch_id) == []


def test_two_processes_pushing_one_batch_at_once_one_is_refused_as_busy(
    shared_db, shared_ctx, sandbox, tmp_path
):
    batch = staging.stage(shared_ctx, CUSTOMER, limit=8).batch_id
    barrier = Barrier(2)
    args = ["push", "--batch", str(batch), "--json"]
    runs = [
        _operator(shared_db, sandbox, tmp_path, name, args, **barrier.env(CLAIM_SQL))
        for name in ("alice", "bob")
    ]
    codes = [run.wait() for run in runs]
    barrier.close()
    assert len(barrier.arrived) == 2, "both claimed the batch at the same moment"
    assert sorted(codes) == [0, 1], [run.stderr for run in runs]
    loser = runs[codes.index(1)]
    assert f"batch {batch} is busy" in loser.stderr
    assert len(loser.stderr.strip().splitlines()) == 1
    assert sandbox.stats()["items"] == 8
    result = audit(shared_ctx, sandbox.dump())
    result.record()
    result.assert_clean("after both pushes")
    with shared_ctx.store.engine.connect() as conn:
        assert get_batch(conn, batch).status == BatchStatus.PUSHED


def test_a_push_while_another_pushes_the_batch_is_refused_naming_that_run(
    db, ctx, make_sandbox, tmp_path
):
    """Alice's push is mid-way (a request of hers is on its way to monday). Bob, with a
    token monday refuses, tries the same batch, then Carol with a good one: Bob's stop must
    not free the batch, and Carol is told who is pushing it."""
    server = make_sandbox()
    batch = staging.stage(ctx, CUSTOMER, limit=8).batch_id
    switch = KillSwitch(server, 2, "late")  # holds Alice's 2nd mutation request
    alice = _operator(db, server, tmp_path, "alice", ["push", "--batch", str(batch)])
    try:
        assert wait_for(switch.hit, alice)
        refused = quick_setup(ctx, make_sandbox(token="a token of another account"))
        with pytest.raises(PushStopped, match="401"):
            push(ctx, batch, refused)
        with ctx.store.engine.connect() as conn:
            held = get_batch(conn, batch)
        assert held.status == BatchStatus.PUSHING and f"pid {alice.pid}" in (held.message or "")
        with pytest.raises(BatchBusyError, match=rf"batch {batch} is busy: push in progress"):
            push(ctx, batch, quick_setup(ctx, server))
    finally:
        switch.remove()  # Alice's request goes on
    assert alice.wait() == 0, alice.stderr
    result = audit(ctx, server.dump())
    result.record()
    result.assert_clean("after Alice's push")
    assert result.synced == 8
