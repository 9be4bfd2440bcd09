"""Push a staged batch to monday.com, resumably; the results land in the store as they come.

Order of work: check the board against the mapping, make sure the customer's group exists,
settle every row whose outcome a crash left unknown (looked up on the board by record_uuid
before anything is created again), then items (create / change / delete action), then their
subitems. Each response is recorded, with the sync state it completes, before the next
request leaves. Failed rows keep monday's message and are offered again by the next push.

Deleted orders: a pushed delete (archive, or the mapping's status label) leaves a tombstone
in the sync state; an item already deleted on monday.com counts as done. An order that
comes back (NEW, with its tombstone staged) takes up its labelled item again; an archived or
deleted item cannot come back through the API, so it gets a new one (push_plan._take_up_op).
A CHANGED order whose item (or a changed size whose subitem) was deleted by hand gets a new
one the same way, in the same push (see give_up_item, recreates, give_up_subitem).
What each row becomes on monday.com is push_plan.py's; the set-up and end of a run (claim,
board, heartbeat, final status) are batch_run.py's.
"""

from __future__ import annotations

import logging
import sys
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from ..core.models import BatchStatus, ChangeType, RowStatus
from ..core.staged import DELETED_ARCHIVE, DELETED_GONE, DELETED_STATUS, StagedRow, StagedSubitem
from ..monday.board import ensure_group, find_items, subitems_of
from ..monday.client import FieldError, MondayError
from ..monday.operations import ChunkPolicy, Operation, OperationResult
from ..store import pushing
from ..store.staging import BatchInfo, BatchStateError, get_batch
from .batch_run import (
    GONE_CODES,
    BatchBusyError,
    BatchRun,
    Progress,
    _now,
    finish,
    running,
    start,
)
from .context import Context
from .monday_setup import MondaySetup
from .push_plan import RETRYABLE, _group_title, _item_ops, _subitem_ops, recreates

# The faces (cli, qt) and the tests know these by this module.
__all__ = ["BatchBusyError", "Progress", "PushReport", "PushStopped", "push"]

log = logging.getLogger(__name__)


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
    # The batch as the run left it (status, counts, message): the faces show it as is.
    batch: BatchInfo | None = None

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


