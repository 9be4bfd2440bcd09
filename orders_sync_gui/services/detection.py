"""Detect and preview: what changed since the last sync, per customer and per field."""

from __future__ import annotations

import copy
import logging
import os
import sys
import threading
from collections import Counter
from collections.abc import Callable, Collection, Generator, Iterator, Mapping, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import closing
from dataclasses import dataclass, field
from datetime import datetime
from functools import partial
from typing import Any, TypeVar

import pandas as pd
from sqlalchemy import Connection, Engine, Select

from ..core.adopt_match import withhold
from ..core.columns import CUSTOMER_NAME, ORDER_NUMBER, PO_NUMBER, RECORD_HASH
from ..core.detect import classify_by_join, count_by_customer
from ..core.mapping import ITEM_VALUES_BYTES
from ..core.models import ChangeType, CustomerCounts, Record, RowChange, RowError
from ..core.records import SourceSpec, hash_frame, records_of
from ..core.staged import StateRow
from ..core.state_index import StateIndex
from ..core.stream_detect import (
    STATE_HASH,
    ChunkedCounter,
    LateDuplicateError,
)
from ..store import customer_state_join, dbhash, server_query, sqlite_reader
from ..store.adopting import held_back
from ..store.prefetch import read_ahead
from ..store.source import (
    CHUNK_ROWS,
    IN_CHUNK,
    SourceInfo,
    count_rows,
    customer_spellings,
    existing_uuids,
    read_rows,
    row_columns,
    shared_uuids,
    source_columns,
    stream_frames,
    unpack,
    uuids_of,
)
from ..store.staging import open_batches
from ..store.syncstate import (
    last_synced,
    load_state_hashes,
    source_hashes,
    state_hash_chunks,
    state_hashes_for,
    state_hashes_of,
    state_rows,
    tombstones_of,
)
from . import parallel_detect
from .context import Context
from .customer_scan import (
    SCAN_ROWS,
    STATE_GONE,
    STATE_KEY,
    CustomerScan,
    scan_customer,
    scan_frames,
)
from .gc_pause import collector_paused

log = logging.getLogger(__name__)
T = TypeVar("T")

NO_CUSTOMER = "(no customer)"


class UnknownCustomerError(LookupError):
    pass


@dataclass(slots=True)
class Preview:
    customer: str
    changes: list[RowChange]  # NEW, CHANGED and DELETED rows, in order-number order
    counts: CustomerCounts
    errors: list[RowError] = field(default_factory=list)
    # Rows pushed with a value cut to what its monday column holds (see core/records.py).
    warnings: list[RowError] = field(default_factory=list)
    # Sync state of the rows; for a NEW row, the tombstone of a record whose delete was
    # pushed and that came back (its push takes up the item the delete left on the board).
    previous: dict[str, StateRow] = field(default_factory=dict)


def _spec(ctx: Context) -> SourceSpec:
    info = ctx.store.source()
    return SourceSpec(
        mapped=ctx.mapping.sources,
        kinds=info.kinds,
        sizes=info.sizes,
        customers=ctx.customers,
        limits=ctx.mapping.limited(),
        item_bytes=ITEM_VALUES_BYTES,
    )


def _columns(ctx: Context) -> list[str]:
    info = ctx.store.source()
    return list(dict.fromkeys([ORDER_NUMBER, CUSTOMER_NAME, *ctx.mapping.sources, *info.sizes]))


@dataclass(slots=True)
class CustomerRow:
    """One line of the customer list: counts, last sync and the open batch, if any."""

    counts: CustomerCounts
    last_sync: datetime | None
    open_batch: int | None


@dataclass(frozen=True, slots=True)
class OverviewProgress:
    """The customer list as counted so far (see DetectProgress)."""

    rows_done: int
    rows_total: int
    rows: list[CustomerRow]


