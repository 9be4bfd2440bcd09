"""One run of a batch against monday.com: the skeleton that push and undo both fill in.

A run loads the batch's rows, opens the board (checked against the mapping), checks it may
go on (RunHooks.check: nothing is claimed or sent before), claims the batch (BatchBusyError
while another run holds it), recovers what a stopped run left in flight
(RunHooks.recover), sends the steps the hooks plan one by one, recording each response
before the next request leaves, and finishes by writing the batch's status, giving up its
claim (and the customer's lock when the run is complete). push.py and undo.py implement
the hooks; recovery.py is the crash recovery both use.
"""

from __future__ import annotations

import hashlib
import logging
import os
import socket
import threading
import time
from abc import ABC, abstractmethod
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from ..core.mapping import BoardMapping
from ..core.models import BatchStatus
from ..core.staged import StagedRow, StagedSubitem, StatusChange
from ..monday.board import Board, check_mapping, fetch_board
from ..monday.client import MondayClient, MondayError
from ..monday.operations import ChunkPolicy, Operation, OperationResult, RunStats, run_operations
from ..store import pushing
from ..store.staging import BatchInfo, BatchStateError, get_batch
from .context import Context
from .made_already import made_already
from .monday_setup import MondaySetup

log = logging.getLogger(__name__)

BOARD_CACHE_SECONDS = 600.0
# monday's answers for an item that no longer exists (deleted by hand, or by a request whose
# answer a crash lost) are the client's to recognise: FieldError.gone (monday/client.py).


@dataclass(slots=True)
class Progress:
    phase: str
    done: int
    total: int
    requests: int
    failed: int
    # The rows and sizes whose status this step recorded: a window shows them in place.
    changes: tuple[StatusChange, ...] = ()
    # While the client waits (pacing, a retry's backoff): the seconds left, and why. A
    # report comes at least once a second then.
    waiting: float = 0.0
    wait_reason: str = ""
    elapsed: float = 0.0  # since the run started


def now() -> datetime:
    """Naive local time, to the second: what operators read, and what DATETIME2 stores."""
    return datetime.now().replace(microsecond=0)


@dataclass(slots=True)
class Step:
    """Operations a run sends together, and how their answers are recorded."""

    ops: list[Operation]
    phase: str
    record: Callable[[list[OperationResult]], None]
    # Runs before each request leaves: a push marks its rows SENDING (their outcome is
    # unknown until the answer is recorded). None: nothing to mark.
    before_send: Callable[[list[Operation]], None] | None = None
    policy: ChunkPolicy | None = None  # None: the setup's limits