class _Session(BatchRun):
    """A push run (an undo's too, when it recovers a push's rows): what is sent for each
    staged row and subitem, and how each answer is recorded, with the sync state it
    completes."""

    def __init__(
        self,
        ctx: Context,
        setup: MondaySetup,
        batch: BatchInfo,
        progress: Callable[[Progress], None] | None,
        should_cancel: Callable[[], bool],
    ) -> None:
        super().__init__(ctx, setup, batch, progress, should_cancel)
        self.adopted = 0  # rows found already on the board after a crash (not created twice)
        self.gone: set[int] = set()  # DELETED rows whose item was no longer on monday.com
        self.recreate: list[int] = []  # rows whose item turned out gone: created anew
        self.recreate_subs: list[int] = []  # changed sizes whose subitem turned out gone

    # --- crash recovery -----------------------------------------------------------------

    def settle_unknown(self) -> None:
        """Rows a crash left in flight: look NEW items up on the board before anything else.

        Changes and deletes are safe to send again; a create is not, so a NEW row found on
        the board by its record_uuid is adopted (with its subitems) instead of created twice.
        """
        assert self.board is not None
        sending = [r for r in self.rows.values() if r.status is RowStatus.SENDING]
        # (A returning record that takes up its kept item sends a change: safe to resend.)
        new_rows = [r for r in sending if self.creates_item(r)]
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
            and any(s.status is RowStatus.SENDING and self.creates(s) for s in self.subs_of(r))
        }
        parents |= {f.item_id for f in found.values()}
        existing = subitems_of(self.client, sorted(parents)) if parents else {}
        in_flight = {x.stg_subitem_id for x in self.subs.values() if x.status is RowStatus.SENDING}
        now = _now()
        with self.engine.begin() as conn:
            for row in sending:
                hit = found.get(row.record_uuid) if self.creates_item(row) else None
                if hit is not None and row.previous is not None:
                    # A returning record's old item (archived, or deleted) is not the one
                    # its create made.
                    hit = None if hit.item_id == row.previous.monday_item_id else hit
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
                    self.creates(sub)
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

    def creates_item(self, row: StagedRow) -> bool:
        """A row whose push creates its item: a NEW one (not one taking up the item it
        had), or a CHANGED one whose item turned out gone from the board (see recreates)."""
        if row.change_type is ChangeType.NEW:
            return not row.kept_item_id
        return recreates(row)

    def creates(self, sub: StagedSubitem) -> bool:
        """A subitem the push creates: a new size, or any size of an item the push creates
        (a returning record's sizes were staged against its kept item, which may be gone)."""
        return sub.change_type is ChangeType.NEW or self.creates_item(self.rows[sub.stg_parent_id])

    def subitem_ids_after(self, row: StagedRow) -> dict[str, str]:
        # A created item starts with no subitems (a returning record's old ones stay with
        # its old item, archived or gone).
        reused = row.previous is not None and not self.creates_item(row)
        ids = dict(row.previous.subitem_ids) if reused and row.previous else {}
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
                # Fix: a deleted order's state used to be forgotten (kept as it was, every
                # detection counted it DELETED again), so the same order coming back was
                # NEW and got a second item. It is now a tombstone: not synced (detection
                # leaves it out), but its item is known, and what became of it.
                deleted_action=self.deleted_action,
            )

    def deleted_action(self, row: StagedRow) -> str:
        if row.stg_id in self.gone:
            return DELETED_GONE
        kind = self.mapping.deleted_action.get("kind")
        return DELETED_STATUS if kind == DELETED_STATUS else DELETED_ARCHIVE

    def record(self, results: list[OperationResult]) -> None:
        now = _now()
        touched: set[int] = set()
        with self.engine.begin() as conn:
            self.heartbeat(conn, now)
            for res in results:
                key, ident = res.op.key[0], int(res.op.key[1:])
                error = None if res.ok else self.error_text(res.error)
                if key == "r":
                    row = self.rows[ident]
                    gone = res.error is not None and res.error.code in GONE_CODES
                    if gone and row.change_type is ChangeType.DELETED:
                        # Fix: archiving (or labelling) an item someone had deleted on
                        # monday.com by hand failed the row, and every later push sent it
                        # again, to the same refusal. The item is off the board: done.
                        res, error = OperationResult(res.op, replayed=res.replayed), None
                        self.gone.add(ident)
                        log.warning(
                            "order %s: its item %s was already deleted on monday.com",
                            row.order_number or row.record_uuid,
                            row.item_id,
                        )
                    elif gone and (
                        row.kept_item_id
                        or (row.change_type is ChangeType.CHANGED and not recreates(row))
                    ):
                        self.give_up_item(conn, row, now)
                        self.recreate.append(ident)  # push() sends it again at once
                        continue
                    row.status = RowStatus.PUSHED if res.ok else RowStatus.FAILED
                    if res.ok and res.op.kind == "create_item":
                        row.item_id = res.item_id
                        if recreates(row):
                            assert row.previous is not None
                            log.warning(
                                "order %s: created anew as item %s (its item %s was no "
                                "longer on the board)",
                                row.order_number or row.record_uuid,
                                row.item_id,
                                row.previous.monday_item_id,
                            )
                    if res.ok and row.change_type is ChangeType.NEW and row.previous:
                        self._log_returning(row)
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
                    elif (
                        not res.ok
                        and res.op.kind == "change_multiple_column_values"
                        and res.error is not None
                        and res.error.code in GONE_CODES
                        and sub.change_type is ChangeType.CHANGED
                    ):
                        # A changed size whose subitem was deleted by hand: created anew
                        # (push() sends it at once), not refused on every push.
                        self.give_up_subitem(conn, sub, now)
                        self.recreate_subs.append(ident)
                        continue
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

    def give_up_item(self, conn, row: StagedRow, now: datetime) -> None:  # type: ignore[no-untyped-def]
        """The item a row was to change is no longer on the board (deleted, or archived, by
        hand): a returning record's labelled item, or a CHANGED order's item. The row
        becomes a create, its sizes new subitems. Its staged previous state now says the
        item is gone (deleted_action "gone": for a returning record, so that an undo writes
        back the truth; for a CHANGED row, it is what makes the row a create from now on,
        also on a resume: see recreates). Counted as a refusal (failed=True): its next
        request, now a create, needs a new Idempotency-Key, since monday may keep an answer
        (a change's) to the old one: a change monday refused, or one a crash left
        unanswered. The key stays the same on every retry or resume of that create."""
        assert row.previous is not None
        who = row.order_number or row.record_uuid
        if row.change_type is ChangeType.CHANGED:
            log.warning(
                "order %s changed, but its item %s is no longer on the board (deleted or "
                "archived by hand): a new item is created for it",
                who,
                row.previous.monday_item_id,
            )
            # The new item gets every size of the order, not only the changed ones.
            have = {sub.size for sub in self.subs_of(row)}
            assert row.values is not None
            missing = {k: int(v) for k, v in row.values["sizes"].items() if k not in have}
            if missing:
                for sub in pushing.add_subitems(conn, self.batch.batch_id, row, missing, now):
                    self.subs[sub.stg_subitem_id] = sub
                    self.children.setdefault(row.stg_id, []).append(sub)
        else:
            log.warning(
                "order %s came back, but its item %s is no longer on the board: a new item "
                "is created for it",
                who,
                row.previous.monday_item_id,
            )
        row.previous.deleted_action = DELETED_GONE
        row.status, row.item_id, row.error = RowStatus.PENDING, None, None
        row.retry_count += 1
        pushing.set_previous(conn, row.stg_id, row.previous, now)
        pushing.record_row(conn, row.stg_id, status=row.status, now=now, failed=True)

    def give_up_subitem(self, conn, sub: StagedSubitem, now: datetime) -> None:  # type: ignore[no-untyped-def]
        """A changed size's subitem is no longer on the board (deleted by hand): the size
        becomes a create (NEW, for good: a resume creates it, an undo deletes it), under a
        new Idempotency-Key (its retry count goes up, as a refusal's does)."""
        parent = self.rows[sub.stg_parent_id]
        log.warning(
            "order %s: the subitem %s of size %s is no longer on the board: a new subitem "
            "is created for it",
            parent.order_number or parent.record_uuid,
            sub.subitem_id,
            sub.size,
        )
        sub.change_type, sub.status, sub.subitem_id, sub.error = (
            ChangeType.NEW,
            RowStatus.PENDING,
            None,
            None,
        )
        sub.retry_count += 1
        pushing.recreate_subitem(conn, sub.stg_subitem_id, now)

    def _log_returning(self, row: StagedRow) -> None:
        assert row.previous is not None
        who = row.order_number or row.record_uuid
        if row.kept_item_id:
            log.info("order %s came back: its item %s is taken up again", who, row.item_id)
            return
        fate = {
            DELETED_ARCHIVE: "stays in the board's archive (the API cannot unarchive it)",
            DELETED_GONE: "is no longer on the board (deleted or archived by hand)",
        }.get(row.previous.deleted_action or "", "is left as it is")
        log.info(
            "order %s came back: new item %s; its old item %s %s",
            who,
            row.item_id,
            row.previous.monday_item_id,
            fate,
        )

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

    def fail_locally(self, row: StagedRow, message: str) -> None:
        row.status, row.error = RowStatus.FAILED, message
        with self.engine.begin() as conn:
            pushing.record_row(
                conn, row.stg_id, status=row.status, now=_now(), error=message, failed=True
            )
        log.error("order %s: %s", row.order_number or row.record_uuid, message)


