"""Look before creating: whatever happened to the database, an order already on the board
is taken up, never created a second time. Against the sandbox over loopback, with monday's
Idempotency-Key out of the picture (the sandbox ignoring it, or its window passed), so the
lookup alone is what is proven.
"""

from __future__ import annotations

import shutil
from collections import Counter
from pathlib import Path

import pytest
from pushkit import CUSTOMER, ORDERS, SEED, assert_no_duplicates, quick_setup, texts

from orders_sync_gui.core.models import BatchStatus, ChangeType
from orders_sync_gui.services import detection, staging
from orders_sync_gui.services.context import open_context
from orders_sync_gui.services.demo import demo_init
from orders_sync_gui.services.push import push

LIMIT = 8


@pytest.fixture(params=["ignored", "expired"])
def board(request, make_sandbox):
    """A sandbox on which a resent Idempotency-Key is no guard: ignored (as if monday did
    not honour it), or honoured for no time at all (its window long passed)."""
    if request.param == "ignored":
        return make_sandbox(idempotency_enabled=False)
    return make_sandbox(idempotency_ttl_seconds=0.0)


def on_board(server) -> Counter[str]:
    dump = server.dump()
    assert_no_duplicates(dump)  # one item per uuid, one subitem per size
    return Counter(texts(i)["text_record_uuid"] for i in dump["items"] if i["state"] == "active")


def push_pilot(ctx, server) -> tuple[set[str], int]:
    batch = staging.stage(ctx, CUSTOMER, limit=LIMIT)
    report = push(ctx, batch.batch_id, quick_setup(ctx, server))
    assert report.status == BatchStatus.PUSHED
    return {c.record_uuid for c in detection.preview(ctx, CUSTOMER).changes}, report.adopted


def pushed_again(db: str, server) -> tuple[int, dict[str, ChangeType]]:
    """The operator stages and pushes the same pilot again, on the database as it is now."""
    ctx = open_context(db)
    try:
        batch = staging.stage(ctx, CUSTOMER, limit=LIMIT)
        assert batch.new_count == LIMIT  # the database forgot: every order is NEW again
        report = push(ctx, batch.batch_id, quick_setup(ctx, server))
        assert report.status == BatchStatus.PUSHED
        left = {c.record_uuid: c.change_type for c in detection.preview(ctx, CUSTOMER).changes}
        return report.adopted, left
    finally:
        ctx.close()


def test_a_database_restored_from_before_a_push_puts_no_second_item(ctx, db, board):
    path = Path(db.removeprefix("sqlite:///"))
    backup = path.with_suffix(".bak")
    shutil.copyfile(path, backup)  # the DBA's nightly backup
    _, adopted = push_pilot(ctx, board)
    assert adopted == 0
    first = on_board(board)
    ctx.close()
    shutil.copyfile(backup, path)  # ... restored the next morning

    adopted, _ = pushed_again(db, board)
    assert adopted == LIMIT
    assert on_board(board) == first  # the same items, each once
    assert sum(first.values()) == LIMIT


def test_demo_init_force_with_the_same_seed_puts_no_second_item(ctx, db, board):
    push_pilot(ctx, board)
    first = on_board(board)
    ctx.close()
    demo_init(db, orders=ORDERS, seed=SEED, force=True)  # sync state and batches cleared

    adopted, left = pushed_again(db, board)
    assert adopted == LIMIT
    assert on_board(board) == first
    # Detection tells the truth: the pilot's orders are synced, not NEW.
    assert not set(first) & {u for u, k in left.items() if k is ChangeType.NEW}
