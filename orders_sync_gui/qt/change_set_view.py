"""The Change set tab: the selected customer's preview, the rows left out of it, the sizes
of the selected order, and the choices a staging takes from it (types, PO, how many)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from PySide6.QtCore import QObject, Signal
from PySide6.QtWidgets import QTabWidget

from ..core.models import STAGEABLE, ChangeType
from ..services import detection
from . import frames
from .job_status import JobStatus
from .panels import ChangeSetPanel, fit_columns
from .selection import Selection
from .session import Session
from .workers import Job, WhenBusy

log = logging.getLogger("orders_sync_gui.gui")
TYPES = ("NEW", "CHANGED", "DELETED")


@dataclass(frozen=True, slots=True)
class StageChoice:
    """What a staging takes from the change set besides the rows left out."""

    types: list[ChangeType]
    po_number: str | None
    limit: int | None


class ChangeSetView(QObject):
    preview_shown = Signal(str)

    def __init__(
        self,
        panel: ChangeSetPanel,
        tabs: QTabWidget,
        selection: Selection,
        jobs: JobStatus,
        session: Callable[[], Session | None],
    ) -> None:
        super().__init__(panel)
        self.panel, self.tabs, self.selection = panel, tabs, selection
        self.jobs, self.session = jobs, session
        panel.type_filter.currentIndexChanged.connect(self.filter)
        panel.view.selectionModel().currentRowChanged.connect(self._change_selected)
        panel.model.checks_changed.connect(self._checks_changed)
        selection.customer_changed.connect(lambda _name: self.load_preview())

    def choice(self) -> StageChoice:
        kind = self.panel.type_filter.currentText()
        return StageChoice(
            [ChangeType(kind)] if kind in TYPES else list(STAGEABLE),
            self.panel.po.text().strip() or None,
            self.panel.limit.value() or None,
        )

    def load_preview(self, *, when_busy: WhenBusy = "refuse") -> None:
        """Load the selected customer's preview; `when_busy="again"` (after a job of that
        customer, from its own success slot, which runs before the job has let go of its
        key): once the customer's running job has ended."""
        session, customer = self.session(), self.selection.customer
        if session is None or customer is None:
            return
        ctx, po = session.ctx, self.panel.po.text().strip() or None

        def work(job: Job) -> detection.Preview:
            found = detection.preview(ctx, customer, po_number=po)
            c = found.counts
            log.info(
                "preview %s: %d new, %d changed, %d deleted", customer, c.new, c.changed, c.deleted
            )
            return found

        self.jobs.run(f"Preview of {customer}", customer, work, self._show, when_busy=when_busy)

    def _show(self, found: detection.Preview) -> None:
        if found.customer != self.selection.customer:
            return  # the operator moved on to another customer meanwhile
        self.selection.set_preview(found)
        c = found.counts
        self.panel.title.setText(
            f"<b>{found.customer}</b> — change set: {c.new} new · {c.changed} changed · "
            f"{c.deleted} deleted" + (f" · {c.invalid} invalid" if c.invalid else "")
        )
        self.panel.model.set_frame(
            frames.changes_frame(found.changes, set(self.selection.excluded))
        )
        self.filter()
        fit_columns(self.panel.view, maximum=180)
        self.panel.view.setColumnWidth(0, 28)
        self.panel.sizes.set_frame(
            frames.sizes_frame(found.changes[0]) if found.changes else frames.no_sizes()
        )
        self.tabs.setCurrentWidget(self.panel)
        self.jobs.idle(f"{found.customer}: {len(found.changes)} rows to sync")
        self.preview_shown.emit(found.customer)

    def filter(self) -> None:
        model = self.panel.model
        kind = self.panel.type_filter.currentText()
        if kind in TYPES:
            model.set_mask((model.frame["change"] == kind).to_numpy())
        else:
            model.set_mask(None)

    def _checks_changed(self) -> None:
        frame = self.panel.model.frame
        self.selection.set_excluded(frame.loc[~frame["include"].astype(bool), "record_uuid"])

    def _change_selected(self, current: Any, _previous: Any) -> None:
        preview = self.selection.preview
        if not current.isValid() or preview is None:
            return
        uid = self.panel.model.record(current.row())["record_uuid"]
        change = next((c for c in preview.changes if c.record_uuid == uid), None)
        if change is not None:
            order = change.value("AAG ORDER NUMBER") or ""
            self.panel.sizes_title.setText(f"Sizes of {order} (subitems)")
            self.panel.sizes.set_frame(frames.sizes_frame(change))
