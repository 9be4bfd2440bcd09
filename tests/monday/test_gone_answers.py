"""Every answer monday documents for an item that no longer exists, against the sandbox
acting each one out (SandboxConfig.gone_style): InvalidItemIdException, and
ResourceNotFoundException with HTTP 200 or 404
(https://developer.monday.com/api-reference/docs/error-handling), and the older pages' HTTP
500 for an id that does not exist. Per style, a push treats the item as gone: a deleted
order whose item is already gone is done; a changed order whose item is gone gets a new
item. A whole request answered 404 or 500 is taken apart (operations.run_operations): the
mutations on the item it names are gone, the rest go again.
"""

from __future__ import annotations

import json
from concurrent.futures import ThreadPoolExecutor
from typing import Any

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
    texts,
)
from requests.adapters import BaseAdapter
from sqlalchemy import select

from orders_sync_gui.core.models import ChangeType
from orders_sync_gui.monday.client import ClientSettings, ItemGoneError, MondayClient
from orders_sync_gui.monday.operations import ChunkPolicy, Operation, run_operations
from orders_sync_gui.monday.sandbox import SandboxServer
from orders_sync_gui.monday.sandbox.errors import GONE_STYLES
from orders_sync_gui.services.push import push
from orders_sync_gui.store.schema import sync_state

# The code each style's answer carries (what the sandbox counts in its stats).
STYLE_CODES = {
    "invalid_item_id": "InvalidItemIdException",
    "resource_not_found": "ResourceNotFoundException",
    "resource_not_found_404": "ResourceNotFoundException",
    "resource_not_found_404_request": "ResourceNotFoundException",
    "error_500": "INTERNAL_SERVER_ERROR",
}
LABEL = "Cancelled in source"


def test_every_style_is_covered():
    assert set(STYLE_CODES) == set(GONE_STYLES)


# ---------------------------------------------------------------------- helpers
def post(server: SandboxServer, query: str) -> requests.Response:
    return requests.post(
        server.url, json={"query": query}, headers={"Authorization": TOKEN}, timeout=10
    )


def delete_on_board(server: SandboxServer, item_id: str) -> None:
    answer = post(server, f"mutation {{ delete_item(item_id: {item_id}) {{ id }} }}")
    assert answer.status_code == 200 and "errors" not in answer.json(), answer.text


def items_of(server: SandboxServer, uid: str) -> list[dict]:
    return [i for i in server.dump()["items"] if texts(i).get("text_record_uuid") == uid]


def change_source(ctx, uid: str, values: dict) -> None:
    info = ctx.store.source()
    with ctx.store.engine.begin() as conn:
        conn.execute(info.table.update().where(info.table.c.record_uuid == uid).values(values))


def delete_source(ctx, uid: str) -> None:
    info = ctx.store.source()
    with ctx.store.engine.begin() as conn:
        conn.execute(info.table.delete().where(info.table.c.record_uuid == uid))


def state_row(ctx, uid: str) -> dict:
    with ctx.store.engine.connect() as conn:
        row = conn.execute(select(sync_state).where(sync_state.c.record_uuid == uid)).one()
    return dict(row._mapping)


def pushed(ctx, server):
    """Five orders pushed; the setup, and the first two orders' record_uuids and items."""
    setup = quick_setup(ctx, server)
    first = stage(ctx, limit=5)
    assert push(ctx, first, setup).status == "PUSHED"
    uids = [r.record_uuid for r in staged(ctx, first)[:2]]
    items = [active(items_of(server, u))[0]["id"] for u in uids]
    return setup, uids, items


