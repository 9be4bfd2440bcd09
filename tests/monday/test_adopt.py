"""`orders-sync adopt` end to end over loopback, on a board the earlier scripts filled.

The sandbox lays the board out with monday-like generated column ids and fills it from the
demo database as those scripts did, with the seeded mess its truth records (edited values,
orders with two items, missing orders, items with no order). The mapping is taken from the
board, GREYSON's items are adopted, and what follows is checked against that truth: detect,
a push (nothing made twice, the unadopted items untouched), the undo of both.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from pushkit import TOKEN
from sqlalchemy import create_engine, text

from orders_sync_gui.cli import main
from orders_sync_gui.core.adopt_match import DEFAULT_MATCH
from orders_sync_gui.core.columns import CUSTOMER_NAME
from orders_sync_gui.monday.sandbox import SandboxServer
from orders_sync_gui.monday.sandbox.config import LegacyMess
from orders_sync_gui.monday.sandbox.legacy import LegacyTruth
from orders_sync_gui.services.context import open_context
from orders_sync_gui.services.legacy_source import legacy_records
from orders_sync_gui.settings import load_customer_map
from orders_sync_gui.store.syncstate import load_state

CUSTOMER = "GREYSON"
REPO = Path(__file__).resolve().parents[2]
# More mess than the default 2%/1%, so that GREYSON's 35 orders get some of every kind;
# the seed is one where no edit falls on a match column (see the test of that case).
MESS = LegacyMess(edited=0.08, duplicated=0.03, missing=0.03, orphan=0.03)
SEED = 11


def run(capsys, *args: str) -> tuple[int, Any, str]:
    capsys.readouterr()
    code = main(list(args))
    out, err = capsys.readouterr()
    try:
        return code, json.loads(out), err
    except json.JSONDecodeError:
        return code, out, err


@pytest.fixture
def legacy_board(make_sandbox, db, monkeypatch):
    def make(seed: int = SEED) -> SandboxServer:
        server = make_sandbox(
            column_ids="generated",
            board_seed=seed,
            legacy_records=tuple(legacy_records(db)),
            legacy_mess=MESS,
        )
        monkeypatch.setenv("ORDERS_SYNC_MONDAY_URL", server.url)
        monkeypatch.setenv("MONDAY_API_TOKEN", TOKEN)
        monkeypatch.setenv("ORDERS_SYNC_BOARD_ID", server.board_id)
        return server

    return make


def column(dump: dict[str, Any], title: str) -> str:
    return next(c["id"] for c in dump["board"]["columns"] if c["title"] == title)


def group_items(server: SandboxServer, customer: str = CUSTOMER) -> dict[str, dict[str, Any]]:
    dump = server.dump()
    group = server.app.legacy_truth.groups[customer]
    return {i["id"]: i for i in dump["items"] if i["state"] == "active" and i["group_id"] == group}


def uuids_on_board(server: SandboxServer) -> dict[str, str]:
    """{item id: its RECORD UUID text} of the customer's active items."""
    uuid_column = column(server.dump(), "RECORD UUID")
    return {i: v["column_values"][uuid_column]["text"] for i, v in group_items(server).items()}


def source_rows(db: str, customer: str = CUSTOMER) -> int:
    engine = create_engine(db)
    with engine.connect() as conn:
        names = conn.execute(text(f'SELECT "{CUSTOMER_NAME}" FROM ORDERS_UNIFIED')).scalars()
        folded = load_customer_map()
        count = sum(folded.canonical(n) == customer for n in names)
    engine.dispose()
    return count


def mine(entries: Any, customer: str = CUSTOMER) -> list[Any]:
    return [e for e in entries if e.customer == customer]


