"""monday's rate limits: complexity budget, requests and mutations per minute, concurrency,
daily calls, IP (https://developer.monday.com/api-reference/docs/rate-limits).

Per-minute windows follow monday's wording, "reset 60 seconds after the first API call was
made": a window opens at the first use and everything it counted resets when it ends. The
day does not slide: the daily call limit resets at midnight UTC (the support article "API
Rate Limits", https://support.monday.com/hc/en-us/articles/26471164460690-API-Rate-Limits),
so the sandbox's days are `daily_window_seconds` long and start on multiples of it since
1970-01-01T00:00Z (86,400: every 00:00 UTC; a compressed day, for benchmarks, alike), read
from `utc_clock` (a hook: tests cross midnight without waiting). Every window length is
configurable so tests and benchmarks can compress a minute to a second.

Order of checks for one request (`admit`): concurrency, IP, minute rate, daily calls; the
mutations-per-minute cap (2,000 a minute, rate-limits page) and the complexity budget are
taken later (`take_mutations`, `charge`), once the document is known to be valid. Requests
refused by the minute or IP limit still count against that limit, as on monday ("all
requests count, even those that fail", support article). Each request counts toward the day
once it is answered (`count_call`): a whole call, or `refused_call_weight` (0.1: the weight
REFERENCE.md read in that support article for a call a rate limit refused; the copy of the
article read here only says failed requests count) when a limit refused it.
"""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .config import SandboxConfig


@dataclass
class Window:
    """A quota that opens at its first use and resets `length` seconds later."""

    limit: int
    length: float
    used: int = 0
    start: float | None = None

    def roll(self, now: float) -> None:
        if self.start is not None and now >= self.start + self.length:
            self.start, self.used = None, 0

    def remaining(self, now: float) -> int:
        self.roll(now)
        return max(0, self.limit - self.used)

    def reset_in(self, now: float) -> float:
        self.roll(now)
        return 0.0 if self.start is None else self.start + self.length - now

    def take(self, amount: int, now: float) -> None:
        self.roll(now)
        if self.start is None:
            self.start = now
        self.used += amount


@dataclass
class CalendarWindow:
    """A quota of calls per day, the days starting on multiples of `length` seconds since the
    Unix epoch (UTC): it resets at midnight UTC, not a day after its first call. Counts may
    be fractional (a refused call's weight)."""

    limit: int
    length: float
    used: float = 0.0
    day: int | None = None

    def roll(self, now: float) -> None:
        day = math.floor(now / self.length)
        if day != self.day:
            self.day, self.used = day, 0.0

    def remaining(self, now: float) -> float:
        self.roll(now)
        return max(0.0, round(self.limit - self.used, 6))  # tenths add up inexactly

    def reset_in(self, now: float) -> float:
        self.roll(now)
        return (math.floor(now / self.length) + 1) * self.length - now

    def take(self, amount: float, now: float) -> None:
        self.roll(now)
        self.used += amount


@dataclass
class Rejection:
    """A refused request: HTTP status, monday's code/message, when to retry."""

    status: int
    code: str
    message: str
    retry_in_seconds: int | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def body(self) -> dict[str, Any]:
        extensions: dict[str, Any] = {"code": self.code, "status_code": self.status}
        if self.retry_in_seconds is not None:
            extensions["retry_in_seconds"] = self.retry_in_seconds
        extensions.update(self.extra)
        return {"errors": [{"message": self.message, "extensions": extensions}]}


@dataclass(frozen=True)
class Receipt:
    """What the `complexity` field reports for one request."""

    before: int
    after: int
    query: int
    reset_in_x_seconds: int

    def to_json(self) -> dict[str, int]:
        return {
            "before": self.before,
            "after": self.after,
            "query": self.query,
            "reset_in_x_seconds": self.reset_in_x_seconds,
        }


def _retry_seconds(seconds: float) -> int:
    # monday reports whole seconds; never 0, so a client that honours it does wait.
    return max(1, math.ceil(seconds))


