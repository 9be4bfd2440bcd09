"""Fixtures for the push tests: a sandbox per test, a demo database and its context.

Every test starts its own sandbox on 127.0.0.1 with a one-second "minute", so limits reset
quickly; the demo database is small and seeded, so every run pushes the same orders.
Helpers live in pushkit.py.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from pushkit import TOKEN, WINDOW, make_demo_db

from orders_sync_gui.monday.sandbox import SandboxConfig, SandboxServer
from orders_sync_gui.services.context import Context, open_context


@pytest.fixture
def make_sandbox() -> Iterator[Callable[..., SandboxServer]]:
    started: list[SandboxServer] = []

    def make(**overrides: Any) -> SandboxServer:
        config = {"token": TOKEN, "window_seconds": WINDOW, **overrides}
        server = SandboxServer(SandboxConfig(**config)).start()
        started.append(server)
        return server

    yield make
    for server in started:
        server.stop()


@pytest.fixture
def sandbox(make_sandbox: Callable[..., SandboxServer]) -> SandboxServer:
    return make_sandbox()


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory) -> Path:
    """The seeded demo database, made once; each test gets its own copy of the file."""
    path = tmp_path_factory.mktemp("demo") / "template.db"
    make_demo_db(f"sqlite:///{path}")
    return path


@pytest.fixture
def db(tmp_path, demo_template) -> str:
    path = tmp_path / "orders.db"
    shutil.copyfile(demo_template, path)
    return f"sqlite:///{path}"


@pytest.fixture
def ctx(db) -> Iterator[Context]:
    context = open_context(db)
    yield context
    context.close()
