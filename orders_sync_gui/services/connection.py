"""'Test connection' for the settings: one clear, human sentence either way."""

from __future__ import annotations

from sqlalchemy import URL, text
from sqlalchemy.exc import DBAPIError, SQLAlchemyError

from ..core.mapping import BoardMapping
from ..monday.board import check_mapping, fetch_board
from ..monday.client import DEFAULT_API_URL, DEFAULT_API_VERSION, MondayError, served_version
from ..store.engine import (
    DEFAULT_ODBC_DRIVER,
    SqlServerSettings,
    default_url,
    describe_url,
    make_engine,
    sqlite_path,
    sqlserver_url,
)
from ..store.schema import SOURCE_TABLE
from .context import Context
from .monday_setup import MondaySetup


class ConnectionTestError(RuntimeError):
    pass


def odbc_drivers() -> list[str]:
    try:
        import pyodbc
    except ImportError:  # the ODBC library itself is missing
        return []
    return list(pyodbc.drivers())


def _explain(exc: BaseException, url: str | URL) -> str:
    raw = str(getattr(exc, "orig", exc) or exc)
    where = describe_url(url)
    if "IM002" in raw or "Can't open lib" in raw or "file not found" in raw.lower():
        found = ", ".join(odbc_drivers()) or "none"
        return (
            f"the ODBC driver named in the settings is not installed on this computer "
            f"(installed drivers: {found}); install Microsoft's 'ODBC Driver 18 for SQL "
            "Server', or pick an installed one"
        )
    if any(code in raw for code in ("08001", "08S01", "HYT00")) or "unavailable" in raw.lower():
        return f"the server cannot be reached ({where}): check its name, the network and VPN"
    if "28000" in raw or "Login failed" in raw:
        return "the server refused the login: check the user name and the password"
    if "libodbc" in raw:
        return "the ODBC library is missing: install unixODBC (Debian: libodbc2)"
    first = raw.strip().splitlines()[0] if raw.strip() else type(exc).__name__
    return f"the database refused the connection: {first}"


def test_database(url: str | URL) -> str:
    """Connect, run a trivial query and look for ORDERS_UNIFIED; say what was found."""
    path = sqlite_path(url)
    if path is not None and not path.exists():
        raise ConnectionTestError(f"there is no SQLite database at {path}")
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            has_source = engine.dialect.has_table(conn, SOURCE_TABLE)
    except (DBAPIError, SQLAlchemyError, OSError) as exc:
        raise ConnectionTestError(_explain(exc, url)) from None
    finally:
        engine.dispose()
    if not has_source:
        return f"connected to {describe_url(url)}, but it has no {SOURCE_TABLE} table"
    return f"connected to {describe_url(url)}; {SOURCE_TABLE} is there"


def test_monday(ctx: Context, setup: MondaySetup) -> str:
    """Fetch the board's columns and check the mapping against them; say which API version
    served the reads (the board read carries the version query: no extra request)."""
    return test_monday_board(ctx.mapping, setup)


def test_monday_board(mapping: BoardMapping, setup: MondaySetup) -> str:
    """test_monday without a database (the Settings dialog's Test monday.com): the token,
    the board, and the mapping against the board's columns."""
    if not setup.board_id:
        raise ConnectionTestError("no board id: enter the board's id (the number in its URL)")
    try:
        client = setup.client()  # refuses an API version that is no version name
    except MondayError as exc:
        raise ConnectionTestError(str(exc)) from None
    try:
        board = fetch_board(client, setup.board_id)
        check_mapping(board, mapping)
        served = served_version(client)
    except MondayError as exc:
        raise ConnectionTestError(str(exc)) from None
    finally:
        client.close()
    return (
        f"board {board.board_id} “{board.name}”: {len(board.columns)} columns, all "
        f"{len(mapping.columns)} mapped columns present; API version {served.value} "
        f"({served.kind})"
    )


# What the settings dialog builds its form and URLs from: the faces reach store and monday
# through services only.
__all__ = [
    "DEFAULT_API_URL",
    "DEFAULT_API_VERSION",
    "DEFAULT_ODBC_DRIVER",
    "ConnectionTestError",
    "SqlServerSettings",
    "default_url",
    "odbc_drivers",
    "sqlserver_url",
    "test_database",
    "test_monday",
    "test_monday_board",
]
