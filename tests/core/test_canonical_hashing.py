"""The row hash: same data, same hash, whatever the database handed back."""

from __future__ import annotations

import math
import unicodedata
from datetime import date, datetime
from decimal import Decimal

import numpy as np
import pandas as pd
import pytest

from orders_sync_gui.core.canonical import CanonicalError, canonical
from orders_sync_gui.core.columns import Kind
from orders_sync_gui.core.customers import CustomerMap
from orders_sync_gui.core.hashing import hash_record
from orders_sync_gui.core.records import SourceSpec, hash_frame, records_from_frame

UUIDS = [f"00000000-0000-4000-8000-{i:012d}" for i in range(10)]
SPEC = SourceSpec(
    mapped=["AAG ORDER NUMBER", "CUSTOMER NAME", "EX FACTORY DATE", "NOTES"],
    kinds={
        "AAG ORDER NUMBER": Kind.TEXT,
        "CUSTOMER NAME": Kind.TEXT,
        "EX FACTORY DATE": Kind.DATETIME,
        "NOTES": Kind.TEXT,
    },
    sizes=["S", "M", "32/34"],
    customers=CustomerMap({"GREYSON CLOTHIERS": "GREYSON"}),
)


def frame(**overrides: list) -> pd.DataFrame:
    base = {
        "record_uuid": UUIDS[:2],
        "AAG ORDER NUMBER": ["A-1", "A-2"],
        "CUSTOMER NAME": ["GREYSON", "GREYSON"],
        "EX FACTORY DATE": [datetime(2026, 6, 15), datetime(2026, 7, 1)],
        "NOTES": [None, "Ship complete"],
        "S": [12.0, np.nan],
        "M": [24.0, 6.0],
        "32/34": [np.nan, np.nan],
        "CUSTOMER PRICE": [Decimal("7.5"), Decimal("8.1")],
    }
    base.update(overrides)
    return pd.DataFrame(base)


@pytest.mark.parametrize("value", [5, 5.0, Decimal("5.00"), "5", " 5.000 ", np.int64(5)])
def test_numbers_in_any_form_canonicalise_alike(value):
    assert canonical(Kind.DECIMAL, value) == "5"


def test_decimal_keeps_its_significant_digits_and_zero_has_no_sign():
    assert canonical(Kind.DECIMAL, Decimal("7.2500")) == "7.25"
    assert canonical(Kind.DECIMAL, Decimal("-0.000")) == "0"
    assert canonical(Kind.DECIMAL, Decimal("1E+3")) == "1000"


def test_null_is_not_the_empty_string():
    assert canonical(Kind.TEXT, None) is None
    assert canonical(Kind.TEXT, float("nan")) is None
    assert canonical(Kind.TEXT, pd.NA) is None
    assert canonical(Kind.TEXT, "") == ""
    assert hash_record({"NOTES": None}, {}) != hash_record({"NOTES": ""}, {})


@pytest.mark.parametrize(
    "value",
    [
        datetime(2026, 6, 15),
        date(2026, 6, 15),
        "2026-06-15",
        "2026-06-15 00:00:00",
        pd.Timestamp("2026-06-15"),
    ],
)
def test_dates_become_iso(value):
    assert canonical(Kind.DATETIME, value) == "2026-06-15"


def test_a_time_of_day_is_kept():
    assert canonical(Kind.DATETIME, datetime(2026, 6, 15, 8, 30)) == "2026-06-15T08:30:00"


def test_strings_are_nfc():
    decomposed = unicodedata.normalize("NFD", "CRÈME")
    assert decomposed != "CRÈME"
    assert canonical(Kind.TEXT, decomposed) == "CRÈME"


@pytest.mark.parametrize(
    "kind,value",
    [
        (Kind.DECIMAL, math.inf),
        (Kind.DECIMAL, "12abc"),
        (Kind.DATETIME, "31/02/2026"),
        (Kind.INT, True),
    ],
)
def test_values_without_a_canonical_form_are_refused(kind, value):
    with pytest.raises(CanonicalError):
        canonical(kind, value)


def test_vectorised_hash_equals_the_scalar_hash():
    records, errors = records_from_frame(frame(), SPEC)
    assert errors == []
    first = records[0]
    assert first.fields == {
        "AAG ORDER NUMBER": "A-1",
        "CUSTOMER NAME": "GREYSON",
        "EX FACTORY DATE": "2026-06-15",
        "NOTES": None,
    }
    assert first.sizes == {"S": 12, "M": 24}
    assert first.hash == hash_record(first.fields, first.sizes)
    assert records[1].hash == hash_record(records[1].fields, records[1].sizes)


