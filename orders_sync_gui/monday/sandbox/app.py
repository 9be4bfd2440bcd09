"""One GraphQL request through the sandbox, transport-free: limits, faults, idempotency, run.

The order a request goes through, and what a client sees at each step:

1. `Authorization` must equal the token, else HTTP 401 (`UNAUTHENTICATED`).
2. `API-Version` picks the version that serves the request (versions.py): none -> the
   current one; a retired one -> routed to the oldest one served; no version name, or one
   newer than any served -> 400 `INVALID_API_VERSION` (`API_VERSION_REQUIRED` for a missing
   header when `api_version_required` is set). The `version` query answers with it.
3. Concurrency slot, else 429 `maxConcurrencyExceeded`.
4. IP limit, minute rate, daily calls: 429 `IP_RATE_LIMIT_EXCEEDED` / `RATE_LIMIT_EXCEEDED`
   ("Minute limit rate exceeded") / `DAILY_LIMIT_EXCEEDED` (the day ends at 00:00 UTC),
   each with `Retry-After` and `extensions.retry_in_seconds`. Every answered request counts
   toward the day: 1, or 0.1 when a rate limit refused it (limits.py).
5. Body: not JSON -> 400 `JsonParseException`; no `query` -> 400 `BAD_REQUEST`.
6. Parse: syntax errors -> 200 with `errors` (`GRAPHQL_PARSE_FAILED`, with `locations`).
7. `Idempotency-Key` on a mutation: replay (`Idempotency-Replayed: true`, nothing runs)
   or, while the first request with that key still runs, 409 with `Retry-After`; kept for
   `idempotency_ttl_seconds`. With `idempotency_enabled` off the header is ignored.
8. Fault injection (500, 423, dropped connection, delay, an answer trickled a byte at a
   time, an error echoing the Authorization header), if configured.
9. Validation against the sandbox SDL -> 200 `GRAPHQL_VALIDATION_FAILED` errors. With a
   whole-request `gone_style` (errors.REQUEST_GONE_STYLES), a mutation naming an item that
   does not exist refuses the request here: 404 or 500, nothing runs.
10. Mutations past 2,000 a minute -> 429 `RATE_LIMIT_EXCEEDED` ("Call limit exceeded for
   mutations"). Complexity: over the per-query maximum -> 200 `maxComplexityExceeded`; over
   the budget -> `complexity_error_status` (429) `COMPLEXITY_BUDGET_EXHAUSTED` with
   `retry_in_seconds`.
11. Execution under the state lock; failing fields are null with monday's error entries,
    the other fields (aliases) succeed; HTTP 200 (404 for a request of one mutation whose
    item is gone, with `gone_style` "resource_not_found_404"). A request that changed
    anything is in the state file's journal, fsync'd, before its answer leaves (state.py).
"""

from __future__ import annotations

import json
import threading
import time
import uuid
from collections import Counter
from collections.abc import Mapping
from contextvars import ContextVar
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, cast

from graphql import (
    DocumentNode,
    ExecutionResult,
    FieldNode,
    GraphQLError,
    GraphQLInterfaceType,
    GraphQLSchema,
    build_schema,
    execute,
    parse,
    validate,
)

from .complexity import find_operation, is_mutation, mutation_fields, query_cost
from .config import SandboxConfig
from .errors import REQUEST_GONE_STYLES, format_graphql_error, gone_request_error
from .faults import FaultInjector
from .idempotency import CachedResponse, IdempotencyCache
from .layout import build_columns, load_mapping
from .limits import Limits, Receipt, Rejection
from .onboarding import layout_mapping, start_legacy
from .resolvers import ExecutionContext, Root, resolve_column_value_type
from .state import BoardState
from .versions import ServedVersion, VersionRefusal, VersionTable

