"""`orders-sync run`: an unattended sync of one or more customers, one after the other.

Per customer, in this order: an open batch of someone else's is left alone (SKIPPED, named);
its own open batch (staged, interrupted or PARTIAL) is finished first (push resumes it and
retries its failed rows); otherwise its change set is counted, held to the safeguards
(REFUSED: nothing staged or sent), staged and pushed. A dry run stops at the estimate.
Everything goes through the services the window and the other commands use (detection,
staging, estimate, push): there is no second push path. What happens is logged under this
module's logger, so a log file kept by the face holds it all.

Several `run` processes (Kestra workers) share one monday account: each client paces itself
from what monday reports (the complexity budget left and when it resets, `retry_in_seconds`
on a refusal); see monday/client.py's Pacer and bench/bench_workers.py.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from ..core.models import STAGEABLE, BatchStatus, ChangeType, CustomerCounts
from ..monday.client import MondayError
from ..settings import load_settings
from ..store.staging import BatchConflictError, BatchInfo, get_batch, open_batches
from . import detection, staging
from .context import Context
from .estimate import Estimate, estimate, estimate_changes
from .monday_setup import Limits, MondaySetup, MondaySetupError, monday_setup
from .push import BatchBusyError, Progress, PushReport, PushStopped, push

log = logging.getLogger(__name__)


class Outcome(StrEnum):
    PUSHED = "PUSHED"
    PARTIAL = "PARTIAL"
    FAILED = "FAILED"
    SKIPPED = "SKIPPED"  # an open batch of someone else's, or one another run is pushing
    REFUSED = "REFUSED"  # over a safeguard: nothing staged or sent
    UNCHANGED = "UNCHANGED"
    ESTIMATED = "ESTIMATED"  # a dry run: counted and estimated, nothing staged or sent


# A run whose customers all ended so exits 0; any other outcome makes it exit 1.
OK_OUTCOMES = frozenset({Outcome.PUSHED, Outcome.UNCHANGED, Outcome.SKIPPED, Outcome.ESTIMATED})
# The outcomes someone should hear of (--notify).
ALERT_OUTCOMES = frozenset({Outcome.PARTIAL, Outcome.FAILED, Outcome.REFUSED})


@dataclass(frozen=True, slots=True)
class Safeguards:
    """Limits on one customer's change set, against a bad load wiping or rewriting a board.

    The percentage is of the orders already on the board (synced: unchanged, changed and
    deleted): a customer never pushed has nothing to wipe and is held to the counts only.
    """

    max_changes: int | None = None
    max_change_pct: float | None = None
    max_deletes: int | None = None

    def breach(self, counts: CustomerCounts) -> str | None:
        changes = counts.new + counts.changed + counts.deleted
        synced = counts.unchanged + counts.changed + counts.deleted
        if self.max_changes is not None and changes > self.max_changes:
            return f"{changes} changes exceed --max-changes {self.max_changes}"
        if self.max_deletes is not None and counts.deleted > self.max_deletes:
            return f"{counts.deleted} deletes exceed --max-deletes {self.max_deletes}"
        if self.max_change_pct is not None and synced:
            pct = 100.0 * changes / synced
            if pct > self.max_change_pct:
                return (
                    f"{changes} changes are {pct:.1f}% of the {synced} orders on the board, "
                    f"over --max-change-pct {self.max_change_pct:g}"
                )
        return None


@dataclass(slots=True)
class RunOptions:
    types: tuple[ChangeType, ...] = STAGEABLE
    safeguards: Safeguards = field(default_factory=Safeguards)
    dry_run: bool = False
    limits: Limits | None = None  # for the dry run's estimate; None: settings.json's


@dataclass(slots=True)
class CustomerResult:
    customer: str
    status: Outcome
    batch_id: int | None = None
    new: int = 0
    changed: int = 0
    deleted: int = 0
    succeeded: int = 0
    failed: int = 0
    reason: str = ""
    requests: int = 0
    mutations: int = 0
    estimate: Estimate | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "customer": self.customer,
            "status": self.status.value,
            "batch_id": self.batch_id,
            "new": self.new,
            "changed": self.changed,
            "deleted": self.deleted,
            "succeeded": self.succeeded,
            "failed": self.failed,
            "reason": self.reason,
        }
        if self.estimate is not None:
            out["estimate"] = self.estimate.to_dict()
        return out


@dataclass(slots=True)
class RunReport:
    customers: list[CustomerResult]
    seconds: float = 0.0
    dry_run: bool = False

    @property
    def requests(self) -> int:
        return sum(c.requests for c in self.customers)

    @property
    def mutations(self) -> int:
        return sum(c.mutations for c in self.customers)

    @property
    def ok(self) -> bool:
        return all(c.status in OK_OUTCOMES for c in self.customers)

    @property
    def alerts(self) -> list[CustomerResult]:
        return [c for c in self.customers if c.status in ALERT_OUTCOMES]

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "customers": [c.to_dict() for c in self.customers],
            "requests": self.requests,
            "mutations": self.mutations,
            "seconds": round(self.seconds, 2),
            "ok": self.ok,
        }
        if self.dry_run:
            out["dry_run"] = True
        return out


@dataclass(frozen=True, slots=True)
class RunProgress:
    """One answered request of a customer's push."""

    customer: str
    batch: int
    phase: str
    done: int
    total: int
    requests: int
    eta: float | None  # seconds left at the pace so far; None before the first answer

    def to_dict(self) -> dict[str, Any]:
        return {
            "customer": self.customer,
            "batch": self.batch,
            "phase": self.phase,
            "done": self.done,
            "total": self.total,
            "requests": self.requests,
            "eta": None if self.eta is None else round(self.eta, 1),
        }

    def line(self) -> str:
        eta = "" if self.eta is None else f", about {self.eta:.0f} s left"
        return (
            f"{self.customer}: batch {self.batch} {self.phase} {self.done}/{self.total}"
            f" ({self.requests} requests{eta})"
        )


