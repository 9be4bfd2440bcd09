"""Stage batch: the checked rows of the customer's change set become one batch."""

from __future__ import annotations

import logging

from ...services import staging
from ...services.staging import BatchInfo
from ..workers import Job
from .base import ConfirmAction, Step, Workbench

log = logging.getLogger("orders_sync_gui.gui")


class StageAction(ConfirmAction):
    def __init__(self, bench: Workbench) -> None:
        super().__init__(bench)
        self.customer = bench.selection.customer
        self.preview = bench.selection.current_preview()
        self.excluded = set(bench.selection.excluded)
        self.choice = bench.change_set.choice()

    def ok_to_run(self) -> bool:
        return (
            self.session is not None
            and self.customer is not None
            and self.preview is not None
            and bool(self.preview.changes)
            and not self.bench.runner.busy(self.customer)
        )

    def action(self, prepared: None) -> Step:
        assert self.session is not None and self.customer is not None
        ctx, customer, choice, exclude = self.session.ctx, self.customer, self.choice, self.excluded

        def work(job: Job) -> BatchInfo:
            batch = staging.stage(
                ctx,
                customer,
                types=choice.types,
                po_number=choice.po_number,
                limit=choice.limit,
                exclude=exclude,
            )
            log.info(
                "stage %s: batch %d staged (%d items, %d subitems)",
                customer,
                batch.batch_id,
                batch.item_count,
                batch.subitem_count,
            )
            return batch

        return Step(f"Staging {customer}", customer, work)

    def success(self, batch: BatchInfo) -> None:
        self.bench.selection.set_batch(batch)
        self.bench.staged.show_batch(batch.batch_id)
        self.bench.customers.recount(batch.customer)
