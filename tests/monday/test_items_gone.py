"""A changed order whose item (or a changed size whose subitem) someone deleted by hand on
the board, against the sandbox over loopback: the push creates it anew instead of failing
on every push, an undo deletes what it created, and a stopped push creates nothing twice.

What is checked is what an operator sees: the items on the board, the counts detection
shows, the batch's status, and a sync state that names live items.
"""

from __future__ import annotations

import logging

import pytest
import requests
from pushkit import (
    CUSTOMER,
    TOKEN,
    active,
    assert_no_duplicates,
    assert_state_matches_board,
    counts,
    quick_setup,
    row_statuses,
    stage,
    staged,
    subitem_statuses,
    texts,
)
from sqlalchemy import select

from orders_sync_gui.core.models import ChangeType
from orders_sync_gui.monday.sandbox import SandboxServer
from orders_sync_gui.monday.sandbox.config import FaultConfig
from orders_sync_gui.services import undo as undo_service
from orders_sync_gui.services.push import PushStopped, push
from orders_sync_gui.store.schema import sync_state


# ---------------------------------------------------------------------- helpers
def graphql(server: SandboxServer, query: str) -> dict:
    """A request as a planner's browser (or any other client) would send it."""
    answer = requests.post(
        server.url, json={"query": query}, headers={"Authorization": TOKEN}, timeout=10
    )
    assert answer.status_code == 200 and "errors" not in answer.json(), answer.text
    return answer.json()["data"]


def delete_on_board(server: SandboxServer, item_id: str) -> None:
    graphql(server, f"mutation {{ delete_item(item_id: {item_id}) {{ id }} }}")


def items_of(server: SandboxServer, uid: str) -> list[dict]:
    """Every item (active, archived or deleted) holding the order's record_uuid."""
    return [i for i in server.dump()["items"] if texts(i).get("text_record_uuid") == uid]


def state_row(ctx, uid: str) -> dict:
    with ctx.store.engine.connect() as conn:
        row = conn.execute(select(sync_state).where(sync_state.c.record_uuid == uid)).one()
    return dict(row._mapping)


def change_source(ctx, uid: str, values: dict) -> None:
    info = ctx.store.source()
    with ctx.store.engine.begin() as conn:
        conn.execute(info.table.update().where(info.table.c.record_uuid == uid).values(values))


def pushed_order(ctx, server):
    """Five orders pushed; one of them (with three sizes or more), its item and sizes."""
    setup = quick_setup(ctx, server)
    first = stage(ctx, limit=5)
    assert push(ctx, first, setup).status == "PUSHED"
    row = next(r for r in staged(ctx, first) if len(r.values["sizes"]) >= 3)
    sizes = {s: int(q) for s, q in row.values["sizes"].items()}
    [item] = active(items_of(server, row.record_uuid))
    return setup, row.record_uuid, item, sizes


def item_gone_and_order_changed(ctx, server):
    """The order's item is deleted by hand; then its colour and one size change in the
    source. Returns what the test needs, and the CHANGED batch staged."""
    setup, uid, item, sizes = pushed_order(ctx, server)
    delete_on_board(server, item["id"])
    bumped = sorted(sizes)[0]
    change_source(ctx, uid, {"CUSTOMER COLOUR DESCRIPTION": "NEON PINK", bumped: sizes[bumped] + 5})
    sizes[bumped] += 5
    before = counts(ctx)
    assert before["changed"] == 1
    batch = stage(ctx, types=(ChangeType.CHANGED,))
    return setup, uid, item["id"], sizes, before, batch


def assert_recreated(ctx, server, uid: str, old_id: str, sizes: dict[str, int]) -> dict:
    dump = server.dump()
    assert_no_duplicates(dump)
    [item] = active(items_of(server, uid))
    assert item["id"] != old_id
    values = texts(item)
    assert values["text_colour"] == "NEON PINK" and item["name"].endswith(" · NEON PINK")
    assert values["numeric_order_qty"] == str(sum(sizes.values()))
    subs = {s["name"]: texts(s)["numeric_order_qty"] for s in active(item["subitems"])}
    assert subs == {s: str(q) for s, q in sizes.items()}
    assert state_row(ctx, uid)["monday_item_id"] == item["id"]
    assert assert_state_matches_board(ctx, dump, CUSTOMER) == 5
    found = counts(ctx)
    assert (found["changed"], found["deleted"], found["unchanged"]) == (0, 0, 5)
    return item


