"""SQL Server without a server: every statement the store issues compiles for `mssql`, and
the DBA's scripts in sql/ say the same as schema.py.

A real workflow (demo data, detection, preview, staging, a refused second batch, history,
rollback, sync state, a source that changes, then an estimate, a push to the local monday.com
sandbox, a change pushed on top with rows monday.com refuses, and the undo of both batches)
runs on a SQLite file while an event listener records every statement SQLAlchemy executes.
Each one is then compiled for SQL Server 2022 with the pyodbc dialect, as production would
send it.
"""

from __future__ import annotations

import re
import uuid
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, MetaData, Table, create_engine, event, update
from sqlalchemy.dialects import mssql
from sqlalchemy.engine import Dialect
from sqlalchemy.schema import CreateTable, ExecutableDDLElement
from sqlalchemy.sql import ClauseElement, CompoundSelect, Delete, Insert, Select, TextClause, Update
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.sql.util import find_tables
from sqlalchemy.sql.visitors import iterate
from sqlalchemy.types import DateTime, UnicodeText, Uuid

from orders_sync_gui.core.columns import COLOUR, ORDER_NUMBER, PO_NUMBER, SIZE_NAMES, STYLE
from orders_sync_gui.core.models import BatchStatus, ChangeType, RowStatus
from orders_sync_gui.core.staged import StateRow
from orders_sync_gui.monday.sandbox import SandboxConfig, SandboxServer
from orders_sync_gui.services import detection, staging
from orders_sync_gui.services.context import Context, open_context
from orders_sync_gui.services.demo import fill_demo
from orders_sync_gui.services.estimate import estimate
from orders_sync_gui.services.monday_setup import MondaySetup, monday_setup
from orders_sync_gui.services.push import push
from orders_sync_gui.services.undo import undo
from orders_sync_gui.store import pushing
from orders_sync_gui.store import staging as store_staging
from orders_sync_gui.store.database import REQUIRED_SCRIPTS, Store, check_schema
from orders_sync_gui.store.demo import CUSTOMERS, mutate_orders
from orders_sync_gui.store.schema import (
    BATCH_TABLE,
    LOCK_TABLE,
    SOURCE_TABLE,
    STAGING_TABLE,
    SUBITEM_TABLE,
    VERSION_TABLE,
    app_metadata,
    build_source_table,
    staged_rows,
)
from orders_sync_gui.store.source import count_rows, existing_uuids
from orders_sync_gui.store.syncstate import (
    forget_state,
    load_state,
    load_state_hashes,
    save_state,
)

SQL_DIR = Path(__file__).resolve().parents[2] / "sql"
MSSQL_MAX_PARAMS = 2100
PILOT = "GREYSON"
PILOT_SPELLINGS = next(spellings for name, spellings in CUSTOMERS if name == PILOT)
# Pushed to the sandbox and undone; its apostrophe must travel as a parameter value too.
PUSHED = "O'NEILL"
# Claimed by two runs in turn, straight through the store (see _claim_paths).
CLAIMED = "VUORI"
SANDBOX_TOKEN = "t"
DELETE_ITEM = "mutation ($id: ID!) { delete_item(item_id: $id) { id } }"
UUID_RE = re.compile(
    r"[0-9a-f]{8}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{4}-?[0-9a-f]{12}", re.IGNORECASE
)
BRACKETED_RE = re.compile(r"\[[^\]]*\]")
NOW = datetime(2026, 11, 2, 9, 30)


def mssql_dialect(*, server_version: tuple[int, ...] | None = (16, 0)) -> Dialect:
    """The pyodbc dialect (qmark parameters, as pyodbc sends them) for a given server.

    Without a connection the dialect knows no server version; SQLAlchemy then assumes an
    old server (no OFFSET/FETCH, NTEXT for unsized text), so the version is set by hand.
    """
    dialect = mssql.dialect(paramstyle="qmark")
    if server_version is not None:
        dialect.server_version_info = server_version
        dialect._setup_version_attributes()
    return dialect


MSSQL = mssql_dialect()


@dataclass(slots=True)
class Executed:
    element: ClauseElement
    rows: list[dict[str, Any]]  # the parameter sets: several for an executemany
    phase: str  # "app": what the app does in production; "demo": demo data and the test's
    # own edits of the source (the daily loads' work, not the app's)


@dataclass(slots=True)
class Compiled:
    executed: Executed
    sql: str
    params: dict[str, Any]
    positions: list[str]


@dataclass(slots=True)
class Workflow:
    executed: list[Executed] = field(default_factory=list)
    skipped_text: list[str] = field(default_factory=list)
    phase: str = "demo"
    source_uuids: set[str] = field(default_factory=set)

    def listen(self, engine: Engine) -> None:
        event.listen(engine, "before_execute", self._record)

    def _record(  # type: ignore[no-untyped-def]
        self, conn, element, multiparams, params, execution_options
    ) -> None:
        if isinstance(element, TextClause):
            # SQLite's reflection runs PRAGMAs as text; the store itself writes none.
            self.skipped_text.append(element.text)
            return
        if not isinstance(element, ClauseElement):
            self.skipped_text.append(str(element))
            return
        rows = [dict(r) for r in multiparams] if multiparams else ([dict(params)] if params else [])
        self.executed.append(Executed(element, rows, self.phase))


def compile_for_mssql(ex: Executed, dialect: Dialect = MSSQL) -> Compiled:
    element = ex.element
    if isinstance(element, ExecutableDDLElement):
        ddl = element.compile(dialect=dialect)
        return Compiled(executed=ex, sql=str(ddl), params={}, positions=[])
    # As the engine would: only the columns given, executemany when several rows. No
    # literal_binds: values must stay parameters.
    compiled = element.compile(
        dialect=dialect,
        column_keys=list(ex.rows[0]) if ex.rows else None,
        for_executemany=len(ex.rows) > 1,
    )
    return Compiled(
        executed=ex,
        sql=str(compiled),
        params=dict(compiled.params),
        positions=list(compiled.positiontup or []),
    )


