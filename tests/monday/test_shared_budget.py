"""One monday account, several workers: the sandbox charges every token and connection of the
account to one complexity budget, and a client refused for the budget waits for the reset
its own readings put earliest, not a second later."""

from __future__ import annotations

import time

import pytest
from pushkit import TOKEN

from orders_sync_gui.monday.client import ClientSettings, MondayClient, Pacer
from orders_sync_gui.monday.sandbox import SandboxServer

OTHER = "tok-second-user-of-the-account-5d1e"
QUERY = "query { boards (ids: [1800000001]) { id name } }"


def test_two_tokens_on_two_connections_spend_one_budget(make_sandbox):
    server: SandboxServer = make_sandbox(
        account_tokens=(OTHER,), complexity_budget=100, window_seconds=30.0
    )
    first = MondayClient(TOKEN, ClientSettings(url=server.url, pace=False))
    second = MondayClient(OTHER, ClientSettings(url=server.url, pace=False))
    try:
        one = first.execute(QUERY).complexity
        two = second.execute(QUERY).complexity
    finally:
        first.close()
        second.close()
    assert one is not None and two is not None
    assert one["before"] == 100
    # The second user's request, on its own connection, sees what the first one spent.
    assert two["before"] == one["after"] < 100
    assert server.app.limits.snapshot()["budget_used_total"] == one["query"] + two["query"]


def test_a_token_of_another_account_is_refused(make_sandbox):
    server: SandboxServer = make_sandbox(account_tokens=(OTHER,))
    client = MondayClient("tok-not-of-this-account", ClientSettings(url=server.url))
    try:
        with pytest.raises(Exception, match="401"):
            client.execute(QUERY)
    finally:
        client.close()


def test_a_budget_refusal_waits_to_the_earliest_reset_the_readings_allow():
    pacer = Pacer()
    now = time.monotonic()
    # This window's readings put the reset 2.3 s away; monday's refusal says 3 s (rounded up).
    pacer.note({"before": 500, "after": 100, "reset_in_x_seconds": 2.3})
    wait = pacer.exhausted(3.0)
    assert wait is not None and wait == pytest.approx(2.3 - (time.monotonic() - now), abs=0.05)
    assert pacer.wait_needed(1) > 2.0  # the budget is spent until then, for every request
    # A refusal far past the readings' reset is of another window: its own wait stands.
    pacer = Pacer()
    pacer.note({"before": 500, "after": 100, "reset_in_x_seconds": 1.0})
    assert pacer.exhausted(5.0) == pytest.approx(5.0, abs=0.05)
