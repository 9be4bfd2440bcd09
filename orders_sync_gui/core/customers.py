"""Canonical customer names: the several spellings a source uses fold into one customer."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping


def fold(name: str) -> str:
    """The comparison key of a spelling: NFC, case-folded, spaces collapsed and trimmed."""
    return " ".join(unicodedata.normalize("NFC", name).casefold().split())


class CustomerMap:
    """Maps any spelling to its canonical customer; unknown names are their own customer."""

    def __init__(self, aliases: Mapping[str, str]) -> None:
        self._by_key = {fold(alias): canonical.strip() for alias, canonical in aliases.items()}
        # A canonical name is also an alias of itself, whatever its case.
        for canonical in list(self._by_key.values()):
            self._by_key.setdefault(fold(canonical), canonical)

    def canonical(self, name: str | None) -> str | None:
        if name is None:
            return None
        key = fold(name)
        if not key:
            return None
        known = self._by_key.get(key)
        if known is not None:
            return known
        return " ".join(unicodedata.normalize("NFC", name).split()).upper()

    def spellings_of(self, customer: str, names: Iterable[str | None]) -> list[str]:
        """Those of `names` (raw spellings found in the source) that fold into `customer`."""
        target = self.canonical(customer)
        return sorted({n for n in names if n is not None and self.canonical(n) == target})