def _pushed_state(url: str, customer: str) -> list[StateRow]:
    """The customer's sync state, read by the test itself (not recorded as the app's)."""
    engine = create_engine(url)
    try:
        with engine.connect() as conn:
            return sorted(load_state(conn, customer), key=lambda r: r.record.record_uuid)
    finally:
        engine.dispose()


def _change_pushed_orders(engine: Engine, rows: list[StateRow]) -> None:
    """The source changes three pushed orders (as a daily load would): the first gets a new
    colour and a size run that changes, loses one size and gains another; the second a new
    colour; the third one size's quantity."""
    table = build_source_table(MetaData())
    first, second, third = (r.record for r in rows)
    sizes = list(first.sizes)
    gained = next(s for s in SIZE_NAMES if s not in first.sizes)
    size = next(iter(third.sizes))
    edits = [
        (
            first,
            {
                COLOUR: "TEAL",
                sizes[0]: first.sizes[sizes[0]] + 6,
                sizes[-1]: None,
                gained: 12,
            },
        ),
        (second, {COLOUR: "PLUM"}),
        (third, {size: third.sizes[size] + 12}),
    ]
    with engine.begin() as conn:
        for record, values in edits:
            stmt = update(table).where(table.c.record_uuid == record.record_uuid).values(values)
            assert conn.execute(stmt).rowcount == 1


def _delete_on_board(setup: MondaySetup, item_ids: list[str]) -> None:
    """A planner deletes items (or subitems) on the board, behind the app's back."""
    client = setup.client()
    try:
        for item_id in item_ids:
            client.execute(DELETE_ITEM, {"id": item_id}, mutation=True)
    finally:
        client.close()


def _push_and_undo(wf: Workflow, ctx: Context, url: str) -> None:
    """Estimate and push a batch to the sandbox, push a CHANGED batch on top of it (one row
    goes through, one item and one subitem were deleted on the board meanwhile: monday.com
    refuses their changes, and the push creates them anew), then undo both, newest first."""
    with SandboxServer(SandboxConfig(token=SANDBOX_TOKEN, window_seconds=1)) as sb:
        setup = monday_setup(ctx, url=sb.url, token=SANDBOX_TOKEN, board_id=sb.board_id)

        first = staging.stage(ctx, PUSHED)
        plan = estimate(ctx, first.batch_id)
        assert (plan.items, plan.subitems) == (first.item_count, first.subitem_count)
        report = push(ctx, first.batch_id, setup)
        assert report.status == BatchStatus.PUSHED.value, report.message
        assert report.succeeded == first.item_count >= 3

        state = _pushed_state(url, PUSHED)
        assert len(state) == first.item_count
        assert all(r.monday_item_id and r.last_batch_id == first.batch_id for r in state)
        sized = next(r for r in state if len(r.record.sizes) >= 2)
        picked = [sized, *[r for r in state if r is not sized][:2]]
        wf.phase = "demo"
        _change_pushed_orders(ctx.store.engine, picked)
        wf.phase = "app"
        refused_item = picked[1].monday_item_id
        refused_size = next(iter(picked[2].record.sizes))
        _delete_on_board(setup, [refused_item, picked[2].subitem_ids[refused_size]])

        second = staging.stage(ctx, PUSHED, types=[ChangeType.CHANGED])
        assert second.changed_count == 3 == second.item_count
        assert second.subitem_count == 4  # one changed, one deleted, one new; one changed
        plan = estimate(ctx, second.batch_id)
        assert plan.not_undoable, "a deleted subitem comes back without its figures"
        report = push(ctx, second.batch_id, setup)
        assert report.status == BatchStatus.PUSHED.value, report.message
        assert (report.succeeded, report.failed) == (3, 0)

        with pytest.raises(store_staging.BatchStateError, match="undo the later one first"):
            undo(ctx, first.batch_id, setup)
        undone = undo(ctx, second.batch_id, setup)
        assert undone.status == BatchStatus.UNDONE.value, undone.message
        undone = undo(ctx, first.batch_id, setup)
        assert undone.status == BatchStatus.UNDONE.value, undone.message
        assert undone.undone == first.item_count
        stats = sb.stats()
        assert stats["items"] == stats["subitems"] == 0, "the board is as it was"
    assert _pushed_state(url, PUSHED) == [], "and so is the sync state"


def _claim_paths(engine: Engine, batch_id: int) -> None:
    """The claim's paths (sql/005) that a push and an undo which nobody disturbs do not
    take: a second run refused while the first holds the batch, then taking it over once
    the first has been silent past the lease; the first run's heartbeat, which no longer
    holds anything; the second's, and the end of its run."""
    alice = pushing.BatchClaim.new("push", "alice")
    bob = pushing.BatchClaim.new("push", "bob")
    rules: dict[str, Any] = {
        "from_statuses": (BatchStatus.STAGED,),
        "lease_seconds": 60,
        "holder_gone": lambda _holder: False,
    }
    later = NOW + timedelta(seconds=61)
    with engine.begin() as conn:
        assert pushing.claim_batch(conn, batch_id, claim=alice, now=NOW, **rules) is None
        held = pushing.claim_batch(conn, batch_id, claim=bob, now=NOW, **rules)
        assert held == replace(alice, at=NOW)
        assert pushing.claim_batch(conn, batch_id, claim=bob, now=later, **rules) is None
        assert not pushing.heartbeat(conn, batch_id, alice.run, later)
        assert pushing.heartbeat(conn, batch_id, bob.run, later)
        pushing.set_batch(
            conn, batch_id, status=BatchStatus.PUSHED, now=later, message="pushed",
            succeeded=0, failed=0, release_lock=True,
        )  # fmt: skip


def _source_uuids(engine: Engine) -> set[str]:
    table = Table(SOURCE_TABLE, MetaData(), autoload_with=engine)
    with engine.connect() as conn:
        stmt = table.select().with_only_columns(table.c.record_uuid)
        return {str(uuid.UUID(str(u))) for u in conn.execute(stmt).scalars()}


