"""Adoption's classifier and the board values read back (pure)."""

from __future__ import annotations

import pytest

from orders_sync_gui.core.adopt_match import ChoiceError, classify, match_key
from orders_sync_gui.core.board_read import BoardItem, CellValue, board_text, item_of, record_of
from orders_sync_gui.core.board_values import column_value
from orders_sync_gui.core.hashing import hash_record
from orders_sync_gui.core.mapping import BoardColumn, BoardMapping, MappedColumn
from orders_sync_gui.core.models import Record

MATCH = ("AAG ORDER NUMBER", "CUSTOMER STYLE", "CUSTOMER COLOUR DESCRIPTION")


def order(uid: str, number: str, style: str = "ST1", colour: str = "NAVY", **more) -> Record:
    fields = {
        "AAG ORDER NUMBER": number,
        "CUSTOMER STYLE": style,
        "CUSTOMER COLOUR DESCRIPTION": colour,
    }
    fields |= more
    return Record(uid, "GREYSON", fields, {"M": 6}, hash_record(fields, {"M": 6}))


def item(
    item_id: str, number: str, style: str = "ST1", colour: str = "NAVY", uid: str = ""
) -> BoardItem:
    fields = {
        "AAG ORDER NUMBER": number,
        "CUSTOMER STYLE": style,
        "CUSTOMER COLOUR DESCRIPTION": colour,
    }
    return BoardItem(item_id, f"item {number}", fields, {"M": 6}, {"M": f"s{item_id}"}, uid)


def test_keys_fold_case_spacing_and_what_does_not_print():
    assert match_key({"A": " Navy  Blue\u200b", "B": "x"}, ("A", "B")) == ("navy blue", "x")
    assert match_key({"A": None, "B": ""}, ("A", "B")) is None


def test_every_order_and_item_lands_in_exactly_one_class():
    orders = [
        order("u1", "1"),
        order("u2", "2"),
        order("u3", "3"),
        order("u4", "4"),
        order("u5", "4"),
    ]
    items = [
        item("10", "1"),
        item("20", "2"),
        item("21", " 2 "),  # the same key, spelt otherwise: two items for order 2
        item("40", "4"),  # one item for orders u4 and u5
        item("90", "9"),  # no order
        item("30", "3", style="OTHER"),  # its style edited: no longer order 3's key
    ]
    found = classify(orders, items, MATCH)
    assert [(p.order.record_uuid, p.item.item_id) for p in found.matched] == [("u1", "10")]
    assert sorted(
        (tuple(o.record_uuid for o in a.orders), tuple(i.item_id for i in a.items))
        for a in found.ambiguous
    ) == [
        (("u2",), ("20", "21")),
        (("u4", "u5"), ("40",)),
    ]
    assert {i.item_id for i in found.board_only} == {"90", "30"}
    assert {o.record_uuid for o in found.source_only} == {"u3"}
    counts = found.counts()
    assert counts["matched"] + counts["ambiguous_items"] + counts["board_only"] == len(items)
    assert counts["matched"] + counts["ambiguous_orders"] + counts["source_only"] == len(orders)


def test_a_record_uuid_on_the_item_or_the_sync_state_wins_over_the_keys():
    orders = [order("u1", "1"), order("u2", "1")]
    items = [item("10", "1", uid="u2"), item("11", "1")]
    found = classify(orders, items, MATCH, linked={"u1": "11"})
    assert sorted((p.order.record_uuid, p.item.item_id, p.linked) for p in found.matched) == [
        ("u1", "11", True),
        ("u2", "10", True),
    ]
    assert not found.ambiguous and not found.board_only and not found.source_only
    # An item that says it is an order this customer does not have is never re-identified.
    other = classify([order("u3", "3")], [item("30", "3", uid="elsewhere")], MATCH)
    assert [i.item_id for i in other.board_only] == ["30"] and not other.matched


