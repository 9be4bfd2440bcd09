"""Detection's queries for a database that computes its own row hash (store/dbhash.py):
Method 2 as joins of narrow columns done by the server. SQLAlchemy Core only, so that the
mssql dialect compiles them as SQL Server runs them (a test checks)."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, except_, exists, func, not_, or_, select

from ..core.columns import CUSTOMER_NAME, RECORD_HASH, RECORD_UUID
from .schema import sync_state
from .source import SourceInfo


def session_settings(dialect: str) -> list[str]:
    """What the count's transaction sets before its queries (PostgreSQL; SET LOCAL ends
    with the transaction). cursor_tuple_fraction: the travelling rows are read through a
    server-side cursor, which PostgreSQL plans for its first tenth by default (that plan
    took 8 s at a million rows, the plan for every row 1.7 s; source.stream_frames sets it
    too). work_mem: the joins of a million uuids spilled to disk in 16 to 32 batches at
    the default 4 MB. enable_sort: the unchanged rows' join on two columns is estimated at
    one row, so their GROUP BY (some sixty groups) was done by sorting 934,000 rows on
    disk; off, it is hashed (0.4 s less). jit: compiling cost more than it gained. See
    https://www.postgresql.org/docs/current/runtime-config-query.html"""
    if dialect != "postgresql":
        return []
    return [
        "SET LOCAL cursor_tuple_fraction = 1.0",
        "SET LOCAL work_mem = '64MB'",
        "SET LOCAL enable_sort = off",
        "SET LOCAL jit = off",
    ]


# Up to this many rows, a customer's travelling rows are joined to the sync state by
# index lookups (see streamed_join).
STREAMED_JOIN_ROWS = 200_000


def streamed_join(dialect: str, rows: int) -> tuple[list[str], list[str]]:
    """The settings that make PostgreSQL join a customer of `rows` rows to the sync state
    by a lookup per row, and those that undo them (for the rest of the transaction).

    Unsorted, that join hands its first rows over at once, and the server finds the
    others while the app hashes those. The plan PostgreSQL prefers, a hash join, reads the
    whole sync state before its first row (a second at a million records), and its merge
    join took 8 s. Up to about a quarter of the state's size the lookups cost no more in
    all (59,476 rows: 0.6 s against 1.1 s; 236,535: 1.6 s each, at 940,521 records);
    beyond, the hash join's single scan is the cheaper."""
    if dialect != "postgresql" or rows > STREAMED_JOIN_ROWS:
        return [], []
    names = ("enable_hashjoin", "enable_mergejoin")
    return [f"SET LOCAL {n} = off" for n in names], [f"SET LOCAL {n} = DEFAULT" for n in names]


# Up to this many shared uuids go to the server as a list; more, as its own GROUP BY.
LISTED_SHARED = 1000


def _shared(info: SourceInfo) -> Select[Any]:
    uid = info.table.c[RECORD_UUID]
    return select(uid).where(uid.is_not(None)).group_by(uid).having(func.count() > 1)


def _is_shared(info: SourceInfo, shared: Collection[str] | None) -> ColumnElement[bool] | None:
    """Whether a row's record_uuid is shared: against the list the app already read
    (store.source.shared_uuids, nearly always empty), or else against the server's own
    GROUP BY. The list spares the server a grouping of the whole table in every query,
    and the sort of every unchanged row it made PostgreSQL do (a second of a million-row
    count). None: no row's is."""
    uid = info.table.c[RECORD_UUID]
    if shared is None or len(shared) > LISTED_SHARED:
        # NOT EXISTS, not NOT IN, where negated: PostgreSQL runs a NOT IN whose subquery it
        # cannot hash in memory once per row (minutes at a million rows).
        found = _shared(info).subquery()
        return exists().where(found.c[RECORD_UUID] == uid)
    if not shared:
        return None
    return uid.in_(sorted(shared))


def unchanged_by_spelling(info: SourceInfo, shared: Collection[str] | None = None) -> Select[Any]:
    """(spelling, customer pushed as, rows) of the rows whose database hash is the one
    their push recorded: unchanged, and never read by the app. A shared record_uuid is
    left out (its rows fail, and are read); `shared`, when given, lists them all."""
    src, st = info.table, sync_state.c
    same = and_(
        st.record_uuid == src.c[RECORD_UUID],
        st.deleted_at.is_(None),
        st.db_hash == src.c[RECORD_HASH],
    )
    name = src.c[CUSTOMER_NAME]
    stmt = select(name, st.customer, func.count()).select_from(src.join(sync_state, same))
    is_shared = _is_shared(info, shared)
    if is_shared is not None:
        stmt = stmt.where(~is_shared)
    return stmt.group_by(name, st.customer)


def deleted_by_customer(info: SourceInfo) -> Select[Any]:
    """(customer, rows) of the synced records whose record_uuid the source no longer has."""
    st = sync_state.c
    gone = ~exists().where(info.table.c[RECORD_UUID] == st.record_uuid)
    return (
        select(st.customer, func.count()).where(st.deleted_at.is_(None), gone).group_by(st.customer)
    )


