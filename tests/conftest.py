"""Shared fixtures: an isolated home per test, and a real PostgreSQL server per session."""

from __future__ import annotations

import os

# Qt needs a platform before it is first imported; there is no display here.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import pytest

from tests.pg_server import PostgresServer, find_pg_bin


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch):
    """Every test gets its own data, config and log folders, and a known operator."""
    home = tmp_path / "home"
    monkeypatch.setenv("ORDERS_SYNC_HOME", str(home))
    monkeypatch.setenv("ORDERS_SYNC_OPERATOR", "tester")
    monkeypatch.delenv("ORDERS_SYNC_DB_URL", raising=False)
    return home


@pytest.fixture(scope="session")
def postgres_server():
    bin_dir = find_pg_bin()
    if bin_dir is None:
        message = (
            "NO POSTGRESQL BINARIES (initdb, pg_ctl): the PostgreSQL store tests did not run. "
            "Install Debian's 'postgresql' package (as .ci/run does)."
        )
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    server = PostgresServer(bin_dir)
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def pg_url(postgres_server, request):
    """A fresh, empty database on the session's PostgreSQL server."""
    url = postgres_server.create_database()
    yield url
    postgres_server.drop_database(url)


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request, tmp_path):
    """The same test on a SQLite file and on a real PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'orders.db'}"
    return request.getfixturevalue("pg_url")
