"""The CLI's log: one file per command run, in the log folder, named by its start time.

`cli-2026-12-03_06-00-00-run-4242.log` (local time, the command, the process id): a
scheduled run's log is found by when it started, two runs in the same second never share
a file, and `ls` lists them in order. Each file rotates past MAX_BYTES (a long run cannot
fill the disk); only the newest KEEP runs' files are kept. The file takes DEBUG and up
(tracebacks of failures included); the terminal keeps its WARNING (INFO with -v).

Nothing secret is written: the command line is not logged (a --db URL may hold a password),
tokens never reach a log record (the monday client scrubs what monday answers).
"""

from __future__ import annotations

import logging
import os
import sys
import time
from datetime import datetime
from logging.handlers import RotatingFileHandler
from pathlib import Path

from . import __version__
from .paths import log_dir

PREFIX = "cli-"
KEEP = 200
MAX_BYTES = 5_000_000
BACKUPS = 3
FILE_FORMAT = "%(asctime)s %(levelname)s %(threadName)s %(name)s: %(message)s"
TERMINAL_FORMAT = "%(levelname)s %(name)s: %(message)s"

log = logging.getLogger("orders_sync_gui.cli")
_installed: list[logging.Handler] = []  # this process's handlers, replaced on a new setup
_current: dict[str, object] = {}  # the command logging was set up for, and its start


def log_file_name(command: str, started: datetime, pid: int) -> str:
    return f"{PREFIX}{started:%Y-%m-%d_%H-%M-%S}-{command}-{pid}.log"


def prune(directory: Path, keep: int = KEEP) -> list[Path]:
    """Delete the files of all but the newest `keep` runs (their rotated parts too)."""
    runs: dict[str, list[Path]] = {}
    for path in directory.glob(f"{PREFIX}*.log*"):
        runs.setdefault(path.name.split(".log", 1)[0], []).append(path)
    gone: list[Path] = []
    for name in sorted(runs)[: max(len(runs) - keep, 0)]:  # names sort by start time
        for path in runs[name]:
            try:
                path.unlink()
                gone.append(path)
            except OSError:  # still open by a run in progress (Windows): next time
                pass
    return gone


def setup_cli_logging(command: str, *, verbose: bool) -> Path:
    """Log to the terminal (WARNING, or INFO with -v) and to this run's file (DEBUG)."""
    root = logging.getLogger()
    for handler in _installed:
        root.removeHandler(handler)
        handler.close()
    _installed.clear()
    root.setLevel(logging.DEBUG)
    terminal = logging.StreamHandler(sys.stderr)
    terminal.setLevel(logging.INFO if verbose else logging.WARNING)
    terminal.setFormatter(logging.Formatter(TERMINAL_FORMAT))
    directory = log_dir()
    path = directory / log_file_name(command, datetime.now(), os.getpid())
    handlers: list[logging.Handler] = []
    try:
        directory.mkdir(parents=True, exist_ok=True)
        to_file = RotatingFileHandler(
            path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8"
        )
        to_file.setLevel(logging.DEBUG)
        to_file.setFormatter(logging.Formatter(FILE_FORMAT))
        handlers.append(to_file)
        prune(directory)
    except OSError as exc:  # a log folder that cannot be written: the command still runs
        print(f"orders-sync: no log file ({exc.strerror}: {directory})", file=sys.stderr)
    # The terminal's handler as logging.basicConfig adds it: only where nothing handles the
    # root logger yet (a host such as pytest keeps its own).
    if not root.handlers:
        handlers.append(terminal)
    for handler in handlers:
        root.addHandler(handler)
        _installed.append(handler)
    for noisy in ("urllib3", "PIL"):
        logging.getLogger(noisy).setLevel(logging.WARNING)
    _current.update(command=command, started=time.monotonic())
    log.info("orders-sync %s: %s started (pid %d)", __version__, command, os.getpid())
    return path


def log_exit(code: int) -> None:
    """The run's last line: its exit code and how long it took (once logging is set up)."""
    if not _current:
        return
    command, started = _current.pop("command"), _current.pop("started")
    seconds = time.monotonic() - started if isinstance(started, float) else 0.0
    log.info("%s ended with exit code %s after %.1f s", command, code, seconds)
