"""A SQLite preview finds each row's sync state by a join done by SQLite on the uuid's hex
digits (store/customer_state_join.py); a row whose stored record_uuid is in another form
(upper case, braces, spaces: a careless load) has its state looked up again by the uuid
the app read. Either way the preview is the one Method 2's count agrees with."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

import pytest
from sqlalchemy import text

from orders_sync_gui.core.models import ChangeType
from orders_sync_gui.services import detection
from orders_sync_gui.services.context import open_context
from orders_sync_gui.services.demo import demo_init
from orders_sync_gui.store import sqlite_reader
from orders_sync_gui.store.demo import mutate_orders
from orders_sync_gui.store.syncstate import load_state, save_state
from tests.helpers import mark_synced


@pytest.fixture(params=["here", "child"])
def ctx_back(tmp_path, request, monkeypatch):
    """Read in this process, or (as a large customer's rows are) by the reading child."""
    url = f"sqlite:///{tmp_path / 'orders.db'}"
    demo_init(url, orders=240, seed=41)
    context = open_context(url)
    mark_synced(context)
    touched = mutate_orders(context.store.engine, changed=7, deleted=4, added=5, seed=6)
    # One order whose delete was pushed is in the source again: NEW, and the preview
    # holds its tombstone (what was deleted), which the join finds by its key.
    with context.store.engine.begin() as conn:
        moved = {*touched["changed"], *touched["deleted"]}
        back = [s for s in load_state(conn) if s.record.record_uuid not in moved][100]
        when = datetime(2026, 11, 2, 10, 0)
        save_state(conn, [replace(back, deleted_at=when, deleted_action="status")], now=when)
    if request.param == "child":
        monkeypatch.setattr(sqlite_reader, "OFFLOAD_ROWS", 1)
    children: list[int] = []
    real = sqlite_reader.read_rows
    monkeypatch.setattr(
        sqlite_reader, "read_rows", lambda *a, **k: real(*a, **k, started=children.append)
    )
    yield context, back.record.record_uuid
    context.close()
    assert bool(children) == (request.param == "child")  # the premise: who read the rows


def _shape(ctx, customer):
    found = detection.preview(ctx, customer)
    changes = [(c.record_uuid, c.change_type, c.field_diffs, c.size_diffs) for c in found.changes]
    return found.counts, changes, sorted(found.previous), [str(e) for e in found.errors]


def _odd(hex32: str, i: int) -> str:
    dashed = f"{hex32[:8]}-{hex32[8:12]}-{hex32[12:16]}-{hex32[16:20]}-{hex32[20:]}"
    return [dashed.upper(), "{" + dashed + "}", f"  {dashed} ", hex32.upper(), dashed][i % 5]


def test_a_preview_finds_each_rows_state_whatever_form_its_uuid_is_stored_in(ctx_back):
    ctx, back = ctx_back
    counts, _ = detection.detect_counts(ctx)
    before = {c.customer: _shape(ctx, c.customer) for c in counts}
    # The preview agrees with the count, customer by customer, deletions included.
    assert {name: shape[0] for name, shape in before.items()} == {c.customer: c for c in counts}
    kinds = [change[1] for shape in before.values() for change in shape[1]]
    assert (kinds.count(ChangeType.CHANGED), kinds.count(ChangeType.DELETED)) == (7, 4)
    assert kinds.count(ChangeType.NEW) == 5 + 1
    returning = [s for s in before.values() if back in s[2]]
    assert len(returning) == 1  # its tombstone is the previous state the preview shows

    with ctx.store.engine.begin() as conn:
        stored = conn.execute(text('SELECT rowid, record_uuid FROM "ORDERS_UNIFIED"')).all()
        for i, (rowid, hex32) in enumerate(stored):
            conn.execute(
                text('UPDATE "ORDERS_UNIFIED" SET record_uuid = :u WHERE rowid = :r'),
                {"u": _odd(hex32, i), "r": rowid},
            )
    after = {c.customer: _shape(ctx, c.customer) for c in counts}
    assert after == before
    assert detection.detect_counts(ctx)[0] == counts
