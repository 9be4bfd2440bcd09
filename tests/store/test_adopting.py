"""Adoption batches in the store, on SQLite and PostgreSQL (and compiled for SQL Server):
staged with the customer's lock, holding their HELD orders back while they stand."""

from __future__ import annotations

from datetime import datetime

import pytest
from sqlalchemy import event, update
from sqlalchemy.dialects import mssql

from orders_sync_gui.core.hashing import hash_record
from orders_sync_gui.core.models import BatchStatus, Record
from orders_sync_gui.core.staged import StateRow
from orders_sync_gui.services.context import open_context
from orders_sync_gui.services.demo import demo_init
from orders_sync_gui.store.adopting import (
    AdoptRow,
    HeldRow,
    held_back,
    open_adoption,
    stage_adoption,
)
from orders_sync_gui.store.pushing import load_rows
from orders_sync_gui.store.schema import batches
from orders_sync_gui.store.staging import BatchConflictError
from orders_sync_gui.store.syncstate import save_state

NOW = datetime(2026, 12, 3, 10, 0, 0)
KEYS = ("AAG-1", "4755", "ST1", "NAVY")


@pytest.fixture
def ctx(db_url):
    demo_init(db_url, orders=20, seed=3)
    context = open_context(db_url)
    yield context
    context.close()


def board_record(uid: str) -> Record:
    fields = {"AAG ORDER NUMBER": "AAG-1", "PO NUMBER": "4755 (edited)"}
    return Record(uid, "GREYSON", fields, {"M": 6}, hash_record(fields, {"M": 6}))


def test_an_adoption_is_staged_locked_and_holds_its_held_orders(ctx):
    adopted, held = "00000000-0000-4000-8000-000000000001", "00000000-0000-4000-8000-000000000002"
    engine = ctx.store.engine
    batch = stage_adoption(
        engine,
        customer="GREYSON",
        operator="tester",
        adopted=[AdoptRow(board_record(adopted), "1900000001", {"M": "1900000002"}, KEYS)],
        held=[HeldRow(held, KEYS, "2 board items share ...", ("1900000003", "1900000004"))],
        now=NOW,
    )
    assert batch.change_types == "ADOPTED" and batch.item_count == 1 and batch.excluded_count == 1
    with engine.connect() as conn:
        rows = {r.record_uuid: r for r in load_rows(conn, batch.batch_id)}
        assert open_adoption(conn, "GREYSON") == batch
        assert held_back(conn, "GREYSON") == {held: "2 board items share ..."}
        assert held_back(conn, "RHONE") == {}
    assert rows[adopted].item_id == "1900000001"
    assert rows[adopted].values == {
        "fields": {"AAG ORDER NUMBER": "AAG-1", "PO NUMBER": "4755 (edited)"},
        "sizes": {"M": 6},
        "subitem_ids": {"M": "1900000002"},
    }
    assert rows[held].change_type == "HELD" and rows[held].item_id is None

    with pytest.raises(BatchConflictError, match="open batch"):
        stage_adoption(engine, customer="GREYSON", operator="b", adopted=[], held=[], now=NOW)

    # Once the order is synced (its item chosen since), it is no longer held.
    with engine.begin() as conn:
        save_state(conn, [StateRow(board_record(held), "1900000003")], now=NOW)
        assert held_back(conn) == {}
        conn.execute(
            update(batches).values(status=BatchStatus.UNDONE.value)
        )  # an undone adoption holds nothing either
        assert held_back(conn) == {}


def test_the_adoption_statements_compile_for_sql_server(tmp_path):
    url = f"sqlite:///{tmp_path / 'orders.db'}"
    demo_init(url, orders=20, seed=3)
    ctx = open_context(url)
    executed = []

    def seen(conn, clauseelement, multiparams, params, execution_options):  # type: ignore[no-untyped-def]
        executed.append(clauseelement)

    event.listen(ctx.store.engine, "before_execute", seen)
    try:
        uid = "00000000-0000-4000-8000-000000000001"
        stage_adoption(
            ctx.store.engine,
            customer="GREYSON",
            operator="tester",
            adopted=[],
            held=[HeldRow(uid, KEYS, "held", ("1",))],
            now=NOW,
        )
        with ctx.store.engine.connect() as conn:
            held_back(conn, "GREYSON")
            open_adoption(conn, "GREYSON")
    finally:
        event.remove(ctx.store.engine, "before_execute", seen)
        ctx.close()
    compiled = [str(e.compile(dialect=mssql.dialect())) for e in executed if hasattr(e, "compile")]
    assert any("LEFT OUTER JOIN [MON_SyncState]" in s for s in compiled)
    assert any(s.startswith("INSERT INTO [STG_MON_CustMasterSchedule]") for s in compiled)
