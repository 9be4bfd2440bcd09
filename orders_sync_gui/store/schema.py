"""Table definitions. The names are the ones operators' DBAs already know.

`sql/` holds the same tables as SQL Server DDL; a test compares the two. The order table
itself is built from the column catalogue only for the demo database: a real
ORDERS_UNIFIED is reflected (see source.py).
"""

from __future__ import annotations

import uuid

from sqlalchemy import (
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    Numeric,
    SmallInteger,
    String,
    Table,
    Unicode,
    UnicodeText,
    UniqueConstraint,
)
from sqlalchemy.dialects import mssql
from sqlalchemy.types import TypeEngine

from ..core.columns import DEMO_COLUMNS, RECORD_HASH, RECORD_UUID, TOTAL_QTY, Kind
from ..core.columns import Column as SourceColumn
from ..core.customers import MAX_CUSTOMER_NAME
from .uuid_type import FastUuid

SOURCE_TABLE = "ORDERS_UNIFIED"
BATCH_TABLE = "MON_BatchProcessing"
STAGING_TABLE = "STG_MON_CustMasterSchedule"
SUBITEM_TABLE = "STG_MON_CustMasterSchedule_Subitems"
SYNC_STATE_TABLE = "MON_SyncState"
LOCK_TABLE = "MON_CustomerLock"
VERSION_TABLE = "MON_SchemaVersion"

# DATETIME2 on SQL Server (DATETIME would round milliseconds); plain elsewhere.
Timestamp = DateTime().with_variant(mssql.DATETIME2(), "mssql")
# UNIQUEIDENTIFIER on SQL Server, UUID on PostgreSQL, CHAR(32) on SQLite; strings in Python.
UuidText = FastUuid()
# NVARCHAR(max) on SQL Server (not the deprecated NTEXT); TEXT elsewhere.
LongText = UnicodeText().with_variant(mssql.NVARCHAR(), "mssql")
Json = LongText  # JSON documents as text: every dialect has it


def _source_type(col: SourceColumn) -> TypeEngine:
    if col.kind is Kind.TEXT:
        return Unicode(col.length) if col.length else LongText
    if col.kind is Kind.DATETIME:
        return Timestamp
    if col.kind is Kind.DECIMAL:
        p, s = col.precision or (18, 4)
        return Numeric(p, s, asdecimal=True)
    return SmallInteger() if col.name == TOTAL_QTY else Integer()


def build_source_table(
    metadata: MetaData, columns: tuple[SourceColumn, ...] = DEMO_COLUMNS
) -> Table:
    """The demo ORDERS_UNIFIED: record_uuid first, the catalogue's columns in order."""
    return Table(
        SOURCE_TABLE,
        metadata,
        # Not a key: production adds the column with ALTER TABLE, and the sync must cope
        # with the duplicates a bad load can bring (they fail alone, named).
        Column(RECORD_UUID, UuidText, nullable=False, default=lambda: str(uuid.uuid4())),
        *(Column(c.name, _source_type(c), nullable=True) for c in columns),
        Column(RECORD_HASH, String(64), nullable=True),
        Index("IX_ORDERS_UNIFIED_record_uuid", RECORD_UUID),
        Index("IX_ORDERS_UNIFIED_customer", "CUSTOMER NAME"),
    )


app_metadata = MetaData()

batches = Table(
    BATCH_TABLE,
    app_metadata,
    Column("batch_id", Integer, primary_key=True, autoincrement=True),
    Column("customer", Unicode(MAX_CUSTOMER_NAME), nullable=False),
    Column("status", String(20), nullable=False),
    Column("operator", Unicode(100), nullable=False),
    Column("created_at", Timestamp, nullable=False),
    Column("updated_at", Timestamp, nullable=False),
    Column("change_types", String(40), nullable=False),
    Column("filter_po", Unicode(50)),
    Column("filter_limit", Integer),
    Column("item_count", Integer, nullable=False, default=0),
    Column("subitem_count", Integer, nullable=False, default=0),
    Column("new_count", Integer, nullable=False, default=0),
    Column("changed_count", Integer, nullable=False, default=0),
    Column("deleted_count", Integer, nullable=False, default=0),
    Column("excluded_count", Integer, nullable=False, default=0),
    Column("invalid_count", Integer, nullable=False, default=0),
    Column("succeeded_count", Integer, nullable=False, default=0),
    Column("failed_count", Integer, nullable=False, default=0),
    Column("message", LongText),
    # sql/005: the claim of the push or undo run working on the batch (status PUSHING):
    # its random id, its process and computer, who started it, "push" or "undo", and when
    # it claimed the batch (its heartbeat is updated_at). A second run takes the batch over
    # when that process is known to be gone, or once the run has been silent past the
    # lease. NULL in all: no run holds the batch (or one of an app before 005 does, whose
    # claim is only text in message). message keeps a human account of the claim.
    Column("claim_run", String(32)),
    Column("claim_pid", Integer),
    Column("claim_host", Unicode(255)),
    Column("claim_operator", Unicode(100)),
    Column("claim_activity", String(10)),
    Column("claim_at", Timestamp),
    Index("IX_MON_BatchProcessing_customer", "customer", "created_at"),
)

