"""Reading ORDERS_UNIFIED: reflected, never assumed, so a real 417-column table works as is."""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Connection,
    Engine,
    MetaData,
    Select,
    Table,
    func,
    inspect,
    literal_column,
    select,
    type_coerce,
)
from sqlalchemy import column as sql_column
from sqlalchemy import table as sql_table
from sqlalchemy import types as sqltypes
from sqlalchemy.engine import Dialect
from sqlalchemy.types import NullType

from ..core.columns import (
    CUSTOMER_NAME,
    PO_NUMBER,
    RECORD_HASH,
    RECORD_UUID,
    Kind,
    size_columns_between,
)
from . import sqlite_reader
from .engine import sqlite_path
from .packed_sizes import packable, packed_columns, unpack
from .schema import SOURCE_TABLE
from .uuid_type import LenientUuid, dashed_text

# SQL Server accepts at most 2,100 parameters in one statement.
IN_CHUNK = 1000


class SourceSchemaError(RuntimeError):
    """ORDERS_UNIFIED is missing or lacks what the sync needs; says what to run or map."""


@dataclass(slots=True)
class SourceInfo:
    table: Table
    names: list[str]
    sizes: list[str]
    kinds: dict[str, Kind]

    def require(self, columns: Iterable[str], what: str) -> None:
        missing = [c for c in columns if c not in self.table.c]
        if missing:
            listed = ", ".join(f"[{c}]" for c in missing)
            raise SourceSchemaError(f"{SOURCE_TABLE} lacks {what} {listed}")


def kind_of(sqltype: sqltypes.TypeEngine) -> Kind:
    if isinstance(sqltype, sqltypes.Integer):
        return Kind.INT
    if isinstance(sqltype, sqltypes.Numeric | sqltypes.Float):
        return Kind.DECIMAL
    if isinstance(sqltype, sqltypes.DateTime | sqltypes.Date):
        return Kind.DATETIME
    return Kind.TEXT


def reflect_source(engine: Engine) -> SourceInfo:
    try:
        present = [c["name"] for c in inspect(engine).get_columns(SOURCE_TABLE)]
    except Exception as exc:  # NoSuchTableError and driver errors alike
        raise SourceSchemaError(
            f"cannot read {SOURCE_TABLE} ({type(exc).__name__}). On SQL Server, check the "
            "connection and that sql/001_orders_unified_columns.sql was run; for the demo "
            "database, run `orders-sync demo-init`"
        ) from exc
    if RECORD_UUID not in present:
        raise SourceSchemaError(
            f"{SOURCE_TABLE} has no record_uuid column: ask the DBA to run "
            "sql/001_orders_unified_columns.sql"
        )
    table = Table(SOURCE_TABLE, MetaData(), autoload_with=engine)
    # Read as Uuid, so that every dialect hands record_uuid back as a dashed string.
    table.c[RECORD_UUID].type = LenientUuid()
    names = [c.name for c in table.columns]
    try:
        sizes = size_columns_between(names)
    except ValueError as exc:
        raise SourceSchemaError(str(exc)) from exc
    kinds = {c.name: kind_of(c.type) for c in table.columns}
    return SourceInfo(table=table, names=names, sizes=sizes, kinds=kinds)


def customer_spellings(conn: Connection, info: SourceInfo) -> list[str]:
    """Every distinct CUSTOMER NAME the source holds."""
    col = info.table.c[CUSTOMER_NAME]
    stmt: Select[Any] = select(col).where(col.is_not(None)).distinct()
    if conn.dialect.name == "postgresql":
        stmt = _skipping_distinct(col)
    return [r for r in conn.execute(stmt).scalars() if isinstance(r, str)]


def _skipping_distinct(col: ColumnElement[Any]) -> Select[Any]:
    """The distinct values of an indexed column, each found by one probe of its index for
    the least value above the last (PostgreSQL has no skip scan of its own before 18): a
    few dozen probes where DISTINCT reads every entry (0.1 s at a million rows, for every
    preview). https://wiki.postgresql.org/wiki/Loose_indexscan"""
    first = select(func.min(col).label("v")).cte("spelling", recursive=True)
    after = select(func.min(col)).where(col > first.c.v).scalar_subquery()
    walk = first.union_all(select(after).where(first.c.v.is_not(None)))
    return select(walk.c.v).where(walk.c.v.is_not(None))


