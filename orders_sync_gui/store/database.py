"""The Store: one engine, the app's tables, and the reflected source table.

On SQL Server the DBA's scripts in sql/ build the schema and the app only checks it, once
per Store, read-only: which scripts MON_SchemaVersion records, and what is really there
(ORDERS_UNIFIED.record_uuid, the app's tables and their columns, as schema.py has them).
A missing script is named, with what it would have provided; so is a database that a newer
orders-sync has upgraded. On SQLite and PostgreSQL the app creates its tables itself, adds
the columns a later script adds to a table an earlier app made (upgrade_tables), and
records the versions, so that history reads the same everywhere.
"""

from __future__ import annotations

import getpass
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy import URL, Connection, Engine, insert, inspect, select, text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.schema import CreateColumn

from ..core.columns import RECORD_HASH, RECORD_UUID
from .engine import describe_url, make_engine, sqlite_path
from .schema import (
    BATCH_TABLE,
    LOCK_TABLE,
    SOURCE_TABLE,
    STAGING_TABLE,
    SUBITEM_TABLE,
    SYNC_STATE_TABLE,
    VERSION_TABLE,
    app_metadata,
    schema_versions,
)
from .source import SourceInfo, reflect_source


class StoreSchemaError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class RequiredScript:
    """One script of sql/, and what of it the app can see in the database."""

    number: int
    file: str
    provides: str
    # Tables it creates (their columns as schema.py has them), and columns it adds to a
    # table it did not create, as (table, column).
    tables: tuple[str, ...] = ()
    columns: tuple[tuple[str, str], ...] = ()

    @property
    def path(self) -> str:
        return f"sql/{self.file}"


# In the order the DBA runs them. A schema change after the first deployment is a new script
# here (with the columns or tables it adds), never an edit of one already run.
REQUIRED_SCRIPTS: tuple[RequiredScript, ...] = (
    RequiredScript(
        0,
        "000_schema_version.sql",
        f"the table {VERSION_TABLE}, where every script records that it ran",
        tables=(VERSION_TABLE,),
    ),
    RequiredScript(
        1,
        "001_orders_unified_columns.sql",
        f"{SOURCE_TABLE}.{RECORD_UUID} (the identity of an order line) and {RECORD_HASH}",
        columns=((SOURCE_TABLE, RECORD_UUID), (SOURCE_TABLE, RECORD_HASH)),
    ),
    RequiredScript(
        2,
        "002_sync_tables.sql",
        "the app's tables: batches, staged rows and size lines, sync state, customer locks",
        tables=(BATCH_TABLE, STAGING_TABLE, SUBITEM_TABLE, SYNC_STATE_TABLE, LOCK_TABLE),
    ),
    RequiredScript(
        3,
        "003_operator_role.sql",
        "the role orders_sync_operator, with exactly the rights the app uses",
    ),
    RequiredScript(
        4,
        "004_sync_state_tombstone.sql",
        f"{SYNC_STATE_TABLE}.deleted_at and deleted_action: a pushed delete is remembered, "
        "so that an order that comes back takes up its item again",
        columns=((SYNC_STATE_TABLE, "deleted_at"), (SYNC_STATE_TABLE, "deleted_action")),
    ),
    RequiredScript(
        5,
        "005_batch_claim.sql",
        f"{BATCH_TABLE}.claim_run, claim_pid, claim_host, claim_operator, claim_activity and "
        "claim_at: which run holds a batch being pushed or undone, so that another can tell "
        "whether it is still alive",
        columns=(
            (BATCH_TABLE, "claim_run"),
            (BATCH_TABLE, "claim_pid"),
            (BATCH_TABLE, "claim_host"),
            (BATCH_TABLE, "claim_operator"),
            (BATCH_TABLE, "claim_activity"),
            (BATCH_TABLE, "claim_at"),
        ),
    ),
    RequiredScript(
        7,
        "007_record_hash.sql",
        f"{SYNC_STATE_TABLE}.db_hash, the database's row hash at push time, and "
        f"{SOURCE_TABLE}.{RECORD_HASH} as a persisted computed column (SHA2_256) with its "
        "index: detection becomes a join done by the server",
        columns=((SYNC_STATE_TABLE, "db_hash"),),
    ),
)
APP_SCHEMA_VERSION = max(s.number for s in REQUIRED_SCRIPTS)
NOT_RECORDED = f"not recorded in {VERSION_TABLE}"


