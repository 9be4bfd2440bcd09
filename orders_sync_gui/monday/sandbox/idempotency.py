"""`Idempotency-Key` on mutation requests, as monday documents it.

The first request with a key runs and its response is kept for `ttl` seconds (monday: 30
minutes; `SandboxConfig.idempotency_ttl_seconds`, `--idempotency-window`); a later
request with the same key gets that response again (with `Idempotency-Replayed: true`) and
runs nothing; one arriving while the first still runs gets 409 with `Retry-After`.

Only responses of requests that reached execution are kept. A request refused before it ran
(rate limited, locked, 500, dropped before executing, invalid document) forgets its key, so
the retry runs for real instead of replaying a refusal for 30 minutes.

With `SandboxConfig.idempotency_enabled` off (`--no-idempotency`) the app never consults
this cache: the header is ignored, as by a server that does not honour it.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class CachedResponse:
    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes


@dataclass
class _Entry:
    created: float
    response: CachedResponse | None = None  # None while the first request runs


class IdempotencyCache:
    def __init__(self, ttl_seconds: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl_seconds = ttl_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._entries: dict[str, _Entry] = {}
        self.replays = 0
        self.conflicts = 0

    def begin(self, key: str) -> CachedResponse | bool:
        """A cached response to replay, True to run the request, False for a 409."""
        with self._lock:
            now = self._clock()
            stale = [k for k, e in self._entries.items() if now - e.created > self.ttl_seconds]
            for old in stale:
                del self._entries[old]
            entry = self._entries.get(key)
            if entry is None:
                self._entries[key] = _Entry(now)
                return True
            if entry.response is None:
                self.conflicts += 1
                return False
            self.replays += 1
            return entry.response

    def finish(self, key: str, response: CachedResponse | None) -> None:
        """Keep the response of an executed request, or forget a request that never ran."""
        with self._lock:
            entry = self._entries.get(key)
            if entry is None:
                return
            if response is None:
                del self._entries[key]
            else:
                entry.response = response

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
