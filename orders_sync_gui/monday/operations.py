"""Mutations as plain data, rendered into aliased GraphQL requests, sent in chunks.

Several mutations travel in one request under aliases (monday has no bulk mutation), each
still costing its own complexity; a chunk is as many as the per-request cap, the
complexity ceiling and the remaining budget allow. Results come back per alias, so one bad
value fails its row only. `run_operations` yields each response's results as it arrives:
the caller records them before the next request leaves, so a kill between two requests
loses nothing that monday confirmed.
"""

from __future__ import annotations

import uuid
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

from .client import Cancelled, FieldError, ItemGoneError, MondayClient

IDEMPOTENCY_NAMESPACE = uuid.UUID("6f1d3a52-0c4e-4b8e-9a57-3c1f0d2b7e90")


@dataclass(frozen=True, slots=True)
class Operation:
    """One mutation for one staged row or subitem."""

    key: str  # stable per staged object: "r12" (row 12), "s40" (subitem 40)
    kind: (
        str  # create_item, create_subitem, change_multiple_column_values, archive_item, delete_item
    )
    args: dict[str, Any]  # GraphQL arguments, values already in monday's form
    attempt: int = 0  # the row's retry count: a retried row gets a new idempotency key
    cost: int = 10_000  # complexity points, for chunking and pacing


@dataclass(frozen=True, slots=True)
class OperationResult:
    op: Operation
    item_id: str | None = None
    error: FieldError | None = None
    replayed: bool = False

    @property
    def ok(self) -> bool:
        return self.error is None


@dataclass(slots=True)
class ChunkPolicy:
    max_mutations: int = 25  # per request
    max_complexity: int = 5_000_000  # per request, monday's ceiling
    budget_per_window: int = 10_000_000  # complexity per minute
    # (the cap keeps one request far below the ceiling and a dropped response cheap to redo)

    def split(self, ops: Sequence[Operation]) -> list[list[Operation]]:
        ceiling = min(self.max_complexity, self.budget_per_window)
        chunks: list[list[Operation]] = []
        current: list[Operation] = []
        cost = 0
        for op in ops:
            if current and (len(current) >= self.max_mutations or cost + op.cost > ceiling):
                chunks.append(current)
                current, cost = [], 0
            current.append(op)
            cost += op.cost
        if current:
            chunks.append(current)
        return chunks


_ARG_TYPES = {
    "board_id": "ID!",
    "item_id": "ID",
    "parent_item_id": "ID!",
    "item_name": "String!",
    "group_id": "String",
    "column_values": "JSON",
    "create_labels_if_missing": "Boolean",
}
_RETURNS = {
    "create_item",
    "create_subitem",
    "change_multiple_column_values",
    "archive_item",
    "delete_item",
}


def render(ops: Sequence[Operation]) -> tuple[str, dict[str, Any]]:
    """An aliased mutation; every argument is a variable, so no value is ever spliced in."""
    declarations: list[str] = []
    fields: list[str] = []
    variables: dict[str, Any] = {}
    for i, op in enumerate(ops):
        if op.kind not in _RETURNS:
            raise ValueError(f"unknown operation {op.kind!r}")
        args = []
        for name, value in op.args.items():
            var = f"{name}_{i}"
            kind = _ARG_TYPES[name]
            if op.kind == "change_multiple_column_values" and name == "column_values":
                kind = "JSON!"
            declarations.append(f"${var}: {kind}")
            variables[var] = value
            args.append(f"{name}: ${var}")
        fields.append(f"{op.key}: {op.kind}({', '.join(args)}) {{ id }}")
    query = (
        f"mutation ({', '.join(declarations)}) {{ {' '.join(fields)} "
        "complexity { before after query reset_in_x_seconds } }"
    )
    return query, variables


def idempotency_key(scope: str, chunk: Sequence[Operation]) -> str:
    """Same scope and same (row, attempt) set: same key, so monday replays, never redoes."""
    parts = ",".join(f"{op.key}@{op.attempt}" for op in chunk)
    return str(uuid.uuid5(IDEMPOTENCY_NAMESPACE, f"{scope}|{parts}"))


