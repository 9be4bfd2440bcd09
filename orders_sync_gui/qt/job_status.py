"""The status bar's side of the jobs: what runs, its progress and ETA, Cancel, the mode;
and a failed job's message, in the status bar, the log and a box.

The text says what runs while it runs and ends with it: each shown job's line is dropped
when the job ends, and the status bar falls back to what the last finished work said
(`idle`), never to a job that is over.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from PySide6.QtWidgets import (
    QLabel,
    QMessageBox,
    QProgressBar,
    QPushButton,
    QSizePolicy,
    QStatusBar,
    QWidget,
)

from .workers import Job, JobRunner, Report, WhenBusy

log = logging.getLogger("orders_sync_gui.gui")

CANCEL_TEXT = "Cancel"
STOPPING_TEXT = "Stopping…"


def clock(seconds: float) -> str:
    """0:42, 8:05, 1:02:03."""
    s = max(0, round(seconds))
    if s >= 3600:
        return f"{s // 3600}:{s % 3600 // 60:02d}:{s % 60:02d}"
    return f"{s // 60}:{s % 60:02d}"


class JobStatus:
    def __init__(self, runner: JobRunner, parent: QWidget, *, demo: bool) -> None:
        self.runner = runner
        self.parent = parent
        self.texts: dict[str, str] = {}  # the shown jobs running, by key: their line
        self.progress_keys: set[str] = set()  # of those, the ones with a progress bar
        self.resting = "Ready"
        self.stopping = False
        self.closing = False  # the window closes once the jobs have stopped: said first
        self.label = QLabel("Starting…")
        # Ignored: a long status never widens the window (the tooltip has it whole).
        self.label.setSizePolicy(QSizePolicy.Policy.Ignored, QSizePolicy.Policy.Preferred)
        self.progress = QProgressBar()
        self.progress.setMinimumWidth(200)
        self.progress.setMaximumWidth(340)
        self.progress.setTextVisible(True)
        self.progress.hide()
        self.cancel = QPushButton(CANCEL_TEXT)
        self.cancel.setEnabled(False)
        self.cancel.setToolTip("Stop the running job after the request under way is answered")
        self.cancel.clicked.connect(self.cancel_jobs)
        self.mode = QLabel("DEMO" if demo else "")
        self.mode.setObjectName("mode")
        self.mode.setStyleSheet("padding: 0 6px; font-weight: bold;")

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

        def succeeded(result: Any) -> None:
            try:
                on_success(result)
            finally:
                self._ended(key)

        def failed(message: str) -> None:
            log.error("%s failed: %s", name, message)
            self.resting = f"{name} failed: {message}"
            self._ended(key)
            if on_failure is not None:
                on_failure(message)  # before the box, which waits for the operator
            if key != "open":
                QMessageBox.warning(self.parent, f"{name} failed", message)

        def progressed(report: Report) -> None:
            if key not in self.texts:
                return  # a late report of a job that has ended
            self.show_progress(report)
            self.say(key, report.text)
            if on_progress is not None:
                on_progress(report)

        def started(job: Job) -> None:
            self.texts[key] = f"{name}…"
            if on_progress is not None:
                self.progress_keys.add(key)
                self.progress.setRange(0, 0)
                self.progress.setFormat("")
                self.progress.show()
            self._render()

        return self.runner.start(
            name,
            key,
            fn,
            on_success=succeeded,
            on_failure=failed,
            on_progress=progressed,
            on_start=started,
            when_busy=when_busy,
        )

    def say(self, key: str, text: str) -> None:
        """The running job's line (a push's, as its reports come)."""
        if key in self.texts and text:
            self.texts[key] = f"Stopping: {text}" if self.stopping else text
            self._render()

    def _ended(self, key: str) -> None:
        self.texts.pop(key, None)
        self.progress_keys.discard(key)
        if not self.progress_keys:
            self.progress.hide()
        self._render()

    def _render(self) -> None:
        text = next(reversed(self.texts.values()), self.resting)
        if self.closing:
            text = "Closing once the running job has stopped — " + text
        self.label.setText(text)
        self.label.setToolTip(self.label.text())

    def show_progress(self, report: Report) -> None:
        done, total = report.done, report.total
        self.progress.setRange(0, max(total, 1))
        self.progress.setValue(min(done, max(total, 1)))
        eta = f" · ETA {clock(report.eta)}" if report.eta is not None and done < total else ""
        self.progress.setFormat(f"{done:,} / {total:,}{eta}")

    def complete(self) -> None:
        """The progress bar full: the job did all it had to."""
        self.progress.setRange(0, 1)
        self.progress.setValue(1)

    def idle(self, text: str) -> None:
        """What the finished work says: the status bar's text once no shown job runs."""
        self.resting = text
        self._render()

    def update(self) -> None:
        busy = self.runner.busy()
        if not busy and self.stopping:
            self.stopping = False
            self.cancel.setText(CANCEL_TEXT)
        self.cancel.setEnabled(busy and not self.stopping)
        if not self.progress_keys:
            self.progress.hide()

    def cancel_jobs(self) -> None:
        """Cancel: said at once (the button shows Stopping… and is disabled until the jobs
        end); every wait of a running push or undo wakes on it."""
        if not self.runner.busy():
            return
        log.warning("cancel requested: the running job stops after the request under way")
        self.stopping = True
        self.runner.changed.emit()  # the window's Cancel entries follow (disabled)
        self.cancel.setText(STOPPING_TEXT)
        self.cancel.setEnabled(False)
        for key, text in list(self.texts.items()):
            self.texts[key] = text if text.startswith("Stopping") else f"Stopping: {text}"
        self._render()
        self.runner.cancel_all()
