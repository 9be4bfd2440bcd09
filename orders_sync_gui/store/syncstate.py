"""The sync state: per record_uuid, what was last pushed to monday.com and where it lives.

A pushed delete leaves a tombstone (deleted_at set): the record is no longer synced, so
detection ignores it (neither DELETED again nor UNCHANGED), but its item and values are
remembered, so that the order, if it comes back, reuses its item (see StateRow.kept_item_id).
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Select, String, delete, func, select, type_coerce

from ..core.models import Record
from ..core.staged import (
    StateRow,
)
from .schema import sync_state
from .source import IN_CHUNK
from .uuid_type import dashed_text


def _record(row) -> Record:  # type: ignore[no-untyped-def]
    values = json.loads(row.pushed_values)
    return Record(
        record_uuid=str(row.record_uuid),
        customer=row.customer,
        fields=values.get("fields", {}),
        sizes={k: int(v) for k, v in values.get("sizes", {}).items()},
        hash=row.source_hash,
        db_hash=bytes(row.db_hash).hex() if row.db_hash is not None else None,
    )


def record_json(record: Record) -> str:
    """The values to push; with the database's hash of the row as read, where it has one
    (a staged row carries it to the sync state at push time)."""
    data: dict[str, object] = {"fields": record.fields, "sizes": record.sizes}
    if record.db_hash is not None:
        data["db_hash"] = record.db_hash
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def state_json(row: StateRow) -> str:
    """A whole state row as JSON: what undo writes back."""
    return json.dumps(
        {
            "fields": row.record.fields,
            "sizes": row.record.sizes,
            "hash": row.record.hash,
            "customer": row.record.customer,
            "monday_item_id": row.monday_item_id,
            "subitem_ids": row.subitem_ids,
            "last_batch_id": row.last_batch_id,
            "synced_at": row.synced_at.isoformat() if row.synced_at else None,
            "deleted_at": row.deleted_at.isoformat() if row.deleted_at else None,
            "deleted_action": row.deleted_action,
        },
        ensure_ascii=False,
        separators=(",", ":"),
    )


def state_from_json(record_uuid: str, text: str) -> StateRow:
    data = json.loads(text)
    record = Record(
        record_uuid,
        data["customer"],
        data["fields"],
        {k: int(v) for k, v in data["sizes"].items()},
        data["hash"],
    )
    synced = data.get("synced_at")
    deleted = data.get("deleted_at")  # absent from what an older app staged: not deleted
    return StateRow(
        record,
        data.get("monday_item_id"),
        data.get("subitem_ids") or {},
        data.get("last_batch_id"),
        datetime.fromisoformat(synced) if synced else None,
        datetime.fromisoformat(deleted) if deleted else None,
        data.get("deleted_action"),
    )


def load_state(
    conn: Connection,
    customer: str | None = None,
    *,
    tombstones: bool = False,
) -> list[StateRow]:
    """The synced records (of one customer); with `tombstones`, the deleted ones too."""
    stmt = select(sync_state)
    if customer is not None:
        stmt = stmt.where(sync_state.c.customer == customer)
    if not tombstones:
        stmt = stmt.where(sync_state.c.deleted_at.is_(None))
    return [_state_row(row) for row in conn.execute(stmt)]


def _state_row(row: Any) -> StateRow:
    return StateRow(
        record=_record(row),
        monday_item_id=row.monday_item_id,
        subitem_ids=json.loads(row.monday_subitem_ids or "{}"),
        last_batch_id=row.last_batch_id,
        synced_at=row.synced_at,
        deleted_at=row.deleted_at,
        deleted_action=row.deleted_action,
    )


def _of_uuids(
    conn: Connection, columns: Sequence[Any], uuids: Iterable[str], *, tombstones: bool = False
) -> Iterator[Any]:
    """The sync state's rows (these columns) of these record_uuids, IN_CHUNK to a query:
    the synced records, or (`tombstones`) the records whose delete was pushed."""
    st = sync_state.c
    kept = st.deleted_at.is_not(None) if tombstones else st.deleted_at.is_(None)
    wanted = sorted(set(uuids))
    for i in range(0, len(wanted), IN_CHUNK):
        part = wanted[i : i + IN_CHUNK]
        yield from conn.execute(select(*columns).where(st.record_uuid.in_(part), kept))


def state_rows(conn: Connection, uuids: Iterable[str]) -> list[StateRow]:
    """The synced records (not tombstones) of these record_uuids."""
    return [_state_row(row) for row in _of_uuids(conn, [sync_state], uuids)]


def tombstones_of(conn: Connection, uuids: Iterable[str] | Select[Any]) -> list[StateRow]:
    """The tombstones (records whose delete was pushed) of these record_uuids: a list,
    IN_CHUNK to a query, or a subquery. SQLite ran a subquery of a customer's rows as a
    scan of the whole sync state (1.5 s at a million records); PostgreSQL hashes it, where
    a long list cost more in binding its parameters (0.8 s for 59,000)."""
    if isinstance(uuids, Select):
        st = sync_state.c
        stmt = select(sync_state).where(st.deleted_at.is_not(None), st.record_uuid.in_(uuids))
        return [_state_row(row) for row in conn.execute(stmt)]
    return [_state_row(row) for row in _of_uuids(conn, [sync_state], uuids, tombstones=True)]


def source_hashes(conn: Connection, uuids: Iterable[str]) -> dict[str, str]:
    """{uuid: hash its push recorded} of the synced records (not tombstones) among these."""
    return {u: h for u, _, h in state_hashes_for(conn, uuids)}


def state_hashes_for(conn: Connection, uuids: Iterable[str]) -> list[tuple[str, str, str]]:
    """load_state_hashes' triples of the synced records among these record_uuids."""
    st = sync_state.c
    columns = [st.record_uuid, st.customer, st.source_hash]
    return [(str(u), c, h) for u, c, h in _of_uuids(conn, columns, uuids)]


