"""`orders-sync sandbox` (or `python -m orders_sync_gui.monday.sandbox`): serve until
SIGTERM / SIGINT.

`--state FILE` keeps the board in FILE exactly as the window's demo sandbox keeps its own:
the same SandboxConfig, the same code path, every write journaled and fsync'd before it is
answered, so a SIGKILL at any moment loses nothing that was answered.

Once listening it prints one JSON line to stdout, e.g.
`{"url": "http://127.0.0.1:53123/v2", "board_id": "1800000001", "subitems_board_id":
"1800000002", "token": "sandbox-token"}`, so a parent process can read where it is.
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
from collections.abc import Sequence
from pathlib import Path
from types import FrameType

from . import onboarding
from .config import FaultConfig, SandboxConfig
from .errors import GONE_STYLES
from .legacy import LegacyFillError
from .server import SandboxServer


def _parser() -> argparse.ArgumentParser:
    defaults = SandboxConfig()
    parser = argparse.ArgumentParser(
        prog="python -m orders_sync_gui.monday.sandbox",
        description="A local stand-in for the monday.com API v2, on 127.0.0.1 only.",
    )
    parser.add_argument("--host", default=defaults.host, help="loopback address to bind")
    parser.add_argument("--port", type=int, default=0, help="0 picks a free port (default)")
    parser.add_argument(
        "--state",
        type=Path,
        help="JSON file the board is kept in (every write is on disk before its answer)",
    )
    parser.add_argument("--token", default=defaults.token, help="the accepted Authorization")
    parser.add_argument(
        "--account-token",
        action="append",
        default=[],
        metavar="TOKEN",
        help="another user's token of the same account (repeatable): one budget for all",
    )
    parser.add_argument(
        "--window-seconds",
        type=float,
        default=defaults.window_seconds,
        help="length of every per-minute window (compress it for demos/benchmarks)",
    )
    parser.add_argument("--max-items", type=int, default=defaults.max_items_per_board)
    parser.add_argument("--fault-every", type=int, default=0, help="fault every Nth request")
    parser.add_argument("--fault-rate", type=float, default=0.0, help="random fault rate")
    parser.add_argument("--fault-seed", type=int, default=0)
    parser.add_argument(
        "--fault-kinds", default="error_500", help="comma-separated kinds, used in turn"
    )
    parser.add_argument(
        "--trickle-seconds",
        type=_seconds,
        default=FaultConfig().trickle_seconds,
        help="seconds between two bytes of a trickled answer (default: %(default)s)",
    )
    parser.add_argument(
        "--gone-style",
        choices=GONE_STYLES,
        default=defaults.gone_style,
        help="how a mutation on an item that does not exist is answered (default: %(default)s)",
    )
    parser.add_argument(
        "--no-idempotency",
        action="store_true",
        help="ignore the Idempotency-Key header: every request runs, nothing is replayed",
    )
    parser.add_argument(
        "--idempotency-window",
        type=_seconds,
        default=defaults.idempotency_ttl_seconds,
        metavar="SECONDS",
        help="how long a key's response is replayed (default: %(default)s, monday's 30 min)",
    )
    onboarding.add_options(parser)
    return parser


def _seconds(text: str) -> float:
    value = float(text)
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 or more seconds, not {text}")
    return value


def build_config(
    argv: Sequence[str] | None = None, legacy_reader: onboarding.LegacyReader | None = None
) -> SandboxConfig:
    """The SandboxConfig the command line describes (argparse exits on bad options).
    `legacy_reader` reads a database's orders for --legacy-from (the sandbox reads none
    itself: `orders-sync sandbox` passes services/legacy_source.py's)."""
    parser = _parser()
    args = parser.parse_args(argv)
    config = SandboxConfig(
        host=args.host,
        port=args.port,
        token=args.token,
        account_tokens=tuple(args.account_token),
        state_file=args.state,
        window_seconds=args.window_seconds,
        max_items_per_board=args.max_items,
        gone_style=args.gone_style,
        idempotency_enabled=not args.no_idempotency,
        idempotency_ttl_seconds=args.idempotency_window,
        faults=FaultConfig(
            every_n=args.fault_every,
            rate=args.fault_rate,
            seed=args.fault_seed,
            kinds=tuple(k.strip() for k in args.fault_kinds.split(",") if k.strip()),
            trickle_seconds=args.trickle_seconds,
        ),
    )
    return onboarding.apply_options(parser, args, config, legacy_reader)


def serve_forever_cli(
    argv: Sequence[str] | None = None, legacy_reader: onboarding.LegacyReader | None = None
) -> int:
    """Start the sandbox from command-line arguments and serve until SIGTERM / SIGINT."""
    config = build_config(argv, legacy_reader)
    try:
        server = SandboxServer(config)  # lays the board out (and fills a legacy one)
    except LegacyFillError as exc:
        sys.stderr.write(f"orders-sync sandbox: {exc}\n")
        return 1
    stop = threading.Event()

    def _on_signal(_signum: int, _frame: FrameType | None) -> None:
        stop.set()

    previous = {s: signal.signal(s, _on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    try:
        with server as sandbox:
            ready = {
                "url": sandbox.url,
                "board_id": sandbox.board_id,
                "subitems_board_id": sandbox.subitems_board_id,
                "token": config.token,
                **onboarding.ready_summary(sandbox.app.legacy_truth, config),
            }
            sys.stdout.write(json.dumps(ready) + "\n")
            sys.stdout.flush()
            # wait() with a timeout keeps the main thread responsive to signals on Windows.
            while not stop.wait(0.5):
                pass
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
    return 0
