"""A push killed mid-batch (SIGKILL, a real `orders-sync push` process) and resumed: no item
or subitem twice on the board, every staged row accounted for, sync state true to the board.

The sandbox runs in the test process; a tap on its request handler parks one chosen
mutation request, either after the sandbox executed it (the client never hears the
answer), before it executes and never running it, or before it executes and running it only
after the client is dead. The process is killed while that request is parked. The same
goes for `orders-sync rollback` (the undo of a pushed batch).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from pushkit import (
    CUSTOMER,
    TOKEN,
    active,
    assert_no_duplicates,
    assert_state_matches_board,
    counts,
    expected_items,
    quick_setup,
    row_statuses,
    stage,
    subitem_statuses,
    texts,
)

from orders_sync_gui.core.models import BatchStatus
from orders_sync_gui.monday.sandbox import SandboxServer
from orders_sync_gui.monday.sandbox.app import Response
from orders_sync_gui.services import undo as undo_service
from orders_sync_gui.services.push import push
from orders_sync_gui.store.staging import get_batch

REPO = Path(__file__).resolve().parents[2]
CHUNK = 5  # mutations per request in the killed process (settings.json), so 4 item requests
ROWS = 20


class Tap:
    """Wraps the sandbox's request handler; parks the `nth` request that carries `field`
    (or the nth mutation of any kind when `field` is None).

    mode "executed": run it, then hold back the answer; "never": hold it, then drop it
    unrun; "late": hold it, and run it once released (after the kill)."""

    def __init__(self, server: SandboxServer, field: str | None, nth: int, mode: str) -> None:
        self.server, self.field, self.nth, self.mode = server, field, nth, mode
        self.original = server.app.handle_graphql
        self.seen = 0
        self.lock = threading.Lock()
        self.parked = threading.Event()
        self.release = threading.Event()
        self.finished = threading.Event()
        self.parked_query = ""
        server.app.handle_graphql = self

    def __call__(self, headers, body, ip):  # type: ignore[no-untyped-def]
        query = json.loads(body).get("query", "")
        wanted = query.lstrip().startswith("mutation") and (
            self.field is None or f"{self.field}(" in query
        )
        with self.lock:
            if wanted:
                self.seen += 1
            target = wanted and self.seen == self.nth and not self.parked.is_set()
        if not target:
            return self.original(headers, body, ip)
        self.parked_query = query
        try:
            if self.mode == "executed":
                response = self.original(headers, body, ip)
                self.parked.set()
                self.release.wait(30)
                return response  # to a dead client
            self.parked.set()
            self.release.wait(30)
            if self.mode == "late":
                return self.original(headers, body, ip)
            return Response(0, drop=True)
        finally:
            self.finished.set()


def kill_at(server, db, home, command, field, nth, mode) -> Tap:
    """Run `orders-sync COMMAND` in a real process against the sandbox and SIGKILL it while
    the chosen request is parked; returns the tap once that request is over."""
    tap = Tap(server, field, nth, mode)
    env = {
        **os.environ,
        "ORDERS_SYNC_DB_URL": db,
        "ORDERS_SYNC_MONDAY_URL": server.url,
        "MONDAY_API_TOKEN": TOKEN,
        "ORDERS_SYNC_BOARD_ID": server.board_id,
        "ORDERS_SYNC_HOME": str(home),
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "orders_sync_gui.cli", *command],
        cwd=REPO,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    try:
        if not tap.parked.wait(60):
            out, err = process.communicate(timeout=30)
            pytest.fail(f"{command} never reached the kill point: {out!r} {err!r}")
        process.send_signal(signal.SIGKILL)
        assert process.wait(timeout=30) == -signal.SIGKILL
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()
        tap.release.set()
        process.stdout.close()
        process.stderr.close()
    assert tap.finished.wait(10)
    return tap


def small_chunks(home: Path) -> None:
    """settings.json of the killed process: 5 mutations per request, so 4 item requests."""
    (home / "config").mkdir(parents=True, exist_ok=True)
    settings = {"monday": {"limits": {"max_mutations_per_request": CHUNK, "window_seconds": 1}}}
    (home / "config" / "settings.json").write_text(json.dumps(settings), "utf-8")


KILL_POINTS = [
    ("1st-item-request-executed", "create_item", 1, "executed"),
    ("3rd-item-request-never-ran", "create_item", 3, "never"),
    ("1st-subitem-request-executed", "create_subitem", 1, "executed"),
    ("2nd-subitem-request-ran-after-the-kill", "create_subitem", 2, "late"),
]


@pytest.mark.parametrize(("field", "nth", "mode"), [p[1:] for p in KILL_POINTS],
                         ids=[p[0] for p in KILL_POINTS])  # fmt: skip
def test_a_push_killed_mid_request_resumes_without_duplicates(
    db, ctx, sandbox, isolated_home, field, nth, mode
):
    small_chunks(isolated_home)
    batch = stage(ctx, limit=ROWS)
    want = expected_items(ctx, batch)
    before = counts(ctx)
    tap = kill_at(sandbox, db, isolated_home, ["push", "--batch", str(batch)], field, nth, mode)

    # The kill left the batch mid-push: the parked request's rows are in flight.
    with ctx.store.engine.connect() as conn:
        assert get_batch(conn, batch).status == BatchStatus.PUSHING
    in_flight = row_statuses(ctx, batch)["SENDING"] + subitem_statuses(ctx, batch)["SENDING"]
    sent = tap.parked_query.count("create_item(") + tap.parked_query.count("create_subitem(")
    assert in_flight == sent, "the rows of the request that was cut off are SENDING"
    on_board = len(active(sandbox.dump()["items"]))
    if field == "create_item":  # the request's items exist unless it never ran
        ran = 0 if mode == "never" else tap.parked_query.count("create_item(")
        assert on_board == (nth - 1) * CHUNK + ran

    # Resume with a second push.
    report = push(ctx, batch, quick_setup(ctx, sandbox))
    assert (report.status, report.succeeded, report.failed) == ("PUSHED", ROWS, 0)
    dump = sandbox.dump()
    assert_no_duplicates(dump)
    assert len(dump["items"]) == ROWS, "no item was created twice (nor deleted after)"
    assert {texts(i)["text_record_uuid"] for i in dump["items"]} == set(want.names)
    for item in dump["items"]:
        uid = texts(item)["text_record_uuid"]
        assert item["name"] == want.names[uid]
        assert {s["name"]: texts(s)["numeric_order_qty"] for s in item["subitems"]} == (
            want.sizes[uid]
        ), f"{uid}: every size once, none twice, none missing"
    assert [g["title"] for g in dump["board"]["groups"]].count(CUSTOMER) == 1
    assert row_statuses(ctx, batch) == {"PUSHED": ROWS}
    assert set(subitem_statuses(ctx, batch)) == {"PUSHED"}
    assert assert_state_matches_board(ctx, dump, CUSTOMER) == ROWS
    assert counts(ctx) == {**before, "new": before["new"] - ROWS, "unchanged": ROWS}
    if mode != "never" and "create_item(" in tap.parked_query:
        assert report.adopted == tap.parked_query.count("create_item(")  # found, not redone


def test_an_undo_killed_mid_request_finishes_on_the_next_run(db, ctx, sandbox, isolated_home):
    small_chunks(isolated_home)
    before = counts(ctx)
    batch = stage(ctx, limit=ROWS)
    push(ctx, batch, quick_setup(ctx, sandbox))  # (in this process: 25 per request)
    assert len(active(sandbox.dump()["items"])) == ROWS

    # `orders-sync rollback` deletes the items 5 per request; killed once the 2nd request
    # has run on monday but before its answer came back.
    command = ["rollback", "--batch", str(batch)]
    tap = kill_at(sandbox, db, isolated_home, command, "delete_item", 2, "executed")
    assert tap.parked_query.count("delete_item(") == CHUNK
    assert len(active(sandbox.dump()["items"])) == ROWS - 2 * CHUNK

    report = undo_service.undo(ctx, batch, quick_setup(ctx, sandbox))
    assert report.status == "UNDONE" and report.undone == ROWS
    assert active(sandbox.dump()["items"]) == []
    assert assert_state_matches_board(ctx, sandbox.dump(), CUSTOMER) == 0
    assert counts(ctx) == before  # every order is NEW again, as before the push
    with ctx.store.engine.connect() as conn:
        assert get_batch(conn, batch).status == BatchStatus.UNDONE