# ---------------------------------------------------------------------- the sandbox's answers
@pytest.mark.parametrize("style", GONE_STYLES)
def test_the_sandbox_answers_a_gone_item_in_each_style(make_sandbox, style):
    """One mutation, and a chunk of two (the other item exists), on a deleted item."""
    server = make_sandbox(gone_style=style)
    made = post(
        server, f'mutation {{ create_item(board_id: {server.board_id}, item_name: "a") {{ id }} }}'
    )
    live = made.json()["data"]["create_item"]["id"]
    other = post(
        server, f'mutation {{ create_item(board_id: {server.board_id}, item_name: "b") {{ id }} }}'
    )
    gone = other.json()["data"]["create_item"]["id"]
    delete_on_board(server, gone)
    archive = "archive_item(item_id: {}) {{ id }}"

    one = post(server, "mutation { a: " + archive.format(gone) + " }")
    two = post(
        server, "mutation { a: " + archive.format(live) + " b: " + archive.format(gone) + " }"
    )
    [error] = one.json()["errors"]
    assert error["extensions"]["code"] == STYLE_CODES[style]
    if style == "error_500":
        assert gone in error["message"]
    body = two.json()
    if style in ("resource_not_found_404_request", "error_500"):
        # The whole request refused, nothing in it ran: the live item is not archived.
        assert (one.status_code, two.status_code) == ((404, 404) if "404" in style else (500, 500))
        assert "path" not in error and "data" not in body
        assert {i["id"]: i["state"] for i in server.dump()["items"]}[live] == "active"
    else:
        expected = 404 if style == "resource_not_found_404" else 200
        assert (one.status_code, two.status_code) == (expected, 200)
        assert error["path"] == ["a"]
        assert body["data"] == {"a": {"id": live}, "b": None}
        assert [e["path"] for e in body["errors"]] == [["b"]]


def test_an_unknown_gone_style_is_refused(make_sandbox):
    with pytest.raises(ValueError, match="gone_style"):
        make_sandbox(gone_style="teapot")


# ---------------------------------------------------------------------- a push, per style
@pytest.mark.parametrize("style", GONE_STYLES)
def test_a_changed_order_whose_item_is_gone_gets_a_new_item(ctx, make_sandbox, style):
    """Two changed orders in one chunk; one's item is deleted by hand after the push's
    pre-flight read found it there, while the change is on its way. The other is changed
    once, in place; the gone one gets a new item with every size."""
    server = make_sandbox(gone_style=style)
    setup, (gone_uid, kept_uid), (gone_id, kept_id) = pushed(ctx, server)
    change_source(ctx, gone_uid, {"CUSTOMER COLOUR DESCRIPTION": "NEON PINK"})
    change_source(ctx, kept_uid, {"CUSTOMER COLOUR DESCRIPTION": "OCEAN"})
    batch = stage(ctx, types=(ChangeType.CHANGED,))
    errors_before = server.stats()["errors"].get(STYLE_CODES[style], 0)

    with ThreadPoolExecutor(1) as pool, server.hold(mutations_only=True):
        running = pool.submit(push, ctx, batch, setup)
        assert server.wait_held(1, timeout=30)  # the change is in, the pre-flight read done
        server.app.state.set_state(gone_id, "deleted")  # someone deletes it meanwhile
    report = running.result(timeout=60)
    assert (report.status, report.succeeded, report.failed) == ("PUSHED", 2, 0), report.message
    assert row_statuses(ctx, batch) == {"PUSHED": 2}
    assert server.stats()["errors"].get(STYLE_CODES[style], 0) > errors_before
    dump = server.dump()
    assert_no_duplicates(dump)
    [new] = active(items_of(server, gone_uid))
    assert new["id"] != gone_id and texts(new)["text_colour"] == "NEON PINK"
    assert len(active(new["subitems"])) >= 1
    [kept] = active(items_of(server, kept_uid))
    assert kept["id"] == kept_id and texts(kept)["text_colour"] == "OCEAN"
    assert state_row(ctx, gone_uid)["monday_item_id"] == new["id"]
    assert assert_state_matches_board(ctx, dump, CUSTOMER) == 5
    assert (counts(ctx)["changed"], counts(ctx)["unchanged"]) == (0, 5)


@pytest.mark.parametrize("style", GONE_STYLES)
@pytest.mark.parametrize("orders", [1, 2], ids=["alone", "in-a-chunk"])
def test_a_deleted_orders_item_already_gone_counts_as_done(ctx, make_sandbox, style, orders):
    """The deleted order's item was deleted by hand: its delete is done (a one-mutation
    request, or in a chunk with another deleted order whose item is there and gets its
    label)."""
    server = make_sandbox(gone_style=style)
    setup, uids, items = pushed(ctx, server)
    delete_on_board(server, items[0])
    for uid in uids[:orders]:
        delete_source(ctx, uid)
    batch = stage(ctx, types=(ChangeType.DELETED,))

    report = push(ctx, batch, setup)
    assert (report.status, report.succeeded, report.failed) == ("PUSHED", orders, 0)
    assert row_statuses(ctx, batch) == {"PUSHED": orders}
    tomb = state_row(ctx, uids[0])
    assert (tomb["deleted_action"], tomb["monday_item_id"]) == ("gone", items[0])
    if orders == 2:
        [labelled] = active(items_of(server, uids[1]))
        assert labelled["id"] == items[1]
        assert texts(labelled)["status_sync"] == LABEL
    assert counts(ctx)["deleted"] == 0
    assert_no_duplicates(server.dump())


