"""The customer's group on the board, made once however its create is repeated, and item
names full of emoji that monday.com still accepts: against the sandbox on 127.0.0.1."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from pushkit import CUSTOMER, TOKEN, SleepRecorder, active, quick_setup, stage, staged

from orders_sync_gui.core.board_values import MAX_ITEM_NAME
from orders_sync_gui.core.utf16 import utf16_len
from orders_sync_gui.monday.board import (
    Board,
    ensure_group,
    fetch_board,
)
from orders_sync_gui.monday.client import ClientSettings, MondayClient, RetryBudgetExhausted
from orders_sync_gui.monday.sandbox import FaultConfig, SandboxServer
from orders_sync_gui.services.push import push

TITLE = "GREYSON"
DELETE_GROUP = """mutation ($board: ID!, $group: String!) {
  delete_group(board_id: $board, group_id: $group) { id } }"""


def client_for(server: SandboxServer, sleep: Any = None, **settings: Any) -> MondayClient:
    """A client as one process of orders-sync has it (its own connection and retries)."""
    settings.setdefault("base_backoff_seconds", 0.01)
    settings.setdefault("timeout_seconds", 5.0)
    return MondayClient(
        TOKEN, ClientSettings(url=server.url, **settings), sleep=sleep or SleepRecorder()
    )


def live_groups(server: SandboxServer, title: str = TITLE) -> list[str]:
    """Ids of the board's groups named `title`, as monday.com shows them."""
    return [g["id"] for g in server.dump()["board"]["groups"] if g["title"] == title]


# ---------------------------------------------------------------------- the group, once
def test_a_group_create_whose_answer_was_lost_is_not_made_again_by_the_resume(
    make_sandbox,
) -> None:
    # monday runs every create_group but the answer never reaches the client.
    server = make_sandbox(
        faults=FaultConfig(every_n=1, kinds=("drop_after_execute",), mutations_only=True)
    )
    first = client_for(server, max_attempts=1)  # a run that dies with the answer lost
    resume = client_for(server)
    # The resume read the board while the first create had not yet run (it was in flight).
    board_of_resume = fetch_board(resume, server.board_id)
    board_of_first = fetch_board(first, server.board_id)
    with pytest.raises(RetryBudgetExhausted):
        ensure_group(first, board_of_first, TITLE)
    [made] = live_groups(server)  # it ran: the client just never heard

    mutations = server.stats()["mutations"]
    assert ensure_group(resume, board_of_resume, TITLE) == made
    assert live_groups(server) == [made]
    # Looked up before creating: found on the board, no create sent (no key needed).
    assert server.stats()["mutations"] == mutations


def test_a_resume_while_the_first_create_still_runs_gets_the_same_group(make_sandbox) -> None:
    server = make_sandbox()
    first, made_by_first = client_for(server), []
    board_of_first = fetch_board(first, server.board_id)
    worker = threading.Thread(
        target=lambda: made_by_first.append(ensure_group(first, board_of_first, TITLE))
    )
    waits: list[float] = []

    def wait_for_the_first(seconds: float) -> None:
        # The resume was told 409 (the first create holds the key): instead of waiting
        # the Retry-After, let the first create run, and retry once it has answered.
        waits.append(seconds)
        server.app.gate.set_open(True)
        worker.join(timeout=10)

    resume = client_for(server, sleep=wait_for_the_first)
    with server.hold(mutations_only=True):  # reads still answer meanwhile
        worker.start()
        assert server.wait_held(1)  # the first create is in flight
        board_of_resume = fetch_board(resume, server.board_id)
        assert TITLE not in board_of_resume.groups
        made_by_resume = ensure_group(resume, board_of_resume, TITLE)
    worker.join(timeout=10)

    assert made_by_first == [made_by_resume] and len(waits) == 1
    assert live_groups(server) == [made_by_resume]
    stats = server.stats()
    assert stats["idempotency_conflicts"] == 1 and stats["idempotent_replays"] == 1


def test_a_copy_of_the_board_is_read_again_before_creating(make_sandbox) -> None:
    server = make_sandbox()
    client = client_for(server)
    cached = fetch_board(client, server.board_id)  # the push keeps a copy for minutes
    made = ensure_group(client_for(server), fetch_board(client, server.board_id), TITLE)
    server.app.idempotency.clear()  # monday's 30 minutes of the key are over (or no key)
    mutations = server.stats()["mutations"]

    assert ensure_group(client, cached, TITLE) == made
    assert server.stats()["mutations"] == mutations  # found by reading, nothing sent
    assert live_groups(server) == [made]


def test_a_replayed_group_deleted_since_is_made_anew_once(make_sandbox) -> None:
    server = make_sandbox()
    client = client_for(server)
    old = ensure_group(client, fetch_board(client, server.board_id), TITLE)
    client.execute(DELETE_GROUP, {"board": server.board_id, "group": old}, mutation=True)
    # Two later runs read the board without the group; for each the key replays the
    # deleted group's answer, and each makes the group anew under one new key: once.
    board_of_second = fetch_board(client, server.board_id)
    board_of_third = fetch_board(client, server.board_id)
    second = ensure_group(client_for(server), board_of_second, TITLE)
    third = ensure_group(client_for(server), board_of_third, TITLE)
    assert second != old and third == second
    assert live_groups(server) == [second]


def test_a_group_title_of_emoji_is_clipped_as_monday_counts(make_sandbox) -> None:
    server = make_sandbox()
    client = client_for(server)
    board: Board = fetch_board(client, server.board_id)
    title = "🧵" * 200  # 200 characters, 400 UTF-16 code units
    group_id = ensure_group(client, board, title)
    [shown] = [g["title"] for g in server.dump()["board"]["groups"] if g["id"] == group_id]
    assert utf16_len(shown) <= 255 and shown.endswith("…") and shown.startswith("🧵")
    assert ensure_group(client, board, title) == group_id  # the same group next time


# ---------------------------------------------------------------------- names of emoji
def test_item_names_full_of_emoji_are_accepted(ctx, sandbox) -> None:
    """Styles of 200 emoji (400 UTF-16 code units): every item is made, its name clipped
    to monday's 255 as monday counts, and nothing is refused."""
    table = ctx.store.source().table
    with ctx.store.engine.begin() as conn:
        conn.execute(table.update().values({"CUSTOMER STYLE": "👗🧵" * 100}))
    batch = stage(ctx, limit=5)
    report = push(ctx, batch, quick_setup(ctx, sandbox))
    assert (report.status, report.succeeded, report.failed) == ("PUSHED", 5, 0)
    items = active(sandbox.dump()["items"])
    assert len(items) == len(staged(ctx, batch)) == 5
    for item in items:
        name = item["name"]
        assert utf16_len(name) <= MAX_ITEM_NAME and name.endswith("…")
        assert name.startswith(f"{CUSTOMER} · ") and "👗🧵👗" in name
