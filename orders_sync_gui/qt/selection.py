"""What the operator works on, as a model the views observe (git-cola's selection model):
the customer, its preview and the rows left out of it, the current batch, and the batch
whose rows the Staged rows tab holds."""

from __future__ import annotations

from collections.abc import Iterable

from PySide6.QtCore import QObject, Signal

from ..services.detection import Preview
from ..services.staging import BatchInfo


class Selection(QObject):
    customer_changed = Signal(str)
    preview_changed = Signal(object)  # Preview
    excluded_changed = Signal()
    batch_changed = Signal(object)  # BatchInfo | None
    shown_batch_changed = Signal(int)

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.customer: str | None = None
        self.preview: Preview | None = None  # the last shown (it may be another customer's)
        self.excluded: frozenset[str] = frozenset()  # record_uuids unchecked in the preview
        self.batch: BatchInfo | None = None
        self.shown_batch: int | None = None  # whose rows the Staged rows tab holds

    def set_customer(self, name: str) -> None:
        """Another customer: its rows left out so far are forgotten."""
        if name == self.customer:
            return
        self.customer = name
        self.excluded = frozenset()
        self.customer_changed.emit(name)

    def set_preview(self, preview: Preview) -> None:
        self.preview = preview
        self.preview_changed.emit(preview)

    def current_preview(self) -> Preview | None:
        """The preview of the selected customer, if it is on show."""
        preview = self.preview
        return preview if preview is not None and preview.customer == self.customer else None

    def set_excluded(self, record_uuids: Iterable[str]) -> None:
        excluded = frozenset(record_uuids)
        if excluded != self.excluded:
            self.excluded = excluded
            self.excluded_changed.emit()

    def set_batch(self, batch: BatchInfo | None) -> None:
        if batch != self.batch:
            self.batch = batch
            self.batch_changed.emit(batch)

    def batch_updated(self, info: BatchInfo) -> None:
        """A newer reading of a batch (a run's end, a recount): taken if it is the current."""
        if self.batch is not None and self.batch.batch_id == info.batch_id:
            self.set_batch(info)

    def set_shown_batch(self, batch_id: int) -> None:
        if batch_id != self.shown_batch:
            self.shown_batch = batch_id
            self.shown_batch_changed.emit(batch_id)
