"""Detection read in chunks counts exactly what the whole table read at once counts.

Small chunks (7 rows) over 300 orders put every customer across many chunk boundaries;
invalid rows sit in several chunks, and one record_uuid is shared by rows in different
chunks (each of them must fail, naming both orders).
"""

from __future__ import annotations

import multiprocessing
import os

import pytest
from sqlalchemy import select, update

from orders_sync_gui.core.columns import ORDER_NUMBER, RECORD_UUID
from orders_sync_gui.core.detect import count_by_customer
from orders_sync_gui.core.models import CustomerCounts
from orders_sync_gui.core.records import SourceSpec, hash_frame
from orders_sync_gui.services import detection, parallel_detect
from orders_sync_gui.services.context import open_context
from orders_sync_gui.services.demo import demo_init
from orders_sync_gui.store.demo import mutate_orders
from orders_sync_gui.store.source import read_rows
from orders_sync_gui.store.syncstate import load_state_hashes
from tests.helpers import mark_synced

ORDERS = 300


@pytest.fixture
def ctx(db_url):
    demo_init(db_url, orders=ORDERS, seed=23)
    context = open_context(db_url)
    mark_synced(context)
    mutate_orders(context.store.engine, changed=9, deleted=5, added=6, seed=3)
    table = context.store.source().table
    with context.store.engine.begin() as conn:
        numbers = conn.execute(
            select(table.c[ORDER_NUMBER], table.c[RECORD_UUID]).order_by(table.c[ORDER_NUMBER])
        ).all()
        # Invalid rows spread over the table (a negative size) ...
        for number, _ in numbers[10::60]:
            conn.execute(update(table).where(table.c[ORDER_NUMBER] == number).values(M=-6))
        # ... and one uuid held by two orders far apart (different chunks).
        shared = numbers[3][1]
        conn.execute(
            update(table).where(table.c[ORDER_NUMBER] == numbers[275][0]).values(record_uuid=shared)
        )
    yield context
    context.close()


def _reference(ctx) -> tuple[dict[str, CustomerCounts], list]:
    """The unchunked Method 2: the whole table in one frame, core.detect.count_by_customer."""
    info = ctx.store.source()
    spec = SourceSpec(ctx.mapping.sources, info.kinds, info.sizes, ctx.customers)
    with ctx.store.engine.connect() as conn:
        frame = read_rows(conn, info, [ORDER_NUMBER, *ctx.mapping.sources, *info.sizes])
        state = load_state_hashes(conn)
    hashed = hash_frame(frame, spec, with_sizes=False)
    valid = [
        (u, c, h)
        for u, c, h in zip(hashed.uuids, hashed.customers, hashed.hashes, strict=True)
        if h is not None
    ]
    invalid = {e.record_uuid for e in hashed.errors}
    counts = count_by_customer(valid, [s for s in state if s[0] not in invalid])
    for i, h in enumerate(hashed.hashes):
        if h is None:
            name = hashed.customers[i] or detection.NO_CUSTOMER
            counts.setdefault(name, CustomerCounts(name)).invalid += 1
    return counts, hashed.errors


def test_chunked_counts_equal_the_whole_table_read_at_once(ctx):
    expected, expected_errors = _reference(ctx)
    assert sum(c.invalid for c in expected.values()) >= 5 + 2  # the test's premise
    assert sum(c.deleted for c in expected.values()) == 5 + 1  # and the uuid overwritten

    seen = []
    counts, errors = detection.detect_counts(ctx, chunk_rows=7, progress=seen.append)
    assert {c.customer: c for c in counts} == expected
    assert sorted(map(str, errors)) == sorted(map(str, expected_errors))
    shared = [e for e in errors if "is shared by orders" in e.message]
    assert len(shared) == 2 and shared[0].message == shared[1].message
    # The count went chunk by chunk, and said so. (PostgreSQL computes the row hash: only
    # the rows it finds changed travel, in chunks, after its count of the unchanged ones.)
    travelled = ORDERS if ctx.store.dialect == "sqlite" else 9 + 6 + 5 + 2
    assert len(seen) >= travelled // 7 and seen[-1].rows_done == seen[-1].rows_total
    assert [p.rows_done for p in seen] == sorted(p.rows_done for p in seen)

    whole, _ = detection.detect_counts(ctx, chunk_rows=10 * ORDERS)
    assert whole == counts

    # Each customer's preview (Method 1) comes to its count: the two rows of the shared
    # uuid fail there too, the unchanged one as well (on PostgreSQL it does not travel
    # with the changed rows: it is read once the shared uuids are known).
    in_previews = []
    for count in counts:
        if count.customer != detection.NO_CUSTOMER:
            found = detection.preview(ctx, count.customer)
            assert found.counts == count, count.customer
            in_previews += [str(e) for e in found.errors if "is shared by orders" in e.message]
    assert sorted(in_previews) == sorted(map(str, shared))  # each naming both orders


def test_a_progress_callback_that_raises_stops_the_count(ctx):
    class Stop(Exception):
        pass

    calls = []

    def progress(p):
        calls.append(p)
        if len(calls) == 3:
            raise Stop

    with pytest.raises(Stop):
        detection.detect_counts(ctx, chunk_rows=5, progress=progress)
    assert len(calls) == 3 and calls[-1].rows_done < calls[-1].rows_total


def test_worker_processes_count_what_one_process_counts(ctx, monkeypatch):
    """SQLite's count on worker processes (services/parallel_detect.py), here forced on for
    300 rows cut into slices of 40 rowids: the same counts and errors, the uuid shared
    across slices included, and progress still in table order."""
    if ctx.store.dialect != "sqlite":
        pytest.skip("worker processes hash SQLite files only")
    expected, expected_errors = _reference(ctx)
    monkeypatch.setattr(parallel_detect, "MIN_ROWS", 0)
    monkeypatch.setattr(parallel_detect, "SLICE_ROWS", 40)
    assert parallel_detect.workers_for(ctx.store.engine, ORDERS) >= min(2, os.cpu_count() or 1)
    seen = []
    counts, errors = detection.detect_counts(ctx, chunk_rows=7, progress=seen.append)
    assert {c.customer: c for c in counts} == expected
    assert sorted(map(str, errors)) == sorted(map(str, expected_errors))
    assert [p.rows_done for p in seen] == sorted(p.rows_done for p in seen)
    assert seen[-1].rows_done == seen[-1].rows_total


def test_a_cancelled_count_stops_its_worker_processes(ctx, monkeypatch):
    if ctx.store.dialect != "sqlite":
        pytest.skip("worker processes hash SQLite files only")
    monkeypatch.setattr(parallel_detect, "MIN_ROWS", 0)
    monkeypatch.setattr(parallel_detect, "SLICE_ROWS", 40)

    class Stop(Exception):
        pass

    def progress(p):
        raise Stop

    before = set(multiprocessing.active_children())
    with pytest.raises(Stop):
        detection.detect_counts(ctx, chunk_rows=7, progress=progress)
    assert set(multiprocessing.active_children()) == before
