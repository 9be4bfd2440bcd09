"""Names that must fit where they go: monday.com item names (255, counted in UTF-16 code
units as monday counts) and canonical customer names (the 100 of the staging tables)."""

from __future__ import annotations

import unicodedata

import numpy as np
import pandas as pd
import pytest

from orders_sync_gui.core.board_values import MAX_ITEM_NAME, ItemNameError, item_name
from orders_sync_gui.core.columns import Kind
from orders_sync_gui.core.customers import MAX_CUSTOMER_NAME, CustomerMap
from orders_sync_gui.core.records import SourceSpec, hash_frame, records_from_frame
from orders_sync_gui.core.utf16 import clip_utf16, utf16_len
from orders_sync_gui.settings import load_mapping

FAMILY = "\U0001f469\u200d\U0001f469\u200d\U0001f467"  # 👩‍👩‍👧: 3 emoji, 2 joiners, 8 units


def name_of(style: str, colour: str | None = "NAVY") -> str:
    fields = {
        "CUSTOMER NAME": "GREYSON",
        "PO NUMBER": "4755",
        "CUSTOMER STYLE": style,
        "CUSTOMER COLOUR DESCRIPTION": colour,
    }
    return item_name(load_mapping(), fields)


def test_utf16_length_counts_astral_characters_twice():
    assert utf16_len("abc") == 3 and utf16_len("東京ß") == 3
    assert utf16_len("😀") == 2 and utf16_len("𝔘𝔫𝔦") == 6 and utf16_len(FAMILY) == 8
    assert utf16_len("\ud83d") == 1  # a lone surrogate, as a str may hold one


@pytest.mark.parametrize(
    "style",
    ["😀" * 300, "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 " * 60, "a😀" * 200, FAMILY * 50, "🇫🇷" * 100, "𠀀" * 300],
)
def test_an_item_name_of_astral_characters_fits_as_monday_counts(style):
    name = name_of(style)
    assert utf16_len(name) <= MAX_ITEM_NAME
    assert utf16_len(name) >= MAX_ITEM_NAME - 8  # clipped, not emptied
    assert name.startswith("GREYSON · 4755 · ") and name.endswith("…")
    assert not name[:-1].endswith(("\u200d", " "))  # no half emoji sequence, no space
    name.encode("utf-8")  # whole characters only: no lone surrogate


def test_a_name_that_fits_is_left_alone_and_latin_names_clip_as_before():
    exactly = "😀" * 115 + "x"  # "GREYSON · 4755 · " is 17 units, " · NAVY" 7: 255 in all
    assert utf16_len(name_of(exactly)) == 255 and name_of(exactly).endswith("NAVY")
    assert utf16_len(name_of(exactly + "y")) <= 255 and name_of(exactly + "y").endswith("…")
    latin = name_of("S" * 300)
    assert len(latin) == 255 and latin == ("GREYSON · 4755 · " + "S" * 300)[:254] + "…"


def test_clip_never_splits_a_surrogate_pair_and_keeps_what_fits():
    assert clip_utf16("😀😀😀", 5) == "😀😀…"
    assert clip_utf16("😀😀😀", 4) == "😀…"  # 2 + 1: the next emoji would not fit
    assert clip_utf16("😀😀", 4) == "😀😀"
    assert clip_utf16("ab" + FAMILY, 7) == "ab\U0001f469…"  # the dangling joiner goes


# ---------------------------------------------------------------------- customer names
SPEC = SourceSpec(
    mapped=["AAG ORDER NUMBER", "CUSTOMER NAME", "NOTES"],
    kinds={"AAG ORDER NUMBER": Kind.TEXT, "CUSTOMER NAME": Kind.TEXT, "NOTES": Kind.TEXT},
    sizes=["M"],
    customers=CustomerMap({}),
)


def customers_frame(names: list[str]) -> pd.DataFrame:
    n = len(names)
    return pd.DataFrame(
        {
            "record_uuid": [f"00000000-0000-4000-8000-{i:012d}" for i in range(n)],
            "AAG ORDER NUMBER": [f"A-{i}" for i in range(n)],
            "CUSTOMER NAME": names,
            "NOTES": [None] * n,
            "M": [np.float64(6)] * n,
        }
    )


def test_a_customer_name_too_long_once_upper_cased_fails_its_rows_alone():
    """ß upper-cases to SS: a 98-character name with three of them becomes 101 characters,
    more than the staging tables' customer column holds (NVARCHAR(100) on SQL Server)."""
    near = "Straße " + "x" * 85 + " Weißß"  # 98 characters in the source
    assert len(near) == 98 and len(near.upper()) == 101
    exact = "ß" + "y" * 98  # upper-cased: exactly 100
    emoji = "🧵" * 51  # 51 characters, 102 UTF-16 code units: SQL Server counts 102
    names = [near, "GREYSON", exact, emoji, near]
    records, errors = records_from_frame(customers_frame(names), SPEC)

    assert sorted(r.customer for r in records) == ["GREYSON", "SS" + "Y" * 98]
    assert all(len(r.customer) <= MAX_CUSTOMER_NAME for r in records)
    by_order = {e.order_number: e for e in errors}
    assert sorted(by_order) == ["A-0", "A-3", "A-4"]
    for error in by_order.values():
        assert error.field == "CUSTOMER NAME" and error.record_uuid
        assert "100" in error.message and "customer_map.json" in error.message
    assert "101 characters" in by_order["A-0"].message
    assert "102 characters" in by_order["A-3"].message
    assert str(by_order["A-4"]).startswith("order A-4: [CUSTOMER NAME] the customer name is 101")


