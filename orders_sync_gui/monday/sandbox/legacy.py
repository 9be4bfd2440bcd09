"""A board as the earlier scripts left it: filled from ORDERS_UNIFIED, then lived in.

Before orders-sync, scripts put each order on the board the way the push does (the same item
names, group per customer, column values and subitems per size: core/board_values.py), but
without the record uuid column: nothing ties an item to its order line but its values. And
the board has lived since. `fill_legacy` rebuilds such a board from the orders it is given
(core Records), and, seeded so the same seed gives the same board, adds the mess of time:

- edited: items with one mapped value changed by hand since (`LegacyMess.edited`);
- duplicated: orders with two items, as a script run twice made them;
- missing: orders never put on the board;
- orphan: items whose order is no longer in the source (a copy of another order of the
  same customer, under an order number and a PO that no order has).

The shares are counted on the orders (edits on the items of orders), rounded up. What was
done is returned as a LegacyTruth, for tests and for the adoption work that follows.
"""

from __future__ import annotations

import json
import math
import random
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from itertools import groupby
from pathlib import Path
from typing import Any

from orders_sync_gui.core.board_values import (
    ItemNameError,
    column_value,
    item_name,
    item_values,
    subitem_values,
)
from orders_sync_gui.core.columns import ORDER_NUMBER, PO_NUMBER
from orders_sync_gui.core.mapping import BoardMapping, MappedColumn
from orders_sync_gui.core.models import Record
from orders_sync_gui.core.utf16 import clip_utf16

from .config import LegacyMess
from .state import BoardState

MAX_GROUP_NAME = 255


class LegacyFillError(ValueError):
    """The orders cannot be laid out on this board (it is too small for them)."""


@dataclass(frozen=True, slots=True)
class EditedItem:
    item_id: str
    record_uuid: str
    order_number: str | None
    customer: str
    source: str  # the mapped source column whose value was changed
    column_id: str
    old: str | None
    new: str


@dataclass(frozen=True, slots=True)
class DuplicatedOrder:
    record_uuid: str
    order_number: str | None
    customer: str
    item_ids: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class MissingOrder:
    record_uuid: str
    order_number: str | None
    customer: str


@dataclass(frozen=True, slots=True)
class OrphanItem:
    item_id: str
    name: str
    customer: str
    order_number: str  # made up: no order of the source has it
    copied_from: str  # record_uuid of the order whose values it copies


@dataclass(frozen=True, slots=True)
class LegacyTruth:
    """What `fill_legacy` did: per customer the orders and items, and the seeded mess."""

    seed: int
    orders: int
    items: int
    subitems: int
    customers: dict[str, dict[str, int]]  # customer -> {"orders": n, "items": n}
    groups: dict[str, str]  # customer -> group id
    item_orders: dict[str, str] = field(default_factory=dict)  # item id -> record_uuid
    edited: tuple[EditedItem, ...] = ()
    duplicated: tuple[DuplicatedOrder, ...] = ()
    missing: tuple[MissingOrder, ...] = ()
    orphan: tuple[OrphanItem, ...] = ()

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        for entry in data["duplicated"]:
            entry["item_ids"] = list(entry["item_ids"])
        for key in ("edited", "duplicated", "missing", "orphan"):
            data[key] = list(data[key])
        return data

    def write(self, path: Path) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(self.to_json(), indent=1, ensure_ascii=False), "utf-8")
        tmp.replace(path)
        return path


def share(rate: float, total: int) -> int:
    """`rate` of `total`, rounded up: a share above 0 of a small board is at least one."""
    return min(total, math.ceil(rate * total - 1e-9)) if rate > 0 and total > 0 else 0


def group_title(mapping: BoardMapping, customer: str) -> str:
    """The customer's group, named as the push names it (services/push_plan.py)."""
    return clip_utf16(mapping.group_title_template.replace("{CUSTOMER NAME}", customer), 255)


def _order_key(record: Record) -> tuple[str, str, str]:
    return (record.customer, record.fields.get(ORDER_NUMBER) or "", record.record_uuid)


@dataclass
class _Plan:
    orders: list[Record]
    missing: set[int]
    duplicated: set[int]
    orphans: dict[str, list[tuple[Record, str, str]]]  # customer -> (copied, number, po)


def _plan(records: Sequence[Record], mess: LegacyMess, rng: random.Random) -> _Plan:
    orders = sorted(records, key=_order_key)
    n = len(orders)
    chosen = rng.sample(range(n), share(mess.missing, n) + share(mess.duplicated, n))
    missing = set(chosen[: share(mess.missing, n)])
    duplicated = set(chosen[share(mess.missing, n) :])
    numbers = {r.fields.get(ORDER_NUMBER) for r in orders}
    pos = {r.fields.get(PO_NUMBER) for r in orders}
    orphans: dict[str, list[tuple[Record, str, str]]] = {}
    for _ in range(share(mess.orphan, n)):
        copied = orders[rng.randrange(n)]
        number = po = ""
        while not number or number in numbers:
            number = f"AAG-{rng.randrange(9_000_000, 10_000_000):07d}"
        while not po or po in pos:
            po = str(rng.randrange(90_000, 100_000))
        numbers.add(number)
        pos.add(po)
        orphans.setdefault(copied.customer, []).append((copied, number, po))
    return _Plan(orders, missing, duplicated, orphans)


