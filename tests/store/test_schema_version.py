"""The schema check: which sql/ scripts a database lacks, named exactly, on SQLite and on a
real PostgreSQL server.

SQL Server cannot run here, so each test builds, with SQLAlchemy, a database in a state a
DBA can leave one in (a script not run, a table dropped by hand, a table made by an older
script, a newer app's upgrade) and runs the same check function a Store runs when it opens
SQL Server: one inspector pass and one query of MON_SchemaVersion, read-only.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta

import pytest
from sqlalchemy import (
    Column,
    Engine,
    Integer,
    MetaData,
    SmallInteger,
    Table,
    Unicode,
    event,
    func,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.util import find_tables

from orders_sync_gui.core.columns import COLOUR, ORDER_NUMBER, PO_NUMBER, STYLE
from orders_sync_gui.core.models import BatchStatus, ChangeType
from orders_sync_gui.services import detection, staging
from orders_sync_gui.services.context import open_context
from orders_sync_gui.services.demo import demo_init
from orders_sync_gui.store import database, pushing
from orders_sync_gui.store.database import (
    APP_SCHEMA_VERSION,
    REQUIRED_SCRIPTS,
    Store,
    StoreSchemaError,
    check_schema,
    inspect_schema,
)
from orders_sync_gui.store.engine import make_engine
from orders_sync_gui.store.schema import (
    BATCH_TABLE,
    LOCK_TABLE,
    SOURCE_TABLE,
    STAGING_TABLE,
    SUBITEM_TABLE,
    SYNC_STATE_TABLE,
    VERSION_TABLE,
    app_metadata,
    batches,
    build_source_table,
    schema_versions,
)
from orders_sync_gui.store.staging import list_batches, stage_batch
from tests.helpers import mark_synced

S000, S001, S002, S003, S004, S005, S007 = (f"sql/{s.file}" for s in REQUIRED_SCRIPTS)
TOMBSTONE = ["deleted_at", "deleted_action"]  # what 004 adds to MON_SyncState
# What 005 adds to MON_BatchProcessing.
CLAIM = ["claim_run", "claim_pid", "claim_host", "claim_operator", "claim_activity", "claim_at"]
CLAIM_COLUMNS = (
    f"{BATCH_TABLE} has no claim_run, claim_pid, claim_host, claim_operator, claim_activity "
    "and claim_at columns"
)
SYNC_TABLES = [BATCH_TABLE, STAGING_TABLE, SUBITEM_TABLE, SYNC_STATE_TABLE, LOCK_TABLE]
ALL = [s.number for s in REQUIRED_SCRIPTS]


@pytest.fixture
def engine(db_url) -> Iterator[Engine]:
    eng = make_engine(db_url)
    yield eng
    eng.dispose()


# --- building the states a DBA can leave a database in -------------------------------------


def make_source(engine: Engine, *, with_001: bool = True) -> None:
    """ORDERS_UNIFIED after 001 (the demo table), or as production has it before 001."""
    md = MetaData()
    if with_001:
        build_source_table(md)
    else:
        Table(
            SOURCE_TABLE,
            md,
            Column("AAG ORDER NUMBER", Unicode(50)),
            Column("CUSTOMER NAME", Unicode(100)),
            Column("UNIT OF MEASURE", Unicode(20)),
            Column("M", Integer),
            Column("TOTAL QTY", SmallInteger),
        )
    md.create_all(engine)


def make_tables(engine: Engine, names: Iterable[str]) -> None:
    """The app's tables, as 000 and 002 create them."""
    app_metadata.create_all(engine, tables=[app_metadata.tables[n] for n in names])


def record(engine: Engine, numbers: Iterable[int], newer: dict[int, str] | None = None) -> None:
    """MON_SchemaVersion rows, as the scripts write them; `newer`: scripts of a newer app."""
    names = {s.number: s.file for s in REQUIRED_SCRIPTS} | (newer or {})
    rows = [
        {
            "script_number": n,
            "script_name": names[n],
            "applied_at": datetime(2026, 11, 2, 9, 30),
            "applied_by": "DOMAIN\\dba",
        }
        for n in [*numbers, *(newer or {})]
    ]
    with engine.begin() as conn:
        conn.execute(insert(schema_versions), rows)


def drop_column(engine: Engine, table: str, column: str) -> None:
    quote = engine.dialect.identifier_preparer.quote
    with engine.begin() as conn:
        conn.execute(text(f"ALTER TABLE {quote(table)} DROP COLUMN {quote(column)}"))


