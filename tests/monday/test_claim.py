"""One pusher per batch: a second run is refused while the first lives, and takes over once
the first is known to be gone (a dead process of this machine) or silent past the lease."""

from __future__ import annotations

import re
import socket
import subprocess
import sys
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import update

from orders_sync_gui.core.models import BatchStatus
from orders_sync_gui.services.batch_run import lease_seconds
from orders_sync_gui.services.push import BatchBusyError, push
from orders_sync_gui.services.undo import undo
from orders_sync_gui.store import pushing
from orders_sync_gui.store.pushing import BatchClaim
from orders_sync_gui.store.schema import batches
from tests.monday.pushkit import active, assert_no_duplicates, quick_setup, stage


def _ago(seconds: float) -> datetime:
    return datetime.now().replace(microsecond=0) - timedelta(seconds=seconds)


def _hold(ctx, batch_id: int, holder: BatchClaim, *, age_seconds: float = 0) -> None:
    """Make the (staged) batch another run's: that run's claim, last heard of
    `age_seconds` ago."""
    with ctx.store.engine.begin() as conn:
        claimed = pushing.claim_batch(
            conn,
            batch_id,
            claim=holder,
            now=_ago(age_seconds),
            from_statuses=(BatchStatus.STAGED,),
            lease_seconds=0,
            holder_gone=lambda _holder: False,
        )
    assert claimed is None


def _silent_since(ctx, batch_id: int, seconds: float) -> None:
    """The holder has not been heard of for `seconds`."""
    with ctx.store.engine.begin() as conn:
        conn.execute(
            update(batches).where(batches.c.batch_id == batch_id).values(updated_at=_ago(seconds))
        )


def _run(pid: int, host: str, operator: str) -> BatchClaim:
    return BatchClaim(run="abc0" * 8, pid=pid, host=host, operator=operator, activity="push")


def _dead_pid() -> int:
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        capture_output=True,
        text=True,
        check=True,
    )
    return int(done.stdout)


def test_a_live_pusher_keeps_the_batch(ctx, sandbox):
    batch = stage(ctx, limit=5)
    _hold(ctx, batch, _run(1, socket.gethostname(), "a.nowak"))
    with pytest.raises(BatchBusyError, match=r"batch \d+ is busy: push in progress .* a\.nowak"):
        push(ctx, batch, quick_setup(ctx, sandbox))
    assert sandbox.stats()["mutations"] == 0  # nothing was sent by the refused run


def test_a_crashed_pusher_of_this_machine_is_taken_over_at_once(ctx, sandbox):
    batch = stage(ctx, limit=5)
    _hold(ctx, batch, _run(_dead_pid(), socket.gethostname(), "a.nowak"))
    report = push(ctx, batch, quick_setup(ctx, sandbox))
    assert (report.status, report.succeeded) == ("PUSHED", 5)
    assert len(active(sandbox.dump()["items"])) == 5


def test_another_machine_s_run_is_waited_for_until_its_lease_runs_out(ctx, sandbox):
    batch = stage(ctx, limit=5)
    setup = quick_setup(ctx, sandbox)
    _hold(ctx, batch, _run(4242, "another-host", "b.smith"), age_seconds=5)
    with pytest.raises(BatchBusyError, match=r"pid 4242 on another-host · b\.smith"):
        push(ctx, batch, setup)
    _silent_since(ctx, batch, lease_seconds(setup) + 5)
    report = push(ctx, batch, setup)
    assert report.status == "PUSHED"
    assert_no_duplicates(sandbox.dump())


def test_two_claims_racing_on_the_same_state_only_one_wins(ctx, sandbox):
    batch = stage(ctx, limit=2)
    now = datetime.now().replace(microsecond=0)
    kwargs = {
        "now": now,
        "from_statuses": (BatchStatus.STAGED,),
        "lease_seconds": 60,
        "holder_gone": lambda _holder: False,
    }
    one, two = BatchClaim.new("push", "a.nowak"), BatchClaim.new("push", "b.smith")
    with ctx.store.engine.begin() as conn:
        first = pushing.claim_batch(conn, batch, claim=one, **kwargs)
        second = pushing.claim_batch(conn, batch, claim=two, **kwargs)
    assert first is None and second == replace(one, at=now)


def test_a_batch_an_earlier_app_left_pushing_waits_for_its_lease(ctx, sandbox):
    """Left PUSHING by an app before sql/005 (killed mid-push): its claim is only text in
    the message, which names a dead process of this machine. Nobody reads that text any
    more: the push waits for the lease, then takes the batch over."""
    batch = stage(ctx, limit=5)
    setup = quick_setup(ctx, sandbox)
    old = f"push in progress · run abc · pid {_dead_pid()} on {socket.gethostname()} · a.nowak"
    with ctx.store.engine.begin() as conn:
        conn.execute(
            update(batches)
            .where(batches.c.batch_id == batch)
            .values(status=BatchStatus.PUSHING.value, message=old, updated_at=_ago(5))
        )
    with pytest.raises(BatchBusyError, match=f"is busy: {re.escape(old)}"):
        push(ctx, batch, setup)
    assert sandbox.stats()["mutations"] == 0
    _silent_since(ctx, batch, lease_seconds(setup) + 5)
    report = push(ctx, batch, setup)
    assert (report.status, report.succeeded) == ("PUSHED", 5)
    assert_no_duplicates(sandbox.dump())


def test_a_batch_being_undone_cannot_be_pushed(ctx, sandbox):
    batch = stage(ctx, limit=3)
    setup = quick_setup(ctx, sandbox)
    push(ctx, batch, setup)
    undo(ctx, batch, setup)
    with ctx.store.engine.begin() as conn:  # as if the undo had been killed half-way
        conn.execute(
            update(batches)
            .where(batches.c.batch_id == batch)
            .values(status=BatchStatus.PARTIAL.value)
        )
    with pytest.raises(Exception, match="being undone"):
        push(ctx, batch, setup)
