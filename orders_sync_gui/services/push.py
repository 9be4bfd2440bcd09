"""Push a staged batch to monday.com, resumably; the results land in the store as they come.

Order of work: check the board against the mapping, make sure the customer's group exists,
settle every row whose outcome a crash left unknown (looked up on the board by record_uuid
before anything is created again), then items (create / change / delete action), then their
subitems. Each response is recorded, with the sync state it completes, before the next
request leaves. Failed rows keep monday's message and are offered again by the next push.
"""

from __future__ import annotations

import hashlib
import logging
import os
import re
import socket
import sys
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from ..core.board_values import (
    MAX_ITEM_NAME,
    ItemNameError,
    compact_json,
    item_name,
    item_values,
    subitem_values,
)
from ..core.mapping import BoardMapping
from ..core.models import BatchStatus, ChangeType, RowStatus
from ..monday.board import Board, check_mapping, ensure_group, fetch_board, find_items, subitems_of
from ..monday.client import FieldError, MondayClient, MondayError
from ..monday.operations import (
    ChunkPolicy,
    Operation,
    OperationResult,
    RunStats,
    run_operations,
)
from ..store import pushing
from ..store.pushing import StagedRow, StagedSubitem
from ..store.staging import BatchInfo, BatchStateError, get_batch
from .context import Context
from .monday_setup import MondaySetup

log = logging.getLogger(__name__)

RETRYABLE = (RowStatus.PENDING, RowStatus.FAILED)
BOARD_CACHE_SECONDS = 600.0
GONE_CODES = frozenset({"InvalidItemIdException", "ItemNotFoundException"})


@dataclass(slots=True)
class Progress:
    phase: str
    done: int
    total: int
    requests: int
    failed: int


@dataclass(slots=True)
class PushReport:
    batch_id: int
    status: str
    succeeded: int = 0
    failed: int = 0
    requests: int = 0
    mutations: int = 0
    retries: int = 0
    replays: int = 0
    adopted: int = 0  # rows found already on the board after a crash (not created twice)
    seconds: float = 0.0
    message: str = ""
    failures: list[dict[str, str | None]] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        return {
            "batch_id": self.batch_id,
            "status": self.status,
            "succeeded": self.succeeded,
            "failed": self.failed,
            "requests": self.requests,
            "mutations": self.mutations,
            "retries": self.retries,
            "replays": self.replays,
            "adopted": self.adopted,
            "seconds": round(self.seconds, 2),
            "message": self.message,
            "failures": self.failures,
        }


def _now() -> datetime:
    return datetime.now().replace(microsecond=0)