class BatchRun:
    """One push or undo run of a batch: the client, the board, the batch's rows, the claim,
    and the statuses recorded since the last progress report."""

    def __init__(
        self,
        ctx: Context,
        setup: MondaySetup,
        batch: BatchInfo,
        progress: Callable[[Progress], None] | None,
        should_cancel: Callable[[], bool],
        cancel: threading.Event | None = None,
    ) -> None:
        self.ctx = ctx
        self.setup = setup
        self.mapping: BoardMapping = ctx.mapping
        self.batch = batch
        self.progress = progress
        self.cancel = cancel
        self.should_cancel = (
            should_cancel if cancel is None else (lambda: cancel.is_set() or should_cancel())
        )
        self.client: MondayClient = setup.client(cancel=cancel)
        self.client.on_wait = self.report_wait
        self.started = time.monotonic()
        self.phase = "start"
        self.stats = RunStats()
        self.board: Board | None = None
        self.rows: dict[int, StagedRow] = {}
        self.subs: dict[int, StagedSubitem] = {}
        self.loaded = False
        self.scope_salt = ""
        self.children: dict[int, list[StagedSubitem]] = {}
        self.owner = ""  # this run's id, once it has claimed the batch (see claim())
        self.done = 0
        self.total = 0
        self.taken_up = 0  # creates a lost answer had made, found on the board (see send)
        self._changed: dict[tuple[str, int], None] = {}  # an ordered set

    @property
    def engine(self):  # type: ignore[no-untyped-def]
        return self.ctx.store.engine

    @property
    def board_id(self) -> str:
        assert self.board is not None
        return self.board.board_id

    def open_board(self) -> Board:
        if not self.setup.board_id:
            raise BatchStateError("no monday.com board id: set it in Settings or the mapping")
        # The board's layout is read once per setup and kept a while: one read per customer
        # batch was a third of a run's requests (bench_push.py).
        cached = self.setup.board_cache.get(self.setup.board_id)
        if cached is not None and time.monotonic() - cached[1] < BOARD_CACHE_SECONDS:
            self.board = cached[0]
            self.board.groups_current = False  # read by an earlier run: read again to trust
        else:
            self.board = fetch_board(self.client, self.setup.board_id)
            self.setup.board_cache[self.setup.board_id] = (self.board, time.monotonic())
        check_mapping(self.board, self.mapping)
        return self.board

    def load(self) -> None:
        with self.engine.connect() as conn:
            self.rows = {r.stg_id: r for r in pushing.load_rows(conn, self.batch.batch_id)}
            self.subs = {
                s.stg_subitem_id: s for s in pushing.load_subitems(conn, self.batch.batch_id)
            }
        # Idempotency keys are scoped by the batch's own rows and creation time, not its id
        # alone: every database numbers batches from 1, and two databases' batch 1 within
        # monday's 30 minutes must not get each other's answers. Neither ever changes, so a
        # resume of the same batch still gets its own answers replayed.
        uuids = sorted(r.record_uuid for r in self.rows.values())
        salt = [str(self.batch.batch_id), self.batch.created_at.isoformat(), *uuids]
        digest = hashlib.sha256("\n".join(salt).encode())
        self.scope_salt = digest.hexdigest()[:16]
        self.children = {}
        for sub in self.subs.values():
            self.children.setdefault(sub.stg_parent_id, []).append(sub)
        self.loaded = True

    def read_batch(self) -> BatchInfo:
        """The batch as it stands now (its final status, counts and message)."""
        with self.engine.connect() as conn:
            return get_batch(conn, self.batch.batch_id)

    def subs_of(self, row: StagedRow) -> list[StagedSubitem]:
        # An index, not a scan: called per row by each response's bookkeeping and by the
        # report, a scan would make a 60,000-subitem push quadratic.
        return self.children.get(row.stg_id, [])

    def adopt_subitem(self, sub: StagedSubitem) -> None:
        """A size staged during the run (an item created anew gets every size)."""
        self.subs[sub.stg_subitem_id] = sub
        self.children.setdefault(sub.stg_parent_id, []).append(sub)

    # --- what the run writes --------------------------------------------------------------

    def save_row(self, conn: Connection, row: StagedRow, *, failed: bool = False) -> None:
        """A row's status, monday id and message, as the run holds them, into the store;
        `failed` counts a refusal (the row's next request gets a new Idempotency-Key)."""
        pushing.record_row(
            conn,
            row.stg_id,
            status=row.status,
            now=now(),
            item_id=row.item_id,
            error=row.error,
            failed=failed,
        )
        if failed:
            row.retry_count += 1
        self._changed[("row", row.stg_id)] = None

    def save_subitem(self, conn: Connection, sub: StagedSubitem, *, failed: bool = False) -> None:
        pushing.record_subitem(
            conn,
            sub.stg_subitem_id,
            status=sub.status,
            now=now(),
            subitem_id=sub.subitem_id,
            error=sub.error,
            failed=failed,
        )
        if failed:
            sub.retry_count += 1
        self._changed[("subitem", sub.stg_subitem_id)] = None

    def noted(self, kind: str, ident: int) -> None:
        """A status changed in a bulk write (see pushing.set_row_status)."""
        self._changed[(kind, ident)] = None

    def heartbeat(self, conn: Connection) -> None:
        """The run is alive (with each recorded response): keeps its claim from looking
        abandoned."""
        if self.owner:
            pushing.heartbeat(conn, self.batch.batch_id, self.owner, now())

    def order_of(self, op: Operation) -> str:
        ident = int(op.key[1:])
        row = self.rows[ident] if op.key[0] == "r" else self.rows[self.subs[ident].stg_parent_id]
        return row.who

    # --- sending ---------------------------------------------------------------------------

    def report_progress(self, phase: str) -> None:
        self.phase = phase
        changes = tuple(self._drain_changes())
        if self.progress is not None:
            self.progress(
                Progress(
                    phase,
                    self.done,
                    self.total,
                    self.stats.requests,
                    self.stats.failed,
                    changes,
                    elapsed=time.monotonic() - self.started,
                )
            )

    def report_wait(self, left: float, reason: str) -> None:
        """The client waits (called at least once a second meanwhile): said as progress."""
        if self.progress is not None:
            self.progress(
                Progress(
                    self.phase,
                    self.done,
                    self.total,
                    self.stats.requests,
                    self.stats.failed,
                    tuple(self._drain_changes()),
                    waiting=left,
                    wait_reason=reason,
                    elapsed=time.monotonic() - self.started,
                )
            )

    def _drain_changes(self) -> Iterator[StatusChange]:
        changed, self._changed = self._changed, {}
        for kind, ident in changed:
            if kind == "row":
                yield StatusChange.of_row(self.rows[ident])
            else:
                yield StatusChange.of_subitem(self.subs[ident])

    def send(self, step: Step) -> None:
        """Send a step's operations chunk by chunk; each answer is recorded before the
        next request leaves. A chunk whose answer was lost is looked at on the board before
        it is sent again: what it made already is taken up, the rest sent on."""
        ops = step.ops
        while ops:
            sent: set[str] = set()
            try:
                for results in run_operations(
                    self.client,
                    ops,
                    scope=f"{step.phase}:{self.batch.batch_id}:{self.scope_salt}",
                    policy=step.policy or self.setup.limits.chunk_policy(),
                    stats=self.stats,
                    before_send=step.before_send,
                    should_cancel=self.should_cancel,
                    on_lost_answer=self.look_before_resend,
                ):
                    sent |= {r.op.key for r in results}
                    self._recorded(step, results)
                return
            except AnswerLost as lost:
                log.warning(
                    "batch %d: a request's answer was lost, and %d of its creates are on the "
                    "board already: taken up, not made again",
                    self.batch.batch_id,
                    len(lost.found),
                )
                made = [op for op in lost.chunk if op.key in lost.found]
                self.taken_up += len(made)
                results = [OperationResult(op, lost.found[op.key], replayed=True) for op in made]
                sent |= {op.key for op in made}
                self._recorded(step, results)
                ops = [op for op in ops if op.key not in sent]

    def look_before_resend(self, chunk: list[Operation]) -> None:
        """Before a chunk whose answer was lost is sent again: has it made anything? Then
        AnswerLost, with what it made; else the resend goes (under the same key)."""
        assert self.board is not None
        found = made_already(self.client, self.board, self.mapping, self.rows, chunk)
        if found:
            raise AnswerLost(chunk, found)

    def _recorded(self, step: Step, results: list[OperationResult]) -> None:
        step.record(results)
        self.done += len(results)
        log.info(
            "batch %d %s: %d of %d changes sent, items and sizes together (%d ok in this request)",
            self.batch.batch_id,
            step.phase,
            self.done,
            self.total,
            sum(1 for r in results if r.ok),
        )
        self.report_progress(step.phase)


