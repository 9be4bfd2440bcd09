"""The sandbox cannot lie about what it stored (issue 11, point 3).

A real `orders-sync sandbox --state FILE` child process, spoken to over HTTP on 127.0.0.1,
killed with SIGKILL right after an answer and restarted on the same file: every answered
write is there, with its id, and no id ever comes back. Also the `Idempotency-Key` switches
of the command line (`--no-idempotency`, `--idempotency-window`), and the order of the
writes that make a journal line and a compaction durable.

Nothing waits on a bare sleep: the server is up when its ready line has come and its stats
answer (both polled against a deadline), and the idempotency window is waited out by
watching the clock.
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from orders_sync_gui.monday.sandbox import SandboxConfig, SandboxServer
from orders_sync_gui.monday.sandbox import state as state_module

REPO = Path(__file__).resolve().parents[2]
TOKEN = "durability-token"
START_DEADLINE = 60.0
CREATE = (
    "mutation($board: ID!, $name: String!) "
    "{ create_item(board_id: $board, item_name: $name) { id } }"
)
CREATE_SUB = (
    "mutation($parent: ID!, $name: String!) "
    "{ create_subitem(parent_item_id: $parent, item_name: $name) { id } }"
)
DELETE = "mutation($id: ID) { delete_item(item_id: $id) { id } }"
ARCHIVE = "mutation($id: ID) { archive_item(item_id: $id) { id } }"
CREATE_GROUP = (
    "mutation($board: ID!, $name: String!) "
    "{ create_group(board_id: $board, group_name: $name) { id } }"
)


# ---------------------------------------------------------------------- a sandbox process
class Child:
    """`orders-sync sandbox ...` in a process of its own, as a user starts it."""

    def __init__(self, *args: str) -> None:
        env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
        command = [sys.executable, "-m", "orders_sync_gui.cli", "sandbox", "--port", "0"]
        self.process = subprocess.Popen(
            [*command, "--token", TOKEN, *args],
            cwd=REPO,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )
        ready = self._ready_line()
        self.url: str = ready["url"]
        self.board_id: str = ready["board_id"]
        self.base_url = self.url.rsplit("/v2", 1)[0]
        self._wait_serving()

    def _ready_line(self) -> dict[str, Any]:
        """The JSON line the sandbox prints once it listens, read against a deadline."""
        assert self.process.stdout is not None
        deadline = time.monotonic() + START_DEADLINE
        line = b""
        with selectors.DefaultSelector() as selector:
            selector.register(self.process.stdout, selectors.EVENT_READ)
            while not line.endswith(b"\n"):
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    self.kill()
                    pytest.fail(f"the sandbox did not start within {START_DEADLINE:.0f} s")
                chunk = os.read(self.process.stdout.fileno(), 4096)
                if not chunk:
                    self.process.wait(10)
                    error = self.process.stderr.read().decode() if self.process.stderr else ""
                    pytest.fail(f"the sandbox exited ({self.process.returncode}): {error}")
                line += chunk
        return json.loads(line)

    def _wait_serving(self) -> None:
        deadline = time.monotonic() + START_DEADLINE
        while True:
            try:
                if requests.get(f"{self.base_url}/_sandbox/stats", timeout=5).ok:
                    return
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                self.kill()
                pytest.fail("the sandbox printed its address but does not answer")

    def post(
        self, query: str, variables: dict[str, Any] | None = None, key: str | None = None
    ) -> requests.Response:
        headers = {"Authorization": TOKEN}
        if key is not None:
            headers["Idempotency-Key"] = key
        return requests.post(
            self.url,
            json={"query": query, "variables": variables or {}},
            headers=headers,
            timeout=30,
        )

    def ok(self, query: str, variables: dict[str, Any] | None = None) -> dict[str, Any]:
        response = self.post(query, variables)
        assert response.status_code == 200, response.text
        payload = response.json()
        assert "errors" not in payload, payload
        return payload["data"]

    def create(self, name: str) -> str:
        return self.ok(CREATE, {"board": self.board_id, "name": name})["create_item"]["id"]

    def board(self) -> dict[str, Any]:
        return requests.get(f"{self.base_url}/_sandbox/board", timeout=10).json()

    def kill(self) -> None:
        """SIGKILL: no signal handler, no stop, no compaction."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL if hasattr(signal, "SIGKILL") else 9)
        self.process.wait(30)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


@pytest.fixture
def child() -> Iterator[Callable[..., Child]]:
    started: list[Child] = []

    def start(*args: str) -> Child:
        one = Child(*args)
        started.append(one)
        return one

    yield start
    for one in started:
        one.kill()


