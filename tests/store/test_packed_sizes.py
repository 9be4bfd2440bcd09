"""SQLite reads the size columns packed into one text per row (store/packed_sizes.py):
whatever a careless load left in them, the hasher gets what the plain read gives it."""

from __future__ import annotations

import pandas as pd
from sqlalchemy import select, update

from orders_sync_gui.core.columns import ORDER_NUMBER, RECORD_UUID
from orders_sync_gui.core.records import SourceSpec, hash_frame
from orders_sync_gui.services.context import open_context
from orders_sync_gui.services.demo import demo_init
from orders_sync_gui.store.source import read_rows, stream_source

# (size column, value as stored): SQLite keeps whatever type it is given.
ODD = [
    ("M", "abc"),
    ("L", 12.5),
    ("XL", 12.0),
    ("S", ""),
    ("XS", " 12"),
    ("XXL", "7"),
    ("M", "3\x1f7\x1e5"),  # looks like packed cells, but holds a separator
    ("L", 2**62),
    ("S", -6),
]


def test_packed_read_hands_the_hasher_what_the_plain_read_does(tmp_path):
    url = f"sqlite:///{tmp_path / 'odd.db'}"
    demo_init(url, orders=120, seed=5)
    ctx = open_context(url)
    try:
        info = ctx.store.source()
        table = info.table
        with ctx.store.engine.begin() as conn:
            numbers = conn.execute(select(table.c[ORDER_NUMBER]).order_by(table.c[ORDER_NUMBER]))
            picked = [n for (n,) in numbers][5::11]
            for number, (size, value) in zip(picked, ODD, strict=False):
                row = table.c[ORDER_NUMBER] == number
                conn.execute(update(table).where(row).values({size: value}))
        columns = [ORDER_NUMBER, *ctx.mapping.sources, *info.sizes]
        spec = SourceSpec(ctx.mapping.sources, info.kinds, info.sizes, ctx.customers)
        with ctx.store.engine.connect() as conn:
            plain = read_rows(conn, info, columns)
            packed = pd.concat(list(stream_source(conn, info, columns, chunk_rows=17)))
        packed = packed.sort_values([ORDER_NUMBER, RECORD_UUID], ignore_index=True)
        want, got = hash_frame(plain, spec), hash_frame(packed, spec)
        assert got.hashes == want.hashes
        assert got.size_rows == want.size_rows
        assert [str(e) for e in got.errors] == [str(e) for e in want.errors]
        # The premise: the odd values made rows fail, each named with its size column.
        failed = {e.field for e in want.errors}
        assert {"M", "L", "S"} <= failed
    finally:
        ctx.close()