def test_an_alias_gives_a_long_customer_a_name_that_fits():
    near = "Straße " + "x" * 85 + " Weißß"
    spec = SourceSpec(
        mapped=SPEC.mapped,
        kinds=SPEC.kinds,
        sizes=SPEC.sizes,
        customers=CustomerMap({near: "STRASSE X"}),
    )
    hashed = hash_frame(customers_frame([near]), spec)
    assert hashed.errors == [] and hashed.customers == ["STRASSE X"]


def test_canonical_names_are_unchanged_for_names_that_fit():
    """Customers already synced keep their canonical name (ß still becomes SS)."""
    assert CustomerMap({}).canonical("Straße ") == "STRASSE"
    assert CustomerMap({}).canonical("straße") == CustomerMap({}).canonical("STRASSE")


# ------------------------------------------------------------ names are what prints
def test_an_item_name_has_no_control_or_format_characters():
    name = name_of("\x1b[2J\x1b[HBAD\u200b1\x7f", "\u202eNA\u00adVY\u2066\ufeff")
    assert name == "GREYSON · 4755 · [2J[HBAD1 · NAVY"
    assert not [c for c in name if unicodedata.category(c) in ("Cc", "Cf")]
    assert name_of("\u200b\u200d\ufeff", "\u2060\x1b") == "GREYSON · 4755"  # blank parts
    assert name_of("BAD1", "NAVY\tBLUE\r\n") == "GREYSON · 4755 · BAD1 · NAVY BLUE"
    # no name part that prints: the order number, without what does not print either
    assert item_name(load_mapping(), {"CUSTOMER NAME": "\u200b"}, "A-1\x1b\u200e") == "A-1"
    with pytest.raises(ItemNameError):
        item_name(load_mapping(), {"CUSTOMER STYLE": "\u200b"}, "\u202c")


def test_an_item_name_is_measured_after_what_does_not_print_is_gone():
    """255 UTF-16 units of what monday shows: zero-width characters take no room."""
    padded = "\u200b".join("S" * 300)  # 599 characters, 300 of them print
    assert name_of(padded) == name_of("S" * 300)
    assert utf16_len(name_of(padded)) == MAX_ITEM_NAME
    short = "\u200b".join("S" * 200)  # 399 characters; the name fits once they are gone
    assert name_of(short) == "GREYSON · 4755 · " + "S" * 200 + " · NAVY"
    assert name_of(FAMILY * 2) == f"GREYSON · 4755 · {FAMILY * 2} · NAVY"  # emoji keep joiners


def test_a_customer_name_is_measured_after_what_does_not_print_is_gone():
    fits = "\u200b".join("x" * 100)  # 199 characters in the source, 100 that print
    hashed = hash_frame(customers_frame([fits, "GREY\u200bSON\x1b", "GREYSON"]), SPEC)
    assert hashed.errors == []
    assert hashed.customers == ["X" * MAX_CUSTOMER_NAME, "GREYSON", "GREYSON"]


def test_lookalike_customers_hash_alike_and_field_values_hash_as_they_are():
    """The hash covers the canonical customer (the name that prints) and every other field
    as the source holds it: invisible characters in a field value are a change to push."""
    lookalikes = customers_frame(["GREYSON", "GREY\u200bSON", "\u202aGreyson\u202c"])
    lookalikes["AAG ORDER NUMBER"] = "A-1"
    assert len(set(hash_frame(lookalikes, SPEC).hashes)) == 1
    notes = customers_frame(["GREYSON", "GREYSON"])
    notes["NOTES"] = ["ab", "a\u200bb"]
    first, second = hash_frame(notes, SPEC).hashes
    assert first != second
    records, _ = records_from_frame(notes, SPEC)
    assert records[1].fields["NOTES"] == "a\u200bb"


def test_ordinary_rows_hash_as_they_did():
    """Hashes computed before names dropped what does not print (sync state holds them):
    ordinary rows, and a field value with invisible characters, hash as they did."""
    rows = customers_frame(["Greyson ", "Straße  co"])
    rows["NOTES"] = ["a\u200bb\x1b", None]
    assert hash_frame(rows, SPEC).hashes == [
        "9e40b08be60923fb2cd087012a3c78d8157721623aca4d14e666ccd37a4fbfcd",
        "9882f080463af28b879e0ec7d4720987bf7b3ae1d43e479bb4dcb13aa476d885",
    ]
