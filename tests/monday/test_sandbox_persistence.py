"""The sandbox's state file: a snapshot plus an append-only journal, over real HTTP.

What a kill leaves on disk is taken by copying both files while no request is in flight
(a SIGKILL loses nothing the process had written; one test kills a real process too), and
loaded by a fresh sandbox on the copy. Sizes are compared in bytes, never in time.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
import requests
from pushkit import TOKEN

from orders_sync_gui.monday.sandbox import SandboxConfig, SandboxServer
from orders_sync_gui.monday.sandbox.state import STATE_VERSION

REPO = Path(__file__).resolve().parents[2]
UNLIMITED = {  # enough budget for a few thousand mutations in a few requests
    "complexity_budget": 10**12,
    "max_complexity_per_query": 10**12,
    "requests_per_minute": 10**6,
    "daily_limit": 10**7,
    "ip_limit": None,
}
ARCHIVE = "mutation($id: ID) { archive_item(item_id: $id) { id } }"
DELETE = "mutation($id: ID) { delete_item(item_id: $id) { id } }"
CREATE_GROUP = """
mutation($board: ID!, $name: String!) { create_group(board_id: $board, group_name: $name) { id } }
"""
DELETE_GROUP = """
mutation($board: ID!, $group: String!) { delete_group(board_id: $board, group_id: $group) { id } }
"""
CREATE_IN_GROUP = """
mutation($board: ID!, $group: String, $name: String!) {
  create_item(board_id: $board, item_name: $name, group_id: $group) { id }
}"""


# ---------------------------------------------------------------------- helpers
def ok(server: SandboxServer, query: str, variables: dict[str, Any] | None = None) -> Any:
    response = requests.post(
        server.url,
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": TOKEN},
        timeout=60,
    )
    assert response.status_code == 200, response.text
    payload = response.json()
    assert "errors" not in payload, payload
    return payload["data"]


def _json(value: Any) -> str:
    return json.dumps(json.dumps(value))  # a JSON string, as a GraphQL string literal


def create_items(server: SandboxServer, names: list[str], values: dict[str, Any]) -> list[str]:
    fields = [
        f"i{n}: create_item(board_id: {server.board_id}, item_name: {json.dumps(name)}, "
        f"column_values: {_json(values)}, create_labels_if_missing: true) {{ id }}"
        for n, name in enumerate(names)
    ]
    data = ok(server, "mutation { " + " ".join(fields) + " }")
    return [data[f"i{n}"]["id"] for n in range(len(names))]


def create_subitems(server: SandboxServer, parents: list[str], values: dict[str, Any]) -> None:
    fields = [
        f's{n}: create_subitem(parent_item_id: {parent}, item_name: "M", '
        f"column_values: {_json(values)}) {{ id }}"
        for n, parent in enumerate(parents)
    ]
    ok(server, "mutation { " + " ".join(fields) + " }")


def change(server: SandboxServer, board_id: str, item_id: str, values: dict[str, Any]) -> None:
    ok(
        server,
        f"mutation {{ change_multiple_column_values(board_id: {board_id}, item_id: {item_id}, "
        f"column_values: {_json(values)}, create_labels_if_missing: true) {{ id }} }}",
    )


def journal_of(state_file: Path) -> Path:
    return state_file.with_name(state_file.name + ".journal")


def killed_copy(state_file: Path, into: Path) -> Path:
    """The files as a kill at this moment would leave them (no request is in flight)."""
    into.mkdir()
    for path in (state_file, journal_of(state_file)):
        if path.exists():
            shutil.copyfile(path, into / path.name)
    return into / state_file.name


def everything(server: SandboxServer) -> dict[str, Any]:
    """The board as the API shows it, plus every stored field of every item and board."""
    state = server.app.state
    with state.lock:
        return copy.deepcopy(
            {
                "dump": server.dump(),
                "items": {i: vars(item) for i, item in state.items.items()},
                "boards": {
                    b.id: (b.name, [c.to_json() for c in b.columns], b.groups, b.item_ids)
                    for b in state.boards.values()
                },
                "live": {b.id: b.live_count for b in state.boards.values()},
            }
        )


def busy_history(server: SandboxServer) -> None:
    """Every kind of mutation: items, subitems, new labels, changes, archive, delete, groups."""
    board, sub_board = server.board_id, server.subitems_board_id
    first = create_items(server, ["a", "b", "c"], {"text_po_number": "4755"})
    create_subitems(server, first, {"numeric_order_qty": "5"})
    change(server, board, first[0], {"status_order_type": "Bulk", "name": "renamed"})
    subitem = server.dump()["items"][1]["subitems"][0]["id"]
    change(server, sub_board, subitem, {"numeric_shipped": 3})
    ok(server, ARCHIVE, {"id": first[1]})
    ok(server, DELETE, {"id": first[2]})
    group = ok(server, CREATE_GROUP, {"board": board, "name": "Spring"})["create_group"]["id"]
    ok(server, CREATE_IN_GROUP, {"board": board, "group": group, "name": "in spring"})
    doomed = ok(server, CREATE_GROUP, {"board": board, "name": "Doomed"})["create_group"]["id"]
    ok(server, CREATE_IN_GROUP, {"board": board, "group": doomed, "name": "doomed"})
    ok(server, DELETE_GROUP, {"board": board, "group": doomed})
    create_items(server, [f"more {n}" for n in range(5)], {"status_sync": "Cancelled in source"})


def next_ids(server: SandboxServer) -> tuple[str, str]:
    """The ids the next item and group get: the counters survived too."""
    item = create_items(server, ["next"], {})[0]
    group = ok(server, CREATE_GROUP, {"board": server.board_id, "name": "Next"})
    return item, group["create_group"]["id"]


# ---------------------------------------------------------------------- tests
def test_a_kill_after_many_requests_loses_nothing_answered(
    make_sandbox: Callable[..., SandboxServer], tmp_path: Path
) -> None:
    state_file = tmp_path / "board.json"
    first = make_sandbox(state_file=state_file)
    busy_history(first)
    before = everything(first)
    copy = killed_copy(state_file, tmp_path / "killed")
    lines = journal_of(copy).read_bytes().splitlines()
    assert len(lines) >= 2, "the board should be on disk as a snapshot plus journal lines"
    assert json.loads(copy.read_bytes())["version"] == STATE_VERSION

    second = make_sandbox(state_file=copy)
    assert everything(second) == before
    assert journal_of(copy).read_bytes() == b""  # compacted at load
    assert next_ids(second) == next_ids(first)

    first.stop()  # and the normal way: compacted on close
    assert journal_of(state_file).read_bytes() == b""
    third = make_sandbox(state_file=state_file)
    assert everything(third) == everything(first)


def test_a_real_kill_mid_push_leaves_files_that_load(tmp_path: Path) -> None:
    state_file = tmp_path / "board.json"
    script = textwrap.dedent(
        f"""
        import threading
        from pathlib import Path
        from orders_sync_gui.monday.sandbox import SandboxConfig, SandboxServer
        state_file = Path({str(state_file)!r})
        config = SandboxConfig(token={TOKEN!r}, state_file=state_file)
        print(SandboxServer(config).start().url, flush=True)
        threading.Event().wait()
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script], cwd=REPO, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        url = process.stdout.readline().strip()
        remote = _Remote(url)
        ids = create_items(remote, [f"o{n}" for n in range(20)], {"text_po_number": "1"})
        create_subitems(remote, ids, {"numeric_order_qty": "2"})
        for item_id in ids[:5]:
            change(remote, remote.board_id, item_id, {"status_sync": "Done"})
        answered = requests.get(url.replace("/v2", "/_sandbox/board"), timeout=10).json()
    finally:
        process.kill()
        process.wait(timeout=10)
    assert journal_of(state_file).stat().st_size > 0  # the kill left journal lines
    reloaded = SandboxServer(SandboxConfig(token=TOKEN, state_file=state_file))
    assert reloaded.dump() == answered


