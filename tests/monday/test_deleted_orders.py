"""Deleted orders on the board, against the sandbox over loopback: an order that comes back
after its delete was pushed, an item someone deleted by hand, and an undo run twice.

What is checked is what an operator sees: the items on the board, the counts detection
shows, the batch's status, and a sync state that names live items.
"""

from __future__ import annotations

import json

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

from orders_sync_gui.core.models import BatchStatus, ChangeType
from orders_sync_gui.monday.sandbox import SandboxServer
from orders_sync_gui.resources import resource_path
from orders_sync_gui.services import detection, staging
from orders_sync_gui.services import undo as undo_service
from orders_sync_gui.services.context import open_context
from orders_sync_gui.services.estimate import estimate
from orders_sync_gui.services.push import push
from orders_sync_gui.services.staging import NothingToStageError
from orders_sync_gui.store.schema import sync_state
from orders_sync_gui.store.staging import get_batch

LABEL = "Cancelled in source"


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


def state_row(ctx, uid: str) -> dict | None:
    """The order's MON_SyncState row, every column, as the database has it."""
    with ctx.store.engine.connect() as conn:
        row = conn.execute(select(sync_state).where(sync_state.c.record_uuid == uid)).first()
    return None if row is None else dict(row._mapping)


def source_row(ctx, uid: str) -> dict:
    info = ctx.store.source()
    with ctx.store.engine.connect() as conn:
        row = conn.execute(info.table.select().where(info.table.c.record_uuid == uid)).one()
    return dict(row._mapping)


def delete_source(ctx, uid: str) -> dict:
    """The order leaves ORDERS_UNIFIED (a cancelled order); returns the row as it was."""
    row = source_row(ctx, uid)
    info = ctx.store.source()
    with ctx.store.engine.begin() as conn:
        conn.execute(info.table.delete().where(info.table.c.record_uuid == uid))
    return row


def insert_source(ctx, row: dict) -> None:
    """The same order line (same record_uuid) is loaded into ORDERS_UNIFIED again."""
    info = ctx.store.source()
    with ctx.store.engine.begin() as conn:
        conn.execute(info.table.insert(), [row])


def batch_status(ctx, batch_id: int) -> str:
    with ctx.store.engine.connect() as conn:
        return get_batch(conn, batch_id).status


def stage_only(ctx, uid: str, kind: ChangeType) -> int:
    """Stage one order's change: the operator excludes every other row of the change set."""
    found = detection.preview(ctx, CUSTOMER)
    kinds = {c.record_uuid: c.change_type for c in found.changes}
    assert kinds[uid] is kind
    others = {u for u, k in kinds.items() if k is kind and u != uid}
    return staging.stage(ctx, CUSTOMER, types=(kind,), exclude=others).batch_id


@pytest.fixture(params=["status", "archive"])
def action(request, isolated_home) -> str:
    """The mapping's deleted_action: a status label (the shipped mapping) or archive."""
    if request.param == "archive":
        mapping = json.loads(resource_path("board_mapping.json").read_text("utf-8"))
        mapping["deleted_action"] = {"kind": "archive"}
        (isolated_home / "config").mkdir(parents=True)
        (isolated_home / "config" / "board_mapping.json").write_text(json.dumps(mapping))
    return request.param


@pytest.fixture
def board(action, make_sandbox) -> SandboxServer:
    mapping = json.loads(resource_path("board_mapping.json").read_text("utf-8"))
    if action == "archive":
        mapping["deleted_action"] = {"kind": "archive"}
    return make_sandbox(mapping=mapping)


@pytest.fixture
def octx(action, db):  # `action` first: the mapping file is written before the context
    context = open_context(db)
    yield context
    context.close()


