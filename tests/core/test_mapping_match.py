"""Matching the mapping's columns to a board's by title and compatible type (pure)."""

from __future__ import annotations

import json

import pytest

from orders_sync_gui.core.mapping import MappingError, parse_mapping
from orders_sync_gui.core.mapping_match import (
    BOARD,
    SUBITEMS,
    FoundColumn,
    apply_matches,
    board_type,
    compatible,
    mapping_slots,
    match_columns,
    title_key,
    with_column_ids,
)
from orders_sync_gui.resources import resource_path


@pytest.fixture
def template() -> dict:
    return json.loads(resource_path("board_mapping.json").read_text("utf-8"))


def board_of(raw: dict, rename: dict[str, str] | None = None) -> tuple[list, list]:
    """The columns a board laid out from `raw` would have, ids made up: c0, c1 ..."""
    rename = rename or {}
    parent, sub = [], []
    for i, slot in enumerate(mapping_slots(raw)):
        found = FoundColumn(f"c{i}", rename.get(slot.title, slot.title), slot.type)
        (sub if slot.board == SUBITEMS else parent).append(found)
    return parent, sub


@pytest.mark.parametrize(
    ("a", "b"),
    [
        ("ETA CUSTOMER WAREHOUSE", "eta customer-warehouse"),
        ("PO NUMBER", "Po   Number"),
        ("PO NUMBER", "P.O. NUMBER"),
        ("ORDER QTY", "Order Qty"),
        ("CUSTOMER'S COLOUR", "customers colour"),
        ("ＣＵＳＴＯＭＥＲ", "customer"),  # full-width letters (NFKC)
    ],
)
def test_titles_compare_without_case_spacing_or_punctuation(a, b):
    assert title_key(a) == title_key(b)


def test_different_words_are_different_titles():
    assert title_key("PO NUMBER") != title_key("PO #")
    assert title_key("DELIVERY TERMS") != title_key("DELIVERY METHOD")


def test_types_fold_mondays_older_names_and_pair_the_compatible_ones():
    assert board_type("color") == "status" and board_type("numeric") == "numbers"
    assert compatible("status", "color") and compatible("numbers", "numeric")
    assert compatible("text", "long_text") and compatible("long_text", "text")
    assert compatible("status", "dropdown") and compatible("dropdown", "status")
    assert not compatible("date", "text")
    assert not compatible("numbers", "text")
    assert not compatible("text", "numbers")


def test_the_template_has_a_slot_for_every_column_the_push_and_the_layout_use(template):
    slots = mapping_slots(template)
    names = [s.slot for s in slots]
    assert names[: len(template["columns"])] == [
        f"columns[{i}]" for i in range(len(template["columns"]))
    ]
    assert {
        "record_uuid_column",
        "order_qty_column",
        "deleted_action",
        "subitems.size_column",
        "subitems.qty_column",
        "subitems.production_columns[0]",
    } <= set(names)
    assert len(slots) == len(template["columns"]) + 3 + 2 + 5
    by_name = {s.slot: s for s in slots}
    assert by_name["columns[0]"].source == "AAG ORDER NUMBER"
    assert by_name["deleted_action"].type == "status"
    assert by_name["subitems.qty_column"].board == SUBITEMS
    assert by_name["order_qty_column"].board == BOARD


def test_an_archive_deleted_action_names_no_column(template):
    template["deleted_action"] = {"kind": "archive"}
    assert "deleted_action" not in {s.slot for s in mapping_slots(template)}


def test_every_slot_of_a_board_laid_out_from_the_mapping_matches(template):
    parent, sub = board_of(template)
    match = match_columns(mapping_slots(template), parent, sub)
    assert match.complete and len(match.matched) == match.slots
    # The parent's ORDER QTY and the subitems' Order Qty are told apart by their board.
    qty = {m.slot.slot: m.column.column_id for m in match.matched if "qty" in m.slot.slot}
    assert qty["order_qty_column"] != qty["subitems.qty_column"]


def test_two_columns_titled_alike_are_ambiguous_with_both_candidates(template):
    parent, sub = board_of(template)
    parent.append(FoundColumn("text_mkdouble", "po number", "text"))
    match = match_columns(mapping_slots(template), parent, sub)
    [ambiguous] = match.ambiguous
    assert ambiguous.slot.source == "PO NUMBER"
    assert {c.column_id for c in ambiguous.candidates} == {"c2", "text_mkdouble"}
    assert not match.complete and not match.unmatched


def test_a_look_alike_of_an_incompatible_type_is_no_candidate(template):
    parent, sub = board_of(template)
    parent.append(FoundColumn("numeric_mkpo", "PO NUMBER", "numbers"))
    assert match_columns(mapping_slots(template), parent, sub).complete


def test_a_renamed_column_is_unmatched_and_says_why(template):
    parent, sub = board_of(template, rename={"PO NUMBER": "Customer PO #"})
    match = match_columns(mapping_slots(template), parent, sub)
    [miss] = match.unmatched
    assert miss.slot.source == "PO NUMBER"
    assert "no column titled 'PO NUMBER'" in miss.reason
    assert miss.to_dict()["title"] == "PO NUMBER" and miss.to_dict()["type"] == "text"


