"""Source rows to canonical records and hashes, vectorised over a pandas frame.

Values are canonicalised once per distinct value of a column (orders repeat their seasons,
customers and dates), and size quantities as one numpy block, so 100,000 wide rows hash in
well under a second; rows with values that have no canonical form fail alone, each with a
RowError naming the order and the field.
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from .board_values import cut_marker, fit_text
from .canonical import CanonicalError, canonical
from .columns import CUSTOMER_NAME, ORDER_NUMBER, RECORD_HASH, RECORD_UUID, TOTAL_QTY, Kind
from .customers import CustomerMap, customer_name_problem
from .hashing import encode_value, field_header, hash_text
from .mapping import MappedColumn
from .models import Record, RowError
from .sizes import MAX_QTY, SizeError, size_quantity
from .utf16 import utf16_len

# What an item's values hold besides the mapped fields counted (its record_uuid, quantity,
# customer, the deleted-order label, and the JSON around them), in bytes: the total a row is
# held to (SourceSpec.item_bytes) keeps this much free.
ITEM_MARGIN_BYTES = 1024


@dataclass(slots=True)
class SourceSpec:
    """What to read of a source frame: mapped columns (with their kinds) and size columns.

    `limits`: the mapped columns whose monday type limits a value's length (mapping.limited),
    by source column; `item_bytes`: how much all of a row's values may hold (mapping's
    ITEM_VALUES_BYTES), None for no check."""

    mapped: Sequence[str]
    kinds: Mapping[str, Kind]
    sizes: Sequence[str]
    customers: CustomerMap
    limits: Mapping[str, MappedColumn] = field(default_factory=dict)
    item_bytes: int | None = None


@dataclass(slots=True)
class HashedFrame:
    """Per input row: uuid, canonical customer and hash (None where the row is invalid)."""

    uuids: list[str | None]
    customers: list[str | None]
    hashes: list[str | None]
    fields: dict[str, list[str | None]]
    size_rows: list[dict[str, int]] | None
    errors: list[RowError] = field(default_factory=list)
    # Valid rows with a value monday gets cut (a long_text over its limit): one per field.
    warnings: list[RowError] = field(default_factory=list)

    # Per row, the database's own hash as hex (a RECORD_HASH column read with the row).
    db_hashes: list[str | None] | None = None
    # The usable size cells and the size columns' names: size_rows of some rows only,
    # on demand (a preview makes Records of the few rows whose hash moved).
    size_cells: _SizeCells | None = None
    size_names: Sequence[str] = ()

    def valid_rows(self) -> list[int]:
        return [i for i, h in enumerate(self.hashes) if h is not None]

    def sizes_of(self, rows: Sequence[int]) -> list[dict[str, int]]:
        """{size: qty} of each of these rows, in column order."""
        if self.size_rows is not None:
            return [self.size_rows[i] for i in rows]
        assert self.size_cells is not None
        cells, at = self.size_cells, {r: k for k, r in enumerate(rows)}
        out: list[dict[str, int]] = [{} for _ in rows]
        picked = np.isin(cells.rows, np.asarray(rows, dtype=np.int64))
        names = self.size_names
        for r, c, q in zip(
            cells.rows[picked].tolist(),
            cells.cols[picked].tolist(),
            cells.qtys[picked].tolist(),
            strict=True,
        ):
            out[at[r]][names[c]] = q
        return out


@dataclass(slots=True)
class _Column:
    """One mapped column, canonical: per row its text, hash encoding and pushed size."""

    canon: np.ndarray
    encoded: np.ndarray
    bad: dict[int, str]  # row -> why its value has no canonical form
    too_long: dict[int, int]  # row -> its value's length, over the column type's limit
    nbytes: np.ndarray | None  # bytes of what monday gets (cut where it cuts); None: unasked


def _rows_of(codes: np.ndarray, by_code: Mapping[int, object]) -> dict[int, object]:
    if not by_code:
        return {}
    return {int(r): by_code[int(codes[r])] for r in np.flatnonzero(np.isin(codes, list(by_code)))}


def _plain_texts(kind: Kind, uniques: Any) -> list[str] | None:
    """A text column's distinct values as they are, when all are ASCII strings: their own
    canonical form (NFC changes no ASCII text), without a call per value (a third of the
    hashing of order and style numbers). None: go value by value."""
    if kind is not Kind.TEXT:
        return None
    texts = uniques.tolist()
    if all(type(t) is str for t in texts) and "".join(texts).isascii():
        return texts
    return None


def _canonical_column(
    values: pd.Series, kind: Kind, limit: MappedColumn | None = None, *, sized: bool = False
) -> _Column:
    """Canonical texts of one column, their hash encodings, {row: message} of bad values,
    {row: length} of values over the column type's limit, and (`sized`) the bytes monday
    gets per row.

    Work is done once per distinct value, then spread to the rows by numpy indexing.
    """
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    canon = np.empty(len(uniques) + 1, dtype=object)  # last slot: NULL, for code -1
    bad_codes: dict[int, str] = {}
    top = limit.max_length if limit is not None else None
    cut = limit is not None and limit.overflow == "cut" and top is not None
    nbytes: np.ndarray | None = None
    canon[-1] = None
    plain = _plain_texts(kind, uniques)
    if plain is not None:
        # ASCII: a character is one byte and one UTF-16 unit, and no call per value.
        canon[:-1] = plain
        encoded = np.array([f"{len(t)}:{t}" for t in plain] + ["~"], dtype=object)
        lengths = [len(t) for t in plain]
        long_codes = {i: n for i, n in enumerate(lengths) if n > top} if top else {}
        if sized:
            for i in long_codes if cut else ():
                lengths[i] = len(fit_text(plain[i], top).encode("utf-8"))  # type: ignore[arg-type]
            nbytes = np.asarray([*lengths, 0], dtype=np.int64)[codes]
    else:
        for i, value in enumerate(uniques):
            try:
                canon[i] = canonical(kind, value)
            except CanonicalError as exc:
                canon[i] = None
                bad_codes[i] = str(exc)
        encoded = np.array([encode_value(v) for v in canon], dtype=object)
        long_codes = {}
        if top is not None:
            for i, text in enumerate(canon[:-1]):
                if isinstance(text, str) and len(text) * 2 > top and utf16_len(text) > top:
                    long_codes[i] = utf16_len(text)
        if sized:
            sizes = [
                0 if t is None else len((fit_text(t, top) if cut and top else t).encode("utf-8"))
                for t in canon
            ]
            nbytes = np.asarray(sizes, dtype=np.int64)[codes]
    return _Column(
        canon[codes],
        encoded[codes],
        _rows_of(codes, bad_codes),  # type: ignore[arg-type]
        _rows_of(codes, long_codes),  # type: ignore[arg-type]
        nbytes,
    )


def _length_problem(limit: MappedColumn, length: int) -> str:
    top, kind = limit.max_length, limit.column.type.replace("_", " ")
    if limit.overflow == "reject":
        return (
            f"is {length:,} characters long; monday.com's {kind} column holds {top:,} and the "
            "mapping refuses longer values: shorten it in the source"
        )
    return (
        f"is {length:,} characters long; monday.com's {kind} column holds {top:,}: it is "
        f"pushed cut, ending in “{cut_marker(length).strip()}”"
    )


_UUID_TEXT = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")


def normal_uuid(value: object) -> str | None:
    if isinstance(value, str) and _UUID_TEXT.fullmatch(value):
        return value  # already in the dashed lower-case form: most rows, no parsing
    if value is None or value != value:  # NULL or NaN
        return None
    try:
        return str(uuid.UUID(str(value).strip()))
    except (ValueError, AttributeError):
        return None


def _canonical_customers(values: pd.Series, customers: CustomerMap) -> list[str | None]:
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    canon = np.array(
        [customers.canonical(u) if isinstance(u, str) else None for u in uniques] + [None],
        dtype=object,
    )
    return canon[codes].tolist()


@dataclass(slots=True)
class _SizeCells:
    """The non-zero, valid size cells of a frame: row, column and quantity, row-major."""

    rows: np.ndarray
    cols: np.ndarray
    qtys: np.ndarray


def _size_matrix(frame: pd.DataFrame, sizes: Sequence[str]) -> tuple[np.ndarray, dict[int, str]]:
    block = frame.loc[:, list(sizes)]
    try:
        return block.to_numpy(dtype=np.float64, na_value=np.nan), {}
    except (TypeError, ValueError):
        pass
    # Text in a size column (possible in SQLite): read cell by cell, then go on in numpy.
    bad: dict[int, str] = {}
    arr = np.full(block.shape, np.nan)
    raw = block.to_numpy(dtype=object)
    for r, c in zip(*np.nonzero(pd.notna(raw)), strict=True):
        try:
            qty = size_quantity(sizes[c], raw[r, c])
        except SizeError as exc:
            bad.setdefault(int(r), f"{sizes[c]}\x00{exc}")
            continue
        if qty is not None:
            arr[r, c] = qty
    return arr, bad


def _size_cells(
    frame: pd.DataFrame, sizes: Sequence[str]
) -> tuple[_SizeCells, dict[int, RowError]]:
    """The usable size cells, and a RowError for each row with an unusable quantity.

    Only filled cells are checked (a row has a handful of its ~250 sizes), so the wide,
    mostly NULL block costs one vectorised pass.
    """
    arr, text_bad = _size_matrix(frame, sizes)
    rows, cols = np.nonzero(~np.isnan(arr))  # row-major: by row, then column order
    vals = arr[rows, cols]
    bad = {r: RowError(None, None, *m.split("\x00", 1)) for r, m in text_bad.items()}
    with np.errstate(invalid="ignore"):
        suspect = ~np.isfinite(vals) | (vals < 0) | (vals != np.floor(vals)) | (vals > MAX_QTY)
    for k in np.flatnonzero(suspect):
        r, size = int(rows[k]), sizes[int(cols[k])]
        try:
            size_quantity(size, vals[k])
        except SizeError as exc:
            bad.setdefault(r, RowError(None, None, size, str(exc)))
    keep = vals != 0
    if bad:
        keep &= ~np.isin(rows, list(bad))
    # Each size fits an INT, but their sum need not, and the order quantity is staged in an
    # INT column: a row whose sizes add up beyond it fails here, alone and named, rather than
    # fail the staging INSERT (on PostgreSQL and SQL Server) and the customer's whole batch.
    totals = np.bincount(rows[keep], weights=vals[keep], minlength=len(frame))
    for over in np.flatnonzero(totals > MAX_QTY):
        r = int(over)
        bad[r] = RowError(
            None, None, TOTAL_QTY, f"the sizes add up to {int(totals[r]):,}, beyond an INT column"
        )
        keep &= rows != r
    return _SizeCells(rows[keep], cols[keep], vals[keep].astype(np.int64)), bad


def _size_texts(cells: _SizeCells, sizes: Sequence[str], n: int) -> list[str]:
    """Per row, the encoded sizes sorted by label: the hash's size text."""
    by_label = np.argsort(np.array(sizes, dtype=object))
    rank = np.empty(len(sizes), dtype=np.int64)
    rank[by_label] = np.arange(len(sizes))
    order = np.lexsort((rank[cells.cols], cells.rows))
    labels = [f"{len(s)}:{s}=" for s in sizes]
    tokens = [
        f"{labels[c]}{q};"
        for c, q in zip(cells.cols[order].tolist(), cells.qtys[order].tolist(), strict=True)
    ]
    bounds = np.searchsorted(cells.rows[order], np.arange(n + 1)).tolist()
    return ["".join(tokens[bounds[i] : bounds[i + 1]]) for i in range(n)]