class Runner:
    """One `run`: customers one after the other, each with its own outcome."""

    def __init__(
        self,
        ctx: Context,
        options: RunOptions,
        progress: Callable[[RunProgress], None] | None = None,
        setup: Callable[[], MondaySetup] | None = None,
    ) -> None:
        self.ctx = ctx
        self.options = options
        self.progress = progress
        self._make_setup = setup or (lambda: monday_setup(ctx))
        self._setup: MondaySetup | None = None
        self._counts: dict[str, CustomerCounts] = {}

    def run(self, customers: Sequence[str]) -> RunReport:
        started = time.monotonic()
        report = RunReport([], dry_run=self.options.dry_run)
        for name in customers:
            try:
                result = self.one(name)
            except Exception as exc:  # one customer's trouble is its own: the others go on
                log.debug("customer %s failed", name, exc_info=True)
                result = CustomerResult(name, Outcome.FAILED, reason=_one_line(exc))
            _log_result(result)
            report.customers.append(result)
        report.seconds = time.monotonic() - started
        log.info(
            "run ended %s in %.1f s: %s",
            "ok" if report.ok else "with trouble",
            report.seconds,
            ", ".join(f"{c.customer} {c.status}" for c in report.customers) or "no customers",
        )
        return report

    # --- one customer -------------------------------------------------------------------

    def one(self, name: str) -> CustomerResult:
        customer = self.ctx.customers.canonical(name) or name
        log.info("%s: starting", customer)
        with self.ctx.store.engine.connect() as conn:
            lock = open_batches(conn).get(customer)
            batch = get_batch(conn, lock) if lock is not None else None
        if batch is not None:
            if batch.operator != self.ctx.operator:
                return _counted(
                    CustomerResult(customer, Outcome.SKIPPED, batch.batch_id),
                    batch,
                    reason=(
                        f"open batch {batch.batch_id} ({batch.status}) belongs to "
                        f"{batch.operator}, staged {batch.created_at:%Y-%m-%d %H:%M}: left "
                        "for them to push or roll back"
                    ),
                )
            return self.finish_own(batch)
        return self.fresh(customer)

    def run_all(self) -> RunReport:
        """Every customer of the source or the sync state (`--all`), counted at once."""
        found, _ = detection.detect_counts(self.ctx)
        self._counts = {c.customer: c for c in found}
        return self.run([c for c in self._counts if c != detection.NO_CUSTOMER])

    def fresh(self, customer: str) -> CustomerResult:
        """Detect, hold to the safeguards, stage and push a customer with no open batch."""
        if customer in self._counts and not self.changes_in(self._counts[customer]):
            return self.unchanged(customer, self._counts[customer])  # --all counted it
        # One preview (the full change set, read and hashed once) serves the safeguards,
        # the dry run's estimate and the stage.
        found = detection.preview(self.ctx, customer)
        chosen = self.chosen(found.counts)
        result = CustomerResult(customer, Outcome.UNCHANGED, new=chosen.new, changed=chosen.changed)
        result.deleted = chosen.deleted
        if not self.changes_in(found.counts):
            return self.unchanged(customer, found.counts)
        breach = self.options.safeguards.breach(chosen)
        if breach:
            result.status, result.reason = Outcome.REFUSED, f"{breach}: nothing staged"
            return result
        if self.options.dry_run:
            changes = [c for c in found.changes if c.change_type in self.options.types]
            result.estimate = estimate_changes(customer, changes, self.limits())
            result.status, result.reason = Outcome.ESTIMATED, "dry run: nothing staged"
            return result
        try:
            self.setup()  # monday.com's settings and token before staging: none, nothing staged
        except Exception as exc:
            result.status, result.reason = Outcome.FAILED, _one_line(exc)
            return result
        try:
            batch = staging.stage(self.ctx, customer, types=self.options.types, found=found)
        except BatchConflictError as exc:  # another run staged it a moment ago
            result.status, result.reason = Outcome.SKIPPED, str(exc)
            return result
        except staging.NothingToStageError as exc:
            result.reason = str(exc)
            return result
        return self.push_batch(batch)

    def chosen(self, counts: CustomerCounts) -> CustomerCounts:
        """The counts of the change types this run stages (--types)."""
        out = CustomerCounts(counts.customer, unchanged=counts.unchanged)
        for kind in self.options.types:
            setattr(out, kind.value.lower(), getattr(counts, kind.value.lower()))
        return out

    def changes_in(self, counts: CustomerCounts) -> int:
        chosen = self.chosen(counts)
        return chosen.new + chosen.changed + chosen.deleted

    def unchanged(self, customer: str, counts: CustomerCounts) -> CustomerResult:
        result = CustomerResult(customer, Outcome.UNCHANGED)
        if counts.invalid:
            result.reason = f"{counts.invalid} row(s) cannot be synced (see preview)"
        return result

    def finish_own(self, batch: BatchInfo) -> CustomerResult:
        """The customer's own open batch: resumed (and its failed rows retried) first."""
        log.info(
            "%s: finishing its open batch %d (%s) first",
            batch.customer,
            batch.batch_id,
            batch.status,
        )
        if self.options.dry_run:
            result = _counted(
                CustomerResult(batch.customer, Outcome.ESTIMATED, batch.batch_id),
                batch,
                reason=f"dry run: open batch {batch.batch_id} ({batch.status}) would be resumed",
            )
            result.estimate = estimate(self.ctx, batch.batch_id, self.limits())
            return result
        return self.push_batch(batch)

    def push_batch(self, batch: BatchInfo) -> CustomerResult:
        result = _counted(CustomerResult(batch.customer, Outcome.FAILED, batch.batch_id), batch)
        try:
            report = push(self.ctx, batch.batch_id, self.setup(), progress=self.reporter(batch))
        except PushStopped as stopped:
            report = stopped.report
        except BatchBusyError as exc:  # another run (a worker, a window) is pushing it now
            result.status, result.reason = Outcome.SKIPPED, str(exc)
            return result
        except (MondayError, MondaySetupError) as exc:
            result.reason = str(exc)
            return result
        return _pushed(result, report)

    # --- helpers ------------------------------------------------------------------------

    def setup(self) -> MondaySetup:
        # One setup for the whole run: the customers' pushes share its budget reading
        # (Pacer) and the board's layout.
        if self._setup is None:
            self._setup = self._make_setup()
        return self._setup

    def limits(self) -> Limits:
        if self.options.limits is not None:
            return self.options.limits
        if self._setup is not None:
            return self._setup.limits
        # A dry run needs no monday setup (no token): the limits as settings.json has them.
        section = load_settings().get("monday") or {}
        return Limits.from_json(section.get("limits") or {})

    def reporter(self, batch: BatchInfo) -> Callable[[Progress], None]:
        started = time.monotonic()

        def on_progress(p: Progress) -> None:
            elapsed = time.monotonic() - started
            eta = elapsed / p.done * max(0, p.total - p.done) if p.done else None
            one = RunProgress(
                batch.customer, batch.batch_id, p.phase, p.done, p.total, p.requests, eta
            )
            log.info("%s", one.line())
            if self.progress is not None:
                self.progress(one)

        return on_progress


