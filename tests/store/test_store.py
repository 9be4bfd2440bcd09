"""The store on a SQLite file and on a real PostgreSQL server: the same behaviour on both."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import datetime

import pytest
from sqlalchemy import event, func, select, update
from sqlalchemy.exc import OperationalError

from orders_sync_gui.core.columns import CUSTOMER_NAME, ORDER_NUMBER
from orders_sync_gui.core.models import BatchStatus, ChangeType
from orders_sync_gui.core.records import SourceSpec, hash_frame
from orders_sync_gui.services import detection, staging
from orders_sync_gui.services.context import open_context
from orders_sync_gui.services.demo import demo_init
from orders_sync_gui.store import pushing
from orders_sync_gui.store.demo import generate_orders, mutate_orders
from orders_sync_gui.store.schema import (
    customer_locks,
    staged_rows,
    staged_subitems,
    sync_state,
)
from orders_sync_gui.store.source import customer_spellings
from orders_sync_gui.store.staging import BatchConflictError, BatchStateError
from orders_sync_gui.store.syncstate import load_state, load_state_hashes, save_state
from tests.helpers import mark_synced

ORDERS = 400


@pytest.fixture
def ctx(db_url):
    demo_init(db_url, orders=ORDERS, seed=11)
    context = open_context(db_url)
    yield context
    context.close()


def _count(ctx, table, **where) -> int:
    stmt = select(func.count()).select_from(table)
    for name, value in where.items():
        stmt = stmt.where(table.c[name] == value)
    with ctx.store.engine.connect() as conn:
        return conn.execute(stmt).scalar_one()


def _db_hashes(url: str) -> dict[str, str]:
    ctx = open_context(url)
    try:
        info = ctx.store.source()
        spec = SourceSpec(ctx.mapping.sources, info.kinds, info.sizes, ctx.customers)
        with ctx.store.engine.connect() as conn:
            from orders_sync_gui.store.source import read_rows

            frame = read_rows(conn, info, [*ctx.mapping.sources, *info.sizes])
        hashed = hash_frame(frame, spec)
        return dict(zip(hashed.uuids, hashed.hashes, strict=True))
    finally:
        ctx.close()


@pytest.mark.postgres
def test_the_same_rows_hash_identically_on_sqlite_postgres_and_in_memory(tmp_path, pg_url):
    sqlite_url = f"sqlite:///{tmp_path / 'a.db'}"
    for url in (sqlite_url, pg_url):
        demo_init(url, orders=300, seed=5)
    from_sqlite, from_pg = _db_hashes(sqlite_url), _db_hashes(pg_url)
    ctx = open_context(sqlite_url)
    info = ctx.store.source()
    frame = generate_orders(300, 5)
    hashed = hash_frame(
        frame, SourceSpec(ctx.mapping.sources, info.kinds, info.sizes, ctx.customers)
    )
    ctx.close()
    in_memory = dict(zip(hashed.uuids, hashed.hashes, strict=True))
    assert len(from_sqlite) == 300 and None not in from_sqlite.values()
    assert from_sqlite == from_pg == in_memory


def test_first_detection_counts_every_order_as_new(ctx):
    counts, errors = detection.detect_counts(ctx)
    assert errors == []
    assert sum(c.new for c in counts) == ORDERS
    assert all(c.changed == c.deleted == c.unchanged == 0 for c in counts)
    names = [c.customer for c in counts]
    assert "GREYSON" in names and "GREYSON CLOTHIERS" not in names  # spellings folded


def test_stage_lock_rollback_and_history(ctx):
    batch = staging.stage(ctx, "GREYSON", limit=5)
    assert (batch.status, batch.item_count, batch.new_count) == ("STAGED", 5, 5)
    assert batch.subitem_count == _count(ctx, staged_subitems, stg_batch_id=batch.batch_id) > 5
    assert _count(ctx, staged_rows, stg_batch_id=batch.batch_id) == 5

    with pytest.raises(BatchConflictError) as conflict:
        staging.stage(ctx, "GREYSON")
    message = str(conflict.value)
    assert f"open batch {batch.batch_id}" in message and "tester" in message
    assert f"{batch.created_at:%Y-%m-%d %H:%M}" in message
    # Another customer is not held up by GREYSON's batch.
    other = staging.stage(ctx, "RHONE", limit=2)

    done = staging.rollback(ctx, batch.batch_id)
    assert done.status == BatchStatus.ROLLED_BACK
    assert _count(ctx, staged_rows, stg_batch_id=batch.batch_id) == 0
    assert _count(ctx, staged_subitems, stg_batch_id=batch.batch_id) == 0
    assert _count(ctx, customer_locks, customer="GREYSON") == 0
    assert _count(ctx, sync_state) == 0
    with pytest.raises(BatchStateError, match="only a STAGED batch"):
        staging.rollback(ctx, batch.batch_id)

    again = staging.stage(ctx, "GREYSON", po_number="4755")
    assert again.filter_po == "4755" and again.item_count >= 1
    history = staging.history(ctx)
    assert [b.batch_id for b in history] == [again.batch_id, other.batch_id, batch.batch_id]
    assert history[2].item_count == 5  # the rolled-back batch keeps its counts


def test_changed_and_deleted_rows_after_a_sync(ctx):
    mark_synced(ctx)
    spellings = ["GREYSON", "GREYSON CLOTHIERS", "Greyson "]
    touched = mutate_orders(
        ctx.store.engine, changed=6, deleted=2, added=3, seed=3, customer_spellings=spellings
    )
    [counts], _ = detection.detect_counts(ctx, "GREYSON")
    assert (counts.new, counts.changed, counts.deleted) == (3, 6, 2)

    found = detection.preview(ctx, "GREYSON")
    kinds = {c.record_uuid: c.change_type for c in found.changes}
    assert {u for u, k in kinds.items() if k is ChangeType.CHANGED} == set(touched["changed"])
    assert {u for u, k in kinds.items() if k is ChangeType.DELETED} == set(touched["deleted"])
    for change in (c for c in found.changes if c.change_type is ChangeType.CHANGED):
        assert change.field_diffs or change.size_diffs
        for diff in change.field_diffs:
            assert diff.old == change.old.fields[diff.field] != diff.new

    batch = staging.stage(ctx, "GREYSON", types=[ChangeType.CHANGED, ChangeType.DELETED])
    assert (batch.changed_count, batch.deleted_count, batch.new_count) == (6, 2, 0)
    with ctx.store.engine.connect() as conn:
        rows = conn.execute(
            select(staged_rows).where(staged_rows.c.stg_batch_id == batch.batch_id)
        ).all()
    for row in rows:
        if row.change_type == "CHANGED":
            assert json.loads(row.stg_diff)["fields"] or json.loads(row.stg_diff)["sizes"]
            assert json.loads(row.stg_previous_values)["fields"]
        else:
            assert row.source_hash is None and row.stg_values is None


def test_a_row_moved_to_another_customer_is_changed_not_deleted(ctx):
    mark_synced(ctx)
    info = ctx.store.source()
    with ctx.store.engine.begin() as conn:
        uid = conn.execute(
            select(info.table.c.record_uuid)
            .where(info.table.c["CUSTOMER NAME"] == "RHONE")
            .limit(1)
        ).scalar()
        conn.execute(
            info.table.update()
            .where(info.table.c.record_uuid == uid)
            .values({"CUSTOMER NAME": "GREYSON"})
        )
    [rhone], _ = detection.detect_counts(ctx, "RHONE")
    [greyson], _ = detection.detect_counts(ctx, "GREYSON")
    assert (rhone.deleted, greyson.changed) == (0, 1)
    assert detection.preview(ctx, "RHONE").counts.deleted == 0


def test_excluded_rows_stay_out_of_the_batch(ctx):
    found = detection.preview(ctx, "GREYSON", limit=4)
    skip = {found.changes[0].record_uuid}
    batch = staging.stage(ctx, "GREYSON", limit=3, exclude=skip)
    assert (batch.item_count, batch.excluded_count) == (3, 1)
    with ctx.store.engine.connect() as conn:
        staged = set(conn.execute(select(staged_rows.c.source_uuid)).scalars())
    assert not staged & skip


def test_a_connection_lost_mid_staging_leaves_nothing_behind(ctx):
    def drop_on_subitems(conn, clause, *args, **kwargs):
        if getattr(clause, "table", None) is staged_subitems:
            raise OperationalError("INSERT", {}, ConnectionResetError("connection lost"))

    event.listen(ctx.store.engine, "before_execute", drop_on_subitems)
    with pytest.raises(OperationalError):
        staging.stage(ctx, "GREYSON", limit=5)
    event.remove(ctx.store.engine, "before_execute", drop_on_subitems)
    assert _count(ctx, staged_rows) == 0
    assert _count(ctx, customer_locks) == 0
    assert staging.history(ctx) == []
    assert staging.stage(ctx, "GREYSON", limit=5).item_count == 5


def test_sync_state_round_trips(ctx):
    assert mark_synced(ctx, ["GREYSON"]) > 0
    with ctx.store.engine.connect() as conn:
        state = load_state_hashes(conn)
    [counts], _ = detection.detect_counts(ctx, "GREYSON")
    assert counts.unchanged == len(state) and counts.new == counts.changed == 0


def test_tombstones_are_not_synced_records_and_both_methods_agree(ctx):
    """A pushed delete leaves a tombstone: neither DELETED again nor UNCHANGED, by Method 2
    (load_state_hashes, the counts) and Method 1 (load_state, the preview) alike; a
    tombstoned record that is back in the source is NEW, staged with its tombstone."""
    mark_synced(ctx)
    spellings = ["GREYSON", "GREYSON CLOTHIERS", "Greyson "]
    touched = mutate_orders(
        ctx.store.engine, changed=4, deleted=3, added=2, seed=5, customer_spellings=spellings
    )
    with ctx.store.engine.connect() as conn:
        state = {s.record.record_uuid: s for s in load_state(conn)}
    untouched = sorted(set(state) - set(touched["changed"]) - set(touched["deleted"]))
    back = next(u for u in untouched if state[u].record.customer == "GREYSON")
    when = datetime(2026, 11, 2, 10, 0)
    tombs = [
        # Two of the three deleted orders had their delete pushed (one labelled, one
        # archived); one order whose delete was pushed is in the source again.
        replace(state[touched["deleted"][0]], deleted_at=when, deleted_action="status"),
        replace(state[touched["deleted"][1]], deleted_at=when, deleted_action="archive"),
        replace(state[back], deleted_at=when, deleted_action="status", last_batch_id=7),
    ]
    with ctx.store.engine.begin() as conn:
        save_state(conn, tombs, now=when)
        assert len(load_state(conn, tombstones=True)) == len(state)
        assert len(load_state(conn)) == len(load_state_hashes(conn)) == len(state) - 3

    counts, _ = detection.detect_counts(ctx)  # Method 2, every customer at once
    for by_hash in counts:
        by_join = detection.preview(ctx, by_hash.customer).counts  # Method 1
        assert by_join == by_hash, by_hash.customer
    [greyson] = [c for c in counts if c.customer == "GREYSON"]
    assert (greyson.new, greyson.changed, greyson.deleted) == (2 + 1, 4, 3 - 2)

    found = detection.preview(ctx, "GREYSON")
    [returning] = [c for c in found.changes if c.record_uuid == back]
    assert returning.change_type is ChangeType.NEW and returning.old is None
    assert found.previous[back] == tombs[2]
    assert not {t.record.record_uuid for t in tombs[:2]} & {c.record_uuid for c in found.changes}

    batch = staging.stage(ctx, "GREYSON", types=[ChangeType.NEW])
    assert batch.new_count == 3
    with ctx.store.engine.connect() as conn:
        [row] = [r for r in pushing.load_rows(conn, batch.batch_id) if r.record_uuid == back]
        subs = [s for s in pushing.load_subitems(conn, batch.batch_id) if s.record_uuid == back]
    assert row.previous == tombs[2] and row.kept_item_id == state[back].monday_item_id
    # Its sizes are staged against the subitems its labelled item still has.
    assert {s.size: (s.change_type, s.qty, s.previous_qty) for s in subs} == {
        size: (ChangeType.CHANGED, qty, qty) for size, qty in state[back].record.sizes.items()
    }


def test_the_customer_spellings_are_every_distinct_name_the_source_holds(ctx):
    """PostgreSQL finds them by probing the customer index once per name (a loose index
    scan), the others by DISTINCT: the same list, odd spellings and NULLs included."""
    info = ctx.store.source()
    col = info.table.c[CUSTOMER_NAME]
    odd = [None, "", " ", "greyson", "GREYSON ", "Zürich Ltd", "ZZZ"]
    with ctx.store.engine.begin() as conn:
        numbers = list(conn.execute(select(info.table.c[ORDER_NUMBER])).scalars())
        for number, name in zip(numbers[::37], odd, strict=False):
            conn.execute(
                update(info.table).where(info.table.c[ORDER_NUMBER] == number).values({col: name})
            )
    with ctx.store.engine.connect() as conn:
        found = customer_spellings(conn, info)
        every = set(conn.execute(select(col).where(col.is_not(None))).scalars())
    assert len(found) == len(set(found)) and set(found) == every
    assert {"", " ", "greyson", "GREYSON ", "Zürich Ltd", "ZZZ"} <= set(found)
