"""`orders-sync doctor`: is everything in place for a push? One check per thing that can be
wrong, each pass / warn / fail (or skip, when what it needs failed first), with one line of
detail and one line of fix. The original design's validate_setup, check_customers,
inspect_schemas and validate_staging_data scripts, in one place, for both faces.

The checks run in order; each catches its own exceptions (a failed check, never a
traceback). A database that cannot be reached skips the checks that read it; a token that
is refused skips the board's. The token never appears in what is reported.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field, replace
from functools import partial
from pathlib import Path
from typing import Any

from requests.adapters import HTTPAdapter
from sqlalchemy.engine import URL, make_url

from ..core.columns import CUSTOMER_NAME, ORDER_NUMBER, Kind
from ..core.customers import CustomerMap
from ..core.mapping import BoardMapping
from ..core.models import BatchStatus, ChangeType, RowStatus
from ..core.records import SourceSpec, hash_frame
from ..core.staged import RETRYABLE
from ..monday.board import Board, fetch_board, mapping_problems, missing_labels
from ..monday.client import (
    MondayClient,
    MondayError,
    MondayRequestError,
    MondayStopError,
    served_version,
)
from ..monday.probe import whoami
from ..monday.versions import CURRENT_ALIAS, WARNING_KINDS
from ..paths import config_dir
from ..secrets import SecretStoreError
from ..settings import (
    CUSTOMER_MAP_FILE,
    MAPPING_FILE,
    SettingsError,
    load_customer_map,
    load_mapping,
    load_settings,
)
from ..store import dbhash
from ..store.database import (
    APP_SCHEMA_VERSION,
    SchemaStatus,
    Store,
    StoreSchemaError,
    inspect_schema,
)
from ..store.engine import describe_url
from ..store.pushing import load_rows
from ..store.schema import SOURCE_TABLE
from ..store.source import customer_spellings, identity_health, read_rows
from ..store.staging import get_batch, open_batches
from .capacity import board_capacity
from .checks import FAIL, PASS, SKIP, WARN, Check, CheckRunner, Outcome, Skipped, listed
from .connection import ConnectionTestError, test_database
from .context import open_store, resolve_db_url
from .live_test import run_live_test
from .monday_setup import TOKEN_ENV, MondaySetup, MondaySetupError, setup_for_mapping

TOKEN_FIX = (
    "save a valid API token in Settings (kept in the OS keyring), or set "
    f"{TOKEN_ENV} for a scheduled run; monday.com shows a personal token under your "
    "avatar > Developers > My access tokens"
)
DB_FIX = (
    "check the database in Settings (or --db URL, or ORDERS_SYNC_DB_URL): the server name, "
    "the network or VPN, the login; Settings > Test connection says more"
)
# numbers and date columns take only some kinds of source column; the others take any.
_COMPATIBLE = {"numbers": {Kind.INT, Kind.DECIMAL}, "date": {Kind.DATETIME}}
_UNUSUAL = {"numbers": {Kind.TEXT}, "date": {Kind.TEXT}}  # works if every value parses
_UNPUSHED = (*RETRYABLE, RowStatus.SENDING)


@dataclass(slots=True)
class DoctorReport:
    checks: list[Check]
    transcript: Path | None = None

    @property
    def ok(self) -> bool:
        return all(c.status != FAIL for c in self.checks)

    def to_dict(self) -> dict[str, Any]:
        return {"checks": [c.to_dict() for c in self.checks], "ok": self.ok}


@dataclass(slots=True)
class _Source:
    """ORDERS_UNIFIED as detection reads it: each row's hash and canonical fields."""

    hashes: dict[str, str | None]  # record_uuid -> hash (None: the row is invalid)
    fields: dict[str, list[str | None]]


