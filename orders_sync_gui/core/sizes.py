"""Sizes: the wide size columns of a row melted into (size, quantity) pairs."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from .canonical import CanonicalError, canonical_number, is_null

MAX_QTY = 2_147_483_647  # an INT column's range; monday's numbers column takes more


class SizeError(ValueError):
    def __init__(self, size: str, message: str) -> None:
        super().__init__(message)
        self.size = size


def size_quantity(size: str, value: Any) -> int | None:
    """The quantity of one size cell: None when NULL, else a whole non-negative number."""
    if is_null(value):
        return None
    try:
        text = canonical_number(value)
    except CanonicalError as exc:
        raise SizeError(size, f"size [{size}]: {exc}") from exc
    if "." in text:
        raise SizeError(size, f"size [{size}]: quantity {text} is not a whole number")
    qty = int(text)
    if qty < 0:
        raise SizeError(size, f"size [{size}]: quantity {qty} is negative")
    if qty > MAX_QTY:
        raise SizeError(size, f"size [{size}]: quantity {qty} is beyond an INT column")
    return qty


def melt_sizes(sizes: Sequence[str], values: Sequence[Any]) -> dict[str, int]:
    """Non-zero sizes of one row, in column order: the subitems its monday item gets."""
    out: dict[str, int] = {}
    for size, value in zip(sizes, values, strict=True):
        qty = size_quantity(size, value)
        if qty:
            out[size] = qty
    return out


def size_changes(old: Mapping[str, int], new: Mapping[str, int]) -> dict[str, list[str]]:
    """Sizes added, removed and with a changed quantity between two melted rows."""
    return {
        "added": [s for s in new if s not in old],
        "removed": [s for s in old if s not in new],
        "changed": [s for s in new if s in old and old[s] != new[s]],
    }
