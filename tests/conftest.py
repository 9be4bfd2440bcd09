"""Shared fixtures: an isolated home per test, and a real PostgreSQL server per session."""

from __future__ import annotations

import os

# Qt needs a platform before it is first imported; there is no display here.
os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

import keyring
import pytest
from keyring.backend import KeyringBackend

from tests.pg_server import PostgresServer, find_pg_bin


class MemoryKeyring(KeyringBackend):
    """A keyring that forgets everything when the test ends: nothing touches the real one."""

    priority = 1  # type: ignore[assignment]

    def __init__(self) -> None:
        super().__init__()
        self.store: dict[tuple[str, str], str] = {}

    def get_password(self, service: str, username: str) -> str | None:
        return self.store.get((service, username))

    def set_password(self, service: str, username: str, password: str) -> None:
        self.store[(service, username)] = password

    def delete_password(self, service: str, username: str) -> None:
        from keyring.errors import PasswordDeleteError

        if self.store.pop((service, username), None) is None:
            raise PasswordDeleteError(username)


@pytest.fixture(autouse=True)
def memory_keyring():
    previous = keyring.get_keyring()
    backend = MemoryKeyring()
    keyring.set_keyring(backend)
    yield backend
    keyring.set_keyring(previous)


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