def stored_items(board: dict[str, Any]) -> dict[str, tuple[str, str]]:
    """Every item and subitem the sandbox holds, deleted ones included: id -> (name, state)."""
    found: dict[str, tuple[str, str]] = {}
    for item in board["items"]:
        found[item["id"]] = (item["name"], item["state"])
        for sub in item["subitems"]:
            found[sub["id"]] = (sub["name"], sub["state"])
    return found


# ---------------------------------------------------------------------- kill and restart
def after_one(sandbox: Child) -> dict[str, tuple[str, str]]:
    return {sandbox.create("only"): ("only", "active")}


def after_many(sandbox: Child) -> dict[str, tuple[str, str]]:
    answered: dict[str, tuple[str, str]] = {}
    for n in range(40):
        item = sandbox.create(f"order {n}")
        answered[item] = (f"order {n}", "active")
        if n % 4 == 0:
            sub = sandbox.ok(CREATE_SUB, {"parent": item, "name": f"M{n}"})["create_subitem"]["id"]
            answered[sub] = (f"M{n}", "active")
    batch = " ".join(
        f'b{n}: create_item(board_id: {sandbox.board_id}, item_name: "batch {n}") {{ id }}'
        for n in range(10)
    )
    data = sandbox.ok("mutation { " + batch + " }")
    answered.update({data[f"b{n}"]["id"]: (f"batch {n}", "active") for n in range(10)})
    return answered


def after_a_delete(sandbox: Child) -> dict[str, tuple[str, str]]:
    """The newest item, and a subitem newer still, deleted last: their ids are the highest."""
    answered = {sandbox.create(f"keep {n}"): (f"keep {n}", "active") for n in range(3)}
    doomed = sandbox.create("doomed")
    sub = sandbox.ok(CREATE_SUB, {"parent": doomed, "name": "doomed M"})["create_subitem"]["id"]
    assert sandbox.ok(DELETE, {"id": doomed})["delete_item"]["id"] == doomed
    answered[doomed] = ("doomed", "deleted")
    answered[sub] = ("doomed M", "deleted")
    return answered


def after_an_archive(sandbox: Child) -> dict[str, tuple[str, str]]:
    answered = {sandbox.create(f"keep {n}"): (f"keep {n}", "active") for n in range(2)}
    shelved = sandbox.create("shelved")
    sandbox.ok(ARCHIVE, {"id": shelved})
    answered[shelved] = ("shelved", "archived")
    return answered


@pytest.mark.parametrize(
    "history",
    [after_one, after_many, after_a_delete, after_an_archive],
    ids=["after-one", "after-many", "right-after-a-delete", "right-after-an-archive"],
)
def test_a_sigkill_right_after_an_answer_loses_nothing_and_reuses_no_id(
    child: Callable[..., Child], tmp_path: Path, history: Callable[[Child], dict]
) -> None:
    state_file = tmp_path / "board.json"
    first = child("--state", str(state_file))
    answered = history(first)
    first.kill()  # at once: the last answer has just arrived

    second = child("--state", str(state_file))
    stored = stored_items(second.board())
    for item_id, (name, state) in answered.items():
        assert stored.get(item_id) == (name, state), f"answered item {item_id} lost or changed"
    assert set(stored) == set(answered)  # nothing unanswered appeared either

    new = second.create("after the restart")
    assert new not in answered, f"id {new} was handed out before the kill"
    assert int(new) > max(int(i) for i in answered)
    second.kill()

    third = child("--state", str(state_file))  # and again, from the files the second left
    assert stored_items(third.board()) == {**answered, new: ("after the restart", "active")}
    assert int(third.create("third life")) > int(new)


def test_group_ids_are_not_reused_after_a_kill(child: Callable[..., Child], tmp_path: Path) -> None:
    state_file = tmp_path / "board.json"
    first = child("--state", str(state_file))
    made = [
        first.ok(CREATE_GROUP, {"board": first.board_id, "name": f"G{n}"})["create_group"]["id"]
        for n in range(3)
    ]
    first.kill()
    second = child("--state", str(state_file))
    titles = {g["id"]: g["title"] for g in second.board()["board"]["groups"]}
    assert [titles.get(g) for g in made] == ["G0", "G1", "G2"]
    again = second.ok(CREATE_GROUP, {"board": second.board_id, "name": "G3"})["create_group"]["id"]
    assert again not in made


def _create(server: SandboxServer, name: str) -> str:
    answer = requests.post(
        server.url,
        json={"query": CREATE, "variables": {"board": server.board_id, "name": name}},
        headers={"Authorization": server.config.token},
        timeout=30,
    )
    assert answer.status_code == 200, answer.text
    return answer.json()["data"]["create_item"]["id"]