def test_adoption_links_the_legacy_items_and_the_next_push_makes_nothing_twice(
    legacy_board, db, capsys
):
    server = legacy_board()
    truth: LegacyTruth = server.app.legacy_truth
    edited, doubled = mine(truth.edited), mine(truth.duplicated)
    missing, orphans = mine(truth.missing), mine(truth.orphan)
    doubled_items = {i for d in doubled for i in d.item_ids}
    # The seed gives GREYSON some of each, and no edit on a match column or a doubled item.
    assert edited and doubled and missing and orphans
    assert not any(e.source in DEFAULT_MATCH or e.item_id in doubled_items for e in edited)

    code, mapped, err = run(capsys, "mapping", "--from-board", "--write", "--json")
    assert code == 0, err
    assert mapped["ambiguous"] == [] and mapped["unmatched"] == [] and mapped["written"]

    before = group_items(server)
    code, dry, err = run(capsys, "--db", db, "adopt", "--customer", CUSTOMER, "--dry-run", "--json")
    assert code == 0, err
    assert dry["batch_id"] is None and dry["adopted"] == 0
    assert group_items(server) == before  # a dry run writes nothing

    code, report, err = run(capsys, "--db", db, "adopt", "--customer", CUSTOMER, "--json")
    assert code == 0, err
    assert {
        "customer",
        "matched",
        "ambiguous",
        "board_only",
        "source_only",
        "adopted",
        "batch_id",
    } <= set(report)
    counts = report["counts"]
    # Every item and every row is in exactly one class.
    assert counts["matched"] + counts["ambiguous_items"] + counts["board_only"] == len(before)
    assert counts["matched"] + counts["ambiguous_orders"] + counts["source_only"] + counts[
        "invalid"
    ] == source_rows(db)
    assert {o["record_uuid"] for a in report["ambiguous"] for o in a["orders"]} == {
        d.record_uuid for d in doubled
    }
    assert {i["item_id"] for a in report["ambiguous"] for i in a["items"]} == doubled_items
    assert {i["item_id"] for i in report["board_only"]} == {o.item_id for o in orphans}
    assert {o["record_uuid"] for o in report["source_only"]} == {m.record_uuid for m in missing}
    assert report["adopted"] == counts["matched"] == len(report["matched"])
    assert report["status"] == "PUSHED" and report["batch_id"]
    adoption = report["batch_id"]

    # Each matched item carries its order's record_uuid; the others none.
    on_board = uuids_on_board(server)
    for pair in report["matched"]:
        assert truth.item_orders[pair["item_id"]] == pair["record_uuid"]
        assert on_board[pair["item_id"]] == pair["record_uuid"]
    assert {i for i, u in on_board.items() if not u} == doubled_items | {o.item_id for o in orphans}

    # The sync state names each order's item, and its subitems by size.
    ctx = open_context(db)
    try:
        with ctx.store.engine.connect() as conn:
            state = {s.record.record_uuid: s for s in load_state(conn, CUSTOMER)}
    finally:
        ctx.close()
    assert set(state) == {p["record_uuid"] for p in report["matched"]}
    for pair in report["matched"]:
        linked = state[pair["record_uuid"]]
        subitems = before[pair["item_id"]]["subitems"]
        assert linked.monday_item_id == pair["item_id"]
        assert linked.subitem_ids == {s["name"]: s["id"] for s in subitems} != {}

    # detect: CHANGED exactly where the board was edited, NEW exactly the missing orders,
    # the doubled orders held out (as invalid rows, with the reason).
    code, preview, err = run(capsys, "--db", db, "preview", "--customer", CUSTOMER, "--json")
    assert code == 0, err
    kinds = Counter(r["change_type"] for r in preview["rows"])
    changed = {r["record_uuid"]: r for r in preview["rows"] if r["change_type"] == "CHANGED"}
    assert set(changed) == {e.record_uuid for e in edited}
    assert {r["record_uuid"] for r in preview["rows"] if r["change_type"] == "NEW"} == {
        m.record_uuid for m in missing
    }
    assert set(kinds) <= {"CHANGED", "NEW"}
    for edit in edited:
        [diff] = changed[edit.record_uuid]["fields"]
        assert (diff["field"], diff["old"], diff["new"]) == (edit.source, edit.new, edit.old)
    held = {e["record_uuid"] for e in preview["errors"] if e["field"] == "board items"}
    assert held == {d.record_uuid for d in doubled}
    code, detected, err = run(capsys, "--db", db, "detect", "--customer", CUSTOMER, "--json")
    [row] = detected["customers"]
    assert (row["changed"], row["new"]) == (len(edited), len(missing))
    assert row["unchanged"] == counts["matched"] - len(edited)
    # Every customer's count (streamed in chunks) holds the same orders back as one's.
    code, everyone, err = run(capsys, "--db", db, "detect", "--json")
    [same] = [c for c in everyone["customers"] if c["customer"] == CUSTOMER]
    assert same == row

    # A push of GREYSON: one item per order, with its record_uuid; nothing made twice; the
    # doubled and orphan items untouched.
    code, staged, err = run(capsys, "--db", db, "stage", "--customer", CUSTOMER, "--json")
    assert code == 0, err
    assert staged["invalid"] >= len(doubled)
    code, _, err = run(capsys, "--db", db, "push", "--batch", str(staged["batch_id"]), "--json")
    assert code == 0, err
    after = group_items(server)
    on_board = uuids_on_board(server)
    carried = Counter(u for u in on_board.values() if u)
    assert max(carried.values()) == 1  # no record_uuid on two items
    adopted_or_made = set(carried)
    expected = {p["record_uuid"] for p in report["matched"]} | {m.record_uuid for m in missing}
    assert adopted_or_made == expected
    assert len(after) == len(before) + len(missing)
    for item_id in doubled_items | {o.item_id for o in orphans}:
        assert after[item_id] == before[item_id]

    # Undo the push, then the adoption: the board and the sync state as they were.
    code, undone, err = run(
        capsys, "--db", db, "rollback", "--batch", str(staged["batch_id"]), "--json"
    )
    assert code == 0 and undone["status"] == "UNDONE", err
    code, undone, err = run(capsys, "--db", db, "rollback", "--batch", str(adoption), "--json")
    assert code == 0 and undone["status"] == "UNDONE", err
    restored = group_items(server)
    # An item whose PO (a part of its name) was edited by hand kept its old name; the
    # push renamed it to the order's values and its undo to the edited ones: undo gives
    # back values, and the name they make. Everything else is as it was.
    renamed = {e.item_id for e in edited if e.source in ("PO NUMBER", "CUSTOMER NAME")}
    for item_id in renamed:
        assert restored[item_id].pop("name") != before[item_id]["name"]
    assert restored == {
        i: {k: v for k, v in item.items() if not (i in renamed and k == "name")}
        for i, item in before.items()
    }
    ctx = open_context(db)
    try:
        with ctx.store.engine.connect() as conn:
            assert load_state(conn, CUSTOMER) == []
    finally:
        ctx.close()


