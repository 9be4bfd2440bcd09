"""What a push sends: each staged row and size as monday.com operations. Pure: it reads
the rows and the board's ids and returns a Plan; the run applies and records it.

Items: create (a NEW row, or one whose item turned out gone), take up a labelled item (an
order that came back), change its columns (CHANGED), or the mapping's delete action
(DELETED). Subitems: create, change or delete a size, under the item its row pushed. Rows
that cannot become an operation (an empty item name, no subitem known for a size) are the
plan's failures, each alone.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any

from ..core.board_values import (
    MAX_ITEM_NAME,
    ItemNameError,
    compact_json,
    item_name,
    item_values,
    subitem_values,
)
from ..core.mapping import BoardMapping
from ..core.models import ChangeType, RowStatus
from ..core.staged import DELETED_STATUS, RETRYABLE, StagedRow, StagedSubitem
from ..core.utf16 import clip_utf16
from ..monday.operations import Operation


@dataclass(frozen=True, slots=True)
class Target:
    """Where a plan's operations go: the mapping, the board's ids, one mutation's cost."""

    mapping: BoardMapping
    board_id: str
    subitems_board_id: str | None
    cost: int


@dataclass(slots=True)
class Plan:
    """Operations to send, and what the planning itself decided, keyed as the operations
    are ("r12": staged row 12, "s40": staged size 40)."""

    ops: list[Operation] = field(default_factory=list)
    # The monday id each operation works on (an existing item or subitem).
    targets: dict[str, str] = field(default_factory=dict)
    failures: dict[str, str] = field(default_factory=dict)  # refused here, not sent
    settled: list[str] = field(default_factory=list)  # done without a request
    notes: list[str] = field(default_factory=list)  # what an undo cannot restore


def change_op(
    key: str,
    board_id: str | None,
    item_id: str | None,
    values: dict[str, Any],
    *,
    attempt: int,
    cost: int,
    create_labels: bool = True,
) -> Operation:
    """monday's change_multiple_column_values on one item or subitem: how a push and an
    undo write the columns of something already on the board. (The arguments keep their
    order: it is part of what the Idempotency-Key is made of.)"""
    arguments: dict[str, Any] = {
        "board_id": board_id,
        "item_id": item_id,
        "column_values": compact_json(values),
    }
    if create_labels:
        arguments["create_labels_if_missing"] = True
    return Operation(key, "change_multiple_column_values", arguments, attempt=attempt, cost=cost)


def create_subitem_op(
    mapping: BoardMapping, key: str, parent_id: str | None, size: str, qty: int | None, **kw: int
) -> Operation:
    return Operation(
        key,
        "create_subitem",
        {
            "parent_item_id": parent_id,
            "item_name": size,
            "column_values": compact_json(subitem_values(mapping, size, qty)),
            "create_labels_if_missing": True,
        },
        **kw,
    )


def group_title(mapping: BoardMapping, customer: str) -> str:
    """The customer's group. monday's group names, like item names, hold 1 to 255
    characters (UTF-16 units): a longer customer name is clipped, not refused."""
    title = mapping.group_title_template.replace("{CUSTOMER NAME}", customer)
    return clip_utf16(title, MAX_ITEM_NAME)


def renamed(
    mapping: BoardMapping, changed: Iterable[str], fields: dict, fallback: str | None
) -> str | None:
    """The item's new name when a changed field is part of its name template, else None.
    monday renames an item through the reserved column id "name" of
    change_multiple_column_values; undo sends the old name the same way."""
    if not set(changed) & set(mapping.template_fields()):
        return None
    try:
        return item_name(mapping, fields, fallback)
    except ItemNameError:
        return None  # a name cannot become empty: keep the one the item has


def whole_item(
    mapping: BoardMapping,
    row: StagedRow,
    fields: dict[str, str | None],
    sizes: dict[str, int],
    *,
    labelled: bool,
) -> dict[str, object]:
    """column_values that set a whole item: every mapped column, its quantity, its name,
    and the deleted-order label (on, or off)."""
    values: dict[str, object] = item_values(mapping, row.record_uuid, fields, sizes)
    with contextlib.suppress(ItemNameError):  # a name cannot become empty: keep the item's
        values["name"] = item_name(mapping, fields, row.order_number)
    action = mapping.deleted_action
    if action.get("kind") == DELETED_STATUS:
        values[str(action["column_id"])] = {"label": str(action.get("label"))} if labelled else None
    return values


def item_plan(
    target: Target,
    rows: Iterable[StagedRow],
    group_id: str,
    statuses: tuple[RowStatus, ...] = RETRYABLE,
    only: Collection[int] | None = None,
    found: Mapping[str, str] | None = None,
) -> Plan:
    """`found`: {record_uuid: item id} of items already on the board for rows whose push
    would create one (looked up before creating): those are taken up instead."""
    plan, found = Plan(), found or {}
    for row in rows:
        if row.status not in statuses or (only is not None and row.stg_id not in only):
            continue
        key = f"r{row.stg_id}"
        if row.kept_item_id:
            _take_up(target, plan, row, key, row.kept_item_id)
        elif row.creates_item and row.record_uuid in found:
            _take_up(target, plan, row, key, found[row.record_uuid])
        elif row.creates_item:  # a NEW row, or a CHANGED one whose item is gone
            _create(target, plan, row, key, group_id)
        elif not (row.previous and row.previous.monday_item_id):
            plan.failures[key] = (
                "no monday.com item is known for this order: it was never "
                "pushed, so it cannot be changed or deleted there"
            )
        else:
            _change_or_delete(target, plan, row, key, row.previous.monday_item_id)
    return plan


