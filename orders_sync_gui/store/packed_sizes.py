"""A row's size columns (about 200, a handful filled) read as one text that the database
builds, not as 200 mostly NULL Python objects: that conversion cost more than all the
rest of detection, and most of a large customer's preview.

The text is `<index>\\x1e<value>\\x1f` for each non-NULL size, in column order. SQLite
builds it with printf (NULL prints as nothing): one call per 100 columns, as printf takes
at most 127 arguments (SQLITE_MAX_FUNCTION_ARG); printf was about three times cheaper in
SQLite than a CASE per column. PostgreSQL builds it with concat(), which skips NULLs (at
most 100 arguments a call, FUNC_MAX_ARGS), and only where every size column is an integer
type: then no other text can arise.

On SQLite, a row whose text is not exactly that grammar, with integers and increasing
indexes (a careless load's text or float in a size column: `12.5`, `N/A`, an empty
string), is read again as it is, so every value reaches the hasher as the plain read hands
it over. A digits-only text value reads as that integer, as the hasher's float conversion
reads it anyway; only a text holding the two control characters in that exact form could
pass for other cells.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import (
    ColumnElement,
    Connection,
    Integer,
    Table,
    column,
    func,
    literal,
    literal_column,
    select,
)

from ..core.columns import Kind

PACKED_SIZES = "_packed_sizes"
ROWID = "_rowid"
_EQ, _SEP = "\x1e", "\x1f"
_PER_CALL = 100
_GRAMMAR = re.compile(r"(?:\d+\x1e-?\d+\x1f)*")


def packable(
    dialect: str, all_sizes: Sequence[str], kinds: Mapping[str, Kind], columns: Sequence[str]
) -> list[str]:
    """The size columns among `columns` that this database can pack ([] for none)."""
    sizes = [c for c in columns if c in set(all_sizes)]
    if len(sizes) < 8:
        return []
    if dialect == "sqlite":
        return sizes
    if dialect == "postgresql" and all(kinds[s] is Kind.INT for s in sizes):
        return sizes
    return []


def packed_columns(dialect: str, table: Table, sizes: Sequence[str]) -> list[ColumnElement[Any]]:
    """What to select in place of `sizes`: the packed text (and SQLite's rowid, to read
    an odd row again)."""
    calls: list[ColumnElement[Any]] = []
    for start in range(0, len(sizes), _PER_CALL):
        part = list(enumerate(sizes))[start : start + _PER_CALL]
        args = [
            literal(f"{i}{_EQ}").concat(table.c[name]).concat(literal(_SEP)) for i, name in part
        ]
        if dialect == "sqlite":
            calls.append(func.printf("%s" * len(part), *args))
        else:
            calls.append(func.concat(*args))
    packed = calls[0]
    for call in calls[1:]:
        packed = packed.concat(call)
    if dialect != "sqlite":
        return [packed.label(PACKED_SIZES)]
    # The table's own rowid: in a join (store/customer_state_join.py) a bare one is ambiguous.
    rowid = column("rowid", Integer, _selectable=table)
    return [packed.label(PACKED_SIZES), rowid.label(ROWID)]


def _odd_rows(texts: list[str]) -> list[int]:
    if _GRAMMAR.fullmatch("".join(texts)):
        return []
    return [r for r, t in enumerate(texts) if not _GRAMMAR.fullmatch(t)]


def unpack(
    conn: Connection, table: Table, frame: pd.DataFrame, sizes: Sequence[str]
) -> pd.DataFrame:
    """The frame with its packed text and rowid replaced by the size columns."""
    texts = [t or "" for t in frame.pop(PACKED_SIZES).tolist()]
    rowids = frame.pop(ROWID).tolist() if ROWID in frame.columns else None
    n = len(texts)
    odd = set(_odd_rows(texts))
    for r in odd:
        texts[r] = ""
    counts = np.fromiter((t.count(_SEP) for t in texts), dtype=np.int64, count=n)
    tokens = "".join(texts).replace(_EQ, _SEP).split(_SEP)[:-1]
    numbers = np.array(tokens, dtype=np.int64) if tokens else np.empty(0, np.int64)
    rows, cols, qtys = np.repeat(np.arange(n), counts), numbers[0::2], numbers[1::2]
    # Indexes strictly increasing within a row, and in range: else the text was not ours.
    # A quantity beyond a float's exact integers is read again too, for its exact message.
    wrong = (cols < 0) | (cols >= len(sizes)) | (np.abs(qtys) > 2**53)
    wrong[1:] |= (rows[1:] == rows[:-1]) & (cols[1:] <= cols[:-1])
    if wrong.any():
        odd |= set(rows[wrong].tolist())
        keep = ~np.isin(rows, list(odd))
        rows, cols, qtys = rows[keep], cols[keep], qtys[keep]
    matrix = np.full((n, len(sizes)), np.nan)
    matrix[rows, cols] = qtys
    block = pd.DataFrame(matrix, columns=list(sizes), index=frame.index)
    if odd and rowids is None:
        raise RuntimeError(f"{len(odd)} row(s) of integer size columns packed into other text")
    if odd:
        assert rowids is not None
        block = block.astype(object).where(block.notna(), None)
        plain: ColumnElement[Any] = literal_column("rowid")
        wanted = [rowids[r] for r in sorted(odd)]
        exact: dict[Any, Sequence[Any]] = {}
        for i in range(0, len(wanted), 1000):
            stmt = select(plain, *(table.c[s] for s in sizes)).where(
                plain.in_(wanted[i : i + 1000])
            )
            exact.update((row[0], row[1:]) for row in conn.execute(stmt))
        for r in sorted(odd):
            block.iloc[r] = list(exact[rowids[r]])
    return pd.concat([frame, block], axis=1)