def _edited_value(
    mapped: MappedColumn, old: str | None, labels: dict[int, str], rng: random.Random
) -> str:
    """A value someone might have typed over `old`, as canonical text of the column's type."""
    kind = mapped.column.type
    if kind == "date":
        day = date.fromisoformat(old[:10]) if old else date(2026, 1, 5)
        return (day + timedelta(days=rng.randint(1, 30))).isoformat()
    if kind == "numbers":
        return str(int(float(old or 0)) + rng.randint(1, 9))
    if kind in ("status", "dropdown"):
        others = sorted(v for v in labels.values() if v and v != old)
        return rng.choice(others) if others else f"{old or 'NEW'} (edited)"
    return f"{old} (edited)" if old else "edited on the board"


class _Filler:
    def __init__(self, state: BoardState, mapping: BoardMapping, board_id: str) -> None:
        self.state = state
        self.mapping = mapping
        self.board_id = board_id
        self.subitems = 0

    def item(self, group_id: str, record: Record, fields: dict[str, str | None]) -> str:
        values = item_values(self.mapping, record.record_uuid, fields, record.sizes)
        values.pop(self.mapping.record_uuid_column.column_id, None)  # the scripts had none
        number = fields.get(ORDER_NUMBER)
        try:
            name = item_name(self.mapping, fields, number)
        except ItemNameError:
            name = number or record.record_uuid
        item = self.state.create_item(self.board_id, name, group_id, values, True)
        for size, qty in record.sizes.items():
            sub = subitem_values(self.mapping, size, qty)
            self.state.create_subitem(item.id, size, sub, True)
            self.subitems += 1
        return item.id


def _check_room(state: BoardState, plan: _Plan) -> None:
    placed = [r for i, r in enumerate(plan.orders) if i not in plan.missing]
    placed += [plan.orders[i] for i in plan.duplicated]
    placed += [copied for group in plan.orphans.values() for copied, _, _ in group]
    items, subitems = len(placed), sum(len(r.sizes) for r in placed)
    limit = state.max_items_per_board
    if items > limit or subitems > limit:
        raise LegacyFillError(
            f"the legacy board needs {items} items and {subitems} subitems, and a board holds "
            f"{limit} (max_items_per_board, --max-items): fill it with fewer customers "
            "(--legacy-customers) or raise the limit"
        )


def fill_legacy(
    state: BoardState,
    mapping: BoardMapping,
    records: Sequence[Record],
    *,
    mess: LegacyMess,
    seed: int,
    board_id: str,
) -> LegacyTruth:
    """Fill the (empty) board with `records` as the earlier scripts did, and the mess."""
    rng = random.Random(f"legacy:{seed}")
    plan = _plan(records, mess, rng)
    _check_room(state, plan)
    filler = _Filler(state, mapping, board_id)
    per_customer: dict[str, dict[str, int]] = {}
    groups: dict[str, str] = {}
    placed: list[tuple[str, Record]] = []
    duplicated: list[DuplicatedOrder] = []
    missing: list[MissingOrder] = []
    orphans: list[OrphanItem] = []
    indexed = enumerate(plan.orders)
    for customer, orders in groupby(indexed, key=lambda pair: pair[1].customer):
        group_id = state.create_group(board_id, group_title(mapping, customer), None).id
        groups[customer] = group_id
        counts = per_customer[customer] = {"orders": 0, "items": 0}
        for index, record in orders:
            counts["orders"] += 1
            number = record.fields.get(ORDER_NUMBER)
            if index in plan.missing:
                missing.append(MissingOrder(record.record_uuid, number, customer))
                continue
            copies = 2 if index in plan.duplicated else 1
            ids = tuple(filler.item(group_id, record, record.fields) for _ in range(copies))
            placed += [(item_id, record) for item_id in ids]
            counts["items"] += copies
            if copies > 1:
                duplicated.append(DuplicatedOrder(record.record_uuid, number, customer, ids))
        for copied, made_number, po in plan.orphans.get(customer, []):
            fields = {**copied.fields, ORDER_NUMBER: made_number, PO_NUMBER: po}
            item_id = filler.item(group_id, copied, fields)
            name = state.items[item_id].name
            orphans.append(OrphanItem(item_id, name, customer, made_number, copied.record_uuid))
            counts["items"] += 1
    edited = _edit(state, mapping, board_id, placed, share(mess.edited, len(placed)), rng)
    return LegacyTruth(
        seed=seed,
        orders=len(plan.orders),
        items=sum(c["items"] for c in per_customer.values()),
        subitems=filler.subitems,
        customers=per_customer,
        groups=groups,
        item_orders={item_id: record.record_uuid for item_id, record in placed},
        edited=tuple(edited),
        duplicated=tuple(duplicated),
        missing=tuple(missing),
        orphan=tuple(orphans),
    )


def _edit(
    state: BoardState,
    mapping: BoardMapping,
    board_id: str,
    placed: list[tuple[str, Record]],
    count: int,
    rng: random.Random,
) -> list[EditedItem]:
    """Change one mapped value of `count` items (of orders, never an orphan), by hand."""
    board = state.board(board_id)
    edited = []
    for item_id, record in sorted(rng.sample(placed, count), key=lambda p: int(p[0])):
        mapped = mapping.columns[rng.randrange(len(mapping.columns))]
        column = board.column(mapped.column.column_id)
        old = record.fields.get(mapped.source)
        new = _edited_value(mapped, old, dict(column.labels) if column else {}, rng)
        value = {mapped.column.column_id: column_value(mapped.column, new)}
        state.change_values(board_id, item_id, value, True)
        edited.append(
            EditedItem(
                item_id,
                record.record_uuid,
                record.fields.get(ORDER_NUMBER),
                record.customer,
                mapped.source,
                mapped.column.column_id,
                old,
                new,
            )
        )
    return edited