# The project's SDL for the subset it serves, of monday's API version 2026-10 (its header).
SCHEMA_VERSION = "2026-10"
SCHEMA_PATH = Path(__file__).with_name(f"schema-{SCHEMA_VERSION}.graphql")
JSON_TYPE = "application/json; charset=utf-8"
# The version serving the request this thread is handling (set in handle_graphql), so the
# steps in between keep their signatures (tests wrap them).
_SERVED: ContextVar[ServedVersion | None] = ContextVar("sandbox_served_version", default=None)


@cache
def sandbox_schema() -> GraphQLSchema:
    schema = build_schema(SCHEMA_PATH.read_text(encoding="utf-8"))
    column_value = cast(GraphQLInterfaceType, schema.get_type("ColumnValue"))
    column_value.resolve_type = resolve_column_value_type
    return schema


@dataclass
class Response:
    status: int
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)
    drop: bool = False  # close the connection without answering
    trickle: float | None = None  # send the answer one byte every this many seconds
    refused: bool = False  # a rate limit refused the request (a fraction of a daily call)


def json_response(status: int, payload: Any, headers: Mapping[str, str] | None = None) -> Response:
    body = json.dumps(payload, separators=(",", ":")).encode("utf-8")
    return Response(status, body, {"Content-Type": JSON_TYPE, **(headers or {})})


class Stats:
    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.requests = 0
            self.mutations = 0
            self.queries = 0
            self.errors: Counter[str] = Counter()
            # The API-Version header of every request ("" when absent), and the version
            # that served it.
            self.api_version_headers: Counter[str] = Counter()
            self.served_versions: Counter[str] = Counter()

    def count(self, attribute: str) -> None:
        with self._lock:
            setattr(self, attribute, getattr(self, attribute) + 1)

    def error(self, code: str) -> None:
        with self._lock:
            self.errors[code] += 1

    def api_version(self, header: str | None, served: ServedVersion | None) -> None:
        with self._lock:
            self.api_version_headers[header or ""] += 1
            if served is not None:
                self.served_versions[served.value] += 1

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            return {
                "requests": self.requests,
                "mutations": self.mutations,
                "queries": self.queries,
                "errors": dict(self.errors),
                "api_version_headers": dict(self.api_version_headers),
                "served_versions": dict(self.served_versions),
            }