REPLAY_WINDOW = timedelta(minutes=20)


def check_kept_items(s: _Session) -> None:
    """Returning records about to take up their labelled items: are those still on the
    board? One lookup by record_uuid (only for batches that have such rows). An item
    archived by hand since would otherwise take the order's values out of sight (monday
    lets archived items be changed, and cannot unarchive them), and a deleted one would
    refuse the change; either way the order gets a new item instead."""
    assert s.board is not None
    rows = [r for r in s.rows.values() if r.kept_item_id and r.status in RETRYABLE]
    if not rows:
        return
    found = find_items(
        s.client,
        s.board.board_id,
        s.mapping.record_uuid_column.column_id,
        [r.record_uuid for r in rows],
    )
    on_board = {hit.item_id for hit in found.values()}
    lost = [r for r in rows if r.kept_item_id not in on_board]
    if lost:
        with s.engine.begin() as conn:
            for row in lost:
                s.give_up_item(conn, row, _now())


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
    status = finish(
        s, status, message=message, succeeded=len(ok), failed=len(failed), release_lock=complete
    )
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
        batch=s.read_batch(),
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
            batch=batch,
        )
    if batch.status not in (BatchStatus.STAGED, BatchStatus.PUSHING, BatchStatus.PARTIAL):
        raise BatchStateError(f"batch {batch_id} is {batch.status}: it cannot be pushed")
    s = _Session(ctx, setup, batch, progress, should_cancel)
    with running(s):
        try:
            start(s, "push", (BatchStatus.STAGED, BatchStatus.PARTIAL), check=_not_being_undone)
            return _push(s, started)
        except MondayError as exc:
            log.error("batch %d: %s", batch_id, exc)
            report = _finish(s, started=started, cancelled=False, error=str(exc))
            raise PushStopped(str(exc), report) from None


