"""The monday.com sandbox over real HTTP on 127.0.0.1: what a client of the API would notice.

Every test starts its own sandbox on a free port. Documents are built by the helpers below,
and the last test validates every shape they produce against monday's published schema.
"""

from __future__ import annotations

import json
import logging
import os
import select
import shutil
import socket
import struct
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import graphql
import pytest
import requests
from schemas import mondays_schema

from orders_sync_gui.monday.sandbox import FaultConfig, SandboxConfig, SandboxServer
from orders_sync_gui.monday.sandbox.app import SCHEMA_PATH, SCHEMA_VERSION
from orders_sync_gui.monday.sandbox.state import STATE_VERSION

TOKEN = "test-token"
REPO = Path(__file__).resolve().parents[2]
BOARD_QUERY = """
query Board($board: [ID!], $limit: Int!) {
  complexity { before after query reset_in_x_seconds }
  boards(ids: $board) {
    id name
    columns { id title type settings_str }
    groups { id title }
    items_page(limit: $limit) {
      cursor
      items {
        id name group { id }
        column_values { id text value }
        subitems { id name column_values { id text value } }
      }
    }
  }
}"""
NEXT_PAGE_QUERY = """
query Next($cursor: String!, $limit: Int!) {
  next_items_page(cursor: $cursor, limit: $limit) { cursor items { id name } }
}"""
LOOKUP_QUERY = """
query Lookup($board: ID!, $column: String!, $values: [String]!) {
  items_page_by_column_values(
    board_id: $board, limit: 50, columns: [{column_id: $column, column_values: $values}]
  ) {
    cursor
    items { id name state subitems { id name column_values { id text } } }
  }
}"""
ITEMS_QUERY = """
query Items($ids: [ID!]) {
  items(ids: $ids) {
    id name state
    board { id }
    group { id }
    parent_item { id }
    column_values { id text value ... on StatusValue { index label } }
    subitems { id name }
  }
}"""
FILTER_QUERY = """
query Filter($board: [ID!]) {
  boards(ids: $board) {
    items_page(limit: 10, query_params: {
      rules: [{column_id: "status_order_type", compare_value: ["Bulk"], operator: any_of}]
      order_by: [{column_id: "numeric_order_qty", direction: desc}]
    }) { items { id name } }
  }
}"""
COMPLEXITY_QUERY = "query { complexity { before after query reset_in_x_seconds } }"
ARCHIVE = "mutation($id: ID) { archive_item(item_id: $id) { id state } }"
DELETE = "mutation($id: ID) { x: delete_item(item_id: $id) { id state } }"
CREATE_GROUP = """
mutation($board: ID!, $name: String!) {
  create_group(board_id: $board, group_name: $name) { id title }
}"""
DELETE_GROUP = """
mutation($board: ID!, $group: String!) { delete_group(board_id: $board, group_id: $group) { id } }
"""
NAMES = """
mutation($board: ID!, $fits: String!, $over: String!, $latin: String!) {
  fits: create_item(board_id: $board, item_name: $fits) { id name }
  over: create_item(board_id: $board, item_name: $over) { id name }
  latin: create_item(board_id: $board, item_name: $latin) { id name }
}"""
RENAME = """
mutation($board: ID!, $item: ID, $values: JSON!) {
  rename: change_multiple_column_values(board_id: $board, item_id: $item, column_values: $values) {
    id name
  }
}"""
CREATE_IN_GROUP = """
mutation($board: ID!, $group: String) {
  a: create_item(board_id: $board, item_name: "x", group_id: $group) { id group { id } }
}"""
CREATE_WITH_VARIABLES = """
mutation($board: ID!, $values: JSON) {
  create_item(board_id: $board, item_name: "v", column_values: $values) {
    id column_values(ids: ["text_po_number"]) { text }
  }
}"""


# ---------------------------------------------------------------------- document builders
def _literal(value: str) -> str:
    return json.dumps(value)  # a JSON string is a valid GraphQL string literal


def create_item(
    alias: str,
    board_id: str,
    name: str,
    values: dict[str, Any] | None = None,
    create_labels: bool = False,
) -> str:
    args = f"board_id: {board_id}, item_name: {_literal(name)}"
    if values is not None:
        args += f", column_values: {_literal(json.dumps(values))}"
    if create_labels:
        args += ", create_labels_if_missing: true"
    return f"{alias}: create_item({args}) {{ id name }}"


def create_subitem(alias: str, parent_id: str, name: str, values: dict[str, Any]) -> str:
    args = f"parent_item_id: {parent_id}, item_name: {_literal(name)}"
    args += f", column_values: {_literal(json.dumps(values))}"
    return f"{alias}: create_subitem({args}) {{ id name board {{ id }} }}"


def change_values(alias: str, board_id: str, item_id: str, values: dict[str, Any]) -> str:
    args = f"board_id: {board_id}, item_id: {item_id}"
    args += f", column_values: {_literal(json.dumps(values))}"
    return f"{alias}: change_multiple_column_values({args}) {{ id }}"


def mutation(*fields: str, complexity: bool = False) -> str:
    extra = " complexity { before after query reset_in_x_seconds }" if complexity else ""
    return "mutation {" + extra + " " + " ".join(fields) + " }"


SHAPES: list[str] = [
    BOARD_QUERY,
    NEXT_PAGE_QUERY,
    LOOKUP_QUERY,
    ITEMS_QUERY,
    FILTER_QUERY,
    COMPLEXITY_QUERY,
    "query { version { kind value } }",
    "query { versions { kind value display_name } version { display_name } }",
    ARCHIVE,
    DELETE,
    CREATE_GROUP,
    DELETE_GROUP,
    NAMES,
    RENAME,
    CREATE_IN_GROUP,
    CREATE_WITH_VARIABLES,
    mutation(
        create_item("a1", "1800000001", "x", {"text_po_number": "4755"}, create_labels=True),
        create_subitem("s1", "1900000001", "M", {"numeric_order_qty": "5"}),
        change_values("c1", "1800000002", "1900000002", {"numeric_shipped": 3}),
        create_item("bad_board", "1", "N" * 256),
        complexity=True,
    ),
]


