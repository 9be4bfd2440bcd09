"""The headless face: `orders-sync`. Its words and JSON keys are stable; scripts depend on them.

Exit codes: 0 success, 1 an operational error (one line on stderr, no traceback),
2 a usage error.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections import Counter
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from sqlalchemy.exc import DBAPIError

from . import __version__, run_cli
from .cli_adopt import add_arguments as add_adopt_arguments
from .cli_adopt import cmd_adopt
from .cli_drift import add_parser as add_drift_parser
from .cli_drift import cmd_drift
from .cli_log import log_exit, setup_cli_logging
from .core.models import STAGEABLE, BatchStatus, ChangeType, Record, RowChange, RowError
from .core.text import escape_for_terminal
from .services import detection, export, staging
from .services.checks import failing_first
from .services.context import Context, open_context
from .services.doctor import doctor as run_doctor
from .services.estimate import estimate as estimate_push
from .services.mapping_from_board import BoardMappingReport, mapping_from_board, shortfall
from .services.monday_setup import Limits, monday_setup
from .services.push import Progress, PushStopped
from .services.push import push as push_batch
from .services.rollback import roll_back
from .services.undo import UndoStopped
from .settings import load_settings
from .store.demo import DEFAULT_ORDERS, DEFAULT_SEED

log = logging.getLogger("orders_sync_gui")


class UsageError(Exception):
    pass


def _shown(value: object) -> str:
    """A value from the source, monday.com or the store as a terminal may show it: control
    and format characters (ESC, a zero-width space, a line break) as visible escapes."""
    return escape_for_terminal(str(value))


def _emit(args: argparse.Namespace, payload: dict[str, Any], text: Callable[[], str]) -> None:
    if args.json:
        # json.dumps writes C0 controls (ESC too) as \u001b; DEL, C1 and format characters
        # go out raw: JSON is for programs, which read them back as they were.
        print(json.dumps(payload, ensure_ascii=False, default=str))
    else:
        # The values in the text are _shown already; what slipped through is escaped here,
        # but for the line breaks the text is made of.
        print(escape_for_terminal(text(), keep="\n"))


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    cells = [[str(h) for h in headers]]
    cells += [["" if v is None else _shown(v) for v in r] for r in rows]
    widths = [max(len(row[i]) for row in cells) for i in range(len(headers))]
    lines = [
        "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in cells
    ]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _error_json(err: RowError) -> dict[str, Any]:
    return {
        "record_uuid": err.record_uuid,
        "order_number": err.order_number,
        "field": err.field,
        "message": err.message,
    }


def _warnings_text(warnings: Sequence[RowError], limit: int = 20) -> str:
    if not warnings:
        return ""
    lines = [f"\n{len(warnings)} value(s) will reach monday.com cut:"]
    lines += [f"  {_shown(w)}" for w in warnings[:limit]]
    if len(warnings) > limit:
        lines.append(f"  ... and {len(warnings) - limit} more (use --json for all)")
    return "\n".join(lines)


def _errors_text(errors: Sequence[RowError], limit: int = 20) -> str:
    if not errors:
        return ""
    lines = [f"\n{len(errors)} row(s) cannot be synced:"]
    lines += [f"  {_shown(e)}" for e in errors[:limit]]
    if len(errors) > limit:
        lines.append(f"  ... and {len(errors) - limit} more (use --json for all)")
    return "\n".join(lines)


def cmd_demo_init(args: argparse.Namespace) -> int:
    # Imported here: the demo wiring brings the sandbox (graphql-core), which every other
    # command, and each of several scheduled runs starting at once, would load for nothing.
    from .services.demo import demo_init

    result = demo_init(args.db, orders=args.orders, seed=args.seed, force=args.force)
    _emit(
        args,
        result,
        lambda: (
            f"demo database ready: {result['orders']} orders "
            f"(seed {result['seed']}) in {result['database']}"
        ),
    )
    return 0


def cmd_doctor(args: argparse.Namespace) -> int:
    """Every check, one line each, failing first; exit 1 when one fails."""
    report = run_doctor(args.db, live_test=args.live_test)
    counts = Counter(c.status for c in report.checks)
    words = (("fail", "failed"), ("warn", "warned"), ("skip", "skipped"), ("pass", "passed"))
    summary = ", ".join(f"{counts[status]} {word}" for status, word in words)
    _emit(
        args,
        report.to_dict(),
        lambda: "\n".join(_shown(c.line()) for c in failing_first(report.checks)) + f"\n{summary}",
    )
    return 0 if report.ok else 1


def _mapping_text(report: BoardMappingReport) -> str:
    match = report.match
    lines = [
        f"board {_shown(report.board_id)} “{_shown(report.board_name)}”: "
        f"{len(match.matched)} of the mapping's {match.slots} columns matched "
        f"({_shown(report.mapping_file)})"
    ]
    if match.matched:
        lines.append(
            _table(
                ["SOURCE", "BOARD", "COLUMN ID", "TITLE", "TYPE"],
                [
                    [m.slot.source, m.slot.board, m.column.column_id, m.column.title, m.column.type]
                    for m in match.matched
                ],
            )
        )
    for one in match.ambiguous:
        candidates = ", ".join(
            f"{_shown(c.column_id)} “{_shown(c.title)}” ({c.type})" for c in one.candidates
        )
        lines.append(f"ambiguous: {_shown(one.slot.source)}: {candidates}")
    for miss in match.unmatched:
        lines.append(f"unmatched: {_shown(miss.slot.source)}: {_shown(miss.reason)}")
    lines += [f"note: {_shown(n)}" for n in report.notes]
    if report.written:
        lines.append(f"wrote {_shown(report.written)}")
    return "\n".join(lines)


def cmd_mapping(args: argparse.Namespace) -> int:
    """Match the mapping to the board's columns; exit 1 unless every column matched."""
    if not args.from_board:
        raise UsageError("mapping: say --from-board (the only source of a mapping for now)")
    report = mapping_from_board(board_id=args.board, write=args.write)
    _emit(args, report.to_dict(), lambda: _mapping_text(report))
    problem = report.refused or (
        None if report.complete else shortfall(report.match, writing=False)
    )
    if problem:
        print(f"orders-sync: {_shown(problem)}", file=sys.stderr)
        return 1
    return 0


