"""What a push sends: each staged row and size as monday.com operations.

Items: create (a NEW row, or one whose item turned out gone), take up a labelled item (an
order that came back), change its columns (CHANGED), or the mapping's delete action
(DELETED). Subitems: create, change or delete a size, under the item its row pushed. Rows
that cannot become an operation (an empty item name, no subitem known for a size) fail here,
alone, through the session. push.py runs these operations and records their answers.
"""

from __future__ import annotations

import contextlib
from collections.abc import Collection, Iterable
from typing import TYPE_CHECKING, Any

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
from ..core.staged import DELETED_GONE, DELETED_STATUS, StagedRow, StagedSubitem
from ..core.utf16 import clip_utf16
from ..monday.operations import Operation
from ..store import pushing
from .batch_run import _now

if TYPE_CHECKING:
    from .push import _Session

# Rows and sizes a push (re)sends: not yet sent, or refused last time.
RETRYABLE = (RowStatus.PENDING, RowStatus.FAILED)


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


def _group_title(mapping: BoardMapping, customer: str) -> str:
    title = mapping.group_title_template.replace("{CUSTOMER NAME}", customer)
    # Fix: monday's group names, like item names, hold 1 to 255 characters. A longer
    # customer name (SQLite keeps any length) made create_group fail, and with it every
    # push of that customer, without naming a row. Clipped as item names are (UTF-16).
    return clip_utf16(title, MAX_ITEM_NAME)


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
    s: _Session,
    group_id: str,
    statuses: tuple[RowStatus, ...] = RETRYABLE,
    only: Collection[int] | None = None,
) -> list[Operation]:
    assert s.board is not None
    mapping = s.mapping
    ops: list[Operation] = []
    for row in s.rows.values():
        if row.status not in statuses or (only is not None and row.stg_id not in only):
            continue
        key = f"r{row.stg_id}"
        if row.kept_item_id:
            ops.append(_take_up_op(s, row, key))
            continue
        if s.creates_item(row):  # a NEW row, or a CHANGED one whose item is gone
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
        else:  # DELETED: the mapping's status label (a column change), or archive it
            action = mapping.deleted_action
            if action.get("kind") != "status":
                ops.append(
                    Operation(
                        key,
                        "archive_item",
                        {"item_id": item_id},
                        attempt=row.retry_count,
                        cost=s.setup.limits.mutation_cost,
                    )
                )
                continue
            values = {str(action["column_id"]): {"label": str(action.get("label"))}}
        ops.append(
            change_op(
                key,
                s.board.board_id,
                item_id,
                values,
                attempt=row.retry_count,
                cost=s.setup.limits.mutation_cost,
            )
        )
    return ops


def recreates(row: StagedRow) -> bool:
    """A CHANGED row whose item turned out gone from the board (deleted, or archived, by
    hand): its push creates the item anew, with every size (see _Session.give_up_item).
    Its staged previous state, not a tombstone, says so: deleted_action "gone"."""
    prev = row.previous
    return (
        row.change_type is ChangeType.CHANGED
        and prev is not None
        and not prev.tombstone
        and prev.deleted_action == DELETED_GONE
    )


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


def _take_up_op(s: _Session, row: StagedRow, key: str) -> Operation:
    """A returning record takes up the item its delete labelled: the whole item is written
    (every mapped column, its name, its quantity) and the label is taken off. Its sizes
    were staged against that item's subitems (see store.staging._subitem_rows).

    Only a labelled item is taken up. monday.com's API has archive_item and delete_item but
    no way to unarchive (REFERENCE.md lists none, nor does monday's public schema), and it
    lets an archived item be changed while it stays out of sight: a record whose delete
    archived its item (the "archive" action), or whose item is gone, gets a new item, and
    the archived one stays in the board's archive, superseded (the log names both)."""
    assert s.board is not None and row.values is not None and row.previous is not None
    item_id = row.previous.monday_item_id
    values = whole_item(s.mapping, row, row.values["fields"], row.values["sizes"], labelled=False)
    row.item_id = item_id
    return change_op(
        key,
        s.board.board_id,
        item_id,
        values,
        attempt=row.retry_count,
        cost=s.setup.limits.mutation_cost,
    )


def _subitem_ops(
    s: _Session,
    statuses: tuple[RowStatus, ...] = RETRYABLE,
    only: Collection[int] | None = None,
) -> list[Operation]:
    assert s.board is not None
    ops: list[Operation] = []
    went: list[StagedSubitem] = []
    for sub in s.subs.values():
        parent = s.rows[sub.stg_parent_id]
        if sub.status not in statuses or parent.status is not RowStatus.PUSHED:
            continue
        if only is not None and sub.stg_subitem_id not in only:
            continue
        key, cost = f"s{sub.stg_subitem_id}", s.setup.limits.mutation_cost
        previous_ids = parent.previous.subitem_ids if parent.previous else {}
        if s.creates(sub) and sub.qty is None:
            # A size a returning record (or a changed order) dropped, staged against its
            # item, which was gone: the subitem went with it, the new item never had it.
            went.append(sub)
            continue
        if s.creates(sub):
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
                change_op(
                    key,
                    s.board.subitems_board_id,
                    sub_id,
                    subitem_values(s.mapping, sub.size, sub.qty),
                    attempt=sub.retry_count,
                    cost=cost,
                    create_labels=False,
                )
            )
        else:
            ops.append(
                Operation(
                    key, "delete_item", {"item_id": sub_id}, attempt=sub.retry_count, cost=cost
                )
            )
    if went:
        with s.engine.begin() as conn:
            now = _now()
            for sub in went:
                sub.status = RowStatus.PUSHED
                pushing.record_subitem(conn, sub.stg_subitem_id, status=sub.status, now=now)
            s._promote_complete(conn, {sub.stg_parent_id for sub in went}, now)
    return ops


# monday keeps a mutation's answer under its Idempotency-Key for 30 minutes; a request left
# in flight more recently than this is sent again with its key (see recover_in_flight). The
# margin allows for the clocks of two computers (one killed, the other resuming) to differ.