def customer_overview(
    ctx: Context,
    customer: str | None = None,
    *,
    progress: Callable[[OverviewProgress], None] | None = None,
    chunk_rows: int = CHUNK_ROWS,
) -> tuple[list[CustomerRow], list[RowError]]:
    """The customer list's lines: every customer's, or one customer's (after its push).
    `progress` hears of the lines as counted so far, chunk by chunk (it may raise to stop)."""
    with ctx.store.engine.connect() as conn:
        synced = last_synced(conn)
        locks = open_batches(conn)

    def lines(counts: list[CustomerCounts]) -> list[CustomerRow]:
        return [CustomerRow(c, synced.get(c.customer), locks.get(c.customer)) for c in counts]

    hook: Progress | None = None
    if progress is not None:
        report = progress

        def hook(p: DetectProgress) -> None:
            ordered = sorted(p.counts, key=lambda c: c.customer)
            report(OverviewProgress(p.rows_done, p.rows_total, lines(ordered)))

    counts, errors = detect_counts(ctx, customer, chunk_rows=chunk_rows, progress=hook)
    return lines(counts), errors


def _canonical(ctx: Context, customer: str) -> str:
    """Any spelling the operator types names its canonical customer."""
    name = ctx.customers.canonical(customer)
    if name is None:
        raise UnknownCustomerError("the customer name is empty")
    return name


def list_customers(ctx: Context) -> list[str]:
    with ctx.store.engine.connect() as conn:
        names = customer_spellings(conn, ctx.store.source())
    return sorted({c for n in names if (c := ctx.customers.canonical(n))})


def _spellings(ctx: Context, customer: str) -> list[str]:
    with ctx.store.engine.connect() as conn:
        spellings = ctx.customers.spellings_of(
            customer, customer_spellings(conn, ctx.store.source())
        )
    return spellings


@dataclass(frozen=True, slots=True)
class DetectProgress:
    """Where a whole-table count stands: rows hashed of the table's, and the counts so far
    (final only at the end: a customer's later rows, and its DELETED ones, come after)."""

    rows_done: int
    rows_total: int
    counts: list[CustomerCounts]


Progress = Callable[[DetectProgress], None]


def detect_counts(
    ctx: Context,
    customer: str | None = None,
    *,
    chunk_rows: int = CHUNK_ROWS,
    progress: Progress | None = None,
) -> tuple[list[CustomerCounts], list[RowError]]:
    """Method 2 (hash comparison): NEW / CHANGED / DELETED / UNCHANGED counts per customer.

    Every customer's: the table is read in chunks of `chunk_rows` and each is hashed and
    counted before the next is read (`progress` hears of each; it may raise to cancel).
    One customer's: its rows only, at once."""
    if customer is None:
        counts, errors = _count_all(ctx, chunk_rows, progress)
        return sorted(counts.values(), key=lambda c: c.customer), errors
    customer = _canonical(ctx, customer)
    spec = _spec(ctx)
    spellings = _spellings(ctx, customer) if customer else None
    with ctx.store.engine.connect() as conn:
        frame = read_rows(conn, ctx.store.source(), _columns(ctx), spellings=spellings)
        state = load_state_hashes(conn)
        hashed = hash_frame(frame, spec, with_sizes=False)
        withhold(hashed, held_back(conn, customer))  # orders an adoption holds back
        source = [
            (u, c, h)
            for u, c, h in zip(hashed.uuids, hashed.customers, hashed.hashes, strict=True)
            if h is not None and u is not None and c is not None
        ]
        invalid_uuids = {e.record_uuid for e in hashed.errors if e.record_uuid}
        if customer:
            # Rows of this customer's state that its rows no longer hold: DELETED only when
            # the source has them nowhere (else they moved to another customer's spelling).
            present = {u for u, _, _ in source} | invalid_uuids
            candidates = [u for u, c, _ in state if c == customer and u not in present]
            elsewhere = existing_uuids(conn, ctx.store.source(), candidates)
            state = [
                s for s in state if s[0] in present or (s[1] == customer and s[0] not in elsewhere)
            ]
    # A row that fails validation is neither new nor deleted: keep its state out of the count.
    state = [s for s in state if s[0] not in invalid_uuids]
    counts = count_by_customer(source, state)
    # Invalid rows (hash None) count under their customer, so the operator sees them.
    for i in (i for i, h in enumerate(hashed.hashes) if h is None):
        name = hashed.customers[i] or NO_CUSTOMER
        counts.setdefault(name, CustomerCounts(name)).invalid += 1
    if customer:
        if not spellings and customer not in counts:
            raise UnknownCustomerError(f"no customer {customer!r} in the source or sync state")
        return [counts.get(customer, CustomerCounts(customer))], hashed.errors
    return sorted(counts.values(), key=lambda c: c.customer), hashed.errors


