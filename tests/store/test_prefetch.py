"""read_ahead: a streamed read's next chunk fetched by a thread while this one is hashed."""

from __future__ import annotations

import threading

import pytest

from orders_sync_gui.store.prefetch import read_ahead


def test_items_arrive_in_order_from_another_thread():
    threads = []

    def source():
        for i in range(50):
            threads.append(threading.current_thread())
            yield i

    assert list(read_ahead(source(), depth=3)) == list(range(50))
    assert set(threads) != {threading.current_thread()}


def test_an_error_in_the_source_is_raised_to_the_reader():
    def source():
        yield 1
        raise ValueError("the server went away")

    got = []
    with pytest.raises(ValueError, match="the server went away"):
        for item in read_ahead(source()):
            got.append(item)
    assert got == [1]


def test_a_reader_that_stops_early_stops_the_source_and_closes_it():
    produced = []
    closed = threading.Event()

    def source():
        try:
            for i in range(1000):
                produced.append(i)
                yield i
        finally:
            closed.set()

    reader = read_ahead(source(), depth=1)
    assert next(reader) == 0
    reader.close()  # as a cancelled count leaves its loop
    assert closed.is_set()  # closed before close() returned: the thread was waited for
    assert len(produced) <= 3
