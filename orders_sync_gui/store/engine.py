"""Engines from URLs: embedded SQLite by default, PostgreSQL in tests, SQL Server in production."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import URL, Engine, create_engine, event, make_url

from ..paths import default_db_path


class DatabaseConfigError(ValueError):
    pass


DEFAULT_ODBC_DRIVER = "ODBC Driver 18 for SQL Server"


@dataclass(frozen=True, slots=True)
class SqlServerSettings:
    server: str
    database: str
    driver: str = DEFAULT_ODBC_DRIVER  # (a slots dataclass's class attribute is its slot)
    trusted_connection: bool = True
    username: str | None = None
    encrypt: bool = True
    trust_server_certificate: bool = False


def default_url() -> str:
    return f"sqlite:///{default_db_path()}"


def sqlserver_url(settings: SqlServerSettings, password: str | None = None) -> URL:
    """An mssql+pyodbc URL. The password is passed in from the keyring, never stored."""
    if not settings.server or not settings.database:
        raise DatabaseConfigError("SQL Server needs both a server and a database name")
    query = {
        "driver": settings.driver,
        "Encrypt": "yes" if settings.encrypt else "no",
        "TrustServerCertificate": "yes" if settings.trust_server_certificate else "no",
    }
    if settings.trusted_connection:
        query["Trusted_Connection"] = "yes"
        return URL.create(
            "mssql+pyodbc", host=settings.server, database=settings.database, query=query
        )
    if not settings.username:
        raise DatabaseConfigError("a SQL login needs a user name")
    if password is None:
        raise DatabaseConfigError(
            f"no password for SQL login {settings.username!r}: save it in Settings (keyring)"
        )
    return URL.create(
        "mssql+pyodbc",
        username=settings.username,
        password=password,
        host=settings.server,
        database=settings.database,
        query=query,
    )


def _sqlite_pragmas(dbapi_conn, _record) -> None:  # type: ignore[no-untyped-def]
    cur = dbapi_conn.cursor()
    # WAL lets the GUI read while a worker writes; busy_timeout waits out a short lock
    # instead of failing; foreign keys are off by default in SQLite.
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA busy_timeout=10000")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.close()


def sqlite_path(url: str | URL) -> Path | None:
    """The file of a SQLite URL; None for other databases and in-memory SQLite."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)


def make_engine(url: str | URL) -> Engine:
    parsed = make_url(url)
    backend = parsed.get_backend_name()
    if backend == "sqlite":
        engine = create_engine(parsed)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if backend == "mssql":
        # fast_executemany: staging inserts thousands of rows in one round trip.
        return create_engine(parsed, fast_executemany=True, pool_pre_ping=True)
    return create_engine(parsed, pool_pre_ping=True)


def describe_url(url: str | URL) -> str:
    """The URL as it may be shown or logged: never with its password."""
    return make_url(url).render_as_string(hide_password=True)
