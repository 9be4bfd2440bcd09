"""Drift: where the board no longer says what the sync state says was last pushed (pure).

People edit the board by hand. Given the items as read from the board, the sync state and
the source as it is now, `compare` lists:

- changed: a mapped column whose board value differs from the value last pushed (with the
  board's, the pushed and the source's value now);
- gone: an item the sync state knows that is archived or deleted (by hand);
- unknown: an item carrying a record_uuid the sync state does not know;
- duplicates: two or more active items carrying one record_uuid;
- subitems: a size added, removed, or given another quantity by hand.

Values are compared as monday shows them: a number by its value ("5" and "5.0"), a date
by its day and time, a long text as it was cut to fit. `board_field` is the canonical form
of what the board holds: what "accept the board's value" records as last pushed.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from .board_values import fit_text
from .columns import ORDER_NUMBER
from .mapping import TYPE_MAX_LENGTH, BoardColumn, BoardMapping
from .models import Record
from .staged import DELETED_GONE, StateRow


@dataclass(frozen=True, slots=True)
class BoardSubitem:
    subitem_id: str
    name: str  # the size label
    qty: str | None  # the quantity column's text


@dataclass(frozen=True, slots=True)
class BoardItem:
    """One item as read from the board: its column values by column id (text, raw value
    JSON) and its active subitems."""

    item_id: str
    name: str
    state: str  # active, archived, deleted
    group: str | None  # the group's title
    values: Mapping[str, tuple[str | None, str | None]]
    subitems: tuple[BoardSubitem, ...] = ()

    def text(self, column_id: str) -> str | None:
        return self.values.get(column_id, (None, None))[0]

    def record_uuid(self, mapping: BoardMapping) -> str:
        return (self.text(mapping.record_uuid_column.column_id) or "").strip()


# --- values -----------------------------------------------------------------------------


def _json(value: str | None) -> Any:
    try:
        return json.loads(value) if value else None
    except json.JSONDecodeError:
        return None


def board_field(column: BoardColumn, text: str | None, value: str | None) -> str | None:
    """The canonical value the board holds in a column (None when empty): a date as ISO
    text ("2026-06-15", or "2026-06-15T10:30:00"), a label as its text, the rest as shown."""
    if column.type == "date":
        raw = _json(value)
        if isinstance(raw, dict) and raw.get("date"):
            clock = raw.get("time")
            return f"{raw['date']}T{clock}" if clock else str(raw["date"])
        day, _, clock = (text or "").strip().partition(" ")
        return (f"{day}T{clock}:00" if len(clock) == 5 else day) or None
    return text if text not in (None, "") else None


def _number(text: str) -> Decimal | None:
    try:
        return Decimal(text.strip()).normalize()
    except (InvalidOperation, ValueError):
        return None


def same_value(column: BoardColumn, board: str | None, pushed: str | None) -> bool:
    """Whether the board holds what was pushed, as monday keeps it."""
    if not board and not pushed:
        return True  # pushing NULL or "" clears the column
    if board is None or pushed is None:
        return False
    if column.type == "numbers":
        left, right = _number(board), _number(pushed)
        return left == right if left is not None and right is not None else board == pushed
    if column.type == "date":
        b_day, _, b_clock = board.partition("T")
        p_day, _, p_clock = pushed.partition("T")
        return b_day == p_day and b_clock[:8] == p_clock[:8]
    if column.type == "long_text":
        return board == fit_text(pushed, TYPE_MAX_LENGTH["long_text"])
    return board == pushed


# --- what differs -----------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Changed:
    record_uuid: str
    item_id: str
    field: str  # the source column
    board: str | None
    pushed: str | None
    source: str | None  # the source's value now (None also when the row is gone)

    def to_dict(self) -> dict[str, Any]:
        return {
            "record_uuid": self.record_uuid,
            "item_id": self.item_id,
            "field": self.field,
            "board": self.board,
            "pushed": self.pushed,
            "source": self.source,
        }


@dataclass(frozen=True, slots=True)
class Gone:
    record_uuid: str
    item_id: str
    state: str  # archived or deleted
    order_number: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "record_uuid": self.record_uuid,
            "item_id": self.item_id,
            "state": self.state,
            "order_number": self.order_number,
        }


@dataclass(frozen=True, slots=True)
class Unknown:
    record_uuid: str
    item_id: str
    name: str
    group: str | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "record_uuid": self.record_uuid,
            "item_id": self.item_id,
            "name": self.name,
            "group": self.group,
        }


@dataclass(frozen=True, slots=True)
class Duplicate:
    record_uuid: str
    item_ids: tuple[str, ...]
    known_item_id: str | None  # the one the sync state names

    def to_dict(self) -> dict[str, Any]:
        return {
            "record_uuid": self.record_uuid,
            "item_ids": list(self.item_ids),
            "known_item_id": self.known_item_id,
        }


@dataclass(frozen=True, slots=True)
class SubitemDrift:
    record_uuid: str
    item_id: str
    size: str
    kind: str  # "added", "removed" or "qty" (another quantity)
    subitem_id: str | None
    board: int | None
    pushed: int | None
    source: int | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "record_uuid": self.record_uuid,
            "item_id": self.item_id,
            "size": self.size,
            "kind": self.kind,
            "subitem_id": self.subitem_id,
            "board": self.board,
            "pushed": self.pushed,
            "source": self.source,
        }


@dataclass(slots=True)
class Drift:
    customer: str | None
    checked: int = 0  # synced orders compared with their item
    changed: list[Changed] = field(default_factory=list)
    gone: list[Gone] = field(default_factory=list)
    unknown: list[Unknown] = field(default_factory=list)
    duplicates: list[Duplicate] = field(default_factory=list)
    subitems: list[SubitemDrift] = field(default_factory=list)
    # {record_uuid: order number} of the synced orders looked at (for the faces to name them)
    numbers: dict[str, str | None] = field(default_factory=dict)

    @property
    def clean(self) -> bool:
        return not (self.changed or self.gone or self.unknown or self.duplicates or self.subitems)

    def orders(self) -> list[str]:
        """The record_uuids with a difference a push can put right, in report order."""
        seen = [c.record_uuid for c in self.changed] + [g.record_uuid for g in self.gone]
        seen += [s.record_uuid for s in self.subitems]
        return list(dict.fromkeys(seen))

    def to_dict(self) -> dict[str, Any]:
        return {
            "customer": self.customer,
            "checked": self.checked,
            "changed": [c.to_dict() for c in self.changed],
            "gone": [g.to_dict() for g in self.gone],
            "unknown": [u.to_dict() for u in self.unknown],
            "duplicates": [d.to_dict() for d in self.duplicates],
            "subitems": [s.to_dict() for s in self.subitems],
        }


def _qty(text: str | None) -> int | None:
    number = _number(text) if text else None
    return int(number) if number is not None and number == number.to_integral() else None


def item_fields(mapping: BoardMapping, item: BoardItem) -> dict[str, str | None]:
    """{source column: canonical value} of what an item holds in each mapped column."""
    return {
        m.source: board_field(m.column, *item.values.get(m.column.column_id, (None, None)))
        for m in mapping.columns
    }


def item_sizes(mapping: BoardMapping, item: BoardItem) -> dict[str, tuple[str, int | None]]:
    """{size: (subitem id, quantity)} of an item's subitems (the first of a name)."""
    out: dict[str, tuple[str, int | None]] = {}
    for sub in item.subitems:
        out.setdefault(sub.name, (sub.subitem_id, _qty(sub.qty)))
    return out


