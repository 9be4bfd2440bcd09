"""The monday.com client against the sandbox on 127.0.0.1: errors classified, retries that
wait what monday says, one Idempotency-Key per request, pacing, and every document it can
send valid against monday's published schema."""

from __future__ import annotations

import importlib
import json
import pkgutil
import random
import threading
import traceback
from typing import Any

import graphql
import pytest
import requests
from pushkit import (
    CUSTOMER,
    TOKEN,
    SleepRecorder,
    quick_setup,
    stage,
    staged,
)
from requests.adapters import BaseAdapter
from schemas import mondays_schema, problems, sandbox_schema

import orders_sync_gui.monday
from orders_sync_gui.core.board_values import compact_json, item_values, subitem_values
from orders_sync_gui.core.models import ChangeType
from orders_sync_gui.monday import board as board_module
from orders_sync_gui.monday import board_items as board_items_module
from orders_sync_gui.monday import columns as columns_module
from orders_sync_gui.monday import group_items as group_items_module
from orders_sync_gui.monday import probe as probe_module
from orders_sync_gui.monday import versions as versions_module
from orders_sync_gui.monday.client import (
    ClientSettings,
    MondayClient,
    MondayRequestError,
    MondayStopError,
    RetryBudgetExhausted,
)
from orders_sync_gui.monday.operations import ChunkPolicy, Operation, render, run_operations
from orders_sync_gui.monday.sandbox import FaultConfig, SandboxServer
from orders_sync_gui.monday.sandbox.app import SCHEMA_VERSION
from orders_sync_gui.monday.versions import DEFAULT_API_VERSION
from orders_sync_gui.services import undo as undo_service
from orders_sync_gui.services.checks import CheckRunner
from orders_sync_gui.services.live_test import run_live_test
from orders_sync_gui.services.push import push

BASE = 0.05  # the unit tests' base backoff
JITTER = 0.16  # the client adds at most min(1, 0.1 * wait + 0.05) to a wait monday names
CREATE = (
    "mutation ($board: ID!, $name: String!, $values: JSON) { "
    "a: create_item(board_id: $board, item_name: $name, column_values: $values) { id } "
    "complexity { before after query reset_in_x_seconds } }"
)
QUERY = "query { complexity { before after query reset_in_x_seconds } }"


def client_for(
    server: SandboxServer,
    sleep: SleepRecorder | None = None,
    *,
    token: str = TOKEN,
    **settings: Any,
) -> MondayClient:
    settings.setdefault("base_backoff_seconds", BASE)
    settings.setdefault("max_backoff_seconds", 0.4)
    settings.setdefault("timeout_seconds", 5.0)
    settings.setdefault("max_wait_seconds", 20.0)
    return MondayClient(
        token,
        ClientSettings(url=server.url, **settings),
        sleep=sleep if sleep is not None else SleepRecorder(),
        rng=random.Random(3),
    )


def create(client: MondayClient, server: SandboxServer, name: str = "x", **kw: Any):
    variables = {"board": server.board_id, "name": name, "values": "{}"}
    return client.execute(CREATE, variables, mutation=True, **kw)


# ---------------------------------------------------------------------- the 2026-10 schema
@pytest.fixture(scope="module", params=["sandbox SDL", "monday's SDL"])
def schema(request) -> graphql.GraphQLSchema:
    """The pinned version's schema: the sandbox's subset of it, and monday's own SDL of it
    where that file is at hand (tests/monday/schemas.py)."""
    if request.param == "sandbox SDL":
        return sandbox_schema()
    return mondays_schema(SCHEMA_VERSION)


def test_the_validation_catches_what_the_schema_lacks(schema):
    """The check below is not vacuous: a field, an argument or a variable the schema does
    not have fails it."""
    assert problems(schema, "query { boards { id no_such_field } }", {})
    assert problems(schema, "query { version { kind value no_such_field } }", {})
    assert problems(schema, 'mutation { create_item(board: 1, item_name: "x") { id } }', {})
    assert problems(schema, board_module.BOARD_QUERY, {"ids": [{"not": "an id"}]})
    assert problems(schema, board_module.LOOKUP_QUERY, {"board": "1"})  # required ones missing


def _sent_constants() -> dict[str, str]:
    """Every query and mutation the monday package (the sandbox aside) keeps as a constant."""
    names = [
        f"orders_sync_gui.monday.{m.name}"
        for m in pkgutil.iter_modules(orders_sync_gui.monday.__path__)
        if m.name != "sandbox"
    ]
    modules = [importlib.import_module(name) for name in names]
    assert board_module in modules and probe_module in modules
    return {
        f"{m.__name__}.{name}": value
        for m in modules
        for name, value in vars(m).items()
        if name.endswith(("_QUERY", "_MUTATION")) and isinstance(value, str)
    }


