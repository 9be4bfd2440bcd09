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

from sqlalchemy import ColumnElement, Select, String, case, except_, func, literal, select

from ..core.columns import CUSTOMER_NAME, RECORD_UUID
from .schema import sync_state
from .source import SourceInfo


def state_key(info: SourceInfo) -> ColumnElement[Any]:
    """record_uuid as the sync state keeps it on SQLite: 32 lower-case hex digits."""
    return func.lower(func.replace(info.table.c[RECORD_UUID], "-", ""))


def rows_with_state(
    info: SourceInfo,
    columns: Sequence[ColumnElement[Any]],
    spellings: Sequence[str],
    labels: tuple[str, str, str],
) -> Select[Any]:
    """Every row of some customer spellings, in no particular order, with three columns
    named by `labels`: the hash recorded at the push of the synced record its key names
    (NULL: none), the key itself, and whether that key names a tombstone (a record whose
    delete was pushed: a row of it is NEW again, and its preview shows what was deleted).

    Unordered so that SQLite hands the rows over as it finds them (a child process reads
    them while this one hashes: store/sqlite_reader.py); the caller sorts what it shows."""
    state_label, key_label, tomb_label = labels
    src, st = info.table, sync_state.c
    key = state_key(info)
    live = st.deleted_at.is_(None)  # also where no state row joined: 0 below
    return (
        select(
            *columns,
            case((live, st.source_hash), else_=None).label(state_label),
            key.label(key_label),
            case((live, 0), else_=1).label(tomb_label),  # an int: no conversion
        )
        .select_from(src.outerjoin(sync_state, st.record_uuid == key))
        .where(_of_customer(info, spellings))
    )


def _of_customer(info: SourceInfo, spellings: Sequence[str]) -> ColumnElement[bool]:
    # Each spelling a parameter of its own: an expanding IN is rendered at execution
    # time, which the reading child cannot do.
    return info.table.c[CUSTOMER_NAME].in_([literal(s, String()) for s in spellings])


def synced_not_held(info: SourceInfo, customer: str, spellings: Sequence[str]) -> Any:
    """The customer's synced records whose key no row of its spellings holds: a superset
    of those no row holds (the caller drops the uuids its rows were read with)."""
    st = sync_state.c
    synced = select(st.record_uuid).where(st.customer == customer, st.deleted_at.is_(None))
    held = select(state_key(info)).where(info.table.c[CUSTOMER_NAME].in_(list(spellings)))
    return except_(synced, held)
