"""The batch's claim (sql/005), on a SQLite file and on a real PostgreSQL server: one run
holds a batch, a second is refused and told who holds it, and takes the batch over once the
first has been silent past the lease or is known to be gone; only the holder's heartbeat
keeps the batch, and the end of a run gives the claim up.

The store alone: which processes are alive is the caller's `holder_gone` (batch_run.py);
here it is a stand-in that records what it was asked.
"""

from __future__ import annotations

import os
import re
import socket
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import datetime, timedelta

import pytest
from sqlalchemy import Engine, event, select, update
from sqlalchemy.sql import Update

from orders_sync_gui.core.columns import COLOUR, ORDER_NUMBER, PO_NUMBER, STYLE
from orders_sync_gui.core.models import BatchStatus, ChangeType
from orders_sync_gui.store import pushing
from orders_sync_gui.store.database import Store
from orders_sync_gui.store.pushing import BatchClaim
from orders_sync_gui.store.schema import batches
from orders_sync_gui.store.staging import BatchInfo, get_batch, list_batches, stage_batch

T0 = datetime(2026, 11, 2, 9, 30)
LEASE = 600.0
ALICE = BatchClaim(run="a1" * 16, pid=4242, host="PC-ALICE", operator="alice", activity="push")
BOB = BatchClaim(run="b2" * 16, pid=777, host="PC-BOB", operator="bob", activity="push")
PUSH_FROM = (BatchStatus.STAGED, BatchStatus.PARTIAL)


@pytest.fixture
def engine(db_url) -> Iterator[Engine]:
    store = Store(db_url, new_file=True)
    yield store.engine
    store.dispose()


@pytest.fixture
def batch(engine) -> int:
    """A staged batch of GREYSON's, as staging makes it (its rows do not matter here)."""
    info = stage_batch(
        engine,
        customer="GREYSON",
        operator="a.nowak",
        changes=[],
        change_types=[ChangeType.NEW],
        key_fields=(ORDER_NUMBER, PO_NUMBER, STYLE, COLOUR),
        now=T0 - timedelta(hours=1),
    )
    return info.batch_id


def at(seconds: float) -> datetime:
    return T0 + timedelta(seconds=seconds)


def claim(
    engine: Engine,
    batch_id: int,
    who: BatchClaim,
    now: datetime,
    gone: Callable[[BatchClaim], bool] = lambda _claim: False,
) -> BatchClaim | None:
    with engine.begin() as conn:
        return pushing.claim_batch(
            conn,
            batch_id,
            claim=who,
            now=now,
            from_statuses=PUSH_FROM,
            lease_seconds=LEASE,
            holder_gone=gone,
        )


def heartbeat(engine: Engine, batch_id: int, who: BatchClaim, now: datetime) -> bool:
    with engine.begin() as conn:
        return pushing.heartbeat(conn, batch_id, who.run, now)


def shown(engine: Engine, batch_id: int) -> BatchInfo:
    """The batch as `orders-sync batches` and the window show it."""
    with engine.connect() as conn:
        return get_batch(conn, batch_id)


def claim_columns(engine: Engine, batch_id: int) -> tuple:
    c = batches.c
    stmt = select(
        c.claim_run, c.claim_pid, c.claim_host, c.claim_operator, c.claim_activity, c.claim_at
    ).where(c.batch_id == batch_id)
    with engine.connect() as conn:
        return tuple(conn.execute(stmt).one())


class Asked:
    """A holder_gone stand-in: records each claim it is asked about, answers `answer`."""

    def __init__(self, answer: Callable[[BatchClaim], bool] = lambda _claim: False) -> None:
        self.asked: list[BatchClaim] = []
        self.answer = answer

    def __call__(self, holder: BatchClaim) -> bool:
        self.asked.append(holder)
        return self.answer(holder)


def test_a_run_claims_a_staged_batch_and_the_history_names_it(engine, batch):
    assert claim(engine, batch, ALICE, T0) is None
    info = shown(engine, batch)
    assert info.status == BatchStatus.PUSHING
    assert info.message == "push in progress · run a1a1a1a1 · pid 4242 on PC-ALICE · alice"
    assert info.updated_at == T0
    assert claim_columns(engine, batch) == (ALICE.run, 4242, "PC-ALICE", "alice", "push", T0)
    with engine.connect() as conn:
        [listed] = list_batches(conn, "GREYSON")
    assert listed.message == info.message


def test_a_second_run_is_refused_and_told_who_holds_the_batch(engine, batch):
    claim(engine, batch, ALICE, T0)
    asked = Asked()
    holder = claim(engine, batch, BOB, at(60), asked)
    assert holder == replace(ALICE, at=T0)
    assert str(holder) == "push in progress · run a1a1a1a1 · pid 4242 on PC-ALICE · alice"
    assert asked.asked == [holder], "whether Alice's run is gone is asked of her claim"
    # The refusal changed nothing: the batch is Alice's, last heard of at T0.
    info = shown(engine, batch)
    assert (info.status, info.updated_at) == (BatchStatus.PUSHING, T0)
    assert "alice" in (info.message or "") and claim_columns(engine, batch)[0] == ALICE.run


def test_a_silent_run_is_taken_over_once_its_lease_has_run_out(engine, batch):
    claim(engine, batch, ALICE, T0)
    assert claim(engine, batch, BOB, at(LEASE)) == replace(ALICE, at=T0), "not yet"
    assert claim(engine, batch, BOB, at(LEASE + 1)) is None
    info = shown(engine, batch)
    assert info.message == "push in progress · run b2b2b2b2 · pid 777 on PC-BOB · bob"
    assert claim_columns(engine, batch) == (BOB.run, 777, "PC-BOB", "bob", "push", at(LEASE + 1))
    # Alice's run, if it wakes up, no longer holds the batch: its heartbeat says so.
    assert heartbeat(engine, batch, ALICE, at(LEASE + 2)) is False
    assert shown(engine, batch).updated_at == at(LEASE + 1)


