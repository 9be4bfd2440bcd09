"""Test helpers that stand in for what the monday.com push will do (promote to sync state)."""

from __future__ import annotations

from datetime import datetime

from orders_sync_gui.core.staged import StateRow
from orders_sync_gui.services import detection
from orders_sync_gui.services.context import Context
from orders_sync_gui.store.syncstate import save_state


def mark_synced(ctx: Context, customers: list[str] | None = None) -> int:
    """Record the source as it is now as pushed: the baseline the next detection compares to."""
    rows: list[StateRow] = []
    for customer in customers or detection.list_customers(ctx):
        found = detection.preview(ctx, customer)
        rows += [
            StateRow(record=c.new, monday_item_id=str(1000 + i))
            for i, c in enumerate(found.changes)
            if c.new is not None
        ]
    with ctx.store.engine.begin() as conn:
        return save_state(conn, rows, now=datetime(2026, 11, 1, 9, 0))