class _Session:
    """One push or undo run: the client, the board, the batch's rows, and their bookkeeping."""

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
        self.adopted = 0
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

    def subs_of(self, row: StagedRow) -> list[StagedSubitem]:
        # Fix: an index, not a scan of every subitem per row: called per row by the
        # bookkeeping of each response and by the report, the scan made a full push
        # (10,000 orders, 60,000 subitems) quadratic: minutes of CPU for bookkeeping.
        return self.children.get(row.stg_id, [])

    def report_progress(self, phase: str, done: int, total: int) -> None:
        if self.progress is not None:
            self.progress(Progress(phase, done, total, self.stats.requests, self.stats.failed))

    # --- crash recovery -----------------------------------------------------------------

    def settle_unknown(self) -> None:
        """Rows a crash left in flight: look NEW items up on the board before anything else.

        Changes and deletes are safe to send again; a create is not, so a NEW row found on
        the board by its record_uuid is adopted (with its subitems) instead of created twice.
        """
        assert self.board is not None
        sending = [r for r in self.rows.values() if r.status is RowStatus.SENDING]
        new_rows = [r for r in sending if r.change_type is ChangeType.NEW]
        found = (
            find_items(
                self.client,
                self.board.board_id,
                self.mapping.record_uuid_column.column_id,
                [r.record_uuid for r in new_rows],
            )
            if new_rows
            else {}
        )
        # NEW rows pushed earlier but not yet promoted may also have subitems in flight.
        parents = {
            r.item_id
            for r in self.rows.values()
            if r.item_id
            and any(
                s.status is RowStatus.SENDING and s.change_type is ChangeType.NEW
                for s in self.subs_of(r)
            )
        }
        parents |= {f.item_id for f in found.values()}
        existing = subitems_of(self.client, sorted(parents)) if parents else {}
        in_flight = {x.stg_subitem_id for x in self.subs.values() if x.status is RowStatus.SENDING}
        now = _now()
        with self.engine.begin() as conn:
            for row in sending:
                hit = found.get(row.record_uuid) if row.change_type is ChangeType.NEW else None
                if hit is not None:
                    row.status, row.item_id = RowStatus.PUSHED, hit.item_id
                    self.adopted += 1
                    log.warning(
                        "order %s was already on the board (item %s): adopted, not created again",
                        row.order_number,
                        hit.item_id,
                    )
                else:
                    row.status = RowStatus.PENDING
                pushing.record_row(
                    conn,
                    row.stg_id,
                    status=row.status,
                    now=now,
                    item_id=row.item_id,
                    error=row.error,
                )
            for sub in self.subs.values():
                parent = self.rows[sub.stg_parent_id]
                if (
                    sub.change_type is ChangeType.NEW
                    and parent.item_id
                    and (
                        sub.status is RowStatus.SENDING
                        or (
                            parent.stg_id in {r.stg_id for r in sending} and sub.status in RETRYABLE
                        )
                    )
                ):
                    sub_id = existing.get(parent.item_id, {}).get(sub.size)
                    if sub_id is not None:
                        sub.status, sub.subitem_id = RowStatus.PUSHED, sub_id
                        pushing.record_subitem(
                            conn, sub.stg_subitem_id, status=sub.status, now=now, subitem_id=sub_id
                        )
                        continue
                if sub.status is RowStatus.SENDING:
                    sub.status = RowStatus.PENDING
                    pushing.record_subitem(conn, sub.stg_subitem_id, status=sub.status, now=now)
            # Fix: also the parents of the subitems settled here. A kill during a subitem
            # request left its rows PUSHED (not SENDING); a row whose last subitems were
            # adopted here is complete, but no later result touches it, so it was never
            # promoted: its sync state stayed empty and the next detection called it NEW
            # (a second item on the next push).
            touched = {r.stg_id for r in sending} | {
                sub.stg_parent_id for sub in self.subs.values() if sub.stg_subitem_id in in_flight
            }
            self._promote_complete(conn, touched, now)

    # --- bookkeeping --------------------------------------------------------------------

    def mark_sending(self, ops: list[Operation]) -> None:
        rows = [int(op.key[1:]) for op in ops if op.key.startswith("r")]
        subs = [int(op.key[1:]) for op in ops if op.key.startswith("s")]
        with self.engine.begin() as conn:
            now = _now()
            pushing.set_row_status(conn, rows, RowStatus.SENDING, now)
            pushing.set_subitem_status(conn, subs, RowStatus.SENDING, now)
        # Fix: the session's own view follows the table. It stayed PENDING, so a push
        # stopped during its first request (outcome unknown) was reported STAGED, and a
        # STAGED batch can be rolled back without a look at monday: its items orphaned.
        for ident in rows:
            self.rows[ident].status = RowStatus.SENDING
        for ident in subs:
            self.subs[ident].status = RowStatus.SENDING

    def subitem_ids_after(self, row: StagedRow) -> dict[str, str]:
        ids = dict(row.previous.subitem_ids) if row.previous else {}
        for sub in self.subs_of(row):
            if sub.change_type is ChangeType.DELETED:
                ids.pop(sub.size, None)
            elif sub.subitem_id:
                ids[sub.size] = sub.subitem_id
        return ids

    def _promote_complete(self, conn, stg_ids: Iterable[int], now: datetime) -> None:  # type: ignore[no-untyped-def]
        done = []
        for stg_id in set(stg_ids):
            row = self.rows[stg_id]
            if row.status is RowStatus.PUSHED and all(
                s.status is RowStatus.PUSHED for s in self.subs_of(row)
            ):
                done.append((row, self.subitem_ids_after(row)))
        if done:
            pushing.promote(
                conn,
                done,
                batch_id=self.batch.batch_id,
                now=now,
                # Fix: a deleted order's state is forgotten whatever the action. Kept (for
                # the "status" action), it stayed in the sync state with no source row, so
                # every detection counted it DELETED again and every DELETED batch sent
                # its label once more. Undo still has the state (the staged row keeps it).
                forget_deleted=True,
            )

    def record(self, results: list[OperationResult]) -> None:
        now = _now()
        touched: set[int] = set()
        with self.engine.begin() as conn:
            if self.owner:
                pushing.heartbeat(conn, self.batch.batch_id, self.owner, now)
            for res in results:
                key, ident = res.op.key[0], int(res.op.key[1:])
                error = None if res.ok else self.error_text(res.error)
                if key == "r":
                    row = self.rows[ident]
                    row.status = RowStatus.PUSHED if res.ok else RowStatus.FAILED
                    if res.ok and res.op.kind == "create_item":
                        row.item_id = res.item_id
                    row.error = error
                    pushing.record_row(
                        conn,
                        ident,
                        status=row.status,
                        now=now,
                        item_id=row.item_id,
                        error=error,
                        failed=not res.ok,
                    )
                    touched.add(ident)
                else:
                    sub = self.subs[ident]
                    if (
                        not res.ok
                        and res.op.kind == "delete_item"
                        and res.error is not None
                        and res.error.code in GONE_CODES
                    ):
                        # Fix: a size removed in the source whose subitem is gone already
                        # (deleted by a request whose answer a crash lost, or by hand) is
                        # done; as FAILED it was retried, and refused, on every push.
                        res, error = OperationResult(res.op, replayed=res.replayed), None
                    sub.status = RowStatus.PUSHED if res.ok else RowStatus.FAILED
                    if res.ok and res.op.kind == "create_subitem":
                        sub.subitem_id = res.item_id
                    sub.error = error
                    pushing.record_subitem(
                        conn,
                        ident,
                        status=sub.status,
                        now=now,
                        subitem_id=sub.subitem_id,
                        error=error,
                        failed=not res.ok,
                    )
                    touched.add(sub.stg_parent_id)
                if not res.ok:
                    log.error(
                        "order %s: monday.com refused %s: %s",
                        self._order_of(res.op),
                        res.op.kind,
                        error,
                    )
            self._promote_complete(conn, touched, now)

    def error_text(self, error: FieldError | None) -> str:
        """monday's words for a refused row, and the column (with its source field) refused.

        Fix: monday's ColumnValueException says "invalid value, please check our API
        documentation" without the column (that is in its error_data): the row failed, but
        the operator could not tell which of its fields to correct.
        """
        text = str(error)
        column = str(error.data.get("column_id") or "") if error is not None else ""
        if column and column not in text:
            source = next(
                (m.source for m in self.mapping.columns if m.column.column_id == column), None
            )
            text += f" (column {column}" + (f", from [{source}]" if source else "") + ")"
        return text

    def _order_of(self, op: Operation) -> str:
        ident = int(op.key[1:])
        row = self.rows[ident] if op.key[0] == "r" else self.rows[self.subs[ident].stg_parent_id]
        return row.order_number or row.record_uuid

    def fail_locally(self, row: StagedRow, message: str) -> None:
        row.status, row.error = RowStatus.FAILED, message
        with self.engine.begin() as conn:
            pushing.record_row(
                conn, row.stg_id, status=row.status, now=_now(), error=message, failed=True
            )
        log.error("order %s: %s", row.order_number or row.record_uuid, message)

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
            self.report_progress(phase, done, total)
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
    s: _Session,
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


