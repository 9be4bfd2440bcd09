"""Background jobs: a QRunnable per job, signals on a separate QObject, cooperative cancel.

The GUI thread never waits on the database or the network: every service call runs here,
and results come back through queued signals.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from typing import Any

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)


class CancelToken:
    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


class JobSignals(QObject):
    progress = Signal(int, int, str)  # done, total, text
    succeeded = Signal(object)
    failed = Signal(str)
    finished = Signal()


class Job(QRunnable):
    """Runs fn(job) on the pool; fn may call job.report(...) and check job.cancelled."""

    def __init__(self, name: str, key: str, fn: Callable[[Job], Any]) -> None:
        super().__init__()
        self.name = name
        self.key = key
        self.fn = fn
        self.token = CancelToken()
        self.signals = JobSignals()
        self.setAutoDelete(False)  # the runner keeps it until `finished`

    @property
    def cancelled(self) -> bool:
        return self.token.cancelled

    def report(self, done: int, total: int, text: str = "") -> None:
        self.signals.progress.emit(done, total, text)

    def run(self) -> None:
        try:
            result = self.fn(self)
        except Exception as exc:  # reported to the GUI as one message; the log has the rest
            log.debug("job %s failed:\n%s", self.name, traceback.format_exc())
            self.signals.failed.emit(_one_line(exc))
        else:
            self.signals.succeeded.emit(result)
        finally:
            self.signals.finished.emit()


def _one_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None)
    text = str(orig if orig is not None else exc).strip() or type(exc).__name__
    return text.splitlines()[0] if orig is not None else text


class JobRunner(QObject):
    """Starts jobs, at most one per key (a customer, or 'refresh'), and tracks them."""

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(3)
        self.jobs: dict[str, Job] = {}

    def busy(self, key: str | None = None) -> bool:
        return bool(self.jobs) if key is None else key in self.jobs

    def start(
        self,
        name: str,
        key: str,
        fn: Callable[[Job], Any],
        *,
        on_success: Callable[[Any], None] | None = None,
        on_failure: Callable[[str], None] | None = None,
        on_progress: Callable[[int, int, str], None] | None = None,
    ) -> Job | None:
        if key in self.jobs:
            log.warning(
                "%s: not started, a job for %s is still running (wait for it, or cancel it)",
                name,
                key,
            )
            return None
        job = Job(name, key, fn)
        if on_success:
            job.signals.succeeded.connect(on_success)
        if on_failure:
            job.signals.failed.connect(on_failure)
        if on_progress:
            job.signals.progress.connect(on_progress)
        job.signals.finished.connect(lambda: self._done(key))
        self.jobs[key] = job
        self.changed.emit()
        self.pool.start(job)
        return job

    def _done(self, key: str) -> None:
        self.jobs.pop(key, None)
        self.changed.emit()

    def running(self) -> bool:
        """A job's thread is still at work (its `finished` may not be delivered yet)."""
        return self.pool.activeThreadCount() > 0

    def cancel_all(self) -> None:
        for job in list(self.jobs.values()):
            job.token.cancel()

    def wait(self, msecs: int = 30_000) -> bool:
        return self.pool.waitForDone(msecs)
