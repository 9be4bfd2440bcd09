"""The CLI's log: a file per command run in the log folder, named by its start time, with
the run's own lines, failures with their traceback, its exit code; never the token."""

from __future__ import annotations

import json
import re
from datetime import datetime, timedelta
from pathlib import Path

import pytest
from pushkit import TOKEN

from orders_sync_gui.cli import main
from orders_sync_gui.cli_log import log_file_name, prune
from orders_sync_gui.monday.sandbox import FaultConfig
from orders_sync_gui.paths import log_dir

NAME = re.compile(r"cli-(\d{4}-\d\d-\d\d_\d\d-\d\d-\d\d)-([a-z-]+)-(\d+)\.log")


def run_logs(command: str) -> list[Path]:
    return sorted(p for p in log_dir().glob("cli-*.log") if f"-{command}-" in p.name)


def test_each_command_run_leaves_a_file_named_by_its_start_time(capsys, db):
    before = datetime.now().replace(microsecond=0)
    assert main(["--db", db, "detect", "--json"]) == 0
    after = datetime.now()
    (path,) = run_logs("detect")
    started, command, pid = NAME.fullmatch(path.name).groups()  # type: ignore[union-attr]
    assert before <= datetime.strptime(started, "%Y-%m-%d_%H-%M-%S") <= after
    assert command == "detect" and int(pid) > 0
    text = path.read_text("utf-8")
    assert "detect started" in text and "detect ended with exit code 0" in text
    capsys.readouterr()

    # A failing run: one line on the terminal, the traceback and exit code 1 in its file.
    assert main(["--db", db, "push", "--batch", "999"]) == 1
    assert len(capsys.readouterr().err.strip().splitlines()) == 1
    (failed,) = run_logs("push")
    text = failed.read_text("utf-8")
    assert "Traceback" in text and "push ended with exit code 1" in text


def test_only_the_newest_runs_are_kept(tmp_path):
    start = datetime(2026, 12, 3, 6, 0, 0)
    names = [log_file_name("run", start + timedelta(minutes=m), 4242) for m in range(5)]
    for name in names:
        (tmp_path / name).write_text("x")
    (tmp_path / f"{names[0]}.1").write_text("rotated part of the oldest run")
    (tmp_path / "orders-sync.log").write_text("the window's log: not the CLI's to prune")
    gone = prune(tmp_path, keep=3)
    assert sorted(p.name for p in gone) == sorted([names[0], f"{names[0]}.1", names[1]])
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([*names[2:], "orders-sync.log"])


def test_the_token_never_reaches_the_cli_log(capsys, db, make_sandbox, monkeypatch):
    """A verbose push whose every mutation monday answers with the request's Authorization
    header in the error: the run's log holds the refusals, scrubbed, never the token."""
    server = make_sandbox()
    monkeypatch.setenv("ORDERS_SYNC_MONDAY_URL", server.url)
    monkeypatch.setenv("MONDAY_API_TOKEN", TOKEN)
    monkeypatch.setenv("ORDERS_SYNC_BOARD_ID", server.board_id)
    assert main(["--db", db, "stage", "--customer", "GREYSON", "--limit", "3"]) == 0
    server.set_faults(FaultConfig(every_n=1, mutations_only=True, kinds=("echo_auth",)))
    assert main(["-v", "--db", db, "push", "--batch", "1"]) == 1
    capsys.readouterr()
    (path,) = run_logs("push")
    text = path.read_text("utf-8")
    assert "Authorization: [token]" in text  # the echo reached the log, scrubbed
    logs = [p.read_text("utf-8", errors="replace") for p in log_dir().iterdir()]
    assert logs and not any(TOKEN in t for t in logs)


@pytest.mark.parametrize("command", ["run", "demo-init"])
def test_names_sort_by_start_time(command):
    early = log_file_name(command, datetime(2026, 1, 2, 9, 59, 59), 99999)
    late = log_file_name(command, datetime(2026, 1, 2, 10, 0, 0), 1)
    assert early < late and NAME.fullmatch(early)


def test_a_log_folder_that_cannot_be_written_does_not_stop_the_command(capsys, db):
    log_dir().parent.mkdir(parents=True, exist_ok=True)
    log_dir().write_text("a file where the folder should be")
    assert main(["--db", db, "detect", "--json"]) == 0
    out, err = capsys.readouterr()
    assert json.loads(out)["customers"] and err.startswith("orders-sync: no log file (")