@dataclass(slots=True)
class _Doctor:
    db: str | URL | None
    setup: MondaySetup | None = None
    adapter: HTTPAdapter | None = None
    runner: CheckRunner = field(default_factory=CheckRunner)
    mapping: BoardMapping | None = None
    customers: CustomerMap | None = None
    store: Store | None = None
    schema: SchemaStatus | None = None
    has_source: bool = False
    source: _Source | None = None
    source_problem: str | None = None
    client: MondayClient | None = None
    board: Board | None = None

    # ------------------------------------------------------------------ prerequisites
    def _need_store(self, source: bool = True) -> Store:
        if self.store is None:
            raise Skipped("the database could not be opened (see the database check)")
        if source and not self.has_source:
            raise Skipped(f"there is no {SOURCE_TABLE} to read (see the database check)")
        return self.store

    def _need_mapping(self) -> BoardMapping:
        if self.mapping is None:
            raise Skipped("the board mapping could not be read (see the settings check)")
        return self.mapping

    def _need_client(self) -> tuple[MondayClient, MondaySetup]:
        if self.client is None or self.setup is None:
            raise Skipped("the token was not accepted (see the monday token check)")
        return self.client, self.setup

    def _need_board(self) -> Board:
        if self.board is None:
            raise Skipped("the board could not be read (see the board check)")
        return self.board

    # ------------------------------------------------------------------ local files
    def settings_files(self) -> Outcome:
        problems = []
        try:
            self.mapping = load_mapping()
        except SettingsError as exc:
            problems.append(str(exc))
        try:
            self.customers = load_customer_map()
        except SettingsError as exc:
            problems.append(str(exc))
        try:
            load_settings()
        except SettingsError as exc:
            problems.append(str(exc))
        if problems:
            return (
                FAIL,
                "; ".join(problems),
                f"correct the file named (your copies in {config_dir()} win over the "
                "bundled ones; delete a copy to use the bundled file)",
            )
        assert self.mapping is not None
        where = [
            f"{name} ({'your copy' if (config_dir() / name).is_file() else 'bundled'})"
            for name in (MAPPING_FILE, CUSTOMER_MAP_FILE)
        ]
        return PASS, f"{len(self.mapping.columns)} mapped columns; read {' and '.join(where)}", ""

    # ------------------------------------------------------------------ the database
    def database(self) -> Outcome:
        url, embedded = resolve_db_url(self.db)
        where = describe_url(url)
        if not embedded:
            try:
                test_database(url)
            except ConnectionTestError as exc:
                return FAIL, str(exc), DB_FIX
        mssql = make_url(url).get_backend_name() == "mssql"
        self.store = open_store(url, embedded=embedded, create=False)
        if not mssql:  # the app makes its own tables here, as every command does
            with suppress(StoreSchemaError):  # the schema check says what is wrong
                self.store.ensure_schema()
        self.has_source = self.store.has_source()
        if not self.has_source:
            return (
                FAIL,
                f"connected to {where}, but it has no {SOURCE_TABLE} table this login can see",
                "check the database name; on SQL Server the DBA's scripts in sql/ and the "
                "role orders_sync_operator (sql/README.md); for a demo, `orders-sync "
                "demo-init`",
            )
        return PASS, f"connected to {where}", ""

    def schema_version(self) -> Outcome:
        store = self._need_store(source=False)
        self.schema = status = inspect_schema(store.engine)
        problem = status.problem()
        if problem:
            if max(status.applied, default=-1) > APP_SCHEMA_VERSION:
                return FAIL, problem, "update orders-sync to the version that upgraded it"
            if store.dialect == "mssql":
                return FAIL, problem, "send this line to the DBA: the scripts are in sql/"
            return FAIL, problem, "a new demo database (`orders-sync demo-init --force`)"
        newest = max(status.applied, default=-1)
        return PASS, f"sql/ scripts 000 to {newest:03d} recorded in MON_SchemaVersion", ""

    def record_uuid(self) -> Outcome:
        store = self._need_store()
        health = identity_health(store.engine)
        if not health.has_uuid:
            return (
                FAIL,
                f"{SOURCE_TABLE} has no record_uuid column",
                "ask the DBA to run sql/001_orders_unified_columns.sql",
            )
        problems = []
        if health.null_uuids:
            problems.append(f"{health.null_uuids:,} rows have no record_uuid")
        if health.shared_uuids:
            shared = listed([f"{u} ({n} rows)" for u, n in health.examples])
            problems.append(
                f"{health.shared_uuids:,} record_uuids are shared by several rows: {shared}"
            )
        if not health.has_hash:
            problems.append(f"{SOURCE_TABLE} has no record_hash column")
        if problems:
            return (
                FAIL,
                "; ".join(problems),
                "every row needs a record_uuid of its own (sql/001 adds the column with "
                "DEFAULT NEWID(); a load that copies rows must not copy it); such rows are "
                "not synced: `orders-sync detect` lists them",
            )
        return PASS, f"{health.rows:,} rows, each with a record_uuid of its own", ""

    def mapped_columns(self) -> Outcome:
        store, mapping = self._need_store(), self._need_mapping()
        info = store.source()
        missing, wrong, unusual = [], [], []
        for mapped in mapping.columns:
            kind = info.kinds.get(mapped.source)
            wanted = mapped.column.type
            if kind is None:
                missing.append(f"[{mapped.source}] (for {mapped.column.column_id})")
            elif kind in _UNUSUAL.get(wanted, set()):
                unusual.append(f"[{mapped.source}] is text, its column {wanted}")
            elif wanted in _COMPATIBLE and kind not in _COMPATIBLE[wanted]:
                wrong.append(f"[{mapped.source}] is {kind.value}, its column {wanted}")
        for name in mapping.template_fields():
            if name not in info.kinds:
                missing.append(f"[{name}] (in the item name template)")
        fix = (
            f"correct the source column names in {MAPPING_FILE} (a copy in {config_dir()} "
            f"wins), or ask the DBA about {SOURCE_TABLE}"
        )
        if missing or wrong:
            parts = [f"not in {SOURCE_TABLE}: {', '.join(missing)}"] if missing else []
            parts += [f"incompatible: {', '.join(wrong)}"] if wrong else []
            return FAIL, "; ".join(parts), fix
        if unusual:
            return WARN, f"{'; '.join(unusual)}: every value must parse", fix
        return (
            PASS,
            f"all {len(mapping.columns)} mapped columns are in {SOURCE_TABLE} with compatible "
            f"types; {len(info.sizes)} size columns",
            "",
        )

    def row_hash(self) -> Outcome:
        """Whether detection can let the database compare row hashes (store/dbhash.py)."""
        store, mapping = self._need_store(), self._need_mapping()
        if store.dialect == "sqlite":
            return PASS, "SQLite: detection reads and hashes the rows in chunks", ""
        with store.engine.connect() as conn:
            found = dbhash.status(conn, store.source(), mapping)
        if found.ready:
            return PASS, f"{found.reason}: unchanged rows are counted on the server", ""
        fix = (
            f"ask the DBA to run {dbhash.SCRIPT}"
            if store.dialect == "mssql"
            else "make the demo database again (`orders-sync demo-init --force`)"
        )
        return WARN, f"{found.reason}; detection reads and hashes every row (slower)", fix

    def _read_source(self) -> _Source:
        if self.source is not None:
            return self.source
        if self.source_problem is not None:
            raise Skipped(self.source_problem)
        store, mapping = self._need_store(), self._need_mapping()
        assert self.customers is not None
        try:
            info = store.source()
            columns = [ORDER_NUMBER, CUSTOMER_NAME, *mapping.sources, *info.sizes]
            with store.engine.connect() as conn:
                frame = read_rows(conn, info, list(dict.fromkeys(columns)))
            spec = SourceSpec(mapping.sources, info.kinds, info.sizes, self.customers)
            hashed = hash_frame(frame, spec, with_sizes=False)
        except Exception as exc:
            self.source_problem = f"{SOURCE_TABLE} could not be read as mapped: {exc}"
            raise Skipped(self.source_problem) from None
        hashes = {u: h for u, h in zip(hashed.uuids, hashed.hashes, strict=True) if u}
        self.source = _Source(hashes, hashed.fields)
        return self.source

    def _spellings(self) -> list[str]:
        store = self._need_store()
        if self.customers is None:
            raise Skipped("the customer map could not be read (see the settings check)")
        with store.engine.connect() as conn:
            return sorted(customer_spellings(conn, store.source()))

    def customer_spellings(self) -> Outcome:
        spellings = self._spellings()
        assert self.customers is not None
        by_customer: dict[str, list[str]] = {}
        for name in spellings:
            customer = self.customers.canonical(name)
            if customer:
                by_customer.setdefault(customer, []).append(name)
        several = [
            f"{c} ({' / '.join(repr(s) for s in names)})"
            for c, names in sorted(by_customer.items())
            if len(names) > 1
        ]
        detail = f"{len(spellings)} spellings make {len(by_customer)} customers"
        if several:
            detail += f"; several spellings fold into one: {listed(several, 4)}"
        return PASS, detail, ""

    def unmapped_customers(self) -> Outcome:
        spellings = self._spellings()
        assert self.customers is not None
        unmapped = [s for s in spellings if not self.customers.is_mapped(s)]
        if not unmapped:
            return PASS, "every customer spelling is in the customer map", ""
        return (
            WARN,
            f"{len(unmapped)} of {len(spellings)} spellings match no customer in the customer "
            f"map, each is a customer of its own: {listed([repr(s) for s in unmapped], 6)}",
            f'where one is another spelling of a known customer, add it under "aliases" in '
            f"{CUSTOMER_MAP_FILE} (a copy in {config_dir()} wins)",
        )

    # ------------------------------------------------------------------ monday.com
    def token(self) -> Outcome:
        try:
            setup = self.setup or setup_for_mapping(self.mapping)
        except (MondaySetupError, SecretStoreError) as exc:
            return FAIL, str(exc), TOKEN_FIX
        self.runner.hide(setup.token)
        # A doctor answers in seconds: a few tries, not a push's patience.
        setup = replace(
            setup,
            max_attempts=min(setup.max_attempts, 3),
            max_wait_seconds=min(setup.max_wait_seconds, 20.0),
            timeout_seconds=min(setup.timeout_seconds, 20.0),
        )
        client = setup.client()
        try:
            me = whoami(client)
        except MondayStopError as exc:
            client.close()
            return FAIL, f"{setup.url}: {exc}", TOKEN_FIX
        except MondayError as exc:
            client.close()
            return (
                FAIL,
                f"{setup.url}: {exc}",
                "check the monday.com URL in Settings (or ORDERS_SYNC_MONDAY_URL), the "
                "network, and whether a proxy intercepts HTTPS",
            )
        self.setup, self.client = setup, client
        return PASS, f"{setup.url} accepts the token (user {me.name})", ""

    def api_version(self) -> Outcome:
        client, setup = self._need_client()
        pinned = setup.api_version
        try:
            served = served_version(client)
        except MondayRequestError:
            return (
                WARN,
                f"the server did not say which API version it served (asked for {pinned})",
                "none for the local sandbox; elsewhere, check that the monday.com URL in "
                "Settings is monday's API (https://api.monday.com/v2)",
            )
        fix = (
            'pin a current version under "monday": {"api_version": ...} in settings.json '
            "once it is tested (see the changelog on developer.monday.com)"
        )
        if served.kind in WARNING_KINDS:
            return WARN, f"asked for {pinned}, served {served.value} ({served.kind})", fix
        if served.value != pinned and pinned != CURRENT_ALIAS:
            return (
                WARN,
                f"asked for {pinned}, served {served.value} ({served.kind}): the pinned "
                "version is no longer served",
                fix,
            )
        return PASS, f"{served.value} ({served.kind})", ""

    def board_exists(self) -> Outcome:
        client, setup = self._need_client()
        if not setup.board_id:
            return (
                FAIL,
                "no board id",
                "enter the board's id (the number in its URL) in Settings, or set "
                "ORDERS_SYNC_BOARD_ID, or board_id in the board mapping",
            )
        try:
            board = fetch_board(client, setup.board_id)
        except MondayRequestError as exc:
            return FAIL, str(exc), "check the board id, and that the token's user sees it"
        self.board = board
        if board.subitems_board_id is None:
            return (
                FAIL,
                f"board {board.board_id} has no subitems column (so no subitems board)",
                "add a Subitems column to the board: the sizes go there",
            )
        if not board.subitem_columns:
            return (
                FAIL,
                f"the subitems board {board.subitems_board_id} cannot be read",
                "check that the token's user can see the board's subitems",
            )
        return (
            PASS,
            f"board {board.board_id} '{board.name}' ({len(board.columns)} columns), subitems "
            f"board {board.subitems_board_id} ({len(board.subitem_columns)} columns)",
            "",
        )

    def board_mapping(self) -> Outcome:
        board, mapping = self._need_board(), self._need_mapping()
        problems = mapping_problems(board, mapping)
        if problems:
            return (
                FAIL,
                "; ".join(problems),
                f"add or retype the columns on the board, or correct {MAPPING_FILE}",
            )
        return PASS, f"the board has all {len(mapping.columns)} mapped columns, typed alike", ""

    def board_labels(self) -> Outcome:
        board, mapping = self._need_board(), self._need_mapping()
        labelled = [m for m in mapping.columns if m.column.type in ("status", "dropdown")]
        try:
            values = self._read_source().fields
            note = ""
        except Skipped as skipped:
            values, note = {}, f" (source values not read: {skipped.detail})"
        missing = missing_labels(board, mapping, values)
        unlisted = [m.column.column_id for m in labelled if m.column.column_id not in board.labels]
        if unlisted:
            note += f"; the board does not list the labels of {', '.join(unlisted)}"
        if missing:
            named = [f"{column} needs {listed(labels, 4)}" for column, labels in missing.items()]
            return (
                WARN,
                f"labels not on the board yet: {'; '.join(named)}{note}",
                "a push creates them (it asks monday.com to create missing labels); add them "
                "on the board first to choose their colours, or where the board does not let "
                "the token's user create labels",
            )
        return (
            PASS,
            f"every value of the {len(labelled)} status and dropdown columns is a label{note}",
            "",
        )

    def capacity(self) -> Outcome:
        client, setup = self._need_client()
        board = self._need_board()
        default = setup.limits.max_items_per_board
        room = board_capacity(client, board, 0, 0, default)
        parts, status = [], PASS
        for what, free, limit in (
            ("board", room.items_free, room.items_limit),
            ("subitems board", room.subitems_free, room.subitems_limit),
        ):
            if free is None or not limit:
                continue
            share = free / limit
            parts.append(f"{what} {free:,} of {limit:,} items free ({share:.0%})")
            if free <= 0:
                status = FAIL
            elif share < 0.10 and status == PASS:
                status = WARN
        fix = (
            "archive or delete old orders on the board (a push that cannot fit is refused "
            "before anything is sent); if the plan allows more, raise max_items_per_board "
            'under "monday": {"limits": {...}} in settings.json'
        )
        return status, "; ".join(parts), fix if status != PASS else ""

    # ------------------------------------------------------------------ batches
    def _open(self) -> list[Any]:
        store = self._need_store(source=False)
        if self.schema is not None and self.schema.missing_tables:
            raise Skipped("the app's tables are missing (see the schema check)")
        with store.engine.connect() as conn:
            return [get_batch(conn, b) for b in sorted(open_batches(conn).values())]

    def open_batches(self) -> Outcome:
        batches = self._open()
        if not batches:
            return PASS, "no open batch", ""
        named = [
            f"batch {b.batch_id} ({b.customer}, {b.status}, {b.item_count} rows, "
            f"{b.operator} {b.created_at:%Y-%m-%d %H:%M})"
            for b in batches
        ]
        stuck = [b for b in batches if b.status != BatchStatus.STAGED]
        if not stuck:
            return PASS, f"{len(batches)} staged, to push: {listed(named)}", ""
        first = stuck[0].batch_id
        return (
            WARN,
            f"{len(stuck)} being pushed or interrupted: {listed(named)}",
            f"push it again to resume and retry (`orders-sync push --batch {first}`), or "
            f"undo it (`orders-sync rollback --batch {first}`)",
        )

    def staged_rows(self) -> Outcome:
        batches = self._open()
        if not batches:
            return PASS, "no open batch", ""
        hashes = self._read_source().hashes
        store = self._need_store()
        found, checked = [], 0
        with store.engine.connect() as conn:
            for batch in batches:
                rows = [r for r in load_rows(conn, batch.batch_id) if r.status in _UNPUSHED]
                checked += len(rows)
                drift = _drift(rows, hashes)
                if drift:
                    found.append((batch, drift))
        if not found:
            return PASS, f"the {checked} unpushed rows of {len(batches)} open batches match", ""
        parts = [f"batch {b.batch_id} ({b.customer}): {'; '.join(d)}" for b, d in found]
        first = found[0][0].batch_id
        return (
            WARN,
            "the source changed since staging: " + " | ".join(parts),
            "a push sends the rows as they were staged; to push the source as it is now, "
            f"roll the batch back (`orders-sync rollback --batch {first}`) and stage again",
        )