def customer_records(ctx: Context, customer: str) -> tuple[list[Record], list[RowError]]:
    """Every valid row of a customer as a Record, and the errors of the others: the orders
    as the source has them, whatever the sync state says (adoption matches them)."""
    customer = _canonical(ctx, customer)
    spellings = _spellings(ctx, customer)
    if not spellings:
        raise UnknownCustomerError(f"no customer {customer!r} in the source")
    spec = _spec(ctx)
    with ctx.store.engine.connect() as conn:
        frame = read_rows(conn, ctx.store.source(), _columns(ctx), spellings=spellings)
    hashed = hash_frame(frame, spec)
    return records_of(hashed, spec), hashed.errors


def _copies(counts: dict[str, CustomerCounts]) -> list[CustomerCounts]:
    """Snapshots: the counter goes on changing its own in the worker's thread."""
    return [copy.copy(c) for c in counts.values()]


def _count_all(
    ctx: Context, chunk_rows: int, progress: Progress | None
) -> tuple[dict[str, CustomerCounts], list[RowError]]:
    spec = _spec(ctx)
    info = ctx.store.source()
    with ctx.store.engine.connect() as conn:
        shared = shared_uuids(conn, info)
        total = count_rows(conn, info) if progress else 0
        ready = dbhash.status(conn, ctx.store.source(), ctx.mapping)
        if not ready.ready:
            log.debug("detection reads every row: %s", ready.reason)
        count = _server_count if ready.ready else _stream_count
        for _ in range(3):  # a uuid shared under two spellings: named, then counted again
            try:
                return count(ctx, conn, spec, shared, chunk_rows, total, progress)
            except LateDuplicateError as exc:
                log.info("%s: counting again with them set aside", exc)
                shared |= exc.uuids
    raise RuntimeError("record_uuids kept turning up shared across chunks")


def _stream_count(
    ctx: Context,
    conn: Connection,
    spec: SourceSpec,
    shared: set[str],
    chunk_rows: int,
    total: int,
    progress: Progress | None,
) -> tuple[dict[str, CustomerCounts], list[RowError]]:
    """The streamed path: every row travels and is hashed here, chunk by chunk."""
    info = ctx.store.source()
    held = held_back(conn)  # orders an adoption holds back
    rows = total or count_rows(conn, info)
    workers = parallel_detect.workers_for(ctx.store.engine, rows)
    source: parallel_detect.WorkerHash | parallel_detect.LocalHash
    if workers > 1:
        # Started before the state's index is built: the workers' start overlaps it.
        source = parallel_detect.WorkerHash(
            conn,
            info,
            _columns(ctx),
            spec,
            workers=workers,
            shared=shared,
            held=held,
            chunk_rows=chunk_rows,
        )
    else:
        offload = rows >= sqlite_reader.OFFLOAD_ROWS
        source = parallel_detect.LocalHash(
            conn, info, _columns(ctx), spec, shared, held, chunk_rows, offload=offload
        )
    # closing: a cancel (progress raising) stops the workers now, not when the traceback
    # that holds this frame is freed.
    with closing(source):
        chunks = source.chunks()
        first = next(chunks, None) if progress is not None else None
        if first is None:
            counter = ChunkedCounter(
                spec, state=StateIndex.build(state_hash_chunks(conn)), shared=shared, held=held
            )
        else:
            # The window shows its first customers now: the first chunk is counted against
            # the state of its own rows, looked up by uuid, before the whole state's index
            # is built (seconds at a million records); its matches carry over to that index.
            assert progress is not None
            found = state_hashes_for(conn, [u for u in first.uuids if u is not None])
            early = StateIndex.build([found])
            counter = ChunkedCounter(spec, state=early, shared=shared, held=held)
            counter.add_hashed(first)
            progress(DetectProgress(counter.rows, total, _copies(counter.counts)))
            counter.state = _carried_over(early, StateIndex.build(state_hash_chunks(conn)))
        for chunk in chunks:
            counter.add_hashed(chunk)
            if progress is not None:
                progress(DetectProgress(counter.rows, total, _copies(counter.counts)))
    return counter.finish()


