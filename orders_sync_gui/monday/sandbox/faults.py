"""Deterministic fault injection: which requests fail on purpose, and how (see FaultConfig)."""

from __future__ import annotations

import random
import threading
from collections import Counter

from .config import FaultConfig


class FaultInjector:
    def __init__(self, config: FaultConfig) -> None:
        self._lock = threading.Lock()
        self.injected: Counter[str] = Counter()
        self.configure(config)

    def configure(self, config: FaultConfig) -> None:
        """Replace the settings; counting and the random sequence start over."""
        with self._lock:
            self.config = config
            self._random = random.Random(config.seed)
            self._eligible = 0
            self._hits = 0

    def decide(self, is_mutation: bool) -> str | None:
        """The fault kind for this request, or None to handle it normally."""
        with self._lock:
            config = self.config
            if not config.enabled or (config.mutations_only and not is_mutation):
                return None
            self._eligible += 1
            hit = config.every_n > 0 and self._eligible % config.every_n == 0
            if config.rate > 0:
                # Draw on every eligible request so the sequence depends on the seed only.
                hit = (self._random.random() < config.rate) or hit
            if not hit or (config.max_hits and self._hits >= config.max_hits):
                return None
            kind = config.kinds[self._hits % len(config.kinds)]
            self._hits += 1
            self.injected[kind] += 1
            return kind

    def counts(self) -> dict[str, int]:
        with self._lock:
            return dict(self.injected)

    def clear_counts(self) -> None:
        with self._lock:
            self.injected.clear()
