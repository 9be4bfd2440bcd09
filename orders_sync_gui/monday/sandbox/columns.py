"""Columns and their values: monday's input formats, validation, and what `text`/`value` show.

A stored value is the canonical form monday keeps (text/numbers: str, date: {"date", "time"},
status: {"index"}, dropdown: {"ids"}, long_text: {"text"}); `None` means empty. Labels of
status and dropdown columns live on the column (index or id -> label).
"""

from __future__ import annotations

import json
import math
import re
from dataclasses import dataclass, field
from datetime import date, time
from typing import Any

from .errors import COLUMN_VALUES_DOCS, MondayError, column_value_error

# Item and group names hold 1 to 255 characters (REFERENCE.md), counted here in UTF-16
# code units, as JavaScript's String.length counts: an emoji or another character beyond
# U+FFFF counts twice. REFERENCE.md does not name the unit; of the two readings this is the
# stricter, so a name the sandbox accepts is accepted under either.
MAX_NAME_LENGTH = 255
# A long text column "stores up to 2,000 characters"
# (https://developer.monday.com/api-reference/docs/long-text), counted like names.
MAX_LONG_TEXT_LENGTH = 2_000
# A text column has "no fixed character limit, but each item has an approximate 64KB total
# column value capacity" (https://developer.monday.com/api-reference/docs/text): the sandbox
# holds an item's values to this many bytes of text (UTF-8), all columns together.
ITEM_VALUES_BYTES = 64 * 1024
# monday's default labels of a new status column; index 5 is its reserved blank label.
DEFAULT_STATUS_LABELS: dict[int, str] = {0: "Working on it", 1: "Done", 2: "Stuck"}
_RESERVED_STATUS_INDEX = 5
_DATE_RE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_TIME_RE = re.compile(r"^\d{2}:\d{2}(:\d{2})?$")
WRITABLE_TYPES = frozenset({"text", "numbers", "date", "status", "dropdown", "long_text"})


@dataclass
class Column:
    id: str
    title: str
    type: str
    labels: dict[int, str] = field(default_factory=dict)  # status index / dropdown id -> label
    settings: dict[str, Any] = field(default_factory=dict)  # e.g. the subtasks board link

    def settings_str(self) -> str:
        if self.type == "status":
            settings: dict[str, Any] = {"labels": {str(i): v for i, v in self.labels.items()}}
        elif self.type == "dropdown":
            settings = {"labels": [{"id": i, "name": v} for i, v in self.labels.items()]}
        else:
            settings = dict(self.settings)
        return json.dumps(settings, separators=(",", ":"))

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "title": self.title,
            "type": self.type,
            "labels": {str(i): v for i, v in self.labels.items()},
            "settings": self.settings,
        }

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Column:
        labels = {int(i): str(v) for i, v in data.get("labels", {}).items()}
        return cls(data["id"], data["title"], data["type"], labels, data.get("settings", {}))


def name_length(name: str) -> int:
    """A name's length as monday counts it: UTF-16 code units (see MAX_NAME_LENGTH)."""
    return len(name.encode("utf-16-le", "surrogatepass")) // 2


def check_item_name(name: Any) -> str:
    """monday accepts 1 to 255 characters; a blank name fails with the same code."""
    if not isinstance(name, str) or not name.strip():
        raise MondayError(
            "Item name can't be blank: it must be between 1 and 255 characters",
            "ItemNameTooLongException",
            {"item_name": name, "max_length": MAX_NAME_LENGTH},
        )
    length = name_length(name)
    if length > MAX_NAME_LENGTH:
        raise MondayError(
            f"Item name is too long: it must be between 1 and {MAX_NAME_LENGTH} characters",
            "ItemNameTooLongException",
            {"item_name_length": length, "max_length": MAX_NAME_LENGTH},
        )
    return name


def _is_clear(raw: Any) -> bool:
    return raw is None or raw == "" or raw == {}