def test_an_ambiguous_order_is_held_until_chosen_and_never_gets_a_third_item(
    legacy_board, db, capsys
):
    server = legacy_board()
    truth: LegacyTruth = server.app.legacy_truth
    double = mine(truth.duplicated)[0]
    first, second = double.item_ids
    assert run(capsys, "mapping", "--from-board", "--write", "--json")[0] == 0
    code, report, err = run(capsys, "--db", db, "adopt", "--customer", CUSTOMER, "--json")
    assert code == 0, err
    [group] = [
        a for a in report["ambiguous"] if a["orders"][0]["record_uuid"] == double.record_uuid
    ]
    assert "2 board items share the match values" in group["reason"]
    assert double.order_number in group["reason"]

    # Held: a push of the customer leaves it, and both its items, alone.
    code, staged, err = run(capsys, "--db", db, "stage", "--customer", CUSTOMER, "--json")
    assert code == 0, err
    assert run(capsys, "--db", db, "push", "--batch", str(staged["batch_id"]), "--json")[0] == 0
    on_board = uuids_on_board(server)
    assert on_board[first] == on_board[second] == ""
    assert double.record_uuid not in on_board.values()

    # A choice that names nothing of the customer is refused, naming it.
    code, _, err = run(
        capsys, "--db", db, "adopt", "--customer", CUSTOMER, "--choose", f"{double.order_number}=42"
    )
    assert code == 1 and "no item 42" in err

    # Chosen: the order adopts that item; the other stays as it was.
    before = group_items(server)
    code, chosen, err = run(
        capsys,
        "--db",
        db,
        "adopt",
        "--customer",
        CUSTOMER,
        "--choose",
        f"{double.order_number}={second}",
        "--json",
    )
    assert code == 0, err
    assert chosen["adopted"] == 1 and chosen["status"] == "PUSHED"
    on_board = uuids_on_board(server)
    assert (on_board[first], on_board[second]) == ("", double.record_uuid)
    assert group_items(server)[first] == before[first]
    code, preview, _ = run(capsys, "--db", db, "preview", "--customer", CUSTOMER, "--json")
    assert double.record_uuid not in {e["record_uuid"] for e in preview["errors"]}
    assert double.record_uuid not in {r["record_uuid"] for r in preview["rows"]}  # UNCHANGED

    # The next push makes no item for it: still the two it had.
    code, staged, err = run(capsys, "--db", db, "stage", "--customer", CUSTOMER, "--json")
    if code == 0:
        assert run(capsys, "--db", db, "push", "--batch", str(staged["batch_id"]), "--json")[0] == 0
    assert Counter(uuids_on_board(server).values())[double.record_uuid] == 1
    assert len(group_items(server)) == len(before)