def drop_table(engine: Engine, table: str) -> None:
    app_metadata.tables[table].drop(engine)


def as_made_before(engine: Engine, number: int) -> None:
    """The database as the app before script `number` left it: the columns that script and
    the later ones add are not there, nor are their version rows."""
    later = [s for s in REQUIRED_SCRIPTS if s.number >= number]
    for script in later:
        for table, column in script.columns:
            drop_column(engine, table, column)
    with engine.begin() as conn:
        conn.execute(schema_versions.delete().where(schema_versions.c.script_number >= number))


def everything(engine: Engine) -> None:
    """What 000, 001, 002 and 003 leave behind."""
    make_source(engine)
    make_tables(engine, app_metadata.tables)
    record(engine, ALL)


def missing(engine: Engine) -> list[int]:
    return [s.number for s in inspect_schema(engine).missing]


def problem(engine: Engine) -> str:
    with pytest.raises(StoreSchemaError) as err:
        check_schema(engine)
    assert str(err.value) == inspect_schema(engine).problem()
    return str(err.value)


# --- the states --------------------------------------------------------------------------


def test_all_scripts_run(engine):
    everything(engine)
    status = inspect_schema(engine)
    assert status.problem() is None and status.missing == []
    assert check_schema(engine) == {s.number: s.file for s in REQUIRED_SCRIPTS}


def test_nothing_run(engine):
    make_source(engine, with_001=False)
    assert missing(engine) == [0, 1, 2, 3, 4, 5, 7]
    assert problem(engine) == (
        f"the database lacks {S000} (no {VERSION_TABLE} table), "
        f"{S001} ({SOURCE_TABLE} has no record_uuid and record_hash columns), "
        f"{S002} (no MON_BatchProcessing, STG_MON_CustMasterSchedule, "
        "STG_MON_CustMasterSchedule_Subitems, MON_SyncState and MON_CustomerLock tables), "
        f"{S003} (not recorded in {VERSION_TABLE}), "
        f"{S004} ({SYNC_STATE_TABLE} has no deleted_at and deleted_action columns), "
        f"{S005} ({CLAIM_COLUMNS}) and {S007} ({SYNC_STATE_TABLE} has no db_hash column): "
        "ask the DBA to run them, in this order"
    )


def test_001_not_run(engine):
    make_source(engine, with_001=False)
    make_tables(engine, app_metadata.tables)
    record(engine, [0, 2, 3, 4, 5, 7])
    assert missing(engine) == [1]
    assert problem(engine) == (
        f"the database lacks {S001} ({SOURCE_TABLE} has no record_uuid and record_hash "
        "columns): ask the DBA to run it"
    )


def test_001_recorded_but_undone_by_hand(engine):
    """What is there wins over what is recorded: a row does not bring the column back."""
    make_source(engine, with_001=False)
    make_tables(engine, app_metadata.tables)
    record(engine, ALL)
    assert problem(engine) == (
        f"the database lacks {S001} ({SOURCE_TABLE} has no record_uuid and record_hash "
        "columns): ask the DBA to run it"
    )


def test_001_and_002_not_run(engine):
    make_source(engine, with_001=False)
    make_tables(engine, [VERSION_TABLE])
    record(engine, [0])
    assert missing(engine) == [1, 2, 3, 4, 5, 7]
    message = problem(engine)
    assert message.startswith(
        f"the database lacks {S001} ({SOURCE_TABLE} has no record_uuid and record_hash columns), "
        f"{S002} (no {', '.join(SYNC_TABLES[:-1])} and {SYNC_TABLES[-1]} tables), {S003} "
        f"(not recorded in {VERSION_TABLE}), {S004} "
    )
    assert f"{S004} ({SYNC_STATE_TABLE} has no deleted_at" in message
    assert f", {S005} ({CLAIM_COLUMNS}) and {S007} ({SYNC_STATE_TABLE} has no db_hash" in message
    assert message.endswith(": ask the DBA to run them, in this order")
    assert S000 not in message


