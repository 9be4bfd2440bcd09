"""Adopt the items the earlier scripts made: tie each to its order, so no push makes it twice.

`adopt` reads the customer's orders (the source) and the items of its group on the board
(every column value, and each subitem's quantity), classifies them (core/adopt_match.py),
and, unless it is a dry run, stages an adoption batch (store/adopting.py) and runs it
(adopt_run.py): each matched item gets its order's record_uuid and the order its sync
state, the board's values as last pushed. Ambiguous orders are held out of staging until
the operator chooses their item (`choose`); board-only and ambiguous items are never
touched. A stopped adoption is finished by the next `adopt` of the customer.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from ..core.adopt_match import DEFAULT_MATCH, ChoiceError, Classification, classify
from ..core.board_read import BoardItem, cells_from_json, item_of, record_of
from ..core.columns import COLOUR, ORDER_NUMBER, PO_NUMBER, STYLE
from ..core.models import BatchStatus, Record, RowError
from ..monday.board import fetch_board
from ..monday.group_items import group_items
from ..store.adopting import AdoptRow, HeldRow, held_back, open_adoption, stage_adoption
from ..store.syncstate import load_state
from .adopt_run import AdoptHooks
from .batch_run import BatchRun, Progress, execute
from .context import Context
from .detection import UnknownCustomerError, customer_records
from .monday_setup import MondaySetup
from .push import PushReport
from .push_plan import group_title

log = logging.getLogger(__name__)


class AdoptError(ValueError):
    """The adoption cannot go on as asked (a bad --match or --choose)."""


@dataclass(slots=True)
class AdoptReport:
    customer: str
    found: Classification
    invalid: list[RowError] = field(default_factory=list)
    synced: list[Record] = field(default_factory=list)  # synced orders not in the group
    adopted: int = 0  # orders this call linked to their items
    batch_id: int | None = None
    status: str | None = None  # the adoption batch's, when one ran
    dry_run: bool = False
    run: PushReport | None = None

    @property
    def ok(self) -> bool:
        return self.status in (None, BatchStatus.PUSHED.value)

    def to_dict(self) -> dict[str, Any]:
        found = self.found
        return {
            "customer": self.customer,
            "matched": [
                {
                    **_order(p.order),
                    "item_id": p.item.item_id,
                    "name": p.item.name,
                    "linked": p.linked,
                }
                for p in found.matched
            ],
            "ambiguous": [
                {
                    "key": list(a.key),
                    "reason": a.reason,
                    "orders": [_order(o) for o in a.orders],
                    "items": [_item(i) for i in a.items],
                }
                for a in found.ambiguous
            ],
            "board_only": [_item(i) for i in found.board_only],
            "source_only": [_order(o) for o in found.source_only],
            "adopted": self.adopted,
            "batch_id": self.batch_id,
            "status": self.status,
            "dry_run": self.dry_run,
            "counts": {**found.counts(), "invalid": len(self.invalid), "synced": len(self.synced)},
            "invalid": [
                {
                    "record_uuid": e.record_uuid,
                    "order_number": e.order_number,
                    "field": e.field,
                    "message": e.message,
                }
                for e in self.invalid
            ],
        }


def _order(order: Record) -> dict[str, Any]:
    return {"record_uuid": order.record_uuid, "order_number": order.fields.get(ORDER_NUMBER)}


def _item(item: BoardItem) -> dict[str, Any]:
    return {"item_id": item.item_id, "name": item.name}


def _now() -> datetime:
    return datetime.now().replace(microsecond=0)


def board_items(ctx: Context, setup: MondaySetup, customer: str) -> list[BoardItem]:
    """The items of the customer's group (as the push names it), read whole."""
    mapping = ctx.mapping
    if not setup.board_id:
        raise AdoptError("no monday.com board id: set it in Settings or the mapping")
    client = setup.client()
    try:
        board = fetch_board(client, setup.board_id)
        group_id = board.groups.get(group_title(mapping, customer))
        if group_id is None:
            return []
        raw = group_items(client, board.board_id, group_id, mapping.subitem_qty_column.column_id)
    finally:
        client.close()
    items = []
    for r in raw:
        subs = [
            (
                str(s["id"]),
                str(s.get("name") or ""),
                cells_from_json(s.get("column_values") or []).get(
                    mapping.subitem_qty_column.column_id
                ),
            )
            for s in r.subitems
        ]
        items.append(item_of(mapping, r.item_id, r.name, cells_from_json(r.column_values), subs))
    return items


def resolve_choices(orders: Sequence[Record], choose: Mapping[str, str]) -> dict[str, str]:
    """{record_uuid: item id} from the operator's ORDER=ITEM pairs, ORDER being an order
    number (when one row has it) or a record_uuid."""
    by_number: dict[str, list[str]] = {}
    for order in orders:
        by_number.setdefault(str(order.fields.get(ORDER_NUMBER) or ""), []).append(
            order.record_uuid
        )
    uuids = {o.record_uuid for o in orders}
    out: dict[str, str] = {}
    for name, item_id in choose.items():
        if name in uuids:
            out[name] = item_id
            continue
        found = by_number.get(name, [])
        if len(found) != 1:
            raise AdoptError(
                f"order {name!r} names {len(found)} orders of this customer: "
                + (
                    "give its record_uuid instead"
                    if found
                    else "give an order number or record_uuid"
                )
            )
        out[found[0]] = item_id
    return out


