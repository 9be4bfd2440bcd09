"""Faults at the edge: monday.com failing a share of the requests (500, dropped connections
before and after executing, answers slower than the client waits, 423 locked), each of its
429 limits (complexity budget, minute rate, concurrency, daily calls, IP), and a database
connection lost in the middle of staging or of a push.

A push either completes within its retry bounds, or stops with one clear message once a
bound is spent; either way pushing again finishes it, with nothing twice on the board and
every row accounted for.
"""

from __future__ import annotations

import socket
import threading
from datetime import datetime

import psycopg
import pytest
import requests
from relkit import CUSTOMER, FIGURES, audit, batch_truth, store_problems
from sqlalchemy import event, func, select
from sqlalchemy.exc import DBAPIError, OperationalError

from orders_sync_gui.core.models import BatchStatus
from orders_sync_gui.monday.sandbox import FaultConfig
from orders_sync_gui.services import detection, staging
from orders_sync_gui.services.context import open_context
from orders_sync_gui.services.monday_setup import Limits
from orders_sync_gui.services.push import PushStopped, push
from orders_sync_gui.services.undo import UndoStopped, undo
from orders_sync_gui.store import pushing
from orders_sync_gui.store.pushing import BatchClaim
from orders_sync_gui.store.schema import customer_locks, staged_rows, staged_subitems
from orders_sync_gui.store.staging import get_batch
from tests.monday.pushkit import (
    TOKEN,
    SleepRecorder,
    make_demo_db,
    quick_setup,
    row_statuses,
    staged,
)

KINDS = {
    "500": ("error_500",),
    "drop-before": ("drop_before_execute",),
    "drop-after": ("drop_after_execute",),
    "slow-past-timeout": ("delay",),
    "423": ("locked_423",),
    "mixed": ("error_500", "drop_after_execute", "delay", "drop_before_execute", "locked_423"),
}
RATES = (0.01, 0.05, 0.15, 0.30)
TIMEOUT = 0.25  # the client's timeout; a "slow" answer comes after 0.4 s


def push_to_the_end(ctx, batch: int, setup, *, attempts: int = 12) -> tuple[object, list[str]]:
    """Push, and push again after every stop, as an operator would; (report, stop messages)."""
    stops: list[str] = []
    for _ in range(attempts):
        try:
            report = push(ctx, batch, setup)
        except PushStopped as stopped:
            stops.append(str(stopped))
            continue
        if report.status == BatchStatus.PUSHED:
            return report, stops
    raise AssertionError(f"batch {batch} never finished; stops: {stops[-3:]}")


def assert_all_accounted(ctx, server, batch: int) -> None:
    """Every row of the batch on the board once, with its values; nothing lost or doubled."""
    uuids = {r.record_uuid for r in staged(ctx, batch)}
    assert row_statuses(ctx, batch) == {"PUSHED": len(uuids)}
    assert batch_truth(ctx, batch) == []
    result = audit(ctx, server.dump())
    result.record()
    result.assert_clean(f"batch {batch}")
    found = detection.preview(ctx, CUSTOMER)
    assert not {c.record_uuid for c in found.changes} & uuids


def assert_clear_stop(message: str) -> None:
    """One line an operator can act on: what happened, and that pushing again resumes."""
    assert "\n" not in message and TOKEN not in message and "Traceback" not in message
    assert "push again" in message, message


# ---------------------------------------------------------------------- injected faults
@pytest.mark.parametrize("rate", RATES, ids=[f"{r:.0%}" for r in RATES])
@pytest.mark.parametrize("kind", list(KINDS))
def test_a_push_through_injected_faults_finishes_once(ctx, make_sandbox, kind, rate):
    faults = FaultConfig(
        rate=rate, seed=int(rate * 1000) + len(kind), kinds=KINDS[kind], delay_seconds=0.4
    )
    server = make_sandbox(faults=faults)
    setup = quick_setup(
        ctx,
        server,
        limits=Limits(window_seconds=1, max_mutations_per_request=3),
        timeout_seconds=TIMEOUT,
        max_attempts=5,
    )
    batch = staging.stage(ctx, CUSTOMER, limit=12).batch_id
    report, stops = push_to_the_end(ctx, batch, setup)
    for message in stops:
        assert_clear_stop(message)
    assert_all_accounted(ctx, server, batch)
    hits = sum(server.stats()["faults"].values())
    if rate >= 0.15:
        assert hits >= 1, "the sandbox injected faults at this rate"
    if hits and not stops:
        assert report.retries >= 1  # the faults were met and ridden out


