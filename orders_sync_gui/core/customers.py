"""Canonical customer names: the several spellings a source uses fold into one customer."""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable, Mapping

from .text import visible
from .utf16 import utf16_len

# The customer columns of the batch, staging, lock and sync-state tables are Unicode(100):
# NVARCHAR(100) on SQL Server, which counts UTF-16 code units (an emoji counts 2).
MAX_CUSTOMER_NAME = 100


def customer_name_problem(canonical: str) -> str | None:
    """Why a canonical customer name cannot be stored, in words an operator can act on.

    Upper-casing can lengthen a name ("ß" becomes "SS", "ﬁ" becomes "FI"), so a source
    name that fits its column may not once canonical; a customer map alias can then give
    the customer a shorter name. The canonical form itself is left as it is: changing how
    names upper-case would rename customers already synced under their present name.
    """
    length = utf16_len(canonical)
    if length <= MAX_CUSTOMER_NAME:
        return None
    shown = canonical if len(canonical) <= 40 else canonical[:40] + "…"
    return (
        f"the customer name is {length} characters long as the canonical customer "
        f"{shown!r} (upper-cased, where ß becomes SS), beyond the {MAX_CUSTOMER_NAME} a "
        "customer name may hold: shorten it in the source, or map this spelling to a "
        "shorter name in customer_map.json"
    )


def _tidy(name: str) -> str:
    """A name as it prints: no control or format characters (zero-width spaces, direction
    marks, ESC ...; see core/text.py), NFC, spaces collapsed and trimmed."""
    return " ".join(unicodedata.normalize("NFC", visible(name)).split())


def fold(name: str) -> str:
    """The comparison key of a spelling: what prints (`_tidy`), case-folded. Two spellings
    that print alike but for case and spacing are one customer."""
    return _tidy(name).casefold()


class CustomerMap:
    """Maps any spelling to its canonical customer; unknown names are their own customer."""

    def __init__(self, aliases: Mapping[str, str]) -> None:
        # The map's own names are kept as written, but for what does not print.
        self._by_key = {
            fold(alias): visible(canonical).strip() for alias, canonical in aliases.items()
        }
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
        return _tidy(name).upper()

    def is_mapped(self, name: str | None) -> bool:
        """Whether the map names this spelling (as an alias or a canonical customer); a
        spelling it does not name is a customer of its own."""
        return name is not None and fold(name) in self._by_key

    def spellings_of(self, customer: str, names: Iterable[str | None]) -> list[str]:
        """Those of `names` (raw spellings found in the source) that fold into `customer`."""
        target = self.canonical(customer)
        return sorted({n for n in names if n is not None and self.canonical(n) == target})
