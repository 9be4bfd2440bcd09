"""The status bar's side of the jobs: what runs, its progress and ETA, Cancel, the mode;
and a failed job's message, in the status bar, the log and a box."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import QLabel, QMessageBox, QProgressBar, QPushButton, QStatusBar, QWidget

from .workers import Job, JobRunner, Report, WhenBusy

log = logging.getLogger("orders_sync_gui.gui")


class JobStatus:
    def __init__(self, runner: JobRunner, parent: QWidget, *, demo: bool) -> None:
        self.runner = runner
        self.parent = parent
        self.started_at = 0.0
        self.label = QLabel("Starting…")
        self.progress = QProgressBar()
        self.progress.setMinimumWidth(260)
        self.progress.setMaximumWidth(360)
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.cancel = QPushButton("Cancel")
        self.cancel.setEnabled(False)
        self.cancel.clicked.connect(self.cancel_jobs)
        self.mode = QLabel("DEMO" if demo else "")
        self.mode.setStyleSheet(
            "padding: 0 6px; font-weight: bold;" + (" color: #8a4b00;" if demo else "")
        )

    def install(self, status: QStatusBar) -> None:
        status.addWidget(self.label, 1)
        status.addPermanentWidget(self.progress)
        status.addPermanentWidget(self.cancel)
        status.addPermanentWidget(self.mode)

    def run(
        self,
        name: str,
        key: str,
        fn: Callable[[Job], Any],
        on_success: Callable[[Any], None],
        *,
        on_progress: Callable[[Report], None] | None = None,
        on_failure: Callable[[str], None] | None = None,
        when_busy: WhenBusy = "refuse",
    ) -> Job | None:
        """A job the status bar shows (with a progress bar when it reports progress); its
        failure is said in a box too, except while opening (the status bar says it)."""

        def failed(message: str) -> None:
            log.error("%s failed: %s", name, message)
            self.label.setText(f"{name} failed: {message}")
            if on_failure is not None:
                on_failure(message)  # before the box, which waits for the operator
            if key != "open":
                QMessageBox.warning(self.parent, f"{name} failed", message)

        def progressed(report: Report) -> None:
            self.show_progress(report)
            if on_progress is not None:
                on_progress(report)

        def started(job: Job) -> None:
            self.started_at = time.monotonic()
            self.label.setText(f"{name}…")
            if on_progress is not None:
                self.progress.setRange(0, 0)
                self.progress.show()

        return self.runner.start(
            name,
            key,
            fn,
            on_success=on_success,
            on_failure=failed,
            on_progress=progressed,
            on_start=started,
            when_busy=when_busy,
        )

    def show_progress(self, report: Report) -> None:
        done, total = report.done, report.total
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(done)
        elapsed = time.monotonic() - self.started_at
        eta = ""
        if 0 < done < total and elapsed > 0.5:
            left = int(elapsed / done * (total - done))
            eta = f" · ETA {left // 60}:{left % 60:02d}"
        self.progress.setFormat(f"{done} / {total}{eta}")
        self.label.setText(report.text)

    def complete(self) -> None:
        """The progress bar full: the job did all it had to."""
        self.progress.setRange(0, 1)
        self.progress.setValue(1)

    def idle(self, text: str) -> None:
        if not self.runner.busy():
            self.progress.hide()
        self.label.setText(text)

    def update(self) -> None:
        busy = self.runner.busy()
        self.cancel.setEnabled(busy)
        if not busy:
            self.progress.hide()

    def cancel_jobs(self) -> None:
        log.warning("cancel requested: the running job stops after its current request")
        self.runner.cancel_all()
