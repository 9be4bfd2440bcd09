"""Hostile rows in ORDERS_UNIFIED: each syncs correctly, or fails alone with a message that
names the order and the field; the rest of the batch goes through.

"Syncs correctly" is read off the sandbox board, against expectations computed here from the
raw source values (not from what the app made of them): every mapped column's text, the
item's name (at most 255 characters), the order quantity and one subitem per non-zero size.
Most rows are written as the app's own inserts would; some (a text in a number column, a
date that is none) straight through the driver, as a careless load into SQLite leaves them.
"""

from __future__ import annotations

import json
import math
import unicodedata
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

import pytest
from relkit import FIGURES, UUID_COLUMN, audit, long_text_shown, store_problems
from sqlalchemy import text

from orders_sync_gui.core.models import BatchStatus
from orders_sync_gui.resources import resource_path
from orders_sync_gui.services import detection, staging
from orders_sync_gui.services.context import Context, open_context
from orders_sync_gui.services.monday_setup import Limits
from orders_sync_gui.services.push import PushStopped, push
from orders_sync_gui.store.source import SourceSchemaError
from tests.monday.pushkit import active, make_demo_db, quick_setup, texts

ORDER, CUST, PO, STYLE, COLOUR = (
    "AAG ORDER NUMBER",
    "CUSTOMER NAME",
    "PO NUMBER",
    "CUSTOMER STYLE",
    "CUSTOMER COLOUR DESCRIPTION",
)
NOTES, DESC, TERMS, SEASON = "NOTES", "STYLE DESCRIPTION", "DELIVERY TERMS", "AAG SEASON"
EXF, RECEIVED, ETA = "EX FACTORY DATE", "ORDER DATE PO RECEIVED", "ETA CUSTOMER WAREHOUSE DATE"
SYNC = "sync"
PLANES = (
    "BMP 東京 ß | SMP 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 😀 | SIP 𠀀𠜎 | TIP 𰀀 | SSP \U000e0041\U000e007f "
    "| PUA \U000f0000\U0010fffd"
)
HUGE = ("🧵 abc é " * 12_500)[:100_000]
GRAPHQL = '") { id } } mutation { delete_item(item_id: 1) { id } } #'


@dataclass
class Case:
    name: str
    expect: str  # SYNC, or the field its RowError must name
    values: dict[str, Any] = field(default_factory=dict)
    raw: dict[str, Any] = field(default_factory=dict)  # written through the driver after
    sqlite_only: bool = False  # PostgreSQL's column types refuse (or round) it at INSERT
    order: str | None = None

    def row(self) -> dict[str, Any]:
        base = {
            "record_uuid": str(uuid.uuid4()),
            ORDER: self.order,
            CUST: "GREYSON",
            PO: "4755",
            STYLE: "BAD1",
            COLOUR: "NAVY",
            "M": 12,
        }
        base.update(self.values)
        return base


