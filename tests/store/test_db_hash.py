"""The database's own row hash (store/dbhash.py) against the app's, the reference.

On PostgreSQL the generated column must make the same change decision as the Python hash
over random rows: two rows hash equal on the server exactly when they hash equal in the
app (numbers, dates, NULL against empty text and 0, Unicode in NFC and NFD). Without the
column, detection falls back to reading every row and counts the same; doctor says which
step would make it faster. The T-SQL of sql/007 is the generator's, and the server-side
queries compile for SQL Server.
"""

from __future__ import annotations

import re
import unicodedata
import uuid
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import select, text
from sqlalchemy.dialects import mssql

from orders_sync_gui.core.columns import DEMO_COLUMNS, RECORD_HASH, RECORD_UUID, SIZE_NAMES
from orders_sync_gui.core.records import SourceSpec, hash_frame
from orders_sync_gui.services import detection, staging
from orders_sync_gui.services.context import open_context
from orders_sync_gui.services.demo import demo_init
from orders_sync_gui.services.doctor import doctor
from orders_sync_gui.settings import load_mapping
from orders_sync_gui.store import dbhash, pushing, server_query
from orders_sync_gui.store.demo import mutate_orders
from orders_sync_gui.store.source import read_rows, source_columns
from orders_sync_gui.store.syncstate import load_state
from tests.helpers import mark_synced

SQL = Path(__file__).resolve().parents[2] / "sql"

TEXTS = ("CUSTOMER STYLE", "NOTES", "DROP")  # NVARCHAR(50), (1000), (20)
DATES = ("EX FACTORY DATE",)
SIZES = ("M", "L", "XS")

# Unicode without NUL (PostgreSQL text cannot hold it) and without lone surrogates.
letters = st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00")
texts = st.one_of(st.none(), st.just(""), st.text(letters, max_size=12), st.sampled_from(
    ["CRÈME", "Cre\u0300me", "Piqué", "Pique\u0301", "  x ", "x", "Ω", "Ω", "~", "1:a"]
))  # fmt: skip
dates = st.one_of(
    st.none(),
    st.datetimes(min_value=datetime(1990, 1, 1), max_value=datetime(2040, 1, 1)),
    st.sampled_from([datetime(2026, 3, 1), datetime(2026, 3, 1, 0, 0, 1)]),
)
quantities = st.one_of(st.none(), st.just(0), st.integers(min_value=1, max_value=99_999))


@st.composite
def row_pairs(draw):  # type: ignore[no-untyped-def]
    """A row, and a second one that keeps, re-spells (NFD, 0 for NULL) or changes each
    field: so that equal and unequal pairs both come up often."""
    old = {n: draw(texts) for n in TEXTS} | {n: draw(dates) for n in DATES}
    old |= {n: draw(quantities) for n in SIZES}
    new = {}
    for name, value in old.items():
        how = draw(st.sampled_from(["same", "same", "respelled", "other"]))
        if how == "same":
            new[name] = value
        elif how == "respelled":
            if isinstance(value, str):
                new[name] = unicodedata.normalize("NFD", value)
            elif name in SIZES and value in (None, 0):
                new[name] = 0 if value is None else None
            else:
                new[name] = value
        else:
            strategy = texts if name in TEXTS else dates if name in DATES else quantities
            new[name] = draw(strategy)
    for name in TEXTS:  # within the column's length
        length = next(c.length for c in DEMO_COLUMNS if c.name == name) or 1000
        for row in (old, new):
            if isinstance(row[name], str):
                row[name] = row[name][:length]
    return old, new


@pytest.fixture
def pg_ctx(pg_url):
    demo_init(pg_url, orders=40, seed=9)
    ctx = open_context(pg_url)
    yield ctx
    ctx.close()


def _hashes(ctx, uuids: list[str]) -> list[tuple[bytes, str | None]]:
    """(database hash, app hash) of these rows, as detection reads them."""
    info = ctx.store.source()
    spec = SourceSpec(ctx.mapping.sources, info.kinds, info.sizes, ctx.customers)
    with ctx.store.engine.connect() as conn:
        frame = read_rows(conn, info, [*ctx.mapping.sources, *info.sizes, RECORD_HASH])
    frame = frame[frame[RECORD_UUID].isin(uuids)].set_index(RECORD_UUID).loc[uuids].copy()
    hashed = hash_frame(frame.reset_index().copy(), spec, with_sizes=False)
    return list(zip(frame[RECORD_HASH].tolist(), hashed.hashes, strict=True))


