"""From canonical records to monday.com column values and item names (pure formatting).

`column_values` is a JSON object keyed by column id; each value in the form monday wants
for the column's type. A NULL clears the column: "" for simple columns, null otherwise.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping
from typing import Any

from .mapping import TYPE_MAX_LENGTH, BoardColumn, BoardMapping
from .text import visible
from .utf16 import clip_utf16, utf16_len

MAX_ITEM_NAME = 255  # monday.com's limit, in UTF-16 code units (see core/utf16.py)
_FIELD = re.compile(r"\{([^{}]+)\}")


def cut_marker(length: int) -> str:
    """What ends a value cut to fit its column: how long the whole value was."""
    return f" … [cut: {length:,} characters]"


def fit_text(value: str, limit: int) -> str:
    """`value` when it fits in `limit` UTF-16 code units, else its start and cut_marker,
    together within the limit (a column whose mapping "overflow" is "cut")."""
    length = utf16_len(value)
    if length <= limit:
        return value
    marker = cut_marker(length)
    return clip_utf16(value, limit - utf16_len(marker), ellipsis="") + marker


class ItemNameError(ValueError):
    pass


def column_value(column: BoardColumn, value: str | None) -> Any:
    """One canonical value as monday wants it for the column's type."""
    kind = column.type
    if value is None or value == "":
        return "" if kind in ("text", "numbers") else None
    if kind == "numbers" or kind == "text":
        return value
    if kind == "date":
        day, _, clock = value.partition("T")
        # monday takes HH:MM:SS and refuses fractional seconds (ColumnValueException): the
        # fraction a DATETIME2 or GETDATE() time carries is cut off.
        return {"date": day, "time": clock[:8]} if clock else {"date": day}
    if kind == "status":
        return {"label": value}
    if kind == "dropdown":
        return {"labels": [value]}
    if kind == "long_text":
        # The row's hash and the sync state keep the whole value; monday gets it cut to what
        # the column holds (a "reject" column's rows never get here: detection refused them).
        return {"text": fit_text(value, TYPE_MAX_LENGTH["long_text"])}
    raise ValueError(f"column type {kind!r} is not supported")


def item_values(
    mapping: BoardMapping,
    record_uuid: str,
    fields: Mapping[str, str | None],
    sizes: Mapping[str, int],
    *,
    only: Iterable[str] | None = None,
    with_qty: bool = True,
) -> dict[str, Any]:
    """column_values of an item. A CHANGED row sends only its changed fields (`only`) and
    the order quantity only when its sizes changed (`with_qty`)."""
    wanted = set(only) if only is not None else None
    out: dict[str, Any] = {}
    for mapped in mapping.columns:
        if wanted is None or mapped.source in wanted:
            out[mapped.column.column_id] = column_value(mapped.column, fields.get(mapped.source))
    if wanted is None:
        out[mapping.record_uuid_column.column_id] = record_uuid
    if wanted is None or with_qty:
        out[mapping.order_qty_column.column_id] = str(sum(sizes.values()))
    return out


def subitem_values(mapping: BoardMapping, size: str, qty: int | None) -> dict[str, Any]:
    return {
        mapping.subitem_size_column.column_id: size,
        mapping.subitem_qty_column.column_id: "" if qty is None else str(qty),
    }


def item_name(
    mapping: BoardMapping, fields: Mapping[str, str | None], fallback: str | None = None
) -> str:
    """The item name from the template: NULL parts dropped, at most 255 UTF-16 code units.

    A name shows what prints: control and format characters (a zero-width space, a
    direction mark, ESC; see core/text.py) are left out, and a part of nothing but them is
    blank. The field values themselves go to their columns as they are.
    """
    parts = [
        " ".join(visible(fields.get(name) or "").split())
        for name in _FIELD.findall(mapping.item_name_template)
    ]
    literal = _FIELD.split(mapping.item_name_template)[::2]
    separator = next((t for s in literal if (t := visible(s).strip())), "·")
    name = f" {separator} ".join(p for p in parts if p)
    if not name:
        name = " ".join(visible(fallback or "").split())
    if not name:
        fields_named = ", ".join(f"[{n}]" for n in _FIELD.findall(mapping.item_name_template))
        raise ItemNameError(
            f"the item name would be empty: {fields_named} and the order number are all blank"
        )
    # Clipped in UTF-16 code units, as monday counts them, after what does not print is
    # gone: in code points, a name full of emoji (2 units each) could be twice too long,
    # and monday would refuse it every push.
    return clip_utf16(name, MAX_ITEM_NAME)


def compact_json(values: Mapping[str, Any]) -> str:
    """monday wants compact JSON: pretty-printed text with raw newlines has broken clients."""
    return json.dumps(values, ensure_ascii=False, separators=(",", ":"))