# ---------------------------------------------------------------------- the item is gone
def test_a_changed_order_whose_item_was_deleted_by_hand_gets_a_new_item(ctx, make_sandbox, caplog):
    server = make_sandbox()
    setup, uid, old_id, sizes, before, batch = item_gone_and_order_changed(ctx, server)

    with caplog.at_level(logging.WARNING, logger="orders_sync_gui.services.push"):
        report = push(ctx, batch, setup)
    assert (report.status, report.succeeded, report.failed) == ("PUSHED", 1, 0)
    assert row_statuses(ctx, batch) == {"PUSHED": 1}
    assert set(subitem_statuses(ctx, batch)) == {"PUSHED"}
    # The push's pre-flight read found the item gone: no change sent in vain, the new item
    # and one subitem per size.
    assert report.mutations == 1 + len(sizes)
    item = assert_recreated(ctx, server, uid, old_id, sizes)
    warned = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any(old_id in m and item["id"] in m for m in warned), warned

    # Pushed again: nothing left to do, and no second item.
    assert push(ctx, batch, setup).status == "PUSHED"
    assert_no_duplicates(server.dump())

    # 3. Undo: the re-created item is deleted; the sync state and the counts as before.
    done = undo_service.undo(ctx, batch, setup)
    assert (done.status, done.failed) == ("UNDONE", 0)
    assert active(items_of(server, uid)) == []
    restored = state_row(ctx, uid)
    assert restored["monday_item_id"] == old_id  # what the database had: the gone item
    assert restored["deleted_at"] is None and restored["deleted_action"] is None
    assert counts(ctx) == before

    # Staged and pushed again, the order gets its item once more.
    again = stage(ctx, types=(ChangeType.CHANGED,))
    assert push(ctx, again, setup).status == "PUSHED"
    assert_recreated(ctx, server, uid, old_id, sizes)


def test_a_changed_size_whose_subitem_was_deleted_by_hand_gets_a_new_subitem(ctx, make_sandbox):
    """One size's quantity changes, another size leaves the order; both their subitems
    had been deleted by hand. The first is created anew, the second counts as done."""
    server = make_sandbox()
    setup, uid, item, sizes = pushed_order(ctx, server)
    size, dropped = sorted(sizes)[1], sorted(sizes)[2]
    old = {s["name"]: s["id"] for s in active(item["subitems"])}
    old_sub = old[size]
    delete_on_board(server, old_sub)
    delete_on_board(server, old[dropped])
    change_source(ctx, uid, {size: sizes[size] + 7, dropped: None})
    sizes[size] += 7
    del sizes[dropped]
    before = counts(ctx)
    batch = stage(ctx, types=(ChangeType.CHANGED,))

    report = push(ctx, batch, setup)
    assert (report.status, report.succeeded, report.failed) == ("PUSHED", 1, 0)
    assert set(subitem_statuses(ctx, batch)) == {"PUSHED"}
    dump = server.dump()
    assert_no_duplicates(dump)
    [now] = active(items_of(server, uid))
    assert now["id"] == item["id"]  # the item itself was there: changed, not re-created
    subs = {s["name"]: s for s in active(now["subitems"])}
    assert {n: texts(s)["numeric_order_qty"] for n, s in subs.items()} == {
        s: str(q) for s, q in sizes.items()
    }
    assert subs[size]["id"] != old_sub
    assert state_row(ctx, uid)["monday_item_id"] == item["id"]
    assert assert_state_matches_board(ctx, dump, CUSTOMER) == 5
    assert counts(ctx)["unchanged"] == 5 and counts(ctx)["changed"] == 0

    # Undo deletes the re-created subitem and writes back the state the database had.
    done = undo_service.undo(ctx, batch, setup)
    assert (done.status, done.failed) == ("UNDONE", 0)
    [now] = active(items_of(server, uid))
    assert size not in {s["name"] for s in active(now["subitems"])}
    assert counts(ctx) == before


# ---------------------------------------------------------------------- no duplicate on resume
@pytest.mark.parametrize("stopped", [False, True], ids=["retried", "stopped-and-resumed"])
def test_a_lost_answer_to_the_new_items_create_makes_no_second_item(ctx, make_sandbox, stopped):
    """monday runs the create of the new item, and its answer is lost (the connection
    drops after it ran). Before the client retries it, or when the push stopped (one
    attempt only) and was started again, the order is looked up on the board before it is
    created again: the item found is taken up, one item either way."""
    server = make_sandbox()
    setup, uid, old_id, sizes, _, batch = item_gone_and_order_changed(ctx, server)
    if stopped:
        setup = quick_setup(ctx, server, max_attempts=1)
    # The push's pre-flight finds the item gone: its first mutation is the create.
    server.set_faults(
        FaultConfig(every_n=1, max_hits=1, mutations_only=True, kinds=("drop_after_execute",))
    )
    if stopped:
        with pytest.raises(PushStopped):
            push(ctx, batch, setup)
        assert row_statuses(ctx, batch) == {"SENDING": 1}
        assert len(active(items_of(server, uid))) == 1  # created; its answer lost
        server.set_faults(FaultConfig())
        setup = quick_setup(ctx, server)
    replays = server.stats()["idempotent_replays"]
    report = push(ctx, batch, setup)
    server.set_faults(FaultConfig())
    assert (report.status, report.failed) == ("PUSHED", 0)
    # Found on the board and taken up (before the retry, or by the resume), not sent again.
    assert report.adopted == 1
    assert server.stats()["idempotent_replays"] == replays
    assert_recreated(ctx, server, uid, old_id, sizes)
