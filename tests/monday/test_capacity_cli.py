"""Issue #12's "Done when", as an operator types it: a sandbox started as a process with
`--max-items 3000`, the demo database, `orders-sync stage --customer GREYSON` (2,300+
items) and `orders-sync push`: refused with exit 1 and one message that names the capacity,
before any mutation reaches the board."""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

REPO = Path(__file__).resolve().parents[2]
TOKEN = "capacity-cli-token-0123456789"
MAX_ITEMS = 3000


def _env(home: Path, **extra: str) -> dict[str, str]:
    """The process's environment: nothing of the test's own settings, this repository's code."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ORDERS_SYNC_", "MONDAY_", "PYTEST_"))
    }
    env.update(
        ORDERS_SYNC_HOME=str(home),
        ORDERS_SYNC_OPERATOR="operator-a",
        PYTHONPATH=str(REPO),
        PYTHONUNBUFFERED="1",
        **extra,
    )
    return env


def _ready_line(process: subprocess.Popen[bytes], timeout: float = 60) -> dict[str, Any]:
    """The JSON line `orders-sync sandbox` prints once it listens (read against a deadline)."""
    assert process.stdout is not None
    deadline, line = time.monotonic() + timeout, b""
    with selectors.DefaultSelector() as selector:
        selector.register(process.stdout, selectors.EVENT_READ)
        while not line.endswith(b"\n"):
            left = deadline - time.monotonic()
            if left <= 0 or not selector.select(left):
                raise AssertionError(f"the sandbox did not start within {timeout} s")
            chunk = os.read(process.stdout.fileno(), 4096)
            if not chunk:
                raise AssertionError(f"the sandbox exited ({process.wait(10)})")
            line += chunk
    return json.loads(line)


@pytest.fixture
def sandbox_process(tmp_path) -> Iterator[dict[str, Any]]:
    """`orders-sync sandbox --max-items 3000` in a process of its own; its ready line."""
    command = [sys.executable, "-m", "orders_sync_gui.cli", "sandbox", "--port", "0"]
    command += ["--token", TOKEN, "--max-items", str(MAX_ITEMS)]
    process = subprocess.Popen(
        command,
        cwd=REPO,
        env=_env(tmp_path / "sandbox-home"),
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    try:
        ready = _ready_line(process)
        ready["base_url"] = ready["url"].rsplit("/v2", 1)[0]
        yield ready
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(30)
        assert process.stdout is not None
        process.stdout.close()


def _cli(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "orders_sync_gui.cli", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=600,
    )


def test_pushing_greyson_to_a_3000_item_board_is_refused_before_any_mutation(
    tmp_path, sandbox_process
):
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    env = _env(
        tmp_path / "home",
        ORDERS_SYNC_DB_URL=db,
        ORDERS_SYNC_MONDAY_URL=sandbox_process["url"],
        MONDAY_API_TOKEN=TOKEN,
        ORDERS_SYNC_BOARD_ID=sandbox_process["board_id"],
    )
    made = _cli(["demo-init"], env)
    assert made.returncode == 0, made.stderr
    staged = _cli(["stage", "--customer", "GREYSON", "--json"], env)
    assert staged.returncode == 0, staged.stderr
    batch = json.loads(staged.stdout)
    assert batch["items"] > 2300 and batch["new"] == batch["items"]
    base = sandbox_process["base_url"]
    before = requests.get(f"{base}/_sandbox/stats", timeout=30).json()

    pushed = _cli(["push", "--batch", str(batch["batch_id"])], env)

    assert pushed.returncode == 1, (pushed.stdout, pushed.stderr)
    [message] = pushed.stderr.strip().splitlines()  # one message, no traceback
    # What it needs, what fits, what to do.
    assert f"needs {batch['new']:,} new items ({MAX_ITEMS:,} free)" in message, message
    assert f"{batch['subitems']:,} new subitems ({MAX_ITEMS:,} free)" in message, message
    assert "Archive or delete old orders" in message and "push fewer orders" in message
    assert "max_items_per_board" in message
    # The sandbox's own counters: nothing was created, not even the push's group.
    after = requests.get(f"{base}/_sandbox/stats", timeout=30).json()
    assert after["mutations"] == before["mutations"] == 0
    assert after["items"] == 0 and after["subitems"] == 0
    board = requests.get(f"{base}/_sandbox/board", timeout=30).json()
    assert board["items"] == []
    # The batch is still STAGED, to push once there is room.
    listed = _cli(["batches", "--json"], env)
    assert listed.returncode == 0, listed.stderr
    [shown] = [
        b for b in json.loads(listed.stdout)["batches"] if b["batch_id"] == batch["batch_id"]
    ]
    assert shown["status"] == "STAGED"
