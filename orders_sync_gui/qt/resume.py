"""At start, a batch a stopped push left behind (the window closed mid-push, a crash, a
kill) is named, and the operator is offered to resume it."""

from __future__ import annotations

import logging
from collections.abc import Callable

from PySide6.QtWidgets import QWidget

from ..services.batch_guard import interrupted_batches
from ..services.staging import BatchInfo
from .dialogs import ask
from .job_status import JobStatus
from .session import Session
from .workers import Job

log = logging.getLogger("orders_sync_gui.gui")


def offer_text(batches: list[BatchInfo]) -> str:
    first = batches[0]
    text = (
        f"Batch {first.batch_id} of {first.customer} was interrupted "
        f"({first.status}: {first.message or 'no message'}).\n\n"
        "Resume it now? Nothing is sent twice: the push looks up what reached the board "
        "first, and its confirmation shows what is left and the estimate."
    )
    if len(batches) > 1:
        others = ", ".join(f"{b.batch_id} ({b.customer})" for b in batches[1:])
        text += f"\n\nAlso interrupted: batch {others}."
    return text


def check_interrupted(
    parent: QWidget,
    jobs: JobStatus,
    session: Session,
    batches: list[BatchInfo],
    resume: Callable[[BatchInfo], None],
) -> None:
    """Look for interrupted batches among `batches` (the history just read) in the
    background; if any, name them and offer to resume the newest."""
    ctx = session.ctx

    def work(job: Job) -> list[BatchInfo]:
        return interrupted_batches(ctx, batches)

    def found(interrupted: list[BatchInfo]) -> None:
        if not interrupted:
            return
        log.warning("interrupted: %s", offer_text(interrupted).splitlines()[0])
        if ask(parent, "An interrupted batch", offer_text(interrupted), "Resume…"):
            resume(interrupted[0])

    jobs.runner.start("Looking for interrupted batches", "interrupted", work, on_success=found)