DUP = str(uuid.UUID(int=0xBAD_0000_0000_4000_8000_000000000001))
CASES = [
    Case("null-everything", CUST, values={c: None for c in (ORDER, CUST, PO, STYLE, COLOUR, "M")}),
    Case("null-order-number", SYNC, values={ORDER: None}),
    Case("null-po", SYNC, values={PO: None}),
    Case("null-style-and-colour", SYNC, values={STYLE: None, COLOUR: None}),
    Case("null-every-name-part", SYNC, values={PO: None, STYLE: None, COLOUR: None}),
    Case("null-sizes", SYNC, values={"M": None}),
    Case("null-dates", SYNC, values={EXF: None, RECEIVED: None, ETA: None}),
    Case("null-customer", CUST, values={CUST: None}),
    Case("blank-customer", CUST, values={CUST: " \t "}),
    Case("blank-name-parts", SYNC, values={PO: "   ", STYLE: "\t", COLOUR: "\n"}),
    Case("nan-size", SYNC, values={"M": math.nan}, sqlite_only=True),
    Case("nan-text", SYNC, values={NOTES: math.nan}, sqlite_only=True),
    Case("infinite-size", "M", raw={"M": math.inf}, sqlite_only=True),
    Case("minus-infinite-size", "L", raw={"L": -math.inf}, sqlite_only=True),
    Case("nan-text-in-a-size", "M", raw={"M": "NaN"}, sqlite_only=True),
    Case("infinity-as-text", SYNC, values={NOTES: "Infinity", COLOUR: "NaN", STYLE: "-inf"}),
    Case("infinite-date", EXF, raw={EXF: math.inf}, sqlite_only=True),
    Case("astral-emoji", SYNC, values={COLOUR: "🧵🪡👗 NAVY 👩🏽‍🔧"}),
    Case("right-to-left", SYNC, values={DESC: "\u202eRTL\u202c עברית العربية", STYLE: "שלום"}),
    Case("every-plane", SYNC, values={NOTES: PLANES, COLOUR: "𝔘𝔫𝔦 😀 𠀀"}),
    Case("combining-marks", SYNC, values={COLOUR: "e\u0301cru\u0308"}),
    Case("zero-width", SYNC, values={STYLE: "\u200b\u200d\ufeff", COLOUR: "\u2060"}),
    Case("control-chars", SYNC, values={NOTES: "a\tb\nc\r\nd\x1b[31me\x07", COLOUR: "NAVY\nBLUE"}),
    Case("nul-char", SYNC, values={NOTES: "before\x00after"}, sqlite_only=True),
    Case("300-char-style", SYNC, values={STYLE: "S" * 300}, sqlite_only=True),
    Case("300-char-notes", SYNC, values={NOTES: "n" * 300}),
    # A long text holds 2,000 characters (developer.monday.com/api-reference/docs/long-text):
    # pushed cut, with a marker. A text column has no limit of its own, but an item holds
    # about 64 KB in all (.../docs/text): such a row fails alone, naming its largest field.
    Case("100k-char-notes", SYNC, values={NOTES: HUGE}, sqlite_only=True),
    Case("2001-char-notes", SYNC, values={NOTES: "n" * 2_000 + "🧵"}, sqlite_only=True),
    Case("100k-char-description", DESC, values={DESC: "d" * 100_000}, sqlite_only=True),
    Case("100k-char-colour", COLOUR, values={COLOUR: HUGE}, sqlite_only=True),
    Case("name-over-255", SYNC, values={PO: "P" * 120, STYLE: "S" * 140}, sqlite_only=True),
    Case("negative-qty", "M", values={"M": -6}),
    Case("fractional-qty", "M", raw={"M": 2.5}, sqlite_only=True),
    Case("huge-qty", "M", values={"M": 10**12}, sqlite_only=True),
    Case("int-max-qty", SYNC, values={"M": 2_147_483_647}),
    Case("sizes-adding-past-int", "TOTAL QTY", values={"M": 2_000_000_000, "L": 2_000_000_000}),
    Case("zero-qty", SYNC, values={"M": 0, "L": 0}),
    Case("text-qty", "M", raw={"M": "12abc"}, sqlite_only=True),
    Case("year-1", SYNC, values={EXF: datetime(1, 1, 1)}),
    Case("year-9999", SYNC, values={EXF: datetime(9999, 12, 31, 23, 59, 59)}),
    Case("unparsable-date", EXF, raw={EXF: "31/02/2026"}, sqlite_only=True),
    Case("impossible-date", ETA, raw={ETA: "2026-02-30 00:00:00"}, sqlite_only=True),
    Case("microsecond-time", SYNC, values={RECEIVED: datetime(2026, 3, 1, 10, 30, 15, 123456)}),
    Case("time-zone-date", EXF, raw={EXF: "2026-03-01T10:00:00+02:00"}, sqlite_only=True),
    Case("number-as-date", EXF, raw={EXF: 20260101}, sqlite_only=True),
    Case("dup-uuid-1", "record_uuid", values={"record_uuid": DUP}),
    Case("dup-uuid-2", "record_uuid", values={"record_uuid": DUP}),
    Case("malformed-uuid", "record_uuid", raw={"record_uuid": "not-a-uuid"}, sqlite_only=True),
    Case("braced-uuid", SYNC, raw={"record_uuid": "{0BAD0000-AAAA-4BBB-8CCC-0123456789AB}"},
         sqlite_only=True),
    Case("quoted-customer", SYNC, values={CUST: "O'Brien \"The Best\" Ltd"}),
    Case("sql-customer", SYNC, values={CUST: "ACME; DROP TABLE ORDERS_UNIFIED;--"}),
    Case("sql-customer-2", SYNC, values={CUST: "Robert'); DROP TABLE MON_BatchProcessing;--"}),
    Case("unicode-customer", SYNC, values={CUST: "🧵 Écru 東京 \u200fעברית\u200f"}),
    # prints as GREYSON, so it is GREYSON: its row goes into GREYSON's batch and group
    Case("invisible-customer", SYNC, values={CUST: "\ufeffGREY\u200bSON\x1b\u202c"}),
    Case("escapes-in-name-parts", SYNC,
         values={STYLE: "\x1b[2J\x1b[HBAD1", COLOUR: "NA\xadVY\x7f"}),
    # a customer name must fit the staging tables' NVARCHAR(100) once canonical (upper-cased)
    Case("300-char-customer", CUST, values={CUST: "LONG CUSTOMER " * 22}, sqlite_only=True),
    Case("sharp-s-customer", CUST, values={CUST: "Straße " + "x" * 85 + " Weißß"}),  # 98 -> 101
    Case("sql-order-number", SYNC, order="AAG-1'; DELETE FROM MON_SyncState;--"),
    Case("sql-po", SYNC, values={PO: "4755' OR '1'='1"}),
    Case("graphql-injection", SYNC, values={COLOUR: GRAPHQL}),
    Case("json-lookalikes", SYNC, values={TERMS: '{"label":"Done"}', SEASON: '["A","B"]'}),
    Case("empty-status", SYNC, values={TERMS: "", SEASON: ""}),
    Case("comma-dropdown", SYNC, values={SEASON: "SS26, FW26"}),
    Case("300-char-status-label", SYNC, values={TERMS: "T" * 300}, sqlite_only=True),
]  # fmt: skip
for number, case in enumerate(CASES):
    if case.order is None and ORDER not in case.values:
        case.order = f"BAD-{number:02d}-{case.name}"


