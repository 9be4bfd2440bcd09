"""A SQLite count's rows read by a child process that imports only sqlite3
(store/sqlite_reader.py): the same rows, values and types as the read in this process,
odd values included; an early stop ends the child at once; its errors are named here."""

from __future__ import annotations

import os

import pandas as pd
import pytest
from sqlalchemy import select, update

from orders_sync_gui.core.columns import ORDER_NUMBER
from orders_sync_gui.services import detection
from orders_sync_gui.services.context import open_context
from orders_sync_gui.services.demo import demo_init
from orders_sync_gui.store import sqlite_reader
from orders_sync_gui.store.engine import sqlite_path
from orders_sync_gui.store.source import stream_source
from tests.helpers import mark_synced


@pytest.fixture
def ctx(tmp_path):
    url = f"sqlite:///{tmp_path / 'orders.db'}"
    demo_init(url, orders=150, seed=8)
    context = open_context(url)
    table = context.store.source().table
    with context.store.engine.begin() as conn:
        numbers = [n for (n,) in conn.execute(select(table.c[ORDER_NUMBER]))]
        odd = {"M": "abc", "L": 12.5, "S": "", "XL": 2**62, "NOTES": "Δ – ok\x00"}
        for number, (name, value) in zip(numbers[3::20], odd.items(), strict=False):
            conn.execute(update(table).where(table.c[ORDER_NUMBER] == number).values({name: value}))
    yield context
    context.close()


def _frames(ctx, offload: bool) -> list[pd.DataFrame]:
    info = ctx.store.source()
    columns = [ORDER_NUMBER, *ctx.mapping.sources, *info.sizes]
    with ctx.store.engine.connect() as conn:
        return list(stream_source(conn, info, columns, chunk_rows=23, offload=offload))


def test_the_child_reads_what_this_process_reads(ctx, monkeypatch):
    children = []
    real = sqlite_reader.read_rows

    def spy(*args, **kwargs):
        return real(*args, **kwargs, started=children.append)

    monkeypatch.setattr(sqlite_reader, "read_rows", spy)
    monkeypatch.setattr(sqlite_reader, "BATCH_ROWS", 7)  # chunks of 23 made of sends of 7
    here_chunks = _frames(ctx, offload=False)
    assert not children
    there_chunks = _frames(ctx, offload=True)
    assert len(children) == 1  # the premise: a child process read them
    assert [len(f) for f in there_chunks] == [len(f) for f in here_chunks]
    here, there = pd.concat(here_chunks), pd.concat(there_chunks)
    pd.testing.assert_frame_equal(there, here)
    # Value for value, type for type (an int stays an int, a float a float).
    assert [list(map(type, r)) for r in there.itertuples()] == [
        list(map(type, r)) for r in here.itertuples()
    ]


def test_an_early_stop_ends_the_child(ctx):
    path = sqlite_path(ctx.store.url)
    # Rows without end: the child blocks on the full pipe until it is ended.
    endless = (
        "WITH RECURSIVE n(x) AS (SELECT 1 UNION ALL SELECT x + 1 FROM n) "
        "SELECT x, printf('%0500d', x) FROM n"
    )
    children = []
    rows = sqlite_reader.read_rows(path, endless, [], chunk_rows=10, started=children.append)
    assert len(next(rows)) == 10
    rows.close()
    with pytest.raises(ProcessLookupError):
        os.kill(children[0], 0)


def test_the_childs_error_is_raised_here_naming_the_file(ctx):
    path = sqlite_path(ctx.store.url)
    with pytest.raises(RuntimeError, match=r"orders\.db.*no such table"):
        list(sqlite_reader.read_rows(path, "SELECT * FROM nowhere", [], chunk_rows=10))


def test_a_count_read_by_the_child_counts_what_one_process_counts(ctx, monkeypatch):
    mark_synced(ctx)
    table = ctx.store.source().table
    with ctx.store.engine.begin() as conn:
        conn.execute(update(table).where(table.c[ORDER_NUMBER] == "AAG-0100007").values(M=42))
    expected = detection.detect_counts(ctx, chunk_rows=11)
    monkeypatch.setattr(sqlite_reader, "OFFLOAD_ROWS", 0)
    children = []
    real = sqlite_reader.read_rows
    monkeypatch.setattr(
        sqlite_reader, "read_rows", lambda *a, **k: real(*a, **k, started=children.append)
    )
    seen = []
    counts, errors = detection.detect_counts(ctx, chunk_rows=11, progress=seen.append)
    assert children and (counts, errors) == expected
    assert sum(c.changed for c in counts) == 1 and seen[-1].rows_done == 150


def test_a_cancelled_count_ends_its_reading_child(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'more.db'}"
    demo_init(url, orders=3000, seed=9)  # more than the pipe holds: the child is still reading
    ctx = open_context(url)
    monkeypatch.setattr(sqlite_reader, "OFFLOAD_ROWS", 0)
    children = []
    real = sqlite_reader.read_rows
    monkeypatch.setattr(
        sqlite_reader, "read_rows", lambda *a, **k: real(*a, **k, started=children.append)
    )

    class Stop(Exception):
        pass

    def progress(p):
        if p.rows_done >= 22:
            raise Stop

    try:
        # `caught` keeps the count's frames alive: the child must end by the count's own
        # doing, not when they are freed.
        with pytest.raises(Stop) as caught:
            detection.detect_counts(ctx, chunk_rows=11, progress=progress)
        assert children and caught.value
        with pytest.raises(ProcessLookupError):
            os.kill(children[0], 0)
    finally:
        ctx.close()
