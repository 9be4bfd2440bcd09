"""One open batch per order: an order that moves to another customer while its old
customer's batch is open is that batch's to push, and an undo touches only its own batch's
sync state. Against the sandbox over loopback; what is checked is what an operator sees:
one item per order on the board, and detection telling the truth afterwards.
"""

from __future__ import annotations

import json
from collections import Counter

from pushkit import CUSTOMER, assert_no_duplicates, quick_setup, staged, texts

from orders_sync_gui.core.columns import CUSTOMER_NAME
from orders_sync_gui.core.models import BatchStatus, ChangeType
from orders_sync_gui.resources import resource_path
from orders_sync_gui.services import detection, staging
from orders_sync_gui.services.context import open_context
from orders_sync_gui.services.push import push
from orders_sync_gui.services.rollback import roll_back


def other_customer(ctx) -> str:
    """The demo customer with the most new orders after GREYSON."""
    found, _ = detection.detect_counts(ctx)
    others = [c for c in found if c.customer != CUSTOMER and c.new]
    return max(others, key=lambda c: c.new).customer


def items_per_uuid(server) -> Counter[str]:
    dump = server.dump()
    assert_no_duplicates(dump)
    return Counter(texts(i)["text_record_uuid"] for i in dump["items"] if i["state"] == "active")


def kinds(ctx, customer: str) -> dict[str, ChangeType]:
    return {c.record_uuid: c.change_type for c in detection.preview(ctx, customer).changes}


def move_to(ctx, uid: str, customer: str) -> None:
    info = ctx.store.source()
    with ctx.store.engine.begin() as conn:
        conn.execute(
            info.table.update()
            .where(info.table.c.record_uuid == uid)
            .values({CUSTOMER_NAME: customer})
        )


def test_an_order_moved_to_another_customer_is_pushed_once_by_the_batch_that_holds_it(ctx, sandbox):
    setup = quick_setup(ctx, sandbox)
    other = other_customer(ctx)
    first = staging.stage(ctx, other)
    moved = staged(ctx, first.batch_id)[0]
    move_to(ctx, moved.record_uuid, CUSTOMER)

    second = staging.stage(ctx, CUSTOMER)
    assert moved.record_uuid not in {r.record_uuid for r in staged(ctx, second.batch_id)}
    assert [(h.record_uuid, h.batch_id) for h in second.held] == [
        (moved.record_uuid, first.batch_id)
    ]
    push(ctx, first.batch_id, setup)
    push(ctx, second.batch_id, setup)
    on_board = items_per_uuid(sandbox)
    assert on_board[moved.record_uuid] == 1
    # The board has the order as its old customer's batch pushed it: detection says it
    # changed (its customer), under its new customer, and not deleted under the old one.
    assert kinds(ctx, CUSTOMER) == {moved.record_uuid: ChangeType.CHANGED}
    assert moved.record_uuid not in kinds(ctx, other)

    third = staging.stage(ctx, CUSTOMER)
    assert push(ctx, third.batch_id, setup).status == BatchStatus.PUSHED
    assert items_per_uuid(sandbox)[moved.record_uuid] == 1
    assert kinds(ctx, CUSTOMER) == {}

    # Undoing the old customer's batch leaves the moved order as the later batch made it.
    result = roll_back(ctx, first.batch_id, lambda: setup)
    assert result.batch.status == BatchStatus.UNDONE
    assert any("pushed since by batch" in n for n in result.undo.not_undoable)
    assert items_per_uuid(sandbox)[moved.record_uuid] == 1
    assert kinds(ctx, CUSTOMER) == {}
    assert set(kinds(ctx, other).values()) == {ChangeType.NEW}  # the rest, undone
    assert moved.record_uuid not in kinds(ctx, other)


def test_a_customer_folded_into_another_by_the_map_is_pushed_once(ctx, db, sandbox, isolated_home):
    other = other_customer(ctx)
    first = staging.stage(ctx, other)
    held = {r.record_uuid for r in staged(ctx, first.batch_id)}

    customer_map = json.loads(resource_path("customer_map.json").read_text("utf-8"))
    aliases = customer_map["aliases"]
    aliases.update({k: CUSTOMER for k, v in aliases.items() if v == other}, **{other: CUSTOMER})
    (isolated_home / "config").mkdir(parents=True, exist_ok=True)
    (isolated_home / "config" / "customer_map.json").write_text(json.dumps(customer_map))
    folded = open_context(db)
    try:
        second = staging.stage(folded, CUSTOMER)
        assert {h.record_uuid for h in second.held} == held
        assert not held & {r.record_uuid for r in staged(folded, second.batch_id)}
        push(folded, first.batch_id, quick_setup(folded, sandbox))
        push(folded, second.batch_id, quick_setup(folded, sandbox))
        on_board = items_per_uuid(sandbox)
        assert all(on_board[u] == 1 for u in held)
        assert sum(on_board.values()) == len(on_board)
        # Folded, the old customer's orders are GREYSON's now: changed (their customer),
        # never new (a second item).
        after = kinds(folded, CUSTOMER)
        assert {after[u] for u in held} == {ChangeType.CHANGED}
        assert ChangeType.NEW not in after.values()
    finally:
        folded.close()
