"""Plain dataclasses shared by detection, staging and the faces."""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum


class ChangeType(StrEnum):
    NEW = "NEW"
    CHANGED = "CHANGED"
    UNCHANGED = "UNCHANGED"
    DELETED = "DELETED"
    # An adoption batch's rows (services/adopt.py): an item the earlier scripts made, given
    # its order's record_uuid; and an order left out because several items (or several
    # orders) share its match values, held out of staging until the operator chooses.
    ADOPTED = "ADOPTED"
    HELD = "HELD"


STAGEABLE = (ChangeType.NEW, ChangeType.CHANGED, ChangeType.DELETED)
# What detection can say of a row (CustomerCounts has a count of each).
DETECTED = (ChangeType.NEW, ChangeType.CHANGED, ChangeType.UNCHANGED, ChangeType.DELETED)


class BatchStatus(StrEnum):
    STAGED = "STAGED"
    PUSHING = "PUSHING"
    PUSHED = "PUSHED"
    PARTIAL = "PARTIAL"
    ROLLED_BACK = "ROLLED_BACK"
    UNDONE = "UNDONE"


# A batch in one of these holds its customer's lock: no second batch until it ends.
OPEN_BATCH_STATUSES = (BatchStatus.STAGED, BatchStatus.PUSHING, BatchStatus.PARTIAL)


@dataclass(frozen=True, slots=True)
class RowError:
    """A source row that cannot be synced, and why, in words an operator can act on."""

    record_uuid: str | None
    order_number: str | None
    field: str
    message: str

    def __str__(self) -> str:
        return f"order {self.order_number or '(no number)'}: [{self.field}] {self.message}"


@dataclass(frozen=True, slots=True)
class Record:
    """One order line as it would be pushed: canonical field texts and non-zero sizes."""

    record_uuid: str
    customer: str
    fields: dict[str, str | None]
    sizes: dict[str, int]
    hash: str
    # The database's own hash of the row as read (store/dbhash.py), where it computes one:
    # kept in the sync state at push time so that the next detection can let the server
    # compare. Not part of the record's identity.
    db_hash: str | None = field(default=None, compare=False)


@dataclass(frozen=True, slots=True)
class FieldDiff:
    field: str
    old: str | None
    new: str | None


@dataclass(frozen=True, slots=True)
class SizeDiff:
    size: str
    old: int | None  # None: the size is new to this order
    new: int | None  # None: the size was removed


@dataclass(slots=True)
class RowChange:
    record_uuid: str
    change_type: ChangeType
    customer: str
    new: Record | None  # None for DELETED
    old: Record | None  # None for NEW
    field_diffs: list[FieldDiff] = field(default_factory=list)
    size_diffs: list[SizeDiff] = field(default_factory=list)

    @property
    def current(self) -> Record:
        rec = self.new or self.old
        assert rec is not None
        return rec

    def value(self, name: str) -> str | None:
        return self.current.fields.get(name)


@dataclass(slots=True)
class CustomerCounts:
    customer: str
    new: int = 0
    changed: int = 0
    deleted: int = 0
    unchanged: int = 0
    invalid: int = 0

    def add(self, change_type: ChangeType, n: int = 1) -> None:
        name = change_type.value.lower()
        setattr(self, name, getattr(self, name) + n)


class RowStatus(StrEnum):
    """A staged row's (or subitem's) state on its way to monday.com."""

    PENDING = "PENDING"
    SENDING = "SENDING"  # in a request whose answer is not recorded: outcome unknown
    PUSHED = "PUSHED"
    FAILED = "FAILED"  # monday refused it (its message kept); offered again on the next push
    UNDONE = "UNDONE"  # its change was reverted on monday.com by an undo
