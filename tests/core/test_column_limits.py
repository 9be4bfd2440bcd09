"""What monday's columns hold, caught when rows are read: a long text holds 2,000 characters
(https://developer.monday.com/api-reference/docs/long-text), cut with a visible marker (a
warning naming the order and the field) or refused (the row INVALID) as the mapping says; a
text column has no limit of its own, but an item holds about 64 KB in all
(https://developer.monday.com/api-reference/docs/text). The hash covers the whole value."""

from __future__ import annotations

import copy
import json

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from orders_sync_gui.core.board_values import column_value, cut_marker, fit_text
from orders_sync_gui.core.customers import CustomerMap
from orders_sync_gui.core.detect import classify_by_hash, classify_by_join
from orders_sync_gui.core.hashing import hash_record
from orders_sync_gui.core.mapping import (
    ITEM_VALUES_BYTES,
    BoardColumn,
    MappingError,
    parse_mapping,
)
from orders_sync_gui.core.records import SourceSpec, hash_frame, records_from_frame
from orders_sync_gui.core.utf16 import utf16_len
from orders_sync_gui.resources import resource_path

UUIDS = [f"00000000-0000-4000-8000-{i:012d}" for i in range(40)]
RAW_MAPPING = json.loads(resource_path("board_mapping.json").read_text("utf-8"))
NOTES = BoardColumn("long_text_notes", "NOTES", "long_text")


def mapping(**overflow: str):
    """The shipped mapping, with `overflow` set on the named source columns."""
    raw = copy.deepcopy(RAW_MAPPING)
    for entry in raw["columns"]:
        if entry["source"] in overflow:
            entry["overflow"] = overflow[entry["source"]]
    return parse_mapping(raw)


def spec(board_mapping=None) -> SourceSpec:
    board_mapping = board_mapping or mapping()
    return SourceSpec(
        mapped=["AAG ORDER NUMBER", "CUSTOMER NAME", "STYLE DESCRIPTION", "NOTES"],
        kinds={},
        sizes=["M"],
        customers=CustomerMap({}),
        limits=board_mapping.limited(),
        item_bytes=ITEM_VALUES_BYTES,
    )


def frame(notes: list, description: list | None = None) -> pd.DataFrame:
    n = len(notes)
    return pd.DataFrame(
        {
            "record_uuid": UUIDS[:n],
            "AAG ORDER NUMBER": [f"A-{i}" for i in range(n)],
            "CUSTOMER NAME": ["GREYSON"] * n,
            "STYLE DESCRIPTION": description or ["Crew neck"] * n,
            "NOTES": notes,
            "M": [6.0] * n,
        }
    )


# ---------------------------------------------------------------------- the cut
def test_a_long_text_is_cut_within_its_limit_with_a_marker_naming_its_length():
    text = "ab " * 800 + "END"  # 2,403 characters
    cut = fit_text(text, 2_000)
    assert utf16_len(cut) <= 2_000 and cut.endswith("… [cut: 2,403 characters]")
    assert text.startswith(cut[: -len(cut_marker(2_403))].rstrip())
    assert fit_text("short", 2_000) == "short" and fit_text("x" * 2_000, 2_000) == "x" * 2_000
    assert column_value(NOTES, text) == {"text": cut}


def test_the_cut_counts_utf16_units_and_never_splits_a_pair():
    text = "🧵" * 1_500  # 3,000 units
    cut = fit_text(text, 2_000)
    assert utf16_len(cut) <= 2_000 and cut.endswith("[cut: 3,000 characters]")
    assert "\ufffd" not in cut and cut.encode("utf-16-le", "strict")


# ---------------------------------------------------------------------- detect time
def test_a_long_text_over_the_limit_is_a_warning_naming_the_order_and_field():
    long = "n" * 2_345
    hashed = hash_frame(frame([long, "fine"]), spec())
    assert hashed.errors == [] and None not in hashed.hashes
    [warning] = hashed.warnings
    assert (warning.order_number, warning.field) == ("A-0", "NOTES")
    assert "2,345 characters" in warning.message and "2,000" in warning.message
    assert "[cut: 2,345 characters]" in str(warning)
    # The record keeps the whole value; what monday gets is cut.
    records, _ = records_from_frame(frame([long, "fine"]), spec())
    assert records[0].fields["NOTES"] == long