def cmd_detect(args: argparse.Namespace, ctx: Context) -> int:
    counts, errors = detection.detect_counts(ctx, args.customer)
    payload = {
        "customers": [
            {
                "customer": c.customer,
                "new": c.new,
                "changed": c.changed,
                "deleted": c.deleted,
                "unchanged": c.unchanged,
                "invalid": c.invalid,
            }
            for c in counts
        ],
        "errors": [_error_json(e) for e in errors],
    }
    _emit(
        args,
        payload,
        lambda: (
            _table(
                ["CUSTOMER", "NEW", "CHANGED", "DELETED", "UNCHANGED", "INVALID"],
                [[c.customer, c.new, c.changed, c.deleted, c.unchanged, c.invalid] for c in counts],
            )
            + _errors_text(errors)
        ),
    )
    return 0


def _change_json(change: RowChange) -> dict[str, Any]:
    rec = change.current
    return {
        "record_uuid": change.record_uuid,
        "change_type": change.change_type.value,
        "order_number": rec.fields.get("AAG ORDER NUMBER"),
        "po_number": rec.fields.get("PO NUMBER"),
        "style": rec.fields.get("CUSTOMER STYLE"),
        "colour": rec.fields.get("CUSTOMER COLOUR DESCRIPTION"),
        "order_qty": sum(rec.sizes.values()),
        "fields": [{"field": d.field, "old": d.old, "new": d.new} for d in change.field_diffs],
        "sizes": [{"size": d.size, "old": d.old, "new": d.new} for d in change.size_diffs],
    }


def _change_text(change: RowChange) -> str:
    rec = change.current

    def shown(name: str, blank: str = "") -> str:
        return _shown(rec.fields.get(name) or blank)

    head = (
        f"{change.change_type.value:<8} {shown('AAG ORDER NUMBER'):<12} "
        f"PO {shown('PO NUMBER', '-'):<8} {shown('CUSTOMER STYLE')}"
        f" {shown('CUSTOMER COLOUR DESCRIPTION')}  qty "
        f"{sum(rec.sizes.values())}"
    )
    lines = [head]
    lines += [
        f"           {_shown(d.field)}: {_shown(d.old)} -> {_shown(d.new)}"
        for d in change.field_diffs
    ]
    lines += [
        f"           size {_shown(d.size)}: {'-' if d.old is None else d.old} -> "
        f"{'-' if d.new is None else d.new}"
        for d in change.size_diffs
    ]
    return "\n".join(lines)


