"""The desktop face's shape (issue 10): the window is a shell, each function short enough
to read, no module reaching into another's private names, no import circles."""

from __future__ import annotations

import ast
from pathlib import Path

QT = Path(__file__).resolve().parents[2] / "orders_sync_gui" / "qt"
MAX_FUNCTION_LINES = 80
MAX_WINDOW_LINES = 300


def _modules() -> dict[str, ast.Module]:
    """Every module of the qt package by its dotted name (a package by its own name)."""
    return {
        ".".join(path.relative_to(QT.parents[1]).with_suffix("").parts).removesuffix(
            ".__init__"
        ): ast.parse(path.read_text(encoding="utf-8"))
        for path in sorted(QT.rglob("*.py"))
    }


def _imports(module: str, body: list[ast.stmt]) -> list[tuple[str, list[str]]]:
    """(absolute module, imported names) of every `from` import in these statements."""
    is_package = (QT.parents[1] / module.replace(".", "/") / "__init__.py").exists()
    package = module.split(".") if is_package else module.split(".")[:-1]
    found = []
    for node in (n for stmt in body for n in ast.walk(stmt)):
        if not isinstance(node, ast.ImportFrom):
            continue
        name = node.module or ""
        if node.level:
            base = package[: len(package) - node.level + 1]
            name = ".".join([*base, node.module] if node.module else base)
        found.append((name, [alias.name for alias in node.names]))
    return found


def test_the_window_is_a_shell_and_no_function_is_long():
    window = (QT / "main_window.py").read_text(encoding="utf-8").count("\n")
    assert window < MAX_WINDOW_LINES
    long = [
        f"{module}.{node.name}: {node.end_lineno - node.lineno + 1} lines"
        for module, tree in _modules().items()
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
        and node.end_lineno - node.lineno + 1 > MAX_FUNCTION_LINES
    ]
    assert long == []


def test_no_module_imports_another_modules_private_names():
    private = [
        f"{module} imports {name} from {source}"
        for module, tree in _modules().items()
        for source, names in _imports(module, tree.body)
        for name in names
        if name.startswith("_") and name != "__version__"
    ]
    assert private == []


def test_the_qt_modules_import_no_circle():
    modules = _modules()
    graph = {
        module: {
            target
            for source, names in _imports(module, tree.body)  # those inside functions too
            for target in (source, *(f"{source}.{n}" for n in names))
            if target in modules and target != module
        }
        for module, tree in modules.items()
    }
    circles = []
    state: dict[str, int] = {}

    def visit(node: str, path: list[str]) -> None:
        state[node] = 1
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                circles.append(" -> ".join([*path[path.index(target) :], target]))
            elif target not in state:
                visit(target, [*path, target])
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node, [node])
    assert circles == []
