"""The row hash: SHA-256 over the canonical form of the values a row pushes to monday.com.

A record is its mapped fields (canonical text or None) and its non-zero sizes. The hashed
text names every field (sorted), length-prefixes every value (so no value can imitate a
separator) and lists sizes sorted by label; NULL and 0 quantities are both "no subitem"
and so are absent. Adding a column to the mapping therefore changes every hash (the new
column must be pushed), while reordering columns changes none.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence


def field_header(names: Sequence[str]) -> str:
    return "F" + "".join(f"{len(n)}:{n}" for n in sorted(names))


def encode_value(value: str | None) -> str:
    return "~" if value is None else f"{len(value)}:{value}"


def encode_sizes(sizes: Mapping[str, int]) -> str:
    return "".join(f"{len(s)}:{s}={q};" for s, q in sorted(sizes.items()))


def hash_text(header: str, encoded_fields: str, encoded_sizes: str) -> str:
    text = f"{header}|{encoded_fields}|S{encoded_sizes}"
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def hash_record(fields: Mapping[str, str | None], sizes: Mapping[str, int]) -> str:
    """The hash of one canonical record; the vectorised path must agree with this one."""
    names = sorted(fields)
    encoded = "".join(encode_value(fields[n]) for n in names)
    return hash_text(field_header(names), encoded, encode_sizes(sizes))