def _carried_over(early: StateIndex, whole: StateIndex) -> StateIndex:
    """The whole state's index, with the records a row already held in `early` marked."""
    held = whole.lookup(early.uuids[early.matched])
    whole.matched[held[held >= 0]] = True
    return whole


def _server_count(
    ctx: Context,
    conn: Connection,
    spec: SourceSpec,
    shared: set[str],
    chunk_rows: int,
    total: int,
    progress: Progress | None,
) -> tuple[dict[str, CustomerCounts], list[RowError]]:
    """The database compares its own row hash with the one the sync state kept at push
    time: equal means UNCHANGED without the row leaving the server (counted there, per
    spelling); every other row travels and the app's hash decides, as on the streamed
    path. A spelling the customer map now folds elsewhere than its rows were pushed
    under travels too (the app's hash covers the canonical customer)."""
    info = ctx.store.source()
    for setting in server_query.session_settings(conn.dialect.name):
        conn.exec_driver_sql(setting)
    unchanged = conn.execute(server_query.unchanged_by_spelling(info, shared)).all()
    pushed_as: dict[str | None, set[str]] = {}
    for raw, pushed, _ in unchanged:
        pushed_as.setdefault(raw, set()).add(pushed)
    moved = [
        raw
        for raw, pushed in pushed_as.items()
        if not isinstance(raw, str) or pushed != {ctx.customers.canonical(raw)}
    ]
    counter = ChunkedCounter(spec, state=None, shared=shared, held=held_back(conn))
    done = 0
    for raw, pushed, n in unchanged:
        if raw not in moved:
            counter.counts.setdefault(pushed, CustomerCounts(pushed)).unchanged += int(n)
            done += int(n)
    for pushed, n in conn.execute(server_query.deleted_by_customer(info)):
        counter.counts.setdefault(pushed, CustomerCounts(pushed)).deleted += int(n)
    if progress is not None:
        progress(DetectProgress(done, total, _copies(counter.counts)))
    columns = source_columns(info, _columns(ctx), conn.dialect.name)
    stmt = server_query.travelling(info, columns, moved, STATE_HASH, shared)
    # closing: a cancel stops the reading thread before the connection closes under it.
    with closing(read_ahead(stream_frames(conn, stmt, chunk_rows=chunk_rows))) as frames:
        for frame in frames:
            counter.add(frame)
            if progress is not None:
                rows = done + counter.rows
                progress(DetectProgress(rows, total, _copies(counter.counts)))
    return counter.finish()


def preview(
    ctx: Context, customer: str, *, po_number: str | None = None, limit: int | None = None
) -> Preview:
    """Method 1 (outer join on values): every changed row of a customer with its diffs.

    po_number and limit narrow the change set to a pilot batch: one PO, the first N orders.
    """
    with collector_paused():  # a Record per order: see gc_pause.py
        return _preview(ctx, customer, po_number=po_number, limit=limit)