def test_002_not_run(engine):
    make_source(engine)
    make_tables(engine, [VERSION_TABLE])
    record(engine, [0, 1])
    assert missing(engine) == [2, 3, 4, 5, 7]
    message = problem(engine)
    assert message.startswith(f"the database lacks {S002} (no MON_BatchProcessing, ")
    assert message.endswith(
        f"tables), {S003} (not recorded in {VERSION_TABLE}), {S004} ({SYNC_STATE_TABLE} has "
        f"no deleted_at and deleted_action columns), {S005} ({CLAIM_COLUMNS}) and {S007} "
        f"({SYNC_STATE_TABLE} has no db_hash column): ask the DBA to run them, in this order"
    )
    assert S000 not in message and S001 not in message


def test_an_app_table_dropped_by_hand(engine):
    everything(engine)
    drop_table(engine, LOCK_TABLE)
    assert missing(engine) == [2]
    assert problem(engine) == (
        f"the database lacks {S002} (no {LOCK_TABLE} table): ask the DBA to run it"
    )


def test_a_column_missing_from_an_app_table(engine):
    """A table made by an earlier 002 (or changed by hand): running 002 again would not add
    the column, so the message names 002 as the column's definition, not as a script to run."""
    everything(engine)
    drop_column(engine, SYNC_STATE_TABLE, "monday_subitem_ids")
    status = inspect_schema(engine)
    assert status.missing == []
    assert status.stale_columns == {2: {SYNC_STATE_TABLE: ["monday_subitem_ids"]}}
    message = problem(engine)
    assert message.startswith(
        f"{SYNC_STATE_TABLE} has no monday_subitem_ids column, which {S002} defines: "
        "the table was made by an earlier version of that script or changed by hand"
    )
    assert "lacks" not in message
    assert all(s not in message for s in (S000, S001, S003))


def test_a_missing_script_and_a_stale_table_in_one_message(engine):
    make_source(engine, with_001=False)
    make_tables(engine, app_metadata.tables)
    record(engine, [0, 2, 3, 4, 5, 7])
    drop_column(engine, LOCK_TABLE, "operator")
    message = problem(engine)
    first, second = message.split("; and ")
    assert first == (
        f"the database lacks {S001} ({SOURCE_TABLE} has no record_uuid and record_hash "
        "columns): ask the DBA to run it"
    )
    assert second.startswith(f"{LOCK_TABLE} has no operator column, which {S002} defines")


def test_scripts_run_before_000_existed(engine):
    """No MON_SchemaVersion means nothing is recorded: every script is named, and the reason
    says that re-running it only records it."""
    make_source(engine)
    make_tables(engine, SYNC_TABLES)
    assert missing(engine) == [0, 1, 2, 3, 4, 5, 7]
    assert problem(engine) == (
        f"the database lacks {S000} (no {VERSION_TABLE} table), "
        f"{S001} (not recorded in {VERSION_TABLE}), {S002} (not recorded in {VERSION_TABLE}), "
        f"{S003} (not recorded in {VERSION_TABLE}), {S004} (not recorded in {VERSION_TABLE}), "
        f"{S005} (not recorded in {VERSION_TABLE}) and {S007} (not recorded in {VERSION_TABLE}): "
        "ask the DBA to run them, in this order"
    )


def test_only_003_not_run(engine):
    make_source(engine)
    make_tables(engine, app_metadata.tables)
    record(engine, [0, 1, 2, 4, 5, 7])
    assert problem(engine) == (
        f"the database lacks {S003} (not recorded in {VERSION_TABLE}): ask the DBA to run it"
    )


def test_004_not_run(engine):
    """A database set up by the version before 004 (000 to 003): MON_SyncState and
    MON_BatchProcessing as 002 made them. 004 and 005 add columns to tables that exist, so
    the message names them as scripts to run, in order."""
    make_source(engine)
    make_tables(engine, app_metadata.tables)
    for column in TOMBSTONE:
        drop_column(engine, SYNC_STATE_TABLE, column)
    for column in CLAIM:
        drop_column(engine, BATCH_TABLE, column)
    drop_column(engine, SYNC_STATE_TABLE, "db_hash")
    record(engine, [0, 1, 2, 3])
    status = inspect_schema(engine)
    assert [s.number for s in status.missing] == [4, 5, 7] and status.stale_columns == {}
    assert problem(engine) == (
        f"the database lacks {S004} ({SYNC_STATE_TABLE} has no deleted_at and deleted_action "
        f"columns), {S005} ({CLAIM_COLUMNS}) and {S007} ({SYNC_STATE_TABLE} has no db_hash "
        "column): ask the DBA to run them, in this order"
    )


