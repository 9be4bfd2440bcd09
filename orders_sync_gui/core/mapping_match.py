"""Matching the board mapping to a board's own columns, by title and type (pure).

A board that earlier scripts filled carries the column ids monday generated when each
column was made (`text_mkq1x2ab`), not the template's (`text_order_number`). Every column
the mapping names (a *slot*: a mapped source column, the record uuid and order quantity
columns, the deleted-order status column, the subitems' size, quantity and production
columns) is looked for on its board by title, ignoring case, spacing and punctuation, among
the columns of a compatible type:

- one candidate: matched, and the mapping can take that column's id, title and type;
- several: ambiguous (two columns titled alike): the operator picks, nothing is guessed;
- none: unmatched, with the reason (no such title, or a title whose type does not fit).

Where several (or none) fit, a column with the id the mapping already names is its match:
the operator's choice, saved by the mapping dialog, stands on the next reading.

Types are compatible when a value formatted for one is accepted by the other: the same
type (monday's older names, `color` and `numeric`, are the same types), text and long
text, status and dropdown (one label each). A match of another compatible type gives
the mapping the board's type, so what is pushed is formatted as the board wants it.
"""

from __future__ import annotations

import copy
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from .mapping import MONDAY_TYPES, TYPE_MAX_LENGTH

BOARD = "board"
SUBITEMS = "subitems"

# monday's older type names as the columns query may give them
# (https://developer.monday.com/api-reference/docs/columns).
_TYPE_NAMES = {"color": "status", "numeric": "numbers", "long-text": "long_text"}
_COMPATIBLE: dict[str, frozenset[str]] = {
    "text": frozenset({"text", "long_text"}),
    "long_text": frozenset({"long_text", "text"}),
    "status": frozenset({"status", "dropdown"}),
    "dropdown": frozenset({"dropdown", "status"}),
    "numbers": frozenset({"numbers"}),
    "date": frozenset({"date"}),
}

Path = tuple[str | int, ...]


def board_type(name: str) -> str:
    """A column type as the mapping names it (monday's older names folded)."""
    return _TYPE_NAMES.get(name, name)


def compatible(mapping_type: str, column_type: str) -> bool:
    return board_type(column_type) in _COMPATIBLE.get(mapping_type, frozenset({mapping_type}))


def title_key(title: str) -> str:
    """What a title is compared by: letters and digits only, case folded (NFKC first, so
    a full-width or composed letter compares as its plain form)."""
    text = unicodedata.normalize("NFKC", title).casefold()
    key = "".join(ch for ch in text if ch.isalnum())
    return key or text.strip()


@dataclass(frozen=True, slots=True)
class Slot:
    """One column the mapping names: where in its JSON, on which board, and as what."""

    path: Path
    source: str  # the mapped source column; for the other slots, their name (`slot`)
    board: str  # BOARD or SUBITEMS
    column_id: str
    title: str
    type: str

    @property
    def slot(self) -> str:
        """The path as text: `columns[3]`, `record_uuid_column`, `subitems.qty_column`."""
        return _path_text(self.path)

    def to_dict(self, *, wanted: bool = True) -> dict[str, Any]:
        """Where the slot is; with `wanted`, the title and type the mapping asks for."""
        out: dict[str, Any] = {"source": self.source, "slot": self.slot, "board": self.board}
        if wanted:
            out |= {"title": self.title, "type": self.type}
        return out


def _path_text(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else part)
    return out


@dataclass(frozen=True, slots=True)
class FoundColumn:
    """A column of a board as monday lists it (type folded to the mapping's names)."""

    column_id: str
    title: str
    type: str
    labels: tuple[str, ...] | None = None  # status / dropdown labels, when listed

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"column_id": self.column_id, "title": self.title, "type": self.type}
        if self.labels is not None:
            out["labels"] = list(self.labels)
        return out


@dataclass(frozen=True, slots=True)
class Matched:
    slot: Slot
    column: FoundColumn

    def to_dict(self) -> dict[str, Any]:
        return {**self.slot.to_dict(wanted=False), **self.column.to_dict()}


@dataclass(frozen=True, slots=True)
class Ambiguous:
    slot: Slot
    candidates: tuple[FoundColumn, ...]

    def to_dict(self) -> dict[str, Any]:
        return {**self.slot.to_dict(), "candidates": [c.to_dict() for c in self.candidates]}


@dataclass(frozen=True, slots=True)
class Unmatched:
    slot: Slot
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return {**self.slot.to_dict(), "reason": self.reason}


@dataclass(frozen=True, slots=True)
class MappingMatch:
    matched: tuple[Matched, ...] = ()
    ambiguous: tuple[Ambiguous, ...] = ()
    unmatched: tuple[Unmatched, ...] = ()
    slots: int = 0  # how many slots the mapping has

    @property
    def complete(self) -> bool:
        return not self.ambiguous and not self.unmatched