def _not_being_undone(s: BatchRun) -> None:
    if any(r.status is RowStatus.UNDONE for r in s.rows.values()):
        raise BatchStateError(
            f"batch {s.batch.batch_id} is being undone: roll it back again to finish the undo"
        )


def _push(s: _Session, started: float) -> PushReport:
    ctx, setup, batch, should_cancel = s.ctx, s.setup, s.batch, s.should_cancel
    batch_id = batch.batch_id
    log.info(
        "batch %d: pushing %d rows for %s to board %s",
        batch_id,
        len(s.rows),
        batch.customer,
        setup.board_id,
    )
    recover_in_flight(s)
    check_kept_items(s)
    group_id = ensure_group(s.client, s.board, _group_title(ctx.mapping, batch.customer))
    items = _item_ops(s, group_id)
    total = len(items) + sum(1 for x in s.subs.values() if x.status in RETRYABLE)
    done = s.run(items, "push-items", 0, total)
    if s.recreate and not should_cancel():
        # Returning records whose kept item was gone: created now, not on the next push.
        again = _item_ops(s, group_id, (RowStatus.PENDING,), only=set(s.recreate))
        total += len(again)
        done = s.run(again, "push-items", done, total)
    if not should_cancel():
        done = s.run(_subitem_ops(s), "push-subitems", done, total)
    if s.recreate_subs and not should_cancel():
        # Changed sizes whose subitem was gone: created now, not on the next push.
        again = _subitem_ops(s, (RowStatus.PENDING,), only=set(s.recreate_subs))
        total += len(again)
        s.run(again, "push-subitems", done, total)
    return _finish(s, started=started, cancelled=should_cancel(), error=None)


class PushStopped(RuntimeError):
    """monday.com stopped the push (token, limits, board); what was done is recorded."""

    def __init__(self, message: str, report: PushReport) -> None:
        # One message: the report's already names the cause ("... (cause): push again");
        # wrapping it in the cause again said everything twice.
        super().__init__(report.message if message in report.message else message)
        self.report = report
