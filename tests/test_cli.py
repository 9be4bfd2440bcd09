"""The CLI as scripts use it: words, JSON keys and exit codes stay stable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import uuid
from datetime import datetime

import pytest

from orders_sync_gui.cli import main
from orders_sync_gui.core.models import Record
from orders_sync_gui.core.staged import StateRow
from orders_sync_gui.services.context import open_context
from orders_sync_gui.store.database import Store
from orders_sync_gui.store.syncstate import save_state
from tests.helpers import mark_synced


@pytest.fixture
def db(tmp_path):
    url = f"sqlite:///{tmp_path / 'cli.db'}"
    assert main(["--db", url, "demo-init", "--orders", "500", "--seed", "3", "--json"]) == 0
    return url


def run(capsys, *args: str) -> tuple[int, dict | str, str]:
    code = main(list(args))
    out, err = capsys.readouterr()
    try:
        return code, json.loads(out), err
    except json.JSONDecodeError:
        return code, out, err


def test_detect_json_lists_every_customer_with_stable_keys(capsys, db):
    capsys.readouterr()
    code, payload, _ = run(capsys, "--db", db, "detect", "--json")
    assert code == 0
    rows = payload["customers"]
    assert {"customer", "new", "changed", "deleted", "unchanged"} <= set(rows[0])
    assert sum(r["new"] for r in rows) == 500
    code, payload, _ = run(capsys, "--db", db, "detect", "--customer", "GREYSON", "--json")
    assert [r["customer"] for r in payload["customers"]] == ["GREYSON"]


def test_pilot_batch_stage_then_rollback(capsys, db):
    capsys.readouterr()
    code, staged, _ = run(
        capsys,
        "--db",
        db,
        "stage",
        "--customer",
        "GREYSON",
        "--po",
        "4755",
        "--limit",
        "2",
        "--json",
    )
    assert code == 0
    assert {"batch_id", "customer", "items", "subitems", "status"} <= set(staged)
    assert (staged["customer"], staged["items"], staged["status"]) == ("GREYSON", 2, "STAGED")

    code, _, err = run(capsys, "--db", db, "stage", "--customer", "GREYSON", "--json")
    assert code == 1
    assert f"open batch {staged['batch_id']}" in err and "tester" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1

    code, batches, _ = run(capsys, "--db", db, "batches", "--json")
    assert batches["batches"][0]["batch_id"] == staged["batch_id"]
    assert batches["batches"][0]["operator"] == "tester"

    code, done, _ = run(
        capsys, "--db", db, "rollback", "--batch", str(staged["batch_id"]), "--json"
    )
    assert (code, done) == (0, {"batch_id": staged["batch_id"], "status": "ROLLED_BACK"})


def test_preview_shows_field_diffs_old_to_new(capsys, db):
    ctx = open_context(db)
    mark_synced(ctx, ["GREYSON"])
    info = ctx.store.source()
    with ctx.store.engine.begin() as conn:
        uid = conn.execute(
            info.table.select()
            .with_only_columns(info.table.c.record_uuid)
            .where(info.table.c["PO NUMBER"] == "4755")
            .limit(1)
        ).scalar()
        conn.execute(
            info.table.update()
            .where(info.table.c.record_uuid == uid)
            .values({"CUSTOMER COLOUR DESCRIPTION": "NEON PINK"})
        )
    ctx.close()
    capsys.readouterr()
    code, payload, _ = run(capsys, "--db", db, "preview", "--customer", "GREYSON", "--json")
    assert code == 0 and payload["counts"]["changed"] == 1
    [row] = [r for r in payload["rows"] if r["change_type"] == "CHANGED"]
    assert row["record_uuid"] == uid
    [diff] = row["fields"]
    assert diff["field"] == "CUSTOMER COLOUR DESCRIPTION" and diff["new"] == "NEON PINK"
    code, text, _ = run(capsys, "--db", db, "preview", "--customer", "GREYSON", "--po", "4755")
    assert f"CUSTOMER COLOUR DESCRIPTION: {diff['old']} -> NEON PINK" in text


@pytest.mark.parametrize(
    "args,needle",
    [
        (["stage", "--customer", "GREYSON", "--types", "NEW,BOGUS"], "BOGUS"),
        (["stage", "--customer", "GREYSON", "--limit", "0"], "--limit"),
        (["preview", "--customer", "GREYSON", "--limit", "0"], "--limit"),
        (["preview"], "--customer"),
        (["frobnicate"], "invalid choice"),
    ],
)
def test_usage_errors_exit_2(capsys, db, args, needle):
    with pytest.raises(SystemExit) as exc:
        main(["--db", db, *args])
    assert exc.value.code == 2
    assert needle in capsys.readouterr().err


@pytest.mark.parametrize(
    "args,needle",
    [
        (["rollback", "--batch", "999"], "there is no batch 999"),
        (["preview", "--customer", "NOBODY"], "no customer 'NOBODY'"),
        (["demo-init"], "--force"),
    ],
)
def test_operational_errors_exit_1_with_one_line(capsys, db, args, needle):
    capsys.readouterr()
    code, _, err = run(capsys, "--db", db, *args)
    assert code == 1
    assert needle in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_a_database_that_cannot_be_opened_is_one_clear_line(capsys, tmp_path):
    code, _, err = run(capsys, "--db", f"sqlite:///{tmp_path}/typo.db", "detect")
    assert code == 1 and "no SQLite database" in err and "demo-init" in err
    assert not (tmp_path / "typo.db").exists()  # a typo never creates an empty database
    empty = f"sqlite:///{tmp_path}/empty.db"
    Store(empty, new_file=True).dispose()
    code, _, err = run(capsys, "--db", empty, "detect")
    assert code == 1 and "ORDERS_UNIFIED" in err and "demo-init" in err


def test_the_real_command_creates_and_seeds_the_embedded_default(isolated_home):
    env = {**os.environ, "ORDERS_SYNC_HOME": str(isolated_home)}
    env.pop("ORDERS_SYNC_DB_URL", None)
    done = subprocess.run(
        [sys.executable, "-m", "orders_sync_gui.cli", "detect", "--json"],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    rows = json.loads(done.stdout)["customers"]
    assert len(rows) == 45
    assert sum(r["new"] for r in rows) == 10_000
    assert (isolated_home / "data" / "orders-sync-demo.db").is_file()
    env["ORDERS_SYNC_DB_URL"] = f"sqlite:///{isolated_home}/missing/x.db"
    done = subprocess.run(
        [sys.executable, "-m", "orders_sync_gui.cli", "batches"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert done.returncode == 1 and done.stderr.startswith("orders-sync: ")


@pytest.mark.parametrize(
    "command", [["stage", "--customer", "GREYSON"], ["preview", "--customer", "GREYSON"]]
)
@pytest.mark.parametrize("limit", ["0", "-3", "two"])
def test_a_limit_below_one_is_a_usage_error_before_any_database_work(
    capsys, tmp_path, command, limit
):
    missing = f"sqlite:///{tmp_path / 'missing.db'}"  # opening it would be an exit 1
    with pytest.raises(SystemExit) as exc:
        main(["--db", missing, *command, "--limit", limit])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "argument --limit:" in err and ("at least 1" in err or "whole number" in err)
    assert main(["--db", missing, *command, "--limit", "1"]) == 1  # a good limit goes on


def _add_orders(db: str, orders: list[tuple[str, str]], **values: object) -> list[str]:
    ctx = open_context(db)
    table = ctx.store.source().table
    uids = [str(uuid.uuid4()) for _ in orders]
    with ctx.store.engine.begin() as conn:
        for uid, (order, customer) in zip(uids, orders, strict=True):
            row = {
                "record_uuid": uid,
                "AAG ORDER NUMBER": order,
                "CUSTOMER NAME": customer,
                "PO NUMBER": "9001",
                "CUSTOMER STYLE": "S1",
                "CUSTOMER COLOUR DESCRIPTION": "NAVY",
                "M": 6,
            }
            conn.execute(table.insert().values({**row, **values}))
    ctx.close()
    return uids


def _save_state(db: str, uid: str, customer: str) -> None:
    """A sync state row as an earlier push (or an earlier version of the app) left it."""
    record = Record(uid, customer, {"CUSTOMER NAME": customer}, {"M": 6}, "0" * 64)
    ctx = open_context(db)
    with ctx.store.engine.begin() as conn:
        save_state(conn, [StateRow(record, monday_item_id="1")], now=datetime(2026, 1, 1))
    ctx.close()


def test_spellings_that_print_alike_are_one_customer(capsys, db):
    spellings = ["ZEDCO", "ZED\u200bCO", "ZEDCO\u202c", "ZED\x1bCO", "\u2066zedco\u2069"]
    uids = _add_orders(db, [(f"Z-{i}", name) for i, name in enumerate(spellings)])
    # Synced while ZED<zero-width space>CO was a customer of its own: the row is ZEDCO's
    # now, and CHANGED (its customer column will read ZEDCO once pushed).
    _save_state(db, uids[1], "ZED\u200bCO")
    capsys.readouterr()
    code, payload, _ = run(capsys, "--db", db, "detect", "--json")
    assert code == 0
    zed = [r for r in payload["customers"] if "ZED" in r["customer"].upper()]
    assert [(r["customer"], r["new"], r["changed"]) for r in zed] == [("ZEDCO", 4, 1)]
    code, payload, _ = run(capsys, "--db", db, "detect", "--customer", "zed\x1bco", "--json")
    assert [(r["customer"], r["new"], r["changed"]) for r in payload["customers"]] == [
        ("ZEDCO", 4, 1)
    ]
    code, staged, _ = run(capsys, "--db", db, "stage", "--customer", "ZED\u200bCO", "--json")
    assert code == 0 and (staged["customer"], staged["items"]) == ("ZEDCO", 5)


def test_human_output_shows_control_characters_as_escapes(capsys, db, monkeypatch):
    hostile = "EVIL\x1b]0;owned\x07\x1b[2J"
    # A customer name with ESC in it can only come from sync state an older version wrote
    # (names are tidied now): its deleted row still counts under that name.
    _save_state(db, str(uuid.uuid4()), hostile)
    _add_orders(db, [(f"Z-1{hostile}\u202e", "ZEDCO")])
    _add_orders(db, [(f"Z-2{hostile}", "ZEDCO")], M=-6)  # an invalid row, named
    capsys.readouterr()
    code, detected, _ = run(capsys, "--db", db, "detect")
    assert code == 0 and isinstance(detected, str)
    assert "EVIL\\x1b]0;owned\\x07\\x1b[2J" in detected  # the customer, in the table
    assert "order Z-2EVIL\\x1b]0;owned\\x07\\x1b[2J: [M]" in detected  # the invalid row
    code, previewed, _ = run(capsys, "--db", db, "preview", "--customer", "ZEDCO")
    assert code == 0 and "Z-1EVIL\\x1b]0;owned\\x07\\x1b[2J\\u202e" in previewed
    # An operator's name (from the environment) in a one-line error and in the history.
    monkeypatch.setenv("ORDERS_SYNC_OPERATOR", "tester\x1b[8m")
    assert run(capsys, "--db", db, "stage", "--customer", "ZEDCO")[0] == 0
    code, _, err = run(capsys, "--db", db, "stage", "--customer", "ZEDCO")
    assert code == 1 and "staged by tester\\x1b[8m at" in err
    code, history, _ = run(capsys, "--db", db, "batches")
    assert code == 0 and "tester\\x1b[8m" in history
    for text in (detected, previewed, err, history):
        assert "\x1b" not in text and "\x07" not in text and "\u202e" not in text
