"""Names that must fit where they go: monday.com item names (255, counted in UTF-16 code
units as monday counts) and canonical customer names (the 100 of the staging tables)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from orders_sync_gui.core.board_values import MAX_ITEM_NAME, item_name
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