def _preview(ctx: Context, customer: str, *, po_number: str | None, limit: int | None) -> Preview:
    customer = _canonical(ctx, customer)
    spec = _spec(ctx)
    spellings = _spellings(ctx, customer)
    info = ctx.store.source()
    engine = ctx.store.engine
    with engine.connect() as conn, ThreadPoolExecutor(3, "preview", _behind) as pool:
        # The uuids several rows hold (a bad load; a grouping of the whole table), found on
        # a connection of their own while this customer's rows are read.
        shared = pool.submit(_on_own_connection, engine, partial(shared_uuids, info=info))
        columns = _columns(ctx)
        server = dbhash.status(conn, info, ctx.mapping).ready
        if server:
            columns.append(RECORD_HASH)  # staged with the row, kept in the sync state
        theirs = uuids_of(info, spellings)
        early: Future[list[StateRow]] | None = None
        if conn.dialect.name != "sqlite":  # asked by all the customer's uuids: at once
            ask_all = partial(tombstones_of, uuids=theirs)
            early = pool.submit(_on_own_connection, engine, ask_all)
        held = held_back(conn, customer)  # orders an adoption holds back
        read = _CustomerRead(conn, info, columns, spec, customer, spellings, held)
        if server:
            scan, gone = _server_scan(read, pool, shared)
        elif conn.dialect.name == "sqlite":
            scan, gone = _joined_scan(read, pool)
        else:
            # Only this customer's state and that of its rows: not the whole table's.
            hashes = state_hashes_of(conn, customer, theirs)
            scan = scan_customer(
                conn, info, columns, spec, spellings=spellings, state=hashes, held=held
            )
            gone = [u for u, (c, _) in hashes.items() if c == customer and u not in scan.present]
        _fail_shared(read, scan, shared.result())
        records, errors = scan.records, scan.errors
        # Whole state rows only where Method 1 compares: the rows whose hash moved, and
        # this customer's records that no row holds now (DELETED, or moved elsewhere).
        elsewhere = existing_uuids(conn, info, gone)
        wanted = [*scan.synced, *(u for u in gone if u not in elsewhere)]
        rows = {s.record.record_uuid: s for s in state_rows(conn, wanted)}
        invalid = {e.record_uuid for e in errors}
        previous = {u: s for u, s in rows.items() if u not in invalid}
        state = [s.record for s in previous.values()]
        if not spellings and not state:
            raise UnknownCustomerError(f"no customer {customer!r} in the source or sync state")
        changes = classify_by_join(records, state)
        # Not synced records (Method 2 leaves them out too): a returning one is NEW.
        if early is None:  # SQLite: by the NEW rows' uuids, what it runs fastest
            fresh = [c.record_uuid for c in changes if c.change_type is ChangeType.NEW]
            if scan.buried is not None:  # the join said which rows' records are tombstones
                fresh = [u for u in fresh if u in scan.buried]
        found = early.result() if early is not None else tombstones_of(conn, fresh)
        tombs = {s.record.record_uuid: s for s in found}
    if tombs:
        previous |= {
            c.record_uuid: tombs[c.record_uuid]
            for c in changes
            if c.change_type is ChangeType.NEW and c.record_uuid in tombs
        }
    counts = CustomerCounts(customer, invalid=len(errors), unchanged=scan.unchanged)
    for kind, n in Counter(c.change_type for c in changes).items():
        counts.add(kind, n)
    changed = [c for c in changes if c.change_type is not ChangeType.UNCHANGED]
    changed.sort(key=_by_order_number)  # a scan reads the rows in no particular order
    if po_number is not None:
        changed = [c for c in changed if c.value(PO_NUMBER) == po_number]
    if limit is not None:
        changed = changed[:limit]
    shown = {c.record_uuid for c in changed}
    warnings = sorted((w for w in scan.warnings if w.record_uuid in shown), key=_in_order)
    errors.sort(key=_in_order)  # a scan reads the rows in no particular order
    for warning in warnings:
        log.warning("%s", warning)
    return Preview(
        customer=customer,
        changes=changed,
        counts=counts,
        errors=errors,
        previous=previous,
        warnings=warnings,
    )


def _in_order(error: RowError) -> tuple[str, str]:
    # str(): a bad row's order number is what the source holds, a number as well.
    number = error.order_number
    return ("" if number is None else str(number)), error.record_uuid or ""


def _by_order_number(change: RowChange) -> tuple[str, str]:
    record = change.new or change.old  # RowChange.value, without two calls per change
    assert record is not None
    return record.fields.get(ORDER_NUMBER) or "", change.record_uuid


