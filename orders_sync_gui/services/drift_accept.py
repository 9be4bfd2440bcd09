"""Accept the board's values: the sync state takes what the items hold now as last pushed.

For each chosen order the item is read again; its mapped columns and subitems become the
order's last pushed values (and the hash is made from them, so both ways of detection
agree), its subitems' ids are taken as the board has them. Nothing is sent to monday.com.
The next detect then shows the order CHANGED exactly where the database differs from the
board. An order whose item was archived or deleted by hand is no longer on the board: the
sync state forgets it, so it shows as NEW and its next push makes it a new item (with every
size; an archived one stays in the board's archive).
"""

from __future__ import annotations

import logging
from collections.abc import Collection
from dataclasses import dataclass, field, replace
from datetime import datetime

from ..core.drift import item_fields, item_sizes
from ..core.hashing import hash_record
from ..core.models import Record
from ..core.staged import StateRow
from ..monday.board_items import items_by_id
from ..store.syncstate import forget_state, load_state, save_state
from .context import Context
from .monday_setup import MondaySetup

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Accepted:
    orders: int = 0  # whose state now holds the board's values
    gone: int = 0  # whose item is gone: forgotten by the sync state (NEW again)
    left_out: list[str] = field(default_factory=list)


def accepted_state(
    row: StateRow,
    item_fields_now: dict[str, str | None],
    sizes: dict[str, tuple[str, int | None]],
) -> StateRow:
    """The state row with the board's values as last pushed."""
    fields = {**row.record.fields, **item_fields_now}
    qty = {s: q for s, (_, q) in sizes.items() if q}
    record = Record(
        row.record.record_uuid, row.record.customer, fields, qty, hash_record(fields, qty)
    )
    ids = {s: sub_id for s, (sub_id, _) in sizes.items()}
    return replace(row, record=record, subitem_ids=ids)


def accept_board(
    ctx: Context, setup: MondaySetup, customer: str, uuids: Collection[str]
) -> Accepted:
    customer = ctx.customers.canonical(customer) or customer
    wanted = set(uuids)
    with ctx.store.engine.connect() as conn:
        rows = [s for s in load_state(conn, customer) if s.record.record_uuid in wanted]
    client = setup.client()
    try:
        ids = sorted({r.monday_item_id for r in rows if r.monday_item_id})
        items = items_by_id(client, ids, ctx.mapping) if ids else {}
    finally:
        client.close()
    out, saved, forgotten = Accepted(), [], []
    out.left_out = [
        f"order {u}: not synced for {customer}"
        for u in sorted(wanted - {r.record.record_uuid for r in rows})
    ]
    for row in rows:
        item = items.get(row.monday_item_id or "")
        if item is None or item.state != "active":
            forgotten.append(row.record.record_uuid)
            out.gone += 1
            continue
        fields = item_fields(ctx.mapping, item)
        saved.append(accepted_state(row, fields, item_sizes(ctx.mapping, item)))
        out.orders += 1
    with ctx.store.engine.begin() as conn:
        save_state(conn, saved, now=datetime.now().replace(microsecond=0))
        forget_state(conn, forgotten)
    log.info(
        "drift: the board's values accepted as last pushed for %d %s orders (%d items gone)",
        out.orders,
        customer,
        out.gone,
    )
    return out
