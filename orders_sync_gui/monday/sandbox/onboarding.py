"""The sandbox's board for onboarding: generated column ids.

`layout_mapping` gives the mapping the boards are laid out from (the template's, or with
monday-like generated ids, column_ids.py) with the config's label and missing-column ids
moved along. It is what SandboxApp calls; the rest of the sandbox is unaware.
`add_options` and `apply_options` are its command-line options (cli.py).
"""

from __future__ import annotations

import argparse
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from .column_ids import COLUMN_ID_MODES, generated_layout
from .config import SandboxConfig


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


# ---------------------------------------------------------------------- command line
def add_options(parser: argparse.ArgumentParser) -> None:
    """The onboarding options of `orders-sync sandbox`."""
    parser.add_argument(
        "--column-ids",
        choices=COLUMN_ID_MODES,
        default="template",
        help="'generated': lay the boards out with monday-like generated column ids "
        "(text_mkq1x2ab) instead of the template's, titles and types kept",
    )
    parser.add_argument("--seed", type=int, default=0, help="seeds the generated column ids")


def apply_options(args: argparse.Namespace, config: SandboxConfig) -> SandboxConfig:
    """The config with the onboarding options in."""
    config.column_ids = args.column_ids
    config.board_seed = args.seed
    return config