def _raw(info: SourceInfo, name: str) -> ColumnElement[Any]:
    """A column as the driver hands it back. SQLAlchemy's own date and decimal conversion
    would raise on one malformed value (SQLite stores any text) and sink the whole read;
    the canonicaliser parses each value itself and names the bad ones."""
    col = info.table.c[name]
    if info.kinds[name] in (Kind.DATETIME, Kind.DECIMAL):
        return type_coerce(col, NullType()).label(name)
    return col


# Rows per chunk of a streamed read: with the sizes packed, about 15 MB of demo rows as
# Python objects and as much again while hashed. Larger chunks were no faster (a million
# rows in 21.9 s at 5,000 and 21.7 s at 20,000) but took 135 MB more in each process.
CHUNK_ROWS = 5_000


def read_rows(
    conn: Connection,
    info: SourceInfo,
    columns: Sequence[str],
    *,
    spellings: Sequence[str] | None = None,
    po_number: str | None = None,
    uuids: Sequence[str] | None = None,
) -> pd.DataFrame:
    """Rows of the given columns, of some customer spellings (all rows when None), in
    order-number order. `uuids`: only the rows that hold one of these record_uuids."""
    stmt, sizes = _ordered_rows(conn, info, columns, spellings, po_number)
    if uuids is not None:
        stmt = stmt.where(info.table.c[RECORD_UUID].in_(list(uuids)))
    result = conn.execute(stmt)
    # Plain tuples: pandas probes each Row for namedtuple fields, at a cost.
    rows = [tuple(r) for r in result.fetchall()]
    frame = pd.DataFrame(rows, columns=list(result.keys()), dtype=object)
    return unpack(conn, info.table, frame, sizes) if sizes else frame


def stream_rows(
    conn: Connection,
    info: SourceInfo,
    columns: Sequence[str],
    *,
    spellings: Sequence[str],
    chunk_rows: int = CHUNK_ROWS,
) -> Iterator[pd.DataFrame]:
    """read_rows' rows of some customer spellings, in the same order, chunk by chunk (a
    server-side cursor where the driver has one): a customer of a quarter of a million
    orders never sits in memory whole."""
    stmt, sizes = _ordered_rows(conn, info, columns, spellings, None)
    for frame in stream_frames(conn, stmt, chunk_rows=chunk_rows):
        yield unpack(conn, info.table, frame, sizes) if sizes else frame


def _ordered_rows(
    conn: Connection,
    info: SourceInfo,
    columns: Sequence[str],
    spellings: Sequence[str] | None,
    po_number: str | None,
) -> tuple[Select[Any], list[str]]:
    t = info.table
    stmt, sizes = _row_select(conn, info, columns)
    if spellings is not None:
        stmt = stmt.where(t.c[CUSTOMER_NAME].in_(list(spellings)))
    if po_number is not None:
        stmt = stmt.where(t.c[PO_NUMBER] == po_number)
    # A stable order: "first N orders" must mean the same rows on every run.
    stmt = stmt.order_by(*(t.c[c] for c in ("AAG ORDER NUMBER",) if c in t.c), t.c[RECORD_UUID])
    return stmt, sizes


def _row_select(
    conn: Connection, info: SourceInfo, columns: Sequence[str]
) -> tuple[Select[Any], list[str]]:
    """record_uuid and the columns, with the sizes packed where the database can
    (packed_sizes.py: each value reaches the hasher as the plain read hands it over), and
    the sizes packed."""
    selected, sizes = row_columns(conn, info, columns)
    return select(*selected), sizes