# ---------------------------------------------------------------------- expectations
def _nfc(value: Any) -> str:
    return unicodedata.normalize("NFC", value if isinstance(value, str) else str(value))


def _printed(value: Any) -> str:
    """What prints of a raw value in a name: no control or format characters (spaces for
    tabs and line breaks), but for the joiner inside an emoji (👩🏽‍🔧, astral-emoji)."""
    text = _nfc(value)
    kept = []
    for i, ch in enumerate(text):
        in_emoji = (
            ch == "\u200d"
            and 0 < i < len(text) - 1
            and ord(text[i - 1]) >= 0x1F000
            and unicodedata.category(text[i + 1]) == "So"
        )
        if ch.isspace() or unicodedata.category(ch) not in ("Cc", "Cf") or in_emoji:
            kept.append(ch)
    return "".join(kept)


def _customer(raw: str) -> str:
    return "GREYSON" if raw == "GREYSON" else " ".join(_printed(raw).split()).upper()


def _text(kind: str, value: Any) -> str | None:
    """What the board shows for a raw source value in a column of this kind."""
    if isinstance(value, float) and math.isnan(value):
        value = None
    if value is None or value == "":
        return None if kind in ("status", "dropdown") else ""
    if isinstance(value, datetime):
        midnight = (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0)
        return value.date().isoformat() if midnight else value.strftime("%Y-%m-%d %H:%M")
    if isinstance(value, date):
        return value.isoformat()
    if kind == "long_text":
        return long_text_shown(_nfc(value))
    return _nfc(value)


