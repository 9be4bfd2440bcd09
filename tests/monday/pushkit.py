"""Helpers of the push tests: a quick MondaySetup, a recording sleep, the demo database,
and what to check on the board and in the store.

(A module of its own, not conftest.py: `from conftest import ...` picks whichever
conftest pytest loaded last when several test folders are collected together.)
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import select

from orders_sync_gui.core.columns import SIZE_NAMES
from orders_sync_gui.core.models import ChangeType
from orders_sync_gui.monday.sandbox import SandboxServer
from orders_sync_gui.services import detection, staging
from orders_sync_gui.services.context import Context
from orders_sync_gui.services.demo import demo_init
from orders_sync_gui.services.monday_setup import ClientHooks, Limits, MondaySetup, monday_setup
from orders_sync_gui.store import pushing
from orders_sync_gui.store.schema import staged_rows, staged_subitems
from orders_sync_gui.store.syncstate import load_state

# Distinctive, so a scan for it cannot hit anything by accident.
TOKEN = "tok-OrdersSync-7f3Q-zzLEAKCANARYzz-91c2"
ORDERS = 150  # GREYSON has 30-odd of them with seed 7: enough for a batch of 20
SEED = 7
CUSTOMER = "GREYSON"
WINDOW = 1.0  # seconds in the sandbox's "minute"


@dataclass(slots=True, repr=False)
class QuickSetup(MondaySetup):
    """A MondaySetup whose clients back off in tens of milliseconds, from a seeded RNG, and
    whose every wait goes through `hooks.sleep` (which tests record). Its clients are
    MondaySetup's own: only these defaults differ."""

    base_backoff_seconds: float = 0.05
    max_backoff_seconds: float = 0.4
    hooks: ClientHooks = field(
        default_factory=lambda: ClientHooks(seed=1), repr=False, compare=False
    )


class SleepRecorder:
    """A sleep function that really sleeps (the sandbox's windows need the time to pass)
    and remembers every wait; `hook` runs before the first wait (e.g. to free a slot)."""

    def __init__(self, hook: Callable[[], None] | None = None) -> None:
        self.waits: list[float] = []
        self._hook = hook

    def __call__(self, seconds: float) -> None:
        self.waits.append(seconds)
        if self._hook is not None:
            hook, self._hook = self._hook, None
            hook()
        time.sleep(seconds)


def make_demo_db(url: str, orders: int = ORDERS, seed: int = SEED) -> str:
    demo_init(url, orders=orders, seed=seed)
    return url


def quick_setup(
    ctx: Context, server: SandboxServer, limits: Limits | None = None, **knobs: Any
) -> QuickSetup:
    """The MondaySetup the services build (monday_setup), made quick for tests."""
    base = monday_setup(
        ctx,
        url=server.url,
        token=TOKEN,
        board_id=server.board_id,
        # Small chunks: a 10-order push still spans many requests, so faults meet them all.
        limits=limits or Limits(window_seconds=WINDOW, max_mutations_per_request=10),
    )
    knobs.setdefault("timeout_seconds", 5.0)
    knobs.setdefault("max_attempts", 8)
    knobs.setdefault("max_wait_seconds", 20.0)
    # The `sleep` and `seed` knobs are the client hooks: a recording sleep, the jitter's seed.
    hooks = ClientHooks(sleep=knobs.pop("sleep", time.sleep), seed=knobs.pop("seed", 1))
    fields = {
        name: getattr(base, name) for name in ("url", "api_version", "board_id", "token", "limits")
    }
    return QuickSetup(**fields, hooks=hooks, **knobs)


