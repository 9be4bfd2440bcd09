"""One customer's rows joined by SQLite to the hash their record's push recorded, for a
preview on a database that does not compute its own row hash (store/dbhash.py).

Reading the customer's sync state into a dict first cost more than its rows: 2.8 s of a
preview of 237,000 orders at a million, against a lookup per row in SQLite's own B-tree.
The join is on the uuid's 32 hex digits, which the app stores; the text a source keeps
for its record_uuid is brought to that form (lower case, no dashes). Where that is not
the form the app's own reading gives (braces, spaces: a careless load), the row's state is
looked up again by the uuid the app read (see customer_scan.scan_frames), so the join only
ever saves work, never decides.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, except_, func, select

from ..core.columns import CUSTOMER_NAME, ORDER_NUMBER, RECORD_UUID
from .schema import sync_state
from .source import SourceInfo


def state_key(info: SourceInfo) -> ColumnElement[Any]:
    """record_uuid as the sync state keeps it on SQLite: 32 lower-case hex digits."""
    return func.lower(func.replace(info.table.c[RECORD_UUID], "-", ""))


def rows_with_state(
    info: SourceInfo,
    columns: Sequence[ColumnElement[Any]],
    spellings: Sequence[str],
    state_label: str,
    key_label: str,
) -> Select[Any]:
    """Every row of some customer spellings, with the hash recorded at the push of the
    synced record its key names (NULL: none) and the key itself, in order-number order."""
    src, st = info.table, sync_state.c
    key = state_key(info)
    joined = src.outerjoin(sync_state, and_(st.record_uuid == key, st.deleted_at.is_(None)))
    order = [src.c[c] for c in (ORDER_NUMBER,) if c in src.c]
    return (
        select(*columns, st.source_hash.label(state_label), key.label(key_label))
        .select_from(joined)
        .where(src.c[CUSTOMER_NAME].in_(list(spellings)))
        .order_by(*order, src.c[RECORD_UUID])
    )


def synced_not_held(info: SourceInfo, customer: str, spellings: Sequence[str]) -> Any:
    """The customer's synced records whose key no row of its spellings holds: a superset
    of those no row holds (the caller drops the uuids its rows were read with)."""
    st = sync_state.c
    synced = select(st.record_uuid).where(st.customer == customer, st.deleted_at.is_(None))
    held = select(state_key(info)).where(info.table.c[CUSTOMER_NAME].in_(list(spellings)))
    return except_(synced, held)