# ---------------------------------------------------------------------- fixtures and calls
@pytest.fixture
def make_sandbox() -> Iterator[Callable[..., SandboxServer]]:
    started: list[SandboxServer] = []

    def make(**overrides: Any) -> SandboxServer:
        sandbox = SandboxServer(SandboxConfig(token=TOKEN, **overrides)).start()
        started.append(sandbox)
        return sandbox

    yield make
    for sandbox in started:
        sandbox.stop()


@pytest.fixture
def sandbox(make_sandbox: Callable[..., SandboxServer]) -> SandboxServer:
    return make_sandbox()


def post(
    sandbox: SandboxServer,
    query: str,
    variables: dict[str, Any] | None = None,
    *,
    key: str | None = None,
    token: str | None = TOKEN,
) -> requests.Response:
    headers = {"API-Version": SCHEMA_VERSION}
    if token is not None:
        headers["Authorization"] = token
    if key is not None:
        headers["Idempotency-Key"] = key
    body: dict[str, Any] = {"query": query}
    if variables is not None:
        body["variables"] = variables
    return requests.post(sandbox.url, json=body, headers=headers, timeout=10)


def ok(sandbox: SandboxServer, query: str, variables: dict[str, Any] | None = None) -> Any:
    response = post(sandbox, query, variables)
    assert response.status_code == 200, response.text
    payload = response.json()
    assert "errors" not in payload, payload
    return payload["data"]


def board_dump(sandbox: SandboxServer) -> dict[str, Any]:
    return requests.get(f"{sandbox.base_url}/_sandbox/board", timeout=10).json()


def stats(sandbox: SandboxServer) -> dict[str, Any]:
    return requests.get(f"{sandbox.base_url}/_sandbox/stats", timeout=10).json()


def codes(payload: dict[str, Any]) -> dict[str, str]:
    """alias -> error code of each failed field."""
    return {e["path"][0]: e["extensions"]["code"] for e in payload.get("errors", [])}


# ---------------------------------------------------------------------- auth and transport
def test_missing_or_wrong_token_is_401_in_mondays_shape(sandbox: SandboxServer) -> None:
    for token in (None, "wrong"):
        response = post(sandbox, COMPLEXITY_QUERY, token=token)
        assert response.status_code == 401
        assert response.json() == {
            "errors": [
                {
                    "message": "Not Authenticated",
                    "extensions": {"code": "UNAUTHENTICATED", "status_code": 401},
                }
            ]
        }
    assert post(sandbox, COMPLEXITY_QUERY).status_code == 200
    assert stats(sandbox)["errors"]["UNAUTHENTICATED"] == 2  # control endpoint: no token


def test_parse_and_validation_errors_come_back_200_with_locations(sandbox: SandboxServer) -> None:
    parse_error = post(sandbox, "query { boards { id ")
    assert parse_error.status_code == 200
    error = parse_error.json()["errors"][0]
    assert error["extensions"]["code"] == "GRAPHQL_PARSE_FAILED"
    assert error["locations"]

    invalid = post(sandbox, "query { boards { id no_such_field } }")
    assert invalid.status_code == 200
    error = invalid.json()["errors"][0]
    assert error["extensions"]["code"] == "GRAPHQL_VALIDATION_FAILED"
    assert error["locations"] == [{"line": 1, "column": 21}]
    assert "no_such_field" in error["message"]

    bad_json = requests.post(
        sandbox.url, data=b"{not json", headers={"Authorization": TOKEN}, timeout=10
    )
    assert bad_json.status_code == 400
    assert bad_json.json()["errors"][0]["extensions"]["code"] == "JsonParseException"