def test_a_lagging_stored_counter_cannot_bring_an_id_back(
    make_sandbox: Callable[..., SandboxServer], tmp_path: Path
) -> None:
    """The next id is past every id the file holds, deleted items' too, whatever counter
    it stores (one written by an older sandbox, or by hand)."""
    state_file = tmp_path / "board.json"
    first = make_sandbox(state_file=state_file)
    kept, doomed = _create(first, "kept"), _create(first, "doomed")
    requests.post(
        first.url,
        json={"query": DELETE, "variables": {"id": doomed}},
        headers={"Authorization": first.config.token},
        timeout=30,
    ).raise_for_status()
    first.stop()  # compacted: the snapshot alone
    data = json.loads(state_file.read_bytes())
    state_file.write_text(json.dumps({**data, "next_item_id": int(kept)}), "utf-8")
    again = make_sandbox(state_file=state_file)
    assert int(_create(again, "new")) > int(doomed) > int(kept)


def test_a_reset_empties_the_board_but_hands_out_no_old_id(
    make_sandbox: Callable[..., SandboxServer], tmp_path: Path
) -> None:
    state_file = tmp_path / "board.json"
    server = make_sandbox(state_file=state_file)
    old = [_create(server, f"before {n}") for n in range(3)]
    assert requests.post(f"{server.base_url}/_sandbox/reset", json={}, timeout=10).ok
    assert server.dump()["items"] == []
    new = _create(server, "after the reset")
    assert int(new) > max(map(int, old))
    server.stop()
    assert int(_create(make_sandbox(state_file=state_file), "restarted")) > int(new)


# ---------------------------------------------------------------------- idempotency switches
def _same_create_twice(sandbox: Child) -> tuple[requests.Response, requests.Response]:
    variables = {"board": sandbox.board_id, "name": "retried"}
    first = sandbox.post(CREATE, variables, key="key-1")
    again = sandbox.post(CREATE, variables, key="key-1")
    assert first.status_code == again.status_code == 200
    return first, again


def test_no_idempotency_runs_every_request_with_the_same_key(child: Callable[..., Child]) -> None:
    ignoring = child("--no-idempotency")
    first, again = _same_create_twice(ignoring)
    assert "Idempotency-Replayed" not in first.headers
    assert "Idempotency-Replayed" not in again.headers
    ids = {r.json()["data"]["create_item"]["id"] for r in (first, again)}
    assert len(ids) == 2
    assert [i["name"] for i in ignoring.board()["items"]] == ["retried", "retried"]

    honouring = child()  # the default: monday's behaviour
    first, again = _same_create_twice(honouring)
    assert again.headers["Idempotency-Replayed"] == "true"
    assert again.json() == first.json()
    assert [i["name"] for i in honouring.board()["items"]] == ["retried"]


def test_no_idempotency_ignores_a_key_still_running(
    make_sandbox: Callable[..., SandboxServer],
) -> None:
    """No 409 either: a duplicate arriving while the first runs simply runs too."""
    sandbox = make_sandbox(idempotency_enabled=False)
    variables = {"board": sandbox.board_id, "name": "twice at once"}

    def post() -> requests.Response:
        return requests.post(
            sandbox.url,
            json={"query": CREATE, "variables": variables},
            headers={"Authorization": sandbox.config.token, "Idempotency-Key": "k"},
            timeout=30,
        )

    results: list[requests.Response] = []
    with sandbox.hold():
        worker = threading.Thread(target=lambda: results.append(post()))
        worker.start()
        assert sandbox.wait_held(1)
        second = threading.Thread(target=lambda: results.append(post()))
        second.start()
        assert sandbox.wait_held(2)  # not refused with a 409: held, about to run
    worker.join(30)
    second.join(30)
    assert [r.status_code for r in results] == [200, 200]
    assert sandbox.stats()["items"] == 2
    assert sandbox.stats()["idempotency_conflicts"] == 0


def test_after_a_short_idempotency_window_the_same_key_runs_again(
    child: Callable[..., Child],
) -> None:
    window = 2.0
    sandbox = child("--idempotency-window", str(window))
    variables = {"board": sandbox.board_id, "name": "windowed"}
    sent = time.monotonic()
    first = sandbox.post(CREATE, variables, key="key-w")
    answered = time.monotonic()  # the key's entry was made between `sent` and now
    again = sandbox.post(CREATE, variables, key="key-w")
    if time.monotonic() - sent >= window:
        pytest.skip("this machine took longer than the window for two requests")
    assert again.headers.get("Idempotency-Replayed") == "true"

    # Past the window, as the clock says (CLOCK_MONOTONIC is the same in both processes).
    deadline = answered + window + 30
    while time.monotonic() <= answered + window:
        assert time.monotonic() < deadline
        threading.Event().wait(0.05)
    later = sandbox.post(CREATE, variables, key="key-w")
    assert later.status_code == 200
    assert "Idempotency-Replayed" not in later.headers
    first_id = first.json()["data"]["create_item"]["id"]
    assert later.json()["data"]["create_item"]["id"] != first_id
    assert [i["name"] for i in sandbox.board()["items"]] == ["windowed", "windowed"]