# ---------------------------------------------------------------------- a chunk taken apart
class Canned(BaseAdapter):
    """Answers from a list, without any network; keeps what was sent."""

    def __init__(self, answers: list[tuple[int, dict[str, Any]]]) -> None:
        super().__init__()
        self.answers = answers
        self.sent: list[dict[str, Any]] = []

    def send(self, request, **kwargs):  # type: ignore[no-untyped-def]
        self.sent.append(json.loads(request.body))
        status, payload = self.answers.pop(0)
        response = requests.Response()
        response.status_code = status
        response._content = json.dumps(payload).encode()
        response.headers["Content-Type"] = "application/json"
        response.request, response.url = request, request.url
        return response

    def close(self) -> None:
        pass


def run(answers: list[tuple[int, dict[str, Any]]], ops: list[Operation]):
    session = requests.Session()
    adapter = Canned(answers)
    session.mount("http://", adapter)
    client = MondayClient(
        TOKEN,
        ClientSettings(url="http://127.0.0.1:9/v2", max_attempts=2, pace=False),
        sleep=lambda _s: None,
        session=session,
    )
    policy = ChunkPolicy(max_mutations=10)
    results = [r for batch in run_operations(client, ops, scope="t", policy=policy) for r in batch]
    return {r.op.key: r for r in results}, adapter.sent


def change(key: str, item_id: str) -> Operation:
    return Operation(
        key,
        "change_multiple_column_values",
        {"board_id": "1", "item_id": item_id, "column_values": "{}"},
    )


def aliases(sent: dict[str, Any]) -> list[str]:
    return sorted(k.rsplit("_", 1)[1] for k in sent["variables"] if k.startswith("item_id_"))


def test_a_whole_request_500_naming_no_item_sends_each_mutation_again_alone():
    unnamed = {"errors": [{"message": "Internal server error: the item was not found"}]}
    gone_404 = {
        "errors": [{"message": "Not found", "extensions": {"code": "ResourceNotFoundException"}}]
    }
    answers = [
        (500, unnamed),
        (200, {"data": {"r1": {"id": "11"}}}),
        (404, gone_404),
        (200, {"data": {"r3": {"id": "13"}}}),
    ]
    results, sent = run(answers, [change("r1", "11"), change("r2", "12"), change("r3", "13")])
    assert [len(aliases(s)) for s in sent] == [3, 1, 1, 1]  # not retried: taken apart
    assert results["r1"].ok and results["r3"].ok
    assert results["r2"].error is not None and results["r2"].error.gone


def test_a_whole_request_404_naming_its_item_fails_that_mutation_and_sends_the_rest_once():
    named = {
        "errors": [
            {
                "message": "Item 12 could not be found",
                "extensions": {
                    "code": "ResourceNotFoundException",
                    "status_code": 404,
                    "error_data": {"item_id": "12"},
                },
            }
        ]
    }
    answers = [(404, named), (200, {"data": {"r1": {"id": "11"}, "r3": {"id": "13"}}})]
    results, sent = run(answers, [change("r1", "11"), change("r2", "12"), change("r3", "13")])
    assert [len(aliases(s)) for s in sent] == [3, 2]
    assert results["r2"].error is not None and results["r2"].error.gone
    assert "Item 12" in str(results["r2"].error)
    assert results["r1"].ok and results["r3"].ok


def test_a_500_that_names_no_missing_item_is_still_a_server_fault_retried():
    answers = [(500, {"errors": [{"message": "Internal server error"}]})] * 2
    with pytest.raises(Exception) as stopped:
        run(answers, [change("r1", "11")])
    assert not isinstance(stopped.value, ItemGoneError)
    assert "kept refusing" in str(stopped.value)
