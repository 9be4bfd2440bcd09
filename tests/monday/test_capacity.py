"""Board capacity: a push that cannot fit on the board is refused before its first
mutation, with one message that says what it needs, what fits and what to do."""

from __future__ import annotations

from pushkit import CUSTOMER, TOKEN, row_statuses

from orders_sync_gui.cli import main
from orders_sync_gui.core.models import BatchStatus
from orders_sync_gui.services import staging
from orders_sync_gui.services.estimate import estimate
from orders_sync_gui.store.staging import get_batch


def test_a_push_the_board_cannot_hold_is_refused_before_any_mutation(
    ctx, make_sandbox, monkeypatch, capsys
):
    server = make_sandbox(max_items_per_board=12)
    monkeypatch.setenv("ORDERS_SYNC_MONDAY_URL", server.url)
    monkeypatch.setenv("MONDAY_API_TOKEN", TOKEN)
    monkeypatch.setenv("ORDERS_SYNC_BOARD_ID", server.board_id)
    batch = staging.stage(ctx, CUSTOMER)
    assert batch.new_count > 12
    est = estimate(ctx, batch.batch_id)
    assert est.new_items == batch.new_count and est.new_subitems == batch.subitem_count
    capsys.readouterr()
    assert main(["--db", str(ctx.store.url), "estimate", "--batch", str(batch.batch_id)]) == 0
    shown = capsys.readouterr().out
    assert f"adds {batch.new_count} items and {batch.subitem_count} subitems" in shown

    code = main(["--db", str(ctx.store.url), "push", "--batch", str(batch.batch_id)])
    _, err = capsys.readouterr()
    assert code == 1
    assert len(err.strip().splitlines()) == 1
    assert f"needs {batch.new_count} new items (12 free)" in err
    assert "max_items_per_board" in err and "Archive" in err
    assert server.stats()["mutations"] == 0  # nothing reached the board, not even a group
    with ctx.store.engine.connect() as conn:
        assert get_batch(conn, batch.batch_id).status == BatchStatus.STAGED
    assert set(row_statuses(ctx, batch.batch_id)) == {"PENDING"}


def test_a_push_that_fits_goes_through(ctx, make_sandbox, monkeypatch, capsys):
    server = make_sandbox(max_items_per_board=40)  # 10 items and their 30-odd sizes
    monkeypatch.setenv("ORDERS_SYNC_MONDAY_URL", server.url)
    monkeypatch.setenv("MONDAY_API_TOKEN", TOKEN)
    monkeypatch.setenv("ORDERS_SYNC_BOARD_ID", server.board_id)
    batch = staging.stage(ctx, CUSTOMER, limit=10)
    code = main(["--db", str(ctx.store.url), "push", "--batch", str(batch.batch_id)])
    assert code == 0, capsys.readouterr().err