def test_005_not_run(engine):
    """A database set up by the version before 005 (000 to 004): MON_BatchProcessing as 002
    made it. The message names 005 alone, with the columns it adds."""
    make_source(engine)
    make_tables(engine, app_metadata.tables)
    for column in CLAIM:
        drop_column(engine, BATCH_TABLE, column)
    record(engine, [0, 1, 2, 3, 4, 7])
    status = inspect_schema(engine)
    assert [s.number for s in status.missing] == [5] and status.stale_columns == {}
    assert problem(engine) == (
        f"the database lacks {S005} ({CLAIM_COLUMNS}): ask the DBA to run it"
    )


def test_005_recorded_but_a_column_dropped_by_hand(engine):
    everything(engine)
    drop_column(engine, BATCH_TABLE, "claim_at")
    assert problem(engine) == (
        f"the database lacks {S005} ({BATCH_TABLE} has no claim_at column): ask the DBA to run it"
    )


def test_004_recorded_but_a_column_dropped_by_hand(engine):
    everything(engine)
    drop_column(engine, SYNC_STATE_TABLE, "deleted_action")
    assert problem(engine) == (
        f"the database lacks {S004} ({SYNC_STATE_TABLE} has no deleted_action column): "
        "ask the DBA to run it"
    )


def test_a_newer_schema(engine):
    everything(engine)
    record(engine, [], {8: "008_future_columns.sql"})
    assert problem(engine) == (
        "this database was upgraded by a newer orders-sync (script 8, 008_future_columns.sql); "
        f"update the app (this one knows scripts up to {APP_SCHEMA_VERSION})"
    )


def test_a_newer_schema_wins_over_what_looks_missing(engine):
    """A newer app may have changed what this one looks for: only the update is asked for."""
    make_source(engine, with_001=False)
    make_tables(engine, [VERSION_TABLE])
    record(engine, ALL, {8: "008_later.sql"})
    assert problem(engine).startswith("this database was upgraded by a newer orders-sync (script 8")


def test_no_orders_unified(engine):
    """Not the order database, or a login that sees nothing (not in the operator role)."""
    make_tables(engine, app_metadata.tables)
    record(engine, ALL)
    message = problem(engine)
    assert message.startswith(f"this database has no {SOURCE_TABLE} table that this login can see")
    assert "orders_sync_operator" in message


def test_the_check_is_one_inspector_pass_and_one_query(engine):
    everything(engine)
    queries: list[ClauseElement] = []

    def count(conn, element, multiparams, params, options):  # type: ignore[no-untyped-def]
        tables = find_tables(element) if isinstance(element, ClauseElement) else []
        if any(t.name == VERSION_TABLE for t in tables):
            queries.append(element)

    calls: list[str] = []
    real = inspect

    def spy(subject):  # type: ignore[no-untyped-def]
        calls.append(type(subject).__name__)
        return real(subject)

    event.listen(engine, "before_execute", count)
    try:
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(database, "inspect", spy)
            check_schema(engine)
    finally:
        event.remove(engine, "before_execute", count)
    assert len(queries) == 1 and calls == ["Connection"]


def test_required_scripts_cover_the_app_schema():
    """Every table of schema.py comes from exactly one script, in the order they run."""
    numbers = [s.number for s in REQUIRED_SCRIPTS]
    # 006 belongs to another change; each number once, in the order they run.
    assert numbers == sorted(set(numbers)) and numbers[:6] == list(range(6))
    created = [t for s in REQUIRED_SCRIPTS for t in s.tables]
    assert sorted(created) == sorted(app_metadata.tables)
    assert REQUIRED_SCRIPTS[0].tables == (VERSION_TABLE,), "000 runs first: the others record"


# --- the Store: records versions itself where it creates the tables ------------------------


def _versions(engine: Engine) -> list[tuple[int, str, str]]:
    v = schema_versions.c
    with engine.connect() as conn:
        rows = conn.execute(select(v.script_number, v.script_name, v.applied_by).order_by(v[0]))
        return [tuple(r) for r in rows]


def test_store_records_the_versions_after_create_all(db_url, engine):
    store = Store(db_url, new_file=True)
    try:
        assert store.applied_scripts == {s.number: s.file for s in REQUIRED_SCRIPTS}
        rows = _versions(engine)
        assert [(n, name) for n, name, _ in rows] == [(s.number, s.file) for s in REQUIRED_SCRIPTS]
        assert all(by.startswith("orders-sync (create_all) as ") for _, _, by in rows)
        demo_init(db_url, orders=30, seed=1)
        assert check_schema(engine) == store.applied_scripts  # and the check agrees
    finally:
        store.dispose()
    Store(db_url).dispose()  # a second open records nothing twice
    assert _versions(engine) == rows