def mapping_slots(raw: Mapping[str, Any]) -> list[Slot]:
    """Every column slot of a mapping's JSON, in file order (parent board, then subitems).

    The deleted-order column is a slot when the deleted action is a status label."""
    slots: list[Slot] = []

    def add(path: Path, spec: Any, board: str, source: str | None = None) -> None:
        if isinstance(spec, Mapping) and spec.get("column_id"):
            slots.append(
                Slot(
                    path,
                    source or _path_text(path),
                    board,
                    str(spec["column_id"]),
                    str(spec.get("title") or spec["column_id"]),
                    str(spec.get("type") or spec.get("kind") or ""),
                )
            )

    for i, spec in enumerate(raw.get("columns") or []):
        source = str(spec.get("source")) if isinstance(spec, Mapping) else None
        add(("columns", i), spec, BOARD, source)
    for key in ("record_uuid_column", "order_qty_column"):
        add((key,), raw.get(key), BOARD)
    deleted = raw.get("deleted_action")
    if isinstance(deleted, Mapping) and deleted.get("kind") == "status":
        add(("deleted_action",), {**deleted, "type": "status"}, BOARD)
    sub = raw.get("subitems") or {}
    for key in ("size_column", "qty_column"):
        add(("subitems", key), sub.get(key), SUBITEMS)
    for i, spec in enumerate(sub.get("production_columns") or []):
        add(("subitems", "production_columns", i), spec, SUBITEMS)
    return slots


def _describe(columns: Iterable[FoundColumn]) -> str:
    return ", ".join(f"{c.column_id} ({c.type})" for c in columns)


def _one(slot: Slot, columns: Sequence[FoundColumn]) -> Matched | Ambiguous | Unmatched:
    key = title_key(slot.title)
    titled = [c for c in columns if title_key(c.title) == key]
    fitting = [c for c in titled if compatible(slot.type, c.type)]
    if len(fitting) == 1:
        return Matched(slot, fitting[0])
    # The column the mapping names already settles a choice: one the operator picked among
    # look-alikes (the mapping dialog), or one retitled since. Nothing is guessed.
    own = next((c for c in columns if c.column_id == slot.column_id), None)
    if own is not None and compatible(slot.type, own.type):
        return Matched(slot, own)
    if fitting:
        return Ambiguous(slot, tuple(fitting))
    where = "subitems board" if slot.board == SUBITEMS else "board"
    if titled:
        return Unmatched(
            slot,
            f"the {where}'s column titled {slot.title!r} is of another type: "
            f"{_describe(titled)}; the mapping needs {slot.type}",
        )
    return Unmatched(slot, f"the {where} has no column titled {slot.title!r}")


def match_columns(
    slots: Sequence[Slot],
    board_columns: Sequence[FoundColumn],
    subitem_columns: Sequence[FoundColumn],
) -> MappingMatch:
    """Match every slot on its board. Slots that name one template column together (the
    same id) may share a board column; two different template columns that find the same
    board column are both left unmatched, since one of them would be written wrongly."""
    found = [_one(s, subitem_columns if s.board == SUBITEMS else board_columns) for s in slots]
    claims: dict[tuple[str, str], set[str]] = {}
    for one in found:
        if isinstance(one, Matched):
            claims.setdefault((one.slot.board, one.column.column_id), set()).add(one.slot.column_id)
    matched: list[Matched] = []
    ambiguous: list[Ambiguous] = []
    unmatched: list[Unmatched] = []
    for one in found:
        if isinstance(one, Matched):
            shared = claims[(one.slot.board, one.column.column_id)]
            if len(shared) > 1:
                others = ", ".join(sorted(shared - {one.slot.column_id}))
                unmatched.append(
                    Unmatched(
                        one.slot,
                        f"the board's column {one.column.column_id} ({one.column.title!r}) "
                        f"also matches the mapping's {others}: retitle one of them",
                    )
                )
            else:
                matched.append(one)
        elif isinstance(one, Ambiguous):
            ambiguous.append(one)
        else:
            unmatched.append(one)
    return MappingMatch(tuple(matched), tuple(ambiguous), tuple(unmatched), len(slots))


def _at(raw: Any, path: Path) -> Any:
    for part in path:
        raw = raw[part]
    return raw


def apply_matches(
    raw: Mapping[str, Any], matched: Iterable[Matched], board_id: str | None = None
) -> dict[str, Any]:
    """A copy of the mapping's JSON with each matched slot's column id, title and type
    taken from the board (and `board_id` set, when given); everything else kept as is."""
    out: dict[str, Any] = copy.deepcopy(dict(raw))
    for one in matched:
        spec = _at(out, one.slot.path)
        spec["column_id"] = one.column.column_id
        spec["title"] = one.column.title
        if one.slot.path == ("deleted_action",):
            continue  # its type is its kind ("status"), which a match keeps
        kind = board_type(one.column.type)
        if kind in MONDAY_TYPES:
            spec["type"] = kind
            if kind not in TYPE_MAX_LENGTH:
                spec.pop("overflow", None)  # only a type with a length limit has one
    if board_id is not None:
        out["board_id"] = str(board_id)
    return out


def with_column_ids(raw: Mapping[str, Any], ids: Mapping[Path, str]) -> dict[str, Any]:
    """A copy of the mapping's JSON whose slots at the given paths take the given ids."""
    out: dict[str, Any] = copy.deepcopy(dict(raw))
    for path, column_id in ids.items():
        _at(out, path)["column_id"] = column_id
    return out
