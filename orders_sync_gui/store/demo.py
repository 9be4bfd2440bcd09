"""Demo data that looks like production: wide, sparse, several spellings per customer.

Deterministic from a seed and vectorised (numpy), so the default 10,000 orders load in
seconds and a million rows can be made in memory for benchmarks.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import datetime, timedelta
from typing import Any, cast

import numpy as np
import pandas as pd
from sqlalchemy import Engine, Integer, MetaData, Table, delete, select, update

from ..core.columns import (
    COLOUR,
    CUSTOMER_NAME,
    DEMO_COLUMNS,
    ORDER_NUMBER,
    PO_NUMBER,
    RECORD_HASH,
    RECORD_UUID,
    SIZE_NAMES,
    SOURCE_CUSTOMER_NAME,
    STYLE,
    TOTAL_QTY,
    Kind,
)
from .schema import SOURCE_TABLE, build_source_table

# (canonical name, spellings seen in source files; the first is the most common)
CUSTOMERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("GREYSON", ("GREYSON", "GREYSON CLOTHIERS", "Greyson ")),
    ("RHONE", ("RHONE", "RHONE APPAREL", "Rhone Apparel LLC")),
    ("VUORI", ("VUORI", "VUORI INC", "Vuori Inc.")),
    ("TRAVISMATHEW", ("TRAVISMATHEW", "TRAVIS MATHEW", "Travis-Mathew")),
    ("PETER MILLAR", ("PETER MILLAR", "PETER MILLAR LLC")),
    ("O'NEILL", ("O'NEILL", "O'NEILL EUROPE", "O NEILL")),
    ("MACKAGE", ("MACKAGE", "MACKAGE INC")),
    ("FAHERTY", ("FAHERTY", "FAHERTY BRAND", "Faherty Brand LLC")),
    ("MARINE LAYER", ("MARINE LAYER", "MARINE LAYER INC")),
    ("TASC", ("TASC", "TASC PERFORMANCE", "Tasc Performance Inc")),
    ("JOHNNIE-O", ("JOHNNIE-O", "Johnnie O")),
    ("ALO", ("ALO", "ALO YOGA", "Alo Yoga LLC")),
    *(
        (name, (name,))
        for name in (
            "PATAGONIA", "COTOPAXI", "OUTERKNOWN", "FREE FLY", "KUHL", "TOAD&CO", "PRANA",
            "TEN TREE", "FJALLRAVEN", "HELLY HANSEN", "SMARTWOOL", "ICEBREAKER", "ARC'TERYX",
            "NORRONA", "MAMMUT", "RAB", "SALOMON", "ON RUNNING", "HOKA", "LULULEMON",
            "BEYOND YOGA", "OUTDOOR VOICES", "SWEATY BETTY", "GYMSHARK", "RAPHA", "CASTELLI",
            "PEARL IZUMI", "MAAP", "TRACKSMITH", "SATISFY", "JANJI", "BANDIT", "RABBIT",
        )
    ),
)  # fmt: skip

SIZE_RUNS: tuple[tuple[str, ...], ...] = (
    ("XS", "S", "M", "L", "XL", "XXL"),
    ("XXS", "XS", "S", "M", "L", "XL", "XXL", "XXXL"),
    ("S", "M", "L", "XL", "2XL", "3XL"),
    ("0", "2", "4", "6", "8", "10", "12", "14", "16"),
    ("28/30", "30/30", "30/32", "32/30", "32/32", "32/34", "34/32", "36/32", "38/32"),
    ("2T", "3T", "4T", "4/5", "6/7", "8/9", "10/11", "12/13"),
    ("0-3M", "3-6M", "6-12M", "12-18M", "18-24M"),
    ("32C", "32D", "34C", "34D", "34DD", "36C", "36D", "36DD", "38D"),
    ("04/XXS", "06/XS", "08/S", "10/M", "12/L", "14/XL", "16/XXL"),
    ("ONE SIZE",),
    ("XS/S", "S/M", "M/L", "L/XL"),
)

COLOURS = (
    "NAVY",
    "BLACK",
    "WHITE",
    "HEATHER GREY",
    "OLIVE",
    "SAND",
    "BURGUNDY",
    "SKY BLUE",
    "CHARCOAL",
    "CRÈME",
    "FOREST",
    "CORAL",
    "INDIGO",
    "STONE",
    "RUST",
)
SEASONS = ("SS26", "FW26", "SS27", "FW27")
CATEGORIES = (
    "POLO",
    "TEE",
    "JACKET",
    "PANT",
    "SHORT",
    "HOODIE",
    "DRESS",
    "LEGGING",
    "BRA",
    "SWEATER",
)
PLANNERS = ("A. NOWAK", "J. SMITH", "M. GARCÍA", "S. CHEN", "R. O'BRIEN")
DESTINATIONS = ("LOS ANGELES DC", "NEW JERSEY DC", "ROTTERDAM", "TORONTO", "SYDNEY", "LONDON")
TERMS = ("FOB", "DDP", "EXW", "CIF")
METHODS = ("OCEAN", "AIR", "SEA-AIR")
ORDER_TYPES = ("BULK", "REPEAT", "SAMPLE", "SMS")
UOMS = ("PCS", "PCS", "PCS", "PACK", "SET")
NOTES = (
    "Hold for lab dip approval",
    "Ship complete",
    "Split shipment agreed 50/50",
    "Customer to confirm carton marks",
    "Use recycled polybags",
)
SIZE_INDEX = {name: i for i, name in enumerate(SIZE_NAMES)}
BASE_DATE = datetime(2026, 1, 5)
DEFAULT_ORDERS = 10_000
DEFAULT_SEED = 4755


def canonical_customers() -> list[str]:
    return [name for name, _ in CUSTOMERS]


def _pick(
    rng: np.random.Generator, pool: tuple[str, ...], n: int, coverage: float = 1.0
) -> np.ndarray:
    values = np.asarray(pool, dtype=object)[rng.integers(0, len(pool), n)]
    if coverage < 1.0:
        values[rng.random(n) >= coverage] = None
    return values


def _codes(rng: np.random.Generator, prefix: str, n: int, coverage: float) -> np.ndarray:
    numbers = rng.integers(0, 10_000, n)
    kept = np.flatnonzero(rng.random(n) < coverage)
    values = np.full(n, None, dtype=object)
    # Only the kept codes are formatted: most of these columns are a few percent filled.
    values[kept] = [f"{prefix}{v:04d}" for v in numbers[kept].tolist()]
    return values


def _uuid4_texts(halves: np.ndarray) -> list[str]:
    """str(uuid.UUID(int=hi << 64 | lo, version=4)) for each (hi, lo) row, without a UUID
    object each (a second of a million-order demo): the same version and variant bits."""
    out = []
    for hi, lo in halves.tolist():
        hi = (hi & ~0xF000) | 0x4000  # version 4
        lo = (lo & ~(0xC000 << 48)) | (0x8000 << 48)  # RFC 4122 variant
        out.append(
            f"{hi >> 32:08x}-{(hi >> 16) & 0xFFFF:04x}-{hi & 0xFFFF:04x}-"
            f"{lo >> 48:04x}-{lo & 0xFFFFFFFFFFFF:012x}"
        )
    return out


def _days_after(start: datetime, days: np.ndarray) -> np.ndarray:
    """start + each number of days, as the datetime64[us] a list of datetimes becomes."""
    return np.datetime64(start, "us") + days.astype("timedelta64[D]").astype("timedelta64[us]")


def generate_orders(
    n: int = DEFAULT_ORDERS, seed: int = DEFAULT_SEED, *, first_order: int = 100_000
) -> pd.DataFrame:
    """n order lines over all demo columns, record_uuid first; sizes as float (NaN = NULL)."""
    rng = np.random.default_rng(seed)
    cust_idx = (rng.zipf(1.35, n) - 1) % len(CUSTOMERS)  # a few big customers, a long tail
    cust_idx = (cust_idx + rng.integers(0, 3, n) * (rng.random(n) < 0.3)) % len(CUSTOMERS)
    spelling_roll = rng.random(n)
    names = np.empty(n, dtype=object)
    canon = np.empty(n, dtype=object)
    for i, (name, spellings) in enumerate(CUSTOMERS):
        rows = np.flatnonzero(cust_idx == i)
        canon[rows] = name
        # 70% the main spelling, the rest spread over the aliases.
        pick = np.where(spelling_roll[rows] < 0.7, 0, rng.integers(0, len(spellings), len(rows)))
        names[rows] = np.asarray(spellings, dtype=object)[pick]

    # Lines come in POs of 1-12 style/colour lines each.
    po_numbers = np.array([f"{v}" for v in 4000 + rng.integers(0, 6000, n)], dtype=object)
    styles = np.array(
        [
            f"{c[:3].upper().replace(' ', 'X')}{v:04d}"
            for c, v in zip(canon, rng.integers(0, 3000, n), strict=True)
        ],
        dtype=object,
    )
    frame: dict[str, object] = {
        RECORD_UUID: _uuid4_texts(rng.integers(0, 2**63, (n, 2), dtype=np.int64)),
    }
    po_days = rng.integers(0, 540, n)
    ex_days = po_days + rng.integers(45, 150, n)
    eta_days = ex_days + rng.integers(14, 45, n)
    categories = _pick(rng, CATEGORIES, n)
    text_values: dict[str, object] = {
        ORDER_NUMBER: np.array([f"AAG-{first_order + i:07d}" for i in range(n)], dtype=object),
        CUSTOMER_NAME: names,
        SOURCE_CUSTOMER_NAME: names,
        "ORDER DATE PO RECEIVED": _days_after(BASE_DATE, po_days),
        PO_NUMBER: po_numbers,
        "CUSTOMER ALT PO": _codes(rng, "ALT-", n, 0.3),
        "AAG SEASON": _pick(rng, SEASONS, n),
        "CUSTOMER SEASON": _pick(rng, ("SPRING 26", "FALL 26", "HOLIDAY 26", "SPRING 27"), n, 0.8),
        "DROP": _pick(rng, ("D1", "D2", "D3", "D4"), n, 0.6),
        "MONTH": _pick(
            rng,
            ("JAN", "FEB", "MAR", "APR", "MAY", "JUN", "JUL", "AUG", "SEP", "OCT", "NOV", "DEC"),
            n,
        ),
        "RANGE / COLLECTION": _pick(rng, ("CORE", "HERITAGE", "PERFORMANCE", "TRAVEL"), n, 0.5),
        "PROMO GROUP / CAMPAIGN (HOT 30/GLOBAL EDIT)": _pick(
            rng, ("HOT 30", "GLOBAL EDIT"), n, 0.15
        ),
        "CATEGORY": categories,
        "PATTERN ID": _codes(rng, "PAT", n, 0.6),
        "PLANNER": _pick(rng, PLANNERS, n),
        "MAKE OR BUY": _pick(rng, ("MAKE", "BUY"), n),
        "CUSTOMER STYLE": styles,
        "STYLE DESCRIPTION": np.array(
            [
                f"{c.title()} – {s}"
                for c, s in zip(
                    categories,
                    _pick(rng, ("Classic", "Slim", "Relaxed", "Tech", "Merino", "Piqué"), n),
                    strict=True,
                )
            ],
            dtype=object,
        ),
        "CUSTOMER'S COLOUR CODE (CUSTOM FIELD) CUSTOMER PROVIDES THIS": _codes(rng, "C", n, 0.4),
        COLOUR: _pick(rng, COLOURS, n),
        "UNIT OF MEASURE": _pick(rng, UOMS, n),
        "DESTINATION": _pick(rng, DESTINATIONS, n, 0.95),
        "DESTINATION WAREHOUSE": _pick(rng, ("DC1", "DC2", "DC3"), n, 0.7),
        "ALLOCATION (CHANNEL)": _pick(rng, ("WHOLESALE", "DTC", "OUTLET"), n, 0.6),
        "ETA CUSTOMER WAREHOUSE DATE": _days_after(BASE_DATE, eta_days),
        "EX FACTORY DATE": _days_after(BASE_DATE, ex_days),
        "DELIVERY TERMS": _pick(rng, TERMS, n),
        "PLANNED DELIVERY METHOD": _pick(rng, METHODS, n, 0.9),
        "NOTES": _pick(rng, NOTES, n, 0.12),
        "ORDER TYPE": _pick(rng, ORDER_TYPES, n),
        "HS CODE": _pick(rng, ("6105.10", "6109.10", "6201.93", "6203.42", "6110.20"), n, 0.8),
        "COUNTRY OF ORIGIN": _pick(rng, ("VIETNAM", "BANGLADESH", "PERU", "PORTUGAL"), n),
        "∆": _pick(rng, ("Δ QTY", "Δ DATE"), n, 0.05),
    }
    # The pilot case operators know: GREYSON PO 4755 with a handful of lines.
    pilot = np.flatnonzero(canon == "GREYSON")[:8]
    po_numbers[pilot] = "4755"

    # Sizes: one run per line, a contiguous slice of it, quantities in packs of 6.
    sizes = np.full((n, len(SIZE_NAMES)), np.nan)
    run_idx = rng.integers(0, len(SIZE_RUNS), n)
    starts = rng.random(n)
    for r, run in enumerate(SIZE_RUNS):
        rows = np.flatnonzero(run_idx == r)
        cols = np.array([SIZE_INDEX[s] for s in run])
        k = len(run)
        lo = (starts[rows] * max(1, k - 2)).astype(int) if k > 3 else np.zeros(len(rows), int)
        width = np.minimum(k - lo, 3 + rng.integers(0, 6, len(rows)))
        for j in range(k):
            on = (j >= lo) & (j < lo + width)
            qty = (rng.integers(1, 60, len(rows)) * 6).astype(float)
            sizes[rows[on], cols[j]] = qty[on]
    # Now and then a planner types a 0 instead of leaving the cell empty.
    zero = rng.random(n) < 0.05
    sizes[zero, SIZE_INDEX["XXXS"]] = 0.0

    for col in DEMO_COLUMNS:
        if col.name in text_values:
            frame[col.name] = text_values[col.name]
        elif col.kind is Kind.INT and col.name in SIZE_INDEX:
            frame[col.name] = sizes[:, SIZE_INDEX[col.name]]
        elif col.name == TOTAL_QTY:
            frame[col.name] = np.nansum(sizes, axis=1)
        elif col.name == "INVOICE YEAR":
            frame[col.name] = np.where(rng.random(n) < 0.3, 2026.0, np.nan)
        elif col.kind is Kind.DECIMAL:
            values = np.round(rng.uniform(2, 60, n), 2).astype(object)
            values[rng.random(n) >= 0.5] = None
            frame[col.name] = values
        elif col.kind is Kind.DATETIME:
            frame[col.name] = [None] * n
        else:  # sparse INFOR codes and the like: a few percent filled
            codes = _codes(rng, col.name[:2].upper(), n, 0.04)
            if col.length:
                codes = np.array([c[-col.length :] if c else c for c in codes], dtype=object)
            frame[col.name] = codes
    return pd.DataFrame(frame)


def _db_values(frame: pd.DataFrame) -> list[dict[str, object]]:
    """Rows for an INSERT: NaN becomes NULL, whole floats in INT columns become ints."""
    records = frame.astype(object).where(frame.notna(), None)
    return cast(list[dict[str, object]], records.to_dict("records"))  # columns are str


def load_orders(
    engine: Engine, frame: pd.DataFrame | Iterable[pd.DataFrame], *, replace: bool = False
) -> int:
    """Create the demo ORDERS_UNIFIED (dropping an old one when asked) and insert the
    frame(s), in one transaction; returns the number of rows.

    Bulk, below SQLAlchemy's statement layer (each value still goes through the column
    type's own bind processing, so the rows read back as an INSERT through SQLAlchemy
    would have stored them): COPY on PostgreSQL, one executemany per chunk elsewhere."""
    metadata = MetaData()
    table = build_source_table(metadata)
    if replace:
        table.drop(engine, checkfirst=True)
    # The indexes are built once the rows are in: kept up row by row, the random uuids'
    # index made the insert several times slower.
    indexes = list(table.indexes)
    table.indexes.clear()
    metadata.create_all(engine)
    frames = [frame] if isinstance(frame, pd.DataFrame) else frame
    dialect = engine.dialect
    quote = dialect.identifier_preparer.quote
    total = 0
    with engine.begin() as conn:
        raw = conn.connection.dbapi_connection
        assert raw is not None
        cursor = raw.cursor()
        null = None
        if dialect.name == "sqlite":
            cursor.execute("PRAGMA cache_size = -262144")  # 256 MB, this connection only
            null = _sqlite_null(cursor)
        try:
            for chunk in frames:
                for names, rows in _bulk_groups(table, dialect, chunk, null):
                    quoted = ", ".join(quote(n) for n in names)
                    if dialect.name == "postgresql":
                        _copy(cursor, quoted, rows)
                    else:
                        marks = ", ".join("?" for _ in names)
                        cursor.executemany(
                            f"INSERT INTO {SOURCE_TABLE} ({quoted}) VALUES ({marks})", rows
                        )
                total += len(chunk)
        finally:
            cursor.close()
        for index in indexes:
            index.create(conn, checkfirst=True)
    return total


def _sqlite_null(cursor: Any) -> object:
    """What to bind for NULL on this SQLite connection: a float NaN where it stores NULL
    (SQLite keeps no NaN: sqlite3_bind_double stores it as NULL), else None. Python's
    sqlite3 binds None only after looking for an adapter for it, per value: a demo order's
    forty-odd NULL columns took a third of the load (a NaN, a float, binds at once)."""
    nan = float("nan")
    row = cursor.execute("SELECT ? IS NULL", (nan,)).fetchone()
    return nan if row is not None and row[0] == 1 else None


def _driver_values(
    table: Table, dialect: Any, frame: pd.DataFrame, name: str, null: object = None
) -> list[object]:
    """One column as driver values: `null` for NaN, ints in INT columns, and the column
    type's own bind processing (SQLite's uuid and date text)."""
    process = table.c[name].type._cached_bind_processor(dialect)
    if process is not None:
        # Each distinct value processed once (a date column holds a few hundred): a
        # million dates' formatting, and their Timestamps, were seconds of a demo.
        codes, uniques = pd.factorize(frame[name], use_na_sentinel=True)
        done = np.empty(len(uniques) + 1, dtype=object)  # last: NULL, for code -1
        plain = (
            list(uniques.to_pydatetime())
            if isinstance(uniques, pd.DatetimeIndex)
            else np.asarray(uniques).tolist()
        )
        if isinstance(table.c[name].type, Integer):
            plain = [int(v) for v in plain]
        done[:-1] = [process(v) for v in plain]
        done[-1] = null
        return cast(list[object], done[codes].tolist())
    values = frame[name].to_numpy(dtype=object, copy=True)
    missing = pd.isna(values)
    if missing.any():
        values[missing] = null
    listed = values.tolist()
    if isinstance(table.c[name].type, Integer):
        listed = [v if v is null else int(v) for v in listed]
    return listed


def _bulk_groups(
    table: Table, dialect: Any, frame: pd.DataFrame, null: object = None
) -> Iterator[tuple[list[str], list[list[object]]]]:
    """The frame's rows grouped by which size columns they fill, each group with only
    those sizes: a row fills a handful of the ~200, and binding the NULLs of the rest cost
    most of an INSERT's time. The other columns' NULLs are bound as `null`."""
    names = [c.name for c in table.columns if c.name != RECORD_HASH and c.name in frame]
    sizes = [n for n in names if n in SIZE_INDEX]
    others = [n for n in names if n not in SIZE_INDEX]
    base = np.empty((len(frame), len(others)), dtype=object)
    for j, name in enumerate(others):
        base[:, j] = _driver_values(table, dialect, frame, name, null)
    matrix = frame[sizes].to_numpy(dtype=np.float64, na_value=np.nan)
    filled = ~np.isnan(matrix)
    order, bounds = _same_rows(filled)
    for g in range(len(bounds) - 1):
        rows = order[bounds[g] : bounds[g + 1]]
        cols = np.flatnonzero(filled[rows[0]])
        qtys = matrix[np.ix_(rows, cols)].astype(np.int64).tolist()
        rows_out = [b + q for b, q in zip(base[rows].tolist(), qtys, strict=True)]
        yield others + [sizes[c] for c in cols], rows_out


def _same_rows(filled: np.ndarray) -> tuple[np.ndarray, list[int]]:
    """The rows of a boolean matrix grouped by equal rows, groups in the rows' byte order
    and each group's rows in their own order (np.unique(axis=0)'s grouping, which sorted
    a million rows' bytes one by one for seconds): `order` and the groups' bounds in it."""
    packed = np.packbits(filled, axis=1)
    packed = np.pad(packed, ((0, 0), (0, -packed.shape[1] % 8)))
    words = np.ascontiguousarray(packed).view(">u8")  # big-endian: byte order is number order
    order = np.lexsort(words.T[::-1])  # the first word the primary key; stable
    ranked = words[order]
    starts = np.flatnonzero(np.any(ranked[1:] != ranked[:-1], axis=1)) + 1
    return order, ([0, *starts.tolist(), len(filled)] if len(filled) else [0])


def _copy(cursor: Any, quoted: str, rows: list[list[object]]) -> None:
    with cursor.copy(f'COPY "{SOURCE_TABLE}" ({quoted}) FROM STDIN') as copy:
        for row in rows:
            copy.write_row(row)


def demo_chunks(n: int, seed: int = DEFAULT_SEED, *, chunk: int = 50_000) -> Iterator[pd.DataFrame]:
    """generate_orders(n, seed), made `chunk` orders at a time (so a million never sit in
    memory at once): up to `chunk` orders it is exactly generate_orders(n, seed); beyond,
    each chunk has a seed and order numbers of its own. (Made in a child process while
    this one inserted, it came out slower on the shared 2-core machine: pickling.)"""
    for i, start in enumerate(range(0, n, chunk)):
        yield generate_orders(min(chunk, n - start), seed + 7919 * i, first_order=100_000 + start)


def mutate_orders(
    engine: Engine,
    *,
    changed: int = 0,
    deleted: int = 0,
    added: int = 0,
    seed: int = 1,
    customer_spellings: list[str] | None = None,
) -> dict[str, list[str]]:
    """Change, delete and add orders, as the source's daily loads do; returns the uuids.

    Changes alternate between a descriptive field (ex-factory date or colour) and a size
    quantity, so both kinds of diff appear.
    """
    rng = np.random.default_rng(seed)
    metadata = MetaData()
    table = build_source_table(metadata)
    out: dict[str, list[str]] = {"changed": [], "deleted": [], "added": []}
    with engine.begin() as conn:
        stmt = select(table.c[RECORD_UUID], table.c["EX FACTORY DATE"])
        if customer_spellings is not None:
            stmt = stmt.where(table.c[CUSTOMER_NAME].in_(customer_spellings))
        rows = conn.execute(stmt.order_by(table.c[ORDER_NUMBER])).all()
        picks = rng.permutation(len(rows))[: changed + deleted]
        for k, i in enumerate(picks[:changed]):
            uid, ex_factory = rows[i]
            if k % 2 == 0:
                when = (ex_factory or BASE_DATE) + timedelta(days=int(rng.integers(1, 30)))
                values = {"EX FACTORY DATE": when, COLOUR: str(rng.choice(COLOURS))}
            else:
                sizes = conn.execute(
                    select(*(table.c[s] for s in SIZE_NAMES)).where(table.c[RECORD_UUID] == uid)
                ).one()
                present = [s for s, q in zip(SIZE_NAMES, sizes, strict=True) if q]
                size = present[0] if present else "M"
                values = {size: int(sizes[SIZE_INDEX[size]] or 0) + 6 * int(rng.integers(1, 9))}
            conn.execute(update(table).where(table.c[RECORD_UUID] == uid).values(values))
            out["changed"].append(str(uid))
        for i in picks[changed:]:
            uid = rows[i][0]
            conn.execute(delete(table).where(table.c[RECORD_UUID] == uid))
            out["deleted"].append(str(uid))
    if added:
        fresh = generate_orders(added, seed=seed + 10_000, first_order=9_000_000 + seed * 1000)
        if customer_spellings:
            fresh[CUSTOMER_NAME] = customer_spellings[0]
            fresh[SOURCE_CUSTOMER_NAME] = customer_spellings[0]
        with engine.begin() as conn:
            ints = [c.name for c in DEMO_COLUMNS if c.kind is Kind.INT]
            fresh[ints] = fresh[ints].astype("Int64")
            conn.execute(table.insert(), _db_values(fresh))
        out["added"] = fresh[RECORD_UUID].tolist()
    return out


__all__ = [
    "CUSTOMERS",
    "DEFAULT_ORDERS",
    "DEFAULT_SEED",
    "SOURCE_TABLE",
    "STYLE",
    "canonical_customers",
    "demo_chunks",
    "generate_orders",
    "load_orders",
    "mutate_orders",
]
