"""monday's rate limits: complexity budget, requests per minute, concurrency, daily calls, IP.

Windows follow monday's wording, "reset 60 seconds after the first API call was made": a
window opens at the first use and everything it counted resets when it ends. Every window
length is configurable so tests and benchmarks can compress a minute to a second.

Order of checks for one request (`admit`): concurrency, IP, minute rate, daily calls; the
complexity budget is charged later (`charge`), once the document is known to be valid.
Requests refused by the minute or IP limit still count against that limit, as on monday
("all requests count, even those that fail"); refused requests do not count as daily calls
(monday counts them as 0.1 call; the sandbox keeps whole counts).
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
    def __init__(self, config: SandboxConfig, clock: Callable[[], float] = time.monotonic):
        self._config = config
        self._clock = clock
        self._lock = threading.Lock()
        self.in_flight = 0
        self.budget_used_total = 0
        self._build_windows()

    def _build_windows(self) -> None:
        c = self._config
        self.complexity = Window(c.complexity_budget, c.window_seconds)
        self.minute = Window(c.requests_per_minute, c.window_seconds)
        self.daily = Window(c.daily_limit, c.daily_window_seconds)
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
            if self.daily.remaining(now) <= 0:
                return Rejection(
                    429,
                    "DAILY_LIMIT_EXCEEDED",
                    "Daily limit exceeded",
                    _retry_seconds(self.daily.reset_in(now)),
                )
            self.daily.take(1, now)
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
                "daily_calls_used": self.daily.used,
                "daily_calls_remaining": self.daily.remaining(now),
                "in_flight": self.in_flight,
            }