def test_a_change_past_the_cut_is_still_a_change_and_pushes_the_same_cut():
    """The hash is over the whole value: a change past character 2,000 makes the row
    CHANGED (Method 2), and its record differs (Method 1); what is pushed is the cut, which
    is the same for both (the marker names the same length)."""
    before, after = "n" * 2_100 + "a", "n" * 2_100 + "b"
    first, second = hash_frame(frame([before, after]), spec()).hashes
    assert first != second
    assert column_value(NOTES, before) == column_value(NOTES, after)


def test_reject_makes_the_row_invalid_naming_the_order_and_field():
    hashed = hash_frame(frame(["n" * 2_001, "ok"]), spec(mapping(NOTES="reject")))
    [error] = hashed.errors
    assert (error.order_number, error.field, error.record_uuid) == ("A-0", "NOTES", UUIDS[0])
    assert "2,001 characters" in error.message and "refuses" in error.message
    assert hashed.hashes[0] is None and hashed.hashes[1] is not None
    assert hashed.warnings == []


def test_an_item_over_what_an_item_holds_fails_alone_naming_its_largest_field():
    big = "d" * 70_000  # a text column: no limit of its own, but the item's 64 KB
    hashed = hash_frame(frame(["n", "n"], [big, "Crew neck"]), spec())
    [error] = hashed.errors
    assert (error.order_number, error.field) == ("A-0", "STYLE DESCRIPTION")
    assert "64 KB" in error.message
    assert hashed.hashes[1] is not None


def test_a_cut_long_text_counts_its_cut_toward_the_item():
    """100,000 characters of notes are pushed as 2,000: the item is far from full."""
    hashed = hash_frame(frame(["n" * 100_000]), spec())
    assert hashed.errors == [] and len(hashed.warnings) == 1


# ---------------------------------------------------------------------- the mapping
def test_the_mapping_knows_each_types_limit_and_overflow():
    shipped = mapping()
    limited = shipped.limited()
    assert set(limited) == {"NOTES"}
    assert (limited["NOTES"].max_length, limited["NOTES"].overflow) == (2_000, "cut")
    assert mapping(NOTES="reject").limited()["NOTES"].overflow == "reject"


@pytest.mark.parametrize(
    ("source", "overflow", "words"),
    [
        ("NOTES", "truncate", "is not one of cut, reject"),
        ("CUSTOMER STYLE", "cut", "no length limit of its own"),
    ],
)
def test_a_wrong_overflow_is_named(source, overflow, words):
    with pytest.raises(MappingError, match=words):
        mapping(**{source: overflow})


# ---------------------------------------------------------------------- Method 1 = Method 2
LONG = "n" * 2_050
values = st.sampled_from([None, "", "short", LONG + "a", LONG + "b", "n" * 2_000, "🧵" * 1_001])


@settings(max_examples=150, deadline=None)
@given(st.lists(st.tuples(values, values, st.booleans()), min_size=1, max_size=12))
def test_method_1_and_method_2_agree_on_values_past_the_cut(rows):
    """Source and sync state read through the same hash_frame (as the app reads both):
    the outer join of their records and the hash comparison classify every row alike."""
    n = len(rows)
    source = frame([r[0] for r in rows])
    state = frame([r[1] for r in rows])
    keep = [i for i, r in enumerate(rows) if r[2]]  # some rows are NEW (no state)
    state = state.iloc[keep].reset_index(drop=True)
    new, _ = records_from_frame(source, spec())
    old, _ = records_from_frame(state, spec())
    by_join = {c.record_uuid: c.change_type for c in classify_by_join(new, old)}
    by_hash = classify_by_hash(
        {r.record_uuid: r.hash for r in new}, {r.record_uuid: r.hash for r in old}
    )
    assert by_join == by_hash
    assert len(by_join) == n
    # The hash of a record is hash_record of its (whole) fields: what the sync state keeps.
    assert all(r.hash == hash_record(r.fields, r.sizes) for r in new)


def test_sizes_are_unaffected_by_limits():
    hashed = hash_frame(frame(["n" * 3_000]), spec())
    assert hashed.size_rows == [{"M": 6}] and hashed.hashes[0] is not None