def test_every_document_the_client_sends_validates_against_the_pinned_schema(
    schema, ctx, sandbox, tmp_path
):
    mapping = ctx.mapping
    board, sub_board = sandbox.board_id, sandbox.subitems_board_id
    values = item_values(
        mapping, "u-1", {"PO NUMBER": "4755", "EX FACTORY DATE": "2026-06-15"}, {"M": 6}
    )
    sub_values = compact_json(subitem_values(mapping, "M", 6))
    item_columns = {"columns": ["text_record_uuid", "text_po_number"], "subcolumns": ["text_size"]}
    fixed: list[tuple[str, dict[str, Any]]] = [
        (board_module.BOARD_QUERY, {"ids": [board]}),
        (board_module.SUBITEM_BOARD_QUERY, {"ids": [sub_board]}),
        (board_module.GROUPS_QUERY, {"ids": [board]}),
        (board_module.ROOM_QUERY, {"ids": [board, sub_board]}),
        (board_module.GROUP_MUTATION, {"board": board, "name": CUSTOMER}),
        (
            board_module.LOOKUP_QUERY,
            {"board": board, "column": "text_record_uuid", "values": ["u-1"], "limit": 500},
        ),
        (
            board_module.NEXT_LOOKUP_QUERY,
            {"cursor": "abc", "column": "text_record_uuid", "limit": 500},
        ),
        (board_module.SUBITEMS_QUERY, {"ids": ["1900000001", "1900000002"]}),
        (versions_module.VERSION_QUERY, {}),
        (
            group_items_module.GROUP_ITEMS_QUERY,
            {"board": [board], "group": ["topics"], "limit": 200, "qty": ["numbers"]},
        ),
        (
            group_items_module.NEXT_ITEMS_QUERY,
            {"cursor": "abc", "limit": 200, "qty": ["numbers"]},
        ),
        (probe_module.ME_QUERY, {}),
        (probe_module.ITEMS_QUERY, {"ids": ["1900000001"], "columns": ["text_record_uuid"]}),
        (probe_module.DELETE_GROUP_MUTATION, {"board": board, "group": "new_group1"}),
        (columns_module.CREATE_COLUMN_MUTATION, {"board": board, "title": "Port", "type": "text"}),
        *[
            (board_items_module.PAGE_QUERY, {"ids": [board], "limit": 200, **item_columns}),
            (board_items_module.NEXT_PAGE_QUERY, {"cursor": "abc", "limit": 200, **item_columns}),
            (board_items_module.BY_ID_QUERY, {"ids": ["1900000001"], **item_columns}),
            (board_items_module.STATES_QUERY, {"ids": ["1900000001", "1900000002"]}),
        ],
    ]
    # A query or mutation added to the package without a line above fails here.
    assert set(_sent_constants().values()) <= {query for query, _ in fixed}
    kinds = {
        "create_item": {
            "board_id": board,
            "item_name": "GREYSON · 4755 · ABC123 · NAVY",
            "group_id": "new_group1",
            "column_values": compact_json(values),
            "create_labels_if_missing": True,
        },
        "create_subitem": {
            "parent_item_id": "1900000001",
            "item_name": "M",
            "column_values": sub_values,
            "create_labels_if_missing": True,
        },
        "change_multiple_column_values": {
            "board_id": board,
            "item_id": "1900000001",
            "column_values": compact_json({"name": "renamed", **values}),
            "create_labels_if_missing": True,
        },
        "archive_item": {"item_id": "1900000001"},
        "delete_item": {"item_id": "1900000002"},
    }
    ops = [Operation(f"r{i}", kind, args) for i, (kind, args) in enumerate(kinds.items())]
    rendered = [render([op]) for op in ops] + [render(ops)]
    # a subitem change, as the push and undo send it (no labels argument)
    rendered.append(
        render(
            [
                Operation(
                    "s9",
                    "change_multiple_column_values",
                    {"board_id": sub_board, "item_id": "1", "column_values": sub_values},
                )
            ]
        )
    )
    # ...and everything a real push, change and undo sent to the sandbox.
    sent: list[tuple[str, dict[str, Any]]] = []
    api_versions: list[str | None] = []
    handle = sandbox.app.handle_graphql

    def record(headers, body, ip):
        payload = json.loads(body)
        sent.append((payload["query"], payload.get("variables") or {}))
        api_versions.append(headers.get("API-Version"))
        return handle(headers, body, ip)

    sandbox.app.handle_graphql = record
    setup = quick_setup(ctx, sandbox)
    first = stage(ctx, limit=3)
    push(ctx, first, setup)
    row = staged(ctx, first)[0]
    info = ctx.store.source()
    size = next(iter(row.values["sizes"]))
    with ctx.store.engine.begin() as conn:
        conn.execute(
            info.table.update()
            .where(info.table.c.record_uuid == row.record_uuid)
            .values({"CUSTOMER STYLE": "NEWSTYLE", size: None, "ONE SIZE": 12})
        )
    second = stage(ctx, types=(ChangeType.CHANGED,))
    push(ctx, second, setup)
    undo_service.undo(ctx, second, setup)
    live = CheckRunner()
    assert run_live_test(ctx.mapping, setup, live, folder=tmp_path) is not None
    assert [c for c in live.checks if c.status == "fail"] == []
    assert any("delete_group(" in q for q, _ in sent)  # the live test's documents too
    kinds_sent = {k for q, _ in sent for k in kinds if f"{k}(" in q}
    # (the shipped mapping marks a deleted order with a status: archive_item is the live
    # test's)
    assert kinds_sent == set(kinds)
    assert any("create_group(" in q for q, _ in sent) and len(sent) >= 8
    for query, variables in [*fixed, *rendered, *sent]:
        assert problems(schema, query, variables) == [], query
    # ...each with the pinned version, the one these documents were checked against.
    assert DEFAULT_API_VERSION == SCHEMA_VERSION
    assert api_versions == [DEFAULT_API_VERSION] * len(sent)


