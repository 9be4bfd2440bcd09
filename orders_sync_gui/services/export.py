"""A table as a file: CSV (UTF-8, a header line) or Excel .xlsx (openpyxl), by the path's
suffix. Both faces use it: the window exports exactly the rows and columns a table shows,
the CLI its preview and batch history (`--csv PATH`)."""

from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

FORMATS = {".csv": "CSV", ".xlsx": "Excel workbook"}


class ExportError(RuntimeError):
    pass


def write_table(
    path: Path, titles: Sequence[str], rows: Iterable[Sequence[Any]], *, sheet: str = "orders-sync"
) -> int:
    """Write the table to `path` (.csv or .xlsx), atomically; returns how many rows."""
    suffix = path.suffix.lower()
    if suffix not in FORMATS:
        raise ExportError(f"{path.name}: export writes .csv or .xlsx files")
    tmp = path.with_name(path.name + ".part")
    try:
        count = _xlsx(tmp, titles, rows, sheet) if suffix == ".xlsx" else _csv(tmp, titles, rows)
        os.replace(tmp, path)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        raise ExportError(f"{path} could not be written: {exc.strerror or exc}") from None
    return count


def _csv(path: Path, titles: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    count = 0
    # utf-8-sig: Excel opens it with the accents right; every other reader skips the BOM.
    with path.open("w", encoding="utf-8-sig", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(titles)
        for row in rows:
            writer.writerow(["" if v is None else v for v in row])
            count += 1
    return count


def _xlsx(path: Path, titles: Sequence[str], rows: Iterable[Sequence[Any]], sheet: str) -> int:
    # imported when used: the window starts without it
    from openpyxl import Workbook  # type: ignore[import-untyped]
    from openpyxl.cell import WriteOnlyCell  # type: ignore[import-untyped]

    book = Workbook(write_only=True)
    ws = book.create_sheet(sheet[:31])

    def cell(value: Any) -> Any:
        # Numbers stay numbers; text is text, even when it starts like a formula ("=..."):
        # a value from the order table never runs in the operator's spreadsheet.
        if value is None or isinstance(value, bool | int | float):
            return value
        out = WriteOnlyCell(ws, value=str(value))
        out.data_type = "s"
        return out

    ws.append([cell(t) for t in titles])
    count = 0
    for row in rows:
        ws.append([cell(v) for v in row])
        count += 1
    book.save(path)
    return count


# The CLI's tables, with the window's column names (qt/panels.py says them the same way).
PREVIEW_TITLES = [
    "Change",
    "AAG ORDER NUMBER",
    "PO NUMBER",
    "CUSTOMER STYLE",
    "COLOUR",
    "Order qty",
    "Changed fields (old → new)",
    "record_uuid",
]
BATCH_TITLES = {
    "batch_id": "Batch",
    "customer": "Customer",
    "status": "Status",
    "operator": "Operator",
    "created_at": "Created",
    "item_count": "Items",
    "subitem_count": "Subitems",
    "new_count": "New",
    "changed_count": "Changed",
    "deleted_count": "Deleted",
    "succeeded_count": "OK",
    "failed_count": "Failed",
    "message": "Message",
}


def preview_rows(rows: Iterable[dict[str, Any]]) -> list[list[Any]]:
    """`preview --json`'s rows as the table PREVIEW_TITLES names."""
    return [
        [
            r["change_type"],
            r["order_number"],
            r["po_number"],
            r["style"],
            r["colour"],
            r["order_qty"],
            "; ".join(f"{f['field']}: {f['old']} → {f['new']}" for f in r["fields"])
            + "".join(f"; size {s['size']}: {s['old']} → {s['new']}" for s in r["sizes"]),
            r["record_uuid"],
        ]
        for r in rows
    ]


def batch_rows(batches: Iterable[dict[str, Any]]) -> list[list[Any]]:
    """`batches --json`'s batches as the table BATCH_TITLES names."""
    return [[b.get(key) for key in BATCH_TITLES] for b in batches]