class _Notes(logging.Handler):
    """Counts the sandbox server's "hung up" notes, and lets a test wait for the n-th."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.changed = threading.Condition()
        self.hang_ups: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        if "hung up" in record.getMessage():
            with self.changed:
                self.hang_ups.append(record)
                self.changed.notify_all()

    def wait_for(self, count: int, timeout: float = 10.0) -> bool:
        with self.changed:
            return self.changed.wait_for(lambda: len(self.hang_ups) >= count, timeout)


def _raw_post(body: bytes, length: int | None = None) -> bytes:
    head = (
        f"POST /v2 HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: {TOKEN}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {length or len(body)}\r\n\r\n"
    )
    return head.encode("ascii") + body


def _hang_up(client: socket.socket) -> None:
    """Close at once with a reset, as a process killed mid-request leaves its socket."""
    client.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    client.close()


def test_a_client_hanging_up_mid_request_is_no_traceback_and_the_server_serves_on(
    sandbox: SandboxServer, capfd: pytest.CaptureFixture[str], caplog: pytest.LogCaptureFixture
) -> None:
    server_log = logging.getLogger("orders_sync_gui.monday.sandbox.server")
    caplog.set_level(logging.DEBUG, logger=server_log.name)
    notes = _Notes()
    server_log.addHandler(notes)
    body = json.dumps({"query": COMPLEXITY_QUERY}).encode()
    try:
        # 1. Mid-answer: the request is read and held; the client hangs up; the answer
        # then meets a reset connection.
        with sandbox.hold():
            client = socket.create_connection(("127.0.0.1", sandbox.port), timeout=10)
            client.sendall(_raw_post(body))
            assert sandbox.wait_held(1)
            assert sandbox._httpd is not None
            [server_end] = sandbox._httpd._connections
            _hang_up(client)
            # the reset has reached the server's end of the connection (readable)
            assert select.select([server_end], [], [], 10)[0]
        assert notes.wait_for(1)
        # 2. Mid-request: the headers and half the body, then the client is gone.
        client = socket.create_connection(("127.0.0.1", sandbox.port), timeout=10)
        client.sendall(_raw_post(body[:10], length=len(body)))
        _hang_up(client)
        assert notes.wait_for(2)
    finally:
        server_log.removeHandler(notes)

    assert post(sandbox, COMPLEXITY_QUERY).status_code == 200  # it serves on
    assert all(r.levelno == logging.DEBUG for r in notes.hang_ups)
    assert {r.name for r in caplog.records if r.levelno > logging.DEBUG} == set()
    err = capfd.readouterr().err
    assert "Traceback" not in err and "Error" not in err, err


def test_names_are_counted_in_utf16_code_units_as_monday_counts(sandbox: SandboxServer) -> None:
    """An emoji counts twice toward the 255: 127 of them and a letter fit, 128 do not."""
    board = sandbox.board_id
    fits, over, latin = "😀" * 127 + "x", "😀" * 128, "é" * 255
    response = post(sandbox, NAMES, {"board": board, "fits": fits, "over": over, "latin": latin})
    payload = response.json()
    assert response.status_code == 200 and codes(payload) == {"over": "ItemNameTooLongException"}
    [error] = payload["errors"]
    assert error["extensions"]["error_data"] == {"item_name_length": 256, "max_length": 255}
    assert payload["data"]["fits"]["name"] == fits and payload["data"]["latin"]["name"] == latin
    item = payload["data"]["fits"]["id"]

    renamed = post(sandbox, RENAME, {"board": board, "item": item, "values": {"name": over}})
    assert codes(renamed.json()) == {"rename": "ItemNameTooLongException"}
    assert board_dump(sandbox)["items"][0]["name"] == fits  # left as it was
    long_group = post(sandbox, CREATE_GROUP, {"board": board, "name": over}).json()
    assert codes(long_group) == {"create_group": "InvalidArgumentException"}
    group = ok(sandbox, CREATE_GROUP, {"board": board, "name": fits})["create_group"]
    assert group["title"] == fits


def test_refuses_to_bind_anything_but_loopback() -> None:
    for host in ("0.0.0.0", "192.168.1.10", "example.com", "::"):
        with pytest.raises(ValueError, match=r"loopback|127\.0\.0\.1"):
            SandboxServer(SandboxConfig(host=host))


# ---------------------------------------------------------------------- board and items
def test_board_layout_follows_the_mapping(sandbox: SandboxServer) -> None:
    data = ok(sandbox, BOARD_QUERY, {"board": [sandbox.board_id], "limit": 25})
    board = data["boards"][0]
    assert board["id"] == sandbox.board_id == "1800000001"
    columns = {c["id"]: c for c in board["columns"]}
    mapping = json.loads((REPO / "resources" / "board_mapping.json").read_text("utf-8"))
    for spec in mapping["columns"]:
        assert columns[spec["column_id"]]["type"] == spec["type"]
    assert columns["text_record_uuid"]["type"] == "text"
    assert columns["numeric_order_qty"]["type"] == "numbers"
    assert "Cancelled in source" in columns["status_sync"]["settings_str"]
    assert columns["name"]["type"] == "name"
    link = json.loads(columns["subitems"]["settings_str"])
    assert link["boardIds"] == [int(sandbox.subitems_board_id)]

    sub = ok(sandbox, BOARD_QUERY, {"board": [sandbox.subitems_board_id], "limit": 25})
    sub_columns = [c["id"] for c in sub["boards"][0]["columns"]]
    assert sub_columns == [
        "name",
        "text_size",
        "numeric_order_qty",
        "numeric_shipped",
        "numeric_packed",
        "numeric_cut",
        "numeric_sew",
        "numeric_finishing",
    ]


def test_a_different_mapping_and_missing_columns(
    make_sandbox: Callable[..., SandboxServer],
) -> None:
    mapping = {
        "board_name": "Other",
        "columns": [{"column_id": "text_po", "title": "PO", "type": "text"}],
        "subitems": {"size_column": {"column_id": "text_size", "title": "Size", "type": "text"}},
    }
    sandbox = make_sandbox(
        mapping=mapping,
        extra_columns=({"column_id": "text_extra", "title": "Extra", "type": "text"},),
        missing_columns=("text_po",),
    )
    board = ok(sandbox, BOARD_QUERY, {"board": [sandbox.board_id], "limit": 1})["boards"][0]
    assert board["name"] == "Other"
    assert [c["id"] for c in board["columns"]] == ["name", "subitems", "text_extra"]
    payload = post(sandbox, mutation(create_item("a", sandbox.board_id, "x", {"text_po": "1"})))
    assert codes(payload.json()) == {"a": "InvalidColumnIdException"}


def test_items_and_subitems_created_in_aliased_batches_read_back(sandbox: SandboxServer) -> None:
    board = sandbox.board_id
    batch = mutation(
        create_item("a1", board, "GREYSON · 4755 · ABC · NAVY", {"text_record_uuid": "u-1"}),
        create_item("a2", board, "GREYSON · 4755 · ABC · RED", {"text_record_uuid": "u-2"}),
        create_item("a3", board, "GREYSON · 4756 · XYZ · RED", {"text_record_uuid": "u-3"}),
        complexity=True,
    )
    created = ok(sandbox, batch)
    ids = [created[a]["id"] for a in ("a1", "a2", "a3")]
    assert len(set(ids)) == 3 and all(i.isdigit() for i in ids)
    assert created["complexity"]["query"] == 30_000
    assert created["complexity"]["before"] - created["complexity"]["after"] == 30_000

    subs = ok(
        sandbox,
        mutation(
            create_subitem("s1", ids[0], "M", {"text_size": "M", "numeric_order_qty": "5"}),
            create_subitem("s2", ids[0], "L", {"text_size": "L", "numeric_order_qty": 7}),
            create_subitem("s3", ids[1], "S", {"text_size": "S", "numeric_order_qty": "2"}),
        ),
    )
    assert {subs[s]["board"]["id"] for s in ("s1", "s2", "s3")} == {sandbox.subitems_board_id}

    # paging through the board with a cursor
    first = ok(sandbox, BOARD_QUERY, {"board": [board], "limit": 2})["boards"][0]["items_page"]
    assert [i["id"] for i in first["items"]] == ids[:2]
    assert [s["name"] for s in first["items"][0]["subitems"]] == ["M", "L"]
    qty = {c["id"]: c["text"] for c in first["items"][0]["subitems"][1]["column_values"]}
    assert qty["numeric_order_qty"] == "7"
    rest = ok(sandbox, NEXT_PAGE_QUERY, {"cursor": first["cursor"], "limit": 2})
    assert [i["id"] for i in rest["next_items_page"]["items"]] == ids[2:]
    assert rest["next_items_page"]["cursor"] is None

    # lookup by record uuid, as a client does before creating
    found = ok(
        sandbox, LOOKUP_QUERY, {"board": board, "column": "text_record_uuid", "values": ["u-2"]}
    )
    page = found["items_page_by_column_values"]
    assert [i["id"] for i in page["items"]] == [ids[1]]
    assert page["items"][0]["subitems"][0]["column_values"][0] == {"id": "text_size", "text": "S"}
    none = ok(
        sandbox, LOOKUP_QUERY, {"board": board, "column": "text_record_uuid", "values": ["x"]}
    )
    assert none["items_page_by_column_values"]["items"] == []

    sub_item = ok(sandbox, ITEMS_QUERY, {"ids": [subs["s1"]["id"]]})["items"][0]
    assert sub_item["parent_item"] == {"id": ids[0]}
    assert sub_item["board"] == {"id": sandbox.subitems_board_id}

    bad = post(sandbox, NEXT_PAGE_QUERY, {"cursor": "not-a-cursor", "limit": 2}).json()
    assert bad["errors"][0]["extensions"]["code"] == "CursorException"


def test_every_column_type_valid_values_and_their_text(sandbox: SandboxServer) -> None:
    values = {
        "text_po_number": "4755",
        "numeric_order_qty": 120,
        "date_ex_factory": {"date": "2026-06-15"},
        "date_eta_warehouse": {"date": "2026-07-01", "time": "10:30:00"},
        "status_order_type": {"label": "Done"},
        "status_delivery_terms": {"index": 2},
        "status_delivery_method": {"label": "Sea"},
        "dropdown_aag_season": {"labels": ["SS26", "AW26"]},
        "long_text_notes": {"text": "first line\nsecond line"},
    }
    created = ok(sandbox, mutation(create_item("a", sandbox.board_id, "x", values, True)))
    item_id = created["a"]["id"]
    item = ok(sandbox, ITEMS_QUERY, {"ids": [item_id]})["items"][0]
    text = {c["id"]: c["text"] for c in item["column_values"]}
    assert text["text_po_number"] == "4755"
    assert text["numeric_order_qty"] == "120"
    assert text["date_ex_factory"] == "2026-06-15"
    assert text["date_eta_warehouse"] == "2026-07-01 10:30"
    assert text["status_order_type"] == "Done"
    assert text["status_delivery_terms"] == "Stuck"
    assert text["status_delivery_method"] == "Sea"  # created: create_labels_if_missing
    assert text["dropdown_aag_season"] == "SS26, AW26"
    assert text["long_text_notes"] == "first line\nsecond line"
    assert text["text_colour"] == "" and text["status_sync"] is None  # empty columns
    raw = {c["id"]: c for c in item["column_values"]}
    assert json.loads(raw["text_po_number"]["value"]) == "4755"
    assert raw["status_order_type"]["label"] == "Done" and raw["status_order_type"]["index"] == 1

    # simple forms: plain strings for status, dropdown, date, long text; numbers as strings
    simple = {
        "status_order_type": "Stuck",
        "dropdown_aag_season": "SS26",
        "date_ex_factory": "2026-08-01",
        "long_text_notes": "plain",
        "numeric_order_qty": "12.5",
    }
    ok(sandbox, mutation(change_values("c", sandbox.board_id, item_id, simple)))
    item = ok(sandbox, ITEMS_QUERY, {"ids": [item_id]})["items"][0]
    text = {c["id"]: c["text"] for c in item["column_values"]}
    assert [text[k] for k in simple] == ["Stuck", "SS26", "2026-08-01", "plain", "12.5"]

    # null and "" clear
    cleared = {"text_po_number": "", "numeric_order_qty": None, "status_order_type": None}
    ok(sandbox, mutation(change_values("c", sandbox.board_id, item_id, cleared)))
    item = ok(sandbox, ITEMS_QUERY, {"ids": [item_id]})["items"][0]
    raw = {c["id"]: c for c in item["column_values"]}
    assert raw["text_po_number"]["text"] == "" and raw["text_po_number"]["value"] is None
    assert raw["numeric_order_qty"]["text"] == "" and raw["status_order_type"]["text"] is None


def test_invalid_values_fail_their_own_alias_only(sandbox: SandboxServer) -> None:
    board = sandbox.board_id
    batch = mutation(
        create_item("good1", board, "ok one", {"text_po_number": "1"}),
        create_item("bad_date", board, "x", {"date_ex_factory": {"date": "2026-13-45"}}),
        create_item("bad_date_shape", board, "x", {"date_ex_factory": {"day": "2026-01-01"}}),
        create_item("bad_number", board, "x", {"numeric_order_qty": "twelve"}),
        create_item("bad_status", board, "x", {"status_order_type": {"label": "Nope"}}),
        create_item("bad_index", board, "x", {"status_order_type": {"index": 99}}),
        create_item("bad_dropdown", board, "x", {"dropdown_category": {"labels": ["Tops"]}}),
        create_item("bad_text", board, "x", {"text_po_number": {"text": "4755"}}),
        create_item("bad_long_text", board, "x", {"long_text_notes": {"body": "4755"}}),
        create_item("bad_column", board, "x", {"text_no_such_column": "1"}),
        create_item("long_name", board, "N" * 256),
        create_item("empty_name", board, ""),
        create_item("good2", board, "ok two"),
        create_item("bad_board", "1", "x"),
    )
    response = post(sandbox, batch)
    assert response.status_code == 200
    payload = response.json()
    data = payload["data"]
    assert data["good1"]["id"] and data["good2"]["id"]
    assert codes(payload) == {
        "bad_date": "ColumnValueException",
        "bad_date_shape": "ColumnValueException",
        "bad_number": "ColumnValueException",
        "bad_status": "ColumnValueException",
        "bad_index": "ColumnValueException",
        "bad_dropdown": "ColumnValueException",
        "bad_text": "ColumnValueException",
        "bad_long_text": "ColumnValueException",
        "bad_column": "InvalidColumnIdException",
        "long_name": "ItemNameTooLongException",
        "empty_name": "ItemNameTooLongException",
        "bad_board": "InvalidBoardIdException",
    }
    for alias in codes(payload):
        assert data[alias] is None
    for error in payload["errors"]:
        assert error["locations"] and error["message"]
        assert error["extensions"]["status_code"] == 200
        assert isinstance(error["extensions"]["error_data"], dict)
    status_error = next(e for e in payload["errors"] if e["path"] == ["bad_status"])
    assert status_error["extensions"]["error_data"]["column_type"] == "status"
    assert "possible statuses" in status_error["message"]
    assert len(board_dump(sandbox)["items"]) == 2  # nothing half-created

    # a failed change leaves the item untouched, labels included
    item_id = data["good1"]["id"]
    change = change_values("c", board, item_id, {"text_po_number": "2", "numeric_order_qty": "x"})
    assert codes(post(sandbox, mutation(change)).json()) == {"c": "ColumnValueException"}
    item = board_dump(sandbox)["items"][0]
    assert item["column_values"]["text_po_number"]["text"] == "1"


def test_change_archive_delete_and_what_lookups_see(sandbox: SandboxServer) -> None:
    board, sub_board = sandbox.board_id, sandbox.subitems_board_id
    created = ok(
        sandbox,
        mutation(
            create_item("a", board, "a", {"text_record_uuid": "u-a"}),
            create_item("b", board, "b", {"text_record_uuid": "u-b"}),
        ),
    )
    a, b = created["a"]["id"], created["b"]["id"]
    sub = ok(sandbox, mutation(create_subitem("s", a, "M", {"numeric_order_qty": "5"})))["s"]["id"]

    ok(sandbox, mutation(change_values("c", sub_board, sub, {"numeric_shipped": 3})))
    wrong_board = post(sandbox, mutation(change_values("c", board, sub, {"text_po_number": "1"})))
    assert codes(wrong_board.json()) == {"c": "InvalidItemIdException"}
    no_board = post(sandbox, mutation(change_values("c", "42", a, {"text_po_number": "1"})))
    assert codes(no_board.json()) == {"c": "InvalidBoardIdException"}

    assert ok(sandbox, ARCHIVE, {"id": a})["archive_item"]["state"] == "archived"
    assert ok(sandbox, DELETE, {"id": b})["x"]["state"] == "deleted"
    assert codes(post(sandbox, DELETE, {"id": b}).json()) == {"x": "InvalidItemIdException"}

    # archived items still exist (items by id), but items_page and lookups return active only
    states = {i["id"]: i["state"] for i in ok(sandbox, ITEMS_QUERY, {"ids": [a, b, sub]})["items"]}
    assert states == {a: "archived", b: "deleted", sub: "archived"}
    lookup = {"board": board, "column": "text_record_uuid", "values": ["u-a", "u-b"]}
    assert ok(sandbox, LOOKUP_QUERY, lookup)["items_page_by_column_values"]["items"] == []
    page = ok(sandbox, BOARD_QUERY, {"board": [board], "limit": 25})["boards"][0]["items_page"]
    assert page["items"] == []
    counts = stats(sandbox)
    assert (counts["items"], counts["subitems"], counts["archived"]) == (1, 1, 2)


def test_items_page_rules_and_order(sandbox: SandboxServer) -> None:
    board = sandbox.board_id
    rows = [("p", "Bulk", 5), ("q", "Sample", 50), ("r", "Bulk", 30)]
    fields = [
        create_item(n, board, n, {"status_order_type": t, "numeric_order_qty": q}, True)
        for n, t, q in rows
    ]
    ok(sandbox, mutation(*fields))
    items = ok(sandbox, FILTER_QUERY, {"board": [board]})["boards"][0]["items_page"]["items"]
    assert [i["name"] for i in items] == ["r", "p"]


def test_create_group_and_create_item_in_it(sandbox: SandboxServer) -> None:
    board = sandbox.board_id
    group = ok(sandbox, CREATE_GROUP, {"board": board, "name": "GREYSON"})["create_group"]
    assert group["title"] == "GREYSON"
    made = ok(sandbox, CREATE_IN_GROUP, {"board": board, "group": group["id"]})
    assert made["a"]["group"]["id"] == group["id"]
    groups = ok(sandbox, BOARD_QUERY, {"board": [board], "limit": 1})["boards"][0]["groups"]
    assert [g["title"] for g in groups] == ["Group Title", "GREYSON"]
    missing = post(sandbox, CREATE_IN_GROUP, {"board": board, "group": "nope"})
    assert codes(missing.json()) == {"a": "InvalidGroupIdException"}


def test_column_values_as_a_variable(sandbox: SandboxServer) -> None:
    query = CREATE_WITH_VARIABLES
    as_string = ok(sandbox, query, {"board": sandbox.board_id, "values": '{"text_po_number":"7"}'})
    as_object = ok(sandbox, query, {"board": sandbox.board_id, "values": {"text_po_number": "8"}})
    assert as_string["create_item"]["column_values"] == [{"text": "7"}]
    assert as_object["create_item"]["column_values"] == [{"text": "8"}]
    broken = post(sandbox, query, {"board": sandbox.board_id, "values": "{not json"}).json()
    assert broken["errors"][0]["extensions"]["code"] == "JsonParseException"


def test_board_full_at_the_configured_cap(make_sandbox: Callable[..., SandboxServer]) -> None:
    sandbox = make_sandbox(max_items_per_board=2)
    board = sandbox.board_id
    payload = post(sandbox, mutation(*(create_item(f"a{i}", board, f"n{i}") for i in range(3))))
    assert codes(payload.json()) == {"a2": "ItemsLimitationException"}
    assert stats(sandbox)["items"] == 2


# ---------------------------------------------------------------------- idempotency
def test_idempotency_key_replays_without_creating_again(sandbox: SandboxServer) -> None:
    batch = mutation(
        create_item("a", sandbox.board_id, "once"), create_item("b", sandbox.board_id, "twice")
    )
    first = post(sandbox, batch, key="key-1")
    again = post(sandbox, batch, key="key-1")
    assert first.status_code == again.status_code == 200
    assert "Idempotency-Replayed" not in first.headers
    assert again.headers["Idempotency-Replayed"] == "true"
    assert again.json() == first.json()
    assert stats(sandbox)["items"] == 2
    other = post(sandbox, batch, key="key-2").json()
    assert other["data"]["a"]["id"] != first.json()["data"]["a"]["id"]
    assert stats(sandbox)["items"] == 4
    assert stats(sandbox)["idempotent_replays"] == 1


def test_idempotency_key_while_the_first_still_runs_is_409(sandbox: SandboxServer) -> None:
    batch = mutation(create_item("a", sandbox.board_id, "slow"))
    results: list[requests.Response] = []
    with sandbox.hold():
        worker = threading.Thread(target=lambda: results.append(post(sandbox, batch, key="k")))
        worker.start()
        assert sandbox.wait_held(1)
        conflict = post(sandbox, batch, key="k")
    worker.join(timeout=10)
    assert conflict.status_code == 409
    assert int(conflict.headers["Retry-After"]) >= 1
    assert conflict.json()["errors"][0]["extensions"]["code"] == "IDEMPOTENCY_CONFLICT"
    assert results[0].status_code == 200
    replay = post(sandbox, batch, key="k")
    assert replay.json() == results[0].json()
    assert stats(sandbox)["items"] == 1


# ---------------------------------------------------------------------- limits
def test_complexity_budget_exhausted_then_recovers_after_the_window(
    make_sandbox: Callable[..., SandboxServer],
) -> None:
    sandbox = make_sandbox(complexity_budget=30_000, window_seconds=1.0)
    one = mutation(create_item("a", sandbox.board_id, "x"), complexity=True)
    receipts = [ok(sandbox, one)["complexity"] for _ in range(3)]
    assert [r["after"] for r in receipts] == [20_000, 10_000, 0]
    assert receipts[0]["reset_in_x_seconds"] == 1

    refused = post(sandbox, one)
    assert refused.status_code == 429
    error = refused.json()["errors"][0]
    assert error["extensions"]["code"] == "COMPLEXITY_BUDGET_EXHAUSTED"
    retry = error["extensions"]["retry_in_seconds"]
    assert retry == 1 and refused.headers["Retry-After"] == "1"
    assert error["extensions"]["complexity_budget_left"] == 0
    assert stats(sandbox)["items"] == 3

    time.sleep(retry)  # what a well-behaved client does with retry_in_seconds
    recovered = ok(sandbox, one)["complexity"]
    assert recovered["before"] == 30_000 and recovered["after"] == 20_000


def test_a_request_over_the_per_query_maximum_runs_nothing(
    make_sandbox: Callable[..., SandboxServer],
) -> None:
    sandbox = make_sandbox(max_complexity_per_query=25_000)
    response = post(
        sandbox, mutation(*(create_item(f"a{i}", sandbox.board_id, "x") for i in range(3)))
    )
    assert response.status_code == 200
    error = response.json()["errors"][0]
    assert error["extensions"]["code"] == "maxComplexityExceeded"
    assert "30000" in error["message"]
    assert stats(sandbox)["items"] == 0


def test_minute_request_limit_is_429_with_retry_after(
    make_sandbox: Callable[..., SandboxServer],
) -> None:
    sandbox = make_sandbox(requests_per_minute=3)
    statuses = [post(sandbox, COMPLEXITY_QUERY).status_code for _ in range(3)]
    refused = post(sandbox, COMPLEXITY_QUERY)
    assert statuses == [200, 200, 200]
    assert refused.status_code == 429
    assert refused.json()["errors"][0]["message"] == "Minute limit rate exceeded"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.json()["errors"][0]["extensions"]["retry_in_seconds"] >= 1
    assert '"minuteRate";r=0;t=' in refused.headers["RateLimit"]
    assert '"minuteRate";q=3;w=60' in refused.headers["RateLimit-Policy"]


def test_concurrency_limit_is_429(make_sandbox: Callable[..., SandboxServer]) -> None:
    sandbox = make_sandbox(max_concurrency=2)
    results: list[int] = []
    with sandbox.hold():
        workers = [
            threading.Thread(
                target=lambda: results.append(post(sandbox, COMPLEXITY_QUERY).status_code)
            )
            for _ in range(2)
        ]
        for worker in workers:
            worker.start()
        assert sandbox.wait_held(2)
        refused = post(sandbox, COMPLEXITY_QUERY)
    for worker in workers:
        worker.join(timeout=10)
    assert refused.status_code == 429
    assert refused.json()["errors"][0]["extensions"]["code"] == "maxConcurrencyExceeded"
    assert "Retry-After" in refused.headers
    assert results == [200, 200]


def test_daily_limit(make_sandbox: Callable[..., SandboxServer]) -> None:
    sandbox = make_sandbox(daily_limit=2)
    noon = 20_423 * 86_400 + 12 * 3600  # 2025-12-01T12:00Z: the day resets 12 h later
    sandbox.app.limits.utc_clock = lambda: noon
    assert [post(sandbox, COMPLEXITY_QUERY).status_code for _ in range(2)] == [200, 200]
    refused = post(sandbox, COMPLEXITY_QUERY)
    assert refused.status_code == 429
    extensions = refused.json()["errors"][0]["extensions"]
    assert extensions["code"] == "DAILY_LIMIT_EXCEEDED"
    assert extensions["retry_in_seconds"] == 12 * 3600


def test_ip_limit(make_sandbox: Callable[..., SandboxServer]) -> None:
    sandbox = make_sandbox(ip_limit=2, ip_window_seconds=10.0)
    assert [post(sandbox, COMPLEXITY_QUERY).status_code for _ in range(2)] == [200, 200]
    refused = post(sandbox, COMPLEXITY_QUERY)
    assert refused.status_code == 429
    assert refused.json()["errors"][0]["extensions"]["code"] == "IP_RATE_LIMIT_EXCEEDED"
    assert 1 <= int(refused.headers["Retry-After"]) <= 10


def test_rate_limit_headers_on_every_response(sandbox: SandboxServer) -> None:
    response = post(sandbox, COMPLEXITY_QUERY)
    policy, current = response.headers["RateLimit-Policy"], response.headers["RateLimit"]
    assert '"minuteRate";q=5000;w=60' in policy and '"complexityMinute";q=10000000' in policy
    assert '"minuteRate";r=4999' in current and '"concurrency";r=249' in current


# ---------------------------------------------------------------------- faults
def test_fault_500_every_nth_request_executes_nothing(
    make_sandbox: Callable[..., SandboxServer],
) -> None:
    sandbox = make_sandbox(faults=FaultConfig(every_n=2, kinds=("error_500",)))
    statuses = [
        post(sandbox, mutation(create_item("a", sandbox.board_id, f"n{i}"))).status_code
        for i in range(4)
    ]
    assert statuses == [200, 500, 200, 500]
    assert stats(sandbox)["items"] == 2
    assert stats(sandbox)["faults"] == {"error_500": 2}


def test_fault_locked_423_with_retry_after(make_sandbox: Callable[..., SandboxServer]) -> None:
    sandbox = make_sandbox(
        faults=FaultConfig(every_n=1, kinds=("locked_423",), mutations_only=True)
    )
    assert post(sandbox, COMPLEXITY_QUERY).status_code == 200  # queries untouched
    locked = post(sandbox, mutation(create_item("a", sandbox.board_id, "x")))
    assert locked.status_code == 423
    assert locked.headers["Retry-After"] == "1"
    assert "locked" in locked.json()["errors"][0]["message"]
    assert stats(sandbox)["items"] == 0


def test_fault_drop_before_execute_loses_nothing(
    make_sandbox: Callable[..., SandboxServer],
) -> None:
    sandbox = make_sandbox(faults=FaultConfig(every_n=1, kinds=("drop_before_execute",)))
    batch = mutation(create_item("a", sandbox.board_id, "x"))
    with pytest.raises(requests.ConnectionError):
        post(sandbox, batch, key="k1")
    assert stats(sandbox)["items"] == 0
    sandbox.set_faults(FaultConfig())
    assert post(sandbox, batch, key="k1").headers.get("Idempotency-Replayed") is None
    assert stats(sandbox)["items"] == 1


def test_fault_drop_after_execute_survived_with_the_idempotency_key(
    make_sandbox: Callable[..., SandboxServer],
) -> None:
    sandbox = make_sandbox(faults=FaultConfig(every_n=1, kinds=("drop_after_execute",)))
    batch = mutation(create_item("a", sandbox.board_id, "x", {"text_record_uuid": "u-9"}))
    with pytest.raises(requests.ConnectionError):
        post(sandbox, batch, key="k1")
    assert stats(sandbox)["items"] == 1  # it ran: the client just never heard
    sandbox.set_faults(FaultConfig())
    retry = post(sandbox, batch, key="k1")
    assert retry.headers["Idempotency-Replayed"] == "true"
    assert retry.json()["data"]["a"]["id"] == board_dump(sandbox)["items"][0]["id"]
    assert stats(sandbox)["items"] == 1


def test_fault_delay(make_sandbox: Callable[..., SandboxServer]) -> None:
    sandbox = make_sandbox(faults=FaultConfig(every_n=1, kinds=("delay",), delay_seconds=0.3))
    started = time.monotonic()
    assert post(sandbox, COMPLEXITY_QUERY).status_code == 200
    assert time.monotonic() - started >= 0.3
    assert stats(sandbox)["faults"] == {"delay": 1}


def test_faults_set_at_runtime_are_deterministic_with_a_seed(
    make_sandbox: Callable[..., SandboxServer],
) -> None:
    settings = {"rate": 0.5, "seed": 7, "kinds": ["error_500", "locked_423"]}

    def run(sandbox: SandboxServer) -> list[int]:
        answer = requests.post(f"{sandbox.base_url}/_sandbox/faults", json=settings, timeout=10)
        assert answer.status_code == 200
        return [post(sandbox, COMPLEXITY_QUERY).status_code for _ in range(12)]

    first, second = run(make_sandbox()), run(make_sandbox())
    assert first == second
    assert {200, 500, 423} <= set(first)
    bad = requests.post(
        f"{make_sandbox().base_url}/_sandbox/faults", json={"kinds": ["meteor"]}, timeout=10
    )
    assert bad.status_code == 400


# ---------------------------------------------------------------------- state and control
def test_state_file_survives_a_restart(
    make_sandbox: Callable[..., SandboxServer], tmp_path: Path
) -> None:
    state_file = tmp_path / "board.json"
    first = make_sandbox(state_file=state_file)
    made = ok(
        first,
        mutation(create_item("a", first.board_id, "kept", {"status_sync": "Cancelled in source"})),
    )
    item_id = made["a"]["id"]
    ok(first, mutation(create_subitem("s", item_id, "M", {"numeric_order_qty": "5"})))
    # On disk before the response: the files a kill would leave load.
    killed = tmp_path / "killed"
    killed.mkdir()
    for path in tmp_path.glob("board.json*"):
        shutil.copyfile(path, killed / path.name)
    saved = make_sandbox(state_file=killed / "board.json").dump()["items"]
    assert [(i["name"], [s["name"] for s in i["subitems"]]) for i in saved] == [("kept", ["M"])]
    first.stop()  # the journal is compacted on stop
    assert json.loads(state_file.read_text("utf-8"))["version"] == STATE_VERSION
    assert (tmp_path / "board.json.journal").read_bytes() == b""

    second = make_sandbox(state_file=state_file)
    item = ok(second, ITEMS_QUERY, {"ids": [item_id]})["items"][0]
    assert item["name"] == "kept" and [s["name"] for s in item["subitems"]] == ["M"]
    status = {c["id"]: c["text"] for c in item["column_values"]}["status_sync"]
    assert status == "Cancelled in source"
    newer = ok(second, mutation(create_item("a", second.board_id, "new")))["a"]["id"]
    assert int(newer) > int(item_id)


def test_reset_and_board_dump(sandbox: SandboxServer) -> None:
    ok(sandbox, mutation(create_item("a", sandbox.board_id, "x", {"text_po_number": "4755"})))
    dump = board_dump(sandbox)
    assert dump["items"][0]["column_values"]["text_po_number"] == {
        "text": "4755",
        "value": '"4755"',
    }
    assert dump["board"]["id"] == sandbox.board_id
    reset = requests.post(f"{sandbox.base_url}/_sandbox/reset", json={"limits": True}, timeout=10)
    assert reset.status_code == 200
    assert board_dump(sandbox)["items"] == []
    assert stats(sandbox)["requests"] == 0


def test_module_entry_point_prints_one_json_line_and_serves() -> None:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, "-m", "orders_sync_gui.monday.sandbox", "--port", "0"],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready = json.loads(process.stdout.readline())
        assert ready["url"].startswith("http://127.0.0.1:") and ready["url"].endswith("/v2")
        assert ready["board_id"] == "1800000001"
        response = requests.post(
            ready["url"],
            json={"query": COMPLEXITY_QUERY},
            headers={"Authorization": ready["token"]},
            timeout=10,
        )
        assert response.status_code == 200
        assert response.json()["data"]["complexity"]["before"] == 10_000_000
    finally:
        process.terminate()
        process.wait(timeout=10)
    assert process.returncode == 0, process.stderr.read() if process.stderr else ""


# ---------------------------------------------------------------------- schema conformance
@pytest.fixture(scope="module")
def monday_schema() -> graphql.GraphQLSchema:
    """monday's published SDL of the sandbox's version; skips, saying so, where absent."""
    return mondays_schema(SCHEMA_VERSION)


def test_every_document_shape_validates_against_the_sandbox_sdl() -> None:
    ours = graphql.build_schema(SCHEMA_PATH.read_text("utf-8"))
    for document in SHAPES:
        assert graphql.validate(ours, graphql.parse(document)) == [], document
    assert graphql.validate(ours, graphql.parse("query { version { no_such_field } }"))


def test_every_document_shape_validates_against_mondays_schema(
    monday_schema: graphql.GraphQLSchema,
) -> None:
    for document in SHAPES:
        assert graphql.validate(monday_schema, graphql.parse(document)) == [], document


def test_sandbox_sdl_is_a_subset_of_mondays(monday_schema: graphql.GraphQLSchema) -> None:
    """Same types, fields, argument and input types, and no required argument left out:
    so any document valid against the sandbox is valid against monday."""
    ours = graphql.build_schema(SCHEMA_PATH.read_text("utf-8"))
    problems: list[str] = []
    for name, ours_type in ours.type_map.items():
        if name.startswith("__"):
            continue
        theirs = monday_schema.type_map.get(name)
        if theirs is None or type(theirs) is not type(ours_type):
            problems.append(f"type {name}")
            continue
        if isinstance(ours_type, graphql.GraphQLEnumType):
            assert isinstance(theirs, graphql.GraphQLEnumType)
            problems += [f"{name}.{v}" for v in set(ours_type.values) - set(theirs.values)]
        if isinstance(ours_type, graphql.GraphQLInputObjectType):
            assert isinstance(theirs, graphql.GraphQLInputObjectType)
            for field_name, field in theirs.fields.items():
                if graphql.is_required_input_field(field) and field_name not in ours_type.fields:
                    problems.append(f"{name}.{field_name} required")
            for field_name, field in ours_type.fields.items():
                other = theirs.fields.get(field_name)
                if other is None or str(other.type) != str(field.type):
                    problems.append(f"{name}.{field_name}")
        if isinstance(ours_type, graphql.GraphQLObjectType | graphql.GraphQLInterfaceType):
            assert isinstance(theirs, graphql.GraphQLObjectType | graphql.GraphQLInterfaceType)
            for field_name, field in ours_type.fields.items():
                other_field = theirs.fields.get(field_name)
                if other_field is None or str(other_field.type) != str(field.type):
                    problems.append(f"{name}.{field_name}")
                    continue
                for arg_name, arg in other_field.args.items():
                    mine = field.args.get(arg_name)
                    if mine is None and graphql.is_required_argument(arg):
                        problems.append(f"{name}.{field_name}({arg_name}) required")
                    elif mine is not None and str(mine.type) != str(arg.type):
                        problems.append(f"{name}.{field_name}({arg_name})")
    assert problems == []
