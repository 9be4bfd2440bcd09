"""The drift comparison, pure: values as monday keeps them, and each kind of difference."""

from __future__ import annotations

import json

import pytest

from orders_sync_gui.core.board_values import fit_text
from orders_sync_gui.core.drift import BoardItem, BoardSubitem, board_field, compare, same_value
from orders_sync_gui.core.hashing import hash_record
from orders_sync_gui.core.mapping import BoardColumn
from orders_sync_gui.core.models import Record
from orders_sync_gui.core.staged import DELETED_GONE, StateRow
from orders_sync_gui.settings import load_mapping

MAPPING = load_mapping()
UUID_COL = MAPPING.record_uuid_column.column_id
QTY_COL = MAPPING.subitem_qty_column.column_id


def column(kind: str) -> BoardColumn:
    return BoardColumn("c", "C", kind)


@pytest.mark.parametrize(
    ("kind", "board", "pushed", "same"),
    [
        ("numbers", "5.0", "5", True),
        ("numbers", "7", "5", False),
        ("text", "", None, True),  # a NULL pushed clears the column
        ("text", "abc", "abc ", False),
        ("date", "2026-06-15", "2026-06-15", True),
        ("date", "2026-06-15T10:30:00", "2026-06-15T10:30:00.250000", True),
        ("date", "2026-06-16", "2026-06-15", False),
        ("long_text", fit_text("x" * 2500, 2000), "x" * 2500, True),
        ("status", "Air", "Sea", False),
    ],
)
def test_values_compare_as_monday_keeps_them(kind, board, pushed, same):
    assert same_value(column(kind), board, pushed) is same


def test_a_date_reads_from_its_value_with_its_time():
    date = column("date")
    assert (
        board_field(
            date, "2026-06-15 10:30", json.dumps({"date": "2026-06-15", "time": "10:30:00"})
        )
        == "2026-06-15T10:30:00"
    )
    assert board_field(date, "2026-06-15", None) == "2026-06-15"
    assert board_field(date, "", None) is None
    assert board_field(column("status"), None, None) is None


def state_row(uid: str, item_id: str, fields: dict, sizes: dict, ids: dict) -> StateRow:
    return StateRow(Record(uid, "GREYSON", fields, sizes, hash_record(fields, sizes)), item_id, ids)


def item(item_id: str, uid: str, fields: dict, subs: dict, group: str = "GREYSON") -> BoardItem:
    values = {m.column.column_id: (fields.get(m.source) or "", None) for m in MAPPING.columns}
    values[UUID_COL] = (uid, None)
    subitems = tuple(BoardSubitem(f"s{item_id}{n}", n, str(q)) for n, q in subs.items())
    return BoardItem(item_id, f"item {item_id}", "active", group, values, subitems)


FIELDS = {m.source: None for m in MAPPING.columns} | {"DESTINATION": "SYDNEY"}


def test_each_kind_of_difference_is_listed_once():
    rows = [
        state_row("u1", "1", FIELDS, {"S": 2, "M": 3}, {"S": "s1S", "M": "s1M"}),
        state_row("u2", "2", FIELDS, {"S": 1}, {"S": "s2S"}),
        state_row("u3", "3", FIELDS, {}, {}),
    ]
    items = [
        # a value typed over, a size removed, one re-quantified, one added
        item("1", "u1", FIELDS | {"DESTINATION": "PERTH"}, {"M": 4, "L": 1}),
        # u2's item is gone; u3's item and a copy of it; an item of an order nobody knows
        item("3", "u3", FIELDS, {}),
        item("30", "u3", FIELDS, {}),
        item("9", "u9", FIELDS, {}),
        item("10", "u10", FIELDS, {}, group="OTHER"),
    ]
    source = {"u1": Record("u1", "GREYSON", FIELDS | {"DESTINATION": "BRISBANE"}, {"S": 2}, "h")}
    drift = compare(MAPPING, "GREYSON", rows, items, {"2": "archived"}, source, group="GREYSON")
    [changed] = drift.changed
    assert changed.to_dict() == {
        "record_uuid": "u1",
        "item_id": "1",
        "field": "DESTINATION",
        "board": "PERTH",
        "pushed": "SYDNEY",
        "source": "BRISBANE",
    }
    assert {(s.size, s.kind, s.board, s.pushed, s.source) for s in drift.subitems} == {
        ("S", "removed", None, 2, 2),
        ("M", "qty", 4, 3, None),
        ("L", "added", 1, None, None),
    }
    assert [(g.record_uuid, g.state) for g in drift.gone] == [("u2", "archived")]
    assert [u.item_id for u in drift.unknown] == ["9"]  # item 10 is another customer's
    [twice] = drift.duplicates
    assert (twice.item_ids, twice.known_item_id) == (("3", "30"), "3")
    assert drift.checked == 2
    assert drift.orders() == ["u1", "u2"]


def test_an_accepted_gone_item_and_a_tombstone_are_not_reported():
    gone = state_row("u1", "1", FIELDS, {}, {})
    gone.deleted_action = DELETED_GONE
    drift = compare(MAPPING, None, [gone], [], {}, {}, known=["u1"])
    assert drift.clean and drift.checked == 0