def cmd_preview(args: argparse.Namespace, ctx: Context) -> int:
    found = detection.preview(ctx, args.customer, po_number=args.po, limit=args.limit)
    c = found.counts
    payload: dict[str, Any] = {
        "customer": found.customer,
        "counts": {
            "new": c.new,
            "changed": c.changed,
            "deleted": c.deleted,
            "unchanged": c.unchanged,
            "invalid": c.invalid,
        },
        "rows": [_change_json(ch) for ch in found.changes],
        "errors": [_error_json(e) for e in found.errors],
        "warnings": [_error_json(w) for w in found.warnings],
    }
    if args.csv:
        _write_csv(args.csv, export.PREVIEW_TITLES, export.preview_rows(payload["rows"]))
    _emit(
        args,
        payload,
        lambda: (
            f"{_shown(found.customer)}: {c.new} new, {c.changed} changed, {c.deleted} deleted, "
            f"{c.unchanged} unchanged, {c.invalid} invalid\n\n"
            + "\n".join(_change_text(ch) for ch in found.changes)
            + _errors_text(found.errors)
            + _warnings_text(found.warnings)
        ),
    )
    return 0


def _parse_types(text: str) -> list[ChangeType]:
    out: list[ChangeType] = []
    for part in (p.strip().upper() for p in text.split(",") if p.strip()):
        try:
            kind = ChangeType(part)
        except ValueError:
            kind = None
        if kind not in STAGEABLE:
            raise UsageError(f"--types: {part!r} is not one of NEW, CHANGED, DELETED")
        out.append(kind)
    if not out:
        raise UsageError("--types: name at least one of NEW, CHANGED, DELETED")
    return out


def cmd_stage(args: argparse.Namespace, ctx: Context) -> int:
    types = _parse_types(args.types)
    batch = staging.stage(ctx, args.customer, types=types, po_number=args.po, limit=args.limit)
    payload = {
        "batch_id": batch.batch_id,
        "customer": batch.customer,
        "items": batch.item_count,
        "subitems": batch.subitem_count,
        "status": batch.status,
        "new": batch.new_count,
        "changed": batch.changed_count,
        "deleted": batch.deleted_count,
        "invalid": batch.invalid_count,
        "held": [
            {"record_uuid": h.record_uuid, "order_number": h.order_number, "batch_id": h.batch_id}
            for h in batch.held
        ],
    }
    _emit(
        args,
        payload,
        lambda: (
            f"staged batch {batch.batch_id} for {_shown(batch.customer)}: {batch.item_count} items "
            f"({batch.new_count} new, {batch.changed_count} changed, "
            f"{batch.deleted_count} deleted),"
            f" {batch.subitem_count} subitems; status {batch.status}"
            + (
                f"\n{batch.invalid_count} invalid row(s) left out: see `orders-sync preview`"
                if batch.invalid_count
                else ""
            )
            + "".join(f"\nleft out: {h}" for h in batch.held)
        ),
    )
    return 0


def cmd_rollback(args: argparse.Namespace, ctx: Context) -> int:
    try:
        result = roll_back(ctx, args.batch, lambda: monday_setup(ctx))
    except UndoStopped as stopped:
        partial = stopped.report
        _emit(args, partial.to_dict(), lambda: _shown(partial.message))
        raise
    undo = result.undo
    if undo is None:
        batch = result.batch
        text = f"batch {batch.batch_id}: {batch.status} ({_shown(batch.message)})"
    else:
        text = _shown(undo.message) + "".join(
            f"\n  not undoable: {_shown(n)}" for n in undo.not_undoable
        )
    _emit(args, result.to_dict(), lambda: text)
    return 0 if result.ok else 1


def _progress(args: argparse.Namespace) -> Callable[[Progress], None] | None:
    if args.json or not sys.stderr.isatty():
        return None

    def show(p: Progress) -> None:
        print(
            f"\r{p.phase}: {p.done}/{p.total}  requests {p.requests}  failed {p.failed}",
            end="",
            file=sys.stderr,
            flush=True,
        )

    return show


def cmd_push(args: argparse.Namespace, ctx: Context) -> int:
    setup = monday_setup(ctx)
    try:
        report = push_batch(ctx, args.batch, setup, progress=_progress(args))
    except PushStopped as stopped:
        done = stopped.report
        _emit(args, done.to_dict(), lambda: _shown(done.message))
        raise
    _emit(
        args,
        report.to_dict(),
        lambda: (
            f"batch {report.batch_id}: {report.status}, {report.succeeded} rows pushed, "
            f"{report.failed} failed, {report.requests} requests for {report.mutations} "
            f"mutations in {report.seconds:.1f} s"
            + "".join(
                f"\n  order {_shown(f['order_number'])}: {_shown(f['error'])}"
                for f in report.failures
            )
        ),
    )
    if report.status != BatchStatus.PUSHED:
        print(
            f"orders-sync: batch {report.batch_id} is {report.status}: {_shown(report.message)}",
            file=sys.stderr,
        )
        return 1
    return 0