def test_an_item_whose_match_value_was_edited_can_be_paired_by_hand(legacy_board, db, capsys):
    server = legacy_board(seed=6)  # GREYSON has an item whose CUSTOMER STYLE was edited
    truth: LegacyTruth = server.app.legacy_truth
    [edit] = [e for e in mine(truth.edited) if e.source in DEFAULT_MATCH]
    assert run(capsys, "mapping", "--from-board", "--write", "--json")[0] == 0
    code, report, err = run(
        capsys, "--db", db, "adopt", "--customer", CUSTOMER, "--dry-run", "--json"
    )
    assert code == 0, err
    # Its values no longer match its order's: the item is board only, the order source only.
    assert edit.item_id in {i["item_id"] for i in report["board_only"]}
    assert edit.record_uuid in {o["record_uuid"] for o in report["source_only"]}

    code, text_out, err = run(
        capsys,
        "--db",
        db,
        "adopt",
        "--customer",
        CUSTOMER,
        "--choose",
        f"{edit.order_number}={edit.item_id}",
    )
    assert code == 0, err
    assert f"board only: item {edit.item_id}" not in text_out
    assert "board items adopted" in text_out
    assert uuids_on_board(server)[edit.item_id] == edit.record_uuid
    # The next detect sees the edit as a change to push back, not as a new order.
    code, preview, _ = run(capsys, "--db", db, "preview", "--customer", CUSTOMER, "--json")
    [row] = [r for r in preview["rows"] if r["record_uuid"] == edit.record_uuid]
    assert row["change_type"] == "CHANGED"
    assert [(f["field"], f["old"], f["new"]) for f in row["fields"]] == [
        (edit.source, edit.new, edit.old)
    ]


def test_on_the_orders_sync_sandbox_with_its_legacy_options(db, tmp_path, monkeypatch, capsys):
    """The same, on `orders-sync sandbox --column-ids generated --legacy-from DB` as an
    operator starts it (its default mess; the seed gives GREYSON an edit, a doubled and a
    missing order), checked against the truth file it writes."""
    truth_file = tmp_path / "truth.json"
    command = [sys.executable, "-m", "orders_sync_gui.cli", "sandbox", "--port", "0"]
    command += ["--column-ids", "generated", "--legacy-from", db, "--seed", "10"]
    command += ["--legacy-truth", str(truth_file)]
    process = subprocess.Popen(command, cwd=REPO, stdout=subprocess.PIPE, text=True)
    try:
        assert process.stdout is not None
        ready = json.loads(process.stdout.readline())
        monkeypatch.setenv("ORDERS_SYNC_MONDAY_URL", ready["url"])
        monkeypatch.setenv("MONDAY_API_TOKEN", ready["token"])
        monkeypatch.setenv("ORDERS_SYNC_BOARD_ID", str(ready["board_id"]))
        truth = json.loads(truth_file.read_text("utf-8"))
        edited = [e for e in truth["edited"] if e["customer"] == CUSTOMER]
        doubled = [d for d in truth["duplicated"] if d["customer"] == CUSTOMER]
        missing = [m for m in truth["missing"] if m["customer"] == CUSTOMER]
        assert edited and doubled and missing
        assert not any(e["source"] in DEFAULT_MATCH for e in edited)

        code, mapped, err = run(capsys, "mapping", "--from-board", "--write", "--json")
        assert code == 0 and not mapped["ambiguous"] and not mapped["unmatched"], err
        code, report, err = run(capsys, "--db", db, "adopt", "--customer", CUSTOMER, "--json")
        assert code == 0, err
        counts = report["counts"]
        items = truth["customers"][CUSTOMER]["items"]
        assert counts["matched"] + counts["ambiguous_items"] + counts["board_only"] == items
        assert counts["matched"] + counts["ambiguous_orders"] + counts["source_only"] + counts[
            "invalid"
        ] == source_rows(db)
        assert {o["record_uuid"] for a in report["ambiguous"] for o in a["orders"]} == {
            d["record_uuid"] for d in doubled
        }
        assert {o["record_uuid"] for o in report["source_only"]} == {
            m["record_uuid"] for m in missing
        }
        code, preview, err = run(capsys, "--db", db, "preview", "--customer", CUSTOMER, "--json")
        kinds = {r["record_uuid"]: r["change_type"] for r in preview["rows"]}
        assert {u for u, k in kinds.items() if k == "CHANGED"} == {e["record_uuid"] for e in edited}
        assert {u for u, k in kinds.items() if k == "NEW"} == {m["record_uuid"] for m in missing}
    finally:
        process.terminate()
        process.wait(timeout=20)
