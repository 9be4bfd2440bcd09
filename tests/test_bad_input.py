"""Hostile rows: each syncs correctly or fails alone, named; the rest of the batch goes on."""

from __future__ import annotations

import json
import uuid

import pytest
from sqlalchemy import inspect, select

from orders_sync_gui.core.models import ChangeType
from orders_sync_gui.resources import resource_path
from orders_sync_gui.services import detection, staging
from orders_sync_gui.services.context import open_context
from orders_sync_gui.services.demo import demo_init
from orders_sync_gui.services.staging import NothingToStageError
from orders_sync_gui.settings import SettingsError
from orders_sync_gui.store.database import Store
from orders_sync_gui.store.schema import staged_rows
from orders_sync_gui.store.source import SourceSchemaError

EVIL = "Robert'); DROP TABLE ORDERS_UNIFIED;--"
UNICODE_COLOUR = "🧵 NAVY – 東京 \u200fעברית\u200f e\u0301"  # emoji, CJK, RTL, combining accent
LONG = "x" * 300


def _row(order: str, customer: str | None = "GREYSON", **values) -> dict:
    base = {
        "record_uuid": str(uuid.uuid4()),
        "AAG ORDER NUMBER": order,
        "CUSTOMER NAME": customer,
        "PO NUMBER": "4755",
        "CUSTOMER STYLE": "BAD1",
        "CUSTOMER COLOUR DESCRIPTION": "NAVY",
        "M": 12,
    }
    base.update(values)
    return base


@pytest.fixture
def ctx(db_url):
    demo_init(db_url, orders=60, seed=2)
    context = open_context(db_url)
    yield context
    context.close()


def _insert(ctx, rows: list[dict]) -> None:
    table = ctx.store.source().table
    with ctx.store.engine.begin() as conn:
        for row in rows:  # one by one: rows have different columns
            conn.execute(table.insert().values(row))


def test_hostile_rows_fail_alone_and_good_ones_stage(ctx):
    sqlite = ctx.store.dialect == "sqlite"
    dup = str(uuid.uuid4())
    rows = [
        {"record_uuid": str(uuid.uuid4())},  # NULL in every column
        _row("BAD-UNICODE", **{"CUSTOMER COLOUR DESCRIPTION": UNICODE_COLOUR}),
        _row("BAD-LONGNOTE", NOTES=LONG),
        _row("BAD-NEG", M=-6),
        _row("BAD-DUP-1", record_uuid=dup),
        _row("BAD-DUP-2", record_uuid=dup),
        _row("BAD-EVIL", customer=EVIL, NOTES=EVIL),
    ]
    if sqlite:  # SQLite keeps what PostgreSQL's column types would refuse or round
        rows += [
            _row("BAD-FRACTION", M=2.5),
            _row("BAD-LONGSTYLE", **{"CUSTOMER STYLE": LONG}),
            _row("BAD-DATE"),
        ]
    _insert(ctx, rows)
    if sqlite:  # a date that is not one, as a careless load into SQLite leaves it
        with ctx.store.engine.begin() as conn:
            conn.exec_driver_sql(
                'UPDATE "ORDERS_UNIFIED" SET "EX FACTORY DATE" = ? WHERE "AAG ORDER NUMBER" = ?',
                ("31/02/2026", "BAD-DATE"),
            )

    _, errors = detection.detect_counts(ctx)
    by_order = {e.order_number: e for e in errors}
    assert by_order["BAD-NEG"].field == "M" and "negative" in by_order["BAD-NEG"].message
    assert "BAD-DUP-1, BAD-DUP-2" in by_order["BAD-DUP-1"].message
    assert by_order["BAD-DUP-2"].field == "record_uuid"
    assert any(e.field == "CUSTOMER NAME" and e.order_number is None for e in errors)
    if sqlite:
        assert "not a whole number" in by_order["BAD-FRACTION"].message
        assert by_order["BAD-DATE"].field == "EX FACTORY DATE"
    assert "BAD-UNICODE" not in by_order and "BAD-LONGNOTE" not in by_order

    found = detection.preview(ctx, "GREYSON")
    valid = {c.value("AAG ORDER NUMBER"): c for c in found.changes}
    assert valid["BAD-UNICODE"].value("CUSTOMER COLOUR DESCRIPTION") == UNICODE_COLOUR.replace(
        "e\u0301", "é"
    )  # NFC
    assert valid["BAD-LONGNOTE"].value("NOTES") == LONG
    assert found.counts.invalid == len({e.order_number for e in found.errors})

    batch = staging.stage(ctx, "GREYSON")
    assert batch.item_count == len(valid) and batch.invalid_count == found.counts.invalid
    with ctx.store.engine.connect() as conn:
        staged = {
            r.order_number: r
            for r in conn.execute(
                select(staged_rows).where(staged_rows.c.stg_batch_id == batch.batch_id)
            )
        }
    assert set(staged) == set(valid)
    unicode_values = json.loads(staged["BAD-UNICODE"].stg_values)["fields"]
    assert unicode_values["CUSTOMER COLOUR DESCRIPTION"] == UNICODE_COLOUR.replace("e\u0301", "é")
    if sqlite:
        assert len(staged["BAD-LONGSTYLE"].style) == 50  # clipped for display only ...
        assert json.loads(staged["BAD-LONGSTYLE"].stg_values)["fields"]["CUSTOMER STYLE"] == LONG


def test_sql_metacharacters_in_a_customer_name_are_just_text(ctx):
    _insert(ctx, [_row("EVIL-1", customer=EVIL, NOTES=EVIL), _row("QUOTE-1", customer="O'NEILL")])
    [evil], _ = detection.detect_counts(ctx, EVIL.upper())
    assert evil.new == 1
    batch = staging.stage(ctx, EVIL.upper())
    assert batch.customer == EVIL.upper() and batch.item_count == 1
    assert staging.history(ctx, EVIL.upper())[0].batch_id == batch.batch_id
    assert inspect(ctx.store.engine).has_table("ORDERS_UNIFIED")
    [oneill], _ = detection.detect_counts(ctx, "o'neill")
    assert oneill.customer == "O'NEILL" and oneill.new >= 1


def test_a_mapped_column_missing_from_the_source_is_named(ctx, isolated_home):
    mapping = json.loads(resource_path("board_mapping.json").read_text(encoding="utf-8"))
    mapping["columns"].append(
        {"source": "FACTORY CODE", "column_id": "text_factory", "title": "FACTORY", "type": "text"}
    )
    (isolated_home / "config").mkdir(parents=True)
    (isolated_home / "config" / "board_mapping.json").write_text(json.dumps(mapping))
    custom = open_context(str(ctx.store.url))
    with pytest.raises(SourceSchemaError, match=r"lacks the mapped column\(s\) \[FACTORY CODE\]"):
        detection.detect_counts(custom)
    custom.close()


def test_a_broken_mapping_file_is_a_clear_error(isolated_home, db_url):
    Store(db_url, new_file=True).dispose()
    (isolated_home / "config").mkdir(parents=True)
    (isolated_home / "config" / "board_mapping.json").write_text("{ not json")
    with pytest.raises(SettingsError, match="not valid JSON"):
        open_context(db_url)


def test_nothing_to_stage_says_so_and_writes_nothing(ctx):
    with pytest.raises(NothingToStageError, match="GREYSON has nothing to stage for DELETED"):
        staging.stage(ctx, "GREYSON", types=[ChangeType.DELETED])
    assert staging.history(ctx) == []
