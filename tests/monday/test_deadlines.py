"""Every request has a wall-clock deadline, connect to last byte (monday/deadline.py).

The sandbox's "trickle" fault sends its answer one byte at a time, headers included: no
single read ever waits long enough for requests' per-read timeout, so only the deadline can
end it. The deadlines here are small; nothing sleeps to wait for anything: the clock only
measures how long the client took to give up.
"""

from __future__ import annotations

import threading
import time

import pytest
from pushkit import (
    CUSTOMER,
    TOKEN,
    assert_no_duplicates,
    assert_state_matches_board,
    quick_setup,
    row_statuses,
    stage,
)

from orders_sync_gui.monday.client import ClientSettings, MondayClient, RetryBudgetExhausted
from orders_sync_gui.monday.sandbox import FaultConfig
from orders_sync_gui.services.push import PushStopped, push

TRICKLE = FaultConfig(every_n=1, kinds=("trickle",), trickle_seconds=0.05)
QUERY = "query { complexity { before after query reset_in_x_seconds } }"


def test_a_trickling_answer_is_cut_off_at_the_deadline_not_at_the_read_timeout(make_sandbox):
    server = make_sandbox(faults=TRICKLE)
    client = MondayClient(
        TOKEN,
        # A read timeout of 5 s is never reached: a byte arrives every 0.05 s.
        ClientSettings(url=server.url, timeout_seconds=5.0, deadline_seconds=0.3, max_attempts=2),
        sleep=lambda _s: None,
    )
    started = time.monotonic()
    with pytest.raises(RetryBudgetExhausted) as stopped:
        client.execute(QUERY)
    took = time.monotonic() - started
    assert 0.6 <= took < 1.5  # two attempts of 0.3 s, not two of the answer's ~20 s
    message = str(stopped.value)
    assert "no complete answer within the 0.3 s deadline: cut off after 0.3 s" in message
    said = float(message.split("after 2 attempts over ")[1].split(" s;")[0])
    assert abs(said - took) < 0.15  # the real wall time, not the time spent waiting
    assert client.stats.by_reason == {"deadline": 2}


def test_a_push_against_a_trickle_stops_within_its_deadline_and_resumes(ctx, make_sandbox):
    server = make_sandbox()
    setup = quick_setup(ctx, server, deadline_seconds=0.3, max_attempts=2)
    batch = stage(ctx, limit=6)
    server.set_faults(FaultConfig(**{**TRICKLE.to_json(), "mutations_only": True}))
    started = time.monotonic()
    with pytest.raises(PushStopped) as stopped:
        push(ctx, batch, setup)
    took = time.monotonic() - started
    server.set_faults(FaultConfig())
    # The board is read first (not trickled), then the first chunk's two attempts.
    assert took < 2 * 0.3 + 2.0
    message = str(stopped.value)
    assert "0.3 s deadline" in message and "cut off after 0.3 s" in message
    assert "push again" in message
    assert row_statuses(ctx, batch).get("PUSHED", 0) == 0

    # Nothing trickled ran: the resume pushes every row once.
    report = push(ctx, batch, quick_setup(ctx, server))
    assert (report.status, report.failed) == ("PUSHED", 0)
    assert_no_duplicates(server.dump())
    assert assert_state_matches_board(ctx, server.dump(), CUSTOMER) == 6


def test_requests_of_two_threads_each_get_their_own_deadline(make_sandbox):
    """The watchdog shuts the trickled request's socket only: a request another thread
    makes meanwhile, on a sandbox that answers, is untouched."""
    slow = make_sandbox(faults=TRICKLE)
    fast = make_sandbox()
    results: dict[str, object] = {}

    def run(name: str, url: str, deadline: float) -> None:
        client = MondayClient(
            TOKEN,
            ClientSettings(url=url, deadline_seconds=deadline, max_attempts=1),
            sleep=lambda _s: None,
        )
        try:
            results[name] = [client.execute(QUERY).complexity for _ in range(20)]
        except RetryBudgetExhausted as exc:
            results[name] = exc

    threads = [
        threading.Thread(target=run, args=("slow", slow.url, 0.3)),
        threading.Thread(target=run, args=("fast", fast.url, 30.0)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert isinstance(results["slow"], RetryBudgetExhausted)
    assert isinstance(results["fast"], list) and len(results["fast"]) == 20