def _name(row: Mapping[str, Any]) -> str:
    parts = [_customer(row[CUST]), row.get(PO), row.get(STYLE), row.get(COLOUR)]
    name = " · ".join(n for p in parts if p and (n := " ".join(_printed(p).split())))
    # 255 as monday counts: UTF-16 code units (an emoji counts 2); a cut pair is dropped.
    units = name.encode("utf-16-le")
    if len(units) <= 2 * 255:
        return name
    return units[: 2 * 254].decode("utf-16-le", "ignore").rstrip() + "…"


def _units(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _sizes(row: Mapping[str, Any]) -> dict[str, str]:
    return {
        s: str(int(q))
        for s, q in row.items()
        if s in ("M", "L") and isinstance(q, int | float) and not math.isnan(q) and q
    }


def _check_on_board(ctx: Context, case: Case, row: dict[str, Any], items: dict) -> list[str]:
    uid = str(uuid.UUID(row["record_uuid"]))
    found = items.get(uid, [])
    if len(found) != 1:
        return [f"{len(found)} items"]
    [item] = found
    wrong = []
    if item["name"] != _name(row) or _units(item["name"]) > 255:
        wrong.append(f"name {item['name'][:80]!r} is not {_name(row)[:80]!r}")
    values = texts(item)
    for mapped in ctx.mapping.columns:
        raw = row.get(mapped.source)
        want = _customer(raw) if mapped.source == CUST else _text(mapped.column.type, raw)
        if values.get(mapped.column.column_id) != want:
            got = values.get(mapped.column.column_id)
            wrong.append(f"{mapped.source}: {str(got)[:60]!r} is not {str(want)[:60]!r}")
    sizes = _sizes(row)
    qty = str(sum(int(q) for q in sizes.values()))
    if values["numeric_order_qty"] != qty:
        wrong.append(f"qty {values['numeric_order_qty']} is not {qty}")
    subs = {s["name"]: texts(s)["numeric_order_qty"] for s in active(item["subitems"])}
    if subs != sizes:
        wrong.append(f"subitems {subs} are not {sizes}")
    return wrong


# ---------------------------------------------------------------------- the corpus
def _insert(ctx: Context, cases: list[Case]) -> dict[str, dict[str, Any]]:
    table = ctx.store.source().table
    rows = {}
    with ctx.store.engine.begin() as conn:
        for case in cases:
            row = rows[case.name] = case.row()
            if case.order is not None:
                row[ORDER] = case.order
            conn.execute(table.insert().values(row))
            for column, value in case.raw.items():  # straight through the driver
                conn.execute(
                    text(f'UPDATE "ORDERS_UNIFIED" SET "{column}" = :v WHERE "{ORDER}" = :o'),
                    {"v": value, "o": case.order},
                )
                row[column] = value
    return rows


@pytest.fixture
def hostile_ctx(db_url):  # type: ignore[no-untyped-def]
    context = open_context(make_demo_db(db_url))
    yield context
    context.close()


def test_hostile_rows_sync_or_fail_alone_naming_order_and_field(hostile_ctx, make_sandbox):
    ctx = hostile_ctx
    sqlite = ctx.store.dialect == "sqlite"
    cases = [c for c in CASES if sqlite or not c.sqlite_only]
    rows = _insert(ctx, cases)
    FIGURES.bad_rows_tried += len(cases)

    # Detection over every customer: no crash; the invalid rows named, one error each.
    counts, errors = detection.detect_counts(ctx)
    by_order = {e.order_number: e for e in errors}
    by_uuid = {e.record_uuid: e for e in errors if e.record_uuid}
    handled: set[str] = set()
    for case in (c for c in cases if c.expect != SYNC):
        error = (
            by_order.get(case.order) if case.order else by_uuid.get(rows[case.name]["record_uuid"])
        )
        assert error is not None, f"{case.name}: no error names it"
        assert error.field == case.expect, f"{case.name}: names [{error.field}]: {error}"
        assert f"[{case.expect}]" in str(error) and (case.order or "(no number)") in str(error)
        handled.add(case.name)

    # Every customer the corpus touches is staged and pushed: valid rows only, all of them.
    server = make_sandbox()
    setup = quick_setup(ctx, server, limits=Limits(window_seconds=1, max_mutations_per_request=10))
    customers = sorted({c.customer for c in counts if c.new})
    for customer in customers:
        batch = staging.stage(ctx, customer)
        for _ in range(5):
            try:
                report = push(ctx, batch.batch_id, setup)
            except PushStopped as stopped:
                pytest.fail(f"{customer!r}: the whole push stopped: {stopped}")
            if report.status == BatchStatus.PUSHED:
                break
        assert report.status == BatchStatus.PUSHED, f"{customer!r}: {report.failures}"

    dump = server.dump()
    items: dict[str, list] = {}
    for item in active(dump["items"]):
        items.setdefault(texts(item)[UUID_COLUMN], []).append(item)
    problems = {}
    for case in (c for c in cases if c.expect == SYNC):
        wrong = _check_on_board(ctx, case, rows[case.name], items)
        if wrong:
            problems[case.name] = wrong
        else:
            handled.add(case.name)
    assert problems == {}
    assert all(len(g["title"]) <= 255 for g in dump["board"]["groups"])
    for customer in customers:  # the rest of each batch went through, and nothing twice
        result = audit(ctx, dump, customer)
        result.record()
        result.assert_clean(customer)
    assert audit(ctx, dump, "GREYSON").synced >= 35  # the demo's own orders, all of them
    assert store_problems(ctx) == []
    FIGURES.bad_rows_handled += len(handled)
    assert handled == {c.name for c in cases}


def test_rows_monday_cannot_take_fail_alone_naming_order_and_field(db, isolated_home, make_sandbox):  # type: ignore[no-untyped-def]
    """A mapping whose name template leaves the customer out, and sends CUSTOMER ALT PO to a
    numbers column (as an operator might map it): a row whose name fields and order number
    are all blank cannot be named; a row whose ALT PO is no number is refused by monday.
    Each fails alone, its message naming the order (in the report) and the field."""
    mapping = json.loads(resource_path("board_mapping.json").read_text("utf-8"))
    mapping["item_name_template"] = "{CUSTOMER STYLE} · {CUSTOMER COLOUR DESCRIPTION}"
    for column in mapping["columns"]:
        if column["source"] == "CUSTOMER ALT PO":
            column.update(column_id="numeric_alt_po", type="numbers")
    (isolated_home / "config").mkdir(parents=True, exist_ok=True)
    (isolated_home / "config" / "board_mapping.json").write_text(json.dumps(mapping), "utf-8")
    ctx = open_context(db)
    try:
        with ctx.store.engine.begin() as conn:
            conn.execute(text('UPDATE "ORDERS_UNIFIED" SET "CUSTOMER ALT PO" = NULL'))
        cases = [
            Case("blank-name", SYNC, values={ORDER: None, STYLE: "  ", COLOUR: None}),
            Case("alt-po-no-number", SYNC, values={"CUSTOMER ALT PO": "ALT-77"}, order="AAA-1"),
        ]
        rows = _insert(ctx, cases)
        FIGURES.bad_rows_tried += len(cases)
        server = make_sandbox(mapping=mapping)
        batch = staging.stage(ctx, "GREYSON", limit=12)
        report = push(ctx, batch.batch_id, quick_setup(ctx, server))
        assert (report.status, report.succeeded, report.failed) == ("PARTIAL", 10, 2)
        failures = {f["record_uuid"]: f for f in report.failures}
        blank = failures[rows["blank-name"]["record_uuid"]]["error"]
        assert "[CUSTOMER STYLE]" in blank and "[CUSTOMER COLOUR DESCRIPTION]" in blank
        refused = failures[rows["alt-po-no-number"]["record_uuid"]]
        assert refused["order_number"] == "AAA-1"
        assert refused["error"].startswith("ColumnValueException")
        assert "numeric_alt_po" in refused["error"] and "[CUSTOMER ALT PO]" in refused["error"]
        on_board = {texts(i)[UUID_COLUMN] for i in active(server.dump()["items"])}
        assert len(on_board) == 10 and not on_board & set(failures)  # the rest went through
        FIGURES.bad_rows_handled += len(cases)
    finally:
        ctx.close()


# ---------------------------------------------------------------------- the table itself
def test_a_size_column_renamed_or_dropped_after_a_sync_follows_on_the_board(db_url, make_sandbox):  # type: ignore[no-untyped-def]
    """The size columns are those between [UNIT OF MEASURE] and [TOTAL QTY], by position:
    a renamed one is a new size, a dropped one a size no order has any more."""
    url = make_demo_db(db_url)
    ctx = open_context(url)
    server = make_sandbox()
    setup = quick_setup(ctx, server)
    try:
        first = staging.stage(ctx, "GREYSON")
        assert push(ctx, first.batch_id, setup).status == BatchStatus.PUSHED
        before = {
            texts(i)[UUID_COLUMN]: {s["name"] for s in active(i["subitems"])}
            for i in active(server.dump()["items"])
        }
        renamed, dropped = _busiest_sizes(before)
        with ctx.store.engine.begin() as conn:
            conn.exec_driver_sql(
                f'ALTER TABLE "ORDERS_UNIFIED" RENAME COLUMN "{renamed}" TO "{renamed} (NEW)"'
            )
            # PostgreSQL's row hash (a generated column, sql/007's counterpart) depends on
            # every size column: the DBA drops it with the column, and detection reads and
            # hashes every row again (it checks which columns the hash covers).
            cascade = " CASCADE" if ctx.store.dialect == "postgresql" else ""
            conn.exec_driver_sql(f'ALTER TABLE "ORDERS_UNIFIED" DROP COLUMN "{dropped}"{cascade}')
    finally:
        ctx.close()
    ctx = open_context(url)  # the table is reflected again
    try:
        found = detection.preview(ctx, "GREYSON")
        touched = {u for u, sizes in before.items() if sizes & {renamed, dropped}}
        assert {c.record_uuid for c in found.changes} == touched
        second = staging.stage(ctx, "GREYSON")
        assert push(ctx, second.batch_id, setup).status == BatchStatus.PUSHED
        dump = server.dump()
        for item in active(dump["items"]):
            names = {s["name"] for s in active(item["subitems"])}
            was = before[texts(item)[UUID_COLUMN]]
            assert not names & {renamed, dropped}
            assert (f"{renamed} (NEW)" in names) == (renamed in was)
        result = audit(ctx, dump)
        result.record()
        result.assert_clean("after the columns changed")
    finally:
        ctx.close()


def _busiest_sizes(before: dict[str, set[str]]) -> tuple[str, str]:
    counts: dict[str, int] = {}
    for sizes in before.values():
        for size in sizes:
            counts[size] = counts.get(size, 0) + 1
    first, second = sorted(counts, key=lambda s: (-counts[s], s))[:2]
    return first, second


def test_a_table_without_its_size_bounds_is_named_not_a_crash(db):  # type: ignore[no-untyped-def]
    ctx = open_context(db)
    with ctx.store.engine.begin() as conn:
        conn.exec_driver_sql('ALTER TABLE "ORDERS_UNIFIED" RENAME COLUMN "TOTAL QTY" TO "TOTAL"')
    ctx.close()
    ctx = open_context(db)
    try:
        with pytest.raises(SourceSchemaError, match=r"\[UNIT OF MEASURE\] and \[TOTAL QTY\]"):
            detection.detect_counts(ctx)
    finally:
        ctx.close()
