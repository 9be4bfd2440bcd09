"""`orders-sync mapping --from-board` over loopback: a board with monday's generated column
ids is matched column by column, the user's mapping written, and a push then lands in the
board's own columns; look-alike and renamed columns are named, and nothing half is written."""

from __future__ import annotations

import json
from typing import Any

import pytest
from pushkit import CUSTOMER, TOKEN

from orders_sync_gui.cli import main
from orders_sync_gui.core.mapping_match import SUBITEMS, Slot, mapping_slots
from orders_sync_gui.monday.board import check_mapping, fetch_board
from orders_sync_gui.monday.sandbox import SandboxServer
from orders_sync_gui.monday.sandbox.layout import load_mapping as template_mapping
from orders_sync_gui.paths import config_dir
from orders_sync_gui.services.mapping_from_board import (
    MappingFromBoardError,
    create_missing_column,
    find_slot,
    mapping_from_board,
)
from orders_sync_gui.services.monday_setup import setup_for_mapping
from orders_sync_gui.settings import load_mapping


@pytest.fixture
def env(monkeypatch):
    """Point the commands at a sandbox, as a scheduled run is pointed at monday.com."""

    def point(server: SandboxServer) -> SandboxServer:
        monkeypatch.setenv("ORDERS_SYNC_MONDAY_URL", server.url)
        monkeypatch.setenv("MONDAY_API_TOKEN", TOKEN)
        monkeypatch.setenv("ORDERS_SYNC_BOARD_ID", server.board_id)
        return server

    return point


def run(capsys, *args: str) -> tuple[int, Any, str]:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    try:
        return code, json.loads(out), err
    except json.JSONDecodeError:
        return code, out, err


def board_ids(server: SandboxServer) -> dict[tuple[str, str], str]:
    """(board, title) -> column id, of both boards as the sandbox holds them."""
    dump = server.dump()
    out = {("board", c["title"]): c["id"] for c in dump["board"]["columns"]}
    out |= {(SUBITEMS, c["title"]): c["id"] for c in dump["subitems_board"]["columns"]}
    return out


def test_a_board_with_generated_ids_is_matched_written_and_pushed_to(make_sandbox, env, db, capsys):
    server = env(make_sandbox(column_ids="generated", board_seed=21))
    user_file = config_dir() / "board_mapping.json"
    assert not user_file.exists()

    code, report, err = run(capsys, "mapping", "--from-board", "--write", "--json")
    assert code == 0, err
    assert report["ambiguous"] == [] and report["unmatched"] == []
    assert report["written"] == str(user_file) and user_file.is_file()
    ids = board_ids(server)
    slots = mapping_slots(template_mapping())
    assert len(report["matched"]) == len(slots)
    for slot, matched in zip(slots, report["matched"], strict=True):
        assert matched["source"] == slot.source
        assert matched["column_id"] == ids[(slot.board, slot.title)] != slot.column_id
        assert (matched["title"], matched["type"]) == (slot.title, slot.type)
    assert {"source", "column_id", "title", "type"} <= set(report["matched"][0])

    # The user's mapping names the board's columns; the bundled template is untouched.
    written = json.loads(user_file.read_text("utf-8"))
    assert written["board_id"] == server.board_id
    assert {s.column_id for s in mapping_slots(written)} <= set(ids.values())
    assert template_mapping()["columns"][0]["column_id"] == "text_order_number"
    mapping = load_mapping()  # the user's copy wins
    setup = setup_for_mapping(mapping)
    client = setup.client()
    try:
        check_mapping(fetch_board(client, server.board_id), mapping)  # the pre-push check
    finally:
        client.close()

    # A small batch pushes into the board's own columns.
    code, staged, err = run(
        capsys, "--db", db, "stage", "--customer", CUSTOMER, "--limit", "5", "--json"
    )
    assert code == 0, err
    code, pushed, err = run(
        capsys, "--db", db, "push", "--batch", str(staged["batch_id"]), "--json"
    )
    assert code == 0, err
    assert pushed["status"] == "PUSHED" and pushed["succeeded"] == 5
    items = [i for i in server.dump()["items"] if i["state"] == "active"]
    assert len(items) == 5
    uuid_id = ids[("board", "RECORD UUID")]
    qty_id = ids[("board", "ORDER QTY")]
    sub_qty_id = ids[(SUBITEMS, "Order Qty")]
    for item in items:
        values = item["column_values"]
        assert len(values[uuid_id]["text"]) == 36  # the record uuid, in the board's column
        sizes = [int(s["column_values"][sub_qty_id]["text"]) for s in item["subitems"]]
        assert int(values[qty_id]["text"]) == sum(sizes) > 0
    assert not any(c.startswith("text_order") for i in items for c in i["column_values"])


def test_the_text_output_lists_every_column_and_what_was_written(make_sandbox, env, capsys):
    env(make_sandbox(column_ids="generated"))
    code, out, _ = run(capsys, "mapping", "--from-board", "--write")
    assert code == 0
    assert "31 of the mapping's 31 columns matched" in out
    assert "CUSTOMER COLOUR DESCRIPTION" in out and "subitems.qty_column" in out
    assert f"wrote {config_dir() / 'board_mapping.json'}" in out


