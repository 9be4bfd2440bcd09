"""The board the sandbox starts with, laid out as `resources/board_mapping.json` expects."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from orders_sync_gui.resources import resource_path

from .columns import DEFAULT_STATUS_LABELS, Column


def load_mapping() -> dict[str, Any]:
    with resource_path("board_mapping.json").open(encoding="utf-8") as handle:
        return json.load(handle)


def _column(spec: Mapping[str, Any]) -> Column:
    return Column(id=str(spec["column_id"]), title=str(spec["title"]), type=str(spec["type"]))


def _add(columns: list[Column], column: Column) -> None:
    # The mapping may name one column twice (e.g. as a field and as record uuid): keep the first.
    if all(existing.id != column.id for existing in columns):
        columns.append(column)


def _with_labels(columns: list[Column], extra_labels: Mapping[str, Iterable[str]]) -> None:
    for column in columns:
        if column.type == "status" and not column.labels:
            column.labels = dict(DEFAULT_STATUS_LABELS)
        for label in extra_labels.get(column.id, ()):
            if label in column.labels.values():
                continue
            if column.type == "status":
                index = max(column.labels, default=-1) + 1
                column.labels[index if index != 5 else 6] = label
            elif column.type == "dropdown":
                column.labels[max(column.labels, default=0) + 1] = label


def build_columns(
    mapping: Mapping[str, Any],
    subitems_board_id: str,
    extra_columns: Iterable[Mapping[str, Any]] = (),
    extra_subitem_columns: Iterable[Mapping[str, Any]] = (),
    missing_columns: Iterable[str] = (),
    labels: Mapping[str, Iterable[str]] | None = None,
) -> tuple[list[Column], list[Column]]:
    """Columns of the parent board and of its subitems board.

    Parent: `name`, the `subitems` link, every mapped column, record uuid, order qty and the
    deleted-action status column (whose label exists already). Subitems: `name`, size, qty
    and the production columns. `extra_*` add columns (`column_id`, `title`, `type`),
    `missing_columns` drops ids from both boards, so tests can stage mismatches.
    """
    subtasks = Column(
        "subitems",
        "Subitems",
        "subtasks",
        settings={
            "allowMultipleItems": True,
            "itemTypeName": "column.subtasks.title",
            "displayType": "BOARD_INLINE",
            "boardIds": [int(subitems_board_id)],
        },
    )
    parent: list[Column] = [Column("name", "Name", "name"), subtasks]
    for spec in mapping.get("columns", []):
        _add(parent, _column(spec))
    for key in ("record_uuid_column", "order_qty_column"):
        if mapping.get(key):
            _add(parent, _column(mapping[key]))
    extra_labels: dict[str, list[str]] = {}
    deleted = mapping.get("deleted_action")
    if deleted and deleted.get("column_id"):
        kind = str(deleted.get("kind", "status"))
        _add(parent, Column(str(deleted["column_id"]), str(deleted.get("title", "")), kind))
        if deleted.get("label"):
            extra_labels[str(deleted["column_id"])] = [str(deleted["label"])]
    for spec in extra_columns:
        _add(parent, _column(spec))

    sub_spec = mapping.get("subitems") or {}
    children: list[Column] = [Column("name", "Name", "name")]
    for key in ("size_column", "qty_column"):
        if sub_spec.get(key):
            _add(children, _column(sub_spec[key]))
    for spec in sub_spec.get("production_columns", []):
        _add(children, _column(spec))
    for spec in extra_subitem_columns:
        _add(children, _column(spec))

    for label_map in (labels or {}).items():
        extra_labels.setdefault(label_map[0], []).extend(label_map[1])
    missing = set(missing_columns) - {"name"}
    parent = [c for c in parent if c.id not in missing]
    children = [c for c in children if c.id not in missing]
    _with_labels(parent, extra_labels)
    _with_labels(children, extra_labels)
    return parent, children