def row_columns(
    conn: Connection, info: SourceInfo, columns: Sequence[str]
) -> tuple[list[ColumnElement[Any]], list[str]]:
    """What _row_select selects, for a query of its own; unpack() its frames with the
    sizes."""
    sizes = packable(conn.dialect.name, info.sizes, info.kinds, columns)
    if not sizes:
        return source_columns(info, columns, conn.dialect.name), []
    others = [c for c in columns if c not in set(sizes)]
    packed = packed_columns(conn.dialect.name, info.table, sizes)
    return [*source_columns(info, others, conn.dialect.name), *packed], sizes


def source_columns(
    info: SourceInfo, columns: Sequence[str], dialect: str | None = None
) -> list[ColumnElement[Any]]:
    """record_uuid and the given columns, as read_rows and stream_frames read them."""
    info.require(columns, "the mapped column(s)")
    uid = dashed_text(info.table.c[RECORD_UUID], dialect).label(RECORD_UUID)
    return [uid, *(_raw(info, name) for name in dict.fromkeys(columns) if name != RECORD_UUID)]


def stream_frames(
    conn: Connection, stmt: Select[Any], *, chunk_rows: int = CHUNK_ROWS, offload: bool = False
) -> Iterator[pd.DataFrame]:
    """The rows of a SELECT as frames of at most chunk_rows rows, read as they are needed:
    a server-side cursor where the driver has one (psycopg's named cursors, pyodbc's
    fetchmany), so that the table never sits in memory whole. `offload`: a SQLite file's
    rows are read by a child process where they can be (store/sqlite_reader.py)."""
    path = sqlite_path(conn.engine.url) if offload else None
    handed = sqlite_reader.offloadable(stmt, conn.dialect) if path is not None else None
    if path is not None and handed is not None:
        names = list(stmt.selected_columns.keys())
        for chunk in sqlite_reader.read_rows(path, *handed, chunk_rows=chunk_rows):
            yield pd.DataFrame(chunk, columns=names, dtype=object)
        return
    if conn.dialect.name == "postgresql":
        # Every row will be read: plan for all of them, not for the first tenth that
        # PostgreSQL assumes of a cursor (its fast-start plan walked a customer's rows in
        # order-number order through the whole table: minutes at a million rows). SET
        # LOCAL: until the end of this transaction.
        # https://www.postgresql.org/docs/current/runtime-config-query.html
        conn.exec_driver_sql("SET LOCAL cursor_tuple_fraction = 1.0")
    if conn.dialect.name == "sqlite" and _unprocessed(stmt, conn.dialect):
        # SQLite's cursor steps through the rows as they are asked for: its own tuples,
        # taken as they come, without a SQLAlchemy Row each (a tenth of a count).
        plain = conn.execute(stmt)
        names = list(plain.keys())
        try:
            while rows := plain.cursor.fetchmany(chunk_rows):
                yield pd.DataFrame(rows, columns=names, dtype=object)
        finally:
            plain.close()
        return
    # Per statement: Connection.execution_options() would set them on the connection
    # for good, and every later statement on it would open a server-side cursor too.
    streamed = {"stream_results": True, "yield_per": chunk_rows}
    result = conn.execute(stmt, execution_options=streamed)
    names = list(result.keys())
    try:
        for part in result.partitions(chunk_rows):
            # Plain tuples: pandas probes each Row for namedtuple fields, at a cost.
            yield pd.DataFrame([tuple(r) for r in part], columns=names, dtype=object)
    finally:
        result.close()


def _unprocessed(stmt: Select[Any], dialect: Dialect) -> bool:
    """Whether SQLAlchemy would hand every selected value back as the driver gives it."""
    return all(
        c.type.dialect_impl(dialect).result_processor(dialect, None) is None
        for c in stmt.selected_columns
    )


def stream_source(
    conn: Connection,
    info: SourceInfo,
    columns: Sequence[str],
    *,
    chunk_rows: int = CHUNK_ROWS,
    rowids: tuple[int, int] | None = None,
    offload: bool = False,
) -> Iterator[pd.DataFrame]:
    """record_uuid and the columns of every row, chunk by chunk (stream_frames), the sizes
    packed where the database can (see _row_select). `rowids` (SQLite): only the rows of
    rowid lo <= rowid < hi, a slice for one worker process."""
    stmt, sizes = _row_select(conn, info, columns)
    if rowids is not None:
        rowid: ColumnElement[Any] = literal_column("rowid")
        stmt = stmt.where(rowid >= rowids[0], rowid < rowids[1])
    for frame in stream_frames(conn, stmt, chunk_rows=chunk_rows, offload=offload):
        yield unpack(conn, info.table, frame, sizes) if sizes else frame