def test_a_run_known_to_be_gone_is_taken_over_at_once(engine, batch):
    claim(engine, batch, ALICE, T0)
    asked = Asked(lambda holder: holder.pid == 4242 and holder.host == "PC-ALICE")
    assert claim(engine, batch, BOB, at(5), asked) is None
    assert [h.run for h in asked.asked] == [ALICE.run]
    assert shown(engine, batch).message == (
        "push in progress · run b2b2b2b2 · pid 777 on PC-BOB · bob"
    )


def test_only_the_holder_s_heartbeat_keeps_the_batch(engine, batch):
    claim(engine, batch, ALICE, T0)
    assert heartbeat(engine, batch, ALICE, at(LEASE - 10)) is True
    assert shown(engine, batch).updated_at == at(LEASE - 10)
    # Past T0's lease, Alice's heartbeat keeps Bob out ...
    assert claim(engine, batch, BOB, at(LEASE + 5)) == replace(ALICE, at=T0)
    # ... and Bob's heartbeat, not being the holder's, neither renews nor takes anything.
    assert heartbeat(engine, batch, BOB, at(LEASE + 6)) is False
    assert shown(engine, batch).updated_at == at(LEASE - 10)
    assert claim_columns(engine, batch)[0] == ALICE.run
    # Silent for a lease since her last heartbeat, Alice's run is taken over.
    assert claim(engine, batch, BOB, at(2 * LEASE - 10 + 1)) is None
    assert claim_columns(engine, batch)[0] == BOB.run


def test_the_end_of_a_run_gives_up_its_claim(engine, batch):
    claim(engine, batch, ALICE, T0)
    message = "3 of 5 rows pushed; 2 failed: push again to retry what is left"
    with engine.begin() as conn:
        pushing.set_batch(conn, batch, status=BatchStatus.PARTIAL, now=at(30), message=message)
    info = shown(engine, batch)
    assert (info.status, info.message) == (BatchStatus.PARTIAL, message)
    assert claim_columns(engine, batch) == (None,) * 6
    assert heartbeat(engine, batch, ALICE, at(40)) is False, "the ended run holds nothing"
    assert shown(engine, batch).updated_at == at(30)
    # The batch is free: the next push claims it at once, without asking about Alice.
    asked = Asked(lambda _holder: False)
    assert claim(engine, batch, BOB, at(31), asked) is None
    assert asked.asked == []
    assert claim_columns(engine, batch)[0] == BOB.run


def test_a_batch_an_earlier_app_left_pushing_waits_for_its_lease(engine, batch):
    """PUSHING with the claim only in its message (an app before sql/005, killed mid-run):
    nobody can tell whether that run lives, whatever the text says, so only the lease frees
    the batch; the refusal shows the old text, which names the run."""
    old = f"push in progress · run 1a2b3c4d · pid 999999999 on {socket.gethostname()} · a.nowak"
    with engine.begin() as conn:
        conn.execute(
            update(batches)
            .where(batches.c.batch_id == batch)
            .values(status=BatchStatus.PUSHING.value, message=old, updated_at=T0)
        )
    asked = Asked(lambda _holder: True)  # "gone", if it were asked
    holder = claim(engine, batch, BOB, at(60), asked)
    assert holder is not None and not holder.known and str(holder) == old
    assert asked.asked == [], "an unknown run is not judged by its text"
    assert shown(engine, batch).message == old
    assert claim(engine, batch, BOB, at(LEASE + 1), asked) is None
    assert shown(engine, batch).message == (
        "push in progress · run b2b2b2b2 · pid 777 on PC-BOB · bob"
    )


def test_two_runs_racing_for_a_batch_only_one_wins(engine, batch):
    """Both read the batch STAGED; Alice's claim commits between Bob's read and Bob's write:
    Bob's write matches nothing, and he is told Alice holds the batch."""
    raced: list[bool] = []

    def alice_first(conn, element, multiparams, params, options):  # type: ignore[no-untyped-def]
        if isinstance(element, Update) and element.table is batches and not raced:
            raced.append(True)
            assert claim(engine, batch, ALICE, T0) is None  # another connection, committed

    with engine.connect() as conn:
        event.listen(conn, "before_execute", alice_first)
        with conn.begin():
            holder = pushing.claim_batch(
                conn,
                batch,
                claim=BOB,
                now=T0,
                from_statuses=PUSH_FROM,
                lease_seconds=LEASE,
                holder_gone=lambda _holder: False,
            )
    assert raced == [True]
    assert holder == replace(ALICE, at=T0)
    assert "alice" in str(holder)
    assert claim_columns(engine, batch)[0] == ALICE.run
    assert shown(engine, batch).message == str(ALICE)


def test_a_new_claim_names_this_process(engine, batch):
    mine = BatchClaim.new("undo", "tester")
    assert re.fullmatch(r"[0-9a-f]{32}", mine.run) and BatchClaim.new("undo", "tester") != mine
    assert (mine.pid, mine.host) == (os.getpid(), socket.gethostname())
    assert claim(engine, batch, mine, T0) is None
    assert shown(engine, batch).message == (
        f"undo in progress · run {mine.run[:8]} · pid {os.getpid()} on "
        f"{socket.gethostname()} · tester"
    )
    assert claim(engine, batch, BOB, at(1)) == replace(mine, at=T0)