def _size_dicts(cells: _SizeCells, sizes: Sequence[str], n: int) -> list[dict[str, int]]:
    """Per row, {size: qty} in column order: the subitems its monday item gets."""
    out: list[dict[str, int]] = [{} for _ in range(n)]
    for r, c, q in zip(cells.rows.tolist(), cells.cols.tolist(), cells.qtys.tolist(), strict=True):
        out[r][sizes[c]] = q
    return out


def hash_frame(frame: pd.DataFrame, spec: SourceSpec, *, with_sizes: bool = True) -> HashedFrame:
    """Canonicalise and hash every row of a source frame.

    `frame` holds record_uuid, the mapped columns and the size columns. CUSTOMER NAME is
    folded to its canonical customer before hashing: the hash covers what is pushed.
    """
    n = len(frame)
    missing = [c for c in (RECORD_UUID, *spec.mapped, *spec.sizes) if c not in frame.columns]
    if missing:
        raise KeyError(f"the source lacks the column(s) {', '.join(f'[{c}]' for c in missing)}")
    errors: dict[int, RowError] = {}
    order_numbers = (
        frame[ORDER_NUMBER].astype(object).where(frame[ORDER_NUMBER].notna(), None).tolist()
        if ORDER_NUMBER in frame.columns
        else [None] * n
    )

    uuids = [normal_uuid(u) for u in frame[RECORD_UUID].tolist()]
    seen: dict[str, list[int]] = {}
    for i, u in enumerate(uuids):
        if u is None:
            errors.setdefault(
                i, RowError(None, order_numbers[i], RECORD_UUID, "has no valid record_uuid")
            )
        else:
            seen.setdefault(u, []).append(i)
    if len(seen) < n:
        for u, rows in seen.items():
            if len(rows) > 1:
                names = ", ".join(str(order_numbers[r] or "(no number)") for r in rows)
                for r in rows:
                    errors.setdefault(
                        r,
                        RowError(
                            u,
                            order_numbers[r],
                            RECORD_UUID,
                            f"record_uuid {u} is shared by orders {names}",
                        ),
                    )

    customers: list[str | None] = (
        _canonical_customers(frame[CUSTOMER_NAME], spec.customers)
        if CUSTOMER_NAME in frame.columns
        else [None] * n
    )
    fields: dict[str, list[str | None]] = {}
    encoded: dict[str, list[str]] = {}
    warnings: list[RowError] = []
    sized: dict[str, np.ndarray] = {}
    for name in spec.mapped:
        if name == CUSTOMER_NAME:
            fields[name] = customers
            encoded[name] = [encode_value(c) for c in customers]
            continue
        limit = spec.limits.get(name)
        column = _canonical_column(
            frame[name],
            spec.kinds.get(name, Kind.TEXT),
            limit,
            sized=spec.item_bytes is not None,
        )
        for r, msg in column.bad.items():
            errors.setdefault(r, RowError(uuids[r], order_numbers[r], name, msg))
        for r, length in column.too_long.items():
            assert limit is not None
            problem = RowError(uuids[r], order_numbers[r], name, _length_problem(limit, length))
            if limit.overflow == "reject":
                errors.setdefault(r, problem)
            else:
                warnings.append(problem)
        if column.nbytes is not None:
            sized[name] = column.nbytes
        # The hash (and the record, so Method 1 compares the same) holds the whole value,
        # not the cut one monday gets: a change past the cut is still a change, and is pushed
        # (its cut equals the last one, unless the length in its marker moved). Hashing the
        # cut would make such a change invisible, and an order cut once stay so for good.
        fields[name] = column.canon.tolist()
        encoded[name] = column.encoded.tolist()
    if spec.item_bytes is not None and sized:
        _item_size_errors(spec.item_bytes, sized, uuids, order_numbers, errors)
    # A canonical name longer than the customer columns hold (upper-casing lengthens "ß" to
    # "SS") fails its rows here, alone and named, rather than the whole staging INSERT (on
    # PostgreSQL and SQL Server): the rest of the detection goes on.
    too_long = {c: customer_name_problem(c) for c in set(customers) if c is not None}
    for i, c in enumerate(customers):
        if c is None:
            errors.setdefault(
                i, RowError(uuids[i], order_numbers[i], CUSTOMER_NAME, "has no customer name")
            )
        elif (name_problem := too_long[c]) is not None:
            errors.setdefault(i, RowError(uuids[i], order_numbers[i], CUSTOMER_NAME, name_problem))

    cells, size_errors = _size_cells(frame, spec.sizes)
    for r, err in size_errors.items():
        errors.setdefault(r, RowError(uuids[r], order_numbers[r], err.field, err.message))
    size_text = _size_texts(cells, spec.sizes, n)

    header = field_header(list(spec.mapped))
    columns = [encoded[name] for name in sorted(spec.mapped)]
    hashes: list[str | None] = [
        hash_text(header, "".join(parts), sizes)
        for *parts, sizes in zip(*columns, size_text, strict=True)
    ]
    for i in errors:
        hashes[i] = None
    invalid_uuids = {e.record_uuid for e in errors.values()}
    db_hashes = (
        [_hex(v) for v in frame[RECORD_HASH].tolist()] if RECORD_HASH in frame.columns else None
    )
    return HashedFrame(
        db_hashes=db_hashes,
        uuids=uuids,
        customers=customers,
        hashes=hashes,
        fields=fields,
        size_rows=_size_dicts(cells, spec.sizes, n) if with_sizes else None,
        size_cells=cells,
        size_names=spec.sizes,
        errors=[errors[i] for i in sorted(errors)],
        warnings=[w for w in warnings if w.record_uuid not in invalid_uuids],
    )