def test_a_choice_settles_an_ambiguous_order_and_leaves_the_other_item():
    orders = [order("u1", "1")]
    items = [item("10", "1"), item("11", "1")]
    found = classify(orders, items, MATCH, chosen={"u1": "11"})
    assert [(p.order.record_uuid, p.item.item_id) for p in found.matched] == [("u1", "11")]
    assert [i.item_id for i in found.board_only] == ["10"] and not found.ambiguous
    with pytest.raises(ChoiceError, match="no item 99"):
        classify(orders, items, MATCH, chosen={"u1": "99"})
    with pytest.raises(ChoiceError, match="no order nope"):
        classify(orders, items, MATCH, chosen={"nope": "10"})


MAPPING = BoardMapping(
    board_name="b",
    board_id="1",
    item_name_template="{AAG ORDER NUMBER}",
    group_title_template="{CUSTOMER NAME}",
    record_uuid_column=BoardColumn("uuid", "RECORD UUID", "text"),
    order_qty_column=BoardColumn("qty", "ORDER QTY", "numbers"),
    columns=(
        MappedColumn("AAG ORDER NUMBER", BoardColumn("t1", "AAG ORDER NUMBER", "text")),
        MappedColumn("EX FACTORY DATE", BoardColumn("d1", "EX FACTORY", "date")),
        MappedColumn("PRICE", BoardColumn("n1", "PRICE", "numbers")),
        MappedColumn("ORDER TYPE", BoardColumn("s1", "ORDER TYPE", "status")),
        MappedColumn("NOTES", BoardColumn("l1", "NOTES", "long_text"), "cut"),
    ),
    deleted_action={"kind": "archive"},
    subitem_size_column=BoardColumn("size", "Size", "text"),
    subitem_qty_column=BoardColumn("sqty", "Order Qty", "numbers"),
    subitem_production_columns=(),
)


def test_board_values_read_back_in_canonical_form():
    assert board_text(
        "date", CellValue("2026-01-05 10:30", '{"date":"2026-01-05","time":"10:30:00"}')
    ) == ("2026-01-05T10:30:00")
    assert board_text("date", CellValue("", None)) is None
    assert board_text("numbers", CellValue("5.50", '"5.50"')) == "5.5"
    assert board_text("status", CellValue(None, None)) is None


def test_the_record_the_board_holds_equals_the_order_where_the_board_shows_it():
    notes = "x" * 2_500  # pushed cut: the board shows the cut text, and that is agreement
    mine = Record(
        "u1",
        "GREYSON",
        {
            "AAG ORDER NUMBER": "1",
            "EX FACTORY DATE": "2026-01-05",
            "PRICE": "5.5",
            "ORDER TYPE": "BULK",
            "NOTES": notes,
        },
        {"M": 6, "L": 4},
        "",
    )
    cells = {
        "t1": CellValue("1"),
        "d1": CellValue("2026-01-05", '{"date":"2026-01-05"}'),
        "n1": CellValue("5.50"),
        "s1": CellValue("BULK"),
        "l1": CellValue(column_value(MAPPING.columns[4].column, notes)["text"]),
        "uuid": CellValue(""),
    }
    subs = [
        ("101", "M", CellValue("6")),
        ("102", "L", CellValue("4")),
        ("103", "M", CellValue("9")),
    ]
    board = item_of(MAPPING, "100", "1", cells, subs)
    assert board.subitem_ids == {"M": "101", "L": "102"}  # the older of two "M"
    same = record_of(MAPPING, board, mine)
    assert same.fields == mine.fields and same.hash == hash_record(mine.fields, mine.sizes)

    edited = item_of(MAPPING, "100", "1", {**cells, "s1": CellValue("REPEAT")}, subs[:1])
    held = record_of(MAPPING, edited, mine)
    assert held.fields["ORDER TYPE"] == "REPEAT" and held.sizes == {"M": 6}
    assert held.hash != same.hash