class AnswerLost(Exception):
    """A request's answer was lost, and the board shows it ran: `found` maps each create it
    made to the id of what it made."""

    def __init__(self, chunk: list[Operation], found: dict[str, str]) -> None:
        super().__init__(f"{len(found)} creates made by a request whose answer was lost")
        self.chunk, self.found = chunk, found


R = TypeVar("R")


class RunHooks(ABC, Generic[R]):
    """What a kind of run (push, undo) does at each point of the skeleton (execute)."""

    activity: str  # "push", "undo": named in the batch's claim
    from_statuses: tuple[BatchStatus, ...]  # the batch statuses a run may start from
    lock_customer = False  # take back the customer's lock (see claim)

    def __init__(self, run: BatchRun) -> None:
        self.run = run

    @abstractmethod
    def check(self) -> None:
        """Refuse (BatchStateError) before anything is claimed or sent."""

    @abstractmethod
    def recover(self) -> None:
        """Settle what a stopped run left in flight, before anything new is planned."""

    @abstractmethod
    def steps(self) -> Iterator[Step]:
        """The run's steps, planned one at a time (a step may depend on the last one's
        answers)."""

    @abstractmethod
    def finish(self, *, started: float, error: str | None) -> R:
        """Write the batch's end (end_run) and say how the run went."""

    @abstractmethod
    def stopped(self, report: R) -> Exception:
        """The exception a run that monday.com stopped raises, carrying its report."""


def execute(hooks: RunHooks[R]) -> R:
    """The skeleton: load, board, check, claim, recover, send each step, finish."""
    run, started = hooks.run, time.monotonic()
    with running(run):
        try:
            run.load()  # before the board: a run stopped on the board read must know its rows
            run.open_board()
            hooks.check()
            claim(run, hooks.activity, hooks.from_statuses, lock_customer=hooks.lock_customer)
            hooks.recover()
            for step in hooks.steps():
                if run.should_cancel():
                    break
                run.send(step)
            return hooks.finish(started=started, error=None)
        except MondayError as exc:
            log.error("batch %d: %s", run.batch.batch_id, exc)
            raise hooks.stopped(hooks.finish(started=started, error=str(exc))) from None


