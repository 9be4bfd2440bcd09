"""`orders-sync doctor`: every check against the demo database and a sandbox on 127.0.0.1,
as an operator runs it (the CLI, its JSON and its exit code), and what it says when one
thing is wrong: a mapped column the source lacks, a refused token, a staged row whose
source changed, a database that is not there, a board that is full."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests
from pushkit import CUSTOMER, TOKEN, staged
from sqlalchemy import select

from orders_sync_gui.cli import main
from orders_sync_gui.monday.board import column_labels
from orders_sync_gui.monday.sandbox import SandboxServer
from orders_sync_gui.resources import resource_path
from orders_sync_gui.services import staging
from orders_sync_gui.services.demo import demo_init
from orders_sync_gui.store.database import Store
from orders_sync_gui.store.schema import batches
from orders_sync_gui.store.source import identity_health


def use_sandbox(monkeypatch, server: SandboxServer, token: str = TOKEN) -> None:
    monkeypatch.setenv("ORDERS_SYNC_MONDAY_URL", server.url)
    monkeypatch.setenv("MONDAY_API_TOKEN", token)
    monkeypatch.setenv("ORDERS_SYNC_BOARD_ID", server.board_id)


def doctor(db: str, capsys, *extra: str) -> tuple[int, dict[str, Any], str]:
    """(exit code, the JSON, stderr) of `orders-sync --db DB doctor --json ...`."""
    capsys.readouterr()
    code = main(["--db", db, "doctor", "--json", *extra])
    out, err = capsys.readouterr()
    return code, json.loads(out), err


def by_name(payload: dict[str, Any]) -> dict[str, dict[str, str]]:
    return {c["name"]: c for c in payload["checks"]}


def test_doctor_passes_on_the_demo_database_and_the_sandbox(db, make_sandbox, monkeypatch, capsys):
    server = make_sandbox()
    use_sandbox(monkeypatch, server)
    code, payload, err = doctor(db, capsys)
    assert code == 0 and payload["ok"] is True, payload
    assert err == ""
    checks = by_name(payload)
    assert list(checks) == [
        "settings files",
        "database",
        "schema version",
        "record_uuid",
        "mapped columns",
        "row hash",
        "customer spellings",
        "unmapped customers",
        "monday token",
        "API version",
        "board",
        "board mapping",
        "board labels",
        "board capacity",
        "open batches",
        "staged rows",
    ]
    for check in payload["checks"]:
        assert set(check) == {"name", "status", "detail", "fix"}
        assert check["status"] in ("pass", "warn"), check
        assert check["detail"] and "\n" not in check["detail"]
    assert "Sandbox Operator" in checks["monday token"]["detail"]
    # GREYSON's spellings fold into one customer; the demo has customers the map lacks.
    assert "GREYSON ('GREYSON' / 'GREYSON CLOTHIERS'" in checks["customer spellings"]["detail"]
    assert checks["unmapped customers"]["status"] == "warn"
    assert "customer_map.json" in checks["unmapped customers"]["fix"]
    # The sandbox serves the pinned version as monday's current one.
    assert checks["API version"]["status"] == "pass"
    assert checks["API version"]["detail"] == "2026-10 (current)"
    # The demo's delivery terms are no status labels of the sandbox's board yet.
    assert checks["board labels"]["status"] == "warn"
    assert "status_delivery_terms needs" in checks["board labels"]["detail"]
    assert checks["board capacity"]["detail"].startswith("board 10,000 of 10,000 items free")
    assert TOKEN not in json.dumps(payload)
    assert server.stats()["mutations"] == 0  # the checks only read


def test_the_human_output_is_one_line_per_check_failing_first(
    db, make_sandbox, monkeypatch, capsys
):
    use_sandbox(monkeypatch, make_sandbox(), token="tok-refused")
    capsys.readouterr()
    code = main(["--db", db, "doctor"])
    *lines, summary = capsys.readouterr().out.strip().splitlines()
    assert code == 1
    assert len(lines) == 16
    assert summary == "1 failed, 1 warned, 5 skipped, 9 passed"
    statuses = [line.split()[0] for line in lines]
    rank = {"FAIL": 0, "WARN": 1, "SKIP": 2, "PASS": 3}
    assert statuses == sorted(statuses, key=rank.__getitem__)
    assert lines[0].startswith("FAIL  monday token: ")
    assert "tok-refused" not in "\n".join(lines)


def test_a_mapped_column_the_source_lacks_fails_and_is_named(
    db, make_sandbox, monkeypatch, capsys, isolated_home
):
    mapping = json.loads(resource_path("board_mapping.json").read_text("utf-8"))
    mapping["columns"][3]["source"] = "CUSTOMER ALT PO NUMBER"  # not in ORDERS_UNIFIED
    (isolated_home / "config").mkdir(parents=True)
    (isolated_home / "config" / "board_mapping.json").write_text(json.dumps(mapping))
    use_sandbox(monkeypatch, make_sandbox())
    code, payload, _ = doctor(db, capsys)
    assert code == 1 and payload["ok"] is False
    check = by_name(payload)["mapped columns"]
    assert check["status"] == "fail"
    assert "[CUSTOMER ALT PO NUMBER]" in check["detail"]
    assert "board_mapping.json" in check["fix"]
    # The board still has every mapped column id; only the source lacks one.
    assert by_name(payload)["board mapping"]["status"] == "pass"


def test_a_refused_token_fails_the_token_check_with_how_to_fix_it(
    db, make_sandbox, monkeypatch, capsys
):
    use_sandbox(monkeypatch, make_sandbox(), token="tok-not-this-one")
    code, payload, _ = doctor(db, capsys)
    checks = by_name(payload)
    assert code == 1 and payload["ok"] is False
    token = checks["monday token"]
    assert token["status"] == "fail"
    assert "refused the API token (401)" in token["detail"]
    assert "Settings" in token["fix"] and "MONDAY_API_TOKEN" in token["fix"]
    for name in ("API version", "board", "board mapping", "board labels", "board capacity"):
        assert checks[name]["status"] == "skip", name
    assert checks["database"]["status"] == "pass"  # the rest goes on
    assert "tok-not-this-one" not in json.dumps(payload)


def test_no_token_at_all_says_where_to_put_one(db, monkeypatch, capsys):
    monkeypatch.delenv("MONDAY_API_TOKEN", raising=False)
    monkeypatch.setenv("ORDERS_SYNC_MONDAY_URL", "http://127.0.0.1:9/v2")
    code, payload, _ = doctor(db, capsys)
    token = by_name(payload)["monday token"]
    assert code == 1 and token["status"] == "fail"
    assert "no monday.com API token" in token["detail"]
    assert "MONDAY_API_TOKEN" in token["fix"]


def test_a_check_that_breaks_fails_alone_with_its_message(db, make_sandbox, monkeypatch, capsys):
    def broken(engine):
        raise RuntimeError("the inspector fell over\nat line 2")

    monkeypatch.setattr("orders_sync_gui.services.doctor.identity_health", broken)
    use_sandbox(monkeypatch, make_sandbox())
    code, payload, err = doctor(db, capsys)
    checks = by_name(payload)
    assert code == 1 and err == ""
    assert checks["record_uuid"]["status"] == "fail"
    assert checks["record_uuid"]["detail"] == "the inspector fell over; at line 2"
    assert "orders-sync -v doctor" in checks["record_uuid"]["fix"]
    assert checks["mapped columns"]["status"] == "pass"  # the next checks ran
    assert checks["board"]["status"] == "pass"


def test_a_database_that_is_not_there_skips_what_needs_it(
    tmp_path, make_sandbox, monkeypatch, capsys
):
    use_sandbox(monkeypatch, make_sandbox())
    code, payload, err = doctor(f"sqlite:///{tmp_path / 'nowhere' / 'orders.db'}", capsys)
    checks = by_name(payload)
    assert code == 1 and err == ""
    assert checks["database"]["status"] == "fail"
    assert "there is no SQLite database" in checks["database"]["detail"]
    for name in ("schema version", "record_uuid", "mapped columns", "open batches"):
        assert checks[name]["status"] == "skip", name
    assert checks["board"]["status"] == "pass"  # monday.com is checked all the same


def test_staged_rows_whose_source_changed_or_vanished_are_reported(
    ctx, db, make_sandbox, monkeypatch, capsys
):
    use_sandbox(monkeypatch, make_sandbox())
    batch = staging.stage(ctx, CUSTOMER, limit=5)
    rows = staged(ctx, batch.batch_id)
    changed, vanished = rows[0], rows[1]
    table = ctx.store.source().table
    with ctx.store.engine.begin() as conn:
        conn.execute(
            table.update()
            .where(table.c.record_uuid == changed.record_uuid)
            .values({"CUSTOMER STYLE": "RESTYLED"})
        )
        conn.execute(table.delete().where(table.c.record_uuid == vanished.record_uuid))
    code, payload, _ = doctor(db, capsys)
    checks = by_name(payload)
    assert code == 0  # a warning: the push would send the rows as staged
    assert checks["open batches"]["status"] == "pass"
    assert f"batch {batch.batch_id} ({CUSTOMER}, STAGED, 5 rows" in checks["open batches"]["detail"]
    drift = checks["staged rows"]
    assert drift["status"] == "warn"
    assert f"1 rows changed (orders {changed.who})" in drift["detail"]
    assert f"1 rows vanished (orders {vanished.who})" in drift["detail"]
    assert f"rollback --batch {batch.batch_id}" in drift["fix"]


def test_an_interrupted_batch_is_a_warning(ctx, db, make_sandbox, monkeypatch, capsys):
    use_sandbox(monkeypatch, make_sandbox())
    batch = staging.stage(ctx, CUSTOMER, limit=2)
    with ctx.store.engine.begin() as conn:
        conn.execute(
            batches.update().where(batches.c.batch_id == batch.batch_id).values(status="PARTIAL")
        )
    code, payload, _ = doctor(db, capsys)
    check = by_name(payload)["open batches"]
    assert code == 0 and check["status"] == "warn"
    assert f"push --batch {batch.batch_id}" in check["fix"]


def _fill(server: SandboxServer, count: int) -> None:
    names = " ".join(
        f'i{n}: create_item(board_id: {server.board_id}, item_name: "x{n}") {{ id }}'
        for n in range(count)
    )
    answer = requests.post(
        server.url, json={"query": f"mutation {{ {names} }}"}, headers={"Authorization": TOKEN}
    )
    assert answer.status_code == 200 and "errors" not in answer.json(), answer.text


def test_a_nearly_full_board_warns_and_a_full_one_fails(db, make_sandbox, monkeypatch, capsys):
    nearly = make_sandbox(max_items_per_board=20)
    _fill(nearly, 19)
    use_sandbox(monkeypatch, nearly)
    code, payload, _ = doctor(db, capsys)
    check = by_name(payload)["board capacity"]
    assert code == 0 and check["status"] == "warn", check
    assert "board 1 of 20 items free (5%)" in check["detail"]
    assert "refused before anything is sent" in check["fix"]

    full = make_sandbox(max_items_per_board=20)
    _fill(full, 20)
    use_sandbox(monkeypatch, full)
    code, payload, _ = doctor(db, capsys)
    check = by_name(payload)["board capacity"]
    assert code == 1 and check["status"] == "fail"
    assert "board 0 of 20 items free" in check["detail"]


def test_labels_the_board_has_are_not_reported(ctx, db, make_sandbox, monkeypatch, capsys):
    """A board whose status and dropdown columns list every value the source holds."""
    info = ctx.store.source()
    labels: dict[str, list[str]] = {}
    with ctx.store.engine.connect() as conn:
        for mapped in ctx.mapping.columns:
            if mapped.column.type in ("status", "dropdown"):
                values = conn.execute(select(info.table.c[mapped.source]).distinct()).scalars()
                labels[mapped.column.column_id] = sorted(v for v in values if v)
    use_sandbox(monkeypatch, make_sandbox(labels=labels))
    _, payload, _ = doctor(db, capsys)
    check = by_name(payload)["board labels"]
    assert check["status"] == "pass", check
    assert check["detail"] == "every value of the 5 status and dropdown columns is a label"


@pytest.mark.parametrize(
    ("settings_str", "labels"),
    [
        ('{"labels":{"0":"Working on it","1":"Done","5":""}}', ["Working on it", "Done"]),
        ('{"labels":[{"id":1,"name":"SS26"},{"id":2,"name":"FW26"}]}', ["SS26", "FW26"]),
        ('{"labels":[]}', []),
        ("{}", None),  # a column whose settings list no labels: not checked
        ("not json", None),
    ],
)
def test_the_labels_a_columns_settings_list(settings_str, labels):
    assert column_labels(settings_str) == labels


def test_shared_record_uuids_are_counted_on_every_dialect(db_url):
    """identity_health's GROUP BY ... HAVING, on SQLite and on a real PostgreSQL."""
    demo_init(db_url, orders=20, seed=3)
    store = Store(db_url)
    try:
        table = store.source().table
        with store.engine.begin() as conn:
            first, second, third = conn.execute(select(table.c.record_uuid).limit(3)).scalars()
            conn.execute(
                table.update()
                .where(table.c.record_uuid.in_([second, third]))
                .values(record_uuid=first)
            )
        health = identity_health(store.engine)
    finally:
        store.dispose()
    assert (health.has_uuid, health.has_hash, health.null_uuids) == (True, True, 0)
    assert health.shared_uuids == 1
    assert health.examples == [(str(first), 3)]
