"""Push the database's values back over items edited by hand: a batch like any other.

The chosen orders are staged as CHANGED rows whose "old" side is what the board holds now
(read again, item by item) and whose "new" side is the source row: every mapped column the
board holds otherwise is written, every size whose subitem was removed, re-quantified or
added by hand is created, written or deleted. The batch is then pushed by the ordinary push
(services/push.py), shows in the history, and its undo gives the board back what it held
before (undo_plan writes the diff's "old" values). An item archived or deleted by hand is
staged as a change too: the push's pre-flight finds it gone and makes a new item with every
size, as it does for any changed order whose item is gone.
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import datetime

from ..core.columns import COLOUR, ORDER_NUMBER, PO_NUMBER, STYLE
from ..core.drift import BoardItem, item_fields, item_sizes, same_value
from ..core.models import ChangeType, FieldDiff, Record, RowChange, SizeDiff
from ..core.staged import StateRow
from ..monday.board_items import items_by_id
from ..store import staging as store_staging
from ..store.staging import BatchInfo
from ..store.syncstate import load_state
from .context import Context
from .detection import source_records
from .monday_setup import MondaySetup

log = logging.getLogger(__name__)


class NothingToRepushError(RuntimeError):
    pass


@dataclass(slots=True)
class Repush:
    batch: BatchInfo
    left_out: list[str] = field(default_factory=list)  # why an order chosen was not staged


def _diffs(
    ctx: Context, item: BoardItem, record: Record
) -> tuple[list[FieldDiff], list[SizeDiff], dict[str, str]]:
    """What differs between the item as it is and the source row; and the ids of the
    item's subitems, by size."""
    held = item_fields(ctx.mapping, item)
    fields = [
        FieldDiff(m.source, held[m.source], record.fields.get(m.source))
        for m in ctx.mapping.columns
        if not same_value(m.column, held[m.source], record.fields.get(m.source))
    ]
    on_board = item_sizes(ctx.mapping, item)
    sizes = [
        SizeDiff(s, on_board[s][1] if s in on_board else None, q)
        for s, q in record.sizes.items()
        if s not in on_board or on_board[s][1] != q
    ]
    sizes += [SizeDiff(s, q or 0, None) for s, (_, q) in on_board.items() if s not in record.sizes]
    return fields, sizes, {s: sub_id for s, (sub_id, _) in on_board.items()}


def _change(
    ctx: Context, row: StateRow, item: BoardItem | None, record: Record
) -> tuple[RowChange, StateRow] | None:
    """The row to stage, and its previous state (with the item's subitem ids as the board
    has them); None when the item already says what the source says."""
    if item is None or item.state != "active":
        # Gone by hand: the push's pre-flight finds it so and makes a new item.
        return RowChange(
            row.record.record_uuid, ChangeType.CHANGED, record.customer, record, row.record
        ), row
    fields, sizes, ids = _diffs(ctx, item, record)
    if not fields and not sizes:
        return None
    previous = replace(row, subitem_ids={**row.subitem_ids, **ids})
    change = RowChange(
        row.record.record_uuid,
        ChangeType.CHANGED,
        record.customer,
        record,
        row.record,
        fields,
        sizes,
    )
    return change, previous


def stage_repush(ctx: Context, setup: MondaySetup, customer: str, uuids: Collection[str]) -> Repush:
    """Stage the chosen orders of a customer to get the database's values back onto their
    items. Orders no longer in the source, or held by another open batch, are left out
    with the reason."""
    customer = ctx.customers.canonical(customer) or customer
    wanted = set(uuids)
    with ctx.store.engine.connect() as conn:
        rows = [s for s in load_state(conn, customer) if s.record.record_uuid in wanted]
        held = store_staging.held_orders(conn, sorted(wanted))
    source = source_records(ctx, customer)
    client = setup.client()
    try:
        ids = sorted({r.monday_item_id for r in rows if r.monday_item_id})
        items = items_by_id(client, ids, ctx.mapping) if ids else {}
    finally:
        client.close()
    changes: list[RowChange] = []
    previous: dict[str, StateRow] = {}
    left_out = [
        f"order {u}: not synced for {customer}"
        for u in sorted(wanted - {r.record.record_uuid for r in rows})
    ]
    for row in rows:
        uid = row.record.record_uuid
        who = row.record.fields.get(ORDER_NUMBER) or uid
        record = source.get(uid)
        if uid in held:
            left_out.append(str(held[uid]))
        elif record is None:
            left_out.append(
                f"order {who}: no longer in the source (its delete is a push of its own)"
            )
        elif (made := _change(ctx, row, items.get(row.monday_item_id or ""), record)) is None:
            left_out.append(f"order {who}: its item already holds the database's values")
        else:
            changes.append(made[0])
            previous[uid] = made[1]
    if not changes:
        raise NothingToRepushError(
            f"{customer}: nothing to push back" + "".join(f"; {r}" for r in left_out[:5])
        )
    batch = store_staging.stage_batch(
        ctx.store.engine,
        customer=customer,
        operator=ctx.operator,
        changes=changes,
        change_types=[ChangeType.CHANGED],
        key_fields=(ORDER_NUMBER, PO_NUMBER, STYLE, COLOUR),
        now=datetime.now().replace(microsecond=0),
        previous=previous,
    )
    log.info(
        "drift: batch %d stages the database's values of %d %s orders back onto the board",
        batch.batch_id,
        len(changes),
        customer,
    )
    for reason in left_out:
        log.warning("drift re-push: %s", reason)
    return Repush(batch, left_out)