def travelling(
    info: SourceInfo,
    columns: Sequence[ColumnElement[Any]],
    moved: Sequence[str | None],
    state_label: str,
    shared: Collection[str] | None = None,
) -> Select[Any]:
    """The rows the app must read and hash: the columns, and the hash their push recorded
    (NULL for a new row). Every row unchanged_by_spelling (with the same `shared`) did not
    count."""
    src, st = info.table, sync_state.c
    uid, name = src.c[RECORD_UUID], src.c[CUSTOMER_NAME]
    joined = src.outerjoin(sync_state, and_(st.record_uuid == uid, st.deleted_at.is_(None)))
    spellings = [m for m in moved if isinstance(m, str)]
    changed = [
        st.db_hash.is_(None),
        src.c[RECORD_HASH].is_(None),
        st.db_hash != src.c[RECORD_HASH],
    ]
    is_shared = _is_shared(info, shared)
    if is_shared is not None:
        changed.append(is_shared)
    if None in moved or any(not isinstance(m, str) for m in moved):
        changed.append(name.is_(None))
    if spellings:
        changed.append(name.in_(spellings))
    return (
        select(*columns, st.source_hash.label(state_label)).select_from(joined).where(or_(*changed))
    )


def customer_rows(info: SourceInfo, spellings: Sequence[str]) -> Select[Any]:
    """How many rows some customer spellings have (an index-only count): those that
    customer_travelling does not read are the unchanged ones. Counting them by a join of
    their own cost a second scan of the customer's rows and the sync state (1.7 s of a
    preview of 237,000 orders at a million)."""
    return select(func.count()).where(info.table.c[CUSTOMER_NAME].in_(list(spellings)))


def customer_travelling(
    info: SourceInfo,
    columns: Sequence[ColumnElement[Any]],
    customer: str,
    spellings: Sequence[str],
    state_label: str,
) -> Select[Any]:
    """The rows of one customer's spellings whose database hash is not the one their push
    recorded under that customer, with the hash their push recorded (NULL for a new row).
    The others are unchanged, but those whose uuid is shared (customer_shared_unchanged).
    In no particular order: the server hands rows over as its join finds them, while the
    app hashes the ones before (sorted by order number, it finished the whole join first:
    2 s of a preview of 59,000 new orders at a million); the caller sorts what it shows."""
    stmt, moved = _customer_rows_with_state(info, columns, customer, spellings, state_label)
    return stmt.where(moved)


def customer_shared_unchanged(
    info: SourceInfo,
    columns: Sequence[ColumnElement[Any]],
    customer: str,
    spellings: Sequence[str],
    state_label: str,
    shared: Collection[str],
) -> Select[Any] | None:
    """The rows customer_travelling leaves out whose uuid is shared (a bad load): those
    fail, so they are read too. None where no uuid is shared. Apart, so that the shared
    uuids (a grouping of the whole table: 0.4 s at a million rows) are found while the
    customer's other rows are read."""
    is_shared = _is_shared(info, shared)
    if is_shared is None:
        return None
    stmt, moved = _customer_rows_with_state(info, columns, customer, spellings, state_label)
    return stmt.where(not_(moved), is_shared)  # moved is never NULL: see below


def _customer_rows_with_state(
    info: SourceInfo,
    columns: Sequence[ColumnElement[Any]],
    customer: str,
    spellings: Sequence[str],
    state_label: str,
) -> tuple[Select[Any], ColumnElement[bool]]:
    src, st = info.table, sync_state.c
    uid = src.c[RECORD_UUID]
    joined = src.outerjoin(sync_state, and_(st.record_uuid == uid, st.deleted_at.is_(None)))
    # Never NULL: where neither hash is NULL the comparisons are not (a joined state row's
    # customer is NOT NULL), so NOT of this is exactly the rows it leaves out.
    moved = or_(
        st.db_hash.is_(None),
        src.c[RECORD_HASH].is_(None),
        st.db_hash != src.c[RECORD_HASH],
        st.customer != customer,
    )
    stmt = (
        select(*columns, st.source_hash.label(state_label))
        .select_from(joined)
        .where(src.c[CUSTOMER_NAME].in_(list(spellings)))
    )
    return stmt, moved


def customer_vanished(info: SourceInfo, customer: str, spellings: Sequence[str]) -> Any:
    """The record_uuids of a customer's synced records that no row of its spellings holds
    now: DELETED, or moved to another customer (the caller asks the source which). EXCEPT,
    not NOT EXISTS: PostgreSQL planned the anti-join as a scan of the customer's rows per
    synced record on a freshly loaded table (minutes); a set difference is two scans."""
    src, st = info.table, sync_state.c
    synced = select(st.record_uuid).where(st.customer == customer, st.deleted_at.is_(None))
    held = select(src.c[RECORD_UUID]).where(src.c[CUSTOMER_NAME].in_(list(spellings)))
    return except_(synced, held)