# ---------------------------------------------------------------------- an order comes back
def test_an_order_that_comes_back_after_its_delete_gets_no_second_item(action, octx, board):
    ctx, setup = octx, quick_setup(octx, board)
    first = stage(ctx, limit=10)
    push(ctx, first, setup)
    target = staged(ctx, first)[4]
    uid, old_sizes = target.record_uuid, {s: int(q) for s, q in target.values["sizes"].items()}
    assert len(old_sizes) >= 3, "the seeded order should have three sizes or more"
    [old_item] = [i["id"] for i in active(items_of(board, uid))]

    # 1. The order is cancelled in the source; its delete is pushed.
    row = delete_source(ctx, uid)
    deleted = stage_only(ctx, uid, ChangeType.DELETED)
    assert push(ctx, deleted, setup).status == "PUSHED"
    before = counts(ctx)
    assert (before["deleted"], before["unchanged"]) == (0, 9)  # not news, not synced
    tomb = state_row(ctx, uid)
    assert tomb is not None and tomb["deleted_at"] is not None
    assert (tomb["deleted_action"], tomb["monday_item_id"]) == (action, old_item)
    assert tomb["last_batch_id"] == deleted

    # 2. It is loaded again, a little different: colour, one size more, one size less,
    #    one quantity up. The operator sees it as NEW.
    dropped, bumped = sorted(old_sizes)[:2]
    added = "ONE SIZE" if "ONE SIZE" not in old_sizes else "XXXL"
    insert_source(
        ctx,
        {
            **row,
            "CUSTOMER COLOUR DESCRIPTION": "NEON PINK",
            dropped: None,
            bumped: old_sizes[bumped] + 6,
            added: 24,
        },
    )
    new_sizes = {**old_sizes, bumped: old_sizes[bumped] + 6, added: 24}
    del new_sizes[dropped]
    assert counts(ctx) == {**before, "new": before["new"] + 1}
    back = stage_only(ctx, uid, ChangeType.NEW)
    guess = estimate(ctx, back, setup.limits)
    report = push(ctx, back, setup)
    assert (report.status, report.succeeded, report.failed) == ("PUSHED", 1, 0)
    assert set(subitem_statuses(ctx, back)) == {"PUSHED"}
    # One item mutation (a change of the kept item, or a create); every size of the order
    # written (kept, created; the dropped one deleted where the item is kept).
    assert guess.mutations == report.mutations == 1 + len(new_sizes) + (action == "status")

    dump = board.dump()
    assert_no_duplicates(dump)
    [item] = active(items_of(board, uid))
    values = texts(item)
    if action == "status":  # the labelled item is taken up again
        assert item["id"] == old_item
        assert values["status_sync"] is None
    else:  # an archived item cannot be unarchived through the API: a new one, the old stays
        assert item["id"] != old_item
        assert {i["id"]: i["state"] for i in items_of(board, uid)} == {
            old_item: "archived",
            item["id"]: "active",
        }
    assert values["text_colour"] == "NEON PINK" and item["name"].endswith(" · NEON PINK")
    assert values["numeric_order_qty"] == str(sum(new_sizes.values()))
    subs = {s["name"]: texts(s)["numeric_order_qty"] for s in active(item["subitems"])}
    assert subs == {s: str(q) for s, q in new_sizes.items()}
    assert assert_state_matches_board(ctx, dump, CUSTOMER) == 10
    assert state_row(ctx, uid)["deleted_at"] is None
    assert counts(ctx) == {**before, "unchanged": 10}

    # 3. Undo the batch that brought it back: the board as it was, the tombstone as it was.
    done = undo_service.undo(ctx, back, setup)
    assert (done.status, done.undone, done.failed) == ("UNDONE", 1, 0)
    assert batch_status(ctx, back) == BatchStatus.UNDONE
    restored = state_row(ctx, uid)
    if action == "status":
        [item] = active(items_of(board, uid))
        assert item["id"] == old_item and texts(item)["status_sync"] == LABEL
        assert texts(item)["text_colour"] == row["CUSTOMER COLOUR DESCRIPTION"]
        subs = {s["name"]: s for s in active(item["subitems"])}
        assert {n: texts(s)["numeric_order_qty"] for n, s in subs.items()} == {
            s: str(q) for s, q in old_sizes.items()
        }
        # The size the batch deleted comes back as a new subitem: its new id is recorded.
        ids, old_ids = (
            json.loads(restored.pop("monday_subitem_ids")),
            json.loads(tomb.pop("monday_subitem_ids")),
        )
        assert ids == {**old_ids, dropped: subs[dropped]["id"]}
    else:
        assert active(items_of(board, uid)) == []
        assert {i["id"]: i["state"] for i in items_of(board, uid)}[old_item] == "archived"
    assert restored == tomb
    assert counts(ctx) == {**before, "new": before["new"] + 1}
    assert_no_duplicates(board.dump())


