"""`orders-sync run` and `orders-sync notify`: options, progress, the report and Kestra's lines.

The work is services/run.py's; this module is what the command line sees of it:

- progress on stderr, one line per answered request (a JSON object with `--json`);
- the report on stdout, one JSON object with `--json` (always the last line), else a table;
- with `--kestra`, Kestra's `::{"outputs": ...}::` and `::{"metrics": [...]}::` lines on
  stdout before the report, so an execution shows the counts per customer;
- every line also goes through `logging` (services.run's logger and this module's), so a
  log file the command keeps holds the run whatever the terminal showed.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections import Counter
from collections.abc import Callable
from typing import Any

from .core.models import STAGEABLE, ChangeType
from .core.text import escape_for_terminal
from .secrets import delete_secret, get_secret, set_secret
from .services.context import Context
from .services.notify import WEBHOOK_KEY, notify
from .services.run import (
    Outcome,
    Runner,
    RunOptions,
    RunProgress,
    RunReport,
    Safeguards,
)

log = logging.getLogger(__name__)


def _types(text: str) -> tuple[ChangeType, ...]:
    out: list[ChangeType] = []
    for part in (p.strip().upper() for p in text.split(",") if p.strip()):
        if part not in {t.value for t in STAGEABLE}:
            raise argparse.ArgumentTypeError(f"{part!r} is not one of NEW, CHANGED, DELETED")
        out.append(ChangeType(part))
    if not out:
        raise argparse.ArgumentTypeError("name at least one of NEW, CHANGED, DELETED")
    return tuple(t for t in STAGEABLE if t in out)


def _count(text: str) -> int:
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more, not {number}")
    return number


def _percent(text: str) -> float:
    try:
        number = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not 0 <= number <= 100:
        raise argparse.ArgumentTypeError(f"must be between 0 and 100, not {number:g}")
    return number


def register(sub: Any) -> None:
    """Add `run` and `notify` to the command line's subcommands."""
    text = "sync customers unattended: finish open batches, detect, stage and push"
    p = sub.add_parser("run", help=text, description=text)
    who = p.add_mutually_exclusive_group(required=True)
    who.add_argument(
        "--customer", metavar="NAME", nargs="+", action="extend", help="these customers"
    )
    who.add_argument("--all", action="store_true", help="every customer")
    p.add_argument("--types", type=_types, default=STAGEABLE, metavar="NEW,CHANGED,DELETED")
    p.add_argument("--max-changes", type=_count, metavar="N", help="refuse a customer over N")
    p.add_argument(
        "--max-change-pct",
        type=_percent,
        metavar="P",
        help="refuse a customer whose changes are over P%% of its orders on the board",
    )
    p.add_argument("--max-deletes", type=_count, metavar="N", help="refuse over N deletes")
    p.add_argument("--dry-run", action="store_true", help="stop after the estimate")
    p.add_argument("--json", action="store_true", help="JSON progress and report")
    p.add_argument("--kestra", action="store_true", help="print Kestra's outputs and metrics")
    p.add_argument(
        "--notify", action="store_true", help="on PARTIAL, FAILED or REFUSED, send a summary"
    )
    text = "the --notify channels: keep a webhook URL in the keyring, or send a test"
    p = sub.add_parser("notify", help=text, description=text)
    p.add_argument(
        "--set-webhook",
        action="store_true",
        help="read a Teams or Slack incoming-webhook URL from stdin into the keyring",
    )
    p.add_argument("--clear-webhook", action="store_true", help="forget the webhook URL")
    p.add_argument("--json", action="store_true", help="print one JSON object")


def _progress(as_json: bool) -> Callable[[RunProgress], None]:
    def show(p: RunProgress) -> None:
        if as_json:
            print(json.dumps(p.to_dict(), ensure_ascii=False), file=sys.stderr, flush=True)
        else:
            print(escape_for_terminal(p.line()), file=sys.stderr, flush=True)

    return show


