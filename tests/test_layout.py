"""The dependency direction of DESIGN.md, read from the code's own imports.

core is pure (no Qt, no database, no HTTP); store and monday stand side by side and never
import each other; the faces (qt/, cli.py) reach the database and monday.com through
services only. A new import that breaks this fails here, naming the file and the import.
"""

from __future__ import annotations

import ast
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "orders_sync_gui"

# For each layer: the package's own layers it must not import, and outside modules it must
# not import either.
FORBIDDEN: dict[str, tuple[set[str], set[str]]] = {
    "core": ({"store", "monday", "services", "qt", "cli"}, {"PySide6", "sqlalchemy", "requests"}),
    "store": ({"monday", "services", "qt", "cli"}, {"PySide6", "requests"}),
    "monday": ({"store", "services", "qt", "cli"}, {"PySide6", "sqlalchemy"}),
    "services": ({"qt", "cli"}, {"PySide6"}),
    "qt": ({"store", "monday", "cli"}, {"sqlalchemy", "requests"}),
}


def _imports(path: Path) -> list[tuple[int, str]]:
    """(line, absolute dotted name) of every import in a module of the package."""
    module = path.relative_to(PACKAGE.parent).with_suffix("").parts
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            if node.level:  # relative: resolved against this module's package
                base = list(module[: len(module) - node.level])
                name = ".".join([*base, node.module] if node.module else base)
            else:
                name = node.module or ""
            found.append((node.lineno, name))
    return found


def _layer_of(name: str) -> str | None:
    parts = name.split(".")
    return parts[1] if parts[0] == "orders_sync_gui" and len(parts) > 1 else None


def test_every_layer_imports_only_what_the_design_allows():
    broken = []
    for layer, (layers, outside) in FORBIDDEN.items():
        for path in sorted((PACKAGE / layer).rglob("*.py")):
            for line, name in _imports(path):
                target = _layer_of(name)
                if target in layers or name.split(".")[0] in outside:
                    broken.append(f"{path.relative_to(PACKAGE.parent)}:{line} imports {name}")
    assert broken == []


def test_the_cli_reaches_store_and_monday_only_for_the_demo_and_the_sandbox():
    direct = {
        name for _, name in _imports(PACKAGE / "cli.py") if _layer_of(name) in {"store", "monday"}
    }
    # demo-init writes a new database (and its defaults) before any context exists, and
    # `orders-sync sandbox` serves the sandbox itself; everything else goes through services.
    assert direct <= {
        "orders_sync_gui.store.database",
        "orders_sync_gui.store.demo",
        "orders_sync_gui.monday.sandbox",
    }