def cmd_estimate(args: argparse.Namespace, ctx: Context) -> int:
    section = load_settings().get("monday") or {}
    est = estimate_push(ctx, args.batch, Limits.from_json(section.get("limits") or {}))
    _emit(
        args,
        est.to_dict(),
        lambda: (
            f"batch {est.batch_id} ({_shown(est.customer)}): {est.mutations} mutations "
            f"({est.items} items, {est.subitems} subitems) in {est.requests} requests, "
            f"{est.complexity:,} complexity points, about {est.minutes:.1f} min, "
            f"{est.daily_share:.1%} of the daily request quota; it adds {est.new_items} "
            f"items and {est.new_subitems} subitems to the board (checked against its room "
            "before anything is sent)"
            + "".join(f"\n  cannot be undone: {_shown(n)}" for n in est.not_undoable)
        ),
    )
    return 0


def _write_csv(path: Path, titles: list[str], rows: list[list[Any]]) -> None:
    """--csv PATH: the same rows as a table file (.csv, or .xlsx by its suffix)."""
    count = export.write_table(path, titles, rows)
    print(f"{count} rows written to {path}", file=sys.stderr)


def cmd_batches(args: argparse.Namespace, ctx: Context) -> int:
    batches = staging.history(ctx, args.customer)
    if args.csv:
        rows = export.batch_rows(b.to_dict() for b in batches)
        _write_csv(args.csv, list(export.BATCH_TITLES.values()), rows)
    _emit(
        args,
        {"batches": [b.to_dict() for b in batches]},
        lambda: (
            _table(
                [
                    "BATCH",
                    "CUSTOMER",
                    "STATUS",
                    "OPERATOR",
                    "CREATED",
                    "ITEMS",
                    "SUBITEMS",
                    "NEW",
                    "CHANGED",
                    "DELETED",
                    "OK",
                    "FAILED",
                ],
                [
                    [
                        b.batch_id,
                        b.customer,
                        b.status,
                        b.operator,
                        f"{b.created_at:%Y-%m-%d %H:%M}",
                        b.item_count,
                        b.subitem_count,
                        b.new_count,
                        b.changed_count,
                        b.deleted_count,
                        b.succeeded_count,
                        b.failed_count,
                    ]
                    for b in batches
                ],
            )
            if batches
            else "no batches yet"
        ),
    )
    return 0


def _limit(text: str) -> int:
    """--limit N: a whole number of orders, at least 1 (0 would stage nothing)."""
    try:
        number = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a whole number") from None
    if number < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {number}")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="orders-sync",
        description="Keep the monday.com Customer Master Schedule in step with ORDERS_UNIFIED.",
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--db",
        metavar="URL",
        help="database URL (default: $ORDERS_SYNC_DB_URL, else the embedded demo database)",
    )
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress to stderr")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    sandbox = sub.add_parser(
        "sandbox", help="serve the local monday.com sandbox until stopped", add_help=False
    )
    sandbox.add_argument("rest", nargs=argparse.REMAINDER)

    def add(name: str, help_text: str) -> argparse.ArgumentParser:
        p = sub.add_parser(name, help=help_text, description=help_text)
        p.add_argument("--json", action="store_true", help="print one JSON object")
        return p

    p = add("demo-init", "create the demo ORDERS_UNIFIED")
    p.add_argument("--orders", type=int, default=DEFAULT_ORDERS, metavar="N")
    p.add_argument("--seed", type=int, default=DEFAULT_SEED, metavar="S")
    p.add_argument(
        "--force", action="store_true", help="replace existing demo data, batches and sync state"
    )
    p = add("doctor", "check the database, the files, the token and the board before a push")
    p.add_argument(
        "--live-test",
        action="store_true",
        help="also create, change, look up and delete a test item in a scratch group of the "
        "board, and write a transcript to the log folder",
    )
    p = add("mapping", "match the board mapping to the board's own columns (their ids)")
    p.add_argument(
        "--from-board",
        action="store_true",
        help="read the board's columns and match every mapped column by title and type",
    )
    p.add_argument("--board", metavar="ID", help="the board (default: as a push finds it)")
    p.add_argument(
        "--write",
        action="store_true",
        help="when every column matched, write your copy of the mapping with the board's ids",
    )
    adopt_help = "tie the board items the earlier scripts made to their orders"
    add_adopt_arguments(add("adopt", adopt_help))
    p = add("detect", "count NEW / CHANGED / DELETED / UNCHANGED rows per customer")
    p.add_argument("--customer", metavar="NAME")
    p = add("preview", "list a customer's changed rows with their field diffs")
    p.add_argument("--customer", metavar="NAME", required=True)
    p.add_argument("--po", metavar="PO")
    p.add_argument("--limit", type=_limit, metavar="N", help="only the first N orders")
    p.add_argument("--csv", type=Path, metavar="PATH", help="also write the rows to PATH")
    p = add("stage", "stage a customer's changes as a batch")
    p.add_argument("--customer", metavar="NAME", required=True)
    p.add_argument("--types", default="NEW,CHANGED,DELETED", metavar="TYPES")
    p.add_argument("--po", metavar="PO", help="only this PO (a pilot batch)")
    p.add_argument("--limit", type=_limit, metavar="N", help="only the first N orders")
    p = add("rollback", "roll back a staged batch, or undo a pushed one on monday.com")
    p.add_argument("--batch", type=int, metavar="ID", required=True)
    p = add("push", "push a staged batch to monday.com (resumes an interrupted push)")
    p.add_argument("--batch", type=int, metavar="ID", required=True)
    p = add("estimate", "requests, complexity, minutes and daily quota a push will take")
    p.add_argument("--batch", type=int, metavar="ID", required=True)
    p = add("batches", "batch history")
    p.add_argument("--customer", metavar="NAME")
    add_drift_parser(add)
    run_cli.register(sub)  # run, notify
    p.add_argument("--csv", type=Path, metavar="PATH", help="also write the history to PATH")
    return parser