@dataclass(slots=True)
class _CustomerRead:
    """What a preview's scan of one customer reads with."""

    conn: Connection
    info: SourceInfo
    columns: list[str]
    spec: SourceSpec
    customer: str
    spellings: Sequence[str]
    held: Mapping[str, str]  # orders an adoption holds back

    def scan(
        self,
        stmt: Select[Any],
        sizes: Sequence[str],
        recheck: Callable[[list[str]], Mapping[str, str]] | None = None,
        *,
        offload: bool = False,
        ahead: bool = False,
        then: Callable[[], Select[Any] | None] | None = None,
    ) -> tuple[CustomerScan, int]:
        """The rows a statement selects, each with its state hash (STATE_HASH), scanned
        by chunks; and how many it read. `offload`: read by a child process where it can
        be (store/sqlite_reader.py); `ahead`: the next chunk fetched by a thread while
        this one is hashed (store/prefetch.py); `then`: once those rows are read, the
        statement whose rows are read too (None: none)."""
        read = 0

        def fetched() -> Iterator[pd.DataFrame]:
            yield from stream_frames(self.conn, stmt, chunk_rows=SCAN_ROWS, offload=offload)
            more = then() if then is not None else None
            if more is not None:
                yield from stream_frames(self.conn, more, chunk_rows=SCAN_ROWS)

        def frames() -> Generator[pd.DataFrame, None, None]:
            nonlocal read
            for frame in read_ahead(fetched()) if ahead else fetched():
                read += len(frame)
                yield unpack(self.conn, self.info.table, frame, sizes) if sizes else frame

        with closing(frames()) as chunks:
            scan = scan_frames(chunks, self.spec, state=None, held=self.held, recheck=recheck)
        return scan, read


def _joined_scan(read: _CustomerRead, pool: ThreadPoolExecutor) -> tuple[CustomerScan, list[str]]:
    """The preview's scan on SQLite: every row of the customer, each with the hash its
    record's push recorded, joined by SQLite (store/customer_state_join.py); and the uuids
    of the customer's records that none of its rows holds now."""
    conn, info, spellings = read.conn, read.info, read.spellings
    # Asked on a connection of its own meanwhile (SQLite lets go of the GIL while it
    # works): a superset of the records no row holds.
    not_held = pool.submit(_on_own_connection, conn.engine, partial(_not_held, read=read))
    selected, sizes = row_columns(conn, info, read.columns)
    labels = (STATE_HASH, STATE_KEY, STATE_GONE)
    stmt = customer_state_join.rows_with_state(info, selected, spellings, labels)
    # A large customer's rows are read by a child process while this one hashes them; a
    # small one's are not worth its start. (Two children, each a half of the rows by
    # rowid, were no faster on two cores: the children and this process then share them.)
    rows = int(conn.execute(server_query.customer_rows(info, spellings)).scalar_one())
    offload = rows >= sqlite_reader.OFFLOAD_ROWS
    recheck = partial(source_hashes, conn)
    scan, _ = read.scan(stmt, sizes, recheck=recheck, offload=offload)
    return scan, [u for u in not_held.result() if u not in scan.present]


def _not_held(conn: Connection, read: _CustomerRead) -> list[str]:
    stmt = customer_state_join.synced_not_held(read.info, read.customer, read.spellings)
    return [str(u) for u in conn.execute(stmt).scalars()]


def _server_scan(
    read: _CustomerRead, pool: ThreadPoolExecutor, shared: Future[set[str]]
) -> tuple[CustomerScan, list[str]]:
    """The preview's scan where the database computes its row hash: the rows whose hash is
    still the one their push recorded under this customer are counted by the server and
    never travel; the others are read with the hash their push recorded. Also the uuids
    of the customer's records that none of its rows holds now."""
    # Asked on a connection of its own, at once: the server works out that set difference
    # while it joins the rows read here (0.85 s of a preview of 237,000 orders at a
    # million, now hidden behind the join).
    vanished = pool.submit(_on_own_connection, read.conn.engine, partial(_vanished, read=read))
    return _travelling_scan(read, shared), vanished.result()


