"""Method 1 (outer join on values) and Method 2 (hashes) must tell the same story."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from orders_sync_gui.core.detect import classify_by_hash, classify_by_join, count_by_customer
from orders_sync_gui.core.hashing import hash_record
from orders_sync_gui.core.models import DETECTED, ChangeType, FieldDiff, Record, SizeDiff

FIELDS = ("PO NUMBER", "CUSTOMER STYLE", "NOTES")
SIZES = ("S", "M", "L", "32/34")


def rec(uid: str, customer: str, fields: dict, sizes: dict) -> Record:
    return Record(uid, customer, fields, sizes, hash_record(fields, sizes))


values = st.one_of(st.none(), st.sampled_from(["", "4755", "NAVY", "é", "e\u0301"]))
field_dicts = st.fixed_dictionaries({f: values for f in FIELDS})
size_dicts = st.dictionaries(st.sampled_from(SIZES), st.integers(1, 5), max_size=3)
record_bodies = st.tuples(st.sampled_from(["GREYSON", "RHONE"]), field_dicts, size_dicts)


@st.composite
def source_and_state(draw):
    uids = [f"u{i}" for i in range(draw(st.integers(0, 25)))]
    source, state = [], []
    for uid in uids:
        where = draw(st.sampled_from(["both-same", "both-edited", "source", "state"]))
        body = draw(record_bodies)
        if where in ("both-same", "both-edited", "source"):
            source.append(rec(uid, *body))
        if where == "both-same" or where == "state":
            state.append(rec(uid, *body))
        elif where == "both-edited":
            state.append(rec(uid, *draw(record_bodies)))
    return source, state


@settings(max_examples=200, deadline=None)
@given(source_and_state())
def test_method_1_and_method_2_agree(data):
    source, state = data
    by_join = {c.record_uuid: c.change_type for c in classify_by_join(source, state)}
    by_hash = classify_by_hash(
        {r.record_uuid: r.hash for r in source}, {r.record_uuid: r.hash for r in state}
    )
    assert by_join == by_hash
    counts = count_by_customer(
        [(r.record_uuid, r.customer, r.hash) for r in source],
        [(r.record_uuid, r.customer, r.hash) for r in state],
    )
    total = {t: sum(getattr(c, t.value.lower()) for c in counts.values()) for t in DETECTED}
    assert total == {t: list(by_hash.values()).count(t) for t in DETECTED}


def test_changed_rows_carry_field_and_size_diffs():
    old = rec("u1", "GREYSON", {"PO NUMBER": "4755", "NOTES": None}, {"S": 6, "M": 12, "L": 6})
    new = rec("u1", "GREYSON", {"PO NUMBER": "4755", "NOTES": "rush"}, {"S": 6, "M": 18, "XL": 6})
    [change] = classify_by_join([new], [old])
    assert change.change_type is ChangeType.CHANGED
    assert change.field_diffs == [FieldDiff("NOTES", None, "rush")]
    assert change.size_diffs == [
        SizeDiff("M", 12, 18),
        SizeDiff("XL", None, 6),
        SizeDiff("L", 6, None),
    ]


def test_new_deleted_and_unchanged():
    a = rec("a", "GREYSON", {"PO NUMBER": "1"}, {"S": 1})
    b = rec("b", "GREYSON", {"PO NUMBER": "2"}, {"S": 1})
    c = rec("c", "RHONE", {"PO NUMBER": "3"}, {"S": 1})
    kinds = {ch.record_uuid: ch.change_type for ch in classify_by_join([a, b], [b, c])}
    assert kinds == {"a": ChangeType.NEW, "b": ChangeType.UNCHANGED, "c": ChangeType.DELETED}
    counts = count_by_customer(
        [("a", "GREYSON", a.hash), ("b", "GREYSON", b.hash)],
        [("b", "GREYSON", b.hash), ("c", "RHONE", c.hash)],
    )
    assert (counts["GREYSON"].new, counts["GREYSON"].unchanged) == (1, 1)
    assert counts["RHONE"].deleted == 1