@pytest.mark.parametrize("kind", ["mixed", "drop-after", "slow-past-timeout"])
def test_a_spent_retry_bound_stops_with_one_message_and_the_next_push_resumes(
    ctx, make_sandbox, kind
):
    # One attempt per request: every fault spends the bound.
    server = make_sandbox(
        faults=FaultConfig(rate=0.3, seed=11, kinds=KINDS[kind], delay_seconds=0.4)
    )
    setup = quick_setup(
        ctx,
        server,
        limits=Limits(window_seconds=1, max_mutations_per_request=3),
        timeout_seconds=TIMEOUT,
        max_attempts=1,
    )
    batch = staging.stage(ctx, CUSTOMER, limit=12).batch_id
    stops = []
    for _ in range(8):
        try:
            if push(ctx, batch, setup).status == BatchStatus.PUSHED:
                break
        except PushStopped as stopped:
            stops.append(str(stopped))
    assert stops, "at 30% with no retry allowed, the push stopped"
    for message in stops:
        assert_clear_stop(message)
    assert store_problems(ctx) == [] and batch_truth(ctx, batch) == []
    # Later, with retries allowed again, pushing again finishes the batch.
    patient = quick_setup(
        ctx, server, limits=Limits(window_seconds=1, max_mutations_per_request=3), max_attempts=6
    )
    push_to_the_end(ctx, batch, patient)
    assert_all_accounted(ctx, server, batch)


# ---------------------------------------------------------------------- monday's 429s
def _hold_a_slot(server):  # type: ignore[no-untyped-def]
    """Park one request in the sandbox so that its only concurrency slot is taken."""
    server.app.gate.set_open(False)
    worker = threading.Thread(
        target=requests.post,
        args=(server.url,),
        kwargs={
            "json": {"query": "query { complexity { after } }"},
            "headers": {"Authorization": TOKEN},
            "timeout": 10,
        },
    )
    worker.start()
    assert server.wait_held(1)

    def release() -> None:
        server.app.gate.set_open(True)
        worker.join(timeout=10)

    return release


LIMITS = {
    # name: (sandbox overrides, setup knobs, monday's code for it)
    "complexity-budget": ({"complexity_budget": 90_000}, {"pace": False},
                          "COMPLEXITY_BUDGET_EXHAUSTED"),
    "minute-rate": ({"requests_per_minute": 4}, {}, "RATE_LIMIT_EXCEEDED"),
    "concurrency": ({"max_concurrency": 1}, {}, "maxConcurrencyExceeded"),
    "ip": ({"ip_limit": 4, "ip_window_seconds": 1.0}, {}, "IP_RATE_LIMIT_EXCEEDED"),
}  # fmt: skip


@pytest.mark.parametrize("limit", list(LIMITS))
def test_each_429_is_waited_out_as_monday_asks(ctx, make_sandbox, limit):
    overrides, knobs, code = LIMITS[limit]
    server = make_sandbox(**overrides)
    recorder = SleepRecorder(_hold_a_slot(server) if limit == "concurrency" else None)
    setup = quick_setup(
        ctx,
        server,
        limits=Limits(window_seconds=1, max_mutations_per_request=5),
        sleep=recorder,
        **knobs,
    )
    batch = staging.stage(ctx, CUSTOMER, limit=4).batch_id
    report, stops = push_to_the_end(ctx, batch, setup)
    assert stops == []  # within the bounds: no stop at all
    assert server.stats()["errors"].get(code, 0) >= 1, f"the sandbox refused with {code}"
    # Retried after monday's Retry-After / retry_in_seconds (whole seconds, here 1), plus a
    # little jitter: never at once, never after the client's own short backoff. A budget
    # refusal may end at the window's reset the client read itself (Pacer.exhausted: monday
    # rounds both figures up to whole seconds), a little before the refusal's own second.
    low = 0.5 if limit == "complexity-budget" else 1.0
    assert recorder.waits and all(low <= w <= 1.2 for w in recorder.waits), recorder.waits
    assert report.retries >= 1
    assert_all_accounted(ctx, server, batch)