def _hex(value: object) -> str | None:
    if value is None or isinstance(value, float):  # NULL (NaN in a frame)
        return None
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).hex()
    return str(value)


def _item_size_errors(
    limit: int,
    sized: Mapping[str, np.ndarray],
    uuids: Sequence[str | None],
    order_numbers: Sequence[object],
    errors: dict[int, RowError],
) -> None:
    """Rows whose values together are more than an item holds (text columns have no limit
    of their own, only this): each fails alone, naming its largest field."""
    names = list(sized)
    block = np.vstack([sized[n] for n in names])  # fields x rows
    totals = block.sum(axis=0) + ITEM_MARGIN_BYTES
    for over in np.flatnonzero(totals > limit):
        r = int(over)
        largest = names[int(np.argmax(block[:, r]))]
        errors.setdefault(
            r,
            RowError(
                uuids[r],
                order_numbers[r],  # type: ignore[arg-type]
                largest,
                f"the order's values come to {totals[r] / 1024:,.0f} KB, more than the about "
                f"{limit // 1024} KB monday.com holds per item; this field is "
                f"{block[names.index(largest), r] / 1024:,.0f} KB of it: shorten it in the source",
            ),
        )


def records_from_frame(
    frame: pd.DataFrame, spec: SourceSpec
) -> tuple[list[Record], list[RowError]]:
    """The valid rows as Records, and the errors of the others."""
    hashed = hash_frame(frame, spec)
    return records_of(hashed, spec), hashed.errors


def records_of(
    hashed: HashedFrame, spec: SourceSpec, rows: Sequence[int] | None = None
) -> list[Record]:
    """The valid rows of a frame (or only the given valid rows), as Records."""
    names = list(spec.mapped)
    chosen = hashed.valid_rows() if rows is None else list(rows)
    records = [
        Record(
            record_uuid=hashed.uuids[i],  # type: ignore[arg-type]
            customer=hashed.customers[i],  # type: ignore[arg-type]
            fields={n: hashed.fields[n][i] for n in names},
            sizes=sizes,
            hash=hashed.hashes[i],  # type: ignore[arg-type]
            db_hash=hashed.db_hashes[i] if hashed.db_hashes is not None else None,
        )
        for i, sizes in zip(chosen, hashed.sizes_of(chosen), strict=True)
    ]
    return records