def _and(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} and {items[-1]}"


def _owners() -> dict[tuple[str, str], RequiredScript]:
    """Which script provides each column the app needs: the one that created its table,
    unless a later script added it."""
    owner: dict[tuple[str, str], RequiredScript] = {}
    for script in REQUIRED_SCRIPTS:
        for table in script.tables:
            for col in app_metadata.tables[table].columns:
                owner.setdefault((table, col.name), script)
        for key in script.columns:
            owner[key] = script
    return owner


@dataclass(slots=True)
class SchemaStatus:
    """What a database has of the app's schema: recorded scripts, and what is missing."""

    applied: dict[int, str]  # script number -> name, as MON_SchemaVersion records them
    source_visible: bool  # ORDERS_UNIFIED exists (and this login can see it)
    # By script number: the tables it creates that are not there; the columns it adds to a
    # table that does not have them (running the script adds them) ...
    missing_tables: dict[int, list[str]] = field(default_factory=dict)
    missing_columns: dict[int, dict[str, list[str]]] = field(default_factory=dict)
    # ... and the columns missing from a table it created: that table was made by an earlier
    # version of the script, or changed by hand. Running the script again does not alter an
    # existing table, so the message says what to do instead.
    stale_columns: dict[int, dict[str, list[str]]] = field(default_factory=dict)

    def reasons(self, script: RequiredScript) -> list[str]:
        """Why the app thinks `script` has not run; empty when it has."""
        out = []
        tables = self.missing_tables.get(script.number, [])
        if tables:
            out.append(f"no {_and(tables)} table{'s' if len(tables) > 1 else ''}")
        for table, cols in self.missing_columns.get(script.number, {}).items():
            out.append(f"{table} has no {_and(cols)} column{'s' if len(cols) > 1 else ''}")
        if not out and script.number not in self.applied:
            out.append(NOT_RECORDED)
        return out

    @property
    def missing(self) -> list[RequiredScript]:
        return [s for s in REQUIRED_SCRIPTS if self.reasons(s)]

    def problem(self) -> str | None:
        """One message for the operator (to pass on to the DBA); None when all is there."""
        newer = _newer_message(self.applied)
        if newer:
            return newer
        if not self.source_visible:
            return (
                f"this database has no {SOURCE_TABLE} table that this login can see: check the "
                "database name, and that the DBA ran the scripts in sql/ and added you to the "
                "role orders_sync_operator (see sql/README.md)"
            )
        parts = []
        missing = self.missing
        if missing:
            named = [f"{s.path} ({'; '.join(self.reasons(s))})" for s in missing]
            them = "them, in this order" if len(missing) > 1 else "it"
            parts.append(f"the database lacks {_and(named)}: ask the DBA to run {them}")
        for script in REQUIRED_SCRIPTS:
            for table, cols in self.stale_columns.get(script.number, {}).items():
                parts.append(
                    f"{table} has no {_and(cols)} column{'s' if len(cols) > 1 else ''}, which "
                    f"{script.path} defines: the table was made by an earlier version of that "
                    "script or changed by hand, and running the script again does not change "
                    "an existing table; ask the DBA to add what is missing as the script "
                    "defines it (see sql/README.md)"
                )
        return "; and ".join(parts) or None


