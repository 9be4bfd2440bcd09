"""Service results as the frames the table models show."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

import pandas as pd

from ..core.columns import COLOUR, ORDER_NUMBER, PO_NUMBER, STYLE
from ..core.models import RowChange
from ..core.staged import StatusChange
from ..services.detection import CustomerRow
from ..services.staging import BatchInfo


def when(moment: datetime | None, now: datetime | None = None) -> str:
    """A short, human time: 'today 09:14', 'yesterday 17:02', '2026-11-03'."""
    if moment is None:
        return "never"
    today = (now or datetime.now()).date()
    if moment.date() == today:
        return f"today {moment:%H:%M}"
    if (today - moment.date()).days == 1:
        return f"yesterday {moment:%H:%M}"
    return f"{moment:%Y-%m-%d}"


def customers_frame(rows: list[CustomerRow], batches: dict[int, str]) -> pd.DataFrame:
    return pd.DataFrame(
        [
            {
                "customer": r.counts.customer,
                "new": r.counts.new,
                "changed": r.counts.changed,
                "deleted": r.counts.deleted,
                "unchanged": r.counts.unchanged,
                "invalid": r.counts.invalid,
                "last_sync": when(r.last_sync),
                "open_batch": (
                    f"#{r.open_batch} {batches.get(r.open_batch, '')}".strip()
                    if r.open_batch
                    else ""
                ),
            }
            for r in rows
        ],
        columns=[
            "customer",
            "new",
            "changed",
            "deleted",
            "unchanged",
            "invalid",
            "last_sync",
            "open_batch",
        ],
    )


def _diff_text(change: RowChange, limit: int | None) -> str:
    def cut(v: str | None) -> str:
        text = "∅" if v is None else v
        return text if limit is None or len(text) <= limit else text[: limit - 1] + "…"

    parts = [f"{d.field}: {cut(d.old)} → {cut(d.new)}" for d in change.field_diffs]
    parts += [
        f"size {d.size}: {'–' if d.old is None else d.old} → {'–' if d.new is None else d.new}"
        for d in change.size_diffs
    ]
    return ("\n" if limit is None else "; ").join(parts)


# Changes to what the board already shows come first: fewer, and the ones to read closely.
TYPE_ORDER = {"CHANGED": 0, "DELETED": 1, "NEW": 2}


def changes_frame(changes: list[RowChange], excluded: set[str]) -> pd.DataFrame:
    """The preview's rows; `seq` is a row's place in the preview, the order a stage (and
    its limit) takes them in."""
    ranked = sorted(enumerate(changes), key=lambda p: TYPE_ORDER.get(p[1].change_type.value, 3))
    return pd.DataFrame(
        [
            {
                "seq": seq,
                "include": c.record_uuid not in excluded,
                "change": c.change_type.value,
                "order": c.value(ORDER_NUMBER),
                "po": c.value(PO_NUMBER),
                "style": c.value(STYLE),
                "colour": c.value(COLOUR),
                "qty": sum(c.current.sizes.values()),
                "diff": _diff_text(c, 40),
                "diff_full": _diff_text(c, None),
                "record_uuid": c.record_uuid,
            }
            for seq, c in ranked
        ],
        columns=[
            "seq",
            "include",
            "change",
            "order",
            "po",
            "style",
            "colour",
            "qty",
            "diff",
            "diff_full",
            "record_uuid",
        ],
    )


SIZE_FRAME_COLUMNS = ["size", "old", "new", "change"]


def no_sizes() -> pd.DataFrame:
    return pd.DataFrame(columns=SIZE_FRAME_COLUMNS)


def sizes_frame(change: RowChange) -> pd.DataFrame:
    old = change.old.sizes if change.old else {}
    new = change.new.sizes if change.new else {}
    sizes = list(dict.fromkeys([*new, *old]))
    rows = []
    for size in sizes:
        before, now = old.get(size), new.get(size)
        kind = (
            "NEW"
            if before is None and now is not None
            else "DELETED"
            if now is None and before is not None
            else "CHANGED"
            if before != now
            else ""
        )
        if change.old is None:
            kind = "NEW"
        rows.append({"size": size, "old": before, "new": now, "change": kind})
    return pd.DataFrame(rows, columns=SIZE_FRAME_COLUMNS)


def shown_status(batch: BatchInfo) -> str:
    """A batch's status as the window shows it: an undo holds its batch PUSHING in the
    database (its claim says "undo in progress"); the window says UNDOING."""
    if batch.status == "PUSHING" and (batch.message or "").startswith("undo in progress"):
        return "UNDOING"
    return batch.status


def batches_frame(batches: list[BatchInfo]) -> pd.DataFrame:
    return pd.DataFrame(
        [b.to_dict() | {"created_at": b.created_at, "status": shown_status(b)} for b in batches],
        columns=list(BatchInfo.__dataclass_fields__),
    )


def staged_frames(rows: pd.DataFrame, subs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """A batch's staged rows, and its sizes with their order's number."""
    numbers = dict(zip(rows["stg_id"], rows["order_number"], strict=True))
    return rows, subs.assign(order_number=subs["stg_parent_id"].map(numbers))


# The staged tables' status columns, as services.staging.batch_statuses reads them.
ROW_STATUS_COLUMNS = [
    "stg_id",
    "stg_status",
    "stg_monday_item_id",
    "stg_error_message",
    "stg_retry_count",
]
SUBITEM_STATUS_COLUMNS = [
    "stg_subitem_id",
    "stg_status",
    "stg_monday_subitem_id",
    "stg_error_message",
    "stg_retry_count",
]


def status_frames(changes: Iterable[StatusChange]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Status changes a run reported, as the rows' and the sizes' status frames (the last
    word per row or size counts)."""
    rows: dict[int, tuple] = {}
    subs: dict[int, tuple] = {}
    for c in changes:
        line = (c.ident, c.status, c.monday_id, c.error, c.retry_count)
        (rows if c.kind == "row" else subs)[c.ident] = line
    return (
        pd.DataFrame(list(rows.values()), columns=ROW_STATUS_COLUMNS),
        pd.DataFrame(list(subs.values()), columns=SUBITEM_STATUS_COLUMNS),
    )