def _group_title(mapping: BoardMapping, customer: str) -> str:
    title = mapping.group_title_template.replace("{CUSTOMER NAME}", customer)
    # Fix: monday's group names, like item names, hold 1 to 255 characters. A longer
    # customer name (SQLite keeps any length) made create_group fail, and with it every
    # push of that customer, without naming a row. Clipped as item names are.
    return title if len(title) <= MAX_ITEM_NAME else title[: MAX_ITEM_NAME - 1].rstrip() + "…"


def _renamed(
    mapping: BoardMapping, changed: Iterable[str], fields: dict, fallback: str | None
) -> str | None:
    """The item's new name when a changed field is part of its name template, else None.

    Fix: a CHANGED row used to send only its column values, so an order whose colour (or
    PO, style, customer) changed kept its old name on the board ("... · NAVY" on an item
    whose COLOUR column said PINK). monday renames an item through the reserved column id
    "name" of change_multiple_column_values; undo sends the old name the same way.
    """
    if not set(changed) & set(mapping.template_fields()):
        return None
    try:
        return item_name(mapping, fields, fallback)
    except ItemNameError:
        return None  # a name cannot become empty: keep the one the item has


def _item_ops(
    s: _Session, group_id: str, statuses: tuple[RowStatus, ...] = RETRYABLE
) -> list[Operation]:
    assert s.board is not None
    mapping = s.mapping
    ops: list[Operation] = []
    for row in s.rows.values():
        if row.status not in statuses:
            continue
        key = f"r{row.stg_id}"
        if row.change_type is ChangeType.NEW:
            assert row.values is not None
            try:
                name = item_name(mapping, row.values["fields"], row.order_number)
            except ItemNameError as exc:
                s.fail_locally(row, str(exc))
                continue
            values = item_values(
                mapping, row.record_uuid, row.values["fields"], row.values["sizes"]
            )
            ops.append(
                Operation(
                    key,
                    "create_item",
                    {
                        "board_id": s.board.board_id,
                        "item_name": name,
                        "group_id": group_id,
                        "column_values": compact_json(values),
                        "create_labels_if_missing": True,
                    },
                    attempt=row.retry_count,
                    cost=s.setup.limits.mutation_cost,
                )
            )
            continue
        item_id = row.previous.monday_item_id if row.previous else None
        if not item_id:
            s.fail_locally(
                row,
                "no monday.com item is known for this order: it was never "
                "pushed, so it cannot be changed or deleted there",
            )
            continue
        row.item_id = item_id
        if row.change_type is ChangeType.CHANGED:
            assert row.values is not None and row.diff is not None
            changed = [d["field"] for d in row.diff.get("fields", [])]
            values = item_values(
                mapping,
                row.record_uuid,
                row.values["fields"],
                row.values["sizes"],
                only=changed,
                with_qty=bool(row.diff.get("sizes")),
            )
            rename = _renamed(mapping, changed, row.values["fields"], row.order_number)
            if rename is not None:
                values["name"] = rename
            if not values:  # nothing on the item itself: only its subitems change
                values = {
                    mapping.order_qty_column.column_id: str(sum(row.values["sizes"].values()))
                }
            ops.append(
                Operation(
                    key,
                    "change_multiple_column_values",
                    {
                        "board_id": s.board.board_id,
                        "item_id": item_id,
                        "column_values": compact_json(values),
                        "create_labels_if_missing": True,
                    },
                    attempt=row.retry_count,
                    cost=s.setup.limits.mutation_cost,
                )
            )
        else:  # DELETED
            action = mapping.deleted_action
            if action.get("kind") == "status":
                values = {str(action["column_id"]): {"label": str(action.get("label"))}}
                ops.append(
                    Operation(
                        key,
                        "change_multiple_column_values",
                        {
                            "board_id": s.board.board_id,
                            "item_id": item_id,
                            "column_values": compact_json(values),
                            "create_labels_if_missing": True,
                        },
                        attempt=row.retry_count,
                        cost=s.setup.limits.mutation_cost,
                    )
                )
            else:
                ops.append(
                    Operation(
                        key,
                        "archive_item",
                        {"item_id": item_id},
                        attempt=row.retry_count,
                        cost=s.setup.limits.mutation_cost,
                    )
                )
    return ops


