"""The sandbox's board for onboarding: generated column ids, and a legacy fill at start.

`layout_mapping` gives the mapping the boards are laid out from (the template's, or with
monday-like generated ids, column_ids.py) with the config's label and missing-column ids
moved along; `start_legacy` fills an empty board from `legacy_records` (legacy.py) and
writes the truth file. Both are what SandboxApp calls; the rest of the sandbox is unaware.
`add_options` and `apply_options` are their command-line options (cli.py).
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from orders_sync_gui.core.mapping import parse_mapping
from orders_sync_gui.core.models import Record

from .column_ids import COLUMN_ID_MODES, generated_layout
from .config import SandboxConfig
from .legacy import LegacyTruth, fill_legacy
from .state import BoardState

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Layout:
    mapping: dict[str, Any]
    labels: dict[str, list[str]] = field(default_factory=dict)
    missing_columns: tuple[str, ...] = ()


def layout_mapping(config: SandboxConfig, mapping: Mapping[str, Any]) -> Layout:
    """The mapping the boards are laid out from, and the config's ids made to follow it."""
    if config.column_ids not in COLUMN_ID_MODES:
        raise ValueError(
            f"column_ids must be one of {', '.join(COLUMN_ID_MODES)}, not {config.column_ids!r}"
        )
    if config.column_ids == "template":
        return Layout(dict(mapping), dict(config.labels), tuple(config.missing_columns))
    laid_out, parent, sub = generated_layout(mapping, config.board_seed)

    def moved(column_id: str) -> str:
        return parent.get(column_id) or sub.get(column_id) or column_id

    labels = {moved(k): list(v) for k, v in config.labels.items()}
    missing = [moved(c) for c in config.missing_columns]
    # A template id on both boards (the order qty) is left off both, as before.
    missing += [sub[c] for c in config.missing_columns if c in parent and c in sub]
    return Layout(laid_out, labels, tuple(missing))


def start_legacy(
    state: BoardState, config: SandboxConfig, mapping: Mapping[str, Any]
) -> LegacyTruth | None:
    """Fill the board from `config.legacy_records` when it is empty (a state file that holds
    a board keeps it: no second fill), and write the truth file. None when nothing was
    filled."""
    if config.legacy_records is None:
        return None
    with state.lock:
        if state.items:
            log.info("legacy fill skipped: the board in the state file holds items already")
            return None
        truth = fill_legacy(
            state,
            parse_mapping(dict(mapping)),
            config.legacy_records,
            mess=config.legacy_mess,
            seed=config.board_seed,
            board_id=str(config.board_id),
        )
        state.flush()  # on disk before the first request, as every write is
    if config.legacy_truth_file is not None:
        truth.write(config.legacy_truth_file)
    return truth


# ---------------------------------------------------------------------- command line
# Reads the orders of a database for --legacy-from: (url, customers or None) -> Records.
LegacyReader = Callable[[str, list[str] | None], Sequence[Record]]


def add_options(parser: argparse.ArgumentParser) -> None:
    """The onboarding options of `orders-sync sandbox`."""
    parser.add_argument(
        "--column-ids",
        choices=COLUMN_ID_MODES,
        default="template",
        help="'generated': lay the boards out with monday-like generated column ids "
        "(text_mkq1x2ab) instead of the template's, titles and types kept",
    )
    parser.add_argument(
        "--seed", type=int, default=0, help="seeds the generated ids and the legacy mess"
    )
    parser.add_argument(
        "--legacy-from",
        metavar="DB_URL",
        help="fill the board from that database's ORDERS_UNIFIED as the earlier scripts did "
        "(no record uuids; some items edited, doubled, missing or orphaned)",
    )
    parser.add_argument(
        "--legacy-customers",
        metavar="A,B",
        help="with --legacy-from: only these customers (any spelling)",
    )
    parser.add_argument(
        "--legacy-truth",
        type=Path,
        metavar="FILE",
        help="with --legacy-from: write what the fill did (edited, duplicated, missing, "
        "orphan items) to FILE as JSON",
    )


def apply_options(
    parser: argparse.ArgumentParser,
    args: argparse.Namespace,
    config: SandboxConfig,
    legacy_reader: LegacyReader | None,
) -> SandboxConfig:
    """The config with the onboarding options in; reads the legacy orders (exits 1 with
    one line when they cannot be read, 2 when --legacy-from has no reader)."""
    config.column_ids = args.column_ids
    config.board_seed = args.seed
    config.legacy_truth_file = args.legacy_truth
    if args.legacy_from is None:
        if args.legacy_customers or args.legacy_truth:
            parser.error("--legacy-customers and --legacy-truth go with --legacy-from")
        return config
    if legacy_reader is None:
        parser.error(
            "--legacy-from reads a database: run it as `orders-sync sandbox --legacy-from URL`"
        )
    customers = [c.strip() for c in (args.legacy_customers or "").split(",") if c.strip()]
    try:
        records = legacy_reader(args.legacy_from, customers or None)
    except Exception as exc:  # the database's own words, in one line
        text = " ".join(str(exc).split()) or type(exc).__name__
        parser.exit(1, f"{parser.prog}: cannot read the legacy orders: {text}\n")
    config.legacy_records = tuple(records)
    return config


def ready_summary(truth: LegacyTruth | None, config: SandboxConfig) -> dict[str, Any]:
    """What the ready line adds about a legacy fill (nothing when there was none)."""
    if truth is None:
        return {}
    summary: dict[str, Any] = {
        "orders": truth.orders,
        "items": truth.items,
        "subitems": truth.subitems,
        **{k: len(getattr(truth, k)) for k in ("edited", "duplicated", "missing", "orphan")},
    }
    if config.legacy_truth_file is not None:
        summary["truth_file"] = str(config.legacy_truth_file)
    return {"legacy": summary}
