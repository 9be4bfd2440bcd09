"""The sync state's numpy index: uuids as SQLite keeps them (32 hex digits) or dashed, as
PostgreSQL and SQL Server give them, are found by the dashed text a source row is read as."""

from __future__ import annotations

import uuid

import numpy as np

from orders_sync_gui.core.state_index import StateIndex, as_uuid_array, dash_hex


def test_undashed_and_dashed_uuids_are_found_by_their_dashed_text():
    ids = [uuid.UUID(int=(i * 7919) << 64 | (i * 104729), version=4) for i in range(1, 301)]
    chunks = [
        [(u.hex if i % 2 else str(u), f"C{i % 3}", f"{i:064x}") for i, u in enumerate(ids[:150])],
        [(str(u), f"C{i % 5}", f"{i:064x}") for i, u in enumerate(ids[150:], start=150)],
    ]
    index = StateIndex.build(chunks)
    wanted = as_uuid_array([str(u) for u in ids] + [str(uuid.uuid4()), ""])
    at = index.lookup(wanted)
    assert (at[:300] >= 0).all() and at[300] == -1 and at[301] == -1
    assert [int(index.hashes[k], 16) for k in at[:300]] == list(range(300))
    assert [index.customer_names[c] for c in index.customer_codes[at[:5]]] == [
        "C0",
        "C1",
        "C2",
        "C0",
        "C1",
    ]
    index.matched[at[:299]] = True
    assert index.unmatched_by_customer() == {f"C{299 % 5}": 1}


def test_dash_hex_leaves_anything_but_32_characters_as_it_is():
    given = as_uuid_array(["0" * 32, "A" * 31, "b" * 33, "", "x" * 36])
    assert dash_hex(given).tolist() == [
        b"00000000-0000-0000-0000-000000000000",
        b"A" * 31,
        b"b" * 33,
        b"",
        b"x" * 36,
    ]
    assert dash_hex(as_uuid_array([])).dtype == np.dtype("S36")