class Gate:
    """A door requests pass just before executing; tests close it to hold them there
    (every request, or only mutations, so that reads still answer meanwhile)."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._open = True
        self._mutations_only = False
        self.waiting = 0

    def set_open(self, is_open: bool, *, mutations_only: bool = False) -> None:
        with self._changed:
            self._open = is_open
            self._mutations_only = mutations_only
            self._changed.notify_all()

    def pass_through(self, mutation: bool = True) -> None:
        def may_pass() -> bool:
            return self._open or (self._mutations_only and not mutation)

        with self._changed:
            if may_pass():
                return
            self.waiting += 1
            self._changed.notify_all()
            self._changed.wait_for(may_pass)
            self.waiting -= 1

    def wait_waiting(self, count: int, timeout: float) -> bool:
        with self._changed:
            return self._changed.wait_for(lambda: self.waiting >= count, timeout)


def _cacheable(response: Response | None) -> CachedResponse | None:
    if response is None:
        return None
    return CachedResponse(response.status, tuple(response.headers.items()), response.body)


class SandboxApp:
    """The monday stand-in behind the HTTP server; `handle_graphql` is one request."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        # The template's column ids, or monday-like generated ones (onboarding.py).
        mapping = config.mapping if config.mapping is not None else load_mapping()
        layout = layout_mapping(config, mapping)
        mapping = layout.mapping
        board_id = str(config.board_id)
        sub_id = str(config.resolved_subitems_board_id)
        columns, sub_columns = build_columns(
            mapping,
            sub_id,
            config.extra_columns,
            config.extra_subitem_columns,
            layout.missing_columns,
            layout.labels,
        )
        self.state = BoardState(
            board_id,
            sub_id,
            config.board_name or str(mapping.get("board_name") or "Sandbox board"),
            columns,
            sub_columns,
            first_item_id=config.first_item_id,
            max_items_per_board=config.max_items_per_board,
            cursor_ttl_seconds=config.cursor_ttl_seconds,
            state_file=config.state_file,
        )
        self.state.gone_style = config.gone_style
        # A board as the earlier scripts left it, when asked (legacy.py); what the fill did.
        self.legacy_truth = start_legacy(self.state, config, mapping)
        self.limits = Limits(config)
        self.faults = FaultInjector(config.faults)
        self.idempotency = IdempotencyCache(config.idempotency_ttl_seconds)
        self.stats = Stats()
        self.versions = VersionTable(config.api_versions, required=config.api_version_required)
        self.schema = sandbox_schema()
        self.root = Root()
        # Test hook: requests wait here, holding a concurrency slot and their idempotency
        # key, just before they execute (open = no waiting).
        self.gate = Gate()

    # ------------------------------------------------------------------ helpers
    def _rejection(self, rejection: Rejection) -> Response:
        self.stats.error(rejection.code)
        headers = self.limits.headers()
        if rejection.retry_in_seconds is not None:
            headers["Retry-After"] = str(rejection.retry_in_seconds)
        response = json_response(rejection.status, rejection.body(), headers)
        response.refused = True
        return response

    def _errors(self, status: int, errors: list[dict[str, Any]]) -> Response:
        for error in errors:
            self.stats.error(error.get("extensions", {}).get("code", "UNKNOWN"))
        return json_response(status, {"errors": errors}, self.limits.headers())

    def _simple_error(self, status: int, code: str, message: str, **extra: Any) -> Response:
        extensions: dict[str, Any] = {"code": code, "status_code": status, **extra}
        retry = extensions.pop("retry_after", None)
        error = {"message": message, "extensions": extensions}
        self.stats.error(code)
        headers = self.limits.headers()
        if retry is not None:
            headers["Retry-After"] = str(retry)
        return json_response(status, {"errors": [error]}, headers)

    # ------------------------------------------------------------------ the request
    def handle_graphql(self, headers: Mapping[str, str], body: bytes, client_ip: str) -> Response:
        self.stats.count("requests")
        if headers.get("Authorization") not in (self.config.token, *self.config.account_tokens):
            self.stats.error("UNAUTHENTICATED")
            error = {
                "message": "Not Authenticated",
                "extensions": {"code": "UNAUTHENTICATED", "status_code": 401},
            }
            return json_response(401, {"errors": [error]})
        header = headers.get("API-Version")
        served = self.versions.resolve(header)
        if isinstance(served, VersionRefusal):
            self.stats.api_version(header, None)
            return self._simple_error(served.status, served.code, served.message)
        self.stats.api_version(header, served)
        refused = self.limits.acquire()
        if refused is not None:
            response = self._rejection(refused)
        else:
            serving = _SERVED.set(served)
            try:
                response = self._admitted(headers, body, client_ip)
            finally:
                _SERVED.reset(serving)
                self.limits.release()
        self.limits.count_call(response.refused)
        return response

    def _admitted(self, headers: Mapping[str, str], body: bytes, client_ip: str) -> Response:
        refused = self.limits.admit(client_ip)
        if refused is not None:
            return self._rejection(refused)
        try:
            payload = json.loads(body or b"null")
        except ValueError:
            return self._simple_error(400, "JsonParseException", "Unable to parse JSON body")
        if not isinstance(payload, dict) or not isinstance(payload.get("query"), str):
            return self._simple_error(400, "BAD_REQUEST", "Bad request: no query string")
        variables = payload.get("variables") or {}
        operation_name = payload.get("operationName")
        if not isinstance(variables, dict) or not isinstance(operation_name, str | None):
            return self._simple_error(400, "BAD_REQUEST", "Bad request: invalid variables")
        try:
            document = parse(payload["query"])
        except GraphQLError as error:
            return self._errors(200, [format_graphql_error(error, "GRAPHQL_PARSE_FAILED")])
        mutation = is_mutation(document, operation_name)
        self.stats.count("mutations" if mutation else "queries")
        honoured = mutation and self.config.idempotency_enabled
        key = headers.get("Idempotency-Key") if honoured else None
        if key:
            started = self.idempotency.begin(key)
            if started is False:
                return self._simple_error(
                    409,
                    "IDEMPOTENCY_CONFLICT",
                    "A request with this idempotency key is currently being processed",
                    retry_after=1,
                )
            if isinstance(started, CachedResponse):
                replay = dict(started.headers)
                replay["Idempotency-Replayed"] = "true"
                return Response(started.status, started.body, replay)
        executed: Response | None = None
        try:
            response, fault, ran = self._faulted_run(
                document, variables, operation_name, mutation, headers.get("Authorization", "")
            )
            executed = response if ran else None
            if fault == "drop_after_execute":
                return Response(0, drop=True)
            return response
        finally:
            if key:
                self.idempotency.finish(key, _cacheable(executed))

    def _faulted_run(
        self,
        document: DocumentNode,
        variables: dict[str, Any],
        operation_name: str | None,
        mutation: bool,
        authorization: str = "",
    ) -> tuple[Response, str | None, bool]:
        """Run the request unless a fault refuses it: (response, fault, whether it ran)."""
        fault = self.faults.decide(mutation)
        if fault in ("error_500", "trickle"):
            error = self._simple_error(500, "INTERNAL_SERVER_ERROR", "Internal server error")
            if fault == "trickle":
                error.trickle = self.faults.config.trickle_seconds
            return error, fault, False
        if fault in ("echo_auth", "echo_auth_request"):
            return self._echo(document, operation_name, authorization, fault), fault, False
        if fault == "locked_423":
            message = "Resource is currently locked, please try again later"
            return self._simple_error(423, "RESOURCE_LOCKED", message, retry_after=1), fault, False
        if fault == "drop_before_execute":
            return Response(0, drop=True), fault, False
        if fault == "delay":
            time.sleep(self.faults.config.delay_seconds)
        self.gate.pass_through(mutation)
        response, ran = self._run(document, variables, operation_name)
        return response, fault, ran

    def _echo(
        self, document: DocumentNode, operation_name: str | None, authorization: str, fault: str
    ) -> Response:
        """A careless server's error that quotes the request's Authorization header."""
        message = f"Could not process the request sent with Authorization: {authorization}"
        if fault == "echo_auth_request":
            return self._simple_error(400, "BAD_REQUEST", message)
        operation = find_operation(document, operation_name)
        fields = [
            (selection.alias or selection.name).value
            for selection in (operation.selection_set.selections if operation else ())
            if isinstance(selection, FieldNode) and selection.name.value != "complexity"
        ]
        extensions = {"code": "InvalidArgumentException", "status_code": 200, "error_data": {}}
        errors = [{"message": message, "path": [f], "extensions": extensions} for f in fields]
        return self._errors(200, errors or [{"message": message, "extensions": extensions}])

    def _run(
        self, document: DocumentNode, variables: dict[str, Any], operation_name: str | None
    ) -> tuple[Response, bool]:
        """Validate, charge complexity, execute; the flag says whether anything ran."""
        invalid = validate(self.schema, document)
        if invalid:
            errors = [format_graphql_error(e, "GRAPHQL_VALIDATION_FAILED") for e in invalid]
            return self._errors(200, errors), False
        gone = self._gone_request(document, variables, operation_name)
        if gone is not None:
            return gone, False
        capped = self.limits.take_mutations(
            len(mutation_fields(document, operation_name, variables))
        )
        if capped is not None:
            return self._rejection(capped), False
        charged = self.limits.charge(query_cost(document, operation_name, variables, self.config))
        if isinstance(charged, Rejection):
            return self._rejection(charged), False
        result = self._execute(document, variables, operation_name, charged)
        payload: dict[str, Any] = {}
        if result.data is not None:
            payload["data"] = result.data
        if result.errors:
            # Errors without a path concern the whole request (variables, operation name).
            errors = [
                format_graphql_error(
                    e, "INTERNAL_SERVER_ERROR" if e.path else "GRAPHQL_VALIDATION_FAILED"
                )
                for e in result.errors
            ]
            for error in errors:
                self.stats.error(error["extensions"]["code"])
            payload["errors"] = errors
        payload["account_id"] = self.config.account_id
        payload["extensions"] = {"request_id": str(uuid.uuid4())}
        status = 200
        if self._one_gone_mutation(document, variables, operation_name, payload):
            status = 404
        return json_response(status, payload, self.limits.headers()), True

    def _gone_request(
        self, document: DocumentNode, variables: dict[str, Any], operation_name: str | None
    ) -> Response | None:
        """With a whole-request gone_style: the refusal of a request whose mutations name an
        item that does not exist (or is deleted), before anything in it runs."""
        style = self.config.gone_style
        if style not in REQUEST_GONE_STYLES:
            return None
        with self.state.lock:
            for _name, args in mutation_fields(document, operation_name, variables):
                for key in ("item_id", "parent_item_id"):
                    if args.get(key) is None:
                        continue
                    item = self.state.items.get(str(args[key]))
                    if item is None or item.state == "deleted":
                        status, error = gone_request_error(style, str(args[key]))
                        return self._errors(status, [error])
        return None

    def _one_gone_mutation(
        self,
        document: DocumentNode,
        variables: dict[str, Any],
        operation_name: str | None,
        payload: dict[str, Any],
    ) -> bool:
        """gone_style "resource_not_found_404": a request of one mutation, refused because
        its item is gone, is answered HTTP 404 (a chunk of several stays a 200 whose failing
        alias carries the error)."""
        if self.config.gone_style != "resource_not_found_404" or not payload.get("errors"):
            return False
        codes = {e["extensions"]["code"] for e in payload["errors"]}
        one = len(mutation_fields(document, operation_name, variables)) == 1
        return one and codes == {"ResourceNotFoundException"}

    def _execute(
        self,
        document: DocumentNode,
        variables: dict[str, Any],
        operation_name: str | None,
        receipt: Receipt,
    ) -> ExecutionResult:
        with self.state.lock:
            context = ExecutionContext(
                self.state, self.config, receipt, api_version=_SERVED.get(), versions=self.versions
            )
            result = execute(
                self.schema,
                document,
                root_value=self.root,
                context_value=context,
                variable_values=variables,
                operation_name=operation_name,
            )
            if context.mutated:
                self.state.flush()  # on disk (fsync'd) before the answer is even built
        return cast(ExecutionResult, result)

    # ------------------------------------------------------------------ control
    def stats_json(self) -> dict[str, Any]:
        stats = self.stats.snapshot()
        stats.update(self.state.counts())
        stats["faults"] = self.faults.counts()
        stats["fault_config"] = self.faults.config.to_json()
        stats["idempotency_enabled"] = self.config.idempotency_enabled
        stats["idempotent_replays"] = self.idempotency.replays
        stats["idempotency_conflicts"] = self.idempotency.conflicts
        limits = self.limits.snapshot()
        stats["budget_used"] = limits["budget_used"]  # in the current window
        stats["budget_remaining"] = limits["budget_remaining"]
        stats["limits"] = limits
        return stats

    def reset(self, limits: bool = False) -> None:
        self.state.reset()
        self.idempotency.clear()
        if limits:
            self.limits.reset()
            self.stats.reset()
            self.faults.clear_counts()