def _subitem_ops(s: _Session, statuses: tuple[RowStatus, ...] = RETRYABLE) -> list[Operation]:
    assert s.board is not None
    ops: list[Operation] = []
    for sub in s.subs.values():
        parent = s.rows[sub.stg_parent_id]
        if sub.status not in statuses or parent.status is not RowStatus.PUSHED:
            continue
        key, cost = f"s{sub.stg_subitem_id}", s.setup.limits.mutation_cost
        previous_ids = parent.previous.subitem_ids if parent.previous else {}
        if sub.change_type is ChangeType.NEW:
            ops.append(
                Operation(
                    key,
                    "create_subitem",
                    {
                        "parent_item_id": parent.item_id,
                        "item_name": sub.size,
                        "column_values": compact_json(subitem_values(s.mapping, sub.size, sub.qty)),
                        "create_labels_if_missing": True,
                    },
                    attempt=sub.retry_count,
                    cost=cost,
                )
            )
            continue
        sub_id = sub.subitem_id or previous_ids.get(sub.size)
        if not sub_id:
            with s.engine.begin() as conn:
                sub.status, sub.error = RowStatus.FAILED, f"no subitem is known for size {sub.size}"
                pushing.record_subitem(
                    conn,
                    sub.stg_subitem_id,
                    status=sub.status,
                    now=_now(),
                    error=sub.error,
                    failed=True,
                )
            continue
        sub.subitem_id = sub_id
        if sub.change_type is ChangeType.CHANGED:
            ops.append(
                Operation(
                    key,
                    "change_multiple_column_values",
                    {
                        "board_id": s.board.subitems_board_id,
                        "item_id": sub_id,
                        "column_values": compact_json(subitem_values(s.mapping, sub.size, sub.qty)),
                    },
                    attempt=sub.retry_count,
                    cost=cost,
                )
            )
        else:
            ops.append(
                Operation(
                    key, "delete_item", {"item_id": sub_id}, attempt=sub.retry_count, cost=cost
                )
            )
    return ops


