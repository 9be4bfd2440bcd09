"""Reading ahead: the next chunk is fetched by a thread while this one is worked on.

psycopg's network reads release the GIL for a whole chunk, so the server's share of a
streamed read overlaps the hashing of the chunk before it (0.6 s of a million-row count
on PostgreSQL). Not for SQLite: its reads give the GIL up and take it back once per row,
and waiting for it each time made the count slower, not faster."""

from __future__ import annotations

import queue
import threading
from collections.abc import Generator, Iterator
from typing import TypeVar

T = TypeVar("T")

_DONE = object()


def read_ahead(source: Iterator[T], depth: int = 1) -> Generator[T, None, None]:
    """The items of `source`, produced by a thread up to `depth` items ahead. An error in
    the thread is raised here; a consumer that stops early (an exception, or closing this
    generator) stops the thread before the next item is read, and waits for it."""
    items: queue.Queue[object] = queue.Queue(maxsize=depth)
    stop = threading.Event()

    def put(item: object) -> bool:
        while not stop.is_set():
            try:
                items.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            for item in source:
                if not put(item):
                    return
            put(_DONE)
        except BaseException as exc:  # handed over to the consumer, raised there
            put(exc)
        finally:
            close = getattr(source, "close", None)
            if close is not None:
                close()

    thread = threading.Thread(target=produce, name="read-ahead", daemon=True)
    thread.start()
    try:
        while True:
            item = items.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item  # type: ignore[misc]
    finally:
        stop.set()
        thread.join()