def _newer_message(applied: dict[int, str]) -> str | None:
    newer = {n: name for n, name in applied.items() if n > APP_SCHEMA_VERSION}
    if not newer:
        return None
    number = max(newer)
    return (
        f"this database was upgraded by a newer orders-sync (script {number}, {newer[number]}); "
        f"update the app (this one knows scripts up to {APP_SCHEMA_VERSION})"
    )


def _read_versions(conn: Connection) -> dict[int, str]:
    v = schema_versions.c
    rows = conn.execute(select(v.script_number, v.script_name)).all()
    return {int(number): str(name) for number, name in rows}


@contextmanager
def _connection(bind: Engine | Connection) -> Iterator[Connection]:
    if isinstance(bind, Connection):
        yield bind
    else:
        with bind.connect() as conn:
            yield conn


def inspect_schema(bind: Engine | Connection) -> SchemaStatus:
    """Read-only, on any dialect: one inspector pass (the table names, then the columns of
    the tables the app needs, in one call) and one small query of MON_SchemaVersion."""
    with _connection(bind) as conn:
        # SQL Server compares names case-insensitively (the usual collation); the others not.
        mssql = conn.dialect.name == "mssql"

        def fold(name: str) -> str:
            return name.casefold() if mssql else name

        inspector = inspect(conn)
        present = {fold(name): name for name in inspector.get_table_names()}
        needed = [fold(t) for t in (SOURCE_TABLE, *app_metadata.tables)]
        wanted = [present[t] for t in needed if t in present]
        columns: dict[str, set[str]] = {}
        if wanted:
            for (_schema, name), cols in inspector.get_multi_columns(filter_names=wanted).items():
                columns[fold(name)] = {fold(c["name"]) for c in cols}

        applied: dict[int, str] = {}
        version_cols = columns.get(fold(VERSION_TABLE))
        if version_cols is not None and {fold(c.name) for c in schema_versions.c} <= version_cols:
            applied = _read_versions(conn)

    status = SchemaStatus(applied=applied, source_visible=fold(SOURCE_TABLE) in columns)
    for script in REQUIRED_SCRIPTS:
        gone = [t for t in script.tables if fold(t) not in columns]
        if gone:
            status.missing_tables[script.number] = gone
    for (table, col), script in _owners().items():
        have = columns.get(fold(table))
        if have is None and table in app_metadata.tables and table not in script.tables:
            # A later script's column on an app table an earlier script has yet to create:
            # named as missing (running the scripts in order adds it), not just unrecorded.
            have = set()
        if have is not None and fold(col) not in have:
            found = status.stale_columns if table in script.tables else status.missing_columns
            found.setdefault(script.number, {}).setdefault(table, []).append(col)
    return status


def check_schema(bind: Engine | Connection) -> dict[int, str]:
    """Raise StoreSchemaError naming the scripts the DBA must run; else the recorded ones."""
    status = inspect_schema(bind)
    problem = status.problem()
    if problem:
        raise StoreSchemaError(problem)
    return status.applied


def upgrade_tables(engine: Engine) -> list[str]:
    """SQLite and PostgreSQL: what the DBA's later scripts do on SQL Server, for a database
    an earlier app made (the demo database of a previous version). create_all makes missing
    tables only; a nullable column that a later script adds (its ALTER TABLE) is added here,
    before its version is recorded. A column missing from a table its own script made
    cannot be added safely: StoreSchemaError says which, as on SQL Server. A database a
    newer app upgraded is left alone (record_versions refuses it). Returns "table.column"
    of what it added."""
    with engine.connect() as conn:
        status = inspect_schema(conn)
    if _newer_message(status.applied):
        return []
    for number, tables in status.stale_columns.items():
        for table, cols in tables.items():
            script = next(s for s in REQUIRED_SCRIPTS if s.number == number)
            raise StoreSchemaError(
                f"{table} has no {_and(cols)} column{'s' if len(cols) > 1 else ''}, which "
                f"{script.path} defines: this database was made by an earlier version of "
                "orders-sync or changed by hand; make a new demo database (demo-init --force) "
                "or add the column as the script defines it"
            )
    todo = [
        (table, name)
        for tables in status.missing_columns.values()
        for table, cols in tables.items()
        if table in app_metadata.tables  # ORDERS_UNIFIED is not the app's to change
        for name in cols
    ]
    if not todo:
        return []
    quote = engine.dialect.identifier_preparer.quote
    try:
        with engine.begin() as conn:
            for table, name in todo:
                column = app_metadata.tables[table].c[name]
                assert column.nullable, f"{table}.{name}: a later script adds NULL columns"
                spec = CreateColumn(column).compile(dialect=engine.dialect)
                conn.execute(text(f"ALTER TABLE {quote(table)} ADD {spec}"))
    except DBAPIError:
        # Another process opening the same database added them first: fine if they are there.
        with engine.connect() as conn:
            again = inspect_schema(conn)
        if any(t in app_metadata.tables for ts in again.missing_columns.values() for t in ts):
            raise
        return []
    return [f"{table}.{name}" for table, name in todo]