class _Remote:
    """Enough of SandboxServer for the helpers above, for a sandbox in another process."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.board_id = "1800000001"
        self.subitems_board_id = "1800000002"


@pytest.mark.parametrize("keep", ["half", "first-byte"])
def test_a_torn_last_journal_line_is_ignored(
    make_sandbox: Callable[..., SandboxServer], tmp_path: Path, keep: str
) -> None:
    state_file = tmp_path / "board.json"
    first = make_sandbox(state_file=state_file)
    busy_history(first)
    before_last = everything(first)
    size_before = journal_of(state_file).stat().st_size
    change(first, first.board_id, first.dump()["items"][0]["id"], {"text_po_number": "torn"})
    copy = killed_copy(state_file, tmp_path / "killed")
    journal = journal_of(copy)
    last_line = journal.stat().st_size - size_before
    assert last_line > 2
    with journal.open("r+b") as handle:  # the kill came mid-append
        handle.truncate(size_before + (last_line // 2 if keep == "half" else 1))

    second = make_sandbox(state_file=copy)
    assert everything(second) == before_last
    # The torn line is gone with the compaction at load: what follows loads after it.
    change(second, second.board_id, second.dump()["items"][0]["id"], {"text_po_number": "ok"})
    after = everything(second)
    third = make_sandbox(state_file=killed_copy(copy, tmp_path / "killed-again"))
    assert everything(third) == after
    assert third.dump()["items"][0]["column_values"]["text_po_number"]["text"] == "ok"


def test_bytes_written_per_request_do_not_grow_with_the_board(
    make_sandbox: Callable[..., SandboxServer], tmp_path: Path
) -> None:
    def one_request_on(objects: int, name: str) -> tuple[int, int]:
        """(snapshot size, bytes one small change request writes) on a board of `objects`."""
        state_file = tmp_path / name / "board.json"
        server = make_sandbox(state_file=state_file, **UNLIMITED)
        values = {"text_po_number": "4755", "text_customer": "GREYSON", "numeric_order_qty": 7}
        parents: list[str] = []
        for start in range(0, objects // 2, 250):
            count = min(250, objects // 2 - start)
            made = create_items(server, [f"order {start + n}" for n in range(count)], values)
            create_subitems(server, made, {"numeric_order_qty": "5", "text_size": "M"})
            parents += made
        server.stop()  # compacts: the journal starts empty
        server = make_sandbox(state_file=state_file, **UNLIMITED)
        snapshot = state_file.stat()
        assert journal_of(state_file).stat().st_size == 0
        change(server, server.board_id, parents[0], {"text_po_number": "4756"})
        unchanged = state_file.stat()
        assert (unchanged.st_ino, unchanged.st_size, unchanged.st_mtime_ns) == (
            snapshot.st_ino,
            snapshot.st_size,
            snapshot.st_mtime_ns,
        ), "one small request must not rewrite the snapshot"
        assert len(server.dump()["items"]) == objects // 2
        return snapshot.st_size, journal_of(state_file).stat().st_size

    small_snapshot, small_write = one_request_on(20, "small")
    big_snapshot, big_write = one_request_on(2_000, "big")
    assert big_snapshot > 10 * small_snapshot  # the big board is really big
    assert 0 < big_write < big_snapshot / 100
    assert abs(big_write - small_write) <= 16  # the same change, the same line


def test_compaction_when_the_journal_outgrows_the_snapshot_and_on_close(
    make_sandbox: Callable[..., SandboxServer], tmp_path: Path
) -> None:
    state_file = tmp_path / "board.json"
    server = make_sandbox(state_file=state_file)
    item = create_items(server, ["busy"], {"text_po_number": "0"})[0]
    compactions = 0
    previous_journal = journal_of(state_file).stat().st_size
    previous_snapshot = state_file.stat().st_ino
    for n in range(1, 1000):
        if compactions == 3 and previous_journal > 0:
            break
        change(server, server.board_id, item, {"text_po_number": f"{n:04d}" + "x" * 200})
        journal = journal_of(state_file).stat().st_size
        snapshot = state_file.stat()
        assert journal <= snapshot.st_size  # never past the snapshot
        if journal < previous_journal:
            compactions += 1
            assert snapshot.st_ino != previous_snapshot  # a fresh snapshot replaced the old
        else:
            assert snapshot.st_ino == previous_snapshot
        previous_journal, previous_snapshot = journal, snapshot.st_ino
    assert compactions == 3, "the journal never outgrew the snapshot"
    assert n > 20  # each compaction took many requests
    before = everything(server)
    reloaded = make_sandbox(state_file=killed_copy(state_file, tmp_path / "killed"))
    assert everything(reloaded) == before

    server.stop()
    assert journal_of(state_file).read_bytes() == b""
    assert everything(make_sandbox(state_file=state_file)) == before


@pytest.mark.parametrize("interval", [0.01, 600.0])
def test_no_setting_delays_a_write_past_its_answer(
    make_sandbox: Callable[..., SandboxServer], tmp_path: Path, interval: float
) -> None:
    """`state_save_interval` once debounced the saves (and a kill then lost answered
    writes); it is ignored now: every write is on disk when its answer arrives."""
    state_file = tmp_path / "board.json"
    server = make_sandbox(state_file=state_file, state_save_interval=interval)
    create_items(server, ["first"], {"text_po_number": "1"})
    create_items(server, ["second"], {"text_po_number": "2"})
    assert journal_of(state_file).stat().st_size > 0  # the second went to the journal
    before = everything(server)
    reloaded = make_sandbox(state_file=killed_copy(state_file, tmp_path / "killed"))
    assert [i["name"] for i in reloaded.dump()["items"]] == ["first", "second"]
    assert everything(reloaded) == before
    server.stop()  # compacted on stop
    assert journal_of(state_file).read_bytes() == b""
    assert [i["name"] for i in make_sandbox(state_file=state_file).dump()["items"]] == [
        "first",
        "second",
    ]


def test_a_snapshot_alone_from_version_1_loads_and_unknown_versions_are_refused(
    make_sandbox: Callable[..., SandboxServer], tmp_path: Path
) -> None:
    state_file = tmp_path / "board.json"
    server = make_sandbox(state_file=state_file)
    busy_history(server)
    server.stop()
    before = everything(server)
    data = json.loads(state_file.read_bytes())
    del data["generation"]
    state_file.write_text(json.dumps({**data, "version": 1}), "utf-8")  # as version 1 wrote it
    journal_of(state_file).unlink()
    old = make_sandbox(state_file=state_file)
    assert everything(old) == before
    create_items(old, ["after the upgrade"], {})
    after = everything(old)
    assert json.loads(state_file.read_bytes())["version"] == STATE_VERSION
    assert everything(make_sandbox(state_file=killed_copy(state_file, tmp_path / "k"))) == after

    future = tmp_path / "future.json"
    future.write_text(json.dumps({**data, "version": 99}), "utf-8")
    with pytest.raises(ValueError, match="unsupported state version 99"):
        SandboxServer(SandboxConfig(token=TOKEN, state_file=future))


def test_a_garbled_line_before_the_last_is_refused_clearly(
    make_sandbox: Callable[..., SandboxServer], tmp_path: Path
) -> None:
    state_file = tmp_path / "board.json"
    server = make_sandbox(state_file=state_file)
    create_items(server, ["a"], {})
    create_items(server, ["b"], {})
    create_items(server, ["c"], {})
    copy = killed_copy(state_file, tmp_path / "killed")
    lines = journal_of(copy).read_bytes().splitlines(keepends=True)
    assert len(lines) >= 2
    journal_of(copy).write_bytes(b"garbage\n" + b"".join(lines[1:]))
    with pytest.raises(ValueError, match="journal line 1 is not JSON"):
        SandboxServer(SandboxConfig(token=TOKEN, state_file=copy))


def test_a_reset_compacts_and_survives(
    make_sandbox: Callable[..., SandboxServer], tmp_path: Path
) -> None:
    state_file = tmp_path / "board.json"
    server = make_sandbox(state_file=state_file)
    busy_history(server)
    answer = requests.post(f"{server.base_url}/_sandbox/reset", json={}, timeout=10)
    assert answer.status_code == 200
    assert journal_of(state_file).read_bytes() == b""
    create_items(server, ["after reset"], {})
    before = everything(server)
    reloaded = make_sandbox(state_file=killed_copy(state_file, tmp_path / "killed"))
    assert everything(reloaded) == before
    assert [i["name"] for i in reloaded.dump()["items"]] == ["after reset"]


def test_queries_and_a_stop_with_nothing_pending_write_nothing(
    make_sandbox: Callable[..., SandboxServer], tmp_path: Path
) -> None:
    """Queries write nothing, and a sandbox with nothing pending writes nothing on stop."""
    state_file = tmp_path / "board.json"
    server = make_sandbox(state_file=state_file)
    create_items(server, ["a"], {})
    server.stop()
    stamp = (state_file.stat().st_mtime_ns, state_file.stat().st_ino)
    again = make_sandbox(state_file=state_file)
    ok(again, "query { boards { id items_page { items { id } } } }")
    again.stop()
    assert (state_file.stat().st_mtime_ns, state_file.stat().st_ino) == stamp
    assert os.path.getsize(journal_of(state_file)) == 0