def test_two_columns_titled_alike_are_ambiguous_and_nothing_is_written(make_sandbox, env, capsys):
    server = env(
        make_sandbox(
            column_ids="generated",
            extra_columns=({"column_id": "text_mkdouble", "title": "Po Number", "type": "text"},),
        )
    )
    code, report, err = run(capsys, "mapping", "--from-board", "--write", "--json")
    assert code == 1
    [ambiguous] = report["ambiguous"]
    assert ambiguous["source"] == "PO NUMBER"
    assert {c["column_id"] for c in ambiguous["candidates"]} == {
        board_ids(server)[("board", "PO NUMBER")],
        "text_mkdouble",
    }
    assert {c["title"] for c in ambiguous["candidates"]} == {"PO NUMBER", "Po Number"}
    assert report["unmatched"] == [] and report["written"] is None
    assert len(err.strip().splitlines()) == 1
    assert "nothing written: 1 ambiguous" in err and "--write` again" in err
    assert not (config_dir() / "board_mapping.json").exists()


def test_a_renamed_column_is_unmatched_and_nothing_is_written(make_sandbox, env, capsys):
    renamed = template_mapping()
    renamed["columns"][2]["title"] = "Customer PO #"  # someone renamed PO NUMBER on the board
    env(make_sandbox(column_ids="generated", mapping=renamed))
    code, report, err = run(capsys, "mapping", "--from-board", "--json")
    assert code == 1
    [miss] = report["unmatched"]
    assert (miss["source"], miss["title"], miss["type"]) == ("PO NUMBER", "PO NUMBER", "text")
    assert "no column titled 'PO NUMBER'" in miss["reason"]
    assert len(report["matched"]) == len(mapping_slots(renamed)) - 1
    assert report["written"] is None
    assert len(err.strip().splitlines()) == 1 and err.startswith("orders-sync: 1 unmatched")
    assert "nothing written" not in err  # nothing was asked to be

    code, report, err = run(capsys, "mapping", "--from-board", "--write", "--json")
    assert code == 1 and report["written"] is None
    assert "nothing written: 1 unmatched" in err
    assert not (config_dir() / "board_mapping.json").exists()


def test_a_missing_column_is_created_with_the_mappings_title_and_type(make_sandbox, env):
    server = env(make_sandbox(column_ids="generated", missing_columns=("text_drop",)))
    report = mapping_from_board()
    [miss] = report.match.unmatched
    assert miss.slot.source == "DROP"
    made = create_missing_column(find_slot("DROP"))
    assert (made.title, made.type) == ("DROP", "text") and made.column_id.startswith("text_mk")
    assert create_missing_column(find_slot("DROP")) == made  # found, not made twice
    assert sum(c["title"] == "DROP" for c in server.dump()["board"]["columns"]) == 1
    report = mapping_from_board(write=True)
    assert report.complete and report.written is not None
    assert load_mapping().columns[6].column.column_id == made.column_id


def test_a_missing_subitems_column_is_created_on_the_subitems_board(make_sandbox, env):
    server = env(make_sandbox(column_ids="generated", missing_columns=("numeric_cut",)))
    made = create_missing_column(find_slot("subitems.production_columns[2]"))
    assert made.column_id in {c["id"] for c in server.dump()["subitems_board"]["columns"]}
    assert mapping_from_board().complete


def test_look_alikes_are_not_joined_by_a_third(make_sandbox, env):
    env(
        make_sandbox(
            column_ids="generated",
            extra_columns=({"column_id": "text_mkdouble", "title": "DROP", "type": "text"},),
        )
    )
    with pytest.raises(MappingFromBoardError, match="several columns titled 'DROP'"):
        create_missing_column(find_slot("DROP"))
    with pytest.raises(MappingFromBoardError, match="no column 'NOPE'"):
        find_slot("NOPE")


def test_the_board_option_wins_over_the_configured_board(make_sandbox, env, monkeypatch, capsys):
    server = env(make_sandbox(column_ids="generated", board_id=1_800_000_101))
    monkeypatch.setenv("ORDERS_SYNC_BOARD_ID", "1800000001")  # not this sandbox's board
    code, _, err = run(capsys, "mapping", "--from-board")
    assert code == 1 and "board 1800000001 does not exist" in err
    code, report, _ = run(capsys, "mapping", "--from-board", "--board", server.board_id, "--json")
    assert code == 0 and report["board_id"] == server.board_id
    assert report["matched"][0]["column_id"].startswith("text_mk")


def test_without_a_token_or_a_board_it_says_what_to_set(monkeypatch, capsys):
    monkeypatch.delenv("MONDAY_API_TOKEN", raising=False)
    monkeypatch.setenv("ORDERS_SYNC_MONDAY_URL", "http://127.0.0.1:9/v2")
    code, _, err = run(capsys, "mapping", "--from-board")
    assert code == 1 and "no monday.com API token" in err
    monkeypatch.setenv("MONDAY_API_TOKEN", TOKEN)
    monkeypatch.delenv("ORDERS_SYNC_BOARD_ID", raising=False)
    code, _, err = run(capsys, "mapping", "--from-board")
    assert code == 1 and "no board id" in err and "--board" in err


def test_mapping_without_from_board_is_a_usage_error(capsys):
    with pytest.raises(SystemExit) as exited:
        main(["mapping"])
    assert exited.value.code == 2
    assert "--from-board" in capsys.readouterr().err


def test_a_slot_knows_its_board():
    slot = Slot(("subitems", "size_column"), "subitems.size_column", SUBITEMS, "x", "Size", "text")
    assert slot.slot == "subitems.size_column"
