"""The demo's bulk load (store/demo.load_orders: grouped executemany on SQLite, with its
NULLs bound as NaN; COPY on PostgreSQL) stores what a plain SQLAlchemy INSERT of the same
frame stores: the same values, of the same types, row for row."""

from __future__ import annotations

from sqlalchemy import Engine, MetaData, Table, create_engine, func, select

from orders_sync_gui.store.demo import _db_values, generate_orders, load_orders
from orders_sync_gui.store.schema import SOURCE_TABLE, build_source_table


def _stored(engine: Engine) -> list[list[tuple[str, object]]]:
    """Every row, each value with its Python type (and on SQLite its storage class)."""
    table = Table(SOURCE_TABLE, MetaData(), autoload_with=engine)
    cols = list(table.columns)
    if engine.dialect.name == "sqlite":
        cols += [func.typeof(c) for c in table.columns]
    with engine.connect() as conn:
        rows = conn.execute(select(*cols).order_by(table.c["AAG ORDER NUMBER"])).all()
    return [[(type(v).__name__, v) for v in row] for row in rows]


def _insert_plainly(engine: Engine, frame) -> None:
    metadata = MetaData()
    table = build_source_table(metadata)
    with engine.begin() as conn:
        table.drop(conn, checkfirst=True)
        metadata.create_all(conn)
        conn.execute(table.insert(), _db_values(frame))


def test_the_bulk_load_stores_what_an_insert_stores(db_url):
    frame = generate_orders(700, 31)
    engine = create_engine(db_url)
    try:
        assert load_orders(engine, frame, replace=True) == 700
        bulk = _stored(engine)
        _insert_plainly(engine, frame)
        plain = _stored(engine)
    finally:
        engine.dispose()
    assert len(bulk) == 700
    assert bulk == plain
    # A sparse column (NOTES: about one order in eight) came back NULL where it was empty.
    notes = frame["NOTES"].notna().sum()
    assert 0 < notes < 700
    column = [c.name for c in build_source_table(MetaData()).columns].index("NOTES")
    assert sum(row[column] != ("NoneType", None) for row in bulk) == notes
