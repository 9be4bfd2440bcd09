"""The cost and time of a push, before it starts, from the account's configured limits."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

from ..core.models import ChangeType, RowChange, RowStatus
from ..core.staged import existing_item
from ..monday.board_items import reads_for
from ..store import pushing
from ..store.staging import get_batch
from .capacity import additions
from .context import Context
from .monday_setup import Limits

TO_SEND = (RowStatus.PENDING, RowStatus.FAILED, RowStatus.SENDING)
READS = 4  # board, subitems board, their room and groups, the group made (+ crash lookups)
LOOKUP_CHUNK = 50  # record_uuids per lookup (monday.board.find_items)


@dataclass(slots=True)
class Estimate:
    batch_id: int
    customer: str
    items: int  # item mutations: create, change or delete action
    subitems: int  # subitem mutations
    mutations: int
    requests: int
    complexity: int
    minutes: float
    daily_share: float  # of the account's daily request quota
    new_items: int = 0  # items the push adds to the board (at most): its capacity check
    new_subitems: int = 0  # and subitems, to the subitems board
    not_undoable: list[str] = field(default_factory=list)
    # Reads of the board's items before anything is changed (the pre-flight): in requests.
    board_reads: int = 0

    def to_dict(self) -> dict[str, object]:
        out = asdict(self)
        out["minutes"] = round(self.minutes, 2)
        out["daily_share"] = round(self.daily_share, 4)
        return out


def estimate(ctx: Context, batch_id: int, limits: Limits | None = None) -> Estimate:
    limits = limits or Limits()
    with ctx.store.engine.connect() as conn:
        batch = get_batch(conn, batch_id)
        rows = pushing.load_rows(conn, batch_id)
        subs = pushing.load_subitems(conn, batch_id)
    items = sum(1 for r in rows if r.status in TO_SEND)
    children: dict[int, list] = {}
    for sub in subs:
        children.setdefault(sub.stg_parent_id, []).append(sub)
    new_items, new_subitems = additions(rows, children)
    subitems = sum(1 for s in subs if s.status in TO_SEND)
    # The pre-flight: the items the push is about to change (changed and deleted orders',
    # returning records' labelled ones) are read as they are now, 100 a read
    # (PushHooks.check_items_on_board), so one archived or deleted by hand is found first.
    touched = len({item for r in rows if (item := existing_item(r))})
    board_reads = reads_for(touched)
    # Look before creating: every item the push would create is first looked up on the
    # board by its record_uuid, in bulk (PushHooks.items_on_board).
    creates = sum(1 for r in rows if r.creates_item and r.status in TO_SEND)
    reads = READS + board_reads + math.ceil(creates / LOOKUP_CHUNK)
    requests, complexity, minutes = figures(items, subitems, reads, limits)
    notes: list[str] = []
    archived = sum(1 for r in rows if r.change_type is ChangeType.DELETED and r.status in TO_SEND)
    if archived and ctx.mapping.deleted_action.get("kind") != "status":
        notes.append(
            f"{archived} deleted order(s) will be archived: undo cannot restore an "
            "archived item through the API"
        )
    removed = sum(1 for s in subs if s.change_type is ChangeType.DELETED and s.status in TO_SEND)
    if removed:
        notes.append(
            f"{removed} subitem(s) will be deleted: undo recreates them, without the "
            "figures planners typed on them"
        )
    return Estimate(
        batch_id=batch_id,
        customer=batch.customer,
        items=items,
        subitems=subitems,
        mutations=items + subitems,
        requests=requests,
        complexity=complexity,
        minutes=minutes,
        daily_share=requests / limits.daily_requests,
        not_undoable=notes,
        new_items=new_items,
        new_subitems=new_subitems,
        board_reads=board_reads,
    )


def figures(items: int, subitems: int, reads: int, limits: Limits) -> tuple[int, int, float]:
    """(requests, complexity, minutes) of a push of `items` item and `subitems` subitem
    mutations besides `reads` read requests."""
    chunk = chunk_size(limits)
    requests = math.ceil(items / chunk) + math.ceil(subitems / chunk) + reads
    complexity = (items + subitems) * limits.mutation_cost
    return requests, complexity, run_minutes(limits, items + subitems, requests)


def estimate_changes(
    customer: str, changes: Sequence[RowChange], limits: Limits | None = None
) -> Estimate:
    """What staging and pushing a change set would cost, before anything is staged (a dry
    run): an item mutation per order, a subitem mutation per size a NEW order has or a
    CHANGED one changes. Sizes of an order whose item was lost meanwhile are not known here."""
    limits = limits or Limits()
    items = len(changes)
    new = [c for c in changes if c.change_type is ChangeType.NEW]
    subitems = sum(sum(1 for q in c.current.sizes.values() if q) for c in new)
    subitems += sum(len(c.size_diffs) for c in changes if c.change_type is ChangeType.CHANGED)
    # the pre-flight reads the items of changed and deleted orders; look before creating
    touched = sum(1 for c in changes if c.change_type is not ChangeType.NEW)
    reads = READS + reads_for(touched) + math.ceil(len(new) / LOOKUP_CHUNK)
    requests, complexity, minutes = figures(items, subitems, reads, limits)
    return Estimate(
        batch_id=0,
        customer=customer,
        items=items,
        subitems=subitems,
        mutations=items + subitems,
        requests=requests,
        complexity=complexity,
        minutes=minutes,
        daily_share=requests / limits.daily_requests,
        new_items=len(new),
        new_subitems=subitems,
        board_reads=reads_for(touched),
    )


def chunk_size(limits: Limits) -> int:
    """Mutations per request: the same cap as the push's ChunkPolicy, the smaller of the
    per-request maximum and the per-minute budget (a trial account's budget is below the
    per-request maximum)."""
    ceiling = min(limits.max_complexity_per_request, limits.complexity_per_minute)
    return max(
        1,
        min(
            limits.max_mutations_per_request,
            limits.mutations_per_minute,
            ceiling // max(1, limits.mutation_cost),
        ),
    )


def run_minutes(
    limits: Limits, mutations: int, requests: int, seconds_per_request: float | None = None
) -> float:
    """How long `mutations` in `requests` take: the slowest of the complexity budget, the
    request and mutation rates, and the requests' own round trips."""
    window_minutes = limits.window_seconds / 60
    budget = mutations * limits.mutation_cost / limits.complexity_per_minute * window_minutes
    rate = requests / limits.requests_per_minute * window_minutes
    per_mutation = mutations / limits.mutations_per_minute * window_minutes
    per_request = limits.seconds_per_request if seconds_per_request is None else seconds_per_request
    return max(budget, rate, per_mutation, requests * per_request / 60)


def time_left(
    limits: Limits, mutations_left: int, *, requests_done: int, elapsed: float, waiting: float = 0
) -> float:
    """Seconds a running push (or undo) still needs: the confirmation's model over what is
    left, its time per request replaced by the one measured so far, plus the wait under way
    (pacing, a retry's backoff)."""
    requests_left = math.ceil(max(0, mutations_left) / chunk_size(limits))
    measured = elapsed / requests_done if requests_done > 0 and elapsed > 0 else None
    return max(0.0, waiting) + run_minutes(limits, mutations_left, requests_left, measured) * 60
