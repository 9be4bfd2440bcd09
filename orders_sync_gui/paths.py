"""Per-user folders (platformdirs): the embedded database, settings and logs live there.

ORDERS_SYNC_HOME, when set, puts all three under one folder: tests and CI use it so that
nothing touches the real user's folders.
"""

from __future__ import annotations

import os
from pathlib import Path

import platformdirs

from . import APP_NAME


def _home() -> Path | None:
    home = os.environ.get("ORDERS_SYNC_HOME")
    return Path(home) if home else None


def data_dir() -> Path:
    home = _home()
    return home / "data" if home else Path(platformdirs.user_data_dir(APP_NAME, appauthor=False))


def config_dir() -> Path:
    home = _home()
    return (
        home / "config" if home else Path(platformdirs.user_config_dir(APP_NAME, appauthor=False))
    )


def log_dir() -> Path:
    home = _home()
    return home / "logs" if home else Path(platformdirs.user_log_dir(APP_NAME, appauthor=False))


def default_db_path() -> Path:
    return data_dir() / "orders-sync-demo.db"