# A run that stays silent this long has lost its claim on a batch (a retry can wait up to
# max_wait_seconds for monday, and a request last up to its deadline, so the lease is
# longer than both).
def lease_seconds(setup: MondaySetup) -> float:
    return 2 * (setup.max_wait_seconds + max(setup.timeout_seconds, setup.deadline_seconds)) + 60


# The run ids of this process's runs that are still going.
_RUNNING: set[str] = set()


def holder_gone(holder: pushing.BatchClaim) -> bool:
    """True when the run holding a batch was a process of this machine that no longer
    exists (a crash or a kill), or a run of this very process that has ended: its batch
    can be resumed at once."""
    if holder.pid is None or holder.host != socket.gethostname()[:255]:
        return False  # another machine: wait for the lease
    if holder.pid == os.getpid():
        # A run of this process that has ended (on any error, not only monday's) holds
        # nothing: the window's next Push of the batch goes on at once.
        return holder.run not in _RUNNING
    if os.name != "posix":
        return False  # no safe liveness test here: wait for the lease
    try:
        os.kill(holder.pid, 0)
    except ProcessLookupError:
        return True
    except PermissionError:  # it exists, as another user's process
        return False
    return False


class BatchBusyError(BatchStateError):
    """Another run is pushing or undoing this batch right now."""


class _Locked(Exception):
    pass


def claim(
    s: BatchRun,
    activity: str,
    from_statuses: tuple[BatchStatus, ...],
    *,
    lock_customer: bool = False,
) -> None:
    """Make this run the batch's only pusher or undoer (BatchBusyError if another is).

    lock_customer (undo): also take back the customer's lock, which the batch gave up when
    it was pushed: while an undo is under way (or killed half done), no new batch of that
    customer can be staged from the sync state the undo is rewriting, and the undo stays
    the customer's latest batch, so it can always be finished.
    """
    mine = pushing.BatchClaim.new(activity, s.ctx.operator)
    other: int | None = None
    try:
        with s.engine.begin() as conn:
            holder = pushing.claim_batch(
                conn,
                s.batch.batch_id,
                claim=mine,
                now=now(),
                from_statuses=from_statuses,
                lease_seconds=lease_seconds(s.setup),
                holder_gone=holder_gone,
            )
            if holder is None and lock_customer:
                other = pushing.lock_customer(
                    conn, s.batch.batch_id, s.batch.customer, s.ctx.operator, now()
                )
                if other is not None:
                    raise _Locked
    except (_Locked, IntegrityError):  # the claim is rolled back with it
        raise BatchStateError(
            f"{s.batch.customer} has open batch {other or 'another'}: push it or roll it "
            f"back before undoing batch {s.batch.batch_id}"
        ) from None
    if holder is not None:
        raise BatchBusyError(
            f"batch {s.batch.batch_id} is busy: {holder}. Wait for it to finish; if that run "
            "was interrupted on another computer, it can be resumed once it has been silent "
            f"for {lease_seconds(s.setup) / 60:.0f} minutes"
        )
    s.owner = mine.run
    _RUNNING.add(mine.run)


@contextmanager
def running(s: BatchRun) -> Iterator[BatchRun]:
    """Around a run: however it ends, this process no longer counts its claim as running
    (see holder_gone), and its client's connections are closed."""
    try:
        yield s
    finally:
        _RUNNING.discard(s.owner)
        s.client.close()


def end_run(
    s: BatchRun,
    status: BatchStatus,
    *,
    message: str,
    release_lock: bool,
    succeeded: int | None = None,
    failed: int | None = None,
) -> BatchStatus:
    """Write a run's end: the batch's status, counts and message, in place of the run's
    claim; and give up the customer's lock when `release_lock`. Returns the batch's status.

    A run that never claimed the batch (stopped by a refused token or the daily limit on
    its first read) did nothing to it and writes nothing: the batch may be another run's
    at that moment, and its status is what it was.
    """
    if not s.owner:
        return BatchStatus(s.batch.status)
    with s.engine.begin() as conn:
        pushing.set_batch(
            conn,
            s.batch.batch_id,
            status=status,
            now=now(),
            succeeded=succeeded,
            failed=failed,
            message=message,
            release_lock=release_lock,
        )
    return status
