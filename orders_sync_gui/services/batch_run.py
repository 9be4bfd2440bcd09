"""What a push and an undo share: one run of a batch against monday.com.

Each run loads the batch's rows, opens the board (checked against the mapping), claims the
batch (BatchBusyError while another run holds it), sends its operations chunk by chunk with
a heartbeat on each recorded response, and ends by writing the batch's final status and
giving up its claim, and the customer's lock when the run is complete. push.py and undo.py
say what is sent and how each answer is recorded.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import socket
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import Connection
from sqlalchemy.exc import IntegrityError

from ..core.mapping import BoardMapping
from ..core.models import BatchStatus
from ..core.staged import StagedRow, StagedSubitem, StatusChange
from ..monday.board import Board, check_mapping, fetch_board
from ..monday.client import MondayClient
from ..monday.operations import ChunkPolicy, Operation, OperationResult, RunStats, run_operations
from ..store import pushing
from ..store.staging import BatchInfo, BatchStateError, get_batch
from .context import Context
from .monday_setup import MondaySetup

log = logging.getLogger(__name__)

BOARD_CACHE_SECONDS = 600.0
# monday's answers for an item that no longer exists (deleted by hand, or by a request whose
# answer a crash lost).
GONE_CODES = frozenset({"InvalidItemIdException", "ItemNotFoundException"})


@dataclass(slots=True)
class Progress:
    phase: str
    done: int
    total: int
    requests: int
    failed: int
    # The rows and sizes whose status this step recorded: a window shows them in place.
    changes: tuple[StatusChange, ...] = ()


def _now() -> datetime:
    return datetime.now().replace(microsecond=0)


class BatchRun:
    """One push or undo run of a batch: the client, the board, the batch's rows, the claim."""

    def __init__(
        self,
        ctx: Context,
        setup: MondaySetup,
        batch: BatchInfo,
        progress: Callable[[Progress], None] | None,
        should_cancel: Callable[[], bool],
    ) -> None:
        self.ctx = ctx
        self.setup = setup
        self.mapping: BoardMapping = ctx.mapping
        self.batch = batch
        self.progress = progress
        self.should_cancel = should_cancel
        self.client: MondayClient = setup.client()
        self.stats = RunStats()
        self.board: Board | None = None
        self.rows: dict[int, StagedRow] = {}
        self.subs: dict[int, StagedSubitem] = {}
        self.loaded = False
        self.scope_salt = ""
        self.children: dict[int, list[StagedSubitem]] = {}
        self.owner = ""  # this run's claim on the batch (see claim())

    @property
    def engine(self):  # type: ignore[no-untyped-def]
        return self.ctx.store.engine

    def open_board(self) -> Board:
        if not self.setup.board_id:
            raise BatchStateError("no monday.com board id: set it in Settings or the mapping")
        # The board's layout is read once per setup and kept a while: one read per customer
        # batch was a third of a run's requests (bench_push.py).
        cached = self.setup.board_cache.get(self.setup.board_id)
        if cached is not None and time.monotonic() - cached[1] < BOARD_CACHE_SECONDS:
            self.board = cached[0]
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
        # Fix: idempotency keys were derived from the batch id and staging row ids alone,
        # which every database numbers from 1: a second database (demo-init --force, a
        # colleague's demo, a test) pushing its batch 1 within monday's 30 minutes got the
        # first one's answers replayed, so nothing of it was created while its rows were
        # recorded PUSHED against the other database's items. The batch's own rows and
        # creation time now salt the scope; they never change, so a resume still replays.
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
        # Fix: an index, not a scan of every subitem per row: called per row by the
        # bookkeeping of each response and by the report, the scan made a full push
        # (10,000 orders, 60,000 subitems) quadratic: minutes of CPU for bookkeeping.
        return self.children.get(row.stg_id, [])

    def report_progress(
        self, phase: str, done: int, total: int, changes: tuple[StatusChange, ...] = ()
    ) -> None:
        if self.progress is not None:
            self.progress(
                Progress(phase, done, total, self.stats.requests, self.stats.failed, changes)
            )

    def changes_of(self, results: list[OperationResult]) -> tuple[StatusChange, ...]:
        """The statuses one response's results left: each row with its sizes (an undo of a
        created item settles them with it), each size."""
        out: list[StatusChange] = []
        for res in results:
            ident = int(res.op.key[1:])
            if res.op.key[0] == "r":
                row = self.rows[ident]
                out.append(StatusChange.of_row(row))
                out += [StatusChange.of_subitem(sub) for sub in self.subs_of(row)]
            else:
                out.append(StatusChange.of_subitem(self.subs[ident]))
        return tuple(out)

    def heartbeat(self, conn: Connection, now: datetime) -> None:
        """The run is alive (with each recorded response): keeps its claim from looking
        abandoned."""
        if self.owner:
            pushing.heartbeat(conn, self.batch.batch_id, self.owner, now)

    def mark_sending(self, ops: list[Operation]) -> None:
        """Before a request leaves (see run_operations' before_send); a push marks its rows."""

    def record(self, results: list[OperationResult]) -> None:
        """One response's results, written to the store before the next request leaves."""
        raise NotImplementedError

    def _order_of(self, op: Operation) -> str:
        ident = int(op.key[1:])
        row = self.rows[ident] if op.key[0] == "r" else self.rows[self.subs[ident].stg_parent_id]
        return row.order_number or row.record_uuid

    def run(
        self,
        ops: list[Operation],
        phase: str,
        done_before: int,
        total: int,
        *,
        policy: ChunkPolicy | None = None,
        record: Callable[[list[OperationResult]], None] | None = None,
    ) -> int:
        done = done_before
        for results in run_operations(
            self.client,
            ops,
            scope=f"{phase}:{self.batch.batch_id}:{self.scope_salt}",
            policy=policy or self.setup.limits.chunk_policy(),
            stats=self.stats,
            before_send=self.mark_sending,
            should_cancel=self.should_cancel,
        ):
            (record or self.record)(results)
            done += len(results)
            ok = sum(1 for r in results if r.ok)
            log.info(
                "batch %d %s: %d of %d done (%d ok in this request)",
                self.batch.batch_id,
                phase,
                done,
                total,
                ok,
            )
            self.report_progress(phase, done, total, self.changes_of(results))
        return done