# ---------------------------------------------------------------------- refusals
def test_a_refused_token_stops_at_once_with_a_clear_message_and_no_token(sandbox):
    wrong = "tok-wrong-ZZSECRETZZ-5521"
    recorder = SleepRecorder()
    client = client_for(sandbox, recorder, token=wrong)
    with pytest.raises(MondayStopError) as caught:
        client.execute(QUERY)
    text = "".join(traceback.format_exception(caught.value))
    assert "401" in str(caught.value) and "token" in str(caught.value)
    assert wrong not in text and TOKEN not in text
    assert wrong not in repr(client) and wrong not in repr(client.settings)
    assert (client.stats.requests, recorder.waits) == (1, [])  # no retry of a refusal


def test_errors_without_a_path_are_request_errors_not_retried(sandbox):
    client = client_for(sandbox)
    with pytest.raises(MondayRequestError, match="Cannot query field 'nonexistent'"):
        client.execute("query { boards { id nonexistent } }")
    with pytest.raises(MondayRequestError, match="GRAPHQL_PARSE_FAILED"):
        client.execute("query { boards { id ")
    assert client.stats.requests == 2 and client.stats.retries == 0


def test_field_errors_come_back_per_alias_and_the_other_rows_succeed(sandbox):
    client = client_for(sandbox)
    good = compact_json({"numeric_order_qty": "12"})
    bad = compact_json({"numeric_order_qty": "twelve"})
    ops = [
        Operation(
            f"r{i}",
            "create_item",
            {"board_id": sandbox.board_id, "item_name": f"n{i}", "column_values": values},
        )
        for i, values in enumerate([good, bad, good])
    ]
    [results] = list(run_operations(client, ops, scope="t", policy=ChunkPolicy(max_mutations=10)))
    assert [r.ok for r in results] == [True, False, True]
    error = results[1].error
    assert error is not None and error.alias == "r1"
    assert error.code == "ColumnValueException"
    assert "invalid value" in error.message  # monday's own words
    assert error.data["column_id"] == "numeric_order_qty"
    names = sorted(i["name"] for i in sandbox.dump()["items"])
    assert names == ["n0", "n2"]


# ---------------------------------------------------------------------- idempotency
@pytest.mark.parametrize("given_key", ["fixed-key-1", None], ids=["caller-key", "own-key"])
def test_a_response_dropped_after_execution_is_replayed_not_redone(make_sandbox, given_key):
    server = make_sandbox(
        faults=FaultConfig(every_n=1, kinds=("drop_after_execute",), mutations_only=True)
    )
    client = client_for(server)
    result = create(client, server, idempotency_key=given_key)
    assert result.replayed and result.attempts == 2
    assert client.stats.by_reason == {"connection dropped": 1} and client.stats.replays == 1
    stats = server.stats()
    assert stats["items"] == 1, "the retry created the item a second time"
    assert stats["idempotent_replays"] == 1  # the same key came back
    assert result.data["a"]["id"] == server.dump()["items"][0]["id"]


