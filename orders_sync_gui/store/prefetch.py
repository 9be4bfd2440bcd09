"""Reading ahead: the next chunk is fetched by a thread while this one is worked on.

SQLite's sqlite3_step and psycopg's network reads release the GIL, so the database's
share of a streamed read overlaps the hashing of the chunk before it."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from typing import TypeVar

T = TypeVar("T")

_DONE = object()


def read_ahead(source: Iterator[T], depth: int = 1) -> Iterator[T]:
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
