"""`orders-sync drift [--customer NAME] [--json]`: where the board no longer says what was
last pushed (services/drift.py reads and compares; this module prints)."""

from __future__ import annotations

import argparse
import json

from .core.drift import Drift
from .core.text import escape_for_terminal
from .services.context import Context
from .services.drift import read_drift
from .services.monday_setup import monday_setup


def _shown(value: object) -> str:
    return escape_for_terminal("—" if value is None else str(value))


def drift_text(drift: Drift, requests: int) -> str:
    who = drift.customer or "every customer"
    lines = [
        f"drift of {who}: {drift.checked} synced orders compared with their items "
        f"({requests} requests)"
    ]
    if drift.clean:
        lines.append("the board says what was last pushed")
    for c in drift.changed:
        lines.append(
            f"  changed  item {c.item_id} [{_shown(c.field)}]: board {_shown(c.board)!s}, "
            f"pushed {_shown(c.pushed)}, database {_shown(c.source)}"
        )
    for g in drift.gone:
        lines.append(f"  gone     item {g.item_id} (order {_shown(g.order_number)}): {g.state}")
    for u in drift.unknown:
        lines.append(
            f"  unknown  item {u.item_id} {_shown(u.name)}: record_uuid {u.record_uuid} "
            "is not in the sync state"
        )
    for d in drift.duplicates:
        lines.append(
            f"  twice    record_uuid {d.record_uuid}: items {', '.join(d.item_ids)}"
            + (f" (the sync state's: {d.known_item_id})" if d.known_item_id else "")
        )
    for s in drift.subitems:
        lines.append(
            f"  subitem  item {s.item_id} size {_shown(s.size)} {s.kind}: board "
            f"{_shown(s.board)}, pushed {_shown(s.pushed)}, database {_shown(s.source)}"
        )
    return "\n".join(lines)


def cmd_drift(args: argparse.Namespace, ctx: Context) -> int:
    report = read_drift(ctx, monday_setup(ctx), args.customer)
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, default=str))
    else:
        print(escape_for_terminal(drift_text(report.drift, report.requests), keep="\n"))
    return 0


def add_parser(add) -> None:  # type: ignore[no-untyped-def]
    p = add("drift", "compare the board with what was last pushed (values, gone, unknown items)")
    p.add_argument("--customer", metavar="NAME", help="one customer (default: all)")