# ---------------------------------------------------------------------- deleted by hand
def test_an_item_deleted_by_hand_does_not_fail_its_orders_delete(action, octx, board):
    ctx, setup = octx, quick_setup(octx, board)
    first = stage(ctx, limit=5)
    push(ctx, first, setup)
    uid = staged(ctx, first)[2].record_uuid
    [item_id] = [i["id"] for i in active(items_of(board, uid))]
    delete_on_board(board, item_id)  # a planner's click, before the order left the source
    row = delete_source(ctx, uid)

    deleted = stage_only(ctx, uid, ChangeType.DELETED)
    report = push(ctx, deleted, setup)
    assert (report.status, report.succeeded, report.failed) == ("PUSHED", 1, 0)
    assert row_statuses(ctx, deleted) == {"PUSHED": 1}
    assert batch_status(ctx, deleted) == BatchStatus.PUSHED
    tomb = state_row(ctx, uid)
    assert (tomb["deleted_action"], tomb["monday_item_id"]) == ("gone", item_id)
    assert counts(ctx)["deleted"] == 0
    with pytest.raises(NothingToStageError):
        stage(ctx, types=(ChangeType.DELETED,))
    assert assert_state_matches_board(ctx, board.dump(), CUSTOMER) == 4

    # If the order comes back, it gets a new item (the old one no longer exists).
    insert_source(ctx, row)
    back = stage_only(ctx, uid, ChangeType.NEW)
    assert push(ctx, back, setup).status == "PUSHED"
    [item] = active(items_of(board, uid))
    assert item["id"] != item_id
    assert_no_duplicates(board.dump())
    assert assert_state_matches_board(ctx, board.dump(), CUSTOMER) == 5


@pytest.mark.parametrize("action", ["status"], indirect=True)
@pytest.mark.parametrize("how", ["deleted", "archived", "deleted-during-the-push"])
def test_a_labelled_item_taken_off_the_board_by_hand_before_its_order_came_back(
    action, octx, board, how
):
    """The returning order's labelled item is no longer on the board (deleted or archived
    by hand; or deleted while the push runs, so that monday refuses the change): the same
    push creates a new item, and an undo writes back a tombstone that says so."""
    ctx, setup = octx, quick_setup(octx, board)
    first = stage(ctx, limit=5)
    push(ctx, first, setup)
    uid = staged(ctx, first)[1].record_uuid
    row = delete_source(ctx, uid)
    push(ctx, stage_only(ctx, uid, ChangeType.DELETED), setup)
    [item_id] = [i["id"] for i in active(items_of(board, uid))]
    hand: list[str] = []

    def by_hand() -> bool:  # a planner's click, between the push's lookup and its change
        if how == "deleted-during-the-push" and not hand:
            hand.append(item_id)
            delete_on_board(board, item_id)
        return False

    if how == "deleted":
        delete_on_board(board, item_id)
    elif how == "archived":
        graphql(board, f"mutation {{ archive_item(item_id: {item_id}) {{ id }} }}")

    insert_source(ctx, row)
    back = stage_only(ctx, uid, ChangeType.NEW)
    report = push(ctx, back, setup, should_cancel=by_hand)
    assert (report.status, report.succeeded, report.failed) == ("PUSHED", 1, 0)
    [staged_back] = staged(ctx, back)
    assert staged_back.previous.deleted_action == "gone"  # what an undo writes back
    # A new item and its subitems; before them, the change monday refused (item deleted).
    refused = 1 if how == "deleted-during-the-push" else 0
    assert report.mutations == refused + 1 + len(staged_back.values["sizes"])
    states = {i["id"]: i["state"] for i in items_of(board, uid)}
    assert states.pop(item_id) == ("archived" if how == "archived" else "deleted")
    assert set(subitem_statuses(ctx, back)) == {"PUSHED"}
    [item] = active(items_of(board, uid))
    assert item["id"] != item_id
    assert_no_duplicates(board.dump())
    assert assert_state_matches_board(ctx, board.dump(), CUSTOMER) == 5
    assert counts(ctx)["unchanged"] == 5

    done = undo_service.undo(ctx, back, setup)
    assert done.status == "UNDONE"
    assert active(items_of(board, uid)) == []
    tomb = state_row(ctx, uid)
    assert (tomb["deleted_action"], tomb["monday_item_id"]) == ("gone", item_id)
    assert counts(ctx)["new"] >= 1 and counts(ctx)["deleted"] == 0


