"""The demo's sandbox process: launched first thing by the window, so that the child boots
on another core while the window's modules load (bench_gui.py: start_seconds). Light on
purpose: it imports neither the store nor the sandbox's server."""

from __future__ import annotations

import os
import secrets

from ..monday.sandbox import SandboxConfig, SandboxProcess
from ..paths import data_dir

# "inline" runs the demo sandbox in the app's process (where a child process cannot be
# spawned); by default it runs in a child process of its own.
DEMO_SANDBOX_ENV = "ORDERS_SYNC_DEMO_SANDBOX"

# What the window holds between launching the sandbox and opening the demo (qt/ names it
# through services, never monday/ itself).
LaunchedSandbox = SandboxProcess


def demo_sandbox_config() -> SandboxConfig:
    """The demo board, kept in the data folder. Each mutation request's changes are on disk
    before its answer: the board never lags the database. The token is random and lives in
    memory."""
    return SandboxConfig(
        token=secrets.token_urlsafe(24),
        state_file=data_dir() / "sandbox-board.json",
        state_save_interval=0,
    )


def sandbox_inline() -> bool:
    return os.environ.get(DEMO_SANDBOX_ENV, "").strip().lower() == "inline"


def launch_demo_sandbox() -> LaunchedSandbox | None:
    """The demo sandbox's child process, launched without waiting for it (None when it runs
    inline)."""
    if sandbox_inline():
        return None
    return SandboxProcess(demo_sandbox_config()).launch()
