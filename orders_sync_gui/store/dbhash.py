"""ORDERS_UNIFIED.record_hash computed by the database itself (sql/007 on SQL Server; a
generated column on PostgreSQL), so that detection becomes a join done by the server.

The database's hash is SHA-256 over a fixed canonical text of the mapped columns and the
sizes (sql/README.md, "007: the database's row hash"):

    F<len>:<name>...|<value>...|S<len>:<label>=<qty>;...

names sorted, each value `~` for NULL or `<length>:<text>` (text NFC on PostgreSQL, numbers
without trailing zeros, dates and times as seconds since 1970), sizes sorted by label, a
NULL or 0 quantity absent. It is not the app's hash (that one folds customer spellings and
is the reference, core/hashing.py) and need not equal it: the sync state keeps the
database's hash of each row at push time beside the app's, and only a row whose database
hash still equals that one is taken as UNCHANGED without reading it. Every other row is
read and hashed by the app, which decides. So the database's form may see a change where
the app sees none (SQL Server has no NFC; a customer spelled another way), never the
reverse: equal database hashes mean equal columns, hence equal app hashes.

A column comment records which columns the expression covers (`basis`): detection uses the
column only when that is the current mapping's.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine, inspect, text

from ..core.columns import RECORD_HASH, RECORD_UUID, Kind
from ..core.mapping import BoardMapping
from .schema import SOURCE_TABLE
from .source import SourceInfo

VERSION = "v1"
COMMENT_PREFIX = "orders-sync record_hash"
PG_FUNCTION = "orders_sync_sha256"
INDEX_NAME = "IX_ORDERS_UNIFIED_uuid_hash"
SCRIPT = "sql/007_record_hash.sql"


def basis(mapping: BoardMapping, sizes: Sequence[str]) -> str:
    """What the expression stands for, as a short digest: the mapped columns, the sizes,
    and the monday types that limit a value's length (a pushed row's validity hangs on
    them too). Any change of these makes the database's hash unusable until re-made."""
    limited = sorted(f"{m.source}:{m.column.type}:{m.overflow}" for m in mapping.columns)
    parts = [*sorted(mapping.sources), "", *sorted(sizes), "", *limited]
    return hashlib.sha256("|".join(parts).encode("utf-8")).hexdigest()[:16]


def comment(mapping: BoardMapping, sizes: Sequence[str]) -> str:
    return f"{COMMENT_PREFIX} {VERSION} basis={basis(mapping, sizes)}"


def as_bytes(value: object) -> bytes | None:
    """A hash as the driver hands it back (bytes, memoryview, hex text) as 32 bytes."""
    if value is None:
        return None
    if isinstance(value, memoryview | bytearray):
        return bytes(value)
    if isinstance(value, bytes):
        return value
    return bytes.fromhex(str(value))


def as_hex(value: object) -> str | None:
    raw = as_bytes(value)
    return raw.hex() if raw is not None else None


def _length_prefixed(text_: str) -> str:
    return f"{len(text_)}:{text_}"


