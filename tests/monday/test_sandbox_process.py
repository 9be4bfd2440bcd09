"""The demo sandbox in a child process: it serves, keeps its board, and never outlives the
app that started it."""

from __future__ import annotations

import json
import os
import select
import subprocess
import sys

import pytest
import requests

from orders_sync_gui.monday.sandbox import (
    SandboxConfig,
    SandboxProcess,
    SandboxServer,
    SandboxStartError,
)
from orders_sync_gui.services import staging
from orders_sync_gui.services.demo import start_demo
from orders_sync_gui.services.push import push

TOKEN = "process-test-token-0123456789"
CREATE = 'mutation { create_item (board_id: %s, item_name: "%s") { id } }'


def _post(sandbox, query: str) -> dict:
    answer = requests.post(
        sandbox.url, json={"query": query}, headers={"Authorization": TOKEN}, timeout=30
    )
    answer.raise_for_status()
    return answer.json()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def _wait_gone(pid: int, timeout: float = 30.0) -> bool:
    """Wait for the process to end (its pidfd turns readable then): an event, not a poll."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        readable, _, _ = select.select([fd], [], [], timeout)
        return bool(readable)
    finally:
        os.close(fd)


def test_a_child_sandbox_serves_and_its_board_outlives_it(tmp_path):
    state = tmp_path / "board.json"
    config = SandboxConfig(token=TOKEN, state_file=state)
    with SandboxProcess(config) as sandbox:
        assert sandbox.alive and sandbox.pid != os.getpid()
        assert sandbox.url.startswith("http://127.0.0.1:")
        made = _post(sandbox, CREATE % (sandbox.board_id, "AAG-1 · NAVY"))
        item_id = made["data"]["create_item"]["id"]
    assert not sandbox.alive
    with SandboxServer(SandboxConfig(token=TOKEN, state_file=state)) as again:
        board = requests.get(f"{again.base_url}/_sandbox/board", timeout=10).json()
    assert [(i["id"], i["name"]) for i in board["items"]] == [(item_id, "AAG-1 · NAVY")]


def test_a_sandbox_that_cannot_start_says_why(tmp_path):
    state = tmp_path / "board.json"
    state.write_text(json.dumps({"version": 99}), encoding="utf-8")
    with pytest.raises(SandboxStartError, match="unsupported state version 99"):
        SandboxProcess(SandboxConfig(token=TOKEN, state_file=state)).start()


PARENT = """
import sys
from pathlib import Path
from orders_sync_gui.monday.sandbox import SandboxConfig, SandboxProcess

if __name__ == "__main__":
    sandbox = SandboxProcess(SandboxConfig(token="t", state_file=Path(sys.argv[1]))).start()
    print(sandbox.pid, sandbox.url, flush=True)
    sys.stdin.readline()  # until the test kills this process
"""


def test_a_killed_app_leaves_no_sandbox_behind(tmp_path):
    script = tmp_path / "parent.py"
    script.write_text(PARENT, encoding="utf-8")
    parent = subprocess.Popen(
        [sys.executable, str(script), str(tmp_path / "board.json")],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        pid_text, url = parent.stdout.readline().split()
        child = int(pid_text)
        assert _alive(child)
        assert requests.get(url.replace("/v2", "/_sandbox/stats"), timeout=10).ok
        parent.kill()  # no stop, no cleanup: as a crash or a task manager would
        parent.wait(30)
        assert _wait_gone(child), "the sandbox outlived the app that started it"
    finally:
        parent.kill()
        parent.wait(30)


def test_demo_mode_pushes_to_its_own_sandbox_process(isolated_home, monkeypatch):
    monkeypatch.delenv("ORDERS_SYNC_DEMO_SANDBOX", raising=False)
    demo = start_demo()
    try:
        assert isinstance(demo.sandbox, SandboxProcess) and demo.sandbox.alive
        batch = staging.stage(demo.ctx, "GREYSON", limit=3)
        report = push(demo.ctx, batch.batch_id, demo.setup)
        assert report.status == "PUSHED" and report.succeeded == 3
        board = requests.get(f"{demo.sandbox.base_url}/_sandbox/board", timeout=10).json()
        assert len([i for i in board["items"] if i["state"] == "active"]) == 3
    finally:
        demo.close()
    assert not demo.sandbox.alive