def _vanished(conn: Connection, read: _CustomerRead) -> list[str]:
    stmt = server_query.customer_vanished(read.info, read.customer, read.spellings)
    return [str(u) for u in conn.execute(stmt).scalars()]


def _behind() -> None:
    """A preview's side queries yield the cores to the reading of its rows (Linux: a
    thread's own priority); they fill the gaps."""
    if sys.platform == "linux":
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), 10)


def _on_own_connection(engine: Engine, ask: Callable[..., T]) -> T:
    with engine.connect() as conn:
        return ask(conn=conn)


def _fail_shared(read: _CustomerRead, scan: CustomerScan, shared: Collection[str]) -> None:
    """The customer's rows whose record_uuid other rows hold too, maybe another customer's
    (a bad load), fail as the count fails them: each with the message that names every
    order holding it, read and hashed together. The scan saw only this customer's rows,
    so it may have taken such a row for a change, or for unchanged."""
    mine = sorted(u for u in shared if u in scan.present)
    if not mine:
        return
    # IN_CHUNK at a time: SQL Server takes 2,100 parameters a statement. A uuid's rows all
    # come in one of them, in order-number order: its message lists them as the count's.
    parts = [
        read_rows(read.conn, read.info, read.columns, uuids=mine[i : i + IN_CHUNK])
        for i in range(0, len(mine), IN_CHUNK)
    ]
    frame = pd.concat(parts, ignore_index=True) if len(parts) > 1 else parts[0]
    hashed = hash_frame(frame, read.spec, with_sizes=False)
    ours = [c == read.customer for c in hashed.customers]
    # The errors come in row order, one per failing row: those rows have no hash.
    failing = [i for i, h in enumerate(hashed.hashes) if h is None]
    taken = set(mine)
    records = [r for r in scan.records if r.record_uuid not in taken]
    errors = [e for e in scan.errors if e.record_uuid not in taken]
    # Each of the customer's rows read again was a Record, an error or counted unchanged.
    dropped = len(scan.records) - len(records) + len(scan.errors) - len(errors)
    scan.unchanged -= sum(ours) - dropped
    scan.records, scan.errors = records, errors
    scan.synced -= taken
    scan.errors.extend(e for i, e in zip(failing, hashed.errors, strict=True) if ours[i])


def _travelling_scan(read: _CustomerRead, shared: Future[set[str]]) -> CustomerScan:
    conn, info, customer, spellings = read.conn, read.info, read.customer, read.spellings
    for setting in server_query.session_settings(conn.dialect.name):
        conn.exec_driver_sql(setting)  # the count's memory for the join, as in _server_count
    rows = int(conn.execute(server_query.customer_rows(info, spellings)).scalar_one())
    selected, sizes = row_columns(conn, info, read.columns)
    stmt = server_query.customer_travelling(info, selected, customer, spellings, STATE_HASH)

    def then() -> Select[Any] | None:  # once those rows are read
        return server_query.customer_shared_unchanged(
            info, selected, customer, spellings, STATE_HASH, shared.result()
        )

    streamed, undone = server_query.streamed_join(conn.dialect.name, rows)
    for setting in streamed:
        conn.exec_driver_sql(setting)
    scan, travelled = read.scan(stmt, sizes, ahead=True, then=then)
    for setting in undone:
        conn.exec_driver_sql(setting)
    scan.unchanged += max(0, rows - travelled)  # a row added between two reads: not counted
    return scan


def source_records(ctx: Context, customer: str | None = None) -> dict[str, Record]:
    """The valid source rows as they are now (one customer's, or all), by record_uuid:
    what drift shows as the database's value, and what a drift re-push sends."""
    spec = _spec(ctx)
    spellings = _spellings(ctx, _canonical(ctx, customer)) if customer else None
    with ctx.store.engine.connect() as conn:
        frame = read_rows(conn, ctx.store.source(), _columns(ctx), spellings=spellings)
    return {r.record_uuid: r for r in records_of(hash_frame(frame, spec), spec)}