@dataclass(slots=True)
class RunStats:
    requests: int = 0
    mutations: int = 0
    failed: int = 0
    replayed: int = 0
    chunks: list[int] = field(default_factory=list)


def run_operations(
    client: MondayClient,
    ops: Sequence[Operation],
    *,
    scope: str,
    policy: ChunkPolicy,
    stats: RunStats | None = None,
    before_send: Callable[[list[Operation]], None] | None = None,
    should_cancel: Callable[[], bool] = lambda: False,
    on_lost_answer: Callable[[list[Operation]], None] | None = None,
) -> Iterator[list[OperationResult]]:
    """Send the operations chunk by chunk, yielding each response's results.

    `before_send` runs before each request leaves (the caller marks those rows as in flight,
    so a crash during the request is known to have an unknown outcome); `on_lost_answer`
    before a chunk whose answer was lost is sent again (see MondayClient.execute).

    A whole request answered "this item does not exist" (ItemGoneError: an HTTP 404, the
    older pages' HTTP 500, or such an error without a path) says nothing about the chunk's
    other mutations. monday documents those statuses as transport-level errors (see
    client.GONE_CODES), so none of them is taken to have run, and the chunk is taken apart:
    the mutations on the item the answer names are gone (a one-mutation request's is,
    whatever it names), the rest go again as one chunk; when the answer names no id, each
    goes again alone, so the gone one is found by its own answer. A re-sent part is a new
    set of mutations, so it gets its own Idempotency-Key.
    """
    stats = stats if stats is not None else RunStats()
    queue = deque(policy.split(ops))
    while queue:
        chunk = queue.popleft()
        if should_cancel():
            return
        # The pacing wait comes before the rows are marked in flight: a cancel during it
        # (which wakes it at once) leaves them PENDING, nothing to look up on the next push.
        try:
            client.wait_for_budget(sum(op.cost for op in chunk))
        except Cancelled:
            return
        if should_cancel():
            return
        if before_send is not None:
            before_send(chunk)
        query, variables = render(chunk)
        lost = (lambda c=chunk: on_lost_answer(c)) if on_lost_answer is not None else None
        try:
            result = client.execute(
                query,
                variables,
                mutation=True,
                idempotency_key=idempotency_key(scope, chunk),
                before_resend=lost,
            )
        except ItemGoneError as gone:
            stats.requests += 1
            answered, again = _take_apart(chunk, gone)
            queue.extendleft(reversed(again))
            if answered:
                stats.failed += len(answered)
                yield [
                    OperationResult(op, error=FieldError(op.key, gone.code, str(gone), {}, 404))
                    for op in answered
                ]
            continue
        stats.requests += 1
        stats.mutations += len(chunk)
        stats.chunks.append(len(chunk))
        out: list[OperationResult] = []
        for op in chunk:
            error = result.field_errors.get(op.key)
            node = result.data.get(op.key)
            if error is None and isinstance(node, dict):
                out.append(OperationResult(op, item_id=str(node["id"]), replayed=result.replayed))
            else:
                error = error or FieldError(op.key, "NoResult", "monday.com returned no item", {})
                stats.failed += 1
                out.append(OperationResult(op, error=error, replayed=result.replayed))
        if result.replayed:
            stats.replayed += 1
        yield out


def targets(op: Operation) -> set[str]:
    """The existing items an operation names (the one it changes, or a subitem's parent)."""
    return {str(op.args[k]) for k in ("item_id", "parent_item_id") if op.args.get(k)}


def _take_apart(
    chunk: list[Operation], gone: ItemGoneError
) -> tuple[list[Operation], list[list[Operation]]]:
    """(the chunk's gone mutations, the chunks to send again) after a whole-request gone."""
    if len(chunk) == 1:
        return chunk, []
    named = set(gone.item_ids)
    hit = [op for op in chunk if targets(op) & named]
    if not hit:
        return [], [[op] for op in chunk]
    rest = [op for op in chunk if op not in hit]
    return hit, [rest] if rest else []