def _app_user() -> str:
    try:
        user = getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, as in some containers
        user = "unknown"
    return f"orders-sync (create_all) as {user}"[:128]


def record_versions(engine: Engine, *, now: datetime | None = None) -> dict[int, str]:
    """After create_all (SQLite, PostgreSQL): record every script the app's tables stand for,
    as the DBA's scripts do on SQL Server. Refuses a database that a newer app upgraded."""
    try:
        with engine.begin() as conn:
            applied = _read_versions(conn)
            newer = _newer_message(applied)
            if newer:
                raise StoreSchemaError(newer)
            todo = [s for s in REQUIRED_SCRIPTS if s.number not in applied]
            if todo:
                stamp = now or datetime.now().replace(microsecond=0)
                by = _app_user()
                conn.execute(
                    insert(schema_versions),
                    [
                        {
                            "script_number": s.number,
                            "script_name": s.file,
                            "applied_at": stamp,
                            "applied_by": by,
                        }
                        for s in todo
                    ],
                )
                applied |= {s.number: s.file for s in todo}
    except IntegrityError:
        # Another process opening the same database recorded them first.
        with engine.connect() as conn:
            return _read_versions(conn)
    return applied


class Store:
    def __init__(self, url: str | URL, *, create: bool = True, new_file: bool = False) -> None:
        """Open a database; a SQLite file must exist unless `new_file` allows creating it."""
        path = sqlite_path(url)
        if path is not None and not path.exists():
            if not new_file:
                raise StoreSchemaError(
                    f"there is no SQLite database at {path}: check the path, or create a demo "
                    f"database there with `orders-sync --db {describe_url(url)} demo-init`"
                )
            path.parent.mkdir(parents=True, exist_ok=True)
        self.url = url
        self.engine: Engine = make_engine(url)
        self._source: SourceInfo | None = None
        self._schema_ok = False
        self.applied_scripts: dict[int, str] = {}  # number -> file, as MON_SchemaVersion has them
        if create:
            self.ensure_schema()

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def describe(self) -> str:
        return describe_url(self.url)

    def ensure_schema(self) -> None:
        """Once per Store. SQL Server: check, read-only, that the DBA ran every script in sql/
        (StoreSchemaError names the ones still to run). SQLite and PostgreSQL: create the app's
        tables and record the schema versions they stand for."""
        if self._schema_ok:
            return
        if self.dialect == "mssql":
            self.applied_scripts = check_schema(self.engine)
        else:
            app_metadata.create_all(self.engine)
            upgrade_tables(self.engine)
            self.applied_scripts = record_versions(self.engine)
        self._schema_ok = True

    def has_source(self) -> bool:
        return inspect(self.engine).has_table(SOURCE_TABLE)

    def source(self, *, refresh: bool = False) -> SourceInfo:
        if self._source is None or refresh:
            self._source = reflect_source(self.engine)
        return self._source

    def dispose(self) -> None:
        self.engine.dispose()