def test_a_title_of_the_wrong_type_is_unmatched_naming_it(template):
    parent, sub = board_of(template)
    parent = [
        FoundColumn(c.column_id, c.title, "text") if c.title == "EX FACTORY DATE" else c
        for c in parent
    ]
    [miss] = match_columns(mapping_slots(template), parent, sub).unmatched
    assert miss.slot.source == "EX FACTORY DATE"
    assert "of another type" in miss.reason and "needs date" in miss.reason


def test_a_subitem_slot_is_only_looked_for_on_the_subitems_board(template):
    parent, sub = board_of(template)
    parent.append(FoundColumn("text_mksize", "Size", "text"))
    sub = [c for c in sub if c.title != "Size"]
    [miss] = match_columns(mapping_slots(template), parent, sub).unmatched
    assert miss.slot.slot == "subitems.size_column" and "subitems board" in miss.reason


def test_two_template_columns_finding_one_board_column_are_both_unmatched(template):
    template["columns"][3]["title"] = "PO NUMBER"  # CUSTOMER ALT PO, retitled by mistake
    parent, sub = board_of(template)
    parent = [c for c in parent if c.column_id != "c3"]
    match = match_columns(mapping_slots(template), parent, sub)
    assert {m.slot.source for m in match.unmatched} == {"PO NUMBER", "CUSTOMER ALT PO"}
    assert all("also matches" in m.reason for m in match.unmatched)


def test_one_template_column_in_two_slots_may_share_its_board_column(template):
    template["record_uuid_column"] = dict(template["columns"][0])  # one column, two roles
    template["record_uuid_column"].pop("source")
    parent, sub = board_of(template)
    parent = [c for c in parent if c.title != "AAG ORDER NUMBER" or c.column_id == "c0"]
    match = match_columns(mapping_slots(template), parent, sub)
    assert match.complete


def test_a_compatible_type_is_matched_and_written_as_the_boards(template):
    parent, sub = board_of(template)
    parent = [
        FoundColumn(c.column_id, c.title, "text") if c.title == "NOTES" else c for c in parent
    ]
    parent = [
        FoundColumn(c.column_id, c.title, "color") if c.title == "AAG SEASON" else c for c in parent
    ]
    match = match_columns(mapping_slots(template), parent, sub)
    assert match.complete
    written = apply_matches(template, match.matched, "1234")
    by_source = {c["source"]: c for c in written["columns"]}
    assert by_source["NOTES"]["type"] == "text"
    assert by_source["AAG SEASON"]["type"] == "status"
    parse_mapping(written)  # still a valid mapping


def test_applying_the_matches_replaces_every_id_and_keeps_the_rest(template):
    template["some_setting_of_later"] = {"kept": True}
    parent, sub = board_of(template, rename={"CUSTOMER": "Customer"})
    match = match_columns(mapping_slots(template), parent, sub)
    written = apply_matches(template, match.matched, "1800000009")
    assert written["board_id"] == "1800000009"
    assert written["some_setting_of_later"] == {"kept": True}
    ids = {s.column_id for s in mapping_slots(written)}
    assert ids == {c.column_id for c in parent + sub}
    assert written["columns"][1]["title"] == "Customer"  # the board's spelling
    assert written["columns"][1]["source"] == "CUSTOMER NAME"
    assert written["deleted_action"]["kind"] == "status"
    assert written["deleted_action"]["label"] == template["deleted_action"]["label"]
    assert template["columns"][1]["column_id"] == "text_customer"  # the input is untouched
    # A key this version does not know is kept in the file, and refused when it is read.
    with pytest.raises(MappingError, match='"some_setting_of_later": unknown key'):
        parse_mapping(written)
    del written["some_setting_of_later"]
    mapping = parse_mapping(written)
    assert mapping.subitem_qty_column.column_id != mapping.order_qty_column.column_id


def test_with_column_ids_sets_ids_by_path(template):
    paths = {("columns", 0): "text_mkaaaaaa", ("subitems", "size_column"): "x"}
    out = with_column_ids(template, paths)
    assert out["columns"][0]["column_id"] == "text_mkaaaaaa"
    assert out["subitems"]["size_column"]["column_id"] == "x"
    assert template["columns"][0]["column_id"] == "text_order_number"


def test_the_column_the_mapping_names_settles_look_alikes_and_a_retitled_column(template):
    """What the operator chose (the mapping dialog saves the column id) stands."""
    parent, sub = board_of(template, rename={"PO NUMBER": "Customer PO #"})
    parent.append(FoundColumn("text_mkdouble", "CATEGORY", "dropdown"))
    raw = json.loads(json.dumps(template))
    slots = mapping_slots(raw)
    po = next(s for s in slots if s.source == "PO NUMBER")
    category = next(s for s in slots if s.source == "CATEGORY")
    assert {a.slot.source for a in match_columns(slots, parent, sub).ambiguous} == {"CATEGORY"}
    chosen = with_column_ids(raw, {po.path: "c2", category.path: "text_mkdouble"})
    match = match_columns(mapping_slots(chosen), parent, sub)
    assert match.complete
    found = {m.slot.source: m.column.column_id for m in match.matched}
    assert (found["PO NUMBER"], found["CATEGORY"]) == ("c2", "text_mkdouble")