def test_store_records_what_an_older_app_left_unrecorded(db_url, engine):
    """A database made before MON_SchemaVersion existed: the next open records it all."""
    make_tables(engine, SYNC_TABLES)
    Store(db_url, new_file=True).dispose()
    assert [n for n, _, _ in _versions(engine)] == list(ALL)


def test_store_refuses_a_database_a_newer_app_upgraded(db_url, engine):
    make_tables(engine, app_metadata.tables)
    record(engine, ALL, {8: "008_later.sql"})
    with pytest.raises(StoreSchemaError, match=r"newer orders-sync \(script 8, 008_later.sql\)"):
        Store(db_url, new_file=True)
    assert [n for n, _, _ in _versions(engine)] == [*ALL, 8]


def test_store_upgrades_a_database_an_earlier_app_made(db_url, engine):
    """The demo database of the version before 004 (scripts 0 to 3 recorded, MON_SyncState
    without the tombstone columns, records synced): opening it adds the columns and records
    004 (and 005), and every synced record stays synced."""
    demo_init(db_url, orders=60, seed=3)
    ctx = open_context(db_url)
    try:
        synced = mark_synced(ctx)
    finally:
        ctx.close()
    as_made_before(engine, 4)
    assert missing(engine) == [4, 5, 7]

    ctx = open_context(db_url)
    try:
        assert ctx.store.applied_scripts == {s.number: s.file for s in REQUIRED_SCRIPTS}
        counts, _ = detection.detect_counts(ctx)
        assert sum(c.unchanged for c in counts) == synced > 0
        assert sum(c.new + c.changed + c.deleted for c in counts) == 0
    finally:
        ctx.close()
    columns = {c["name"] for c in inspect(engine).get_columns(SYNC_STATE_TABLE)}
    assert set(TOMBSTONE) <= columns
    assert set(CLAIM) <= {c["name"] for c in inspect(engine).get_columns(BATCH_TABLE)}
    assert check_schema(engine) == {s.number: s.file for s in REQUIRED_SCRIPTS}
    added = [(n, name, by) for n, name, by in _versions(engine) if n >= 4]
    assert [(n, name) for n, name, _ in added] == [
        (4, "004_sync_state_tombstone.sql"),
        (5, "005_batch_claim.sql"),
        (7, "007_record_hash.sql"),
    ]
    assert all(by.startswith("orders-sync (create_all)") for _, _, by in added)


def test_store_upgrades_a_database_made_before_005(db_url, engine):
    """The demo database of the version before 005 (scripts 0 to 4; MON_BatchProcessing
    without the claim columns), with a pushed batch in its history and a batch that app
    left PUSHING (killed mid-push: its claim is only text in the message). Opening it adds
    the columns and records 005; the history reads as before; the left batch is taken over
    once its lease has run out, and the new claim is written to the added columns."""
    make_source(engine)
    Store(db_url, new_file=True).dispose()
    then = datetime(2026, 11, 2, 9, 30)
    old = "push in progress · run 1a2b3c4d · pid 4321 on PC-ALICE · alice"

    def stage(customer: str) -> int:
        return stage_batch(
            engine,
            customer=customer,
            operator="a.nowak",
            changes=[],
            change_types=[ChangeType.NEW],
            key_fields=(ORDER_NUMBER, PO_NUMBER, STYLE, COLOUR),
            now=then,
        ).batch_id

    pushed, left = stage("RHONE"), stage("GREYSON")
    with engine.begin() as conn:
        pushing.set_batch(
            conn, pushed, status=BatchStatus.PUSHED, now=then, message="pushed 5 rows",
            release_lock=True,
        )  # fmt: skip
        conn.execute(
            batches.update()
            .where(batches.c.batch_id == left)
            .values(status=BatchStatus.PUSHING.value, message=old, updated_at=then)
        )
    as_made_before(engine, 5)
    assert missing(engine) == [5, 7]
    assert not set(CLAIM) & {c["name"] for c in inspect(engine).get_columns(BATCH_TABLE)}

    store = Store(db_url)
    try:
        assert store.applied_scripts == {s.number: s.file for s in REQUIRED_SCRIPTS}
        with store.engine.connect() as conn:
            history = {b.batch_id: (b.status, b.message) for b in list_batches(conn)}
        assert history == {
            pushed: (BatchStatus.PUSHED, "pushed 5 rows"),
            left: (BatchStatus.PUSHING, old),
        }
        bob = pushing.BatchClaim(
            run="b2" * 16, pid=77, host="PC-BOB", operator="bob", activity="push"
        )
        kwargs = {
            "claim": bob,
            "from_statuses": (BatchStatus.STAGED, BatchStatus.PARTIAL),
            "lease_seconds": 600,
            "holder_gone": lambda _holder: True,
        }
        with store.engine.begin() as conn:
            holder = pushing.claim_batch(conn, left, now=then + timedelta(seconds=60), **kwargs)
        assert holder is not None and str(holder) == old
        taken = then + timedelta(seconds=601)
        with store.engine.begin() as conn:
            assert pushing.claim_batch(conn, left, now=taken, **kwargs) is None
        with store.engine.connect() as conn:
            row = conn.execute(select(batches).where(batches.c.batch_id == left)).one()
        claimed = (row.claim_run, row.claim_pid, row.claim_host, row.claim_at)
        assert claimed == (bob.run, 77, "PC-BOB", taken)
        assert row.message == "push in progress · run b2b2b2b2 · pid 77 on PC-BOB · bob"
    finally:
        store.dispose()
    assert check_schema(engine) == {s.number: s.file for s in REQUIRED_SCRIPTS}
    [(name, by)] = [(name, by) for n, name, by in _versions(engine) if n == 5]
    assert name == "005_batch_claim.sql" and by.startswith("orders-sync (create_all)")