@pytest.mark.parametrize("calls", [3, 6], ids=["during-the-reads", "mid-push"])
def test_the_daily_limit_stops_with_one_message_and_the_next_day_resumes(ctx, make_sandbox, calls):
    server = make_sandbox(daily_limit=calls)
    setup = quick_setup(ctx, server, limits=Limits(window_seconds=1, max_mutations_per_request=3))
    batch = staging.stage(ctx, CUSTOMER, limit=6).batch_id
    with pytest.raises(PushStopped) as stopped:
        push(ctx, batch, setup)
    message = str(stopped.value)
    assert message.count("daily request limit") == 1
    assert_clear_stop(message)
    assert store_problems(ctx) == [] and batch_truth(ctx, batch) == []
    with pytest.raises(Exception, match=f"open batch {batch}"):
        staging.stage(ctx, CUSTOMER, limit=2)  # the customer stays locked meanwhile
    server.config.daily_limit = 10_000  # the next day
    server.app.limits.reset()
    report, stops = push_to_the_end(ctx, batch, setup)
    assert stops == [] and report.status == BatchStatus.PUSHED
    assert_all_accounted(ctx, server, batch)


def test_a_wait_beyond_the_bound_stops_the_push_and_it_resumes(ctx, make_sandbox):
    # The budget refuses; monday asks for a second's wait; the bound allows half of one.
    server = make_sandbox(complexity_budget=60_000)
    batch = staging.stage(ctx, CUSTOMER, limit=4).batch_id
    limits = Limits(window_seconds=1, max_mutations_per_request=3)  # 30,000 a request
    tight = quick_setup(ctx, server, limits=limits, pace=False, max_wait_seconds=0.5)
    with pytest.raises(PushStopped) as stopped:
        push(ctx, batch, tight)
    assert "bound" in str(stopped.value)
    assert_clear_stop(str(stopped.value))
    report, _ = push_to_the_end(ctx, batch, quick_setup(ctx, server, limits=limits))
    assert report.status == BatchStatus.PUSHED
    assert_all_accounted(ctx, server, batch)


def test_an_undo_stopped_after_a_crash_can_be_finished_at_once(ctx, make_sandbox):
    """A killed undo (its batch left PUSHING), then one monday stops at its first revert:
    the batch must not stay "busy" (nobody runs it) until a lease runs out."""
    server = make_sandbox()
    setup = quick_setup(ctx, server, limits=Limits(window_seconds=1, max_mutations_per_request=3))
    batch = staging.stage(ctx, CUSTOMER, limit=4).batch_id
    push(ctx, batch, setup)
    dead = BatchClaim(
        run="dead" * 8, pid=999999999, host=socket.gethostname(), operator="a.nowak",
        activity="undo",
    )  # fmt: skip
    with ctx.store.engine.begin() as conn:  # as a killed undo leaves it: PUSHING, a dead pid
        claimed = pushing.claim_batch(
            conn,
            batch,
            claim=dead,
            now=datetime.now().replace(microsecond=0),
            from_statuses=(BatchStatus.PUSHED,),
            lease_seconds=0,
            holder_gone=lambda _holder: False,
        )
    assert claimed is None
    # The board's layout is known already: the undo claims, then its first delete is
    # refused (today's calls are spent).
    server.app.limits.daily.limit = server.app.limits.daily.used
    with pytest.raises(UndoStopped, match="daily request limit"):
        undo(ctx, batch, setup)
    with ctx.store.engine.connect() as conn:
        status = get_batch(conn, batch).status
    assert status == BatchStatus.PUSHED, "nothing was reverted: the batch is as pushed"
    assert store_problems(ctx) == []  # ...and its customer free again, as a pushed batch's
    server.config.daily_limit = 10_000
    server.app.limits.reset()
    assert undo(ctx, batch, setup).status == BatchStatus.UNDONE
    assert store_problems(ctx) == []


# ---------------------------------------------------------------------- the database goes away
def _count(ctx, table) -> int:  # type: ignore[no-untyped-def]
    with ctx.store.engine.connect() as conn:
        return conn.execute(select(func.count()).select_from(table)).scalar_one()


def _staging_statements(ctx) -> int:  # type: ignore[no-untyped-def]
    """How many statements the staging transaction runs, from the batch's INSERT on (the
    batch is rolled back after)."""
    seen = []

    def listener(conn, cursor, statement, *args):  # type: ignore[no-untyped-def]
        if seen or statement.startswith('INSERT INTO "MON_BatchProcessing"'):
            seen.append(statement)

    event.listen(ctx.store.engine, "before_cursor_execute", listener)
    try:
        batch = staging.stage(ctx, CUSTOMER, limit=5)
    finally:
        event.remove(ctx.store.engine, "before_cursor_execute", listener)
    staging.rollback(ctx, batch.batch_id)
    return len(seen)


