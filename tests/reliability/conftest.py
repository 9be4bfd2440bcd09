"""The reliability suite (`make reliability`): kills, faults, races, hostile rows, secrets.

Fixtures: the seeded demo database made once per session (each experiment works on a copy
of the file), sandboxes that count the faults they inject, and the session's figures, which
`pytest_sessionfinish` writes to $RELIABILITY_FIGURES for tests/reliability/figures.py to
print as the run's last line. The soak (`-m soak`, `make soak`) is left out of the rest.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from relkit import FIGURES, Figures, start_sandbox, stop_sandbox

from orders_sync_gui.monday.sandbox import SandboxServer
from orders_sync_gui.services.context import Context, open_context
from tests.monday.pushkit import make_demo_db

ORDERS = 150  # GREYSON has 30-odd of them with seed 7 (pushkit's demo database)
SEED = 7


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers", "soak: the long push (10,000 orders); `make soak`, not `make reliability`"
    )


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    path = os.environ.get("RELIABILITY_FIGURES")
    if path:
        Path(path).write_text(json.dumps(FIGURES.to_json()), "utf-8")


def pytest_terminal_summary(terminalreporter: Any) -> None:
    terminalreporter.write_line(f"reliability figures: {json.dumps(FIGURES.to_json())}")


@pytest.fixture(scope="session")
def figures() -> Figures:
    return FIGURES


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The seeded demo database, made once; experiments copy the file."""
    path = tmp_path_factory.mktemp("demo") / "template.db"
    make_demo_db(f"sqlite:///{path}", orders=ORDERS, seed=SEED)
    return path


@pytest.fixture
def db(tmp_path: Path, demo_template: Path) -> str:
    path = tmp_path / "orders.db"
    shutil.copyfile(demo_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def ctx(db: str) -> Iterator[Context]:
    context = open_context(db)
    yield context
    context.close()


@pytest.fixture
def make_sandbox() -> Iterator[Callable[..., SandboxServer]]:
    started: list[SandboxServer] = []

    def make(**overrides: Any) -> SandboxServer:
        server = start_sandbox(**overrides)
        started.append(server)
        return server

    yield make
    for server in started:
        stop_sandbox(server)


@pytest.fixture
def sandbox(make_sandbox: Callable[..., SandboxServer]) -> SandboxServer:
    return make_sandbox()
