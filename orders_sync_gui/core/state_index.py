"""The sync state as Method 2 needs it, in numpy arrays: per synced record its uuid, hash
and customer, sorted by uuid for lookups.

About 110 bytes a record (36 + 64 bytes of text, a customer code, a flag), where a dict of
{uuid: (customer, hash)} took about 350: at a million synced orders, the difference between
fitting in a laptop's memory beside the window and not.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

UUID_BYTES = 36  # the dashed form
HASH_BYTES = 64  # SHA-256 as hex


def as_uuid_array(uuids: Sequence[str | None]) -> np.ndarray:
    """uuids as fixed-width bytes (NULL as empty): what the index compares."""
    return np.array([u or "" for u in uuids], dtype=f"S{UUID_BYTES}")


def as_hash_array(hashes: Sequence[str | None]) -> np.ndarray:
    return np.array([h or "" for h in hashes], dtype=f"S{HASH_BYTES}")


def dash_hex(uuids: np.ndarray) -> np.ndarray:
    """An S36 array of uuids with those given as 32 hex digits (SQLite's stored form)
    dashed, in numpy: the same text a source row's uuid is read as."""
    raw = uuids.view(np.uint8).reshape(-1, UUID_BYTES)
    bare = (raw[:, 32] == 0) & (raw[:, 31] != 0)  # exactly 32 characters
    if not bare.any():
        return uuids
    src = raw[bare]
    out = np.full((len(src), UUID_BYTES), ord("-"), dtype=np.uint8)
    for (a, b), start in zip(_HEX_GROUPS, _DASHED_STARTS, strict=True):
        out[:, start : start + b - a] = src[:, a:b]
    raw = raw.copy()
    raw[bare] = out
    return raw.reshape(-1).view(f"S{UUID_BYTES}")


# The five groups of a uuid's 32 hex digits, and where each starts once dashed.
_HEX_GROUPS = ((0, 8), (8, 12), (12, 16), (16, 20), (20, 32))
_DASHED_STARTS = (0, 9, 14, 19, 24)


@dataclass(slots=True)
class StateIndex:
    uuids: np.ndarray  # S36, sorted
    hashes: np.ndarray  # S64, aligned with uuids
    customer_codes: np.ndarray  # int32, into customer_names
    customer_names: list[str]
    # Set when a source row holds the uuid: what is still unset at the end is DELETED.
    matched: np.ndarray

    @classmethod
    def build(cls, chunks: Iterable[Sequence[tuple[str, str, str]]]) -> StateIndex:
        """From (uuid, customer, hash) triples, read in chunks (the whole list never sits
        in memory as Python objects); a uuid dashed, or as 32 hex digits."""
        names: dict[str, int] = {}
        uuids: list[np.ndarray] = []
        hashes: list[np.ndarray] = []
        codes: list[np.ndarray] = []
        for chunk in chunks:
            if not chunk:
                continue
            us, cs, hs = zip(*chunk, strict=True)
            uuids.append(dash_hex(as_uuid_array(us)))
            hashes.append(as_hash_array(hs))
            local, found = pd.factorize(pd.Series(cs, dtype=object))
            into = np.array([names.setdefault(c, len(names)) for c in found], dtype=np.int32)
            codes.append(into[local])
        if not uuids:
            return cls.empty()
        # One array at a time, its parts freed before the next: at a million records the
        # parts and their copies together came to twice the index.
        u = np.concatenate(uuids)
        uuids.clear()
        order = np.argsort(u, kind="stable")
        u = u[order]
        h = np.concatenate(hashes)
        hashes.clear()
        h = h[order]
        c = np.concatenate(codes)[order]
        return cls(u, h, c, list(names), np.zeros(len(u), dtype=bool))

    @classmethod
    def empty(cls) -> StateIndex:
        return cls(
            np.empty(0, f"S{UUID_BYTES}"),
            np.empty(0, f"S{HASH_BYTES}"),
            np.empty(0, np.int32),
            [],
            np.zeros(0, dtype=bool),
        )

    def __len__(self) -> int:
        return len(self.uuids)

    def lookup(self, uuids: np.ndarray) -> np.ndarray:
        """Each uuid's position in the index, -1 where it has none (or is empty)."""
        if not len(self.uuids):
            return np.full(len(uuids), -1, dtype=np.int64)
        at = np.searchsorted(self.uuids, uuids)
        inside = at < len(self.uuids)
        found = np.zeros(len(uuids), dtype=bool)
        found[inside] = self.uuids[at[inside]] == uuids[inside]
        found &= uuids != b""
        return np.where(found, at, -1)

    def unmatched_by_customer(self) -> dict[str, int]:
        """{customer: records no source row held}: the DELETED ones."""
        left = np.bincount(
            self.customer_codes[~self.matched], minlength=len(self.customer_names)
        ).tolist()
        return {name: n for name, n in zip(self.customer_names, left, strict=True) if n}