def _create(target: Target, plan: Plan, row: StagedRow, key: str, group_id: str) -> None:
    assert row.values is not None
    mapping = target.mapping
    try:
        name = item_name(mapping, row.values["fields"], row.order_number)
    except ItemNameError as exc:
        plan.failures[key] = str(exc)
        return
    values = item_values(mapping, row.record_uuid, row.values["fields"], row.values["sizes"])
    plan.ops.append(
        Operation(
            key,
            "create_item",
            {
                "board_id": target.board_id,
                "item_name": name,
                "group_id": group_id,
                "column_values": compact_json(values),
                "create_labels_if_missing": True,
            },
            attempt=row.retry_count,
            cost=target.cost,
        )
    )


def _change_or_delete(target: Target, plan: Plan, row: StagedRow, key: str, item_id: str) -> None:
    mapping = target.mapping
    plan.targets[key] = item_id
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
        rename = renamed(mapping, changed, row.values["fields"], row.order_number)
        if rename is not None:
            values["name"] = rename
        if not values:  # nothing on the item itself: only its subitems change
            values = {mapping.order_qty_column.column_id: str(sum(row.values["sizes"].values()))}
    else:  # DELETED: the mapping's status label (a column change), or archive it
        action = mapping.deleted_action
        if action.get("kind") != DELETED_STATUS:
            plan.ops.append(
                Operation(
                    key,
                    "archive_item",
                    {"item_id": item_id},
                    attempt=row.retry_count,
                    cost=target.cost,
                )
            )
            return
        values = {str(action["column_id"]): {"label": str(action.get("label"))}}
    plan.ops.append(
        change_op(key, target.board_id, item_id, values, attempt=row.retry_count, cost=target.cost)
    )


def _take_up(target: Target, plan: Plan, row: StagedRow, key: str, item_id: str) -> None:
    """The row takes up an item already on the board instead of creating one: the whole
    item is written (every mapped column, its name, its quantity) and any deleted-order
    label is taken off. Two kinds of item: the one a returning record's delete labelled (its
    sizes were staged against that item's subitems, see store.staging), and one found on
    the board by the row's record_uuid before creating (made by a push whose record was
    lost: a restored database, a reset sync state, an answer that never came back).

    A returning record takes up only a labelled item. monday.com's API has archive_item
    and delete_item but no way to unarchive (REFERENCE.md lists none, nor does monday's
    public schema), and it lets an archived item be changed while it stays out of sight: a
    record whose delete archived its item (the "archive" action), or whose item is gone,
    gets a new item, and the archived one stays in the board's archive, superseded."""
    assert row.values is not None
    values = whole_item(
        target.mapping, row, row.values["fields"], row.values["sizes"], labelled=False
    )
    plan.targets[key] = item_id
    plan.ops.append(
        change_op(key, target.board_id, item_id, values, attempt=row.retry_count, cost=target.cost)
    )


def subitem_plan(
    target: Target,
    rows: Mapping[int, StagedRow],
    subs: Iterable[StagedSubitem],
    statuses: tuple[RowStatus, ...] = RETRYABLE,
    only: Collection[int] | None = None,
    found: Mapping[int, str] | None = None,
) -> Plan:
    """The sizes of rows whose item is on the board (pushed), under that item. `found`:
    {staged size: subitem id} of sizes the push would create that their item already has
    (looked up before creating): those are written, or deleted if the size went, instead."""
    plan, found = Plan(), found or {}
    for sub in subs:
        parent = rows[sub.stg_parent_id]
        if sub.status not in statuses or parent.status is not RowStatus.PUSHED:
            continue
        if only is not None and sub.stg_subitem_id not in only:
            continue
        key, kw = f"s{sub.stg_subitem_id}", {"attempt": sub.retry_count, "cost": target.cost}
        if sub.created_under(parent) and sub.stg_subitem_id in found:
            sub_id = plan.targets[key] = found[sub.stg_subitem_id]
            if sub.qty is None:
                plan.ops.append(Operation(key, "delete_item", {"item_id": sub_id}, **kw))
            else:
                values = subitem_values(target.mapping, sub.size, sub.qty)
                plan.ops.append(
                    change_op(
                        key, target.subitems_board_id, sub_id, values, create_labels=False, **kw
                    )
                )
            continue
        if sub.created_under(parent):
            if sub.qty is None:
                # A size a returning record (or a changed order) dropped, staged against its
                # item, which was gone: the subitem went with it, the new item never had it.
                plan.settled.append(key)
            else:
                plan.ops.append(
                    create_subitem_op(target.mapping, key, parent.item_id, sub.size, sub.qty, **kw)
                )
            continue
        previous_ids = parent.previous.subitem_ids if parent.previous else {}
        sub_id = sub.subitem_id or previous_ids.get(sub.size) or ""
        if not sub_id:
            plan.failures[key] = f"no subitem is known for size {sub.size}"
            continue
        plan.targets[key] = sub_id
        if sub.change_type is ChangeType.CHANGED:
            plan.ops.append(
                change_op(
                    key,
                    target.subitems_board_id,
                    sub_id,
                    subitem_values(target.mapping, sub.size, sub.qty),
                    create_labels=False,
                    **kw,
                )
            )
        else:
            plan.ops.append(Operation(key, "delete_item", {"item_id": sub_id}, **kw))
    return plan