# ---------------------------------------------------------------------- undo, twice
def test_a_second_undo_after_a_refusal_really_sends_its_request_again(ctx, make_sandbox):
    """The first undo's re-creation of a deleted size is refused (the subitems board is
    full); once there is room, a second undo must run it, not get monday's cached refusal
    (same Idempotency-Key within 30 minutes) and fail again."""
    cap = 60
    server = make_sandbox(max_items_per_board=cap)
    setup = quick_setup(ctx, server)
    first = stage(ctx, limit=5)
    push(ctx, first, setup)
    row = staged(ctx, first)[2]
    uid, sizes = row.record_uuid, {s: int(q) for s, q in row.values["sizes"].items()}
    dropped = sorted(sizes)[0]
    info = ctx.store.source()
    with ctx.store.engine.begin() as conn:
        conn.execute(
            info.table.update().where(info.table.c.record_uuid == uid).values({dropped: None})
        )
    second = stage(ctx, types=(ChangeType.CHANGED,))
    assert push(ctx, second, setup).status == "PUSHED"

    # Someone fills the subitems board to monday's cap (here: `cap`) by hand.
    other = next(i for i in active(server.dump()["items"]) if texts(i)["text_record_uuid"] != uid)
    room = cap - server.stats()["subitems"]
    assert room > 0
    fill = " ".join(
        f'f{n}: create_subitem(parent_item_id: {other["id"]}, item_name: "spare {n}") {{ id }}'
        for n in range(room)
    )
    spares = graphql(server, f"mutation {{ {fill} }}")

    refused = undo_service.undo(ctx, second, setup)
    assert (refused.status, refused.failed) == ("PARTIAL", 1)
    assert "still to revert" in refused.message
    [item] = active(items_of(server, uid))
    assert dropped not in {s["name"] for s in active(item["subitems"])}

    delete_on_board(server, spares["f0"]["id"])  # room for one again
    stats = server.stats()
    done = undo_service.undo(ctx, second, setup)
    assert (done.status, done.failed) == ("UNDONE", 0)
    after = server.stats()
    assert after["idempotent_replays"] == stats["idempotent_replays"], "a cached answer"
    assert after["mutations"] > stats["mutations"]
    [item] = active(items_of(server, uid))
    subs = {s["name"]: texts(s)["numeric_order_qty"] for s in active(item["subitems"])}
    assert subs == {s: str(q) for s, q in sizes.items()}
    assert assert_state_matches_board(ctx, server.dump(), CUSTOMER) == 5
    assert counts(ctx)["changed"] == 1  # the size is gone from the source: news again