def state_hashes_of(
    conn: Connection, customer: str, uuids: Select[Any]
) -> dict[str, tuple[str, str]]:
    """{uuid: (customer, hash)} of one customer's synced records and of those of the
    record_uuids a subquery selects (its rows', whatever customer they were pushed as).

    Two queries, not one with `customer = ? OR record_uuid IN (...)`: PostgreSQL cannot
    make that OR a hashed semi-join, and once the subquery outgrows work_mem it runs it
    once per state row (minutes for a customer of a quarter of a million orders)."""
    st = sync_state.c
    cols = (st.record_uuid, st.customer, st.source_hash)
    live = st.deleted_at.is_(None)
    found: dict[str, tuple[str, str]] = {}
    for stmt in (
        select(*cols).where(live, st.customer == customer),
        select(*cols).where(live, st.record_uuid.in_(uuids), st.customer != customer),
    ):
        found.update((str(u), (c, h)) for u, c, h in conn.execute(stmt))
    return found


def _state_hashes_stmt(dialect: str | None = None) -> Select[Any]:
    # Tombstones are not synced records, exactly as load_state (Method 1) leaves them out.
    st = sync_state.c
    uid = dashed_text(st.record_uuid, dialect).label("record_uuid")
    return select(uid, st.customer, st.source_hash).where(st.deleted_at.is_(None))


def load_state_hashes(conn: Connection) -> list[tuple[str, str, str]]:
    """(uuid, customer, hash) of every synced record: all Method 2 needs."""
    return [(str(u), c, h) for u, c, h in conn.execute(_state_hashes_stmt())]


def state_hash_chunks(
    conn: Connection, chunk_rows: int = 50_000
) -> Iterator[Sequence[tuple[str, str, str]]]:
    """load_state_hashes' triples, `chunk_rows` at a time (a server-side cursor where the
    driver has one): for an index built without the whole list in memory. The uuid comes
    as the database keeps it: SQLite's 32 hex digits undashed (dashing a million of them
    in SQL took a second; core.state_index dashes them in numpy), dashed elsewhere."""
    st = sync_state.c
    dialect = conn.dialect.name
    uid = (
        type_coerce(st.record_uuid, String)
        if dialect == "sqlite"
        else dashed_text(st.record_uuid, dialect)
    )
    stmt = select(uid, st.customer, st.source_hash).where(st.deleted_at.is_(None))
    if dialect == "sqlite":
        # The driver's own cursor: plain tuples, without SQLAlchemy's Row per record (a
        # second of a million). The statement binds no parameter.
        cursor = conn.connection.driver_connection.cursor()  # type: ignore[union-attr]
        try:
            cursor.execute(str(stmt.compile(conn)))
            while part := cursor.fetchmany(chunk_rows):
                yield part
        finally:
            cursor.close()
        return
    streamed = {"stream_results": True, "yield_per": chunk_rows}  # this statement's only
    result = conn.execute(stmt, execution_options=streamed)
    try:
        yield from result.partitions(chunk_rows)  # Rows: tuples of three
    finally:
        result.close()


def save_state(conn: Connection, rows: Iterable[StateRow], *, now: datetime) -> int:
    """Insert or replace state rows (delete + insert: portable across all three dialects)."""
    rows = list(rows)
    uuids = [r.record.record_uuid for r in rows]
    for i in range(0, len(uuids), 1000):
        conn.execute(delete(sync_state).where(sync_state.c.record_uuid.in_(uuids[i : i + 1000])))
    if rows:
        conn.execute(
            sync_state.insert(),
            [
                {
                    "record_uuid": r.record.record_uuid,
                    "customer": r.record.customer,
                    "source_hash": r.record.hash,
                    "pushed_values": record_json(r.record),
                    "monday_item_id": r.monday_item_id,
                    "monday_subitem_ids": json.dumps(r.subitem_ids, ensure_ascii=False),
                    "last_batch_id": r.last_batch_id,
                    "synced_at": r.synced_at or now,
                    "deleted_at": r.deleted_at,
                    "deleted_action": r.deleted_action,
                    "db_hash": bytes.fromhex(r.record.db_hash) if r.record.db_hash else None,
                }
                for r in rows
            ],
        )
    return len(rows)


def forget_state(conn: Connection, uuids: Iterable[str]) -> None:
    wanted = list(uuids)
    for i in range(0, len(wanted), 1000):
        conn.execute(delete(sync_state).where(sync_state.c.record_uuid.in_(wanted[i : i + 1000])))


def last_synced(conn: Connection) -> dict[str, datetime]:
    """{customer: when its rows were last pushed} (a pushed delete counts: tombstones too)."""
    stmt = select(sync_state.c.customer, func.max(sync_state.c.synced_at)).group_by(
        sync_state.c.customer
    )
    return {c: t for c, t in conn.execute(stmt) if t is not None}