staged_rows = Table(
    STAGING_TABLE,
    app_metadata,
    Column("stg_id", Integer, primary_key=True, autoincrement=True),
    Column("stg_batch_id", Integer, ForeignKey(f"{BATCH_TABLE}.batch_id"), nullable=False),
    Column("source_uuid", UuidText, nullable=False),
    Column("source_hash", String(64)),  # NULL for DELETED: the source row is gone
    Column("change_type", String(10), nullable=False),
    Column("customer", Unicode(MAX_CUSTOMER_NAME), nullable=False),
    Column("order_number", Unicode(50)),
    Column("po_number", Unicode(50)),
    Column("style", Unicode(50)),
    Column("colour", Unicode(100)),
    Column("order_qty", Integer),
    Column("stg_values", Json),  # the record to push: {"fields": {...}, "sizes": {...}}
    Column("stg_previous_values", Json),  # what the board had: the diff's "old", and undo's
    Column("stg_diff", Json),  # [{"field", "old", "new"}] for CHANGED rows
    Column("stg_status", String(20), nullable=False),
    Column("stg_monday_item_id", String(20)),
    Column("stg_error_message", LongText),
    Column("stg_retry_count", Integer, nullable=False, default=0),
    Column("stg_created_at", Timestamp, nullable=False),
    Column("stg_updated_at", Timestamp, nullable=False),
    UniqueConstraint("stg_batch_id", "source_uuid", name="UQ_STG_MON_CMS_batch_uuid"),
    Index("IX_STG_MON_CMS_uuid", "source_uuid"),
)

staged_subitems = Table(
    SUBITEM_TABLE,
    app_metadata,
    Column("stg_subitem_id", Integer, primary_key=True, autoincrement=True),
    Column("stg_batch_id", Integer, ForeignKey(f"{BATCH_TABLE}.batch_id"), nullable=False),
    Column("stg_parent_id", Integer, ForeignKey(f"{STAGING_TABLE}.stg_id"), nullable=False),
    Column("source_uuid", UuidText, nullable=False),
    Column("size_label", Unicode(50), nullable=False),
    Column("order_qty", Integer),  # NULL: the size was removed from the order
    Column("previous_qty", Integer),  # NULL: the size is new to the order
    Column("change_type", String(10), nullable=False),
    Column("stg_status", String(20), nullable=False),
    Column("stg_monday_subitem_id", String(20)),
    Column("stg_error_message", LongText),
    Column("stg_retry_count", Integer, nullable=False, default=0),
    Column("stg_created_at", Timestamp, nullable=False),
    Column("stg_updated_at", Timestamp, nullable=False),
    Index("IX_STG_MON_CMS_Sub_batch", "stg_batch_id", "stg_parent_id"),
)

sync_state = Table(
    SYNC_STATE_TABLE,
    app_metadata,
    Column("record_uuid", UuidText, primary_key=True),
    Column("customer", Unicode(MAX_CUSTOMER_NAME), nullable=False),
    Column("source_hash", String(64), nullable=False),
    Column("pushed_values", Json, nullable=False),
    Column("monday_item_id", String(20)),
    Column("monday_subitem_ids", Json),  # {"size label": "subitem id"}
    Column("last_batch_id", Integer),
    Column("synced_at", Timestamp, nullable=False),
    # sql/004: a tombstone. A pushed delete keeps its row (last_batch_id then names the
    # batch that deleted it), so that the order, if it comes back, reuses its item instead
    # of getting a second one. deleted_action says what became of the item: "status" (still
    # on the board, labelled), "archive" (archived: the API cannot bring it back) or "gone"
    # (taken off the board by hand). NULL in both: a live, synced record.
    Column("deleted_at", Timestamp),
    Column("deleted_action", String(10)),
    # sql/007: the database's own hash of the row (ORDERS_UNIFIED.record_hash, computed by
    # the server) when it was pushed; NULL where the database computes none. Detection
    # lets the server compare it with the row's current one (store/dbhash.py).
    Column("db_hash", LargeBinary(32).with_variant(mssql.VARBINARY(32), "mssql")),
    Index("IX_MON_SyncState_customer", "customer"),
)

customer_locks = Table(
    LOCK_TABLE,
    app_metadata,
    # The primary key is the lock: a second open batch for a customer cannot be inserted.
    Column("customer", Unicode(MAX_CUSTOMER_NAME), primary_key=True),
    Column("batch_id", Integer, nullable=False),
    Column("operator", Unicode(100), nullable=False),
    Column("locked_at", Timestamp, nullable=False),
)

schema_versions = Table(
    VERSION_TABLE,
    app_metadata,
    # One row per sql/ script run (000 creates the table): the DBA's scripts write it on
    # SQL Server, where the app only reads it; on SQLite and PostgreSQL the app writes it
    # after create_all. Not an IDENTITY: the number is the script's own.
    Column("script_number", Integer, primary_key=True, autoincrement=False),
    Column("script_name", Unicode(100), nullable=False),
    Column("applied_at", Timestamp, nullable=False),
    Column("applied_by", Unicode(128), nullable=False),
)
