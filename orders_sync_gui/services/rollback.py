"""Roll a batch back: the one decision both faces share.

A batch that nothing of has reached monday.com (STAGED) is discarded in one transaction; one
that has (PUSHED, PARTIAL, or a push interrupted while PUSHING) is undone on monday.com too,
so that no item it made is orphaned on the board.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass

from ..core.models import BatchStatus
from .batch_run import Progress
from .context import Context
from .monday_setup import MondaySetup
from .staging import BatchInfo, get
from .staging import rollback as discard
from .undo import UndoReport, undo


@dataclass(slots=True)
class RollbackResult:
    """A rollback's outcome: the batch as it stands after it, and the undo's report when
    the batch had reached monday.com (None: it was discarded locally)."""

    batch: BatchInfo
    undo: UndoReport | None = None

    @property
    def ok(self) -> bool:
        return self.batch.status in (BatchStatus.ROLLED_BACK, BatchStatus.UNDONE)

    @property
    def message(self) -> str:
        return self.undo.message if self.undo is not None else self.batch.message or ""

    def to_dict(self) -> dict[str, object]:
        if self.undo is not None:
            return self.undo.to_dict()
        return {"batch_id": self.batch.batch_id, "status": self.batch.status}


def needs_undo(batch: BatchInfo) -> bool:
    """A batch that may have reached monday.com: rolling it back means undoing it there."""
    return batch.status != BatchStatus.STAGED


def roll_back(
    ctx: Context,
    batch_id: int,
    monday: Callable[[], MondaySetup],
    *,
    progress: Callable[[Progress], None] | None = None,
    should_cancel: Callable[[], bool] = lambda: False,
    cancel: threading.Event | None = None,
) -> RollbackResult:
    """Discard a staged batch, or undo a pushed one on monday.com (`monday` makes the
    client only then). An undo that monday.com stopped raises UndoStopped, whose report
    says what was reverted and what is left."""
    batch = get(ctx, batch_id)
    if not needs_undo(batch):
        return RollbackResult(discard(ctx, batch_id))
    report = undo(
        ctx, batch_id, monday(), progress=progress, should_cancel=should_cancel, cancel=cancel
    )
    return RollbackResult(report.batch or get(ctx, batch_id), report)
