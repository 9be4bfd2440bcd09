"""The sandbox as an existing board: monday-like generated column ids, create_column, and a
board filled from a database the way the earlier scripts did, with the mess of time."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import graphql
import pytest
import requests
from schemas import mondays_schema, sandbox_schema
from sqlalchemy import create_engine, text

from orders_sync_gui.core.columns import CUSTOMER_NAME
from orders_sync_gui.monday.columns import CREATE_COLUMN_MUTATION
from orders_sync_gui.monday.sandbox import SandboxConfig, SandboxServer
from orders_sync_gui.monday.sandbox.app import SCHEMA_VERSION
from orders_sync_gui.monday.sandbox.cli import build_config
from orders_sync_gui.monday.sandbox.column_ids import GENERATED_ID
from orders_sync_gui.monday.sandbox.config import LegacyMess
from orders_sync_gui.monday.sandbox.layout import load_mapping
from orders_sync_gui.services.legacy_source import LegacySourceError, legacy_records
from orders_sync_gui.settings import load_customer_map

REPO = Path(__file__).resolve().parents[2]
COLUMNS_QUERY = """query ($ids: [ID!]) { boards(ids: $ids) { id
  columns { id title type settings_str } } }"""


def post(server: SandboxServer, query: str, variables: dict[str, Any] | None = None) -> dict:
    response = requests.post(
        server.url,
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": server.config.token},
        timeout=10,
    )
    assert response.status_code == 200, response.text
    return response.json()


def columns_of(server: SandboxServer, board_id: str) -> list[dict[str, str]]:
    data = post(server, COLUMNS_QUERY, {"ids": [board_id]})["data"]
    return data["boards"][0]["columns"]


def layout(server: SandboxServer) -> list[tuple[str, str, str]]:
    return [
        (c["id"], c["title"], c["type"])
        for board in (server.board_id, server.subitems_board_id)
        for c in columns_of(server, board)
    ]


def column_id(dump: dict, title: str, board: str = "board") -> str:
    return next(c["id"] for c in dump[board]["columns"] if c["title"] == title)


# ---------------------------------------------------------------------- generated ids
def test_generated_ids_look_like_mondays_and_keep_titles_and_types(make_sandbox) -> None:
    template = layout(make_sandbox())
    generated = layout(make_sandbox(column_ids="generated", board_seed=11))
    assert [(t, k) for _, t, k in generated] == [(t, k) for _, t, k in template]
    fixed = {"name", "subitems"}
    ids = [i for i, _, _ in generated if i not in fixed]
    assert all(GENERATED_ID.fullmatch(i) for i in ids), ids
    assert not set(ids) & {i for i, _, _ in template}
    prefixes = {i.rsplit("_mk", 1)[0] for i in ids}
    assert prefixes == {"text", "numeric", "date", "color", "dropdown", "long_text"}
    kinds = {k for i, _, k in generated if i.startswith("color_")}
    assert kinds == {"status"}  # a status column's id says "color", as monday's do


def test_generated_ids_repeat_with_the_seed_and_change_with_it(make_sandbox) -> None:
    first = layout(make_sandbox(column_ids="generated", board_seed=3))
    again = layout(make_sandbox(column_ids="generated", board_seed=3))
    other = layout(make_sandbox(column_ids="generated", board_seed=4))
    assert first == again
    assert first != other


def test_generated_layout_moves_labels_and_missing_columns_along(make_sandbox) -> None:
    server = make_sandbox(
        column_ids="generated",
        labels={"status_order_type": ["Bulk", "Sample"]},
        missing_columns=("text_drop", "numeric_order_qty"),
    )
    dump = server.dump()
    titles = {c["title"] for c in dump["board"]["columns"]}
    assert "DROP" not in titles and "ORDER QTY" not in titles
    assert "Order Qty" not in {c["title"] for c in dump["subitems_board"]["columns"]}
    settings = next(c for c in dump["board"]["columns"] if c["title"] == "ORDER TYPE")
    assert {"Bulk", "Sample"} <= set(json.loads(settings["settings_str"])["labels"].values())


def test_an_unknown_column_id_mode_is_refused() -> None:
    with pytest.raises(ValueError, match="column_ids"):
        SandboxServer(SandboxConfig(column_ids="random"))


# ---------------------------------------------------------------------- create_column
def test_create_column_generates_an_id_and_answers_the_column(make_sandbox) -> None:
    server = make_sandbox()
    data = post(
        server,
        CREATE_COLUMN_MUTATION,
        {"board": server.board_id, "title": "Factory", "type": "status"},
    )["data"]["create_column"]
    assert GENERATED_ID.fullmatch(data["id"]) and data["id"].startswith("color_mk")
    assert data["title"] == "Factory" and data["type"] == "status"
    assert json.loads(data["settings_str"])["labels"]  # monday's default labels
    assert columns_of(server, server.board_id)[-1]["id"] == data["id"]
    sub = post(
        server,
        CREATE_COLUMN_MUTATION,
        {"board": server.subitems_board_id, "title": "Colour", "type": "text"},
    )["data"]["create_column"]
    assert sub["id"] in {c["id"] for c in columns_of(server, server.subitems_board_id)}


def test_create_column_takes_mondays_other_arguments(make_sandbox) -> None:
    server = make_sandbox()
    query = """mutation ($board: ID!) {
      a: create_column(board_id: $board, title: "Season code", column_type: dropdown,
        id: "season_code", after_column_id: "text_po_number", description: "from SAP",
        defaults: "{\\"settings\\":{\\"labels\\":[{\\"id\\":1,\\"name\\":\\"SS27\\"}]}}") {
        id title type description settings_str }
      b: create_column(board_id: $board, title: "x", column_type: text, id: "Bad-Id") { id }
      c: create_column(board_id: $board, title: "x", column_type: text, id: "season_code") {
        id }
      d: create_column(board_id: $board, title: "x", column_type: subtasks) { id }
      e: create_column(board_id: $board, title: " ", column_type: text) { id }
      f: create_column(board_id: $board, title: "x", column_type: text,
        after_column_id: "no_such_column") { id }
    }"""
    payload = post(server, query, {"board": server.board_id})
    made = payload["data"]["a"]
    assert made["id"] == "season_code" and made["description"] == "from SAP"
    assert json.loads(made["settings_str"]) == {"labels": [{"id": 1, "name": "SS27"}]}
    ids = [c["id"] for c in columns_of(server, server.board_id)]
    assert ids[ids.index("text_po_number") + 1] == "season_code"
    errors = {e["path"][0]: e["extensions"]["code"] for e in payload["errors"]}
    assert errors == {
        "b": "InvalidArgumentException",
        "c": "InvalidArgumentException",
        "d": "InvalidArgumentException",
        "e": "InvalidArgumentException",
        "f": "InvalidColumnIdException",
    }
    assert {k: payload["data"][k] for k in "bcdef"} == dict.fromkeys("bcdef")


def test_a_created_column_survives_a_restart_on_the_state_file(make_sandbox, tmp_path) -> None:
    state = tmp_path / "board.json"
    first = make_sandbox(state_file=state, column_ids="generated")
    made = post(
        first,
        CREATE_COLUMN_MUTATION,
        {"board": first.board_id, "title": "Factory", "type": "text"},
    )["data"]["create_column"]
    item = post(
        first,
        """mutation ($board: ID!, $values: JSON) {
          create_item(board_id: $board, item_name: "i", column_values: $values) { id } }""",
        {"board": first.board_id, "values": json.dumps({made["id"]: "Dhaka"})},
    )["data"]["create_item"]["id"]
    # Read back while the first still runs (as after a kill): snapshot plus journal.
    assert made["id"] in (tmp_path / "board.json.journal").read_text("utf-8")
    second = make_sandbox(state_file=state, column_ids="generated", board_seed=99)
    assert made["id"] in {c["id"] for c in columns_of(second, second.board_id)}
    values = second.dump()["items"][0]["column_values"]
    assert second.dump()["items"][0]["id"] == item and values[made["id"]]["text"] == "Dhaka"


def test_the_create_column_document_is_valid_for_the_sandbox_and_for_monday() -> None:
    document = graphql.parse(CREATE_COLUMN_MUTATION)
    assert graphql.validate(sandbox_schema(), document) == []
    # monday's own SDL of the pinned version, where it is at hand (else this skips, saying so).
    theirs = mondays_schema(SCHEMA_VERSION)
    assert graphql.validate(theirs, document) == []
    mutation = theirs.mutation_type.fields["create_column"]
    ours = sandbox_schema().mutation_type.fields["create_column"]
    assert {n: str(a.type) for n, a in ours.args.items()} == {
        n: str(a.type) for n, a in mutation.args.items() if n in ours.args
    }


# ---------------------------------------------------------------------- the legacy fill
def orders_per_customer(db: str) -> Counter[str]:
    """Straight from ORDERS_UNIFIED, folded by the customer map: not through the fill."""
    engine = create_engine(db)
    with engine.connect() as conn:
        names = conn.execute(text(f'SELECT "{CUSTOMER_NAME}" FROM ORDERS_UNIFIED')).scalars()
        customers = load_customer_map()
        counted = Counter(customers.canonical(n) for n in names)
    engine.dispose()
    return counted


def legacy(make_sandbox, db: str, seed: int = 5, **config: Any) -> SandboxServer:
    records = tuple(legacy_records(db))
    return make_sandbox(column_ids="generated", board_seed=seed, legacy_records=records, **config)


def test_the_legacy_board_has_an_item_per_order_in_a_group_per_customer(make_sandbox, db):
    server = legacy(make_sandbox, db)
    truth = server.app.legacy_truth
    dump = server.dump()
    expected = orders_per_customer(db)
    assert truth.orders == sum(expected.values()) == 150
    assert {c: v["orders"] for c, v in truth.customers.items()} == dict(expected)
    groups = {g["id"]: g["title"] for g in dump["board"]["groups"]}
    items = [i for i in dump["items"] if i["state"] == "active"]
    per_group = Counter(groups[i["group_id"]] for i in items)
    for customer, orders in expected.items():
        less = sum(m.customer == customer for m in truth.missing)
        more = sum(d.customer == customer for d in truth.duplicated)
        more += sum(o.customer == customer for o in truth.orphan)
        assert per_group[customer] == orders - less + more, customer
    assert (
        len(items)
        == truth.items
        == 150 - len(truth.missing) + len(truth.duplicated) + len(truth.orphan)
    )
    uuid_column = column_id(dump, "RECORD UUID")
    assert {i["column_values"][uuid_column]["text"] for i in items} == {""}
    assert all(i["subitems"] for i in items)  # every order has at least one size
    assert sum(len(i["subitems"]) for i in items) == truth.subitems


def test_the_legacy_mess_is_what_the_truth_says(make_sandbox, db):
    server = legacy(make_sandbox, db)
    truth = server.app.legacy_truth
    # About 2% edited, 1% doubled, missing and orphaned, rounded up: of 150 orders.
    assert (len(truth.edited), len(truth.duplicated)) == (3, 2)
    assert (len(truth.missing), len(truth.orphan)) == (2, 2)
    dump = server.dump()
    items = {i["id"]: i for i in dump["items"]}
    number_column = column_id(dump, "AAG ORDER NUMBER")
    numbers = Counter(i["column_values"][number_column]["text"] for i in items.values())
    for edit in truth.edited:
        assert items[edit.item_id]["column_values"][edit.column_id]["text"] == edit.new
        assert edit.new != edit.old
    for double in truth.duplicated:
        first, second = (items[i] for i in double.item_ids)
        assert first["name"] == second["name"] and numbers[double.order_number] == 2
    for gone in truth.missing:
        assert numbers[gone.order_number] == 0
    source_numbers = {r.fields["AAG ORDER NUMBER"] for r in legacy_records(db)}
    for orphan in truth.orphan:
        assert items[orphan.item_id]["name"] == orphan.name
        assert orphan.order_number not in source_numbers
        assert numbers[orphan.order_number] == 1
    assert set(truth.item_orders) == set(items) - {o.item_id for o in truth.orphan}


def test_the_legacy_board_repeats_with_its_seed(make_sandbox, db, tmp_path):
    first = legacy(make_sandbox, db, seed=9, legacy_truth_file=tmp_path / "truth.json")
    again = legacy(make_sandbox, db, seed=9)
    other = legacy(make_sandbox, db, seed=10)
    assert first.app.legacy_truth == again.app.legacy_truth
    assert first.app.legacy_truth.to_json() != other.app.legacy_truth.to_json()

    def board(server: SandboxServer) -> list[tuple[str, str]]:
        return [(i["id"], i["name"]) for i in server.dump()["items"]]

    assert board(first) == board(again)
    written = json.loads((tmp_path / "truth.json").read_text("utf-8"))
    assert written == first.app.legacy_truth.to_json()
    assert set(written) >= {"edited", "duplicated", "missing", "orphan", "customers"}


def test_a_legacy_board_can_be_of_some_customers_and_without_mess(make_sandbox, db):
    records = tuple(legacy_records(db, ["greyson clothiers", "Rhone"]))
    server = make_sandbox(legacy_records=records, legacy_mess=LegacyMess(0, 0, 0, 0))
    truth = server.app.legacy_truth
    expected = orders_per_customer(db)
    assert truth.customers == {
        "GREYSON": {"orders": expected["GREYSON"], "items": expected["GREYSON"]},
        "RHONE": {"orders": expected["RHONE"], "items": expected["RHONE"]},
    }
    assert not (truth.edited or truth.duplicated or truth.missing or truth.orphan)
    dump = server.dump()
    assert {i["column_values"]["text_record_uuid"]["text"] for i in dump["items"]} == {""}
    with pytest.raises(LegacySourceError, match="NOBODY"):
        legacy_records(db, ["NOBODY"])


def test_a_legacy_board_too_big_for_the_board_is_refused(db):
    records = tuple(legacy_records(db))
    with pytest.raises(ValueError, match=r"needs \d+ items"):
        SandboxServer(SandboxConfig(legacy_records=records, max_items_per_board=100))


def test_a_state_file_that_holds_a_board_is_not_filled_twice(make_sandbox, db, tmp_path):
    state = tmp_path / "legacy.json"
    first = legacy(make_sandbox, db, state_file=state)
    count = len(first.dump()["items"])
    first.stop()
    second = legacy(make_sandbox, db, state_file=state)
    assert second.app.legacy_truth is None
    assert len(second.dump()["items"]) == count


def test_the_command_line_options_build_the_same_config(db, tmp_path):
    seen: list[tuple[str, list[str] | None]] = []

    def reader(url: str, customers: list[str] | None) -> list:
        seen.append((url, customers))
        return legacy_records(url, customers)

    config = build_config(
        [
            "--column-ids",
            "generated",
            "--seed",
            "7",
            "--legacy-from",
            db,
            "--legacy-customers",
            "GREYSON, VUORI",
            "--legacy-truth",
            str(tmp_path / "t.json"),
        ],
        reader,
    )
    assert seen == [(db, ["GREYSON", "VUORI"])]
    assert (config.column_ids, config.board_seed) == ("generated", 7)
    assert {r.customer for r in config.legacy_records} == {"GREYSON", "VUORI"}
    assert config.legacy_truth_file == tmp_path / "t.json"
    with pytest.raises(SystemExit) as usage:
        build_config(["--legacy-from", db])  # no reader: the sandbox reads no database
    assert usage.value.code == 2
    with pytest.raises(SystemExit) as failed:
        build_config(["--legacy-from", "sqlite:////nonexistent/x.db"], reader)
    assert failed.value.code == 1


def test_orders_sync_sandbox_legacy_from_prints_its_counts(db, tmp_path):
    truth = tmp_path / "truth.json"
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "orders_sync_gui.cli",  # the orders-sync command
            "sandbox",
            "--port",
            "0",
            "--column-ids",
            "generated",
            "--legacy-from",
            db,
            "--legacy-truth",
            str(truth),
            "--seed",
            "5",
        ],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stdout is not None
        ready = json.loads(process.stdout.readline())
    finally:
        process.terminate()
        process.wait(timeout=20)
    assert ready["legacy"]["orders"] == 150 and ready["legacy"]["truth_file"] == str(truth)
    assert json.loads(truth.read_text("utf-8"))["items"] == ready["legacy"]["items"]


def test_the_template_mapping_is_untouched_by_a_generated_layout(make_sandbox):
    before = load_mapping()
    make_sandbox(column_ids="generated")
    assert load_mapping() == before