@pytest.fixture(scope="module")
def workflow(tmp_path_factory: pytest.TempPathFactory) -> Workflow:
    home = tmp_path_factory.mktemp("mssql_home")
    url = f"sqlite:///{home / 'orders.db'}"
    wf = Workflow()
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("ORDERS_SYNC_HOME", str(home))
        mp.setenv("ORDERS_SYNC_OPERATOR", "tester")
        mp.delenv("ORDERS_SYNC_DB_URL", raising=False)

        demo_store = Store(url, new_file=True, create=False)
        wf.listen(demo_store.engine)
        demo_store.ensure_schema()  # the app's CREATE TABLEs
        fill_demo(demo_store, orders=300, seed=7, force=False)
        demo_store.dispose()

        ctx = open_context(url)
        wf.listen(ctx.store.engine)
        engine = ctx.store.engine
        try:
            wf.phase = "app"
            # What a Store does once when it opens SQL Server: the read-only schema check.
            assert check_schema(engine) == {s.number: s.file for s in REQUIRED_SCRIPTS}
            detection.detect_counts(ctx)
            detection.detect_counts(ctx, PILOT)
            detection.list_customers(ctx)
            pilot = detection.preview(ctx, PILOT, po_number="4755")
            assert pilot.changes, "the demo data must hold the pilot PO"

            batch = staging.stage(ctx, PILOT, limit=5)
            with pytest.raises(store_staging.BatchConflictError):
                staging.stage(ctx, PILOT, limit=5)  # refused before any work
            with pytest.raises(store_staging.BatchConflictError):
                # ... and refused by the lock's primary key when the check is raced.
                store_staging.stage_batch(
                    engine,
                    customer=PILOT,
                    operator="racer",
                    changes=pilot.changes[:1],
                    change_types=[ChangeType.NEW],
                    key_fields=(ORDER_NUMBER, PO_NUMBER, STYLE, COLOUR),
                    now=NOW,
                )
            staging.history(ctx)
            staging.history(ctx, PILOT)
            with engine.connect() as conn:
                store_staging.staged_rows_frame(conn, batch.batch_id)
                store_staging.staged_subitems_frame(conn, batch.batch_id)
                store_staging.get_batch(conn, batch.batch_id)
            staging.rollback(ctx, batch.batch_id)

            # Promote the pilot customer as a push would, then read it back.
            everything = detection.preview(ctx, PILOT)
            rows = [
                StateRow(record=c.new, monday_item_id=str(9000 + i), subitem_ids={"M": "1"})
                for i, c in enumerate(everything.changes)
                if c.new is not None
            ]
            with engine.begin() as conn:
                save_state(conn, rows, now=NOW)
                save_state(conn, rows[:3], now=NOW)  # replaces: delete + insert
                load_state(conn)
                load_state(conn, PILOT)
                load_state_hashes(conn)

            # The source changes overnight (demo only), then the app sees and stages it.
            wf.phase = "demo"
            mutate_orders(
                engine, changed=4, deleted=2, added=2, seed=3,
                customer_spellings=list(PILOT_SPELLINGS),
            )  # fmt: skip
            wf.phase = "app"
            counts, _ = detection.detect_counts(ctx, PILOT)
            assert counts[0].changed and counts[0].deleted and counts[0].new
            second = staging.stage(ctx, PILOT)
            assert second.changed_count and second.deleted_count
            staging.rollback(ctx, second.batch_id)

            # More keys than SQL Server takes in one statement: the store must chunk them.
            many = [str(uuid.UUID(int=i + 1)) for i in range(2_500)]
            with engine.begin() as conn:
                existing_uuids(conn, ctx.store.source(), many)
                forget_state(conn, many)
                forget_state(conn, [rows[0].record.record_uuid])
                count_rows(conn, ctx.store.source())
                # A push marks a whole request's rows in flight at once (ids that match none).
                ids = list(range(1_000_000, 1_002_500))
                pushing.set_row_status(conn, ids, RowStatus.PENDING, NOW)
                pushing.set_subitem_status(conn, ids, RowStatus.PENDING, NOW)

            # monday.com: estimate, push, a change pushed on top, undo of both.
            _push_and_undo(wf, ctx, url)
            _claim_paths(engine, staging.stage(ctx, CLAIMED, limit=2).batch_id)
        finally:
            ctx.close()
    plain = create_engine(url)  # no listener: the test's own read is not the app's
    try:
        wf.source_uuids = _source_uuids(plain)
    finally:
        plain.dispose()
    return wf


@pytest.fixture(scope="module")
def compiled(workflow: Workflow) -> list[Compiled]:
    """What compiles; the first test below names whatever does not."""
    out = []
    for ex in workflow.executed:
        try:
            out.append(compile_for_mssql(ex))
        except Exception:
            continue
    return out


def _dml(compiled: list[Compiled], phase: str | None = None) -> list[Compiled]:
    return [
        c
        for c in compiled
        if not isinstance(c.executed.element, ExecutableDDLElement)
        and (phase is None or c.executed.phase == phase)
    ]


# --- 1. every statement compiles for SQL Server ------------------------------------------


def test_every_captured_statement_compiles_for_mssql(workflow: Workflow) -> None:
    failures = []
    for ex in workflow.executed:
        try:
            text = compile_for_mssql(ex).sql
        except Exception as exc:  # any compile error is a finding
            failures.append(f"{type(ex.element).__name__}: {type(exc).__name__}: {exc}")
        else:
            if not text.strip():
                failures.append(f"{type(ex.element).__name__}: compiled to nothing")
    assert not failures, "\n".join(failures)


def test_the_workflow_is_not_vacuous(workflow: Workflow, compiled: list[Compiled]) -> None:
    kinds = {type(c.executed.element).__name__ for c in compiled}
    assert {"Select", "Insert", "Update", "Delete", "CreateTable", "CreateIndex"} <= kinds
    distinct_dml = {c.sql for c in _dml(compiled)}
    distinct_ddl = {c.sql for c in compiled} - distinct_dml
    assert len(distinct_dml) >= 25, sorted(distinct_dml)
    # CREATE TABLE and CREATE INDEX for the app's tables and for the demo ORDERS_UNIFIED.
    source = build_source_table(MetaData())
    tables = [*app_metadata.tables.values(), source]
    assert len(distinct_ddl) == len(tables) + sum(len(t.indexes) for t in tables)
    touched = {t.name for c in _dml(compiled, "app") for t in find_tables(c.executed.element)}
    assert touched == {SOURCE_TABLE, *app_metadata.tables}
    # The store issues SQLAlchemy Core only: any raw text is SQLite's own reflection.
    assert all(t.lstrip().upper().startswith("PRAGMA") for t in workflow.skipped_text), (
        workflow.skipped_text
    )