def test_a_request_dropped_before_execution_runs_on_the_retry(make_sandbox):
    server = make_sandbox(
        faults=FaultConfig(every_n=2, kinds=("drop_before_execute",), mutations_only=True)
    )
    client = client_for(server)
    create(client, server, "first")  # the 1st mutation passes, the 2nd is dropped unrun
    result = create(client, server, "second")
    assert not result.replayed and result.attempts == 2
    assert client.stats.by_reason == {"connection dropped": 1}
    assert sorted(i["name"] for i in server.dump()["items"]) == ["first", "second"]
    assert server.stats()["idempotent_replays"] == 0


def test_a_timeout_while_monday_still_runs_the_request_ends_in_one_item(make_sandbox):
    # The first attempt outlives the client's timeout; the retry (same key) finds it still
    # running (409, Retry-After) and then gets its answer replayed.
    server = make_sandbox(
        faults=FaultConfig(every_n=1, kinds=("delay",), delay_seconds=0.8, mutations_only=True)
    )
    recorder = SleepRecorder()
    client = client_for(server, recorder, timeout_seconds=0.25)
    result = create(client, server)
    assert result.replayed and result.attempts == 3
    assert client.stats.by_reason == {"timeout": 1, "IDEMPOTENCY_CONFLICT": 1}
    assert recorder.waits[0] <= BASE + 0.06  # its own short backoff after the timeout
    assert 1.0 <= recorder.waits[1] <= 1.0 + JITTER  # monday's Retry-After: 1 on the 409
    assert server.stats()["items"] == 1


# ---------------------------------------------------------------------- waits
def _hold_one_request(server: SandboxServer, body: dict[str, Any], headers: dict[str, str]):
    """Park one request inside the sandbox (holding its concurrency slot and idempotency
    key); returns the function that lets it finish and waits for it."""
    server.app.gate.set_open(False)
    worker = threading.Thread(
        target=requests.post,
        args=(server.url,),
        kwargs={"json": body, "headers": {"Authorization": TOKEN, **headers}, "timeout": 10},
    )
    worker.start()
    assert server.wait_held(1)

    def release() -> None:
        server.app.gate.set_open(True)
        worker.join(timeout=10)

    return release


# (test_push.py checks the same waits for the complexity, minute, IP and concurrency
# limits, with a recorded sleep, in a whole push)
@pytest.mark.parametrize("kind", ["locked", "idempotency_conflict"])
def test_retries_wait_what_monday_says(make_sandbox, kind):
    overrides: dict[str, Any] = {
        "minute": {"requests_per_minute": 1},
        "complexity": {"complexity_budget": 10_000},
        "ip": {"ip_limit": 1, "ip_window_seconds": 1.0},
        "concurrency": {"max_concurrency": 1},
        "locked": {"faults": FaultConfig(every_n=2, kinds=("locked_423",))},
        "idempotency_conflict": {},
    }[kind]
    server = make_sandbox(**overrides)
    hook = None
    if kind == "concurrency":
        hook = _hold_one_request(server, {"query": QUERY}, {})
    if kind == "idempotency_conflict":
        variables = {"board": server.board_id, "name": "x", "values": "{}"}
        body = {"query": CREATE, "variables": variables}
        hook = _hold_one_request(server, body, {"Idempotency-Key": "same-key"})
    recorder = SleepRecorder(hook)
    client = client_for(server, recorder)
    if kind not in ("concurrency", "idempotency_conflict"):
        create(client, server, "first")  # spends the minute, the budget, the IP window...
    result = create(client, server, "second", idempotency_key="same-key")
    code = {
        "minute": "RATE_LIMIT_EXCEEDED",
        "complexity": "COMPLEXITY_BUDGET_EXHAUSTED",
        "ip": "IP_RATE_LIMIT_EXCEEDED",
        "concurrency": "maxConcurrencyExceeded",
        "locked": "RESOURCE_LOCKED",
        "idempotency_conflict": "IDEMPOTENCY_CONFLICT",
    }[kind]
    assert client.stats.by_reason.get(code, 0) >= 1, client.stats.by_reason
    assert result.attempts >= 2
    # monday said "1 second" (Retry-After / retry_in_seconds): the client waited that, plus
    # a little jitter; never nothing, never its own flat backoff.
    assert recorder.waits and all(1.0 <= w <= 1.0 + JITTER for w in recorder.waits)
    assert client.stats.waited_seconds == pytest.approx(sum(recorder.waits))
    expected_items = 1 if kind in ("concurrency", "idempotency_conflict") else 2
    assert server.stats()["items"] == expected_items
    assert result.data["a"]["id"]