def _drift(rows: list[Any], hashes: dict[str, str | None]) -> list[str]:
    """What changed in the source since these staged rows were staged, in words."""
    changed, vanished, back = [], [], []
    for row in rows:
        present = row.record_uuid in hashes
        if row.change_type is ChangeType.DELETED:
            if present:
                back.append(row.who)
        elif not present:
            vanished.append(row.who)
        elif hashes[row.record_uuid] != row.source_hash:
            changed.append(row.who)
    out = []
    if changed:
        out.append(f"{len(changed)} rows changed (orders {listed(changed)})")
    if vanished:
        out.append(f"{len(vanished)} rows vanished (orders {listed(vanished)})")
    if back:
        out.append(f"{len(back)} deleted rows came back (orders {listed(back)})")
    return out


CHECKS: tuple[tuple[str, Callable[[_Doctor], Outcome]], ...] = (
    ("settings files", _Doctor.settings_files),
    ("database", _Doctor.database),
    ("schema version", _Doctor.schema_version),
    ("record_uuid", _Doctor.record_uuid),
    ("mapped columns", _Doctor.mapped_columns),
    ("row hash", _Doctor.row_hash),
    ("customer spellings", _Doctor.customer_spellings),
    ("unmapped customers", _Doctor.unmapped_customers),
    ("monday token", _Doctor.token),
    ("API version", _Doctor.api_version),
    ("board", _Doctor.board_exists),
    ("board mapping", _Doctor.board_mapping),
    ("board labels", _Doctor.board_labels),
    ("board capacity", _Doctor.capacity),
    ("open batches", _Doctor.open_batches),
    ("staged rows", _Doctor.staged_rows),
)


