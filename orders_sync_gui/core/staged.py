"""A staged row and size, what the sync state said before its batch, and the rules that
decide what a push does with each: create an item, take one up again, or work on the one
it has. Pure data and rules: the store loads and saves these, services plan and run them.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from .models import ChangeType, Record, RowStatus

# What became of a deleted record's item (MON_SyncState.deleted_action).
DELETED_STATUS = "status"  # a status label marks it; the item stays on the board
DELETED_ARCHIVE = "archive"  # archived
DELETED_GONE = "gone"  # no longer on the board: deleted on monday.com (or, found when the
# record came back, archived) by hand

# Rows and sizes a push (re)sends: not yet sent, or refused last time.
RETRYABLE = (RowStatus.PENDING, RowStatus.FAILED)


@dataclass(slots=True)
class StateRow:
    """One record's sync state: what was last pushed, and where it lives on monday.com."""

    record: Record
    monday_item_id: str | None = None
    subitem_ids: dict[str, str] = field(default_factory=dict)
    last_batch_id: int | None = None
    synced_at: datetime | None = None
    # A tombstone: when the record's delete was pushed, and what became of its item
    # ("status": labelled, still on the board; "archive": archived; "gone": off the board
    # by someone's hand).
    deleted_at: datetime | None = None
    deleted_action: str | None = None

    @property
    def tombstone(self) -> bool:
        return self.deleted_at is not None

    @property
    def kept_item_id(self) -> str | None:
        """The item a returning record can take up again: one its delete left on the board
        (a status label). An archived item cannot be restored through the API (monday.com
        v2 has archive_item and delete_item, no unarchive), a deleted one is gone."""
        if self.tombstone and self.deleted_action == DELETED_STATUS:
            return self.monday_item_id
        return None


@dataclass(slots=True)
class StagedRow:
    stg_id: int
    record_uuid: str
    source_hash: str | None
    change_type: ChangeType
    status: RowStatus
    item_id: str | None
    retry_count: int
    order_number: str | None
    customer: str
    values: dict[str, Any] | None  # {"fields", "sizes"} to push; None for DELETED
    previous: StateRow | None  # sync state before the batch; None for NEW
    diff: dict[str, Any] | None
    error: str | None
    updated_at: datetime | None = None  # when its status last changed (SENDING: when sent)

    @property
    def who(self) -> str:
        """How the log names the order."""
        return self.order_number or self.record_uuid

    @property
    def kept_item_id(self) -> str | None:
        """A NEW row of a record whose delete was pushed and that came back: the item the
        delete left on the board (labelled), which the push takes up again instead of
        creating a second one. None: the push creates the item."""
        if self.change_type is ChangeType.NEW and self.previous is not None:
            return self.previous.kept_item_id
        return None

    @property
    def recreates(self) -> bool:
        """A CHANGED row whose item turned out gone from the board (deleted, or archived, by
        hand): its push creates the item anew, with every size. Its staged previous state,
        not a tombstone, says so: deleted_action "gone"."""
        prev = self.previous
        return (
            self.change_type is ChangeType.CHANGED
            and prev is not None
            and not prev.tombstone
            and prev.deleted_action == DELETED_GONE
        )

    @property
    def creates_item(self) -> bool:
        """A row whose push creates its item: a NEW one (not one taking up the item it had),
        or a CHANGED one whose item turned out gone from the board."""
        if self.change_type is ChangeType.NEW:
            return not self.kept_item_id
        return self.recreates

    @property
    def keeps_item(self) -> bool:
        """A row whose push works on an item that was there before it (a change, or a
        returning record taking up its item): its subitems are undone one by one. A created
        item is undone whole."""
        return (self.change_type is ChangeType.CHANGED and not self.recreates) or bool(
            self.kept_item_id
        )


@dataclass(slots=True)
class StagedSubitem:
    stg_subitem_id: int
    stg_parent_id: int
    record_uuid: str
    size: str
    qty: int | None
    previous_qty: int | None
    change_type: ChangeType
    status: RowStatus
    subitem_id: str | None
    retry_count: int
    error: str | None
    updated_at: datetime | None = None

    def created_under(self, parent: StagedRow) -> bool:
        """A subitem the push creates: a new size, or any size of an item the push creates
        (a returning record's sizes were staged against its kept item, which may be gone)."""
        return self.change_type is ChangeType.NEW or parent.creates_item


def existing_item(row: StagedRow) -> str | None:
    """The item already on the board that a row still to send would change (None: it
    creates one, or is done)."""
    if row.status not in RETRYABLE:
        return None
    if row.kept_item_id:
        return row.kept_item_id
    if row.creates_item or row.previous is None:
        return None
    return row.previous.monday_item_id


def complete(row: StagedRow, subs: Iterable[StagedSubitem]) -> bool:
    """A row that is on the board as staged: its item and every one of its sizes pushed."""
    return row.status is RowStatus.PUSHED and all(s.status is RowStatus.PUSHED for s in subs)


def subitem_ids_after(row: StagedRow, subs: Iterable[StagedSubitem]) -> dict[str, str]:
    """The row's {size: subitem id} once its push is complete. A created item starts with
    no subitems (a returning record's old ones stay with its old item, archived or gone)."""
    reused = row.previous is not None and not row.creates_item
    ids = dict(row.previous.subitem_ids) if reused and row.previous else {}
    for sub in subs:
        if sub.change_type is ChangeType.DELETED:
            ids.pop(sub.size, None)
        elif sub.subitem_id:
            ids[sub.size] = sub.subitem_id
    return ids


@dataclass(frozen=True, slots=True)
class StatusChange:
    """A staged row's or size's new status, as a run recorded it: what a window shows in
    place without reading the database again."""

    kind: str  # "row" or "subitem"
    ident: int  # stg_id or stg_subitem_id
    status: str  # a RowStatus value
    monday_id: str | None
    error: str | None
    retry_count: int

    @staticmethod
    def of_row(row: StagedRow) -> StatusChange:
        return StatusChange(
            "row", row.stg_id, row.status.value, row.item_id, row.error, row.retry_count
        )

    @staticmethod
    def of_subitem(sub: StagedSubitem) -> StatusChange:
        return StatusChange(
            "subitem",
            sub.stg_subitem_id,
            sub.status.value,
            sub.subitem_id,
            sub.error,
            sub.retry_count,
        )
