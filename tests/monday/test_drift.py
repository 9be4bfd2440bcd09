"""Drift, end to end over loopback: a value edited by hand through the GraphQL API, an item
archived by hand, a subitem removed by hand; the re-push batch, its undo, and accepting the
board's value."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pushkit import CUSTOMER, TOKEN, quick_setup, stage
from sqlalchemy import update

from orders_sync_gui.cli import main
from orders_sync_gui.core.models import ChangeType
from orders_sync_gui.monday.client import ClientSettings, MondayClient
from orders_sync_gui.monday.sandbox import SandboxServer
from orders_sync_gui.services import detection, staging
from orders_sync_gui.services.drift import read_drift
from orders_sync_gui.services.drift_accept import accept_board
from orders_sync_gui.services.drift_repush import stage_repush
from orders_sync_gui.services.estimate import estimate
from orders_sync_gui.services.push import push
from orders_sync_gui.services.rollback import roll_back
from orders_sync_gui.store.syncstate import load_state

EDIT = """mutation ($board: ID!, $item: ID!, $values: JSON!) {
  change_multiple_column_values(board_id: $board, item_id: $item, column_values: $values) {
    id } }"""
ARCHIVE = """mutation ($item: ID!) { archive_item(item_id: $item) { id } }"""
DELETE = """mutation ($item: ID!) { delete_item(item_id: $item) { id } }"""
FIELD, COLUMN = "DESTINATION", "text_destination"


def by_hand(server: SandboxServer, query: str, **variables: Any) -> None:
    """What someone does on the board: one GraphQL request of their own."""
    client = MondayClient(TOKEN, ClientSettings(url=server.url))
    try:
        result = client.execute(query, variables, mutation=True)
        assert not result.field_errors, result.field_errors
    finally:
        client.close()


@pytest.fixture
def pushed(ctx, sandbox):
    setup = quick_setup(ctx, sandbox)
    batch = stage(ctx, limit=6)
    assert push(ctx, batch, setup).status == "PUSHED"
    with ctx.store.engine.connect() as conn:
        state = sorted(load_state(conn, CUSTOMER), key=lambda s: int(s.monday_item_id or 0))
    return setup, state


def item_text(server: SandboxServer, item_id: str, column: str) -> str | None:
    item = next(i for i in server.dump()["items"] if i["id"] == item_id)
    return item["column_values"][column]["text"]


def test_a_clean_board_shows_no_drift(ctx, pushed):
    setup, state = pushed
    report = read_drift(ctx, setup, CUSTOMER)
    assert report.drift.clean and report.drift.checked == len(state)
    assert report.requests >= 1


def test_a_hand_edit_is_one_changed_field_and_an_archived_item_is_gone(
    ctx, sandbox, pushed, monkeypatch, capsys
):
    _setup, state = pushed
    edited, archived = state[0], state[1]
    was = edited.record.fields[FIELD]
    by_hand(
        sandbox,
        EDIT,
        board=sandbox.board_id,
        item=edited.monday_item_id,
        values=json.dumps({COLUMN: "TYPED BY HAND"}),
    )
    by_hand(sandbox, ARCHIVE, item=archived.monday_item_id)

    monkeypatch.setenv("ORDERS_SYNC_MONDAY_URL", sandbox.url)
    monkeypatch.setenv("MONDAY_API_TOKEN", TOKEN)
    monkeypatch.setenv("ORDERS_SYNC_BOARD_ID", sandbox.board_id)
    capsys.readouterr()
    db = str(ctx.store.engine.url)
    assert main(["--db", db, "drift", "--customer", "greyson", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["customer"] == CUSTOMER and out["checked"] == len(state) - 1
    assert out["changed"] == [
        {
            "record_uuid": edited.record.record_uuid,
            "item_id": edited.monday_item_id,
            "field": FIELD,
            "board": "TYPED BY HAND",
            "pushed": was,
            "source": was,
        }
    ]
    [gone] = out["gone"]
    assert (gone["record_uuid"], gone["state"]) == (archived.record.record_uuid, "archived")
    assert out["unknown"] == [] and out["duplicates"] == [] and out["subitems"] == []

    # The text form says the same, in words.
    assert main(["--db", db, "drift", "--customer", CUSTOMER]) == 0
    text = capsys.readouterr().out
    assert f"[{FIELD}]: board TYPED BY HAND" in text and "archived" in text


def test_re_push_restores_the_values_and_recreates_the_gone_item_and_undo_gives_them_back(
    ctx, sandbox, pushed
):
    setup, state = pushed
    edited, archived, trimmed = state[0], state[1], state[2]
    was = edited.record.fields[FIELD]
    by_hand(
        sandbox,
        EDIT,
        board=sandbox.board_id,
        item=edited.monday_item_id,
        values=json.dumps({COLUMN: "TYPED BY HAND"}),
    )
    by_hand(sandbox, ARCHIVE, item=archived.monday_item_id)
    size, sub_id = next(iter(trimmed.subitem_ids.items()))
    by_hand(sandbox, DELETE, item=sub_id)
    drift = read_drift(ctx, setup, CUSTOMER).drift
    [removed] = drift.subitems
    assert (removed.size, removed.kind, removed.board) == (size, "removed", None)
    assert removed.pushed == trimmed.record.sizes[size]

    repush = stage_repush(ctx, setup, CUSTOMER, drift.orders())
    assert repush.batch.changed_count == 3 and repush.left_out == []
    # The pre-flight read of the three items is in the estimate (one read, 100 a read).
    guess = estimate(ctx, repush.batch.batch_id, setup.limits)
    assert guess.board_reads == 1 and guess.requests > guess.board_reads
    report = push(ctx, repush.batch.batch_id, setup)
    assert report.status == "PUSHED" and report.failed == 0

    assert item_text(sandbox, edited.monday_item_id, COLUMN) == was
    assert read_drift(ctx, setup, CUSTOMER).drift.clean
    with ctx.store.engine.connect() as conn:
        after = {s.record.record_uuid: s for s in load_state(conn, CUSTOMER)}
    new_item = after[archived.record.record_uuid].monday_item_id
    assert new_item != archived.monday_item_id
    items = {i["id"]: i for i in sandbox.dump()["items"]}
    assert items[archived.monday_item_id]["state"] == "archived"  # left in the archive
    assert items[new_item]["state"] == "active"
    assert len(items[new_item]["subitems"]) == len(archived.record.sizes)
    assert after[trimmed.record.record_uuid].subitem_ids[size] != sub_id

    # Undo gives the board what it held before the re-push: the hand-typed value.
    undone = roll_back(ctx, repush.batch.batch_id, lambda: setup)
    assert undone.batch.status == "UNDONE"
    assert item_text(sandbox, edited.monday_item_id, COLUMN) == "TYPED BY HAND"
    assert items[new_item]["id"] not in {
        i["id"] for i in sandbox.dump()["items"] if i["state"] == "active"
    }


def test_accepting_the_board_makes_it_the_last_pushed_value(ctx, sandbox, pushed):
    setup, state = pushed
    edited = state[0]
    by_hand(
        sandbox,
        EDIT,
        board=sandbox.board_id,
        item=edited.monday_item_id,
        values=json.dumps({COLUMN: "TYPED BY HAND"}),
    )
    accepted = accept_board(ctx, setup, CUSTOMER, [edited.record.record_uuid])
    assert (accepted.orders, accepted.gone) == (1, 0)
    assert read_drift(ctx, setup, CUSTOMER).drift.clean
    # The database still says otherwise: the order is CHANGED in both ways of detection.
    preview = detection.preview(ctx, CUSTOMER)
    [change] = [c for c in preview.changes if c.record_uuid == edited.record.record_uuid]
    assert [(d.field, d.old, d.new) for d in change.field_diffs] == [
        (FIELD, "TYPED BY HAND", edited.record.fields[FIELD])
    ]
    [counts], _ = detection.detect_counts(ctx, CUSTOMER)
    assert counts.changed == 1


def test_a_push_finds_an_item_archived_by_hand_before_changing_it(ctx, sandbox, pushed):
    """The pre-flight: a changed order whose item was archived by hand gets a new item
    (archived items accept changes out of sight); nothing is updated in vain."""
    setup, state = pushed
    target = state[0]
    by_hand(sandbox, ARCHIVE, item=target.monday_item_id)
    info = ctx.store.source()
    with ctx.store.engine.begin() as conn:
        conn.execute(
            update(info.table)
            .where(info.table.c.record_uuid == target.record.record_uuid)
            .values({FIELD: "NEW PORT"})
        )
    batch = stage(ctx, limit=50)
    report = push(ctx, batch, setup)
    assert report.status == "PUSHED"
    with ctx.store.engine.connect() as conn:
        [now] = [
            s
            for s in load_state(conn, CUSTOMER)
            if s.record.record_uuid == target.record.record_uuid
        ]
    assert now.monday_item_id != target.monday_item_id
    assert item_text(sandbox, now.monday_item_id, COLUMN) == "NEW PORT"
    archived = next(i for i in sandbox.dump()["items"] if i["id"] == target.monday_item_id)
    assert archived["state"] == "archived"
    # The archived item was not updated in vain.
    assert item_text(sandbox, target.monday_item_id, COLUMN) == target.record.fields[FIELD]


def test_the_estimate_counts_the_pre_flight_read_the_push_makes(ctx, sandbox, pushed):
    setup, state = pushed
    for row in state[:3]:
        by_hand(
            sandbox,
            EDIT,
            board=sandbox.board_id,
            item=row.monday_item_id,
            values=json.dumps({COLUMN: "TYPED BY HAND"}),
        )
    drift = read_drift(ctx, setup, CUSTOMER).drift
    batch = stage_repush(ctx, setup, CUSTOMER, drift.orders()).batch.batch_id
    guess = estimate(ctx, batch, setup.limits)
    before = sandbox.stats()["requests"]
    report = push(ctx, batch, setup)
    # One read of the three items (the pre-flight), one request with the three changes: the
    # estimate holds both (and its fixed reads of the board, which a kept board spares).
    assert report.requests == sandbox.stats()["requests"] - before == 2
    assert guess.board_reads == 1 and guess.requests >= report.requests
    assert guess.mutations == report.mutations == 3


CREATE = """mutation ($board: ID!, $group: String!, $name: String!, $values: JSON!) {
  create_item(board_id: $board, group_id: $group, item_name: $name, column_values: $values) {
    id } }"""
SUBITEM = """mutation ($parent: ID!, $name: String!, $values: JSON!) {
  create_subitem(parent_item_id: $parent, item_name: $name, column_values: $values) { id } }"""


def test_unknown_and_duplicated_items_are_listed_and_left_alone(ctx, sandbox, pushed):
    setup, state = pushed
    group = next(g["id"] for g in sandbox.dump()["board"]["groups"] if g["title"] == CUSTOMER)
    copied = state[0].record.record_uuid
    for name, uid in (("a copy", copied), ("made by hand", "not-a-known-uuid")):
        by_hand(
            sandbox,
            CREATE,
            board=sandbox.board_id,
            group=group,
            name=name,
            values=json.dumps({"text_record_uuid": uid}),
        )
    drift = read_drift(ctx, setup, CUSTOMER).drift
    [unknown] = drift.unknown
    assert (unknown.record_uuid, unknown.name, unknown.group) == (
        "not-a-known-uuid",
        "made by hand",
        CUSTOMER,
    )
    [twice] = drift.duplicates
    assert twice.record_uuid == copied and twice.known_item_id == state[0].monday_item_id
    assert len(twice.item_ids) == 2
    # Neither can be pushed back or accepted: no synced order of theirs differs.
    assert drift.orders() == []


def test_subitems_added_and_re_quantified_by_hand_are_put_right_and_undone(ctx, sandbox, pushed):
    setup, state = pushed
    row = state[3]
    size, sub_id = sorted(row.subitem_ids.items())[0]
    by_hand(
        sandbox,
        EDIT,
        board=sandbox.subitems_board_id,
        item=sub_id,
        values=json.dumps({"numeric_order_qty": "999"}),
    )
    by_hand(
        sandbox,
        SUBITEM,
        parent=row.monday_item_id,
        name="EXTRA",
        values=json.dumps({"text_size": "EXTRA", "numeric_order_qty": "5"}),
    )
    drift = read_drift(ctx, setup, CUSTOMER).drift
    assert {(s.size, s.kind, s.board) for s in drift.subitems} == {
        (size, "qty", 999),
        ("EXTRA", "added", 5),
    }
    batch = stage_repush(ctx, setup, CUSTOMER, drift.orders()).batch.batch_id
    assert push(ctx, batch, setup).status == "PUSHED"
    assert read_drift(ctx, setup, CUSTOMER).drift.clean

    def subitems() -> dict[str, str | None]:
        [item] = [i for i in sandbox.dump()["items"] if i["id"] == row.monday_item_id]
        return {
            s["name"]: s["column_values"]["numeric_order_qty"]["text"]
            for s in item["subitems"]
            if s["state"] == "active"
        }

    assert subitems()[size] == str(row.record.sizes[size]) and "EXTRA" not in subitems()
    roll_back(ctx, batch, lambda: setup)
    assert subitems()[size] == "999" and subitems()["EXTRA"] == "5"


def test_accepting_a_gone_item_makes_the_order_new_and_its_push_a_new_item(ctx, sandbox, pushed):
    setup, state = pushed
    target = state[0]
    by_hand(sandbox, DELETE, item=target.monday_item_id)
    accepted = accept_board(ctx, setup, CUSTOMER, [target.record.record_uuid])
    assert (accepted.orders, accepted.gone) == (0, 1)
    assert read_drift(ctx, setup, CUSTOMER).drift.clean
    # Not on the board: the order is NEW again, in both ways of detection.
    news = [c for c in detection.preview(ctx, CUSTOMER).changes if c.change_type == "NEW"]
    assert target.record.record_uuid in {c.record_uuid for c in news}
    [counts], _ = detection.detect_counts(ctx, CUSTOMER)
    assert counts.new == len(news)

    batch = staging.stage(ctx, CUSTOMER, types=(ChangeType.NEW,))
    assert push(ctx, batch.batch_id, setup).status == "PUSHED"
    with ctx.store.engine.connect() as conn:
        [now] = [
            s
            for s in load_state(conn, CUSTOMER)
            if s.record.record_uuid == target.record.record_uuid
        ]
    assert now.monday_item_id != target.monday_item_id
    assert item_text(sandbox, now.monday_item_id, COLUMN) == target.record.fields[FIELD]
    assert read_drift(ctx, setup, CUSTOMER).drift.clean  # every size made with it
