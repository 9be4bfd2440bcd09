"""Where the bundled data is (the board mapping, the customer map, the icons).

Its source is the top-level `resources/` folder. An installed package (a wheel: pyproject.toml
maps `resources/` to the package `orders_sync_gui.bundled`) and the PyInstaller build
(build.spec puts it at the same place) carry it inside the package, found with
importlib.resources; a checkout (a source run, an editable install) reads `resources/`
itself.
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path

BUNDLED = "bundled"  # orders_sync_gui/bundled/ in a wheel or a build


def resources_dir() -> Path:
    package = resources.files(__package__ or "orders_sync_gui")
    # A package on the file system (site-packages, PyInstaller's folder) is a real Path:
    # Qt and the settings read the files by name.
    if isinstance(package, Path) and (package / BUNDLED).is_dir():
        return package / BUNDLED
    return Path(__file__).resolve().parent.parent / "resources"


def resource_path(name: str) -> Path:
    return resources_dir() / name
