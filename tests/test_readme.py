"""The README's headless commands, run as written (on a throwaway database and sandbox),
so the README stays true. `make run` and `make test` are run by CI (.ci/run)."""

from __future__ import annotations

import json
import re
import shlex
from pathlib import Path

import pytest

from orders_sync_gui.cli import main
from orders_sync_gui.monday.sandbox import SandboxConfig, SandboxServer
from orders_sync_gui.services.demo import demo_init

README = Path(__file__).resolve().parents[1] / "README.md"
TOKEN = "readme-token"


def readme_commands() -> list[list[str]]:
    """Every `orders-sync ...` line of the README's code blocks, comments removed."""
    text = README.read_text(encoding="utf-8")
    blocks = re.findall(r"```\n(.*?)```", text, flags=re.S)
    lines = [line.split("#", 1)[0].strip() for block in blocks for line in block.splitlines()]
    return [shlex.split(line)[1:] for line in lines if line.startswith("orders-sync ")]


def test_the_readme_shows_the_two_commands_first():
    text = README.read_text(encoding="utf-8")
    first_block = re.search(r"```\n(.*?)```", text, flags=re.S).group(1)
    assert first_block.split() == ["make", "run", "make", "test"]


def test_every_headless_command_of_the_readme_works(tmp_path, monkeypatch, capsys):
    commands = readme_commands()
    words = [c[0] for c in commands]
    assert {
        "doctor",
        "detect",
        "preview",
        "stage",
        "estimate",
        "push",
        "rollback",
        "batches",
        "sandbox",
    } <= set(words)
    url = f"sqlite:///{tmp_path / 'readme.db'}"
    demo_init(url, orders=600, seed=4755)
    with SandboxServer(SandboxConfig(token=TOKEN, window_seconds=1)) as sandbox:
        monkeypatch.setenv("ORDERS_SYNC_DB_URL", url)
        monkeypatch.setenv("ORDERS_SYNC_MONDAY_URL", sandbox.url)
        monkeypatch.setenv("MONDAY_API_TOKEN", TOKEN)
        monkeypatch.setenv("ORDERS_SYNC_BOARD_ID", sandbox.board_id)
        for args in commands:
            if args[0] == "sandbox":
                continue  # serves until stopped: covered by the sandbox's own tests
            code = main([*args, "--json"])
            out = capsys.readouterr().out
            assert code == 0, (args, out)
            payload = json.loads(out)
            if args[0] == "push":
                assert payload["status"] == "PUSHED"
            if args[0] == "rollback":
                assert payload["status"] == "UNDONE"  # the README pushes batch 1 first
        assert sandbox.stats()["items"] == 0  # the undo removed what the push made


@pytest.mark.parametrize(
    "name",
    [
        "main-window",
        "preview-with-diffs",
        "push-in-progress",
        "batch-history",
        "drift_view",
        "mapping_dialog",
    ],
)
def test_the_readme_screenshots_exist(name):
    path = README.parent / "docs" / "screenshots" / f"{name}.png"
    assert f"docs/screenshots/{name}.png" in README.read_text(encoding="utf-8")
    assert path.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
