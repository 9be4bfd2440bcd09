"""What a batch has put on the board so far, from its rows' and sizes' statuses: one
description that the push's own message, the window's status bar, its titles and the
batch history all use, so a cancelled or partial run reads the same everywhere
("2,050 of 2,311 items on the board, sizes of 300 pending")."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

DONE = "PUSHED"
FAILED = "FAILED"
UNDONE = "UNDONE"


@dataclass(frozen=True, slots=True)
class BoardState:
    rows: int  # orders (items) in the batch
    items: int  # items done on the board (created, changed or marked deleted)
    sizes_pending: int  # of those, items with a size still to send
    failed: int  # orders monday refused (the item or one of its sizes)
    undone: int  # orders an undo has reverted
    sizes: int  # sizes (subitems) in the batch
    sizes_done: int
    not_sent: int  # orders whose item is not on the board yet (pending, or in flight)

    @classmethod
    def of(cls, rows: Mapping[int, str], subs: Iterable[tuple[int, str]]) -> BoardState:
        """From {row id: status} and (parent row id, status) per size."""
        pending: set[int] = set()
        failed = {i for i, s in rows.items() if s == FAILED}
        sizes = sizes_done = 0
        for parent, status in subs:
            sizes += 1
            if status == DONE:
                sizes_done += 1
            elif status == FAILED:
                failed.add(parent)
            elif status != UNDONE and rows.get(parent) == DONE:
                pending.add(parent)
        values = list(rows.values())
        return cls(
            rows=len(values),
            items=values.count(DONE),
            sizes_pending=len(pending - failed),
            failed=len(failed),
            undone=values.count(UNDONE),
            sizes=sizes,
            sizes_done=sizes_done,
            not_sent=sum(1 for s in values if s not in (DONE, FAILED, UNDONE)),
        )

    @property
    def complete(self) -> bool:
        return self.rows > 0 and self.items == self.rows and not self.sizes_pending

    def text(self) -> str:
        if self.undone:
            text = f"{self.undone:,} of {self.rows:,} orders undone"
            if self.items:
                text += f", {self.items:,} still on the board as pushed"
            return text + (f"; {self.failed:,} failed" if self.failed else "")
        if self.complete:
            return f"all {self.rows:,} items on the board with their {self.sizes:,} sizes"
        if not self.items and not self.failed:
            return f"nothing on the board yet ({self.rows:,} orders to send)"
        parts = [f"{self.items:,} of {self.rows:,} items on the board"]
        if self.sizes_pending:
            parts[0] += f", sizes of {self.sizes_pending:,} pending"
        if self.failed:
            parts.append(f"{self.failed:,} failed")
        if self.not_sent:
            parts.append(f"{self.not_sent:,} not sent yet")
        return "; ".join(parts)