COMMANDS: dict[str, Callable[[argparse.Namespace, Context], int]] = {
    "adopt": cmd_adopt,
    "detect": cmd_detect,
    "preview": cmd_preview,
    "stage": cmd_stage,
    "rollback": cmd_rollback,
    "push": cmd_push,
    "estimate": cmd_estimate,
    "batches": cmd_batches,
    "drift": cmd_drift,
    "run": run_cli.cmd_run,
}


def _legacy_records(url: str, customers: list[str] | None) -> list[Record]:
    """`orders-sync sandbox --legacy-from`: the orders the legacy board is filled from
    (read through the store; imported here, so a plain sandbox starts without it)."""
    from .services.legacy_source import legacy_records

    return legacy_records(url, customers)


def _one_line(exc: BaseException) -> str:
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        text = str(exc.orig)
        return f"database error: {text.splitlines()[0] if text else type(exc.orig).__name__}"
    text = str(exc).strip() or type(exc).__name__
    return text.replace("\n", "; ") if len(text.splitlines()) > 1 else text


def run_command(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["sandbox"]:  # the sandbox has its own options (--port, --state ...)
        from .monday.sandbox import serve_forever_cli

        return serve_forever_cli(argv[1:], legacy_reader=_legacy_records)
    parser = build_parser()
    args = parser.parse_args(argv)
    setup_cli_logging(args.command, verbose=args.verbose)  # and this run's log file
    try:
        if args.command == "demo-init":
            return cmd_demo_init(args)
        if args.command == "doctor":  # opens the database itself, to check it
            return cmd_doctor(args)
        if args.command == "mapping":  # the board and the mapping file: no database
            return cmd_mapping(args)
        if args.command == "notify":  # the keyring only
            return run_cli.cmd_notify(args)
        ctx = open_context(args.db)
        try:
            return COMMANDS[args.command](args, ctx)
        finally:
            ctx.close()
    except UsageError as exc:
        parser.error(str(exc))  # exits 2
    except KeyboardInterrupt:
        print("orders-sync: interrupted", file=sys.stderr)
        return 130
    except Exception as exc:  # one clear line for the operator; -v logs the traceback
        log.debug("command failed", exc_info=True)
        if args.verbose:
            log.info("details", exc_info=True)
        print(f"orders-sync: {_shown(_one_line(exc))}", file=sys.stderr)
        return 1
    return 0


def main(argv: Sequence[str] | None = None) -> int:
    """The `orders-sync` command; its exit code ends the run's log file."""
    code = 1
    try:
        code = run_command(argv)
        return code
    except SystemExit as exc:  # usage errors (2), --help and --version (0)
        code = exc.code if isinstance(exc.code, int) else int(exc.code is not None)
        raise
    finally:
        log_exit(code)


if __name__ == "__main__":
    sys.exit(main())