@pytest.mark.postgres
def test_the_postgres_hash_decides_as_the_app_hash(pg_ctx):
    ctx = pg_ctx
    table = ctx.store.source().table
    with ctx.store.engine.connect() as conn:
        template = dict(
            conn.execute(select(*source_columns(ctx.store.source(), ctx.mapping.sources)))
            .mappings()
            .first()
        )
    template.pop(RECORD_UUID)
    template["CUSTOMER NAME"] = "GREYSON"
    seen = {True: 0, False: 0}

    @settings(
        max_examples=80,
        derandomize=True,
        deadline=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    @given(row_pairs())
    def check(pair):  # type: ignore[no-untyped-def]
        old, new = pair
        uuids = [str(uuid.uuid4()), str(uuid.uuid4())]
        blank = {s: None for s in SIZES}
        with ctx.store.engine.begin() as conn:
            for uid, values in zip(uuids, (old, new), strict=True):
                conn.execute(
                    table.insert().values({**template, **blank, **values, RECORD_UUID: uid})
                )
        (db_old, app_old), (db_new, app_new) = _hashes(ctx, uuids)
        assert app_old is not None and app_new is not None, pair
        assert (db_old == db_new) == (app_old == app_new), pair
        seen[app_old == app_new] += 1

    check()
    assert seen[True] >= 10 and seen[False] >= 10, seen  # both decisions were tried


@pytest.mark.postgres
def test_equal_database_hashes_mean_equal_app_hashes_across_spellings(pg_ctx):
    """The database hashes the spelling as stored; the app the customer it folds to. So
    the database may see a change the app does not, never the reverse."""
    ctx = pg_ctx
    table = ctx.store.source().table
    uuids = [str(uuid.uuid4()) for _ in range(3)]
    with ctx.store.engine.begin() as conn:
        row = dict(
            conn.execute(select(*source_columns(ctx.store.source(), ctx.mapping.sources)))
            .mappings()
            .first()
        )
        for uid, name in zip(uuids, ["GREYSON", "GREYSON CLOTHIERS", "GREYSON"], strict=True):
            conn.execute(table.insert().values({**row, RECORD_UUID: uid, "CUSTOMER NAME": name}))
    (d1, a1), (d2, a2), (d3, a3) = _hashes(ctx, uuids)
    assert a1 == a2 == a3 and d1 != d2 and d1 == d3


@pytest.mark.postgres
def test_detection_counts_the_same_with_and_without_the_database_hash(pg_ctx):
    ctx = pg_ctx
    mark_synced(ctx)
    with ctx.store.engine.connect() as conn:
        state = load_state(conn)
    assert state and all(s.record.db_hash for s in state)  # kept at push time
    mutate_orders(ctx.store.engine, changed=5, deleted=3, added=4, seed=2)
    with_hash, _ = detection.detect_counts(ctx)
    with ctx.store.engine.connect() as conn:
        assert dbhash.status(conn, ctx.store.source(), ctx.mapping).ready
    # Each customer's preview: its unchanged rows counted by the server, the rest read.
    previews = {c.customer: _preview_shape(ctx, c.customer) for c in with_hash}
    assert sum(p[0].changed for p in previews.values()) == 5

    # The column dropped (the script not run): the streamed path, the same counts.
    with ctx.store.engine.begin() as conn:
        conn.execute(text(f'ALTER TABLE "ORDERS_UNIFIED" DROP COLUMN {RECORD_HASH}'))
        conn.execute(text(f'ALTER TABLE "ORDERS_UNIFIED" ADD COLUMN {RECORD_HASH} varchar(64)'))
    ctx.store.source(refresh=True)
    with ctx.store.engine.connect() as conn:
        found = dbhash.status(conn, ctx.store.source(), ctx.mapping)
    assert not found.ready and "not computed by the database" in found.reason
    without, _ = detection.detect_counts(ctx)
    assert without == with_hash
    # As the window counts (a progress hook: its first chunk before the whole state).
    seen = []
    assert detection.detect_counts(ctx, chunk_rows=13, progress=seen.append)[0] == with_hash
    assert len(seen) > 1
    assert {c.customer: _preview_shape(ctx, c.customer) for c in without} == previews
    assert sum(c.changed for c in without) == 5 and sum(c.deleted for c in without) == 3

    report = doctor(ctx.store.url)
    [check] = [c for c in report.checks if c.name == "row hash"]
    assert check.status == "warn" and "slower" in check.detail
    assert "demo-init --force" in check.fix


def _preview_shape(ctx, customer):
    """What an operator sees of a preview: its counts and each change with its diffs."""
    found = detection.preview(ctx, customer)
    changes = [(c.record_uuid, c.change_type, c.field_diffs, c.size_diffs) for c in found.changes]
    return found.counts, changes, sorted(found.previous), [str(e) for e in found.errors]


@pytest.mark.postgres
def test_a_staged_row_carries_the_database_hash_to_the_sync_state(pg_ctx):
    ctx = pg_ctx
    batch = staging.stage(ctx, "GREYSON")
    with ctx.store.engine.connect() as conn:
        rows = pushing.load_rows(conn, batch.batch_id)
        current = dict(
            conn.execute(
                select(
                    ctx.store.source().table.c[RECORD_UUID],
                    ctx.store.source().table.c[RECORD_HASH],
                )
            ).all()
        )
    assert rows and all(r.values and r.values["db_hash"] for r in rows)
    assert all(bytes.fromhex(r.values["db_hash"]) == current[r.record_uuid] for r in rows)


def test_a_mapping_change_makes_the_database_hash_unusable():
    mapping = load_mapping()
    before = dbhash.comment(mapping, SIZE_NAMES)
    assert dbhash.comment(mapping, SIZE_NAMES[:-1]) != before
    assert dbhash.comment(replace(mapping, columns=mapping.columns[:-1]), SIZE_NAMES) != before
    notes = next(i for i, m in enumerate(mapping.columns) if m.source == "NOTES")
    rejecting = list(mapping.columns)
    rejecting[notes] = replace(rejecting[notes], overflow="reject")  # a row's validity
    assert dbhash.comment(replace(mapping, columns=tuple(rejecting)), SIZE_NAMES) != before


def test_sql_007_holds_the_generated_expression_and_basis():
    """sql/007's computed column is mssql_expression for the standard catalogue and the
    default mapping (quotes doubled inside its dynamic SQL), its basis the app's."""
    script = (SQL / "007_record_hash.sql").read_text(encoding="utf-8")
    mapping = load_mapping()
    kinds = {c.name: c.kind for c in DEMO_COLUMNS}
    expr = dbhash.mssql_expression(kinds, mapping.sources, SIZE_NAMES).replace("'", "''")
    assert f"ADD record_hash AS {expr} PERSISTED;" in script
    assert f"DECLARE @basis NVARCHAR(200) = N'{dbhash.comment(mapping, SIZE_NAMES)}';" in script
    assert "HASHBYTES('SHA2_256'" in script and "IX_ORDERS_UNIFIED_uuid_hash" in script
    for name in mapping.sources:
        assert f"[{name}]" in expr


def test_detection_queries_compile_for_sql_server(tmp_path):
    db = f"sqlite:///{tmp_path / 'a.db'}"
    demo_init(db, orders=5, seed=1)
    ctx = open_context(db)
    try:
        info = ctx.store.source()
        cols = source_columns(info, ctx.mapping.sources)
        dialect = mssql.dialect()
        listed = {"3f2b8c1e-0000-4000-8000-000000000001"}
        for stmt in (
            server_query.unchanged_by_spelling(info),
            server_query.unchanged_by_spelling(info, listed),
            server_query.unchanged_by_spelling(info, set()),
            server_query.deleted_by_customer(info),
            server_query.travelling(info, cols, ["Greyson ", None], "_state_hash"),
            server_query.travelling(info, cols, [], "_state_hash", listed),
            server_query.customer_travelling(info, cols, "GREYSON", ["Greyson "], "_s"),
            server_query.customer_shared_unchanged(
                info, cols, "GREYSON", ["Greyson "], "_s", listed
            ),
            server_query.customer_vanished(info, "GREYSON", ["Greyson "]),
        ):
            sql = str(stmt.compile(dialect=dialect))
            assert "[ORDERS_UNIFIED]" in sql and "[MON_SyncState]" in sql
        travel = str(server_query.travelling(info, cols, [], "s").compile(dialect=dialect))
        assert re.search(r"\[MON_SyncState\]\.db_hash != \[ORDERS_UNIFIED\]\.record_hash", travel)
    finally:
        ctx.close()