def _field_drift(
    mapping: BoardMapping, row: StateRow, item: BoardItem, source: Record | None
) -> list[Changed]:
    uid, held = row.record.record_uuid, item_fields(mapping, item)
    out = []
    for mapped in mapping.columns:
        pushed = row.record.fields.get(mapped.source)
        board = held[mapped.source]
        if not same_value(mapped.column, board, pushed):
            now = source.fields.get(mapped.source) if source else None
            out.append(Changed(uid, item.item_id, mapped.source, board, pushed, now))
    return out


def _size_drift(
    mapping: BoardMapping, row: StateRow, item: BoardItem, source: Record | None
) -> list[SubitemDrift]:
    uid, pushed, on_board = row.record.record_uuid, row.record.sizes, item_sizes(mapping, item)
    now = source.sizes if source else {}
    out = []
    for size, qty in pushed.items():
        if size not in on_board:
            sub_id = row.subitem_ids.get(size)
            out.append(
                SubitemDrift(uid, item.item_id, size, "removed", sub_id, None, qty, now.get(size))
            )
        elif on_board[size][1] != qty:
            sub_id, held = on_board[size]
            out.append(
                SubitemDrift(uid, item.item_id, size, "qty", sub_id, held, qty, now.get(size))
            )
    for size, (sub_id, held) in on_board.items():
        if size not in pushed:
            out.append(
                SubitemDrift(uid, item.item_id, size, "added", sub_id, held, None, now.get(size))
            )
    return out


def compare(
    mapping: BoardMapping,
    customer: str | None,
    state: Iterable[StateRow],
    items: Iterable[BoardItem],
    item_states: Mapping[str, str],
    source: Mapping[str, Record],
    *,
    known: Iterable[str] = (),
    group: str | None = None,
) -> Drift:
    """The drift of the synced orders in `state` (one customer's, or all).

    `items`: the board's active items; `item_states`: the state (archived, deleted) of
    items the sync state names that are not among them (missing: deleted); `source`: the
    source records now, by uuid; `known`: every uuid the sync state holds (tombstones too),
    so that no item of a known order is called unknown; `group`: the customer's group
    title, so that an unknown item is reported with its customer only.
    """
    rows = [r for r in state if not r.tombstone]
    by_uuid: dict[str, list[BoardItem]] = {}
    by_id: dict[str, BoardItem] = {}
    for item in items:
        if item.state != "active":
            continue
        by_id[item.item_id] = item
        uid = item.record_uuid(mapping)
        if uid:
            by_uuid.setdefault(uid, []).append(item)
    drift = Drift(customer)
    mine = {r.record.record_uuid: r for r in rows}
    drift.numbers = {u: r.record.fields.get(ORDER_NUMBER) for u, r in mine.items()}
    for row in rows:
        uid, item_id = row.record.record_uuid, row.monday_item_id
        if not item_id or row.deleted_action == DELETED_GONE:
            continue  # never pushed, or known to be gone (accepted)
        found_item = by_id.get(item_id)
        if found_item is None:
            order = row.record.fields.get(ORDER_NUMBER)
            drift.gone.append(Gone(uid, item_id, item_states.get(item_id, "deleted"), order))
            continue
        drift.checked += 1
        drift.changed += _field_drift(mapping, row, found_item, source.get(uid))
        drift.subitems += _size_drift(mapping, row, found_item, source.get(uid))
    all_known = set(known) | set(mine)
    for uid, found in sorted(by_uuid.items()):
        in_scope = customer is None or uid in mine or any(i.group == group for i in found)
        if not in_scope:
            continue
        if uid not in all_known:
            drift.unknown += [Unknown(uid, i.item_id, i.name, i.group) for i in found]
        if len(found) > 1:
            named = mine[uid].monday_item_id if uid in mine else None
            ids = tuple(sorted((i.item_id for i in found), key=int))
            drift.duplicates.append(Duplicate(uid, ids, named))
    return drift
