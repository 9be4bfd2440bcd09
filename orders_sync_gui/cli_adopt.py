"""`orders-sync adopt`: its options, and its words (the logic is services/adopt.py)."""

from __future__ import annotations

import argparse
import json
import sys

from .core.adopt_match import DEFAULT_MATCH
from .core.text import escape_for_terminal
from .services.adopt import AdoptReport, adopt
from .services.context import Context
from .services.monday_setup import monday_setup

SHOWN = 20  # entries of each list in the text output (--json has them all)


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--customer", metavar="NAME", required=True)
    p.add_argument(
        "--match",
        default=",".join(DEFAULT_MATCH),
        metavar="COLUMNS",
        help="the source columns an item and an order must agree on (comma-separated)",
    )
    p.add_argument(
        "--choose",
        action="append",
        default=[],
        metavar="ORDER=ITEM_ID",
        help="which board item an ambiguous order is (its order number or record_uuid); repeatable",
    )
    p.add_argument("--dry-run", action="store_true", help="classify only: write nothing")


def _choices(pairs: list[str]) -> dict[str, str]:
    out: dict[str, str] = {}
    for pair in pairs:
        order, sep, item = pair.partition("=")
        if not sep or not order.strip() or not item.strip():
            raise argparse.ArgumentTypeError(f"--choose {pair!r}: expected ORDER=ITEM_ID")
        out[order.strip()] = item.strip()
    return out


def _text(report: AdoptReport) -> str:
    found, counts = report.found, report.found.counts()
    lines = [
        f"{report.customer}: {counts['matched']} matched, {len(found.ambiguous)} ambiguous "
        f"({counts['ambiguous_orders']} orders, {counts['ambiguous_items']} items), "
        f"{counts['board_only']} board only, {counts['source_only']} source only"
        + (f", {len(report.invalid)} invalid rows" if report.invalid else "")
    ]
    for a in found.ambiguous[:SHOWN]:
        orders = ", ".join(str(o.fields.get("AAG ORDER NUMBER") or o.record_uuid) for o in a.orders)
        lines.append(f"  ambiguous: order {orders}: {a.reason}")
    for item in found.board_only[:SHOWN]:
        lines.append(f"  board only: item {item.item_id} {item.name}")
    for order in found.source_only[:SHOWN]:
        lines.append(
            f"  source only: order {order.fields.get('AAG ORDER NUMBER') or order.record_uuid}"
        )
    if report.dry_run:
        lines.append("dry run: nothing written")
    elif report.batch_id is None:
        lines.append("nothing to adopt")
    else:
        lines.append(
            f"batch {report.batch_id}: {report.status}, {report.adopted} board items adopted"
            + (f" ({report.run.message})" if report.run and report.status != "PUSHED" else "")
        )
    return "\n".join(lines)


def cmd_adopt(args: argparse.Namespace, ctx: Context) -> int:
    match = [c.strip() for c in args.match.split(",") if c.strip()]
    try:
        choose = _choices(args.choose)
    except argparse.ArgumentTypeError as exc:
        print(f"orders-sync: {exc}", file=sys.stderr)
        return 2
    report = adopt(
        ctx, monday_setup(ctx), args.customer, match=match, choose=choose, dry_run=args.dry_run
    )
    if args.json:
        print(json.dumps(report.to_dict(), ensure_ascii=False, default=str))
    else:
        print(escape_for_terminal(_text(report), keep="\n"))
    if not report.ok:
        print(
            f"orders-sync: adoption batch {report.batch_id} is {report.status}: "
            "adopt again to finish",
            file=sys.stderr,
        )
        return 1
    return 0