def prepare_value(column: Column, raw: Any, labels: dict[int, str], create_labels: bool) -> Any:
    """Validate `raw` for `column`; return the stored form (None clears).

    `labels` is the caller's working copy of the column's labels: new labels are added to it
    (only when `create_labels`), so the caller can apply them only if the whole write succeeds.
    """
    if column.type not in WRITABLE_TYPES:
        raise column_value_error(
            column.id, column.type, raw, f"This column type ({column.type}) can't be changed"
        )
    if _is_clear(raw):
        return None
    parser = _PARSERS[column.type]
    return parser(column, raw, labels, create_labels)


def _text(column: Column, raw: Any, _labels: dict[int, str], _create: bool) -> Any:
    if not isinstance(raw, str):
        raise column_value_error(column.id, column.type, raw)
    return raw


def _numbers(column: Column, raw: Any, _labels: dict[int, str], _create: bool) -> Any:
    if isinstance(raw, bool) or not isinstance(raw, str | int | float):
        raise column_value_error(column.id, column.type, raw)
    text = raw.strip() if isinstance(raw, str) else json.dumps(raw)
    try:
        number = float(text)
    except ValueError:
        raise column_value_error(column.id, column.type, raw) from None
    if not math.isfinite(number):
        raise column_value_error(column.id, column.type, raw)
    return text


def _date(column: Column, raw: Any, _labels: dict[int, str], _create: bool) -> Any:
    if isinstance(raw, str):
        day, _, clock = raw.strip().partition(" ")
        raw_value: dict[str, Any] = {"date": day, "time": clock or None}
    elif isinstance(raw, dict) and "date" in raw:
        raw_value = {"date": raw["date"], "time": raw.get("time")}
    else:
        raise column_value_error(column.id, column.type, raw)
    day, clock = raw_value["date"], raw_value["time"]
    if day in (None, ""):
        return None
    if not isinstance(day, str) or not _DATE_RE.match(day):
        raise column_value_error(column.id, column.type, raw)
    try:
        date.fromisoformat(day)
        if clock not in (None, ""):
            if not isinstance(clock, str) or not _TIME_RE.match(clock):
                raise ValueError(clock)
            clock = time.fromisoformat(clock).strftime("%H:%M:%S")
    except ValueError:
        raise column_value_error(column.id, column.type, raw) from None
    return {"date": day, "time": clock or None}


def _new_label_index(labels: dict[int, str]) -> int:
    index = 0
    while index in labels or index == _RESERVED_STATUS_INDEX:
        index += 1
    return index


def _status(column: Column, raw: Any, labels: dict[int, str], create: bool) -> Any:
    if isinstance(raw, str):
        raw_value: dict[str, Any] = {"label": raw}
    elif isinstance(raw, dict):
        raw_value = raw
    else:
        raise column_value_error(column.id, column.type, raw)
    if "index" in raw_value:
        index = raw_value["index"]
        if isinstance(index, str) and index.strip().isdigit():
            index = int(index)
        if not isinstance(index, int) or isinstance(index, bool) or index not in labels:
            raise column_value_error(
                column.id, column.type, raw, f"This status label index doesn't exist: {index}"
            )
        return {"index": index}
    label = raw_value.get("label")
    if not isinstance(label, str) or not label:
        raise column_value_error(column.id, column.type, raw)
    for index, existing in labels.items():
        if existing == label:
            return {"index": index}
    if not create:
        possible = ", ".join(f"{i}: {v}" for i, v in sorted(labels.items()))
        raise column_value_error(
            column.id,
            column.type,
            raw,
            f"This status label doesn't exist, possible statuses are: {{{possible}}}",
        )
    index = _new_label_index(labels)
    labels[index] = label
    return {"index": index}


