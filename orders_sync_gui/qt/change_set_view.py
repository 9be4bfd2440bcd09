"""The Change set tab: the selected customer's preview, the rows left out of it, the sizes
of the selected order, and the choices a staging takes from it (types, PO, how many)."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from PySide6.QtCore import QObject, QTimer, Signal
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
TYPED_MS = 400  # the PO is read again this long after the last key


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
        # The pilot fields apply as they are typed (debounced) and at once on Enter: the
        # PO reads the preview again, the limit and the type filter what is shown.
        self.typed = QTimer(self)
        self.typed.setSingleShot(True)
        self.typed.setInterval(TYPED_MS)
        self.typed.timeout.connect(self._po_changed)
        panel.po.textEdited.connect(lambda _text: self.typed.start())
        panel.po.returnPressed.connect(self._po_changed)
        panel.limit.valueChanged.connect(lambda _value: self.filter())
        panel.limit.lineEdit().returnPressed.connect(self.filter)
        panel.type_filter.currentIndexChanged.connect(lambda _index: self.filter())
        panel.view.selectionModel().currentRowChanged.connect(self._change_selected)
        panel.model.checks_changed.connect(self._checks_changed)
        selection.customer_changed.connect(lambda _name: self.load_preview())
        self.shown_po: str | None = None  # the PO the preview on show was read for

    def choice(self) -> StageChoice:
        kind = self.panel.type_filter.currentText()
        return StageChoice(
            [ChangeType(kind)] if kind in TYPES else list(STAGEABLE),
            self.shown_po,  # the PO of the rows on show, not one still being typed
            self.panel.limit.value() or None,
        )

    def _po_changed(self) -> None:
        self.typed.stop()
        po = self.panel.po.text().strip() or None
        if po != self.shown_po or self.selection.current_preview() is None:
            self.load_preview(when_busy="again")

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

        self.jobs.run(
            f"Preview of {customer}",
            customer,
            work,
            lambda found: self._show(found, po),
            when_busy=when_busy,
        )

    def _show(self, found: detection.Preview, po: str | None) -> None:
        if found.customer != self.selection.customer:
            return  # the operator moved on to another customer meanwhile
        self.shown_po = po
        self.selection.set_preview(found)
        self.panel.model.set_frame(
            frames.changes_frame(found.changes, set(self.selection.excluded))
        )
        self.filter()
        fit_columns(self.panel.view, maximum=180)
        self.panel.view.setColumnWidth(0, 28)
        self.tabs.setCurrentWidget(self.panel)
        self.preview_shown.emit(found.customer)

    def filter(self) -> None:
        """What is shown: the type chosen, and with a limit the first N ticked rows in the
        order a stage takes them (unticked rows stay, to be ticked again)."""
        model = self.panel.model
        frame = model.frame
        kind = self.panel.type_filter.currentText()
        mask = np.ones(len(frame), dtype=bool)
        if kind in TYPES:
            mask &= (frame["change"] == kind).to_numpy()
        limit = self.panel.limit.value()
        if limit and len(frame):
            ticked = frame["include"].astype(bool).to_numpy() & mask
            rank = np.full(len(frame), len(frame))
            rows = np.flatnonzero(ticked)
            rows = rows[np.argsort(frame["seq"].to_numpy()[rows], kind="stable")]
            rank[rows] = np.arange(len(rows))
            mask &= ~ticked | (rank < limit)
        model.set_mask(None if mask.all() else mask)
        self.retitle()
        if model.rowCount():  # the sizes below are the current row's, named as such
            self.panel.view.setCurrentIndex(model.index(0, 1))
        else:
            self.panel.sizes_title.setText("Sizes of the selected order (subitems)")
            self.panel.sizes.set_frame(frames.no_sizes())

    def retitle(self) -> None:
        """The header and the status bar count what is shown, and of it what is ticked."""
        found = self.selection.current_preview()
        if found is None:
            return
        shown = self.panel.model.visible_frame()
        kinds = shown["change"].value_counts().to_dict() if len(shown) else {}
        ticked = int(shown["include"].astype(bool).sum()) if len(shown) else 0
        po = f" (PO {self.shown_po})" if self.shown_po else ""
        invalid = found.counts.invalid
        self.panel.title.setText(
            f"<b>{found.customer}</b>{po} — change set: {kinds.get('NEW', 0)} new · "
            f"{kinds.get('CHANGED', 0)} changed · {kinds.get('DELETED', 0)} deleted"
            + (f" · {invalid} invalid" if invalid else "")
        )
        self.jobs.idle(f"{found.customer}{po}: {ticked} rows to sync")

    def _checks_changed(self) -> None:
        frame = self.panel.model.frame
        self.selection.set_excluded(frame.loc[~frame["include"].astype(bool), "record_uuid"])
        if self.panel.limit.value():
            self.filter()  # a row unticked: the next one comes into the first N
        else:
            self.retitle()

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