def rowid_range(conn: Connection, info: SourceInfo) -> tuple[int, int]:
    """SQLite: the table's lowest rowid and one past its highest ((0, 0) when empty)."""
    rowid: ColumnElement[Any] = literal_column("rowid")
    lo, hi = conn.execute(select(func.min(rowid), func.max(rowid)).select_from(info.table)).one()
    return (0, 0) if lo is None else (int(lo), int(hi) + 1)


def uuids_of(info: SourceInfo, spellings: Sequence[str]) -> Select[Any]:
    """The record_uuids of some customer spellings' rows, as a subquery for the server."""
    t = info.table
    return select(t.c[RECORD_UUID]).where(t.c[CUSTOMER_NAME].in_(list(spellings)))


def shared_uuids(conn: Connection, info: SourceInfo) -> set[str]:
    """record_uuids that more than one row holds (a bad load): few, found by the server."""
    col = info.table.c[RECORD_UUID]
    stmt = select(col).where(col.is_not(None)).group_by(col).having(func.count() > 1)
    return {_dashed(u) for u in conn.execute(stmt).scalars()}


def existing_uuids(conn: Connection, info: SourceInfo, uuids: Iterable[str]) -> set[str]:
    """Which of these record_uuids the source still has (whatever their customer)."""
    col = info.table.c[RECORD_UUID]
    wanted = list(uuids)
    found: set[str] = set()
    for i in range(0, len(wanted), IN_CHUNK):
        chunk = wanted[i : i + IN_CHUNK]
        found.update(str(u) for u in conn.execute(select(col).where(col.in_(chunk))).scalars())
    return found


def count_rows(conn: Connection, info: SourceInfo) -> int:
    return int(conn.execute(select(func.count()).select_from(info.table)).scalar_one())


@dataclass(frozen=True, slots=True)
class IdentityHealth:
    """How well ORDERS_UNIFIED's record_uuid identifies its rows."""

    has_uuid: bool
    has_hash: bool
    rows: int
    null_uuids: int  # rows with no record_uuid
    shared_uuids: int  # record_uuids held by more than one row
    examples: list[tuple[str, int]]  # a few shared uuids, with their number of rows


def identity_health(engine: Engine, examples: int = 3) -> IdentityHealth:
    """Counts only: NULL and shared record_uuids, over the whole table."""
    names = {c["name"] for c in inspect(engine).get_columns(SOURCE_TABLE)}
    has_uuid, has_hash = RECORD_UUID in names, RECORD_HASH in names
    source = sql_table(SOURCE_TABLE, sql_column(RECORD_UUID))
    uid = source.c[RECORD_UUID]
    with engine.connect() as conn:
        rows = int(conn.execute(select(func.count()).select_from(source)).scalar_one())
        if not has_uuid:
            return IdentityHealth(False, has_hash, rows, rows, 0, [])
        nulls = int(conn.execute(select(func.count()).where(uid.is_(None))).scalar_one())
        shared = select(uid).where(uid.is_not(None)).group_by(uid).having(func.count() > 1)
        count = int(conn.execute(select(func.count()).select_from(shared.subquery())).scalar_one())
        found = conn.execute(
            select(uid, func.count())
            .where(uid.is_not(None))
            .group_by(uid)
            .having(func.count() > 1)
            .order_by(func.count().desc(), uid)
            .limit(examples)
        ).all()
    shown = [(_dashed(u), int(n)) for u, n in found]
    return IdentityHealth(True, has_hash, rows, nulls, count, shown)


def _dashed(value: object) -> str:
    """A uuid as the app shows it (SQLite keeps 32 hex digits); other text as it is."""
    try:
        return str(uuid.UUID(str(value)))
    except ValueError:
        return str(value)