def test_identifiers_are_bracket_quoted(workflow: Workflow, compiled: list[Compiled]) -> None:
    customer_reads = [
        c.sql
        for c in _dml(compiled, "app")
        if c.sql.startswith("SELECT") and "FROM [ORDERS_UNIFIED]" in c.sql and " IN (" in c.sql
    ]
    assert customer_reads, "no read of one customer's source rows was captured"
    assert any("[ORDERS_UNIFIED].[CUSTOMER NAME] IN (" in sql for sql in customer_reads)
    assert any("[ORDERS_UNIFIED].[AAG ORDER NUMBER]" in sql for sql in customer_reads)

    source = build_source_table(MetaData())
    awkward = [c.name for c in source.columns if not re.fullmatch(r"[A-Za-z_]\w*", c.name)]
    assert "CUSTOMER NAME" in awkward and "32/34" in awkward
    # Short all-digit names ("0", "12") would match type lengths such as NVARCHAR(50).
    searchable = [n for n in awkward if re.search(r"\W", n) and len(n) > 3]
    problems = []
    for c in compiled:
        assert '"' not in c.sql, f"ANSI double-quoted identifier in: {c.sql[:200]}"
        outside = BRACKETED_RE.sub("", c.sql)
        problems += [f"[{n}] unquoted in {c.sql[:120]}" for n in searchable if n in outside]
    assert not problems, "\n".join(problems[:20])


def test_values_stay_parameters(workflow: Workflow, compiled: list[Compiled]) -> None:
    assert len(workflow.source_uuids) > 250
    spellings = {name for _, names in CUSTOMERS for name in names}
    for c in compiled:
        sql = c.sql
        assert not UUID_RE.search(sql), f"uuid inlined in: {sql[:300]}"
        outside = BRACKETED_RE.sub("", sql)  # [CUSTOMER'S COLOUR CODE ...] is a name
        assert "'" not in outside, f"string literal in: {sql[:300]}"
        for name in spellings:
            assert f"'{name}'" not in sql, f"customer {name!r} inlined in: {sql[:300]}"

        element = c.executed.element
        if isinstance(element, ExecutableDDLElement):
            continue
        has_binds = isinstance(element, Insert | Update | Delete) or any(
            isinstance(e, BindParameter) for e in iterate(element)
        )
        if has_binds:
            assert c.positions, f"no bound parameters in: {sql[:300]}"
            assert "?" in sql or "POSTCOMPILE" in sql, sql[:300]

    # The pilot customer's spellings and the uuids travel as parameter values.
    values = [v for c in _dml(compiled) for v in c.params.values()]
    flat = {x for v in values for x in (v if isinstance(v, list | tuple) else [v])}
    assert set(PILOT_SPELLINGS) <= flat
    assert flat & workflow.source_uuids


def test_no_statement_exceeds_sql_server_parameter_limit(compiled: list[Compiled]) -> None:
    def size(value: Any) -> int:
        return len(value) if isinstance(value, list | tuple) else 1

    biggest_in = 0
    for c in _dml(compiled):
        total = sum(size(v) for v in c.params.values())
        assert total <= MSSQL_MAX_PARAMS, f"{total} parameters in: {c.sql[:200]}"
        biggest_in = max([biggest_in, *(size(v) for v in c.params.values())])
    # The 2,500-key calls were chunked, not sent whole (nor skipped).
    assert 1_000 <= biggest_in < MSSQL_MAX_PARAMS


def test_paging_and_inserts_fit_sql_server(compiled: list[Compiled]) -> None:
    dml = _dml(compiled)
    for c in dml:
        assert not re.search(r"\bLIMIT\b", c.sql), c.sql[:300]
        if re.search(r"\bOFFSET\b", c.sql):
            assert "FETCH" in c.sql and "ORDER BY" in c.sql, c.sql[:300]
    assert any(c.sql.startswith("SELECT TOP ") for c in dml), "batch history is limited by TOP"
    for c in dml:
        element = c.executed.element
        if isinstance(element, Insert) and isinstance(element.table, Table):
            identity = element.table.autoincrement_column
            if identity is not None:
                # SQL Server refuses a value for an IDENTITY column (IDENTITY_INSERT OFF).
                assert identity.key not in c.positions, c.sql[:300]
    # The new batch's id comes back through OUTPUT: no trigger may sit on that table.
    assert any(
        c.sql.startswith("INSERT INTO [MON_BatchProcessing]")
        and "OUTPUT inserted.batch_id" in c.sql
        for c in dml
    )