def _counted(result: CustomerResult, batch: BatchInfo, *, reason: str = "") -> CustomerResult:
    result.new, result.changed, result.deleted = (
        batch.new_count,
        batch.changed_count,
        batch.deleted_count,
    )
    result.succeeded, result.failed = batch.succeeded_count, batch.failed_count
    result.reason = reason or result.reason
    return result


def _pushed(result: CustomerResult, report: PushReport) -> CustomerResult:
    result.succeeded, result.failed = report.succeeded, report.failed
    result.requests, result.mutations = report.requests, report.mutations
    if report.status == BatchStatus.PUSHED:
        result.status = Outcome.PUSHED
    elif report.status == BatchStatus.PARTIAL:
        result.status = Outcome.PARTIAL
    else:  # stopped before anything reached monday.com: still staged, resumed next run
        result.status = Outcome.FAILED
    if result.status is not Outcome.PUSHED:
        result.reason = report.message
    return result


def _log_result(result: CustomerResult) -> None:
    # INFO, also for trouble: the report says it on stdout, and stderr keeps to progress
    # (JSON lines with --json); the run's log file has every line.
    log.info(
        "%s: %s%s (%d new, %d changed, %d deleted; %d pushed, %d failed)%s",
        result.customer,
        result.status.value,
        f" batch {result.batch_id}" if result.batch_id is not None else "",
        result.new,
        result.changed,
        result.deleted,
        result.succeeded,
        result.failed,
        f": {result.reason}" if result.reason else "",
    )


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip() or type(exc).__name__
    return "; ".join(text.splitlines())
