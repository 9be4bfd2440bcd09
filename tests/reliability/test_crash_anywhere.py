"""Crash anywhere: `orders-sync` stage, push (with its promotion) and rollback/undo, each run
as a real process against the sandbox and SIGKILLed at a random point, then resumed.

After each kill the store must not be half-written and the batch's status must tell the
truth (STAGED only while nothing reached monday.com); after the resume every source row of
the customer is synced with the right values or visibly pending, no monday object exists
twice, and the sync state matches the board.

Kill points, drawn from a seeded RNG per trial:
- "executed" / "never" / "late": while the nth mutation request is in the sandbox: run but
  its answer never delivered, dropped unrun, or run only after the sender is dead;
- "statement": at a random SQL statement of the process (tests/reliability/crash_cli.py),
  inside a transaction or right after a commit;
- "timer": a random delay after the process's first request, with the sandbox delaying a
  share of the requests so that the kill often finds the process mid-request.

After most kills the rows of the request in flight are left SENDING, and the resume's crash
recovery looks them up on the board. "push-restored" takes that record away: the database
is restored from a backup of before the push, so that only the push's look before creating
(PushHooks.items_on_board, subitems_on_board, the group by title) can find what is there.

Every trial runs once per replay mode (relkit.REPLAY_MODES): against the sandbox as monday
is, replaying the answer to a request sent again under its Idempotency-Key ("replay"), and
against one that ignores the header ("no-replay"), where a resume that sends a create again
makes it again unless the push looked first. The kill points differ between the two (the
seed includes the mode; "replay" keeps the seeds it always had).

RELIABILITY_TRIALS (default 52: each scenario twice) sets the number of trials per mode,
RELIABILITY_SEED the seed.
"""

from __future__ import annotations

import math
import os
import random
import shutil
import sqlite3
import threading
import time
from collections.abc import Callable
from contextlib import closing
from dataclasses import replace
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from graphql import print_ast
from relkit import (
    CUSTOMER,
    FIGURES,
    REPLAY_MODES,
    CliProcess,
    KillSwitch,
    audit,
    batch_truth,
    cli_env,
    files_under,
    start_sandbox,
    stop_sandbox,
    store_problems,
    token_leaks,
    wait_for,
    write_cli_settings,
)
from sqlalchemy import update

from orders_sync_gui.core.columns import COLOUR, SIZE_NAMES
from orders_sync_gui.core.models import BatchStatus, ChangeType, RowStatus
from orders_sync_gui.monday.sandbox import FaultConfig
from orders_sync_gui.services import detection, staging
from orders_sync_gui.services.context import open_context
from orders_sync_gui.services.monday_setup import Limits
from orders_sync_gui.services.push import push
from orders_sync_gui.services.undo import undo
from orders_sync_gui.store.pushing import load_subitems
from orders_sync_gui.store.schema import staged_rows, staged_subitems
from orders_sync_gui.store.staging import get_batch
from orders_sync_gui.store.syncstate import load_state
from tests.monday.pushkit import (
    active,
    board_view,
    quick_setup,
    staged,
    texts,
)

TRIALS = int(os.environ.get("RELIABILITY_TRIALS", "52"))  # each scenario twice
SEED = int(os.environ.get("RELIABILITY_SEED", "4755"))

# (what the killed process does, how the kill point is chosen); trial i runs entry i % n.
SCENARIOS = [
    ("push-new", "executed"),
    ("push-new", "never"),
    ("push-new", "late"),
    ("push-new", "statement"),
    ("push-new", "timer"),
    ("push-change", "executed"),
    ("push-change", "never"),
    ("push-change", "statement"),
    ("push-change", "timer"),
    ("undo-new", "executed"),
    ("undo-new", "never"),
    ("undo-new", "statement"),
    ("undo-new", "timer"),
    ("undo-change", "executed"),
    ("undo-change", "statement"),
    ("stage", "statement"),
    ("stage", "timer"),
    ("rollback-staged", "statement"),
    ("push-twice", "executed"),
    ("push-then-undo", "never"),
    ("push-returning", "executed"),
    ("push-returning", "statement"),
    ("undo-returning", "statement"),
    ("undo-returning", "never"),
    ("push-restored", "executed"),
    ("push-restored", "timer"),
]