def test_push_and_undo_writes_fit_sql_server(compiled: list[Compiled]) -> None:
    """What a push and an undo write back, per response, as SQL Server gets it."""
    updates = [c.sql for c in _dml(compiled, "app") if isinstance(c.executed.element, Update)]
    for table, key in ((STAGING_TABLE, "stg_id"), (SUBITEM_TABLE, "stg_subitem_id")):
        mine = [u for u in updates if u.startswith(f"UPDATE [{table}] SET ")]
        # In flight before each request: a key list (chunked, see the parameter limit test).
        assert any(f"WHERE [{table}].{key} IN (__[POSTCOMPILE_" in u for u in mine), table
        # A refusal counts itself in the statement, not by reading the count back first.
        bump = f"stg_retry_count=([{table}].stg_retry_count + ?)"
        assert any(bump in u and u.endswith(f"WHERE [{table}].{key} = ?") for u in mine), table
        # Plain single-table UPDATEs: no UPDATE ... FROM, no join, no TOP.
        assert all(" FROM " not in u and " JOIN " not in u and " TOP " not in u for u in mine)
    assert any(u.startswith(f"UPDATE [{BATCH_TABLE}] SET status=?") for u in updates)
    # The claim (sql/005): compare-and-set on status, heartbeat and the holder's run, ...
    claims = [u for u in updates if f"[{BATCH_TABLE}].claim_run" in u and "claim_host=?" in u]
    where = (
        f"WHERE [{BATCH_TABLE}].batch_id = ? AND [{BATCH_TABLE}].status = ? "
        f"AND [{BATCH_TABLE}].updated_at = ? AND [{BATCH_TABLE}].claim_run"
    )
    assert {u.split(where, 1)[1] for u in claims if where in u} == {" IS NULL", " = ?"}, claims
    # ... the heartbeat by the holder's run only, and the end of a run clears the claim.
    beat = f"WHERE [{BATCH_TABLE}].batch_id = ? AND [{BATCH_TABLE}].claim_run = ?"
    assert f"UPDATE [{BATCH_TABLE}] SET updated_at=? {beat}" in updates
    assert any(
        u.startswith(f"UPDATE [{BATCH_TABLE}] SET status=?")
        and u.endswith(f"claim_at=? WHERE [{BATCH_TABLE}].batch_id = ?")
        for u in updates
    )
    releases = [
        c.sql
        for c in _dml(compiled, "app")
        if c.sql == f"DELETE FROM [{LOCK_TABLE}] WHERE [{LOCK_TABLE}].batch_id = ?"
    ]
    assert releases, "a finished push or undo releases the customer's lock"
    # Undo finds the customer's newest pushed batch with TOP 1 ... ORDER BY, not LIMIT.
    latest = [
        c
        for c in _dml(compiled, "app")
        if c.sql.startswith("SELECT TOP ") and f"[{BATCH_TABLE}].status IN (" in c.sql
    ]
    assert latest
    for c in latest:
        assert c.sql.endswith(f"ORDER BY [{BATCH_TABLE}].batch_id DESC"), c.sql
        assert c.params["param_1"] == 1


# --- the role grants what the statements need ---------------------------------------------


def _grants() -> set[tuple[str, str]]:
    text = (SQL_DIR / "003_operator_role.sql").read_text(encoding="utf-8")
    body = text.split("*/", 1)[1]  # the header comment lists them too, as a table
    grants = set()
    for perms, table in re.findall(
        r"^\s*GRANT\s+([A-Z, ]+?)\s+ON\s+OBJECT::dbo\.(\w+)\s+TO\s+orders_sync_operator\s*;",
        body,
        flags=re.MULTILINE,
    ):
        grants |= {(p.strip(), table) for p in perms.split(",")}
    return grants


def _needed(compiled: list[Compiled]) -> set[tuple[str, str]]:
    needed = set()
    for c in _dml(compiled, "app"):
        element = c.executed.element
        if isinstance(element, Select | CompoundSelect):  # EXCEPT too
            needed |= {("SELECT", t.name) for t in find_tables(element)}
            continue
        verb = {Insert: "INSERT", Update: "UPDATE", Delete: "DELETE"}[type(element)]
        needed.add((verb, element.table.name))
        # Reading a column, in a WHERE clause, in a SET expression (SET n = n + 1) or through
        # OUTPUT inserted.x, needs SELECT on SQL Server.
        reads = [getattr(element, "whereclause", None)]
        if isinstance(element, Update):
            reads += list(element._values.values()) if element._values else []
        for expr in reads:
            if isinstance(expr, ClauseElement):
                needed |= {("SELECT", t.name) for t in find_tables(expr, check_columns=True)}
        if "OUTPUT inserted." in c.sql:
            needed.add(("SELECT", element.table.name))
    return needed


def test_needed_rights_see_the_columns_a_write_reads() -> None:
    """`_needed` itself: a WHERE or SET expression that reads a column counts as a SELECT."""

    def needed(stmt: ClauseElement) -> set[tuple[str, str]]:
        return _needed([compile_for_mssql(Executed(stmt, [], "app"))])

    plain = update(staged_rows).values(stg_status="X")
    assert needed(plain) == {("UPDATE", STAGING_TABLE)}
    bumped = update(staged_rows).values(stg_retry_count=staged_rows.c.stg_retry_count + 1)
    assert needed(bumped) == {("UPDATE", STAGING_TABLE), ("SELECT", STAGING_TABLE)}
    keyed = update(staged_rows).where(staged_rows.c.stg_id == 1).values(stg_status="X")
    assert needed(keyed) == {("UPDATE", STAGING_TABLE), ("SELECT", STAGING_TABLE)}


def test_operator_role_grants_exactly_what_the_app_does(compiled: list[Compiled]) -> None:
    grants = _grants()
    needed = _needed(compiled)
    assert needed - grants == set(), "the app would be refused these on SQL Server"
    # Least privilege: a grant the app never uses is one too many. When a new use case
    # needs a right, add it to 003 and exercise it in the workflow above.
    assert grants - needed == set(), "granted but never used by the app"
    assert {p for p, t in grants if t == SOURCE_TABLE} == {"SELECT"}
    # The DBA's scripts record their runs; the app only reads them, at start-up.
    assert {p for p, t in grants if t == VERSION_TABLE} == {"SELECT"}
    # Object grants only: no GRANT on a schema or the database, no fixed-role membership.
    code = _code(_script("003_operator_role.sql"))
    grant_statements = re.findall(r"^\s*GRANT\b[^;]*;", code, flags=re.MULTILINE)
    assert grant_statements and all(" ON OBJECT::dbo." in g for g in grant_statements)
    assert not re.search(r"ADD MEMBER\s+\[?orders_sync_operator", code)