def doctor(
    db: str | URL | None = None,
    *,
    live_test: bool = False,
    setup: MondaySetup | None = None,
    adapter: HTTPAdapter | None = None,
) -> DoctorReport:
    """Run every check (and, with `live_test`, the live test's steps after them).

    `setup` replaces the monday.com settings (tests, the window's session); `adapter`
    carries the live test's HTTP (a replayed transcript)."""
    run = _Doctor(db, setup=setup, adapter=adapter)
    try:
        for name, check in CHECKS:
            run.runner.run(name, partial(check, run))
        transcript = None
        if live_test:
            transcript = _live(run)
        return DoctorReport(run.runner.checks, transcript)
    finally:
        if run.client is not None:
            run.client.close()
        if run.store is not None:
            run.store.dispose()


def _live(run: _Doctor) -> Path | None:
    blockers = [c.name for c in run.runner.checks if c.status == FAIL and c.name in _LIVE_NEEDS]
    if blockers or run.setup is None or run.mapping is None:
        run.runner.add(
            "live test",
            SKIP,
            f"not run: {', '.join(blockers) or 'monday token'} did not pass",
            "fix those first",
        )
        return None
    return run_live_test(run.mapping, run.setup, run.runner, adapter=run.adapter)


_LIVE_NEEDS = {"settings files", "monday token", "board", "board mapping"}
