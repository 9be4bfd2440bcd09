"""Export a table exactly as shown (its rows after filter and sort, its visible columns)
to CSV or .xlsx: from File → Export (the table in use) and from each table's context menu."""

from __future__ import annotations

import logging
from pathlib import Path

from PySide6.QtCore import QPoint, QSettings, Qt
from PySide6.QtWidgets import QFileDialog, QMenu, QTableView, QWidget

from ..services.export import ExportError, write_table
from .job_status import JobStatus
from .models import FrameModel
from .workers import Job

log = logging.getLogger("orders_sync_gui.gui")
FILTERS = "CSV (*.csv);;Excel workbook (*.xlsx)"


def shown(view: QTableView) -> tuple[list[str], list[list[object]]]:
    """The view's table as the operator sees it: visible columns in their on-screen order."""
    model = view.model()
    assert isinstance(model, FrameModel)
    header = view.horizontalHeader()
    columns = [
        header.logicalIndex(v)
        for v in range(header.count())
        if not header.isSectionHidden(header.logicalIndex(v))
    ]
    return model.shown_table(columns)


def export_to(view: QTableView, path: Path, jobs: JobStatus, name: str) -> None:
    """Write the view's table to `path` in the background; the status bar says the end."""
    titles, rows = shown(view)  # read on the GUI thread: what is on show right now

    def work(job: Job) -> int:
        return write_table(path, titles, rows, sheet=name)

    def done(count: int) -> None:
        log.info("exported %d rows of %s to %s", count, name, path)
        jobs.idle(f"Exported {count:,} rows of {name} to {path}")

    jobs.run(f"Exporting {name}", "export", work, done)


def ask_and_export(
    parent: QWidget, view: QTableView, jobs: JobStatus, name: str, settings: QSettings
) -> None:
    folder = str(settings.value("export/folder") or Path.home())
    stem = name.lower().replace(" ", "-")
    path, chosen = QFileDialog.getSaveFileName(
        parent, f"Export {name}", str(Path(folder) / f"{stem}.csv"), FILTERS
    )
    if not path:
        return
    target = Path(path)
    if target.suffix.lower() not in (".csv", ".xlsx"):
        target = target.with_suffix(".xlsx" if "xlsx" in chosen else ".csv")
    settings.setValue("export/folder", str(target.parent))
    try:
        export_to(view, target, jobs, name)
    except ExportError as exc:
        jobs.idle(str(exc))


def add_context_menu(
    view: QTableView, name: str, parent: QWidget, jobs: JobStatus, settings: QSettings
) -> None:
    """Right-click on the table: Export… (the rows and columns shown)."""
    view.setContextMenuPolicy(Qt.ContextMenuPolicy.CustomContextMenu)

    def menu(at: QPoint) -> None:
        popup = QMenu(view)
        popup.addAction(
            f"Export {name}…", lambda: ask_and_export(parent, view, jobs, name, settings)
        )
        popup.exec(view.viewport().mapToGlobal(at))

    view.customContextMenuRequested.connect(menu)
