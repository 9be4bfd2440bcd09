"""A SQLite preview finds each row's sync state by a join done by SQLite on the uuid's hex
digits (store/customer_state_join.py); a row whose stored record_uuid is in another form
(upper case, braces, spaces: a careless load) has its state looked up again by the uuid
the app read. Either way the preview is the one Method 2's count agrees with."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from orders_sync_gui.core.models import ChangeType
from orders_sync_gui.services import detection
from orders_sync_gui.services.context import open_context
from orders_sync_gui.services.demo import demo_init
from orders_sync_gui.store.demo import mutate_orders
from tests.helpers import mark_synced


@pytest.fixture
def ctx(tmp_path):
    url = f"sqlite:///{tmp_path / 'orders.db'}"
    demo_init(url, orders=240, seed=41)
    context = open_context(url)
    mark_synced(context)
    mutate_orders(context.store.engine, changed=7, deleted=4, added=5, seed=6)
    yield context
    context.close()


def _shape(ctx, customer):
    found = detection.preview(ctx, customer)
    changes = [(c.record_uuid, c.change_type, c.field_diffs, c.size_diffs) for c in found.changes]
    return found.counts, changes, sorted(found.previous), [str(e) for e in found.errors]


def _odd(hex32: str, i: int) -> str:
    dashed = f"{hex32[:8]}-{hex32[8:12]}-{hex32[12:16]}-{hex32[16:20]}-{hex32[20:]}"
    return [dashed.upper(), "{" + dashed + "}", f"  {dashed} ", hex32.upper(), dashed][i % 5]


def test_a_preview_finds_each_rows_state_whatever_form_its_uuid_is_stored_in(ctx):
    counts, _ = detection.detect_counts(ctx)
    before = {c.customer: _shape(ctx, c.customer) for c in counts}
    # The preview agrees with the count, customer by customer, deletions included.
    assert {name: shape[0] for name, shape in before.items()} == {c.customer: c for c in counts}
    kinds = [change[1] for shape in before.values() for change in shape[1]]
    assert (kinds.count(ChangeType.CHANGED), kinds.count(ChangeType.DELETED)) == (7, 4)
    assert kinds.count(ChangeType.NEW) == 5

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
