"""Board capacity: will what a push adds fit on the board and its subitems board?

A monday.com board holds a limited number of items (10,000 on non-Enterprise plans; the
board's items_limit where monday exposes it, else the `max_items_per_board` limit in
settings), and subitems live on a board of their own with the same kind of limit. A push
that cannot fit is refused before its first mutation, with one message saying what it
needs, what fits, and what to do; otherwise it would fail row after row halfway through
(ItemsLimitationException).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ..core.staged import RETRYABLE, StagedRow, StagedSubitem
from ..monday.board import Board, board_room
from ..monday.client import MondayClient


@dataclass(frozen=True, slots=True)
class Capacity:
    items_needed: int
    subitems_needed: int
    items_free: int
    subitems_free: int | None  # None: the batch has no subitems board to fill
    # The most each board may hold (monday's items_limit, else the configured limit).
    items_limit: int | None = None
    subitems_limit: int | None = None

    @property
    def fits(self) -> bool:
        subs_fit = self.subitems_free is None or self.subitems_needed <= self.subitems_free
        return self.items_needed <= self.items_free and subs_fit

    def message(self, customer: str) -> str:
        subs = "" if self.subitems_free is None else f" ({self.subitems_free:,} free)"
        return (
            f"the board is too full for {customer}'s push: it needs {self.items_needed:,} new "
            f"items ({self.items_free:,} free) and {self.subitems_needed:,} new subitems"
            f"{subs}. Archive or delete old orders on the board, push fewer orders (a smaller "
            "batch), or, if the plan allows more, raise max_items_per_board under "
            '"monday": {"limits": {...}} in settings.json'
        )


def additions(
    rows: Iterable[StagedRow], children: Mapping[int, list[StagedSubitem]]
) -> tuple[int, int]:
    """(items, subitems) a push of these rows would create at most: every item it creates,
    and every size it creates (a new size, or any size of an item created)."""
    items = subitems = 0
    for row in rows:
        subs = children.get(row.stg_id, [])
        if row.creates_item and row.status in RETRYABLE:
            items += 1
        subitems += sum(
            1 for s in subs if s.status in RETRYABLE and s.created_under(row) and s.qty is not None
        )
    return items, subitems


def board_capacity(
    client: MondayClient, board: Board, items: int, subitems: int, default_limit: int
) -> Capacity:
    """Room left on the board (and its subitems board) for `items` and `subitems`."""
    room = board_room(client, board)
    main = room.get(board.board_id)
    items_limit = (main.limit if main is not None else None) or default_limit
    items_free = items_limit - main.items if main is not None else default_limit
    subitems_free: int | None = None
    subitems_limit: int | None = None
    if board.subitems_board_id:
        sub = room.get(board.subitems_board_id)
        subitems_limit = (sub.limit if sub is not None else None) or default_limit
        subitems_free = subitems_limit - sub.items if sub else default_limit
    return Capacity(
        items,
        subitems,
        max(0, items_free),
        subitems_free and max(0, subitems_free),
        items_limit,
        subitems_limit,
    )
