"""A wall-clock deadline for one HTTP request: connect, send, headers and body together.

requests' `timeout` bounds each wait for the socket, not the request: a server trickling one
byte every few seconds never trips it and holds a push for as long as it likes. So each
request is watched (`watch`): past its deadline a watchdog thread shuts the socket the
request is using down, which wakes the blocked read at once with an error; the client then
reports the deadline, with the wall time it really took (client.py).

The connection in use is known through the session's adapter (`DeadlineAdapter`): its
connection pools note, per thread, the connection each request takes. A session the caller
made (tests, a bench) without this adapter is not watched; its requests keep requests'
per-read timeout only.
"""

from __future__ import annotations

import heapq
import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from typing import Any

from requests.adapters import HTTPAdapter
from urllib3.connectionpool import HTTPConnectionPool, HTTPSConnectionPool

_IN_USE: dict[int, Any] = {}  # thread id -> the urllib3 connection its request is using
_IN_USE_LOCK = threading.Lock()
_RETRY_ABORT = 0.05  # a connection not made yet at the deadline: shut it when it is


def _note(conn: Any) -> Any:
    with _IN_USE_LOCK:
        _IN_USE[threading.get_ident()] = conn
    return conn


class _HTTPPool(HTTPConnectionPool):
    def _get_conn(self, timeout: float | None = None) -> Any:
        return _note(super()._get_conn(timeout))


class _HTTPSPool(HTTPSConnectionPool):
    def _get_conn(self, timeout: float | None = None) -> Any:
        return _note(super()._get_conn(timeout))


_POOLS = {"http": _HTTPPool, "https": _HTTPSPool}


class DeadlineAdapter(HTTPAdapter):
    """requests' HTTPAdapter whose pools note the connection each request uses."""

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        self.poolmanager.pool_classes_by_scheme = dict(_POOLS)

    def proxy_manager_for(self, proxy: str, **proxy_kwargs: Any) -> Any:
        manager = super().proxy_manager_for(proxy, **proxy_kwargs)
        manager.pool_classes_by_scheme = dict(_POOLS)
        return manager


def _abort(thread_id: int) -> bool:
    """Shut down the socket of the thread's request; False when it has none yet."""
    with _IN_USE_LOCK:
        conn = _IN_USE.get(thread_id)
    sock = getattr(conn, "sock", None)
    if sock is None:
        return False
    with suppress(OSError):
        sock.shutdown(socket.SHUT_RDWR)
    return True


@dataclass
class Watch:
    """One watched request: `fired` once its deadline cut it off."""

    thread_id: int
    deadline: float
    fired: bool = False
    done: bool = False


class _Watchdog:
    """One daemon thread for every watched request of the process."""

    def __init__(self) -> None:
        self._changed = threading.Condition()
        self._heap: list[tuple[float, int, Watch]] = []
        self._seq = 0
        self._thread: threading.Thread | None = None

    def arm(self, seconds: float) -> Watch:
        watch = Watch(threading.get_ident(), time.monotonic() + seconds)
        with self._changed:
            self._seq += 1
            heapq.heappush(self._heap, (watch.deadline, self._seq, watch))
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(
                    target=self._run, name="monday-request-deadline", daemon=True
                )
                self._thread.start()
            self._changed.notify()
        return watch

    def disarm(self, watch: Watch) -> None:
        with self._changed:
            watch.done = True  # left in the heap: dropped when it comes up
            with _IN_USE_LOCK:
                _IN_USE.pop(watch.thread_id, None)

    def _run(self) -> None:
        while True:
            with self._changed:
                while self._heap and self._heap[0][2].done:
                    heapq.heappop(self._heap)
                if not self._heap:
                    self._changed.wait()
                    continue
                deadline, _, watch = self._heap[0]
                left = deadline - time.monotonic()
                if left > 0:
                    self._changed.wait(left)
                    continue
                heapq.heappop(self._heap)
                # Under the lock: the request cannot end (disarm) and its thread start another
                # on a connection of its own meanwhile, so only this request's socket is shut.
                watch.fired = True
                if not _abort(watch.thread_id):  # connecting still: try again shortly
                    self._seq += 1
                    again = time.monotonic() + _RETRY_ABORT
                    heapq.heappush(self._heap, (again, self._seq, watch))


_WATCHDOG = _Watchdog()


@contextmanager
def watch(seconds: float) -> Iterator[Watch]:
    """Watch the request this thread makes in the block: past `seconds`, its socket is shut."""
    armed = _WATCHDOG.arm(seconds)
    try:
        yield armed
    finally:
        _WATCHDOG.disarm(armed)