# A run that stays silent this long has lost its claim on a batch (a retry can wait up to
# max_wait_seconds for monday, so the lease is longer than that).
def _lease_seconds(setup: MondaySetup) -> float:
    return 2 * (setup.max_wait_seconds + setup.timeout_seconds) + 60


# The claims (batch messages) of this process's runs that are still going.
_RUNNING: set[str] = set()


def _holder_gone(message: str) -> bool:
    """True when the run named in a batch's message was a process of this machine that no
    longer exists (a crash or a kill), or a run of this very process that has ended: its
    batch can be resumed at once."""
    match = re.search(r"pid (\d+) on (\S+)", message)
    if not match or match.group(2) != socket.gethostname():
        return False  # another machine: wait for the lease
    if int(match.group(1)) == os.getpid():
        # Fix: a push that ended on an error other than monday's (the database connection
        # lost mid-push) kept its claim, and its process is alive: the GUI's next Push of the
        # batch, in the same process, was refused as "busy" until the lease ran out.
        return message not in _RUNNING
    if os.name != "posix":
        return False  # no safe liveness test here: wait for the lease
    try:
        os.kill(int(match.group(1)), 0)
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
    it was pushed. Fix: an undo ran with its batch PUSHING (an open status) but the customer
    unlocked, so a new batch could be staged and pushed while the undo was half done (or
    killed): the undo could then never finish (no longer the latest batch), and the new
    batch was made from a sync state the undo was still rewriting.
    """
    owner = (
        f"{activity} in progress · run {uuid.uuid4().hex[:8]} · pid {os.getpid()} on "
        f"{socket.gethostname()} · {s.ctx.operator}"
    )
    other: int | None = None
    try:
        with s.engine.begin() as conn:
            holder = pushing.claim_batch(
                conn,
                s.batch.batch_id,
                owner=owner,
                now=_now(),
                from_statuses=from_statuses,
                lease_seconds=_lease_seconds(s.setup),
                holder_gone=_holder_gone,
            )
            if holder is None and lock_customer:
                other = pushing.lock_customer(
                    conn, s.batch.batch_id, s.batch.customer, s.ctx.operator, _now()
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
            f"for {_lease_seconds(s.setup) / 60:.0f} minutes"
        )
    s.owner = owner
    _RUNNING.add(owner)


def start(
    s: BatchRun,
    activity: str,
    from_statuses: tuple[BatchStatus, ...],
    *,
    lock_customer: bool = False,
    check: Callable[[BatchRun], None] | None = None,
) -> None:
    """Set a run up: the batch's rows first (a stop on the board read must still know
    them), then the board, then `check` (a refusal before the claim), then the claim."""
    s.load()
    s.open_board()
    if check is not None:
        check(s)
    claim(s, activity, from_statuses, lock_customer=lock_customer)


@contextmanager
def running(s: BatchRun) -> Iterator[BatchRun]:
    """Around a run: however it ends, this process no longer counts its claim as running
    (see _holder_gone), and its client's connections are closed."""
    try:
        yield s
    finally:
        _RUNNING.discard(s.owner)
        s.client.close()


def finish(
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

    Fix: a run stopped before it claimed the batch (a refused token or the daily limit on
    its first read) wrote its status all the same: over the claim of another operator's run
    going on that moment, which made the batch look free (PARTIAL) to a third run while the
    first still pushed: two pushers, duplicates. A run that never claimed the batch did
    nothing to it, and writes nothing: the batch's status is what it was.
    """
    if not s.owner:
        return BatchStatus(s.batch.status)
    with s.engine.begin() as conn:
        pushing.set_batch(
            conn,
            s.batch.batch_id,
            status=status,
            now=_now(),
            succeeded=succeeded,
            failed=failed,
            message=message,
            release_lock=release_lock,
        )
    return status