def _nothing_staged(ctx) -> None:  # type: ignore[no-untyped-def]
    assert _count(ctx, staged_rows) == _count(ctx, staged_subitems) == 0
    assert _count(ctx, customer_locks) == 0
    assert all(b.status == BatchStatus.ROLLED_BACK for b in staging.history(ctx))
    assert store_problems(ctx) == []


def test_a_connection_lost_at_any_statement_of_staging_leaves_nothing_behind(ctx):
    """SQLite: the connection fails (OperationalError) at each statement in turn."""
    total = _staging_statements(ctx)
    assert total >= 5
    for position in range(1, total + 1):
        seen = []

        def drop(conn, cursor, statement, parameters, context, many, at=position, seen=seen):  # type: ignore[no-untyped-def]
            if seen or statement.startswith('INSERT INTO "MON_BatchProcessing"'):
                seen.append(statement)
            if len(seen) == at:
                raise OperationalError(statement, {}, ConnectionResetError("connection lost"))

        event.listen(ctx.store.engine, "before_cursor_execute", drop)
        try:
            with pytest.raises(OperationalError):
                staging.stage(ctx, CUSTOMER, limit=5)
        finally:
            event.remove(ctx.store.engine, "before_cursor_execute", drop)
        FIGURES.faults_injected += 1
        _nothing_staged(ctx)
    batch = staging.stage(ctx, CUSTOMER, limit=5)  # and staging works again
    assert batch.item_count == 5 and len(staged(ctx, batch.batch_id)) == 5


@pytest.fixture
def pg_ctx(pg_url):  # type: ignore[no-untyped-def]
    context = open_context(make_demo_db(pg_url))
    yield context
    context.close()


@pytest.mark.postgres
def test_a_postgres_backend_terminated_mid_staging_rolls_the_batch_back(pg_ctx, pg_url):
    """PostgreSQL: the staging connection's server process is really terminated
    (pg_terminate_backend, from another connection) just before each write of the
    staging transaction in turn."""
    ctx = pg_ctx
    url = ctx.store.engine.url
    admin = psycopg.connect(
        host=url.host, port=url.port, user=url.username, dbname=url.database, autocommit=True
    )
    try:
        for position in range(1, 7):  # the staging transaction's statements, in turn
            seen = []

            def terminate(conn, cursor, statement, params, context, many, at=position, seen=seen):  # type: ignore[no-untyped-def]
                if seen or statement.startswith('INSERT INTO "MON_BatchProcessing"'):
                    seen.append(statement)
                    if len(seen) == at:
                        pid = conn.connection.dbapi_connection.info.backend_pid
                        # returns once the backend is really gone (or after 5 s)
                        admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))

            event.listen(ctx.store.engine, "before_cursor_execute", terminate)
            try:
                with pytest.raises(DBAPIError):
                    staging.stage(ctx, CUSTOMER, limit=5)
            finally:
                event.remove(ctx.store.engine, "before_cursor_execute", terminate)
            assert seen, "the staging transaction was reached"
            FIGURES.faults_injected += 1
            _nothing_staged(ctx)
    finally:
        admin.close()
    batch = staging.stage(ctx, CUSTOMER, limit=5)  # a new connection, and it works again
    assert batch.item_count == 5


def test_a_connection_lost_mid_push_the_same_process_pushes_again_at_once(ctx, make_sandbox):
    """The GUI's case: the database drops during a push (the push stops with a database
    error); the operator clicks Push again in the same window."""
    server = make_sandbox()
    setup = quick_setup(ctx, server, limits=Limits(window_seconds=1, max_mutations_per_request=3))
    batch = staging.stage(ctx, CUSTOMER, limit=6).batch_id
    writes = []

    def drop(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
        if statement.lstrip().upper().startswith("UPDATE"):
            writes.append(statement)
            if len(writes) == 6:
                raise OperationalError(statement, {}, ConnectionResetError("connection lost"))

    event.listen(ctx.store.engine, "before_cursor_execute", drop)
    try:
        with pytest.raises(OperationalError):
            push(ctx, batch, setup)
    finally:
        event.remove(ctx.store.engine, "before_cursor_execute", drop)
    FIGURES.faults_injected += 1
    assert store_problems(ctx) == []
    report, stops = push_to_the_end(ctx, batch, setup)
    assert stops == [] and report.status == BatchStatus.PUSHED
    assert_all_accounted(ctx, server, batch)
