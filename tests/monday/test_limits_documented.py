"""monday's limits as documented, acted out by the sandbox and met by the client
(https://developer.monday.com/api-reference/docs/rate-limits; the support article "API Rate
Limits", https://support.monday.com/hc/en-us/articles/26471164460690-API-Rate-Limits):

- reads cost by the objects they may return, nested subitems weighing more; the client
  paces reads from the `complexity` field as it paces writes;
- 2,000 mutations a minute besides the budget; a request holds no more than that;
- the daily call limit resets at 00:00 UTC (a clock hook crosses midnight at once), and a
  call a rate limit refused counts 0.1.
"""

from __future__ import annotations

import math
from datetime import UTC, datetime

import pytest
import requests
from pushkit import (
    TOKEN,
    SleepRecorder,
    assert_no_duplicates,
    quick_setup,
    stage,
)

from orders_sync_gui.monday.board import LOOKUP_QUERY
from orders_sync_gui.monday.client import (
    ClientSettings,
    MondayClient,
    MondayStopError,
    with_complexity,
)
from orders_sync_gui.monday.sandbox import SandboxServer
from orders_sync_gui.services.monday_setup import Limits
from orders_sync_gui.services.push import push

COMPLEXITY = "query { complexity { before after query reset_in_x_seconds } }"


def post(server: SandboxServer, query: str, variables: dict | None = None) -> requests.Response:
    return requests.post(
        server.url,
        json={"query": query, "variables": variables or {}},
        headers={"Authorization": TOKEN},
        timeout=10,
    )


def utc(text: str) -> float:
    return datetime.fromisoformat(text).replace(tzinfo=UTC).timestamp()


# ---------------------------------------------------------------------- the day
def test_the_daily_limit_resets_at_midnight_utc_not_a_day_after_the_first_call(make_sandbox):
    server = make_sandbox(daily_limit=3)
    now = [utc("2026-12-01T23:00:00")]
    server.app.limits.utc_clock = lambda: now[0]
    assert [post(server, COMPLEXITY).status_code for _ in range(3)] == [200] * 3
    now[0] = utc("2026-12-01T23:59:58.5")
    refused = post(server, COMPLEXITY)
    assert refused.status_code == 429
    extensions = refused.json()["errors"][0]["extensions"]
    assert extensions["code"] == "DAILY_LIMIT_EXCEEDED"
    assert extensions["retry_in_seconds"] == 2 == int(refused.headers["Retry-After"])
    now[0] = utc("2026-12-02T00:00:00.25")  # an hour after the first call: a new day
    assert post(server, COMPLEXITY).status_code == 200
    assert server.stats()["limits"]["daily_calls_used"] == 1.0
    day = server.stats()["limits"]["daily_reset_in_seconds"]
    assert math.isclose(day, 86_400 - 0.25)


def test_a_call_a_rate_limit_refused_counts_a_tenth(make_sandbox):
    server = make_sandbox(daily_limit=2, requests_per_minute=1, window_seconds=60.0)
    server.app.limits.utc_clock = lambda: utc("2026-12-01T12:00:00")
    assert post(server, COMPLEXITY).status_code == 200  # 1 call
    minute = [post(server, COMPLEXITY) for _ in range(10)]  # 10 refusals: 1 call more
    assert {r.json()["errors"][0]["extensions"]["code"] for r in minute} == {"RATE_LIMIT_EXCEEDED"}
    limits = server.stats()["limits"]
    assert (limits["daily_calls_used"], limits["daily_calls_remaining"]) == (2.0, 0.0)
    server.config.requests_per_minute = 100
    server.app.limits.minute.limit = 100  # the minute's refusals are over; the day's not
    refused = post(server, COMPLEXITY)
    assert refused.json()["errors"][0]["extensions"]["code"] == "DAILY_LIMIT_EXCEEDED"


def test_the_client_says_when_the_day_resets(make_sandbox):
    server = make_sandbox(daily_limit=0)
    client = MondayClient(TOKEN, ClientSettings(url=server.url), sleep=lambda _s: None)
    with pytest.raises(MondayStopError, match=r"at 00:00 UTC \(in \d+ h \d\d min\)"):
        client.execute(COMPLEXITY)


