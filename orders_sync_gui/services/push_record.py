"""How a push records what it planned and what monday.com answered, with the sync state
each completed row implies, before the next request leaves.

Failed rows keep monday's message (with the column it refused) and are offered again by the
next push. An item or subitem that turns out gone from the board is not a failure forever:
a deleted order's item that is gone is done; a changed order's (or a returning record's)
item that is gone becomes a create, with every size, sent in the same push; a changed
size's subitem that is gone becomes a create too. An undo that recovers a push's rows
records them through this class as well.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from sqlalchemy import Connection

from ..core.models import ChangeType, RowStatus
from ..core.staged import (
    DELETED_ARCHIVE,
    DELETED_GONE,
    DELETED_STATUS,
    StagedRow,
    StagedSubitem,
    complete,
    subitem_ids_after,
)
from ..monday.client import FieldError
from ..monday.operations import Operation, OperationResult
from ..store import pushing
from .batch_run import BatchRun, now
from .push_plan import Plan

log = logging.getLogger(__name__)


class PushRecorder:
    """A push's bookkeeping on one run: what it marks, records, promotes and gives up."""

    def __init__(self, run: BatchRun) -> None:
        self.run = run
        self.adopted = 0  # rows found already on the board (not created twice)
        self.gone: set[int] = set()  # DELETED rows whose item was no longer on monday.com
        self.recreate: list[int] = []  # rows whose item turned out gone: created anew
        self.recreate_subs: list[int] = []  # changed sizes whose subitem turned out gone
        self.fresh_items: set[str] = set()  # items this run created (they start empty)

    # --- before a request, and plans -----------------------------------------------------

    def mark_sending(self, ops: list[Operation]) -> None:
        """Before a request leaves: its rows are SENDING (their outcome unknown until the
        answer is recorded), in the store and in the run's own view, so that a run stopped
        now reports the batch PARTIAL (never STAGED: a staged batch may be discarded
        without a look at monday.com)."""
        run = self.run
        rows = [int(op.key[1:]) for op in ops if op.key.startswith("r")]
        subs = [int(op.key[1:]) for op in ops if op.key.startswith("s")]
        with run.engine.begin() as conn:
            stamp = now()
            pushing.set_row_status(conn, rows, RowStatus.SENDING, stamp)
            pushing.set_subitem_status(conn, subs, RowStatus.SENDING, stamp)
        for ident in rows:
            run.rows[ident].status = RowStatus.SENDING
            run.noted("row", ident)
        for ident in subs:
            run.subs[ident].status = RowStatus.SENDING
            run.noted("subitem", ident)

    def apply(self, plan: Plan) -> list[Operation]:
        """Take a plan in: the ids its operations work on, the rows and sizes it refused
        (each alone, with its reason) and the sizes it settled; returns its operations."""
        run = self.run
        for key, monday_id in plan.targets.items():
            if key[0] == "r":
                run.rows[int(key[1:])].item_id = monday_id
            else:
                run.subs[int(key[1:])].subitem_id = monday_id
        if not plan.failures and not plan.settled:
            return plan.ops
        with run.engine.begin() as conn:
            for key, message in plan.failures.items():
                ident = int(key[1:])
                if key[0] == "r":
                    row = run.rows[ident]
                    row.status, row.error = RowStatus.FAILED, message
                    run.save_row(conn, row, failed=True)
                else:
                    sub = run.subs[ident]
                    sub.status, sub.error = RowStatus.FAILED, message
                    run.save_subitem(conn, sub, failed=True)
                log.error("order %s: %s", run.order_of(Operation(key, "", {})), message)
            settled = [run.subs[int(key[1:])] for key in plan.settled]
            for sub in settled:
                sub.status = RowStatus.PUSHED
                run.save_subitem(conn, sub)
            self.promote_complete(conn, {sub.stg_parent_id for sub in settled})
        return plan.ops

    # --- answers ---------------------------------------------------------------------------

    def record(self, results: list[OperationResult]) -> None:
        """One response's results, with the sync state of every row they complete."""
        run = self.run
        touched: set[int] = set()
        with run.engine.begin() as conn:
            run.heartbeat(conn)
            for res in results:
                ident = int(res.op.key[1:])
                if res.op.key[0] == "r":
                    parent = self._record_row(conn, run.rows[ident], res)
                else:
                    parent = self._record_subitem(conn, run.subs[ident], res)
                if parent is not None:
                    touched.add(parent)
            self.promote_complete(conn, touched)

    def _refused(self, op: Operation, error: str | None) -> None:
        log.error("order %s: monday.com refused %s: %s", self.run.order_of(op), op.kind, error)

    def _record_row(self, conn: Connection, row: StagedRow, res: OperationResult) -> int | None:
        """Returns the row's id when its outcome is recorded, None when it is sent again."""
        gone = res.error is not None and res.error.gone
        if gone and row.change_type is ChangeType.DELETED:
            # The item of a deleted order is already off the board: that is what the delete
            # wanted, so the row is done, not refused on every push.
            res = OperationResult(res.op, replayed=res.replayed)
            self.gone.add(row.stg_id)
            log.warning(
                "order %s: its item %s was already deleted on monday.com", row.who, row.item_id
            )
        elif gone and (row.kept_item_id or row.keeps_item):
            self.give_up_item(conn, row)
            self.recreate.append(row.stg_id)  # the push sends it again at once
            return None
        row.status = RowStatus.PUSHED if res.ok else RowStatus.FAILED
        row.error = None if res.ok else self.error_text(res.error)
        if res.ok and res.op.kind == "create_item":
            row.item_id = res.item_id
            if not res.replayed and res.item_id:
                self.fresh_items.add(res.item_id)
            if row.recreates:
                assert row.previous is not None
                log.warning(
                    "order %s: created anew as item %s (its item %s was no longer on the board)",
                    row.who,
                    row.item_id,
                    row.previous.monday_item_id,
                )
        if res.ok and row.change_type is ChangeType.NEW and row.previous:
            self._log_returning(row)
        self.run.save_row(conn, row, failed=not res.ok)
        if not res.ok:
            self._refused(res.op, row.error)
        return row.stg_id

    def _record_subitem(
        self, conn: Connection, sub: StagedSubitem, res: OperationResult
    ) -> int | None:
        gone = res.error is not None and res.error.gone
        if gone and res.op.kind == "delete_item":
            # A removed size whose subitem is gone already (by hand, or by a request whose
            # answer was lost) is done.
            res = OperationResult(res.op, replayed=res.replayed)
        elif (
            gone
            and res.op.kind == "change_multiple_column_values"
            and sub.change_type is ChangeType.CHANGED
        ):
            self.give_up_subitem(conn, sub)
            self.recreate_subs.append(sub.stg_subitem_id)  # the push sends it at once
            return None
        sub.status = RowStatus.PUSHED if res.ok else RowStatus.FAILED
        if res.ok and res.op.kind == "create_subitem":
            sub.subitem_id = res.item_id
        sub.error = None if res.ok else self.error_text(res.error)
        self.run.save_subitem(conn, sub, failed=not res.ok)
        if not res.ok:
            self._refused(res.op, sub.error)
        return sub.stg_parent_id

    def promote_complete(self, conn: Connection, stg_ids: Iterable[int]) -> None:
        """Rows whose item and sizes are all pushed move into the sync state. A deleted
        order's becomes a tombstone (not synced, but its item is known, and what became of
        it), so that the same order coming back takes its item up instead of a second."""
        run = self.run
        done = []
        for stg_id in set(stg_ids):
            row = run.rows[stg_id]
            subs = run.subs_of(row)
            if complete(row, subs):
                done.append((row, subitem_ids_after(row, subs)))
        if done:
            pushing.promote(
                conn,
                done,
                batch_id=run.batch.batch_id,
                now=now(),
                deleted_action=self.deleted_action,
            )

    def deleted_action(self, row: StagedRow) -> str:
        if row.stg_id in self.gone:
            return DELETED_GONE
        kind = self.run.mapping.deleted_action.get("kind")
        return DELETED_STATUS if kind == DELETED_STATUS else DELETED_ARCHIVE

    # --- items and subitems that turned out gone ---------------------------------------------

    def give_up_item(self, conn: Connection, row: StagedRow) -> None:
        """The item a row was to change is no longer on the board (deleted, or archived, by
        hand): a returning record's labelled item, or a CHANGED order's item. The row
        becomes a create, its sizes new subitems. Its staged previous state now says the
        item is gone (deleted_action "gone": for a returning record, so that an undo writes
        back the truth; for a CHANGED row, it is what makes the row a create from now on,
        also on a resume: see StagedRow.recreates). Counted as a refusal: its next request,
        now a create, needs a new Idempotency-Key, since monday may keep an answer (a
        change's) to the old one. The key stays the same on every retry or resume of that
        create."""
        run = self.run
        assert row.previous is not None
        if row.change_type is ChangeType.CHANGED:
            log.warning(
                "order %s changed, but its item %s is no longer on the board (deleted or "
                "archived by hand): a new item is created for it",
                row.who,
                row.previous.monday_item_id,
            )
            # The new item gets every size of the order, not only the changed ones.
            have = {sub.size for sub in run.subs_of(row)}
            assert row.values is not None
            missing = {k: int(v) for k, v in row.values["sizes"].items() if k not in have}
            if missing:
                for sub in pushing.add_subitems(conn, run.batch.batch_id, row, missing, now()):
                    run.adopt_subitem(sub)
                    run.noted("subitem", sub.stg_subitem_id)
        else:
            log.warning(
                "order %s came back, but its item %s is no longer on the board: a new item "
                "is created for it",
                row.who,
                row.previous.monday_item_id,
            )
        row.previous.deleted_action = DELETED_GONE
        row.status, row.item_id, row.error = RowStatus.PENDING, None, None
        pushing.set_previous(conn, row.stg_id, row.previous, now())
        run.save_row(conn, row, failed=True)

    def give_up_subitem(self, conn: Connection, sub: StagedSubitem) -> None:
        """A changed size's subitem is no longer on the board (deleted by hand): the size
        becomes a create (NEW, for good: a resume creates it, an undo deletes it), under a
        new Idempotency-Key (its retry count goes up, as a refusal's does)."""
        parent = self.run.rows[sub.stg_parent_id]
        log.warning(
            "order %s: the subitem %s of size %s is no longer on the board: a new subitem "
            "is created for it",
            parent.who,
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
        pushing.recreate_subitem(conn, sub.stg_subitem_id, now())
        self.run.noted("subitem", sub.stg_subitem_id)

    # --- words -------------------------------------------------------------------------

    def _log_returning(self, row: StagedRow) -> None:
        assert row.previous is not None
        if row.kept_item_id:
            log.info("order %s came back: its item %s is taken up again", row.who, row.item_id)
            return
        fate = {
            DELETED_ARCHIVE: "stays in the board's archive (the API cannot unarchive it)",
            DELETED_GONE: "is no longer on the board (deleted or archived by hand)",
        }.get(row.previous.deleted_action or "", "is left as it is")
        log.info(
            "order %s came back: new item %s; its old item %s %s",
            row.who,
            row.item_id,
            row.previous.monday_item_id,
            fate,
        )

    def error_text(self, error: FieldError | None) -> str:
        """monday's words for a refused row, and the column (with its source field) it
        refused: monday's ColumnValueException names the column only in its error_data,
        and the operator must know which field to correct."""
        text = str(error)
        column = str(error.data.get("column_id") or "") if error is not None else ""
        if column and column not in text:
            source = next(
                (m.source for m in self.run.mapping.columns if m.column.column_id == column),
                None,
            )
            text += f" (column {column}" + (f", from [{source}]" if source else "") + ")"
        return text