def test_operator_role_revokes_nothing_it_grants() -> None:
    """003 converges by revoking whatever is not in its @wanted list, then granting: the list
    and the GRANTs must agree, or each run would revoke a right and grant it back (or leave
    one it should have revoked)."""
    code = _code(_script("003_operator_role.sql"))
    values = code.split("INSERT INTO @wanted", 1)[1].split(";", 1)[0]
    wanted = {(p, t) for t, p in re.findall(r"\(N'(\w+)', N'(\w+)'\)", values)}
    assert wanted == _grants()
    # The header's table, for the DBA, says the same: an x under each granted right.
    header = _script("003_operator_role.sql").split("*/", 1)[0]
    titles = next(line for line in header.splitlines() if "SELECT INSERT UPDATE DELETE" in line)
    spans = {m[0]: m.span() for m in re.finditer(r"SELECT|INSERT|UPDATE|DELETE", titles)}
    shown = set()
    for line in header.splitlines():
        if table := re.match(r"\s+dbo\.(\w+)", line):
            shown |= {(p, table[1]) for p, (a, b) in spans.items() if "x" in line[a:b]}
    assert shown == wanted


# --- 2. sql/ says the same as schema.py ---------------------------------------------------


def _script(name: str) -> str:
    return (SQL_DIR / name).read_text(encoding="utf-8")


def _code(text: str) -> str:
    """The script without comments."""
    text = re.sub(r"/\*.*?\*/", "", text, flags=re.DOTALL)
    return re.sub(r"--[^\n]*", "", text)


def _split_top_level(body: str) -> list[str]:
    parts, depth, current = [], 0, []
    for ch in body:
        if ch == "(":
            depth += 1
        elif ch == ")":
            depth -= 1
        if ch == "," and depth == 0:
            parts.append("".join(current))
            current = []
        else:
            current.append(ch)
    parts.append("".join(current))
    return [" ".join(p.split()) for p in parts if p.strip()]


def _names(cols: str) -> list[str]:
    return [c.strip().strip("[]") for c in cols.split(",")]


def _norm_type(text: str) -> str:
    t = re.sub(r"\s+", "", text.upper())
    return "INT" if t == "INTEGER" else t


@dataclass(slots=True)
class ScriptTable:
    columns: dict[str, tuple[str, bool, bool]] = field(default_factory=dict)  # type, null, ident
    primary_key: list[str] = field(default_factory=list)
    uniques: dict[str, list[str]] = field(default_factory=dict)
    foreign_keys: set[tuple[str, str, str]] = field(default_factory=set)


def _parse_tables(code: str) -> dict[str, ScriptTable]:
    tables = {}
    for name, body in re.findall(
        r"CREATE TABLE dbo\.(\w+)\s*\((.*?)\n\s*\);", code, flags=re.DOTALL
    ):
        table = ScriptTable()
        for item in _split_top_level(body):
            if item.startswith("CONSTRAINT "):
                if m := re.fullmatch(r"CONSTRAINT \w+ PRIMARY KEY(?: CLUSTERED)? \((.*)\)", item):
                    table.primary_key = _names(m[1])
                elif m := re.fullmatch(r"CONSTRAINT (\w+) UNIQUE(?: NONCLUSTERED)? \((.*)\)", item):
                    table.uniques[m[1]] = _names(m[2])
                elif m := re.fullmatch(
                    r"CONSTRAINT \w+ FOREIGN KEY \((\w+)\) REFERENCES dbo\.(\w+) \((\w+)\)", item
                ):
                    table.foreign_keys.add((m[1], m[2], m[3]))
                else:
                    raise AssertionError(f"unparsed constraint in {name}: {item}")
                continue
            m = re.fullmatch(r"\[?(\w+)\]?\s+(\w+(?:\s*\([^)]*\))?)(.*)", item)
            assert m, f"unparsed column in {name}: {item}"
            rest = m[3].upper()
            not_null = "NOT NULL" in rest
            assert not_null or re.search(r"\bNULL\b", rest), f"say NULL or NOT NULL: {item}"
            table.columns[m[1]] = (_norm_type(m[2]), not not_null, "IDENTITY" in rest)
        tables[name] = table
    return tables


def _indexes(code: str, table: str | None = None) -> dict[str, tuple[str, list[str]]]:
    return {
        name: (on, _names(cols))
        for name, on, cols in re.findall(
            r"CREATE (?:UNIQUE )?(?:NONCLUSTERED )?INDEX (\w+)\s+ON dbo\.(\w+) \(([^)]*)\)", code
        )
        if table is None or on == table
    }


def _added_columns(code: str) -> dict[tuple[str, str], tuple[str, bool, bool]]:
    """The columns a later script adds to an existing table: each ALTER TABLE ... ADD behind
    its own COL_LENGTH(...) IS NULL guard, so that a second run changes nothing."""
    added = {}
    for guard_table, guard_col, table, col, kind, null in re.findall(
        r"IF COL_LENGTH\(N'dbo\.(\w+)', N'(\w+)'\) IS NULL\s+BEGIN\s+"
        r"ALTER TABLE dbo\.(\w+) ADD (\w+) (\w+(?:\([^)]*\))?) (NOT NULL|NULL);",
        code,
    ):
        assert (guard_table, guard_col) == (table, col), f"{table}.{col} is guarded"
        added[(table, col)] = (_norm_type(kind), null == "NULL", False)
    # ORDERS_UNIFIED is not the app's table: 007 changes its record_hash (dynamic SQL).
    altered = [t for t in re.findall(r"ALTER TABLE dbo\.(\w+)", code) if t != "ORDERS_UNIFIED"]
    assert len(altered) == len(added), "every ALTER TABLE adds one guarded column"
    return added


