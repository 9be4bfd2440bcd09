"""The Staged rows tab and the Batches tab.

A batch's rows are read from the database when it is opened; while a push or an undo of
it runs, the statuses each of its steps reports are written into them in place (no reads),
so the operator's selection, sort and scroll position stay where they were.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable
from typing import Any

import pandas as pd
from PySide6.QtCore import QObject, QTimer, Signal
from PySide6.QtWidgets import QTabWidget

from ..core.board_state import BoardState
from ..core.staged import StatusChange
from ..services import staging
from ..services.staging import BatchInfo
from . import frames
from .job_status import JobStatus
from .models import text_mask
from .panels import BatchesPanel, StagedPanel, fit_columns
from .selection import Selection
from .session import Session
from .workers import Job

log = logging.getLogger("orders_sync_gui.gui")

# Statuses reported faster than this are written together: a write into a big batch's
# sizes costs the same for one status as for fifty (about 20 ms for 60,000 sizes).
WRITE_EVERY_MS = 200


class StagedView(QObject):
    batch_shown = Signal(int)  # a batch's rows are on show, or their statuses were updated

    def __init__(
        self,
        panel: StagedPanel,
        tabs: QTabWidget,
        selection: Selection,
        jobs: JobStatus,
        session: Callable[[], Session | None],
    ) -> None:
        super().__init__(panel)
        self.panel, self.tabs, self.selection = panel, tabs, selection
        self.jobs, self.session = jobs, session
        self.requested: int | None = None  # the batch last asked for
        self.known: dict[int, BatchInfo] = {}  # the history's batches (note_batch)
        # The latest status of each row and size of the batches a run is going on: written
        # again over their rows when these are (re)loaded meanwhile.
        self.live: dict[int, dict[tuple[str, int], StatusChange]] = {}
        self.unwritten: dict[tuple[str, int], StatusChange] = {}  # of the batch on show
        self.pause = QTimer(self)
        self.pause.setSingleShot(True)
        self.pause.setInterval(WRITE_EVERY_MS)
        self.pause.timeout.connect(self.write_reported)
        panel.sub_filter.textChanged.connect(self.filter_subitems)
        selection.batch_changed.connect(self._batch_changed)

    def _batch_changed(self, batch: BatchInfo | None) -> None:
        if batch is not None:
            self.note_batch(batch)

    def show_batch(self, batch_id: int, *, switch: bool = True) -> None:
        """Load a batch's rows (one load at a time: the batch asked for last is the one
        loaded once the running load is done)."""
        session = self.session()
        if session is None:
            return
        ctx = session.ctx
        self.requested = batch_id

        def work(job: Job) -> tuple[pd.DataFrame, pd.DataFrame]:
            return frames.staged_frames(*staging.batch_rows(ctx, batch_id))

        def shown(result: tuple[pd.DataFrame, pd.DataFrame]) -> None:
            rows, subs = result
            self.panel.rows.set_frame(rows)
            self.panel.subitems.set_frame(subs)
            self.selection.set_shown_batch(batch_id)
            self.unwritten.clear()
            if batch_id in self.live:
                self._write(self.live[batch_id].values())
            self.filter_subitems(self.panel.sub_filter.text())
            fit_columns(self.panel.rows_view)
            fit_columns(self.panel.sub_view)
            self.retitle()
            if switch:
                self.tabs.setCurrentWidget(self.panel)
            self.batch_shown.emit(batch_id)

        self.jobs.runner.start(
            "Loading batch rows", "rows", work, on_success=shown, when_busy="again"
        )

    def discarded(self, batch_id: int) -> None:
        """A batch rolled back before its push: its staged rows are gone, shown at once
        without a read (and before anything else of the rollback's end is shown)."""
        if self.selection.shown_batch != batch_id:
            return
        self.requested = batch_id
        self.panel.rows.set_frame(self.panel.rows.frame.iloc[0:0])
        self.panel.subitems.set_frame(self.panel.subitems.frame.iloc[0:0])
        self.retitle()
        self.batch_shown.emit(batch_id)

    def reveal(self, batch_id: int) -> None:
        """Bring a batch's rows to the front: loaded only if they are not on show yet."""
        if self.requested == batch_id and (
            self.selection.shown_batch == batch_id or self.jobs.runner.busy("rows")
        ):
            self.tabs.setCurrentWidget(self.panel)  # on show, or on its way
        else:
            self.show_batch(batch_id)

    def apply(self, batch_id: int, changes: Iterable[StatusChange]) -> None:
        """Statuses a run of the batch reported: into its rows, if they are on show (at
        once, then at most every WRITE_EVERY_MS)."""
        reported = {(c.kind, c.ident): c for c in changes}
        self.live.setdefault(batch_id, {}).update(reported)
        if self.selection.shown_batch == batch_id and reported:
            self.unwritten.update(reported)
            if not self.pause.isActive():
                self.write_reported()

    def write_reported(self) -> None:
        batch_id = self.selection.shown_batch
        if self.unwritten and batch_id is not None:
            changes, self.unwritten = list(self.unwritten.values()), {}
            self._write(changes)
            self.batch_shown.emit(batch_id)
            self.pause.start()

    def settle(self, batch_id: int) -> None:
        """The run of the batch has ended: what it reported is on show, and is what the
        database holds."""
        self.write_reported()
        self.live.pop(batch_id, None)

    def _write(self, changes: Iterable[StatusChange]) -> None:
        rows, subs = frames.status_frames(changes)
        self.panel.rows.update_rows("stg_id", rows)
        if self.panel.subitems.update_rows("stg_subitem_id", subs) and (
            self.panel.sub_filter.text().strip()
        ):
            self.filter_subitems(self.panel.sub_filter.text())  # it may filter on status
        self.retitle()

    def board_state(self, batch_id: int) -> BoardState | None:
        """What the batch on show has on the board, from the rows the table holds: the
        title, the status bar and the history line all say it from here."""
        if self.selection.shown_batch != batch_id:
            return None
        rows, subs = self.panel.rows.frame, self.panel.subitems.frame
        if not len(rows):
            return None
        statuses = dict(zip(rows["stg_id"], rows["stg_status"].astype(str), strict=True))
        parents = zip(subs["stg_parent_id"], subs["stg_status"].astype(str), strict=True)
        return BoardState.of(statuses, parents)

    def note_batch(self, info: BatchInfo) -> None:
        """The history's reading of a batch (its status, as the database or a run says)."""
        self.known[info.batch_id] = info
        if info.batch_id == self.selection.shown_batch:
            self.retitle()

    def retitle(self) -> None:
        batch_id = self.selection.shown_batch
        if batch_id is None:
            return
        rows, subs = self.panel.rows.frame, self.panel.subitems.frame
        counts = rows["stg_status"].value_counts().to_dict() if len(rows) else {}
        described = ", ".join(f"{n} {str(s).lower()}" for s, n in sorted(counts.items()))
        batch = self.known.get(batch_id)
        head = f"<b>Batch {batch_id}</b>" + (
            f" — {batch.customer}, {batch.status}" if batch else ""
        )
        if not len(rows):
            gone = batch is not None and batch.status == "ROLLED_BACK"
            self.panel.title.setText(
                head + (": rolled back, its staged rows discarded" if gone else ": no rows")
            )
            return
        state = self.board_state(batch_id)
        self.panel.title.setText(
            head
            + f": {len(rows)} rows ({described}), {len(subs)} subitems"
            + (f" — {state.text()}" if state is not None else "")
        )

    def filter_subitems(self, text: str) -> None:
        model = self.panel.subitems
        model.set_mask(
            text_mask(
                model.frame, ["order_number", "size_label", "stg_status", "change_type"], text
            )
        )


class HistoryView(QObject):
    """The batch history, newest first; selecting a batch makes it the current one and
    opens its rows."""

    def __init__(self, panel: BatchesPanel, selection: Selection, staged: StagedView) -> None:
        super().__init__(panel)
        self.panel, self.selection, self.staged = panel, selection, staged
        self.batches: list[BatchInfo] = []
        panel.view.selectionModel().currentRowChanged.connect(self._selected)

    def _selected(self, current: Any, _previous: Any) -> None:
        if not current.isValid():
            return
        batch_id = int(self.panel.model.record(current.row())["batch_id"])
        self.selection.set_batch(self.find(batch_id))
        self.staged.show_batch(batch_id, switch=False)

    def find(self, batch_id: int) -> BatchInfo | None:
        return next((b for b in self.batches if b.batch_id == batch_id), None)

    def show(self, batches: list[BatchInfo]) -> None:
        """A fresh history: written in place when it holds the same batches (the selection
        stays), replaced when a batch was added."""
        self.batches = batches
        for info in batches:
            self.staged.note_batch(info)
        frame = frames.batches_frame(batches)
        model = self.panel.model
        if sorted(model.frame["batch_id"].tolist()) == sorted(frame["batch_id"].tolist()):
            model.update_rows("batch_id", frame)
        else:
            model.set_frame(frame)
            fit_columns(self.panel.view)
        current = self.selection.batch
        if current is not None:
            self.selection.batch_updated(self.find(current.batch_id) or current)

    def update(self, info: BatchInfo) -> None:
        """One batch as it stands now (a run's end, or its start): its line in place."""
        self.batches = [info if b.batch_id == info.batch_id else b for b in self.batches]
        self.staged.note_batch(info)
        self.panel.model.update_rows("batch_id", frames.batches_frame([info]))
        self.selection.batch_updated(info)
