"""Detection's queries for a database that computes its own row hash (store/dbhash.py):
Method 2 as joins of narrow columns done by the server. SQLAlchemy Core only, so that the
mssql dialect compiles them as SQL Server runs them (a test checks)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, exists, func, or_, select

from ..core.columns import CUSTOMER_NAME, RECORD_HASH, RECORD_UUID
from .schema import sync_state
from .source import SourceInfo


def _shared(info: SourceInfo) -> Select[Any]:
    uid = info.table.c[RECORD_UUID]
    return select(uid).where(uid.is_not(None)).group_by(uid).having(func.count() > 1)


def unchanged_by_spelling(info: SourceInfo) -> Select[Any]:
    """(spelling, customer pushed as, rows) of the rows whose database hash is the one
    their push recorded: unchanged, and never read by the app. A shared record_uuid is
    left out (its rows fail, and are read)."""
    src, st = info.table, sync_state.c
    same = and_(
        st.record_uuid == src.c[RECORD_UUID],
        st.deleted_at.is_(None),
        st.db_hash == src.c[RECORD_HASH],
    )
    name = src.c[CUSTOMER_NAME]
    # NOT EXISTS, not NOT IN: PostgreSQL runs a NOT IN whose subquery it cannot hash in
    # memory once per row (minutes at a million rows); NOT EXISTS is an anti-join.
    shared = _shared(info).subquery()
    alone = ~exists().where(shared.c[RECORD_UUID] == src.c[RECORD_UUID])
    return (
        select(name, st.customer, func.count())
        .select_from(src.join(sync_state, same))
        .where(alone)
        .group_by(name, st.customer)
    )


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
) -> Select[Any]:
    """The rows the app must read and hash: the columns, and the hash their push recorded
    (NULL for a new row). Every row unchanged_by_spelling did not count."""
    src, st = info.table, sync_state.c
    uid, name = src.c[RECORD_UUID], src.c[CUSTOMER_NAME]
    joined = src.outerjoin(sync_state, and_(st.record_uuid == uid, st.deleted_at.is_(None)))
    spellings = [m for m in moved if isinstance(m, str)]
    changed = [
        st.db_hash.is_(None),
        src.c[RECORD_HASH].is_(None),
        st.db_hash != src.c[RECORD_HASH],
        uid.in_(_shared(info)),
    ]
    if None in moved or any(not isinstance(m, str) for m in moved):
        changed.append(name.is_(None))
    if spellings:
        changed.append(name.in_(spellings))
    return (
        select(*columns, st.source_hash.label(state_label)).select_from(joined).where(or_(*changed))
    )