def kestra_lines(report: RunReport) -> list[str]:
    """Kestra reads `::{...}::` lines of a script's output as outputs and metrics."""
    statuses = Counter(c.status for c in report.customers)
    outputs: dict[str, Any] = {
        "ok": report.ok,
        "customers": len(report.customers),
        **{o.value.lower(): statuses.get(o, 0) for o in Outcome},
        "requests": report.requests,
        "mutations": report.mutations,
        "seconds": round(report.seconds, 2),
    }
    if len(report.customers) == 1:
        [one] = report.customers
        outputs |= {
            "customer": one.customer,
            "status": one.status.value,
            "batch_id": one.batch_id,
            "rows_succeeded": one.succeeded,
            "rows_failed": one.failed,
        }
    metrics: list[dict[str, Any]] = []
    for c in report.customers:
        tags = {"customer": c.customer, "status": c.status.value}
        for name in ("new", "changed", "deleted", "succeeded", "failed"):
            metrics.append(
                {"name": name, "type": "counter", "value": getattr(c, name), "tags": tags}
            )
    metrics.append({"name": "requests", "type": "counter", "value": report.requests})
    metrics.append({"name": "duration", "type": "timer", "value": round(report.seconds, 3)})
    # Plain text only: a NUL in an output kept an execution RUNNING (kestra-io/kestra#10326).
    return [
        "::" + json.dumps({"outputs": outputs}, ensure_ascii=True) + "::",
        "::" + json.dumps({"metrics": metrics}, ensure_ascii=True) + "::",
    ]


def report_text(report: RunReport) -> str:
    lines = []
    for c in report.customers:
        batch = f" batch {c.batch_id}" if c.batch_id is not None else ""
        lines.append(
            f"{c.customer}: {c.status.value}{batch}, {c.new} new, {c.changed} changed, "
            f"{c.deleted} deleted; {c.succeeded} pushed, {c.failed} failed"
            + (f" ({c.reason})" if c.reason else "")
        )
        if c.estimate is not None:
            e = c.estimate
            lines.append(
                f"  estimate: {e.mutations} mutations in {e.requests} requests, "
                f"about {e.minutes:.1f} min, {e.daily_share:.1%} of the daily quota"
            )
    lines.append(
        f"{'ok' if report.ok else 'NOT ok'}: {len(report.customers)} customer(s), "
        f"{report.requests} requests for {report.mutations} mutations in {report.seconds:.1f} s"
    )
    return "\n".join(lines)


def cmd_run(args: argparse.Namespace, ctx: Context) -> int:
    options = RunOptions(
        types=args.types,
        safeguards=Safeguards(args.max_changes, args.max_change_pct, args.max_deletes),
        dry_run=args.dry_run,
    )
    runner = Runner(ctx, options, progress=_progress(args.json))
    report = runner.run_all() if args.all else runner.run(list(dict.fromkeys(args.customer)))
    payload = report.to_dict()
    log.info("run report: %s", json.dumps(payload, ensure_ascii=False, default=str))
    if args.notify:
        for sent in notify(report):
            log.info("notify %s: %s", sent.channel, "sent" if sent.ok else sent.detail)
    if args.kestra:
        for line in kestra_lines(report):
            print(line, flush=True)
    if args.json:
        print(json.dumps(payload, ensure_ascii=False, default=str), flush=True)
    else:
        print(escape_for_terminal(report_text(report), keep="\n"), flush=True)
    return 0 if report.ok else 1


def cmd_notify(args: argparse.Namespace) -> int:
    if args.set_webhook:
        url = sys.stdin.readline().strip()
        if not url.startswith(("https://", "http://")):
            print("orders-sync: give the webhook's URL on stdin (https://...)", file=sys.stderr)
            return 2
        set_secret(WEBHOOK_KEY, url)
    elif args.clear_webhook:
        delete_secret(WEBHOOK_KEY)
    stored = bool(get_secret(WEBHOOK_KEY))
    if args.json:
        print(json.dumps({"webhook": stored}))
    else:
        print(f"webhook URL in the keyring: {'yes' if stored else 'no'}")
    return 0