class Limits:
    def __init__(
        self,
        config: SandboxConfig,
        clock: Callable[[], float] = time.monotonic,
        utc_clock: Callable[[], float] = time.time,
    ):
        self._config = config
        self._clock = clock
        # Seconds since the Unix epoch, UTC: where the day's boundaries are read (a test
        # hook, like `clock` for the minute windows).
        self.utc_clock = utc_clock
        self._lock = threading.Lock()
        self.in_flight = 0
        self.budget_used_total = 0
        self._build_windows()

    def _build_windows(self) -> None:
        c = self._config
        self.complexity = Window(c.complexity_budget, c.window_seconds)
        self.minute = Window(c.requests_per_minute, c.window_seconds)
        self.mutations = (
            Window(c.mutations_per_minute, c.window_seconds)
            if c.mutations_per_minute is not None
            else None
        )
        self.daily = CalendarWindow(c.daily_limit, c.daily_window_seconds)
        self._ip: dict[str, Window] = {}

    def reset(self) -> None:
        with self._lock:
            self._build_windows()
            self.budget_used_total = 0

    # ---------------------------------------------------------------- concurrency
    def acquire(self) -> Rejection | None:
        with self._lock:
            if self.in_flight >= self._config.max_concurrency:
                return Rejection(429, "maxConcurrencyExceeded", "Concurrency limit exceeded", 1)
            self.in_flight += 1
            return None

    def release(self) -> None:
        with self._lock:
            self.in_flight -= 1

    # ---------------------------------------------------------------- per-request limits
    def admit(self, client_ip: str) -> Rejection | None:
        c = self._config
        with self._lock:
            now = self._clock()
            if c.ip_limit is not None:
                window = self._ip.setdefault(client_ip, Window(c.ip_limit, c.ip_window_seconds))
                window.take(1, now)
                if window.used > window.limit:
                    return Rejection(
                        429,
                        "IP_RATE_LIMIT_EXCEEDED",
                        "IP rate limit exceeded",
                        _retry_seconds(window.reset_in(now)),
                    )
            self.minute.take(1, now)
            if self.minute.used > self.minute.limit:
                return Rejection(
                    429,
                    "RATE_LIMIT_EXCEEDED",
                    "Minute limit rate exceeded",
                    _retry_seconds(self.minute.reset_in(now)),
                )
            today = self.utc_clock()
            if self.daily.remaining(today) <= 0:
                return Rejection(
                    429,
                    "DAILY_LIMIT_EXCEEDED",
                    "Daily limit exceeded",
                    _retry_seconds(self.daily.reset_in(today)),
                )
            return None

    def count_call(self, refused: bool) -> None:
        """A request answered: one call toward the day, or a refused call's weight."""
        weight = self._config.refused_call_weight if refused else 1.0
        with self._lock:
            self.daily.take(weight, self.utc_clock())

    def take_mutations(self, count: int) -> Rejection | None:
        """`count` mutations against the per-minute cap, or the whole request refused.

        The rate-limits page gives the cap (2,000 mutations a minute) but not the answer
        past it; the sandbox answers as that page documents for the mutations with caps of
        their own (duplicate_group and others: HTTP 429 and "Call limit exceeded for ...").
        """
        if self.mutations is None or count == 0:
            return None
        with self._lock:
            now = self._clock()
            if self.mutations.remaining(now) < count:
                return Rejection(
                    429,
                    "RATE_LIMIT_EXCEEDED",
                    f"Call limit exceeded for mutations: at most {self.mutations.limit:,} a minute",
                    _retry_seconds(self.mutations.reset_in(now)),
                    extra={"mutations": count, "mutations_left": self.mutations.remaining(now)},
                )
            self.mutations.take(count, now)
            return None

    def charge(self, cost: int) -> Rejection | Receipt:
        """Take `cost` complexity points or refuse the whole request before it runs."""
        c = self._config
        with self._lock:
            now = self._clock()
            if cost > c.max_complexity_per_query:
                return Rejection(
                    200,
                    "maxComplexityExceeded",
                    f"Query has complexity of {cost}, which exceeds max complexity of "
                    f"{c.max_complexity_per_query}",
                    extra={"complexity": cost, "maxComplexity": c.max_complexity_per_query},
                )
            before = self.complexity.remaining(now)
            if cost > before:
                return Rejection(
                    c.complexity_error_status,
                    "COMPLEXITY_BUDGET_EXHAUSTED",
                    "Complexity budget exhausted",
                    _retry_seconds(self.complexity.reset_in(now)),
                    extra={
                        "complexity": cost,
                        "complexity_budget_left": before,
                        "complexity_budget_limit": c.complexity_budget,
                    },
                )
            self.complexity.take(cost, now)
            self.budget_used_total += cost
            return Receipt(
                before=before,
                after=before - cost,
                query=cost,
                reset_in_x_seconds=math.ceil(self.complexity.reset_in(now)),
            )

    # ---------------------------------------------------------------- reporting
    def headers(self) -> dict[str, str]:
        """`RateLimit-Policy` and `RateLimit`, in the IETF structured-field form monday uses."""
        c = self._config
        with self._lock:
            now = self._clock()
            window = max(1, round(c.window_seconds))
            policy = (
                f'"minuteRate";q={c.requests_per_minute};w={window}, '
                f'"concurrency";q={c.max_concurrency};qu="concurrent-requests", '
                f'"complexityMinute";q={c.complexity_budget};w={window};qu="content-bytes"'
            )
            minute_left = self.minute.remaining(now)
            minute = f'"minuteRate";r={minute_left}'
            if minute_left == 0:
                minute += f";t={_retry_seconds(self.minute.reset_in(now))}"
            slots = max(0, c.max_concurrency - self.in_flight)
            budget = f'"complexityMinute";r={self.complexity.remaining(now)}'
            if self.complexity.start is not None:
                budget += f";t={math.ceil(self.complexity.reset_in(now))}"
            current = f'{minute}, "concurrency";r={slots}, {budget}'
            return {"RateLimit-Policy": policy, "RateLimit": current}

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            now = self._clock()
            return {
                "budget_limit": self._config.complexity_budget,
                "budget_used": self._config.complexity_budget - self.complexity.remaining(now),
                "budget_remaining": self.complexity.remaining(now),
                "budget_reset_in_seconds": round(self.complexity.reset_in(now), 3),
                "budget_used_total": self.budget_used_total,
                "minute_requests_remaining": self.minute.remaining(now),
                "minute_mutations_remaining": (
                    self.mutations.remaining(now) if self.mutations is not None else None
                ),
                "daily_calls_used": round(self.daily.used, 1),
                "daily_calls_remaining": round(self.daily.remaining(self.utc_clock()), 1),
                "daily_reset_in_seconds": round(self.daily.reset_in(self.utc_clock()), 3),
                "in_flight": self.in_flight,
            }