def test_store_names_a_column_its_own_script_should_have_made(db_url, engine):
    """A column missing from a table the app created (an early build, or a hand edit) is
    not guessed at: the Store says which, instead of failing later on a query."""
    everything(engine)
    drop_column(engine, SYNC_STATE_TABLE, "monday_subitem_ids")
    with pytest.raises(StoreSchemaError) as err:
        Store(db_url)
    assert str(err.value).startswith(
        f"{SYNC_STATE_TABLE} has no monday_subitem_ids column, which {S002} defines"
    )


# --- the SQL Server path: check only, read-only, once per Store ----------------------------


@pytest.fixture
def as_sql_server(monkeypatch):
    """The Store takes its SQL Server path (check, never create) on the test database."""
    monkeypatch.setattr(Store, "dialect", property(lambda self: "mssql"))


def test_sql_server_store_names_the_scripts_and_creates_nothing(db_url, engine, as_sql_server):
    make_source(engine, with_001=False)
    make_tables(engine, [VERSION_TABLE])
    record(engine, [0])
    with pytest.raises(StoreSchemaError) as err:
        Store(db_url)
    assert str(err.value).startswith(f"the database lacks {S001} (")
    assert f"{S002} (" in str(err.value) and f"{S003} (" in str(err.value)
    assert set(inspect(engine).get_table_names()) == {SOURCE_TABLE, VERSION_TABLE}
    assert [n for n, _, _ in _versions(engine)] == [0], "the app never writes it there"


def test_sql_server_store_checks_once_not_per_service_call(db_url, engine, monkeypatch):
    demo_init(db_url, orders=60, seed=3)  # all scripts' worth
    checks = []
    real = database.check_schema

    def counted(bind):  # type: ignore[no-untyped-def]
        checks.append(bind)
        return real(bind)

    monkeypatch.setattr(database, "check_schema", counted)
    monkeypatch.setattr(Store, "dialect", property(lambda self: "mssql"))
    reads: list[str] = []
    ctx = open_context(db_url)
    try:
        assert len(checks) == 1 and ctx.store.applied_scripts == dict(
            (s.number, s.file) for s in REQUIRED_SCRIPTS
        )

        def count(conn, element, multiparams, params, options):  # type: ignore[no-untyped-def]
            if isinstance(element, ClauseElement):
                reads.extend(t.name for t in find_tables(element) if t.name == VERSION_TABLE)

        event.listen(ctx.store.engine, "before_execute", count)
        detection.detect_counts(ctx)
        detection.list_customers(ctx)
        staging.history(ctx)
        ctx.store.ensure_schema()
        with ctx.store.engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(schema_versions)).scalar() == len(
                REQUIRED_SCRIPTS
            )
    finally:
        ctx.close()
    assert len(checks) == 1
    assert reads == [VERSION_TABLE], "only the test's own count above"