def _dropdown(column: Column, raw: Any, labels: dict[int, str], create: bool) -> Any:
    if isinstance(raw, str):
        raw_value: dict[str, Any] = {"labels": [p.strip() for p in raw.split(",") if p.strip()]}
    elif isinstance(raw, dict):
        raw_value = raw
    else:
        raise column_value_error(column.id, column.type, raw)
    ids: list[int] = []
    if "ids" in raw_value:
        given = raw_value["ids"]
        if not isinstance(given, list):
            raise column_value_error(column.id, column.type, raw)
        for one in given:
            if isinstance(one, str) and one.strip().isdigit():
                one = int(one)
            if not isinstance(one, int) or isinstance(one, bool) or one not in labels:
                raise column_value_error(
                    column.id, column.type, raw, f"The dropdown label id doesn't exist: {one}"
                )
            ids.append(one)
    elif "labels" in raw_value:
        given = raw_value["labels"]
        if not isinstance(given, list):
            raise column_value_error(column.id, column.type, raw)
        by_label = {v: i for i, v in labels.items()}
        for label in given:
            if not isinstance(label, str) or not label:
                raise column_value_error(column.id, column.type, raw)
            if label not in by_label:
                if not create:
                    raise column_value_error(
                        column.id,
                        column.type,
                        raw,
                        f"The dropdown label doesn't exist: {label}",
                    )
                new_id = max(labels, default=0) + 1  # dropdown ids start at 1
                labels[new_id] = label
                by_label[label] = new_id
            ids.append(by_label[label])
    else:
        raise column_value_error(column.id, column.type, raw)
    unique = list(dict.fromkeys(ids))
    return {"ids": unique} if unique else None


def _long_text(column: Column, raw: Any, _labels: dict[int, str], _create: bool) -> Any:
    if isinstance(raw, str):
        text = raw
    elif isinstance(raw, dict) and isinstance(raw.get("text"), str):
        text = raw["text"]
    else:
        raise column_value_error(column.id, column.type, raw)
    length = name_length(text)
    if length > MAX_LONG_TEXT_LENGTH:
        # monday's ColumnValueException, its error_data naming the column and its type
        # (https://developer.monday.com/api-reference/changelog/bug-fix-column-value-exception-error-column_type-update);
        # the words are the sandbox's, and the value itself is not echoed back.
        raise MondayError(
            f"invalid value - the long text column holds at most {MAX_LONG_TEXT_LENGTH:,} "
            f"characters, this value has {length:,}. {COLUMN_VALUES_DOCS}",
            "ColumnValueException",
            {"column_id": column.id, "column_type": column.type, "value_length": length},
        )
    return {"text": text} if text else None


def values_bytes(columns: dict[str, Column], values: dict[str, Any]) -> int:
    """What an item's stored values take, as ITEM_VALUES_BYTES counts them."""
    total = 0
    for column_id, stored in values.items():
        column = columns.get(column_id)
        if column is not None and stored is not None:
            total += len((text_of(column, stored) or "").encode("utf-8"))
    return total


def item_too_large(total: int) -> MondayError:
    return MondayError(
        f"invalid value - the item's column values would come to {total:,} bytes, more than "
        f"the about {ITEM_VALUES_BYTES:,} an item holds",
        "ColumnValueException",
        {"values_bytes": total, "max_bytes": ITEM_VALUES_BYTES},
    )


_PARSERS = {
    "text": _text,
    "numbers": _numbers,
    "date": _date,
    "status": _status,
    "dropdown": _dropdown,
    "long_text": _long_text,
}


def text_of(column: Column, stored: Any, subitem_names: list[str] | None = None) -> str | None:
    """What monday shows in `text`: "" when empty, but null for empty status and dropdown."""
    if column.type == "subtasks":
        return ", ".join(subitem_names or [])
    if stored is None:
        return None if column.type in ("status", "dropdown") else ""
    if column.type in ("text", "numbers"):
        return str(stored)
    if column.type == "date":
        clock = stored.get("time")
        return f"{stored['date']} {clock[:5]}" if clock else stored["date"]
    if column.type == "status":
        return column.labels.get(stored["index"], "")
    if column.type == "dropdown":
        return ", ".join(column.labels.get(i, "") for i in stored["ids"])
    if column.type == "long_text":
        return str(stored["text"])
    return ""


def value_of(column: Column, stored: Any, subitem_ids: list[str] | None = None) -> str | None:
    """The raw `value`, a JSON string as monday returns it (null when empty)."""
    if column.type == "subtasks":
        if not subitem_ids:
            return None
        linked = [{"linkedPulseId": int(i)} for i in subitem_ids]
        return json.dumps({"linkedPulseIds": linked}, separators=(",", ":"))
    if stored is None:
        return None
    return json.dumps(stored, separators=(",", ":"))
