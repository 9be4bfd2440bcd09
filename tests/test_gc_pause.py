"""A preview holds Python's cyclic collector off while it builds its Records, and always
gives it back: after an error too, and only once the last of two overlapping holders (the
window's count and preview threads) has left. A collector left off would let every
reference cycle the app makes afterwards pile up for good."""

from __future__ import annotations

import gc
import threading

import pytest

from orders_sync_gui.services import detection
from orders_sync_gui.services.context import open_context
from orders_sync_gui.services.demo import demo_init
from orders_sync_gui.services.gc_pause import collector_paused


def test_a_preview_gives_the_collector_back_after_success_and_error(tmp_path, monkeypatch):
    url = f"sqlite:///{tmp_path / 'orders.db'}"
    demo_init(url, orders=60, seed=3)
    ctx = open_context(url)
    seen: list[bool] = []
    real = detection.classify_by_join

    def spy(*args, **kwargs):
        seen.append(gc.isenabled())
        return real(*args, **kwargs)

    monkeypatch.setattr(detection, "classify_by_join", spy)
    try:
        assert gc.isenabled()
        found = detection.preview(ctx, "GREYSON")
        assert found.changes and seen == [False]  # held off while it ran
        assert gc.isenabled()
        with pytest.raises(detection.UnknownCustomerError):
            detection.preview(ctx, "NO SUCH CUSTOMER")
        assert gc.isenabled()
    finally:
        ctx.close()


def test_overlapping_holders_give_it_back_when_the_last_leaves():
    first_in, second_left = threading.Event(), threading.Event()

    def other() -> None:
        with collector_paused():
            first_in.set()
            second_left.wait(10)

    thread = threading.Thread(target=other)
    thread.start()
    assert first_in.wait(10)
    with collector_paused():
        assert not gc.isenabled()
    assert not gc.isenabled()  # the other thread still holds it off
    second_left.set()
    thread.join(10)
    assert gc.isenabled()
