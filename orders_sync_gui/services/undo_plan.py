"""What an undo sends: the inverse of each pushed row and size. Pure, as push_plan.py.

Items the batch created are deleted (their subitems with them); items it changed get their
previous values (and name) back; a status-label delete is reverted; an adopted item's
record_uuid is cleared; an item a returning
record took up gets the tombstone's values and label back. Sizes of an item that was there
before the batch are undone one by one: a new subitem deleted, a changed one given its
previous quantity, a deleted one created again. What the API cannot undo is a note.
"""

from __future__ import annotations

from ..core.board_values import item_values, subitem_values
from ..core.models import ChangeType, RowStatus
from ..core.staged import DELETED_STATUS, StagedRow, StagedSubitem
from ..monday.operations import Operation
from .push_plan import Plan, Target, change_op, create_subitem_op, renamed, whole_item


def undo_plan(target: Target, rows: dict[int, StagedRow], subs: dict[int, StagedSubitem]) -> Plan:
    plan = Plan()
    for row in rows.values():
        if row.status is RowStatus.PUSHED and row.item_id:
            _undo_row(target, plan, row)
    for sub in subs.values():
        parent = rows[sub.stg_parent_id]
        if sub.status is RowStatus.PUSHED and parent.keeps_item:
            _undo_subitem(target, plan, sub, parent)
    # Rows whose own values did not change (only their sizes) are reverted once their sizes
    # are: settled without a request of their own.
    keys = {op.key for op in plan.ops}
    plan.settled = [
        f"r{row.stg_id}"
        for row in rows.values()
        if row.status is RowStatus.PUSHED
        and row.change_type is ChangeType.CHANGED
        and f"r{row.stg_id}" not in keys
    ]
    return plan


def _undo_row(target: Target, plan: Plan, row: StagedRow) -> None:
    mapping, key = target.mapping, f"r{row.stg_id}"
    kw = {"attempt": row.retry_count, "cost": target.cost}
    if row.change_type is ChangeType.ADOPTED:
        # An adopted item (services/adopt_run.py) had no record_uuid before: it is cleared.
        cleared: dict[str, object] = {mapping.record_uuid_column.column_id: ""}
        op = change_op(
            key,
            target.board_id,
            row.item_id,
            cleared,
            attempt=row.retry_count,
            cost=target.cost,
            create_labels=False,
        )
        plan.ops.append(op)
        return
    if row.creates_item:
        plan.ops.append(Operation(key, "delete_item", {"item_id": row.item_id}, **kw))
        return
    assert row.previous is not None
    if row.kept_item_id:
        previous = row.previous.record
        values = whole_item(mapping, row, previous.fields, previous.sizes, labelled=True)
    elif row.change_type is ChangeType.DELETED:
        action = mapping.deleted_action
        if action.get("kind") != DELETED_STATUS:
            plan.notes.append(
                f"order {row.order_number}: archived item {row.item_id} "
                "stays archived (restore it from the board's archive)"
            )
            return
        values = {str(action["column_id"]): None}
    else:
        assert row.diff is not None
        fields = [d["field"] for d in row.diff.get("fields", [])]
        # What the item held before the push: the diff's "old" side. For a change that is
        # the last pushed value; for a drift re-push (services/drift_repush.py), the value
        # someone had typed on the board, which the undo gives back.
        before = {**row.previous.record.fields}
        before |= {d["field"]: d["old"] for d in row.diff.get("fields", [])}
        values = item_values(
            mapping,
            row.record_uuid,
            before,
            row.previous.record.sizes,
            only=fields,
            with_qty=bool(row.diff.get("sizes")),
        )
        # The push renamed the item when a name field changed: give the old name back.
        old_name = renamed(mapping, fields, before, row.order_number)
        if old_name is not None:
            values["name"] = old_name
    if values:
        attempt, cost = kw["attempt"], kw["cost"]
        plan.ops.append(
            change_op(key, target.board_id, row.item_id, values, attempt=attempt, cost=cost)
        )


def _undo_subitem(target: Target, plan: Plan, sub: StagedSubitem, parent: StagedRow) -> None:
    key = f"s{sub.stg_subitem_id}"
    kw = {"attempt": sub.retry_count, "cost": target.cost}
    if sub.change_type is ChangeType.NEW and sub.subitem_id:
        plan.ops.append(Operation(key, "delete_item", {"item_id": sub.subitem_id}, **kw))
    elif sub.change_type is ChangeType.CHANGED and sub.subitem_id:
        values = subitem_values(target.mapping, sub.size, sub.previous_qty)
        plan.ops.append(
            change_op(
                key, target.subitems_board_id, sub.subitem_id, values, create_labels=False, **kw
            )
        )
    elif sub.change_type is ChangeType.DELETED:
        plan.notes.append(
            f"order {parent.order_number}: size {sub.size} comes back as "
            "a new subitem, without figures typed on the old one"
        )
        plan.ops.append(
            create_subitem_op(target.mapping, key, parent.item_id, sub.size, sub.previous_qty, **kw)
        )
