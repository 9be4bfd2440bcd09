import pytest

from orders_sync_gui.core.columns import size_columns_between
from orders_sync_gui.core.mapping import MappingError, parse_mapping
from orders_sync_gui.core.sizes import SizeError, melt_sizes, size_changes
from orders_sync_gui.settings import load_mapping


def test_melt_keeps_non_zero_sizes_in_column_order():
    assert melt_sizes(["XS", "S", "M", "32/34"], [None, 6.0, 0, "12"]) == {"S": 6, "32/34": 12}


def test_melt_refuses_negative_and_fractional_quantities():
    with pytest.raises(SizeError, match=r"\[M\].*negative"):
        melt_sizes(["S", "M"], [1, -2])
    with pytest.raises(SizeError, match="whole number"):
        melt_sizes(["S"], [1.5])


def test_size_changes():
    assert size_changes({"S": 1, "M": 2}, {"M": 3, "L": 1}) == {
        "added": ["L"],
        "removed": ["S"],
        "changed": ["M"],
    }


def test_size_columns_are_those_between_the_markers():
    names = ["record_uuid", "PO NUMBER", "UNIT OF MEASURE", "XS", "32/34", "TOTAL QTY", "NOTES"]
    assert size_columns_between(names) == ["XS", "32/34"]
    with pytest.raises(ValueError, match="TOTAL QTY"):
        size_columns_between(["UNIT OF MEASURE", "XS"])


def test_default_mapping_loads_and_maps_the_key_fields():
    mapping = load_mapping()
    for col in (
        "AAG ORDER NUMBER",
        "CUSTOMER NAME",
        "PO NUMBER",
        "CUSTOMER STYLE",
        "CUSTOMER COLOUR DESCRIPTION",
        "EX FACTORY DATE",
    ):
        assert col in mapping.sources
    assert "CUSTOMER PRICE" not in mapping.sources  # pricing must not make rows CHANGED


def test_a_bad_mapping_lists_every_problem():
    with pytest.raises(MappingError) as err:
        parse_mapping(
            {
                "columns": [
                    {"source": "A", "column_id": "a", "type": "colour"},
                    {"column_id": "b", "type": "text"},
                ]
            }
        )
    text = str(err.value)
    assert "columns[0]: type 'colour'" in text
    assert "columns[1]: no source" in text
    assert "record_uuid_column" in text and "item_name_template" in text
