"""The board mapping: which source columns reach monday.com, and as what.

Only the mapped columns (and the sizes) take part in the row hash, so a change in an
unmapped pricing column never makes a row CHANGED.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .schema import TEXT, WHOLE, ListOf, Obj, SchemaError, Spec, check, either, one_of, optional

MONDAY_TYPES = frozenset({"text", "numbers", "date", "status", "dropdown", "long_text"})

# What a value of each column type may hold at monday.com, in characters (counted in UTF-16
# code units, as monday's 255-character item names are: see core/utf16.py). A type not
# named has no documented limit of its own.
# - long_text: "stores up to 2,000 characters"
#   (https://developer.monday.com/api-reference/docs/long-text).
# - text: "no fixed character limit", but every item holds about 64 KB of column values in
#   all (https://developer.monday.com/api-reference/docs/text): ITEM_VALUES_BYTES.
TYPE_MAX_LENGTH: dict[str, int] = {"long_text": 2_000}
ITEM_VALUES_BYTES = 64 * 1024  # approximate, as the text column's page gives it
# What a value over its type's limit becomes (a column's "overflow" in the mapping file):
# "cut" pushes it cut, with a visible marker, within the limit (core/board_values.fit_text);
# "reject" makes its row INVALID. The default per type:
OVERFLOW_DEFAULT: dict[str, str] = {"long_text": "cut"}
OVERFLOWS = ("cut", "reject")


class MappingError(ValueError):
    pass


@dataclass(frozen=True, slots=True)
class BoardColumn:
    column_id: str
    title: str
    type: str


@dataclass(frozen=True, slots=True)
class MappedColumn:
    source: str
    column: BoardColumn
    overflow: str | None = None  # OVERFLOWS; None: the type has no limit of its own

    @property
    def max_length(self) -> int | None:
        return TYPE_MAX_LENGTH.get(self.column.type)


@dataclass(frozen=True, slots=True)
class BoardMapping:
    board_name: str
    board_id: str | None
    item_name_template: str
    group_title_template: str
    record_uuid_column: BoardColumn
    order_qty_column: BoardColumn
    columns: tuple[MappedColumn, ...]
    deleted_action: dict[str, Any]
    subitem_size_column: BoardColumn
    subitem_qty_column: BoardColumn
    subitem_production_columns: tuple[BoardColumn, ...]

    @property
    def sources(self) -> list[str]:
        """The mapped source columns, in mapping order (the hash's column order)."""
        return [m.source for m in self.columns]

    def limited(self) -> dict[str, MappedColumn]:
        """{source column: its mapping} of the columns whose type limits a value's length."""
        return {m.source: m for m in self.columns if m.max_length is not None}

    def template_fields(self) -> list[str]:
        return re.findall(r"\{([^{}]+)\}", self.item_name_template)


def _board_column(raw: Any, where: str) -> BoardColumn:
    if not isinstance(raw, dict):
        raise MappingError(f"{where}: expected an object with column_id, title and type")
    try:
        col = BoardColumn(
            str(raw["column_id"]), str(raw.get("title", raw["column_id"])), str(raw["type"])
        )
    except KeyError as exc:
        raise MappingError(f"{where}: missing {exc.args[0]!r}") from exc
    if col.type not in MONDAY_TYPES:
        raise MappingError(
            f"{where}: type {col.type!r} is not one of {', '.join(sorted(MONDAY_TYPES))}"
        )
    return col


# A type's and an overflow's values are checked with their meaning (parse_mapping).
_COLUMN_KEYS: dict[str, Spec] = {"column_id": TEXT, "title": TEXT, "type": TEXT}
_COLUMN = Obj(_COLUMN_KEYS)
# The file's shape: every key it may hold, and of what kind (core/schema.py); what must be
# there, and what the values mean, parse_mapping checks.
MAPPING_SCHEMA = Obj(
    {
        "version": WHOLE,
        "board_name": TEXT,
        "board_id": optional(either(TEXT, WHOLE)),
        "item_name_template": TEXT,
        "group_title_template": TEXT,
        "record_uuid_column": _COLUMN,
        "order_qty_column": _COLUMN,
        "columns": ListOf(Obj({"source": TEXT, **_COLUMN_KEYS, "overflow": TEXT})),
        "deleted_action": Obj(
            {"kind": one_of("status", "archive"), "column_id": TEXT, "title": TEXT, "label": TEXT}
        ),
        "subitems": Obj(
            {"size_column": _COLUMN, "qty_column": _COLUMN, "production_columns": ListOf(_COLUMN)}
        ),
    }
)


def parse_mapping(raw: dict[str, Any]) -> BoardMapping:
    """Build a mapping from its JSON form, naming every problem found at once."""
    try:
        check(raw, MAPPING_SCHEMA)  # unknown keys and wrong types, before their meaning
    except SchemaError as exc:
        raise MappingError(
            "the board mapping has problems:\n  " + "\n  ".join(exc.problems)
        ) from exc
    problems: list[str] = []
    columns: list[MappedColumn] = []
    seen_sources: set[str] = set()
    for i, entry in enumerate(raw.get("columns") or []):
        where = f"columns[{i}]"
        try:
            col = _board_column(entry, where)
            source = str(entry["source"])
        except (MappingError, KeyError) as exc:
            problems.append(str(exc) if isinstance(exc, MappingError) else f"{where}: no source")
            continue
        if source in seen_sources:
            problems.append(f"{where}: source column [{source}] is mapped twice")
        seen_sources.add(source)
        overflow = entry.get("overflow", OVERFLOW_DEFAULT.get(col.type))
        if col.type not in TYPE_MAX_LENGTH and "overflow" in entry:
            problems.append(
                f"{where}: overflow: a {col.type} column has no length limit of its own at "
                "monday.com (only its item's total, which no overflow setting can cut)"
            )
            overflow = None
        elif overflow is not None and overflow not in OVERFLOWS:
            problems.append(f"{where}: overflow {overflow!r} is not one of {', '.join(OVERFLOWS)}")
        columns.append(MappedColumn(source, col, overflow))
    if not columns:
        problems.append("columns: the mapping maps no column")
    sub = raw.get("subitems") or {}
    parts: dict[str, Any] = {}
    for key, value, where in (
        ("record_uuid_column", raw.get("record_uuid_column"), "record_uuid_column"),
        ("order_qty_column", raw.get("order_qty_column"), "order_qty_column"),
        ("size", sub.get("size_column"), "subitems.size_column"),
        ("qty", sub.get("qty_column"), "subitems.qty_column"),
    ):
        try:
            parts[key] = _board_column(value, where)
        except MappingError as exc:
            problems.append(str(exc))
    template = str(raw.get("item_name_template") or "")
    if not template:
        problems.append("item_name_template: empty")
    production: list[BoardColumn] = []
    for i, entry in enumerate(sub.get("production_columns") or []):
        try:
            production.append(_board_column(entry, f"subitems.production_columns[{i}]"))
        except MappingError as exc:
            problems.append(str(exc))
    if problems:
        raise MappingError("the board mapping has problems:\n  " + "\n  ".join(problems))
    board_id = raw.get("board_id")
    return BoardMapping(
        board_name=str(raw.get("board_name") or "Customer Master Schedule"),
        board_id=None if board_id in (None, "") else str(board_id),
        item_name_template=template,
        group_title_template=str(raw.get("group_title_template") or "{CUSTOMER NAME}"),
        record_uuid_column=parts["record_uuid_column"],
        order_qty_column=parts["order_qty_column"],
        columns=tuple(columns),
        deleted_action=dict(raw.get("deleted_action") or {"kind": "archive"}),
        subitem_size_column=parts["size"],
        subitem_qty_column=parts["qty"],
        subitem_production_columns=tuple(production),
    )
