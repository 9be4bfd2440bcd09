"""The soak (`make soak`, not in CI): one customer's 10,000 orders, about 45,000 monday.com
objects, pushed to the sandbox through 5% injected faults on a compressed clock (monday's
minute lasts a second: its budget of 10,000,000 complexity points a minute allows 20
requests of 50 mutations a second here). Every row must be accounted for; the figures
(requests, retries, wall time) end up on one JSON line.
"""

from __future__ import annotations

import json
import time

import pytest
from relkit import CUSTOMER, audit, injected
from sqlalchemy import text

from orders_sync_gui.core.models import BatchStatus
from orders_sync_gui.monday.sandbox import FaultConfig
from orders_sync_gui.services import staging
from orders_sync_gui.services.context import open_context
from orders_sync_gui.services.monday_setup import Limits
from orders_sync_gui.services.push import PushStopped, push
from tests.monday.pushkit import make_demo_db, quick_setup, row_statuses, subitem_statuses

ORDERS = 10_000
KINDS = ("error_500", "drop_before_execute", "drop_after_execute", "delay", "locked_423")


@pytest.mark.soak
def test_a_push_of_10000_orders_through_5_percent_faults_accounts_for_every_row(
    tmp_path, make_sandbox
):
    started = time.monotonic()
    url = make_demo_db(f"sqlite:///{tmp_path / 'soak.db'}", orders=ORDERS, seed=4755)
    ctx = open_context(url)
    try:
        with ctx.store.engine.begin() as conn:  # one customer holds every order
            conn.execute(text('UPDATE "ORDERS_UNIFIED" SET "CUSTOMER NAME" = :c'), {"c": CUSTOMER})
        server = make_sandbox(
            max_items_per_board=100_000,  # monday's cap is 10,000 items (subitems count too)
            faults=FaultConfig(rate=0.05, seed=4755, kinds=KINDS, delay_seconds=1.0),
        )
        setup = quick_setup(
            ctx,
            server,
            limits=Limits(window_seconds=1, max_mutations_per_request=50),
            timeout_seconds=0.8,  # a "delay" fault answers after 1 s: past the timeout
            max_attempts=8,
            max_wait_seconds=60,
        )
        staged_at = time.monotonic()
        batch = staging.stage(ctx, CUSTOMER)
        stage_seconds = time.monotonic() - staged_at
        assert batch.item_count == ORDERS
        pushed_at = time.monotonic()
        reports, stops = [], []
        for _ in range(20):
            try:
                reports.append(push(ctx, batch.batch_id, setup))
            except PushStopped as stopped:
                stops.append(str(stopped))
                reports.append(stopped.report)
                continue
            if reports[-1].status == BatchStatus.PUSHED:
                break
        push_seconds = time.monotonic() - pushed_at
        assert reports[-1].status == BatchStatus.PUSHED, stops[-3:]
        assert row_statuses(ctx, batch.batch_id) == {"PUSHED": ORDERS}
        assert set(subitem_statuses(ctx, batch.batch_id)) == {"PUSHED"}

        stats = server.stats()
        result = audit(ctx, server.dump())
        result.record()
        result.assert_clean("after the soak")
        assert result.synced == ORDERS
        assert stats["items"] == ORDERS and stats["subitems"] == batch.subitem_count
        figures = {
            "orders": ORDERS,
            "monday_objects": ORDERS + batch.subitem_count,
            "requests": sum(r.requests for r in reports),
            "mutations": stats["mutations"],
            "retries": sum(r.retries for r in reports),
            "replays": sum(r.replays for r in reports),
            "faults_injected": injected(server),
            "stops": len(stops),
            "duplicates": len(result.duplicates),
            "rows_lost": len(result.lost),
            "stage_seconds": round(stage_seconds, 1),
            "push_seconds": round(push_seconds, 1),
            "wall_seconds": round(time.monotonic() - started, 1),
        }
        print("\nsoak: " + json.dumps(figures))
    finally:
        ctx.close()
