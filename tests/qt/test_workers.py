"""The job runner: one job per key, a busy key's last request run once it is free, and
progress reports that carry what the work wants shown."""

from __future__ import annotations

import threading

from orders_sync_gui.qt.workers import JobRunner, Report


def _blocked(ran: list[str], name: str, gate: threading.Event):
    def work(job) -> str:
        gate.wait(10)
        ran.append(name)
        return name

    return work


def test_a_busy_key_refuses_by_default_and_other_keys_run(qtbot):
    runner = JobRunner()
    gate, ran, done = threading.Event(), [], []
    assert runner.start("a", "k", _blocked(ran, "a", gate), on_success=done.append) is not None
    assert runner.start("b", "k", _blocked(ran, "b", gate), on_success=done.append) is None
    assert runner.start("c", "other", _blocked(ran, "c", gate), on_success=done.append)
    gate.set()
    qtbot.waitUntil(lambda: not runner.busy(), timeout=10_000)
    assert sorted(done) == ["a", "c"] and "b" not in ran


def test_again_runs_the_last_request_once_the_key_is_free(qtbot):
    runner = JobRunner()
    gate, ran, done = threading.Event(), [], []
    runner.start("first", "k", _blocked(ran, "first", gate), on_success=done.append)
    for name in ("second", "third"):
        job = runner.start(
            name, "k", _blocked(ran, name, gate), on_success=done.append, when_busy="again"
        )
        assert job is None  # kept: the key is busy
    assert runner.busy("k")
    gate.set()
    qtbot.waitUntil(lambda: not runner.busy(), timeout=10_000)
    assert done == ["first", "third"] and ran == ["first", "third"]  # the last word counts


def test_again_on_a_free_key_starts_at_once_and_stop_drops_what_waits(qtbot):
    runner = JobRunner()
    gate, ran, started = threading.Event(), [], []
    job = runner.start(
        "now", "k", _blocked(ran, "now", gate), when_busy="again", on_start=started.append
    )
    assert job is not None and started == [job]
    runner.start("later", "k", _blocked(ran, "later", gate), when_busy="again")
    runner.stop()
    assert job.cancelled
    gate.set()
    qtbot.waitUntil(lambda: not runner.busy(), timeout=10_000)
    assert ran == ["now"]


def test_progress_reports_carry_a_payload_to_the_gui_thread(qtbot):
    runner = JobRunner()
    reports: list[Report] = []
    threads: set[int] = set()
    payload = ("row", 7)

    def work(job) -> None:
        job.report(1, 2, "half", payload)
        job.report(2, 2)

    def progressed(report: Report) -> None:
        reports.append(report)
        threads.add(threading.get_ident())

    runner.start("w", "k", work, on_progress=progressed)
    qtbot.waitUntil(lambda: not runner.busy(), timeout=10_000)
    assert reports == [Report(1, 2, "half", payload), Report(2, 2)]
    assert reports[0].payload is payload
    assert threads == {threading.get_ident()}