def test_sync_tables_script_matches_schema() -> None:
    """000 (MON_SchemaVersion) and 002 (the rest) create the app's tables as schema.py has
    them; each script only the tables REQUIRED_SCRIPTS says it provides; a later script
    (004) adds exactly the columns REQUIRED_SCRIPTS says, at the end of their table."""
    codes = {s.file: _code(_script(s.file)) for s in REQUIRED_SCRIPTS}
    for script in REQUIRED_SCRIPTS:
        assert set(_parse_tables(codes[script.file])) == set(script.tables), script.file
    code = codes["000_schema_version.sql"] + codes["002_sync_tables.sql"]
    parsed = _parse_tables(code)
    assert set(parsed) == set(app_metadata.tables)
    for script in (s for s in REQUIRED_SCRIPTS if s.number > 2):
        if script.file == "003_operator_role.sql":
            assert not script.columns and "ALTER TABLE" not in codes[script.file]
            continue
        added = _added_columns(codes[script.file])
        assert list(added) == list(script.columns), script.file
        for (table, col), definition in added.items():
            assert col not in parsed[table].columns, f"{table}.{col} added twice"
            parsed[table].columns[col] = definition
    for table in app_metadata.sorted_tables:
        script = parsed[table.name]
        assert list(script.columns) == [c.name for c in table.columns], table.name
        for col in table.columns:
            expected = (
                _norm_type(col.type.compile(dialect=MSSQL)),
                bool(col.nullable),
                col is table.autoincrement_column,
            )
            assert script.columns[col.name] == expected, f"{table.name}.{col.name}"
        assert script.primary_key == [c.name for c in table.primary_key.columns], table.name
        assert script.uniques == {
            u.name: [c.name for c in u.columns]
            for u in table.constraints
            if type(u).__name__ == "UniqueConstraint"
        }, table.name
        assert script.foreign_keys == {
            (fk.parent.name, fk.column.table.name, fk.column.name) for fk in table.foreign_keys
        }, table.name
        # Each CREATE is guarded: a second run changes nothing.
        assert f"IF OBJECT_ID(N'dbo.{table.name}', N'U') IS NULL" in code
    schema_indexes = {
        ix.name: (t.name, [c.name for c in ix.columns])
        for t in app_metadata.tables.values()
        for ix in t.indexes
    }
    assert schema_indexes, "schema.py defines indexes"
    assert _indexes(code) == schema_indexes
    for name, (on, _) in schema_indexes.items():
        assert f"object_id = OBJECT_ID(N'dbo.{on}')\n          AND name = N'{name}'" in code, name


def test_orders_unified_script_adds_the_sync_columns() -> None:
    code = _code(_script("001_orders_unified_columns.sql"))
    source = build_source_table(MetaData())
    uuid_type = source.c.record_uuid.type.compile(dialect=MSSQL)
    hash_type = source.c.record_hash.type.compile(dialect=MSSQL)
    assert (uuid_type, hash_type) == ("UNIQUEIDENTIFIER", "VARCHAR(64)")
    assert re.search(
        rf"IF COL_LENGTH\(N'dbo\.ORDERS_UNIFIED', N'record_uuid'\) IS NULL\s+BEGIN\s+"
        rf"ALTER TABLE dbo\.ORDERS_UNIFIED\s+ADD record_uuid {uuid_type} NOT NULL\s+"
        r"CONSTRAINT DF_ORDERS_UNIFIED_record_uuid DEFAULT \(NEWID\(\)\) WITH VALUES;",
        code,
    )
    assert re.search(
        r"IF COL_LENGTH\(N'dbo\.ORDERS_UNIFIED', N'record_hash'\) IS NULL\s+BEGIN\s+"
        rf"ALTER TABLE dbo\.ORDERS_UNIFIED ADD record_hash {re.escape(hash_type)} NULL;",
        code,
    )
    expected = {ix.name: (SOURCE_TABLE, [c.name for c in ix.columns]) for ix in source.indexes}
    assert _indexes(code, SOURCE_TABLE) == expected
    for name in expected:
        assert f"AND name = N'{name}'" in code
    assert "CREATE TABLE" not in code, "ORDERS_UNIFIED exists in production: never create it"


def test_every_forward_script_has_a_down_script() -> None:
    forward = {p.name for p in SQL_DIR.glob("[0-9][0-9][0-9]_*.sql")}
    down = {p.name for p in (SQL_DIR / "down").glob("*.sql")}
    assert forward == {
        "000_schema_version.sql",
        "001_orders_unified_columns.sql",
        "002_sync_tables.sql",
        "003_operator_role.sql",
        "004_sync_state_tombstone.sql",
        "005_batch_claim.sql",
        "007_record_hash.sql",
    }
    assert forward == down == {s.file for s in REQUIRED_SCRIPTS}
    assert (SQL_DIR / "README.md").is_file()


def test_every_script_records_its_run_and_its_down_script_removes_it() -> None:
    """Each forward script inserts its own MON_SchemaVersion row once, inside its
    transaction; 001-003 stop, changing nothing, when 000 has not made the table; each down
    script deletes its row (and down/000 drops the table, last)."""
    for script in REQUIRED_SCRIPTS:
        code = _code(_script(script.file))
        n = script.number
        record = re.search(
            rf"IF NOT EXISTS \(SELECT 1 FROM dbo\.{VERSION_TABLE} WHERE script_number = {n}\)"
            rf"\s+BEGIN\s+INSERT INTO dbo\.{VERSION_TABLE} "
            r"\(script_number, script_name, applied_at, applied_by\)\s+"
            rf"VALUES \({n}, N'{re.escape(script.file)}', SYSDATETIME\(\), ORIGINAL_LOGIN\(\)\);",
            code,
        )
        assert record, script.file
        assert code.index("BEGIN TRANSACTION;") < record.start() < code.index("COMMIT TRANSACTION;")
        assert code.count(f"INSERT INTO dbo.{VERSION_TABLE}") == 1, script.file
        if n > 0:
            plain = f"IF OBJECT_ID(N'dbo.{VERSION_TABLE}', N'U') IS NULL"
            if plain in code:
                guard = code.index(plain)
                assert "000_schema_version.sql" in code[guard : guard + 200], script.file
            else:  # 003 checks every table of its @wanted list at once
                guard = code.index("WHERE OBJECT_ID(N'dbo.' + QUOTENAME(w.object_name), N'U')")
                assert f"(N'{VERSION_TABLE}', N'SELECT')" in code, script.file
                assert "run 000, 001 and 002 first" in code, script.file
            assert guard < code.index("BEGIN TRANSACTION;"), script.file
        down = _code(_script(f"down/{script.file}"))
        if n > 0:
            removal = re.search(
                rf"IF OBJECT_ID\(N'dbo\.{VERSION_TABLE}', N'U'\) IS NOT NULL\s+BEGIN\s+"
                rf"DELETE FROM dbo\.{VERSION_TABLE} WHERE script_number = {n};",
                down,
            )
            assert removal, f"down/{script.file}"
            assert down.index("BEGIN TRANSACTION;") < removal.start()
            assert removal.start() < down.index("COMMIT TRANSACTION;")
            assert f"DROP TABLE dbo.{VERSION_TABLE}" not in down
        else:
            assert f"DROP TABLE dbo.{VERSION_TABLE};" in down
            # Refuses while later scripts are still recorded (their changes still there).
            refuse = down.index("WHERE script_number <> 0")
            assert refuse < down.index("BEGIN TRANSACTION;")