def _pg_quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _pg_literal(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _pg_value(name: str, kind: Kind) -> str:
    col = _pg_quote(name)
    if kind is Kind.TEXT:
        canon = f"normalize({col}::text, NFC)"
    elif kind is Kind.DATETIME:
        canon = f"(extract(epoch from {col}))::text"
    elif kind is Kind.DECIMAL:
        canon = f"trim_scale({col}::numeric)::text"
    else:
        canon = f"{col}::text"
    return f"CASE WHEN {col} IS NULL THEN '~' ELSE length({canon})::text || ':' || {canon} END"


def pg_expression(info: SourceInfo, mapped: Sequence[str]) -> str:
    """The canonical text as a PostgreSQL expression over ORDERS_UNIFIED's columns."""
    names = sorted(mapped)
    header = "F" + "".join(_length_prefixed(n) for n in names)
    values = [_pg_value(n, info.kinds[n]) for n in names]
    sizes = [
        f"CASE WHEN COALESCE({_pg_quote(s)}, 0) = 0 THEN '' "
        f"ELSE {_pg_literal(_length_prefixed(s) + '=')} || {_pg_quote(s)}::text || ';' END"
        for s in sorted(info.sizes)
    ]
    parts = [_pg_literal(header + "|"), *values, "'|S'", *sizes]
    return " || ".join(f"({p})" for p in parts)


def _ms_quote(name: str) -> str:
    return "[" + name.replace("]", "]]") + "]"


def _ms_literal(value: str) -> str:
    return "N'" + value.replace("'", "''") + "'"


def _ms_value(name: str, kind: Kind) -> str:
    col = _ms_quote(name)
    if kind is Kind.TEXT:
        canon = f"CONVERT(NVARCHAR(MAX), {col})"
    elif kind is Kind.DATETIME:
        canon = f"CONVERT(NVARCHAR(33), {col}, 126)"  # ISO 8601: deterministic
    else:
        # A DECIMAL's scale is its column's: equal values, equal text.
        canon = f"CONVERT(NVARCHAR(60), {col})"
    # DATALENGTH, not LEN: LEN ignores trailing spaces.
    return (
        f"CASE WHEN {col} IS NULL THEN N'~' ELSE "
        f"CONVERT(NVARCHAR(20), DATALENGTH({canon}) / 2) + N':' + {canon} END"
    )


def mssql_expression(kinds: Mapping[str, Kind], mapped: Sequence[str], sizes: Sequence[str]) -> str:
    """The canonical text as T-SQL (sql/007's computed column). NVARCHAR(MAX) from the
    first operand on, so that the concatenation is never cut at 4,000 characters. SQL
    Server has no NFC: a text that differs only in its Unicode form reads as changed
    here, and the app's hash then finds it unchanged."""
    names = sorted(mapped)
    header = "F" + "".join(_length_prefixed(n) for n in names) + "|"
    values = [_ms_value(n, kinds[n]) for n in names]
    size_parts = [
        f"CASE WHEN ISNULL({_ms_quote(s)}, 0) = 0 THEN N'' ELSE "
        f"{_ms_literal(_length_prefixed(s) + '=')} + CONVERT(NVARCHAR(20), {_ms_quote(s)}) "
        "+ N';' END"
        for s in sorted(sizes)
    ]
    parts = [f"CONVERT(NVARCHAR(MAX), {_ms_literal(header)})", *values, "N'|S'", *size_parts]
    text_ = "\n        + ".join(f"({p})" for p in parts)
    return f"CAST(HASHBYTES('SHA2_256',\n        {text_}) AS BINARY(32))"


def pg_statements(info: SourceInfo, mapping: BoardMapping) -> list[str]:
    """What makes record_hash a stored generated column on PostgreSQL (a rewrite of the
    table: seconds per 100,000 rows). sha256() over text needs an encoding; the wrapper
    is IMMUTABLE as a generated column requires (the database's encoding is fixed)."""
    table = _pg_quote(SOURCE_TABLE)
    expr = pg_expression(info, mapping.sources)
    return [
        f"CREATE OR REPLACE FUNCTION {PG_FUNCTION}(text) RETURNS bytea LANGUAGE sql "
        "IMMUTABLE STRICT PARALLEL SAFE AS $$ SELECT sha256(convert_to($1, 'UTF8')) $$",
        f"DROP INDEX IF EXISTS {_pg_quote(INDEX_NAME)}",
        f"ALTER TABLE {table} DROP COLUMN IF EXISTS {RECORD_HASH}",
        f"ALTER TABLE {table} ADD COLUMN {RECORD_HASH} bytea "
        f"GENERATED ALWAYS AS ({PG_FUNCTION}({expr})) STORED",
        f"CREATE INDEX {_pg_quote(INDEX_NAME)} ON {table} ({RECORD_UUID}, {RECORD_HASH})",
        f"COMMENT ON COLUMN {table}.{RECORD_HASH} IS {_pg_literal(comment(mapping, info.sizes))}",
    ]


def install(engine: Engine, info: SourceInfo, mapping: BoardMapping) -> bool:
    """PostgreSQL: make record_hash the database's hash of the mapping's columns (what
    sql/007 does on SQL Server, where only the DBA changes the table). Elsewhere: False."""
    if engine.dialect.name != "postgresql":
        return False
    with engine.begin() as conn:
        for stmt in pg_statements(info, mapping):
            conn.execute(text(stmt))
    return True


@dataclass(frozen=True, slots=True)
class DbHashStatus:
    """Whether detection can let the database compare hashes, and if not, why."""

    ready: bool
    reason: str


def _column_comment(conn: Connection) -> str | None:
    dialect = conn.dialect.name
    if dialect == "postgresql":
        stmt = text(
            "SELECT col_description(c.oid, a.attnum) FROM pg_class c "
            "JOIN pg_attribute a ON a.attrelid = c.oid "
            "WHERE c.relname = :table AND a.attname = :column AND a.attgenerated = 's'"
        )
    elif dialect == "mssql":
        stmt = text(
            "SELECT CAST(p.value AS NVARCHAR(200)) FROM sys.computed_columns c "
            "JOIN sys.extended_properties p ON p.major_id = c.object_id "
            "AND p.minor_id = c.column_id AND p.name = N'orders_sync_basis' "
            "WHERE c.object_id = OBJECT_ID(:table) AND c.name = :column AND c.is_persisted = 1"
        )
    else:
        return None
    found = conn.execute(stmt, {"table": SOURCE_TABLE, "column": RECORD_HASH}).scalar()
    return str(found) if found is not None else None


def status(conn: Connection, info: SourceInfo, mapping: BoardMapping) -> DbHashStatus:
    dialect = conn.dialect.name
    if dialect not in ("postgresql", "mssql"):
        return DbHashStatus(False, f"{dialect} computes no row hash")
    if RECORD_HASH not in {c["name"] for c in inspect(conn).get_columns(SOURCE_TABLE)}:
        return DbHashStatus(False, f"{SOURCE_TABLE} has no {RECORD_HASH} column")
    found = _column_comment(conn)
    if found is None:
        return DbHashStatus(False, f"{SOURCE_TABLE}.{RECORD_HASH} is not computed by the database")
    wanted = comment(mapping, info.sizes)
    if found != wanted:
        return DbHashStatus(
            False,
            f"{SOURCE_TABLE}.{RECORD_HASH} covers other columns than the mapping's "
            f"({found.rsplit('=', 1)[-1]}, the mapping's is {wanted.rsplit('=', 1)[-1]}): "
            "made for another mapping or table",
        )
    return DbHashStatus(True, f"{SOURCE_TABLE}.{RECORD_HASH} is computed by the database")