# ---------------------------------------------------------------------- what the board holds
def active(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [i for i in items if i["state"] == "active"]


def texts(item: dict[str, Any]) -> dict[str, str | None]:
    return {cid: cv["text"] for cid, cv in item["column_values"].items()}


def board_view(dump: dict[str, Any]) -> dict[str, Any]:
    """Active items by id: name, group, column texts, and active subitems by name.

    Subitems are keyed by name (their size), so a size deleted and recreated by an undo
    compares equal to the original when its values are the same."""
    groups = {g["id"]: g["title"] for g in dump["board"]["groups"]}
    return {
        item["id"]: {
            "name": item["name"],
            "group": groups.get(item["group_id"]),
            "values": texts(item),
            "subitems": {s["name"]: texts(s) for s in active(item["subitems"])},
        }
        for item in active(dump["items"])
    }


def assert_no_duplicates(dump: dict[str, Any], uuid_column: str = "text_record_uuid") -> None:
    """One active item per record_uuid, one active subitem per (parent, name)."""
    per_uuid = Counter(texts(i)[uuid_column] for i in active(dump["items"]))
    doubled = {u: n for u, n in per_uuid.items() if n > 1}
    assert not doubled, f"items created twice: {doubled}"
    for item in active(dump["items"]):
        names = Counter(s["name"] for s in active(item["subitems"]))
        twice = {n: c for n, c in names.items() if c > 1}
        assert not twice, f"item {item['id']} has subitems created twice: {twice}"


def assert_state_matches_board(ctx: Context, dump: dict[str, Any], customer: str) -> int:
    """Every synced record of the customer names a live item holding its uuid and quantity,
    and live subitems with its sizes; returns how many records were checked."""
    items = {i["id"]: i for i in active(dump["items"])}
    with ctx.store.engine.connect() as conn:
        state = load_state(conn, customer)
    for row in state:
        item = items.get(row.monday_item_id or "")
        assert item is not None, f"{row.record.record_uuid}: item {row.monday_item_id} not live"
        values = texts(item)
        assert values["text_record_uuid"] == row.record.record_uuid
        assert values["numeric_order_qty"] == str(sum(row.record.sizes.values()))
        subs = {s["id"]: s for s in active(item["subitems"])}
        assert set(row.subitem_ids) == set(row.record.sizes), row.record.record_uuid
        for size, sub_id in row.subitem_ids.items():
            sub = subs.get(sub_id)
            assert sub is not None, f"subitem {sub_id} ({size}) is not live"
            assert sub["name"] == size
            assert texts(sub)["numeric_order_qty"] == str(row.record.sizes[size])
    return len(state)


def row_statuses(ctx: Context, batch_id: int) -> Counter[str]:
    with ctx.store.engine.connect() as conn:
        rows = conn.execute(
            select(staged_rows.c.stg_status).where(staged_rows.c.stg_batch_id == batch_id)
        ).scalars()
        return Counter(rows)


def subitem_statuses(ctx: Context, batch_id: int) -> Counter[str]:
    with ctx.store.engine.connect() as conn:
        rows = conn.execute(
            select(staged_subitems.c.stg_status).where(staged_subitems.c.stg_batch_id == batch_id)
        ).scalars()
        return Counter(rows)


def counts(ctx: Context, customer: str = CUSTOMER) -> dict[str, int]:
    [found], _ = detection.detect_counts(ctx, customer)
    return {
        "new": found.new,
        "changed": found.changed,
        "deleted": found.deleted,
        "unchanged": found.unchanged,
    }


def stage(ctx: Context, limit: int = 20, types: tuple[ChangeType, ...] | None = None) -> int:
    kwargs: dict[str, Any] = {"limit": limit}
    if types is not None:
        kwargs["types"] = types
    return staging.stage(ctx, CUSTOMER, **kwargs).batch_id


def staged(ctx: Context, batch_id: int) -> list[pushing.StagedRow]:
    with ctx.store.engine.connect() as conn:
        return pushing.load_rows(conn, batch_id)


@dataclass
class Expected:
    """What a batch of NEW rows should put on the board, read from the source table itself
    (not from what staging made of it)."""

    names: dict[str, str] = field(default_factory=dict)  # uuid -> item name
    qty: dict[str, str] = field(default_factory=dict)  # uuid -> ORDER QTY text
    ex_factory: dict[str, str | None] = field(default_factory=dict)
    sizes: dict[str, dict[str, str]] = field(default_factory=dict)  # uuid -> {size: qty}
    zero_sizes: dict[str, list[str]] = field(default_factory=dict)  # sizes typed as 0


def expected_items(ctx: Context, batch_id: int, customer: str = CUSTOMER) -> Expected:
    out = Expected()
    table = ctx.store.source().table
    uuids = [r.record_uuid for r in staged(ctx, batch_id)]
    with ctx.store.engine.connect() as conn:
        rows = conn.execute(table.select().where(table.c.record_uuid.in_(uuids))).all()
    assert len(rows) == len(uuids)
    for row in rows:
        src = row._mapping
        uid = str(src["record_uuid"])
        parts = [customer, src["PO NUMBER"], src["CUSTOMER STYLE"]]
        parts.append(src["CUSTOMER COLOUR DESCRIPTION"])
        out.names[uid] = " · ".join(p for p in parts if p)
        sizes = {s: int(src[s]) for s in SIZE_NAMES if src[s] is not None}
        out.sizes[uid] = {s: str(q) for s, q in sizes.items() if q}
        out.zero_sizes[uid] = [s for s, q in sizes.items() if q == 0]
        out.qty[uid] = str(sum(sizes.values()))
        day = src["EX FACTORY DATE"]
        out.ex_factory[uid] = day.isoformat()[:10] if day is not None else None
    return out
