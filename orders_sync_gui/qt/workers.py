"""Background jobs: a QRunnable per job, signals on a separate QObject, cooperative cancel.

The GUI thread never waits on the database or the network: every service call runs here,
and results come back through queued signals.
"""

from __future__ import annotations

import logging
import threading
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

from PySide6.QtCore import QObject, QRunnable, QThreadPool, Signal

log = logging.getLogger(__name__)

# What start() does with a job whose key is busy: "refuse" it (said in the log), or run it
# "again" once the running job with that key has ended (the last such request wins).
WhenBusy = Literal["refuse", "again"]


class CancelToken:
    def __init__(self) -> None:
        self._event = threading.Event()

    def cancel(self) -> None:
        self._event.set()

    @property
    def event(self) -> threading.Event:
        """What a service's waits wake on (MondayClient.cancel)."""
        return self._event

    @property
    def cancelled(self) -> bool:
        return self._event.is_set()


@dataclass(frozen=True, slots=True)
class Report:
    """One progress report of a job: how far it is, a line for the status bar, and what the
    work wants shown meanwhile (a push: the statuses its last step recorded)."""

    done: int
    total: int
    text: str = ""
    payload: Any = None
    eta: float | None = None  # seconds left, when the work can tell


class JobSignals(QObject):
    progress = Signal(object)  # a Report
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
        self.slots: tuple[Callable[..., Any] | None, ...] = ()  # kept alive with the job
        self.setAutoDelete(False)  # the runner keeps it until `finished`

    @property
    def cancelled(self) -> bool:
        return self.token.cancelled

    def report(
        self,
        done: int,
        total: int,
        text: str = "",
        payload: Any = None,
        eta: float | None = None,
    ) -> None:
        self.signals.progress.emit(Report(done, total, text, payload, eta))

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


@dataclass(slots=True)
class Request:
    """A job asked for, with what is called on the GUI thread when it starts, reports,
    succeeds or fails."""

    name: str
    key: str
    fn: Callable[[Job], Any]
    on_success: Callable[[Any], None] | None = None
    on_failure: Callable[[str], None] | None = None
    on_progress: Callable[[Report], None] | None = None
    on_start: Callable[[Job], None] | None = None


class JobRunner(QObject):
    """Starts jobs, at most one per key (a customer, 'refresh', 'rows' ...), and tracks them.

    A request for a busy key is refused, or with when_busy="again" kept until the running
    job of that key ends and run then; a later request for the key replaces it (the last
    word counts), so work asked for while its key was busy is done once, afterwards.
    """

    changed = Signal()

    def __init__(self, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.pool = QThreadPool(self)
        self.pool.setMaxThreadCount(3)
        self.jobs: dict[str, Job] = {}
        self.waiting: dict[str, Request] = {}

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
        on_progress: Callable[[Report], None] | None = None,
        on_start: Callable[[Job], None] | None = None,
        when_busy: WhenBusy = "refuse",
    ) -> Job | None:
        """The job, started; None when its key is busy (refused, or kept to run again)."""
        request = Request(name, key, fn, on_success, on_failure, on_progress, on_start)
        if key not in self.jobs:
            return self._launch(request)
        if when_busy == "again":
            log.debug("%s: runs once the running job for %s has ended", name, key)
            self.waiting[key] = request
        else:
            log.warning(
                "%s: not started, a job for %s is still running (wait for it, or cancel it)",
                name,
                key,
            )
        return None

    def _launch(self, request: Request) -> Job:
        job = Job(request.name, request.key, request.fn)
        job.slots = (request.on_success, request.on_failure, request.on_progress)
        if request.on_success:
            job.signals.succeeded.connect(request.on_success)
        if request.on_failure:
            job.signals.failed.connect(request.on_failure)
        if request.on_progress:
            job.signals.progress.connect(request.on_progress)
        key = request.key
        job.signals.finished.connect(lambda: self._done(key))
        self.jobs[key] = job
        if request.on_start:
            request.on_start(job)
        self.changed.emit()
        self.pool.start(job)
        return job

    def _done(self, key: str) -> None:
        self.jobs.pop(key, None)
        again = self.waiting.pop(key, None)
        if again is not None:
            self._launch(again)  # emits `changed` itself, with the key busy again
        else:
            self.changed.emit()

    def running(self) -> bool:
        """A job's thread is still at work (its `finished` may not be delivered yet)."""
        return self.pool.activeThreadCount() > 0

    def cancel_all(self) -> None:
        """Ask the running jobs to stop after their current step (work kept to run again
        afterwards still runs: a recount, a batch's rows)."""
        for job in list(self.jobs.values()):
            job.token.cancel()

    def stop(self) -> None:
        """Closing: nothing more is started, and the running jobs are asked to stop."""
        self.waiting.clear()
        self.cancel_all()

    def wait(self, msecs: int = 30_000) -> bool:
        return self.pool.waitForDone(msecs)