class Trial:
    def __init__(self, index: int, tmp_path: Path, template: Path, replay: str = "replay") -> None:
        self.rng = random.Random(
            f"{SEED}:{index}" if replay == "replay" else f"{SEED}:{replay}:{index}"
        )
        self.path = tmp_path / "orders.db"
        shutil.copyfile(template, self.path)
        self.db = f"sqlite:///{self.path}"
        self.tmp = tmp_path
        self.home = tmp_path / "cli-home"
        self.chunk = self.rng.randint(2, 5)
        write_cli_settings(self.home, chunk=self.chunk)
        self.replay = replay
        self.server = start_sandbox(**REPLAY_MODES[replay])
        self.ctx = open_context(self.db)
        self.setup = quick_setup(
            self.ctx,
            self.server,
            limits=Limits(window_seconds=1, max_mutations_per_request=self.rng.randint(3, 10)),
        )
        self.processes: list[CliProcess] = []

    def backup(self, path: Path) -> None:
        """The DBA's backup of the database (SQLite's online backup: WAL included)."""
        with closing(sqlite3.connect(self.path)) as src, closing(sqlite3.connect(path)) as dst:
            src.backup(dst)

    def restore(self, path: Path) -> None:
        """The DBA's restore of a backup: every connection closed, the content replaced."""
        self.ctx.close()
        with closing(sqlite3.connect(path)) as src, closing(sqlite3.connect(self.path)) as dst:
            src.backup(dst)
        self.ctx = open_context(self.db)

    def close(self) -> None:
        for proc in self.processes:
            proc.kill()
        self.ctx.close()
        stop_sandbox(self.server)

    # --- the experiment -----------------------------------------------------------------
    def run_killed(self, args: list[str], mode: str, requests: int, writes: int) -> CliProcess:
        """Run `orders-sync ARGS` and SIGKILL it at a point chosen by `mode`.

        `requests`: about how many mutation requests the command sends; `writes`: about how
        many statements it runs from its first write on (for the statement kill)."""
        env = cli_env(self.db, self.server, self.home)
        hooks = mode == "statement"
        if hooks:
            env["ORDERS_SYNC_TEST_KILL_P"] = str(min(1.0, 2.0 / max(1, writes)))
            env["ORDERS_SYNC_TEST_KILL_SEED"] = str(self.rng.randrange(2**31))
        if mode == "timer":
            self.server.set_faults(
                FaultConfig(
                    rate=0.3,
                    seed=self.rng.randrange(2**31),
                    kinds=("delay",),
                    delay_seconds=self.rng.choice((0.02, 0.05, 0.1)),
                )
            )
        switch = KillSwitch(
            self.server,
            self.rng.randint(1, max(1, requests))
            if mode in ("executed", "never", "late")
            else None,
            mode,
        )
        proc = CliProcess(args, env, self.tmp / "runs", hooks=hooks)
        self.processes.append(proc)
        try:
            if mode in ("executed", "never", "late"):
                if wait_for(switch.hit, proc):
                    proc.kill()
            elif mode == "timer":
                started = time.monotonic()
                if args[0] == "stage":  # no request to count from: from the start
                    time.sleep(self.rng.uniform(0.6, 1.8))
                    proc.kill()
                elif wait_for(switch.first, proc):
                    # The random delay before the SIGKILL is the experiment (about a
                    # request's time, delayed or not, per request the command sends).
                    time.sleep(self.rng.uniform(0.0, min(0.4, 0.03 * requests + 0.05)))
                    proc.kill()
                assert time.monotonic() - started < 60
        finally:
            switch.remove()  # a parked request goes on (the late one runs now)
        code = proc.wait()
        if switch.hit.is_set():
            assert switch.finished.wait(30), "the parked request never finished"
        if self.replay != "replay":
            # Without replay nothing can hold off a request still running on monday.com when
            # the resume looks (only its 409 on the key could): the operator resumes once
            # the killed command's last request has ended there, as a "replay" trial need not.
            _wait_until(lambda: self.server.app.limits.snapshot()["in_flight"] == 0, seconds=30)
        self.server.set_faults(FaultConfig())
        if not proc.killed:  # it finished before the kill point: then it must have succeeded
            assert code == 0, f"{args} failed: {proc.stderr}"
        return proc

    # --- what an operator does next --------------------------------------------------------
    def push_until_done(self, batch: int) -> None:
        for _ in range(5):
            report = push(self.ctx, batch, self.setup)
            if report.status == BatchStatus.PUSHED:
                return
        raise AssertionError(f"batch {batch} did not finish: {report.message}")

    def undo_until_done(self, batch: int) -> None:
        for _ in range(5):
            report = undo(self.ctx, batch, self.setup)
            if report.status == BatchStatus.UNDONE:
                return
        raise AssertionError(f"undo of batch {batch} did not finish: {report.message}")

    def status(self, batch: int) -> str:
        with self.ctx.store.engine.connect() as conn:
            return get_batch(conn, batch).status

    def stage_new(self) -> int:
        return staging.stage(self.ctx, CUSTOMER, limit=self.rng.randint(3, 8)).batch_id

    def estimate(self, batch: int, action: str) -> tuple[int, int]:
        """(mutation requests, statements from its first write on) that a push or an undo
        of the batch will send, from what is left of it: the range kill points come from."""
        rows = staged(self.ctx, batch)
        with self.ctx.store.engine.connect() as conn:
            subs = load_subitems(conn, batch)
        if action == "push":
            item_ops = sum(r.status is not RowStatus.PUSHED for r in rows)
            sub_ops = sum(x.status is not RowStatus.PUSHED for x in subs)
            groups = {g["title"] for g in self.server.dump()["board"]["groups"]}
            extra = 0 if CUSTOMER in groups else 1  # the customer's group is made first
        else:  # an undo reverts what reached the board
            pushed = [r for r in rows if r.status is RowStatus.PUSHED]
            item_ops = sum(
                1
                for r in pushed
                if r.change_type is not ChangeType.CHANGED or (r.diff or {}).get("fields")
            )
            changed = {r.stg_id for r in pushed if r.change_type is ChangeType.CHANGED}
            sub_ops = sum(1 for x in subs if x.stg_parent_id in changed)
            extra = 0
        requests = extra + math.ceil(item_ops / self.chunk) + math.ceil(sub_ops / self.chunk)
        return max(1, requests), requests * (self.chunk + 4) + 6

    def orders_come_back(self) -> tuple[set[str], dict[str, str], int]:
        """Push a batch; two of its orders leave the source and their deletes are pushed
        (their items labelled); both come back, one without a size. Stages the two as NEW
        (their tombstones with them): (their uuids, {uuid: its labelled item}, the batch)."""
        first = self.stage_new()
        self.push_until_done(first)
        rows = self.rng.sample(staged(self.ctx, first), k=2)
        table = self.ctx.store.source().table
        with self.ctx.store.engine.begin() as conn:
            kept = {
                r.record_uuid: dict(
                    conn.execute(table.select().where(table.c.record_uuid == r.record_uuid))
                    .one()
                    ._mapping
                )
                for r in rows
            }
            conn.execute(table.delete().where(table.c.record_uuid.in_(list(kept))))
        gone = staging.stage(self.ctx, CUSTOMER, types=(ChangeType.DELETED,)).batch_id
        self.push_until_done(gone)
        items = {
            texts(i)["text_record_uuid"]: i["id"]
            for i in active(self.server.dump()["items"])
            if texts(i)["text_record_uuid"] in kept
        }
        assert len(items) == 2
        back = dict(kept)
        smaller = rows[0]
        sizes = sorted(smaller.values["sizes"])
        if len(sizes) >= 2:
            back[smaller.record_uuid] = {**back[smaller.record_uuid], sizes[0]: None}
        with self.ctx.store.engine.begin() as conn:
            conn.execute(table.insert(), list(back.values()))
        found = detection.preview(self.ctx, CUSTOMER)
        others = {c.record_uuid for c in found.changes if c.record_uuid not in kept}
        batch = staging.stage(self.ctx, CUSTOMER, types=(ChangeType.NEW,), exclude=others)
        assert batch.new_count == 2
        return set(kept), items, batch.batch_id

    def change_source(self, batch: int) -> None:
        """Change, in the source, about half the orders a pushed batch holds: a colour (it
        renames the item), a date, a quantity, a size dropped, a size added; delete one."""
        rows = staged(self.ctx, batch)
        info = self.ctx.store.source()
        table = info.table
        picks = self.rng.sample(rows, k=max(2, len(rows) // 2))
        with self.ctx.store.engine.begin() as conn:
            for row in picks[1:]:
                sizes = {s: int(q) for s, q in row.values["sizes"].items()}
                kind = self.rng.choice(("colour", "date", "qty", "drop", "add"))
                if kind == "colour":
                    values = {COLOUR: self.rng.choice(("NEON PINK", "SAGE", "ÉCRU 🧵"))}
                elif kind == "date":
                    values = {"EX FACTORY DATE": datetime(2027, self.rng.randint(1, 12), 15)}
                elif kind == "drop" and len(sizes) >= 2:
                    values = {self.rng.choice(sorted(sizes)): None}
                elif kind == "add":
                    free = [s for s in SIZE_NAMES if s not in sizes and s in info.sizes]
                    values = {self.rng.choice(free): 6 * self.rng.randint(1, 20)}
                else:
                    size = self.rng.choice(sorted(sizes)) if sizes else "M"
                    values = {size: sizes.get(size, 0) + 6}
                conn.execute(
                    update(table).where(table.c.record_uuid == row.record_uuid).values(values)
                )
            conn.execute(table.delete().where(table.c.record_uuid == picks[0].record_uuid))


def _wait_until(done: Callable[[], bool], *, seconds: float) -> None:
    """Poll `done` until it holds, for at most `seconds`."""
    deadline = time.monotonic() + seconds
    while not done():
        assert time.monotonic() < deadline, "the sandbox kept a request running"
        threading.Event().wait(0.01)


def _check_after_kill(trial: Trial, batch: int | None, before: dict) -> None:
    """Right after the kill: nothing half-written, and the batch's status not lying."""
    assert store_problems(trial.ctx) == []
    if batch is None:
        return
    assert batch_truth(trial.ctx, batch) == []
    if trial.status(batch) == BatchStatus.STAGED:
        assert board_view(trial.server.dump()) == before, (
            "the batch says STAGED (it may be discarded) while monday.com already changed"
        )


def _maybe_age_in_flight(trial: Trial) -> None:
    """In about a third of the trials, the operator resumes only after monday.com forgot
    the requests' idempotency keys (30 minutes): rows left in flight are then looked up on
    the board by record_uuid instead (settle_unknown). By then every request has ended."""
    if trial.rng.random() >= 0.35:
        return
    deadline = time.monotonic() + 30
    while trial.server.app.limits.in_flight and time.monotonic() < deadline:
        time.sleep(0.01)  # waiting for a condition (requests still in the sandbox)
    hour_ago = datetime.now().replace(microsecond=0) - timedelta(hours=1)
    with trial.ctx.store.engine.begin() as conn:
        for table in (staged_rows, staged_subitems):
            conn.execute(
                update(table).where(table.c.stg_status == "SENDING").values(stg_updated_at=hour_ago)
            )


def _finish(trial: Trial, batch_uuids: set[str], *, synced: bool) -> None:
    """After the resume: the audit, and the batch's rows where they belong."""
    dump = trial.server.dump()
    result = audit(trial.ctx, dump)
    result.record()
    result.assert_clean("after the resume")
    found = detection.preview(trial.ctx, CUSTOMER)
    still = {c.record_uuid for c in found.changes} & batch_uuids
    if synced:
        assert still == set(), "every row of the batch is synced: none is news any more"
    else:  # undone: every row is news again, as before its batch
        assert still == batch_uuids
    files = files_under(trial.tmp)
    assert token_leaks(files) == []


KILL_TRIALS = [(replay, i) for replay in REPLAY_MODES for i in range(TRIALS)]


@pytest.mark.parametrize(
    ("replay", "index"),
    KILL_TRIALS,
    ids=[f"{r}-{i:03d}-{'-'.join(SCENARIOS[i % len(SCENARIOS)])}" for r, i in KILL_TRIALS],
)
def test_killed_anywhere_then_resumed_nothing_is_duplicated_or_lost(
    replay, index, tmp_path, demo_template
):
    scenario, mode = SCENARIOS[index % len(SCENARIOS)]
    trial = Trial(index, tmp_path, demo_template, replay)
    with FIGURES.counted_in(replay):
        try:
            run = SCENARIO_RUNNERS[scenario]
            run(trial, mode)
            FIGURES.trials += 1
            FIGURES.kills += sum(p.killed for p in trial.processes)
        finally:
            trial.close()


# ---------------------------------------------------------------------- the scenarios
def push_returning(trial: Trial, mode: str) -> None:
    """Orders whose deletes were pushed come back: killed anywhere, the push still takes up
    each labelled item once (never a second item), and the sync state ends live."""
    uuids, items, batch = trial.orders_come_back()
    before = board_view(trial.server.dump())
    requests, writes = trial.estimate(batch, "push")
    trial.run_killed(["push", "--batch", str(batch)], mode, requests, writes)
    _check_after_kill(trial, batch, before)
    _maybe_age_in_flight(trial)
    trial.push_until_done(batch)
    assert batch_truth(trial.ctx, batch) == []
    _finish(trial, uuids, synced=True)
    on_board = {
        texts(i)["text_record_uuid"]: i["id"]
        for i in active(trial.server.dump()["items"])
        if texts(i)["text_record_uuid"] in uuids
    }
    assert on_board == items, "each returning order is back on its own item"


def undo_returning(trial: Trial, mode: str) -> None:
    """The push of returning orders, undone by a killed rollback: the labelled items and
    the tombstones come back as they were."""
    uuids, items, batch = trial.orders_come_back()
    labelled = board_view(trial.server.dump())
    with trial.ctx.store.engine.connect() as conn:
        tombs = {u: s for u, s in load_tombstones(conn).items() if u in uuids}
    assert set(tombs) == uuids
    trial.push_until_done(batch)
    before = board_view(trial.server.dump())
    requests, writes = trial.estimate(batch, "undo")
    trial.run_killed(["rollback", "--batch", str(batch)], mode, requests, writes)
    _check_after_kill(trial, batch, before)
    if trial.status(batch) != BatchStatus.UNDONE:
        trial.undo_until_done(batch)
    assert batch_truth(trial.ctx, batch) == []
    after = board_view(trial.server.dump())
    assert {i: after[i] for i in items.values()} == {i: labelled[i] for i in items.values()}
    with trial.ctx.store.engine.connect() as conn:
        restored = {u: s for u, s in load_tombstones(conn).items() if u in uuids}
    for uid, tomb in tombs.items():  # a size the push deleted came back with a new id
        assert replace(restored[uid], subitem_ids={}) == replace(tomb, subitem_ids={})
        assert set(restored[uid].subitem_ids) == set(tomb.subitem_ids)
    _finish(trial, uuids, synced=False)


def load_tombstones(conn) -> dict:  # type: ignore[no-untyped-def]
    return {s.record.record_uuid: s for s in load_state(conn, tombstones=True) if s.tombstone}


def push_new(trial: Trial, mode: str) -> None:
    batch = trial.stage_new()
    uuids = {r.record_uuid for r in staged(trial.ctx, batch)}
    before = board_view(trial.server.dump())
    requests, writes = trial.estimate(batch, "push")
    trial.run_killed(["push", "--batch", str(batch)], mode, requests, writes)
    _check_after_kill(trial, batch, before)
    _maybe_age_in_flight(trial)
    trial.push_until_done(batch)
    assert batch_truth(trial.ctx, batch) == []
    _finish(trial, uuids, synced=True)


def push_restored(trial: Trial, mode: str) -> None:
    """The push is killed; the DBA then restores the database from its backup of before
    the push (the batch STAGED, no row sent, the sync state without them) and the operator
    pushes again. Nothing in the store says what reached the board: each order already
    there must be looked up and taken up, its sizes and the group with it, never created
    a second time (in "no-replay" mode nothing else stands in the way)."""
    batch = trial.stage_new()
    uuids = {r.record_uuid for r in staged(trial.ctx, batch)}
    backup = trial.tmp / "backup.db"
    trial.backup(backup)
    before = board_view(trial.server.dump())
    requests, writes = trial.estimate(batch, "push")
    trial.run_killed(["push", "--batch", str(batch)], mode, requests, writes)
    _check_after_kill(trial, batch, before)
    # A restore takes the DBA minutes: the killed push's last request has long ended on
    # monday.com by then. (One still running when the next push looks could only be held
    # off by monday's 409 on its key, and the restored batch has forgotten that key.)
    _wait_until(lambda: trial.server.app.limits.snapshot()["in_flight"] == 0, seconds=30)
    trial.restore(backup)
    assert trial.status(batch) == BatchStatus.STAGED
    trial.push_until_done(batch)
    assert batch_truth(trial.ctx, batch) == []
    _finish(trial, uuids, synced=True)


def push_change(trial: Trial, mode: str) -> None:
    first = trial.stage_new()
    trial.push_until_done(first)
    trial.change_source(first)
    batch = staging.stage(trial.ctx, CUSTOMER, types=(ChangeType.CHANGED, ChangeType.DELETED))
    batch_id = batch.batch_id
    uuids = {r.record_uuid for r in staged(trial.ctx, batch_id)}
    before = board_view(trial.server.dump())
    requests, writes = trial.estimate(batch_id, "push")
    trial.run_killed(["push", "--batch", str(batch_id)], mode, requests, writes)
    _check_after_kill(trial, batch_id, before)
    _maybe_age_in_flight(trial)
    trial.push_until_done(batch_id)
    assert batch_truth(trial.ctx, batch_id) == []
    _finish(trial, uuids, synced=True)
    deleted = [r for r in staged(trial.ctx, batch_id) if r.change_type is ChangeType.DELETED]
    for row in deleted:  # a deleted order's item says so, once
        items = active(trial.server.dump()["items"])
        [item] = [i for i in items if texts(i)["text_record_uuid"] == row.record_uuid]
        assert texts(item)["status_sync"] == "Cancelled in source"


def undo_new(trial: Trial, mode: str) -> None:
    batch = trial.stage_new()
    uuids = {r.record_uuid for r in staged(trial.ctx, batch)}
    trial.push_until_done(batch)
    before = board_view(trial.server.dump())
    requests, writes = trial.estimate(batch, "undo")
    trial.run_killed(["rollback", "--batch", str(batch)], mode, requests, writes)
    _check_after_kill(trial, batch, before)
    if trial.status(batch) != BatchStatus.UNDONE:
        trial.undo_until_done(batch)
    assert batch_truth(trial.ctx, batch) == []
    on_board = {texts(i)["text_record_uuid"] for i in active(trial.server.dump()["items"])}
    assert not on_board & uuids, "an undone batch's items are gone from the board"
    _finish(trial, uuids, synced=False)


def undo_change(trial: Trial, mode: str) -> None:
    first = trial.stage_new()
    trial.push_until_done(first)
    baseline = board_view(trial.server.dump())
    trial.change_source(first)
    batch = staging.stage(
        trial.ctx, CUSTOMER, types=(ChangeType.CHANGED, ChangeType.DELETED)
    ).batch_id
    uuids = {r.record_uuid for r in staged(trial.ctx, batch)}
    trial.push_until_done(batch)
    before = board_view(trial.server.dump())
    requests, writes = trial.estimate(batch, "undo")
    trial.run_killed(["rollback", "--batch", str(batch)], mode, requests, writes)
    _check_after_kill(trial, batch, before)
    if trial.status(batch) != BatchStatus.UNDONE:
        trial.undo_until_done(batch)
    assert batch_truth(trial.ctx, batch) == []
    assert board_view(trial.server.dump()) == baseline, "the undo gave the board back"
    _finish(trial, uuids, synced=False)


def stage_killed(trial: Trial, mode: str) -> None:
    size = trial.rng.randint(3, 8)
    args = ["stage", "--customer", CUSTOMER, "--limit", str(size)]
    trial.run_killed(args, mode, 0, 8)
    _check_after_kill(trial, None, {})
    batches = staging.history(trial.ctx)
    assert len(batches) <= 1
    if batches:  # the stage committed: whole, locked, and as asked
        [batch] = batches
        assert (batch.status, batch.item_count) == (BatchStatus.STAGED, size)
        batch_id = batch.batch_id
    else:  # it did not: nothing of it remains, and the customer is free
        batch_id = trial.stage_new()
    uuids = {r.record_uuid for r in staged(trial.ctx, batch_id)}
    trial.push_until_done(batch_id)
    _finish(trial, uuids, synced=True)


def rollback_staged(trial: Trial, mode: str) -> None:
    batch = trial.stage_new()
    uuids = {r.record_uuid for r in staged(trial.ctx, batch)}
    trial.run_killed(["rollback", "--batch", str(batch)], mode, 0, 6)
    _check_after_kill(trial, batch, board_view(trial.server.dump()))
    status = trial.status(batch)
    assert status in (BatchStatus.STAGED, BatchStatus.ROLLED_BACK)
    if status == BatchStatus.STAGED:
        assert {r.record_uuid for r in staged(trial.ctx, batch)} == uuids
        staging.rollback(trial.ctx, batch)
    assert staged(trial.ctx, batch) == []
    assert trial.server.stats()["mutations"] == 0
    _finish(trial, uuids, synced=False)


def push_twice(trial: Trial, mode: str) -> None:
    batch = trial.stage_new()
    uuids = {r.record_uuid for r in staged(trial.ctx, batch)}
    before = board_view(trial.server.dump())
    requests, writes = trial.estimate(batch, "push")
    trial.run_killed(["push", "--batch", str(batch)], mode, requests, writes)
    _check_after_kill(trial, batch, before)
    before = board_view(trial.server.dump())
    second = trial.rng.choice(("executed", "never", "late", "statement"))
    requests, writes = trial.estimate(batch, "push")
    trial.run_killed(["push", "--batch", str(batch)], second, requests, writes)
    _check_after_kill(trial, batch, before)
    _maybe_age_in_flight(trial)
    trial.push_until_done(batch)
    _finish(trial, uuids, synced=True)


def push_then_undo(trial: Trial, mode: str) -> None:
    """The push is killed; the operator rolls back instead of resuming (killed too)."""
    batch = trial.stage_new()
    uuids = {r.record_uuid for r in staged(trial.ctx, batch)}
    before = board_view(trial.server.dump())
    requests, writes = trial.estimate(batch, "push")
    trial.run_killed(["push", "--batch", str(batch)], mode, requests, writes)
    _check_after_kill(trial, batch, before)
    before = board_view(trial.server.dump())
    second = trial.rng.choice(("executed", "never", "statement"))
    requests, writes = trial.estimate(batch, "undo")
    trial.run_killed(["rollback", "--batch", str(batch)], second, requests, writes)
    _check_after_kill(trial, batch, before)
    _maybe_age_in_flight(trial)
    status = trial.status(batch)
    if status == BatchStatus.STAGED:
        staging.rollback(trial.ctx, batch)
    elif status not in (BatchStatus.UNDONE, BatchStatus.ROLLED_BACK):
        trial.undo_until_done(batch)
    on_board = {texts(i)["text_record_uuid"] for i in active(trial.server.dump()["items"])}
    assert not on_board & uuids
    _finish(trial, uuids, synced=False)


SCENARIO_RUNNERS = {
    "push-new": push_new,
    "push-change": push_change,
    "undo-new": undo_new,
    "undo-change": undo_change,
    "stage": stage_killed,
    "rollback-staged": rollback_staged,
    "push-twice": push_twice,
    "push-then-undo": push_then_undo,
    "push-returning": push_returning,
    "undo-returning": undo_returning,
    "push-restored": push_restored,
}


# ---------------------------------------------------------------------- a request still running
class HoldInside:
    """Holds the first mutation request carrying `field` inside the sandbox, after it took
    its Idempotency-Key and before it runs: a request monday.com is still working on."""

    def __init__(self, server, field: str) -> None:  # type: ignore[no-untyped-def]
        self.app, self.field = server.app, field
        self.original_run, self.original_begin = self.app._run, self.app.idempotency.begin
        self.held, self.release, self.conflict, self.done = (threading.Event() for _ in range(4))
        self.app._run = self._run
        self.app.idempotency.begin = self._begin

    def _begin(self, key):  # type: ignore[no-untyped-def]
        answer = self.original_begin(key)
        if answer is False:  # a second request with the key while the first one runs: 409
            self.conflict.set()
        return answer

    def _run(self, document, variables, operation_name):  # type: ignore[no-untyped-def]
        if self.held.is_set() or f"{self.field}(" not in print_ast(document):
            return self.original_run(document, variables, operation_name)
        self.held.set()
        self.release.wait(60)
        try:
            return self.original_run(document, variables, operation_name)
        finally:
            self.done.set()


@pytest.mark.parametrize("field", ["create_item", "create_subitem"])
def test_a_request_still_running_when_the_push_resumes_is_answered_once(
    db, ctx, sandbox, tmp_path, field
):
    """The kill comes while monday.com still runs a request, and the operator resumes at
    once: the resume must not create again what that request is creating.

    ("replay" mode only: what keeps the copy from running is monday's 409 for a key still
    being processed. A server that ignores the key runs both, and no lookup can see a
    create that has not happened yet.)"""
    with FIGURES.counted_in("replay"):
        _resumed_while_running(db, ctx, sandbox, tmp_path, field)


def _resumed_while_running(db, ctx, sandbox, tmp_path, field: str) -> None:  # type: ignore[no-untyped-def]
    home = tmp_path / "cli-home"
    write_cli_settings(home, chunk=3)
    batch = staging.stage(ctx, CUSTOMER, limit=6).batch_id
    uuids = {r.record_uuid for r in staged(ctx, batch)}
    hold = HoldInside(sandbox, field)
    proc = CliProcess(["push", "--batch", str(batch)], cli_env(db, sandbox, home), tmp_path)
    assert wait_for(hold.held, proc)
    assert proc.kill()
    reports = []
    resume = threading.Thread(
        target=lambda: reports.append(push(ctx, batch, quick_setup(ctx, sandbox)))
    )
    resume.start()
    while not hold.conflict.wait(0.05) and resume.is_alive():
        pass
    hold.release.set()  # monday finishes the killed process's request
    resume.join(60)
    assert hold.done.wait(30)
    FIGURES.trials += 1
    FIGURES.kills += 1
    [report] = reports
    assert (report.status, report.succeeded) == ("PUSHED", 6)
    _finish_plain(ctx, sandbox, uuids)  # nothing twice on the board
    assert hold.conflict.is_set(), "the resume sent the request again, under its key"


def _finish_plain(ctx, server, uuids: set[str]) -> None:  # type: ignore[no-untyped-def]
    result = audit(ctx, server.dump())
    result.record()
    result.assert_clean("after the resume")
    found = detection.preview(ctx, CUSTOMER)
    assert not {c.record_uuid for c in found.changes} & uuids


@pytest.mark.parametrize("replay", list(REPLAY_MODES))
def test_an_undo_killed_while_recreating_deleted_sizes_recreates_each_once(
    db, ctx, make_sandbox, tmp_path, replay
):
    """The batch removed sizes (their subitems were deleted); its undo creates them again.
    Killed once such a request ran, the undo is finished with other settings (a larger
    chunk): each size must come back once, whether monday replays the request's answer
    under its key or not (the finishing undo looks at the board before re-creating)."""
    sandbox = make_sandbox(**REPLAY_MODES[replay])
    with FIGURES.counted_in(replay):
        _undo_killed_while_recreating(db, ctx, sandbox, tmp_path)


def _undo_killed_while_recreating(db, ctx, sandbox, tmp_path) -> None:  # type: ignore[no-untyped-def]
    home = tmp_path / "cli-home"
    write_cli_settings(home, chunk=2)
    setup = quick_setup(ctx, sandbox, limits=Limits(window_seconds=1, max_mutations_per_request=10))
    first = staging.stage(ctx, CUSTOMER, limit=6).batch_id
    push(ctx, first, setup)
    baseline = board_view(sandbox.dump())
    table = ctx.store.source().table
    with ctx.store.engine.begin() as conn:  # every order loses one of its sizes
        for row in staged(ctx, first):
            sizes = sorted(row.values["sizes"])
            if len(sizes) >= 2:
                conn.execute(
                    update(table)
                    .where(table.c.record_uuid == row.record_uuid)
                    .values({sizes[0]: None})
                )
    second = staging.stage(ctx, CUSTOMER, types=(ChangeType.CHANGED,)).batch_id
    push(ctx, second, setup)
    switch = KillSwitch(sandbox, 2, "executed", field="create_subitem")
    proc = CliProcess(["rollback", "--batch", str(second)], cli_env(db, sandbox, home), tmp_path)
    try:
        assert wait_for(switch.hit, proc), "the undo re-creates sizes"
        assert proc.kill()
    finally:
        switch.remove()
    proc.wait()
    assert switch.finished.wait(30)
    assert undo(ctx, second, setup).status == BatchStatus.UNDONE
    FIGURES.trials += 1
    FIGURES.kills += 1
    result = audit(ctx, sandbox.dump())
    result.record()
    result.assert_clean("after the undo")
    assert board_view(sandbox.dump()) == baseline
