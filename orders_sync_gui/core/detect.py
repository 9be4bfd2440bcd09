"""Change detection, two ways that must agree.

Method 2 compares hashes only: the fast per-customer counts. Method 1 outer-joins the full
values of source and sync state on record_uuid with a merge indicator and compares field by
field: the full classification with old -> new diffs. Tests hold them to the same answer.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

import pandas as pd

from .models import ChangeType, CustomerCounts, FieldDiff, Record, RowChange, SizeDiff


def classify_by_hash(source: Mapping[str, str], state: Mapping[str, str]) -> dict[str, ChangeType]:
    """Method 2: {record_uuid: change type} from {uuid: hash} of source and sync state."""
    out: dict[str, ChangeType] = {}
    for uid, digest in source.items():
        old = state.get(uid)
        if old is None:
            out[uid] = ChangeType.NEW
        else:
            out[uid] = ChangeType.UNCHANGED if old == digest else ChangeType.CHANGED
    for uid in state.keys() - source.keys():
        out[uid] = ChangeType.DELETED
    return out


def count_by_customer(
    source: Iterable[tuple[str, str, str]], state: Iterable[tuple[str, str, str]]
) -> dict[str, CustomerCounts]:
    """Method 2 counts per customer from (uuid, customer, hash) triples.

    A row counts under its source customer; a DELETED row under the customer it was
    pushed for, since the source no longer has it.
    """
    src = {u: (c, h) for u, c, h in source}
    old = {u: (c, h) for u, c, h in state}
    kinds = classify_by_hash(
        {u: h for u, (_, h) in src.items()}, {u: h for u, (_, h) in old.items()}
    )
    counts: dict[str, CustomerCounts] = {}
    for uid, kind in kinds.items():
        customer = src[uid][0] if uid in src else old[uid][0]
        counts.setdefault(customer, CustomerCounts(customer)).add(kind)
    return counts


def diff_records(old: Record, new: Record) -> tuple[list[FieldDiff], list[SizeDiff]]:
    fields = [
        FieldDiff(name, old.fields.get(name), value)
        for name, value in new.fields.items()
        if old.fields.get(name) != value
    ]
    fields += [
        FieldDiff(name, value, None)
        for name, value in old.fields.items()
        if name not in new.fields and value is not None
    ]
    sizes = [
        SizeDiff(s, old.sizes.get(s), q) for s, q in new.sizes.items() if old.sizes.get(s) != q
    ]
    sizes += [SizeDiff(s, q, None) for s, q in old.sizes.items() if s not in new.sizes]
    return fields, sizes


def classify_by_join(source: Sequence[Record], state: Sequence[Record]) -> list[RowChange]:
    """Method 1: outer join on record_uuid with a merge indicator, then field-level diffs."""
    left = pd.DataFrame({"record_uuid": [r.record_uuid for r in source], "new": list(source)})
    right = pd.DataFrame({"record_uuid": [r.record_uuid for r in state], "old": list(state)})
    joined = left.merge(right, on="record_uuid", how="outer", indicator=True, sort=False)
    changes: list[RowChange] = []
    # Lists, not the Series: iterating the categorical _merge costs a lookup per row.
    for uid, new, old, side in zip(
        joined["record_uuid"].tolist(),
        joined["new"].tolist(),
        joined["old"].tolist(),
        joined["_merge"].astype(object).tolist(),
        strict=True,
    ):
        if side == "left_only":
            changes.append(RowChange(uid, ChangeType.NEW, new.customer, new, None))
        elif side == "right_only":
            changes.append(RowChange(uid, ChangeType.DELETED, old.customer, None, old))
        else:
            field_diffs, size_diffs = diff_records(old, new)
            kind = ChangeType.CHANGED if field_diffs or size_diffs else ChangeType.UNCHANGED
            changes.append(RowChange(uid, kind, new.customer, new, old, field_diffs, size_diffs))
    return changes
