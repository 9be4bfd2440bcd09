"""Column limits end to end, against the sandbox enforcing monday's: a long text holds 2,000
characters (https://developer.monday.com/api-reference/docs/long-text), an item about 64 KB
of values in all (https://developer.monday.com/api-reference/docs/text), both refused with a
ColumnValueException. The push never meets those refusals: detection caught the values."""

from __future__ import annotations

import json

import pytest
import requests
from pushkit import CUSTOMER, TOKEN, active, counts, quick_setup, stage, texts

from orders_sync_gui.core.models import ChangeType
from orders_sync_gui.monday.sandbox import SandboxServer
from orders_sync_gui.resources import resource_path
from orders_sync_gui.services import detection
from orders_sync_gui.services.context import open_context
from orders_sync_gui.services.push import push

NOTES_COLUMN = "long_text_notes"


def set_notes(ctx, uid: str, notes: str) -> None:
    info = ctx.store.source()
    with ctx.store.engine.begin() as conn:
        conn.execute(
            info.table.update().where(info.table.c.record_uuid == uid).values({"NOTES": notes})
        )


def item_of(server: SandboxServer, uid: str) -> dict:
    [item] = [i for i in active(server.dump()["items"]) if texts(i)["text_record_uuid"] == uid]
    return item


def first_order(ctx) -> tuple[str, str]:
    change = detection.preview(ctx, CUSTOMER, limit=1).changes[0]
    return change.record_uuid, change.value("AAG ORDER NUMBER")


def test_a_long_text_is_pushed_cut_and_a_change_past_the_cut_is_still_pushed(ctx, make_sandbox):
    server = make_sandbox()
    setup = quick_setup(ctx, server)
    uid, order = first_order(ctx)
    notes = "n" * 2_300 + "A"
    set_notes(ctx, uid, notes)

    found = detection.preview(ctx, CUSTOMER, limit=3)
    [warning] = found.warnings
    assert (warning.record_uuid, warning.order_number, warning.field) == (uid, order, "NOTES")
    assert "2,301 characters" in warning.message
    assert push(ctx, stage(ctx, limit=3), setup).status == "PUSHED"
    shown = texts(item_of(server, uid))[NOTES_COLUMN]
    assert shown.endswith(" … [cut: 2,301 characters]")
    assert len(shown.encode("utf-16-le")) // 2 <= 2_000 and shown.startswith("n" * 1_900)
    assert counts(ctx)["changed"] == 0

    # A change past the cut is a change (the hash is over the whole value) ...
    set_notes(ctx, uid, notes[:-1] + "B")
    assert counts(ctx)["changed"] == 1
    report = push(ctx, stage(ctx, types=(ChangeType.CHANGED,)), setup)
    assert (report.status, report.failed) == ("PUSHED", 0)
    # ... whose cut is what the board already shows; the order is in step again.
    assert texts(item_of(server, uid))[NOTES_COLUMN] == shown
    assert counts(ctx)["changed"] == 0


@pytest.fixture
def rejecting(isolated_home, db):
    """A context whose mapping refuses long texts over the limit ("overflow": "reject")."""
    raw = json.loads(resource_path("board_mapping.json").read_text("utf-8"))
    for entry in raw["columns"]:
        if entry["source"] == "NOTES":
            entry["overflow"] = "reject"
    (isolated_home / "config").mkdir(parents=True)
    (isolated_home / "config" / "board_mapping.json").write_text(json.dumps(raw))
    context = open_context(db)
    yield context
    context.close()


def test_reject_makes_the_row_invalid_and_the_rest_pushes(rejecting, make_sandbox):
    ctx = rejecting
    uid, order = first_order(ctx)
    set_notes(ctx, uid, "r" * 2_001)
    found = detection.preview(ctx, CUSTOMER)
    [error] = [e for e in found.errors if e.record_uuid == uid]
    assert (error.order_number, error.field) == (order, "NOTES")
    assert "2,001 characters" in error.message
    assert uid not in {c.record_uuid for c in found.changes}
    assert counts(ctx)["new"] == found.counts.new
    server = make_sandbox()
    report = push(ctx, stage(ctx, limit=3), quick_setup(ctx, server))
    assert (report.status, report.failed) == ("PUSHED", 0)
    assert uid not in {texts(i)["text_record_uuid"] for i in server.dump()["items"]}


# ---------------------------------------------------------------------- the sandbox's side
def create(server: SandboxServer, values: dict) -> dict:
    query = (
        "mutation ($board: ID!, $values: JSON) { a: create_item(board_id: $board, "
        'item_name: "x", column_values: $values) { id } }'
    )
    variables = {"board": server.board_id, "values": json.dumps(values)}
    answer = requests.post(
        server.url,
        json={"query": query, "variables": variables},
        headers={"Authorization": TOKEN},
        timeout=10,
    )
    assert answer.status_code == 200
    return answer.json()


def test_the_sandbox_refuses_a_long_text_over_2000_characters(sandbox):
    assert "errors" not in create(sandbox, {NOTES_COLUMN: {"text": "x" * 2_000}})
    body = create(sandbox, {NOTES_COLUMN: {"text": "x" * 1_999 + "🧵"}})  # 2,001 units
    [error] = body["errors"]
    assert error["extensions"]["code"] == "ColumnValueException" and error["path"] == ["a"]
    assert error["extensions"]["error_data"]["column_type"] == "long_text"
    assert "x" * 100 not in json.dumps(body)  # the value is not echoed back


def test_the_sandbox_refuses_an_item_over_64_kb_of_values(sandbox):
    assert "errors" not in create(sandbox, {"text_style_description": "d" * 60_000})
    body = create(sandbox, {"text_style_description": "d" * 40_000, "text_drop": "e" * 30_000})
    [error] = body["errors"]
    assert error["extensions"]["code"] == "ColumnValueException"
    assert error["extensions"]["error_data"]["max_bytes"] == 64 * 1024