def test_equivalent_representations_hash_alike():
    plain = hash_frame(frame(), SPEC).hashes
    other = hash_frame(
        frame(
            **{
                "EX FACTORY DATE": ["2026-06-15", date(2026, 7, 1)],
                "S": [Decimal("12.00"), None],
                "M": ["24", 6],
                "CUSTOMER NAME": ["greyson  clothiers", " Greyson "],
            }
        ),
        SPEC,
    ).hashes
    assert plain == other


def test_an_unmapped_column_does_not_change_the_hash():
    assert (
        hash_frame(frame(), SPEC).hashes
        == hash_frame(frame(**{"CUSTOMER PRICE": [Decimal("99"), Decimal("1")]}), SPEC).hashes
    )


def test_mapped_fields_and_sizes_change_the_hash():
    base = hash_frame(frame(), SPEC).hashes
    assert hash_frame(frame(NOTES=["late", "Ship complete"]), SPEC).hashes[0] != base[0]
    assert hash_frame(frame(S=[13.0, np.nan]), SPEC).hashes[0] != base[0]
    assert hash_frame(frame(**{"32/34": [6.0, np.nan]}), SPEC).hashes[0] != base[0]


def test_a_zero_size_is_no_subitem_like_null():
    base = hash_frame(frame(), SPEC)
    zero = hash_frame(frame(**{"32/34": [0.0, 0.0]}), SPEC)
    assert zero.hashes == base.hashes
    assert zero.size_rows == [{"S": 12, "M": 24}, {"M": 6}]


def test_a_value_cannot_imitate_a_field_boundary():
    a = hash_record({"A": "x", "B": "y"}, {})
    b = hash_record({"A": "x1:y", "B": None}, {})
    c = hash_record({"A": "xy", "B": ""}, {})
    assert len({a, b, c}) == 3


def test_bad_rows_fail_alone_with_order_and_field_named():
    bad = frame(
        **{
            "record_uuid": UUIDS[:4],
            "AAG ORDER NUMBER": ["A-1", "A-2", "A-3", "A-4"],
            "CUSTOMER NAME": ["GREYSON", "GREYSON", "GREYSON", None],
            "EX FACTORY DATE": [datetime(2026, 6, 15), "not a date", None, None],
            "NOTES": [None, None, None, None],
            "S": [12.0, 1.0, -3.0, 1.0],
            "M": [24.0, 1.0, 2.5, 1.0],
            "32/34": [np.nan] * 4,
            "CUSTOMER PRICE": [None] * 4,
        }
    )
    hashed = hash_frame(bad, SPEC)
    assert hashed.hashes[0] is not None
    assert hashed.hashes[1:] == [None, None, None]
    by_order = {e.order_number: e for e in hashed.errors}
    assert by_order["A-2"].field == "EX FACTORY DATE"
    assert "not a date" in by_order["A-2"].message
    assert by_order["A-3"].field == "S" and "negative" in by_order["A-3"].message
    assert by_order["A-4"].field == "CUSTOMER NAME"
    assert "order A-3" in str(by_order["A-3"])


def test_fractional_and_huge_quantities_are_named():
    hashed = hash_frame(frame(S=[2.5, 1e12]), SPEC)
    messages = [e.message for e in hashed.errors]
    assert any("2.5 is not a whole number" in m for m in messages)
    assert any("beyond an INT" in m for m in messages)


def test_duplicate_record_uuid_names_both_orders():
    hashed = hash_frame(frame(record_uuid=[UUIDS[0], UUIDS[0]]), SPEC)
    assert hashed.hashes == [None, None]
    assert all("A-1, A-2" in e.message and e.field == "record_uuid" for e in hashed.errors)


def test_text_in_a_size_column_is_read_or_named():
    hashed = hash_frame(frame(S=["12", "twelve"]), SPEC)
    assert hashed.hashes[0] == hash_frame(frame(), SPEC).hashes[0]
    assert hashed.hashes[1] is None
    assert "twelve" in hashed.errors[0].message and hashed.errors[0].field == "S"


def test_a_mapped_column_missing_from_the_source_is_named():
    with pytest.raises(KeyError, match=r"\[NOTES\]"):
        hash_frame(frame().drop(columns=["NOTES"]), SPEC)