def test_scripts_are_single_guarded_transactions() -> None:
    for path in [*SQL_DIR.glob("*.sql"), *(SQL_DIR / "down").glob("*.sql")]:
        text = path.read_text(encoding="utf-8")
        code = _code(text)
        assert text.lstrip().startswith("/*"), f"{path.name}: header comment first"
        header = text.split("*/", 1)[0]
        assert "Idempotent" in header, path.name
        if path.parent == SQL_DIR:
            assert "Non-breaking" in header, path.name
        assert "SET XACT_ABORT ON;" in code, path.name
        assert code.count("BEGIN TRANSACTION;") == 1 == code.count("COMMIT TRANSACTION;")
        assert "ROLLBACK TRANSACTION;" in code and "THROW;" in code, path.name
        assert not re.search(r"^\s*GO\s*$", code, flags=re.MULTILINE | re.IGNORECASE), path.name
        assert "STRING_AGG" not in code, f"{path.name}: SQL Server 2017+ only"


def test_down_scripts_drop_in_a_safe_order() -> None:
    down1 = _code(_script("down/001_orders_unified_columns.sql"))
    drop_default = down1.index("DROP CONSTRAINT")
    drop_uuid = down1.index("DROP COLUMN record_uuid")
    assert drop_default < drop_uuid
    for ix in build_source_table(MetaData()).indexes:
        assert down1.index(f"DROP INDEX {ix.name} ON dbo.ORDERS_UNIFIED") < drop_uuid
    assert "DROP COLUMN record_hash" in down1

    down2 = _code(_script("down/002_sync_tables.sql"))
    tables = [app_metadata.tables[t] for s in REQUIRED_SCRIPTS if s.number == 2 for t in s.tables]
    position = {t.name: down2.index(f"DROP TABLE dbo.{t.name};") for t in tables}
    for table in tables:
        assert f"IF OBJECT_ID(N'dbo.{table.name}', N'U') IS NOT NULL" in down2
        for fk in table.foreign_keys:
            assert position[table.name] < position[fk.column.table.name], (
                f"{table.name} must go before {fk.column.table.name}"
            )

    down3 = _code(_script("down/003_operator_role.sql"))
    assert "DROP ROLE orders_sync_operator;" in down3
    assert "IF DATABASE_PRINCIPAL_ID(@role) IS NOT NULL" in down3

    # down/004 takes MON_SyncState back to what an app older than 004 reads: no tombstones
    # (it would read them as live records and push their delete again), then no columns.
    # The statements naming a column run as dynamic SQL: a second run still compiles.
    down4 = _code(_script("down/004_sync_state_tombstone.sql"))
    purge = down4.index("DELETE FROM dbo.MON_SyncState WHERE deleted_at IS NOT NULL;")
    [script] = [s for s in REQUIRED_SCRIPTS if s.number == 4]
    for table, col in script.columns:
        drop = down4.index(f"N'ALTER TABLE dbo.{table} DROP COLUMN {col};'")
        assert purge < drop
        guard = down4.rindex(f"IF COL_LENGTH(N'dbo.{table}', N'{col}') IS NOT NULL", 0, drop)
        assert "EXEC sys.sp_executesql" in down4[guard:drop]
    assert re.search(r"EXEC sys\.sp_executesql\s+N'DELETE FROM dbo\.MON_SyncState", down4)

    # down/005 drops every column 005 adds, each behind its own guard, as dynamic SQL.
    down5 = _code(_script("down/005_batch_claim.sql"))
    [script] = [s for s in REQUIRED_SCRIPTS if s.number == 5]
    assert script.columns
    for table, col in script.columns:
        drop = down5.index(f"N'ALTER TABLE dbo.{table} DROP COLUMN {col};'")
        guard = down5.rindex(f"IF COL_LENGTH(N'dbo.{table}', N'{col}') IS NOT NULL", 0, drop)
        assert "EXEC sys.sp_executesql" in down5[guard:drop]
    assert down5.count("DROP COLUMN") == len(script.columns)


# --- 3. the app's tables compile to the right SQL Server types ----------------------------


@pytest.mark.parametrize(
    "dialect",
    [mssql_dialect(), mssql_dialect(server_version=None), mssql_dialect(server_version=(13, 0))],
    ids=["sql2022", "unconnected", "sql2016"],
)
def test_create_table_types(dialect: Dialect) -> None:
    long_text = timestamps = uuids = 0
    for table in app_metadata.sorted_tables:
        ddl = str(CreateTable(table).compile(dialect=dialect))
        assert "NTEXT" not in ddl and " TEXT" not in ddl, ddl
        assert re.search(r"\bDATETIME\b", ddl) is None, ddl  # DATETIME rounds milliseconds
        for col in table.columns:
            rendered = col.type.compile(dialect=dialect)
            line = re.search(rf"^\s*{re.escape(col.name)} (.+?),?\s*$", ddl, flags=re.MULTILINE)
            assert line and line[1].startswith(rendered), (table.name, col.name, ddl)
            if isinstance(col.type, UnicodeText):
                assert rendered == "NVARCHAR(max)", (table.name, col.name)
                long_text += 1
            elif isinstance(col.type, DateTime):
                assert rendered == "DATETIME2", (table.name, col.name)
                timestamps += 1
            elif isinstance(col.type, Uuid):
                assert rendered == "UNIQUEIDENTIFIER", (table.name, col.name)
                uuids += 1
    assert long_text and timestamps and uuids, "the app tables have all three kinds"