def test_the_idempotency_window_defaults_to_mondays_30_minutes() -> None:
    from orders_sync_gui.monday.sandbox.cli import build_config

    config = build_config([])
    assert config.idempotency_ttl_seconds == 1800.0 and config.idempotency_enabled
    config = build_config(["--no-idempotency", "--idempotency-window", "0.5"])
    assert config.idempotency_ttl_seconds == 0.5 and not config.idempotency_enabled


# ---------------------------------------------------------------------- what reaches the disk
class DiskLog:
    """Records, in order, the fsyncs, replaces and truncations the state module makes."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, state_file: Path) -> None:
        self.events: list[tuple[str, str]] = []
        self._state_file = state_file
        real_fsync, real_replace = os.fsync, os.replace

        def fsync(fd: int) -> None:
            real_fsync(fd)
            self.events.append(("fsync", self._name(fd)))

        def replace(src: Any, dst: Any) -> None:
            real_replace(src, dst)
            self.events.append(("replace", Path(dst).name))

        monkeypatch.setattr(state_module.os, "fsync", fsync)
        monkeypatch.setattr(state_module.os, "replace", replace)

    def _name(self, fd: int) -> str:
        info = os.fstat(fd)
        directory = self._state_file.parent
        if info.st_ino == directory.stat().st_ino:
            return "<dir>"
        for path in directory.iterdir():
            if path.stat().st_ino == info.st_ino:
                return "<temp>" if path.name.startswith(".sandbox-") else path.name
        return "<temp>"  # already renamed away? then it was the snapshot's temp file


def test_a_write_is_fsynced_to_the_journal_before_its_answer(
    make_sandbox: Callable[..., SandboxServer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    state_file = tmp_path / "board.json"
    server = make_sandbox(state_file=state_file)
    requests.post(  # the first write makes the snapshot
        server.url,
        json={"query": CREATE, "variables": {"board": server.board_id, "name": "a"}},
        headers={"Authorization": server.config.token},
        timeout=30,
    ).raise_for_status()
    disk = DiskLog(monkeypatch, state_file)
    answer = requests.post(
        server.url,
        json={"query": CREATE, "variables": {"board": server.board_id, "name": "b"}},
        headers={"Authorization": server.config.token},
        timeout=30,
    )
    assert answer.status_code == 200
    # The answer has arrived: the line was on disk, fsync'd, before it left.
    assert ("fsync", "board.json.journal") in disk.events
    lines = (tmp_path / "board.json.journal").read_bytes().splitlines()
    assert b'"name":"b"' in lines[-1]


def test_compaction_is_durable_before_the_journal_is_emptied(
    make_sandbox: Callable[..., SandboxServer], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Snapshot: temp file written and fsync'd, replaced, directory fsync'd; only then is
    the journal truncated. A kill between the two leaves lines the new snapshot holds:
    loading skips them, so nothing is applied twice or lost."""
    state_file = tmp_path / "board.json"
    server = make_sandbox(state_file=state_file)
    token = {"Authorization": server.config.token}
    for name in ("a", "b", "c"):
        requests.post(
            server.url,
            json={"query": CREATE, "variables": {"board": server.board_id, "name": name}},
            headers=token,
            timeout=30,
        ).raise_for_status()
    journal = tmp_path / "board.json.journal"
    assert journal.stat().st_size > 0
    before = server.dump()

    disk = DiskLog(monkeypatch, state_file)
    killed = RuntimeError("killed between the snapshot and the journal's truncation")

    def kill_before_truncating(self: Any) -> None:
        raise killed

    monkeypatch.setattr(state_module.BoardState, "_truncate_journal", kill_before_truncating)
    with pytest.raises(RuntimeError, match="killed between"):
        server.app.state.save()
    assert disk.events[:3] == [("fsync", "<temp>"), ("replace", "board.json"), ("fsync", "<dir>")]
    assert journal.stat().st_size > 0  # the old lines are still there

    monkeypatch.undo()
    reloaded = SandboxServer(SandboxConfig(token=TOKEN, state_file=state_file))
    assert reloaded.dump() == before
    assert [i["name"] for i in reloaded.dump()["items"]] == ["a", "b", "c"]