def classify_customer(
    ctx: Context,
    setup: MondaySetup,
    customer: str,
    *,
    match: Sequence[str] = DEFAULT_MATCH,
    choose: Mapping[str, str] | None = None,
) -> AdoptReport:
    """Read the source and the board, and classify (nothing is written)."""
    name = ctx.customers.canonical(customer)
    if not name:
        raise UnknownCustomerError("the customer name is empty")
    unknown = [c for c in match if c not in ctx.mapping.sources]
    if unknown or not match:
        raise AdoptError(
            "match columns must be mapped source columns; not mapped: "
            + (", ".join(unknown) or "(none given)")
        )
    orders, invalid = customer_records(ctx, name)
    with ctx.store.engine.connect() as conn:
        states = {s.record.record_uuid: s for s in load_state(conn, name)}
    items = board_items(ctx, setup, name)
    ids = {i.item_id for i in items}
    linked = {u: s.monday_item_id for u, s in states.items() if s.monday_item_id in ids}
    synced = [o for o in orders if o.record_uuid in states and o.record_uuid not in linked]
    orders = [o for o in orders if o not in synced]
    try:
        found = classify(
            orders,
            items,
            match,
            linked={u: i for u, i in linked.items() if i is not None},
            chosen=resolve_choices(orders, choose or {}),
        )
    except ChoiceError as exc:
        raise AdoptError(str(exc)) from None
    report = AdoptReport(name, found, invalid, synced)
    return report


def _keys(order: Record) -> tuple[str | None, str | None, str | None, str | None]:
    f = order.fields
    return (f.get(ORDER_NUMBER), f.get(PO_NUMBER), f.get(STYLE), f.get(COLOUR))


def adopt(
    ctx: Context,
    setup: MondaySetup,
    customer: str,
    *,
    match: Sequence[str] = DEFAULT_MATCH,
    choose: Mapping[str, str] | None = None,
    dry_run: bool = False,
    progress: Callable[[Progress], None] | None = None,
    should_cancel: Callable[[], bool] = lambda: False,
) -> AdoptReport:
    """Classify, and unless `dry_run`, link the matched items and hold the ambiguous
    orders, as one batch. A stopped adoption of the customer is finished first."""
    name = ctx.customers.canonical(customer) or customer
    resumed = None if dry_run else _resume(ctx, setup, name, progress, should_cancel)
    report = classify_customer(ctx, setup, name, match=match, choose=choose)
    report.dry_run = dry_run
    if resumed is not None:
        report.batch_id, report.status, report.run = resumed.batch_id, resumed.status, resumed
        report.adopted = resumed.succeeded
        if resumed.status != BatchStatus.PUSHED.value:
            return report
    if dry_run:
        return report
    found = report.found
    with ctx.store.engine.connect() as conn:
        held = held_back(conn, report.customer)
        linked = {s.record.record_uuid for s in load_state(conn, report.customer)}
    todo = [
        AdoptRow(
            record_of(ctx.mapping, p.item, p.order),
            p.item.item_id,
            p.item.subitem_ids,
            _keys(p.order),
        )
        for p in found.matched
        if p.order.record_uuid not in linked
    ]
    holds = [
        HeldRow(o.record_uuid, _keys(o), a.reason, tuple(i.item_id for i in a.items))
        for a in found.ambiguous
        for o in a.orders
        if o.record_uuid not in held
    ]
    if not todo and not holds:
        return report
    batch = stage_adoption(
        ctx.store.engine,
        customer=report.customer,
        operator=ctx.operator,
        adopted=todo,
        held=holds,
        now=_now(),
    )
    log.info(
        "adoption batch %d: %d items to link, %d orders held", batch.batch_id, len(todo), len(holds)
    )
    run = execute(AdoptHooks(BatchRun(ctx, setup, batch, progress, should_cancel)))
    report.batch_id, report.status, report.run = run.batch_id, run.status, run
    report.adopted += run.succeeded
    return report


def _resume(
    ctx: Context,
    setup: MondaySetup,
    customer: str,
    progress: Callable[[Progress], None] | None,
    should_cancel: Callable[[], bool],
) -> PushReport | None:
    """Finish an adoption of the customer that a kill or an error stopped."""
    with ctx.store.engine.connect() as conn:
        batch = open_adoption(conn, customer)
    if batch is None:
        return None
    log.warning("adoption batch %d of %s was not finished: finishing it", batch.batch_id, customer)
    return execute(AdoptHooks(BatchRun(ctx, setup, batch, progress, should_cancel)))
