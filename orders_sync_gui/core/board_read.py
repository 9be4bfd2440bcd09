"""A board item's column values read back as canonical record values (pure).

The inverse of board_values.column_value, as far as a board allows: a column holds what
monday shows, so a value is compared in that form. `record_of` gives the record the board
holds for an order: where a column shows what pushing the order's own value would show,
the order's value (the board says what the database says, whatever form it stores it in);
elsewhere the board's value, as canonical text. Its hash then equals the order's exactly
when the board and the database agree, which is what adoption records as "last pushed".
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .board_values import fit_text
from .canonical import CanonicalError, canonical_number
from .hashing import hash_record
from .mapping import TYPE_MAX_LENGTH, BoardMapping
from .models import Record


@dataclass(frozen=True, slots=True)
class CellValue:
    """One column value as monday returns it: `text`, and `value` (a JSON string)."""

    text: str | None
    value: str | None = None


@dataclass(frozen=True, slots=True)
class BoardItem:
    """An item of the board as read: its mapped values by source column (canonical text,
    None when empty), its sizes ({subitem name: quantity}, non-zero ones), the subitem of
    each size, and the text of its record_uuid column ("" when empty)."""

    item_id: str
    name: str
    fields: dict[str, str | None]
    sizes: dict[str, int] = field(default_factory=dict)
    subitem_ids: dict[str, str] = field(default_factory=dict)
    record_uuid: str = ""


def board_text(kind: str, cell: CellValue | None) -> str | None:
    """A column value in the canonical form of what it shows; None when empty."""
    if cell is None:
        return None
    if kind == "date":
        try:
            raw = json.loads(cell.value) if cell.value else None
        except json.JSONDecodeError:
            raw = None
        if isinstance(raw, dict) and raw.get("date"):
            clock = raw.get("time")
            return f"{raw['date']}T{str(clock)[:8]}" if clock else str(raw["date"])
        return (cell.text or "").replace(" ", "T") or None
    text = cell.text or ""
    if kind == "numbers" and text:
        try:
            return canonical_number(text)
        except CanonicalError:
            return text
    return text or None


def pushed_text(kind: str, value: str | None) -> str | None:
    """What the column shows once `value` (canonical) is pushed, in board_text's form."""
    if value is None or value == "":
        return None
    if kind == "date":
        day, _, clock = value.partition("T")
        return f"{day}T{clock[:8]}" if clock else day
    if kind == "long_text":
        return fit_text(value, TYPE_MAX_LENGTH["long_text"])
    return value


def item_of(
    mapping: BoardMapping,
    item_id: str,
    name: str,
    cells: Mapping[str, CellValue],
    subitems: list[tuple[str, str, CellValue | None]],
) -> BoardItem:
    """A board item from its raw cells ({column id: cell}) and subitems ((id, name, qty))."""
    fields = {
        m.source: board_text(m.column.type, cells.get(m.column.column_id)) for m in mapping.columns
    }
    sizes: dict[str, int] = {}
    ids: dict[str, str] = {}
    for sub_id, size, qty in sorted(subitems, key=lambda s: int(s[0]) if s[0].isdigit() else 0):
        if size in ids:
            continue  # two subitems of one size: the older one is the size's
        ids[size] = sub_id
        number = board_text("numbers", qty)
        try:
            count = int(float(number)) if number else 0
        except ValueError:
            count = 0
        if count:
            sizes[size] = count
    uuid_cell = cells.get(mapping.record_uuid_column.column_id)
    return BoardItem(
        item_id, name, fields, sizes, ids, (uuid_cell.text or "").strip() if uuid_cell else ""
    )


def record_of(mapping: BoardMapping, item: BoardItem, order: Record) -> Record:
    """The record the board holds for `order` (see the module's rule), hashed."""
    fields: dict[str, str | None] = {}
    for mapped in mapping.columns:
        mine = order.fields.get(mapped.source)
        shown = item.fields.get(mapped.source)
        fields[mapped.source] = mine if pushed_text(mapped.column.type, mine) == shown else shown
    sizes = dict(item.sizes)
    return Record(order.record_uuid, order.customer, fields, sizes, hash_record(fields, sizes))


def cells_from_json(raw: list[dict[str, Any]]) -> dict[str, CellValue]:
    """{column id: cell} from monday's column_values list."""
    return {str(c["id"]): CellValue(c.get("text"), c.get("value")) for c in raw}