def test_errors_monday_puts_no_wait_on_back_off_exponentially_with_jitter(make_sandbox):
    server = make_sandbox(faults=FaultConfig(every_n=1, kinds=("error_500",)))
    recorder = SleepRecorder()
    client = client_for(server, recorder, max_attempts=5)
    with pytest.raises(RetryBudgetExhausted) as caught:
        client.execute(QUERY)
    assert len(recorder.waits) == 4 and server.stats()["requests"] == 5
    for attempt, wait in enumerate(recorder.waits, start=1):
        ceiling = min(0.4, BASE * 2 ** (attempt - 1))
        assert 0 <= wait <= ceiling + min(1.0, ceiling * 0.1 + 0.05)
    assert len(set(recorder.waits)) == 4  # jittered, not one flat wait
    message = str(caught.value)
    assert "after 5 attempts" in message and "push again" in message and TOKEN not in message


def test_a_wait_beyond_the_bound_gives_up_at_once(make_sandbox):
    server = make_sandbox(requests_per_minute=1)
    recorder = SleepRecorder()
    client = client_for(server, recorder, max_wait_seconds=0.5)
    client.execute(QUERY)
    with pytest.raises(RetryBudgetExhausted, match=r"beyond the 0\.5 s bound"):
        client.execute(QUERY)
    assert recorder.waits == []  # it did not sleep first and give up after


def test_the_daily_limit_stops_at_once(make_sandbox):
    server = make_sandbox(daily_limit=1)
    recorder = SleepRecorder()
    client = client_for(server, recorder)
    client.execute(QUERY)
    with pytest.raises(MondayStopError, match="daily request limit"):
        client.execute(QUERY)
    assert recorder.waits == [] and client.stats.retries == 0


def test_pacing_waits_for_the_budget_instead_of_running_into_it(make_sandbox):
    server = make_sandbox(complexity_budget=25_000)
    recorder = SleepRecorder()
    client = client_for(server, recorder)
    ops = [
        Operation(f"r{i}", "create_item", {"board_id": server.board_id, "item_name": f"n{i}"})
        for i in range(4)
    ]
    chunks = list(run_operations(client, ops, scope="p", policy=ChunkPolicy(max_mutations=2)))
    assert [len(c) for c in chunks] == [2, 2] and all(r.ok for c in chunks for r in c)
    # After the first request monday reported 5,000 points left: the client waited for the
    # window to reset (at most its one second) instead of collecting a 429.
    assert len(recorder.waits) == 1 and 0 < recorder.waits[0] <= 1.0
    assert client.stats.retries == 0
    assert "COMPLEXITY_BUDGET_EXHAUSTED" not in server.stats()["errors"]
    assert server.stats()["items"] == 4


# ---------------------------------------------------------------------- canned answers
class Canned(BaseAdapter):
    """A transport that answers from a list, without any network."""

    def __init__(self, answers: list[tuple[int, dict[str, Any]]]) -> None:
        super().__init__()
        self.answers = answers
        self.bodies: list[bytes] = []

    def send(self, request, **kwargs):  # type: ignore[no-untyped-def]
        self.bodies.append(request.body)
        status, payload = self.answers.pop(0)
        response = requests.Response()
        response.status_code = status
        response._content = json.dumps(payload).encode()
        response.headers["Content-Type"] = "application/json"
        response.request = request
        response.url = request.url
        return response

    def close(self) -> None:
        pass


def test_a_field_that_failed_inside_monday_fails_its_row_not_the_request():
    """HTTP 200 with data for two aliases and an INTERNAL_SERVER_ERROR on the third: the two
    are done (their items exist), so the request must not be retried or thrown away."""
    answer = {
        "data": {"r1": {"id": "11"}, "r2": None, "r3": {"id": "13"}},
        "errors": [
            {
                "message": "Internal server error",
                "path": ["r2"],
                "extensions": {"code": "INTERNAL_SERVER_ERROR", "status_code": 200},
            }
        ],
    }
    session = requests.Session()
    adapter = Canned([(200, answer)] * 3)
    session.mount("http://", adapter)
    client = MondayClient(
        TOKEN,
        ClientSettings(url="http://127.0.0.1:9/v2", base_backoff_seconds=0.01, max_attempts=3),
        sleep=lambda _s: None,
        session=session,
    )
    result = client.execute("mutation { x }", mutation=True)
    assert set(result.field_errors) == {"r2"}
    assert result.data["r1"] == {"id": "11"} and result.data["r3"] == {"id": "13"}
    assert len(adapter.bodies) == 1 and client.stats.retries == 0