# ---------------------------------------------------------------------- mutations a minute
CREATE3 = (
    "mutation ($board: ID!) { "
    + " ".join(f'a{i}: create_item(board_id: $board, item_name: "m{i}") {{ id }}' for i in range(3))
    + " }"
)


def test_mutations_past_the_minutes_cap_are_refused_with_a_retry(make_sandbox):
    server = make_sandbox(mutations_per_minute=4, window_seconds=60.0)
    assert post(server, CREATE3, {"board": server.board_id}).status_code == 200
    refused = post(server, CREATE3, {"board": server.board_id})
    assert refused.status_code == 429
    [error] = refused.json()["errors"]
    assert error["extensions"]["code"] == "RATE_LIMIT_EXCEEDED"
    assert "Call limit exceeded for mutations" in error["message"]
    assert int(refused.headers["Retry-After"]) >= 1
    assert len(server.dump()["items"]) == 3  # the refused request ran nothing
    assert post(server, COMPLEXITY).status_code == 200  # reads are not mutations


def test_a_push_meets_the_mutation_cap_and_goes_through(ctx, make_sandbox):
    server = make_sandbox(mutations_per_minute=8, window_seconds=0.5)
    limits = Limits(window_seconds=0.5, mutations_per_minute=8, max_mutations_per_request=25)
    assert limits.chunk_policy().max_mutations == 8  # a request holds no more than the cap
    sleep = SleepRecorder()
    setup = quick_setup(ctx, server, limits=limits, sleep=sleep)
    report = push(ctx, stage(ctx, limit=4), setup)
    assert (report.status, report.failed) == ("PUSHED", 0)
    assert "RATE_LIMIT_EXCEEDED" in server.stats()["errors"]  # it met the cap
    assert report.retries >= 1 and sleep.waits  # it waited as monday asked
    assert_no_duplicates(server.dump())


# ---------------------------------------------------------------------- reads
PAGE = """query ($board: ID!) { boards(ids: [$board]) { items_page(limit: 500) { items { id
  %s } } } complexity { query } }"""


def test_nested_subitems_weigh_more_than_their_objects(make_sandbox):
    server = make_sandbox()
    flat = post(server, PAGE % "name", {"board": server.board_id}).json()
    nested = post(server, PAGE % "name subitems { id name }", {"board": server.board_id}).json()
    flat_cost = flat["data"]["complexity"]["query"]
    nested_cost = nested["data"]["complexity"]["query"]
    # 500 items may each hold subitems (10 estimated), each weighing 10 objects.
    assert nested_cost - flat_cost == 500 * 10 * 10


def test_the_client_paces_reads_from_their_last_cost(make_sandbox):
    """Three lookups of ~51,000 points against a 120,000-point budget: the third waits for
    the window instead of being refused."""
    server = make_sandbox(complexity_budget=120_000)
    sleep = SleepRecorder()
    client = MondayClient(TOKEN, ClientSettings(url=server.url), sleep=sleep)
    variables = {
        "board": server.board_id,
        "column": "text_record_uuid",
        "values": ["x"],
        "limit": 500,
    }
    costs = [client.execute(LOOKUP_QUERY, variables).complexity["query"] for _ in range(3)]
    assert costs[0] == costs[1] == costs[2] > 50_000
    assert client.pacer.read_cost(LOOKUP_QUERY) == costs[0]
    assert len(sleep.waits) == 1 and 0 < sleep.waits[0] <= 1.0
    assert client.stats.retries == 0
    assert "COMPLEXITY_BUDGET_EXHAUSTED" not in server.stats()["errors"]


def test_a_read_asks_for_complexity_once():
    asked = with_complexity(LOOKUP_QUERY)
    assert asked.count("complexity {") == 1 and asked.rstrip().endswith("} }")
    assert with_complexity(asked) == asked
    assert with_complexity(COMPLEXITY) == COMPLEXITY