# monday keeps a mutation's answer under its Idempotency-Key for 30 minutes; a request left
# in flight more recently than this is sent again with its key (see recover_in_flight). The
# margin allows for the clocks of two computers (one killed, the other resuming) to differ.
REPLAY_WINDOW = timedelta(minutes=20)


def recover_in_flight(s: _Session) -> None:
    """Rows a stopped run left SENDING: the one request whose answer never came back.

    Fix: the recovery used to look the request's items up on the board (settle_unknown) and
    create again what it did not find. A request still running on monday.com (or still on
    its way there) when the lookup ran was not found, so its items were created twice: a
    kill during a slow request, resumed at once, left duplicate items and subitems. The
    request is now sent again as it was (the same rows in one chunk, so the same
    Idempotency-Key): monday answers it from its cache if the first one ran, makes it wait
    (409) while the first one still runs, or runs it now, and then the first one, if it
    ever arrives, is the replay. The lookup stays for requests older than monday's cache.
    Rows are recorded as a push records them, also when an undo recovers them.
    """
    rows = [r for r in s.rows.values() if r.status is RowStatus.SENDING]
    subs = [x for x in s.subs.values() if x.status is RowStatus.SENDING]
    if not rows and not subs:
        return
    stamps = [x.updated_at for x in [*rows, *subs]]
    recent = all(t is not None and _now() - t < REPLAY_WINDOW for t in stamps)
    if not recent or (rows and subs):
        s.settle_unknown()
        return
    assert s.board is not None
    if rows:
        group_id = ensure_group(s.client, s.board, _group_title(s.mapping, s.batch.customer))
        ops, phase = _item_ops(s, group_id, (RowStatus.SENDING,)), "push-items"
    else:
        ops, phase = _subitem_ops(s, (RowStatus.SENDING,)), "push-subitems"
    log.warning(
        "batch %d: %d changes were in flight when the last run stopped: sent again as they "
        "were, so monday.com answers them once",
        s.batch.batch_id,
        len(ops),
    )
    replayed: list[OperationResult] = []

    def record(results: list[OperationResult]) -> None:
        replayed.extend(results)
        _Session.record(s, results)

    one_chunk = ChunkPolicy(
        max_mutations=max(1, len(ops)), max_complexity=sys.maxsize, budget_per_window=sys.maxsize
    )
    s.run(ops, phase, 0, len(ops), policy=one_chunk, record=record)
    # Rows whose items the first request had created: found done, not created twice.
    s.adopted += sum(1 for r in replayed if r.replayed and r.ok and r.op.kind == "create_item")


