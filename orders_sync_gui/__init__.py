"""orders-sync: keeps a monday.com board in step with the ORDERS_UNIFIED order table."""

from __future__ import annotations

from importlib import metadata
from pathlib import Path

APP_NAME = "orders-sync"


def _version() -> str:
    """The one version is pyproject.toml's: read from it in a checkout, else from the
    installed package's metadata (a wheel; the PyInstaller build copies the metadata)."""
    pyproject = Path(__file__).resolve().parent.parent / "pyproject.toml"
    if pyproject.is_file():
        import tomllib

        project = tomllib.loads(pyproject.read_text("utf-8")).get("project", {})
        if project.get("name") == APP_NAME and "version" in project:
            return str(project["version"])
    try:
        return metadata.version(APP_NAME)
    except metadata.PackageNotFoundError:
        return "0+unknown"


__version__ = _version()
