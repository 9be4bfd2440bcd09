"""Two creates that monday's Idempotency-Key alone used to keep from being made twice,
found by the reliability suite's no-replay mode (issue 11). Each runs against a sandbox
that replays a resent key and against one that ignores the header: the board is looked at
first, so neither makes a second copy.

1. The client resends a request whose connection dropped after monday ran it: the run
   looks at the board first and takes up what the lost request made (BatchRun.send).
2. An undo re-creates the sizes its batch deleted; stopped once such a request ran but its
   answer was lost, the next undo finds the size back already and takes it up.
"""

from __future__ import annotations

from collections.abc import Callable

import pytest
from pushkit import CUSTOMER, assert_no_duplicates, board_view, quick_setup, staged
from sqlalchemy import update

from orders_sync_gui.core.models import BatchStatus, ChangeType
from orders_sync_gui.monday.sandbox import FaultConfig, SandboxServer
from orders_sync_gui.monday.sandbox.app import Response
from orders_sync_gui.services import staging
from orders_sync_gui.services.push import push
from orders_sync_gui.services.undo import UndoStopped, undo

MODES = [
    pytest.param({}, id="replay"),
    pytest.param({"idempotency_enabled": False}, id="no-replay"),
]


@pytest.mark.parametrize("sandbox_config", MODES)
def test_a_create_whose_answer_was_lost_is_not_made_again_by_the_retry(
    ctx, make_sandbox: Callable[..., SandboxServer], sandbox_config
):
    server = make_sandbox(**sandbox_config)
    # Every second mutation request runs, then its connection drops: the client retries.
    server.set_faults(FaultConfig(every_n=2, kinds=("drop_after_execute",), mutations_only=True))
    batch = staging.stage(ctx, CUSTOMER, limit=6).batch_id
    report = push(ctx, batch, quick_setup(ctx, server))
    assert report.status == BatchStatus.PUSHED
    assert server.stats()["faults"].get("drop_after_execute", 0) > 0
    assert_no_duplicates(server.dump())


class DropFirstSizeCreate:
    """Runs the first create_subitem request, then drops its connection (answer lost)."""

    def __init__(self, server: SandboxServer) -> None:
        self.app = server.app
        self.original = self.app.handle_graphql
        self.dropped = False
        self.app.handle_graphql = self

    def __call__(self, headers, body, ip):  # type: ignore[no-untyped-def]
        response = self.original(headers, body, ip)
        if not self.dropped and b"create_subitem(" in body:
            self.dropped = True
            return Response(0, drop=True)
        return response

    def remove(self) -> None:
        self.app.handle_graphql = self.original


@pytest.mark.parametrize("sandbox_config", MODES)
def test_an_undo_stopped_after_recreating_a_size_does_not_recreate_it_again(
    ctx, make_sandbox: Callable[..., SandboxServer], sandbox_config
):
    server = make_sandbox(**sandbox_config)
    setup = quick_setup(ctx, server)
    first = staging.stage(ctx, CUSTOMER, limit=4).batch_id
    assert push(ctx, first, setup).status == BatchStatus.PUSHED
    baseline = board_view(server.dump())
    table = ctx.store.source().table
    with ctx.store.engine.begin() as conn:  # every order loses one of its sizes
        for row in staged(ctx, first):
            sizes = sorted(row.values["sizes"])
            if len(sizes) >= 2:
                conn.execute(
                    update(table)
                    .where(table.c.record_uuid == row.record_uuid)
                    .values({sizes[0]: None})
                )
    second = staging.stage(ctx, CUSTOMER, types=(ChangeType.CHANGED,)).batch_id
    assert push(ctx, second, setup).status == BatchStatus.PUSHED
    # The undo's first re-creation runs on monday, its answer is lost, and the client
    # gives up at once (one attempt: no retry within the run, gap 1 kept out of it).
    drop = DropFirstSizeCreate(server)
    try:
        with pytest.raises(UndoStopped):
            undo(ctx, second, quick_setup(ctx, server, max_attempts=1))
    finally:
        drop.remove()
    assert drop.dropped
    assert undo(ctx, second, setup).status == BatchStatus.UNDONE
    assert_no_duplicates(server.dump())
    assert board_view(server.dump()) == baseline