def _finish(s: _Session, *, started: float, cancelled: bool, error: str | None) -> PushReport:
    rows = list(s.rows.values())
    ok = [
        r
        for r in rows
        if r.status is RowStatus.PUSHED and all(x.status is RowStatus.PUSHED for x in s.subs_of(r))
    ]
    failed = [
        r
        for r in rows
        if r.status is RowStatus.FAILED or any(x.status is RowStatus.FAILED for x in s.subs_of(r))
    ]
    # Fix: a push stopped before its rows were loaded (401, daily limit or a board mismatch
    # on the first read) found no rows, so "every row pushed" held and the batch became
    # PUSHED with its lock released. push() now loads the rows first; `loaded` guards it.
    complete = s.loaded and len(ok) == len(rows)
    if complete:
        status, message = BatchStatus.PUSHED, f"pushed {len(ok)} rows"
    else:
        # Fix: STAGED only while nothing can have reached monday.com. A row left SENDING by
        # a stopped request may be on the board; STAGED would let a plain rollback discard
        # the batch and orphan those items (the next stage would create them again).
        touched = s.stats.requests or any(
            x.status is not RowStatus.PENDING for x in [*rows, *s.subs.values()]
        )
        status = BatchStatus.PARTIAL if touched else BatchStatus.STAGED
        waiting = len(rows) - len(ok) - len(failed)
        parts = [f"{len(ok)} of {len(rows)} rows pushed"]
        if failed:
            parts.append(f"{len(failed)} failed")
        if waiting:
            parts.append(f"{waiting} not sent yet")
        reason = "cancelled by the operator" if cancelled else error
        message = (
            "; ".join(parts)
            + (f" ({reason})" if reason else "")
            + ": push again to retry what is left"
        )
    if s.owner:
        with s.engine.begin() as conn:
            pushing.set_batch(
                conn,
                s.batch.batch_id,
                status=status,
                now=_now(),
                succeeded=len(ok),
                failed=len(failed),
                message=message,
                release_lock=complete,
            )
    else:
        # Fix: a push stopped before it claimed the batch (a refused token or the daily
        # limit on its first read) wrote its status all the same: over the claim of another
        # operator's push running that moment, which made the batch look free (PARTIAL) to a
        # third run while the first still pushed: two pushers, duplicates. A run that never
        # claimed the batch did nothing to it, and writes nothing.
        status = BatchStatus(s.batch.status)
    return PushReport(
        batch_id=s.batch.batch_id,
        status=status.value,
        succeeded=len(ok),
        failed=len(failed),
        requests=s.client.stats.requests,
        mutations=s.stats.mutations,
        retries=s.client.stats.retries,
        replays=s.client.stats.replays,
        adopted=s.adopted,
        seconds=time.monotonic() - started,
        message=message,
        failures=[
            {
                "order_number": r.order_number,
                "record_uuid": r.record_uuid,
                "error": r.error or next((x.error for x in s.subs_of(r) if x.error), None),
            }
            for r in failed
        ],
    )


def push(
    ctx: Context,
    batch_id: int,
    setup: MondaySetup,
    *,
    progress: Callable[[Progress], None] | None = None,
    should_cancel: Callable[[], bool] = lambda: False,
) -> PushReport:
    """Push (or resume, or retry the failed rows of) a batch."""
    started = time.monotonic()
    with ctx.store.engine.connect() as conn:
        batch = get_batch(conn, batch_id)
    if batch.status == BatchStatus.PUSHED:
        return PushReport(
            batch_id,
            batch.status,
            batch.succeeded_count,
            0,
            message="already pushed: nothing to do",
        )
    if batch.status not in (BatchStatus.STAGED, BatchStatus.PUSHING, BatchStatus.PARTIAL):
        raise BatchStateError(f"batch {batch_id} is {batch.status}: it cannot be pushed")
    s = _Session(ctx, setup, batch, progress, should_cancel)
    try:
        s.load()  # first: a stop on the board read must still know the batch's rows
        s.open_board()
        if any(r.status is RowStatus.UNDONE for r in s.rows.values()):
            raise BatchStateError(
                f"batch {batch_id} is being undone: roll it back again to finish the undo"
            )
        claim(s, "push", (BatchStatus.STAGED, BatchStatus.PARTIAL))
        log.info(
            "batch %d: pushing %d rows for %s to board %s",
            batch_id,
            len(s.rows),
            batch.customer,
            setup.board_id,
        )
        recover_in_flight(s)
        group_id = ensure_group(s.client, s.board, _group_title(ctx.mapping, batch.customer))
        items = _item_ops(s, group_id)
        total = len(items) + sum(1 for x in s.subs.values() if x.status in RETRYABLE)
        done = s.run(items, "push-items", 0, total)
        if not should_cancel():
            s.run(_subitem_ops(s), "push-subitems", done, total)
        return _finish(s, started=started, cancelled=should_cancel(), error=None)
    except MondayError as exc:
        log.error("batch %d: %s", batch_id, exc)
        report = _finish(s, started=started, cancelled=False, error=str(exc))
        raise PushStopped(str(exc), report) from None
    finally:
        _RUNNING.discard(s.owner)
        s.client.close()


class PushStopped(RuntimeError):
    """monday.com stopped the push (token, limits, board); what was done is recorded."""

    def __init__(self, message: str, report: PushReport) -> None:
        # One message: the report's already names the cause ("... (cause): push again");
        # wrapping it in the cause again said everything twice.
        super().__init__(report.message if message in report.message else message)
        self.report = report
