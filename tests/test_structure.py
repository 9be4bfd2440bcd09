"""The package's shape, read from its source with `ast`.

No import circle between its modules (imports under `if TYPE_CHECKING:` and inside
functions count too: a circle is a circle, even when Python happens to survive it); no
module reaches into another's private names; no function in services/ or qt/ longer than
MAX_FUNCTION_LINES; Qt only in qt/ and `__main__.py`. Which layer may import which is
test_layout.py's.

The checkers take a package's folder, so the tests at the bottom run each of them on a
small made-up package, to show that it does catch what it is for.
"""

from __future__ import annotations

import ast
import itertools
import textwrap
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "orders_sync_gui"
MAX_FUNCTION_LINES = 80
LENGTH_CHECKED = ("services", "qt")
# Where Qt may be imported, relative to the package's folder. test_layout.py keeps it out of
# each layer it checks; this is the rule for the whole package, top-level modules included.
QT_ALLOWED = ("qt/", "__main__.py")


# ---------------------------------------------------------------------- reading a package
@dataclass(frozen=True)
class Module:
    name: str  # dotted, e.g. orders_sync_gui.services.push
    path: Path
    is_package: bool  # an __init__.py: its relative imports start from itself
    tree: ast.Module


def load_package(root: Path) -> dict[str, Module]:
    """Every module under `root` (a package folder), by dotted name."""
    modules = {}
    for path in sorted(root.rglob("*.py")):
        parts = path.relative_to(root.parent).with_suffix("").parts
        is_package = parts[-1] == "__init__"
        name = ".".join(parts[:-1] if is_package else parts)
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        modules[name] = Module(name, path, is_package, tree)
    return modules


def _where(module: Module, root: Path, line: int) -> str:
    return f"{module.path.relative_to(root.parent).as_posix()}:{line}"


def _from_base(module: Module, node: ast.ImportFrom) -> str:
    """The absolute dotted name of what `from <this> import ...` names."""
    if not node.level:
        return node.module or ""
    parts = module.name.split(".")
    package = parts if module.is_package else parts[:-1]
    base = package[: len(package) - (node.level - 1)]
    return ".".join([*base, node.module] if node.module else base)


def _owner(name: str, modules: dict[str, Module]) -> str | None:
    """The package's module that `name` is, or lives in; None outside the package."""
    while name:
        if name in modules:
            return name
        name = name.rpartition(".")[0]
    return None


def _imported(module: Module, modules: dict[str, Module]) -> Iterator[tuple[int, str]]:
    """(line, module of the package) for each import of this module from the package.

    `import a.b.c` is a use of module a.b.c. `from a.b import c` is a use of module a.b.c
    when c is a submodule (so a package's `__init__` importing its children, and children
    importing each other through `from . import c`, make no circle), else of a.b itself.
    """
    for node in ast.walk(module.tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                target = _owner(alias.name, modules)
                if target:
                    yield node.lineno, target
        elif isinstance(node, ast.ImportFrom):
            base = _from_base(module, node)
            owner = _owner(base, modules)
            if owner is None:
                continue
            for alias in node.names:
                sub = f"{base}.{alias.name}"
                if sub in modules:
                    yield node.lineno, sub
                else:
                    yield node.lineno, owner


# ---------------------------------------------------------------------- import circles
def import_graph(modules: dict[str, Module]) -> dict[str, dict[str, int]]:
    """module -> {module it imports: line of its first such import}."""
    graph: dict[str, dict[str, int]] = {name: {} for name in modules}
    for name, module in modules.items():
        for line, target in _imported(module, modules):
            if target != name and line < graph[name].get(target, line + 1):
                graph[name][target] = line
    for targets in graph.values():  # in line order, so the reports read like the files
        ordered = sorted(targets.items(), key=lambda item: (item[1], item[0]))
        targets.clear()
        targets.update(ordered)
    return graph


def strongly_connected(graph: dict[str, dict[str, int]]) -> list[list[str]]:
    """Tarjan's strongly connected components, iteratively (no recursion limit)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    on_stack: set[str] = set()
    stack: list[str] = []
    components: list[list[str]] = []
    for start in sorted(graph):
        if start in index:
            continue
        work = [(start, iter(graph[start]))]
        index[start] = low[start] = len(index)
        stack.append(start)
        on_stack.add(start)
        while work:
            node, successors = work[-1]
            for succ in successors:
                if succ not in index:
                    index[succ] = low[succ] = len(index)
                    stack.append(succ)
                    on_stack.add(succ)
                    work.append((succ, iter(graph[succ])))
                    break
                if succ in on_stack:
                    low[node] = min(low[node], index[succ])
            else:
                work.pop()
                if work:
                    parent = work[-1][0]
                    low[parent] = min(low[parent], low[node])
                if low[node] == index[node]:
                    component = []
                    while True:
                        member = stack.pop()
                        on_stack.discard(member)
                        component.append(member)
                        if member == node:
                            break
                    components.append(sorted(component))
    return components


def _shortest_path(
    graph: dict[str, dict[str, int]], inside: set[str], src: str, dst: str
) -> list[str]:
    """The shortest path src -> ... -> dst through the nodes of `inside` (src, dst included)."""
    came_from: dict[str, str | None] = {src: None}
    queue = deque([src])
    while queue:
        node = queue.popleft()
        if node == dst:
            break
        for succ in graph[node]:
            if succ in inside and succ not in came_from:
                came_from[succ] = node
                queue.append(succ)
    path: list[str] = []
    node: str | None = dst
    while node is not None:
        path.append(node)
        node = came_from[node]
    return path[::-1]


def import_cycles(root: Path) -> list[list[str]]:
    """Circles of imports between the modules under `root`, each as [a, b, ..., a].

    Each circle is a shortest one through an import not yet shown, so that together they
    show every import that takes part in a circle.
    """
    graph = import_graph(load_package(root))
    cycles = []
    for component in strongly_connected(graph):
        inside = set(component)
        uncovered = [(a, b) for a in component for b in graph[a] if b in inside]
        while uncovered:
            a, b = uncovered[0]
            cycle = [a, *_shortest_path(graph, inside, b, a)]
            cycles.append(cycle)
            shown = set(itertools.pairwise(cycle))
            uncovered = [edge for edge in uncovered if edge not in shown]
    return cycles


def describe_cycles(root: Path, cycles: list[list[str]]) -> str:
    modules = load_package(root)
    graph = import_graph(modules)
    lines = []
    for cycle in cycles:
        lines.append("import circle: " + " -> ".join(cycle))
        for a, b in itertools.pairwise(cycle):
            lines.append(f"    {_where(modules[a], root, graph[a][b])} imports {b}")
    return "\n".join(lines)


# ---------------------------------------------------------------------- private names
def _is_private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def _dotted(node: ast.expr) -> str | None:
    if isinstance(node, ast.Name):
        return node.id
    if isinstance(node, ast.Attribute):
        head = _dotted(node.value)
        return f"{head}.{node.attr}" if head else None
    return None


def _may_use(importer: str, target: str, name: str, modules: dict[str, Module]) -> bool:
    """Whether `importer` may use `target.name` where `name` is private: a private submodule
    belongs to its package (its modules may import it); any other private name is its
    module's alone."""
    if f"{target}.{name}" in modules:
        return importer == target or importer.startswith(f"{target}.")
    return importer == target


def private_uses(root: Path) -> list[str]:
    """`from .x import _name`, and `x._name` on an imported module x, across modules."""
    modules = load_package(root)
    found = []
    for module in modules.values():
        aliases: dict[str, str] = {}  # a local name bound to a module of the package
        for node in ast.walk(module.tree):
            if isinstance(node, ast.Import):
                for alias in node.names:
                    if alias.asname and alias.name in modules:
                        aliases[alias.asname] = alias.name
                    elif not alias.asname and alias.name.split(".")[0] in modules:
                        aliases[alias.name.split(".")[0]] = alias.name.split(".")[0]
            elif isinstance(node, ast.ImportFrom):
                base = _from_base(module, node)
                owner = _owner(base, modules)
                for alias in node.names if owner else []:
                    name = alias.name
                    if f"{base}.{name}" in modules:
                        aliases[alias.asname or name] = f"{base}.{name}"
                    target = base if f"{base}.{name}" in modules else owner
                    if _is_private(name) and not _may_use(module.name, target, name, modules):
                        where = _where(module, root, node.lineno)
                        found.append(f"{where} imports {name} from {target}")
        for node in ast.walk(module.tree):
            if not (isinstance(node, ast.Attribute) and _is_private(node.attr)):
                continue
            chain = _dotted(node.value)
            if chain is None:
                continue
            head, _, rest = chain.partition(".")
            if head not in aliases:
                continue
            target = f"{aliases[head]}.{rest}" if rest else aliases[head]
            if target in modules and not _may_use(module.name, target, node.attr, modules):
                found.append(
                    f"{_where(module, root, node.lineno)} uses {chain}.{node.attr} of {target}"
                )
    return sorted(set(found))


# ---------------------------------------------------------------------- long functions
def _functions(node: ast.AST, prefix: str = "") -> Iterator[tuple[str, ast.AST]]:
    """(qualified name, node) of every def and async def, methods and nested ones too."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
            name = f"{prefix}{child.name}"
            if not isinstance(child, ast.ClassDef):
                yield name, child
            yield from _functions(child, f"{name}.")
        else:
            yield from _functions(child, prefix)


def long_functions(
    root: Path, folders: tuple[str, ...] = LENGTH_CHECKED, limit: int = MAX_FUNCTION_LINES
) -> list[str]:
    found = []
    for name, module in load_package(root).items():
        if module.path.relative_to(root).parts[0] not in folders:
            continue
        for qualname, node in _functions(module.tree):
            length = node.end_lineno - node.lineno + 1  # type: ignore[attr-defined]
            if length > limit:
                line = node.lineno  # type: ignore[attr-defined]
                found.append(f"{_where(module, root, line)} {name}.{qualname}: {length} lines")
    return found


# ---------------------------------------------------------------------- Qt
def qt_outside_qt(root: Path, allowed: tuple[str, ...] = QT_ALLOWED) -> list[str]:
    """Imports of PySide6 from a module outside `allowed` (folders end with a slash)."""
    found = []
    for module in load_package(root).values():
        relative = module.path.relative_to(root).as_posix()
        if any(relative.startswith(a) if a.endswith("/") else relative == a for a in allowed):
            continue
        for node in ast.walk(module.tree):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and not node.level:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                if name.split(".")[0] == "PySide6":
                    found.append(f"{_where(module, root, node.lineno)} imports {name}")
    return found


# ---------------------------------------------------------------------- the package
def test_no_import_circle_between_modules_of_the_package():
    cycles = import_cycles(PACKAGE)
    assert not cycles, describe_cycles(PACKAGE, cycles)


def test_no_module_uses_another_modules_private_names():
    found = private_uses(PACKAGE)
    assert not found, "private names used across modules:\n" + "\n".join(found)


def test_no_function_in_services_or_qt_is_too_long():
    found = long_functions(PACKAGE)
    assert not found, f"functions over {MAX_FUNCTION_LINES} lines:\n" + "\n".join(found)


def test_only_qt_and_main_import_pyside6():
    assert qt_outside_qt(PACKAGE) == []


# ---------------------------------------------------------------------- the checkers
def _package(tmp_path: Path, files: dict[str, str]) -> Path:
    """A made-up package `pkg` under tmp_path, from {relative path: source}."""
    root = tmp_path / "pkg"
    for relative, source in files.items():
        path = root / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(source), encoding="utf-8")
    for folder in [root, *(p for p in root.rglob("*") if p.is_dir())]:
        (folder / "__init__.py").touch()
    return root


def test_a_circle_is_found_and_named(tmp_path):
    root = _package(
        tmp_path,
        {
            "a.py": "from .b import thing\n",
            "b.py": "from . import c\n",
            "c.py": "def f():\n    from pkg.a import other\n",
            "d.py": "from .a import thing\n",  # depends on the circle, is not in it
        },
    )
    assert import_cycles(root) == [["pkg.a", "pkg.b", "pkg.c", "pkg.a"]]
    message = describe_cycles(root, import_cycles(root))
    assert "pkg.a -> pkg.b -> pkg.c -> pkg.a" in message
    assert "pkg/c.py:2 imports pkg.a" in message


def test_a_circle_through_type_checking_imports_counts(tmp_path):
    root = _package(
        tmp_path,
        {
            "plan.py": "from typing import TYPE_CHECKING\n"
            "if TYPE_CHECKING:\n    from .push import _Session\n",
            "push.py": "from .plan import build\n",
        },
    )
    assert import_cycles(root) == [["pkg.plan", "pkg.push", "pkg.plan"]]


def test_every_circle_of_a_tangle_is_shown(tmp_path):
    root = _package(
        tmp_path,
        {
            "a.py": "from . import b, c\n",
            "b.py": "from . import a\n",
            "c.py": "import pkg.a\n",
        },
    )
    cycles = import_cycles(root)
    edges = {edge for cycle in cycles for edge in itertools.pairwise(cycle)}
    assert edges == {("pkg.a", "pkg.b"), ("pkg.b", "pkg.a"), ("pkg.a", "pkg.c"), ("pkg.c", "pkg.a")}


def test_a_package_importing_its_children_is_no_circle(tmp_path):
    root = _package(
        tmp_path,
        {
            "sub/__init__.py": "from .x import X\nfrom .y import Y\nfrom . import y\n",
            "sub/x.py": "from . import y\nfrom .y import Y\nimport pkg.sub.y\nX = 1\n",
            "sub/y.py": "from .. import VERSION\nY = 2\n",
            "__init__.py": "VERSION = 1\n",
        },
    )
    assert import_cycles(root) == []


def test_a_child_importing_what_its_package_re_exports_is_a_circle(tmp_path):
    root = _package(
        tmp_path,
        {
            "sub/__init__.py": "from .x import X\nfrom .y import Y\n",
            "sub/x.py": "from . import Y\nX = 1\n",  # Y is a name of sub/__init__
            "sub/y.py": "Y = 2\n",
        },
    )
    assert import_cycles(root) == [["pkg.sub", "pkg.sub.x", "pkg.sub"]]


def test_private_names_of_another_module_are_found(tmp_path):
    root = _package(
        tmp_path,
        {
            "x.py": "_secret = 1\n__version__ = '1'\npublic = 2\n",
            "a.py": "from .x import _secret, __version__, public\n",
            "b.py": "from . import x\nprint(x._secret, x.__doc__, x.public)\n",
            "c.py": "import pkg.x as m\nimport pkg.x\nm._secret\npkg.x._secret\n",
            "d.py": "class D:\n    def f(self):\n        return self._private\n",
            "e.py": "from os import _exit\nimport os\nos._exit\n",  # not the package's
            "sub/_impl.py": "_hidden = 1\n",
            "sub/user.py": "from . import _impl\nfrom ._impl import _hidden\n",
            "f.py": "from .sub import _impl\n",
        },
    )
    assert private_uses(root) == [
        "pkg/a.py:1 imports _secret from pkg.x",
        "pkg/b.py:2 uses x._secret of pkg.x",
        "pkg/c.py:3 uses m._secret of pkg.x",
        "pkg/c.py:4 uses pkg.x._secret of pkg.x",
        "pkg/f.py:1 imports _impl from pkg.sub",
        "pkg/sub/user.py:2 imports _hidden from pkg.sub._impl",
    ]


def test_long_functions_in_services_and_qt_are_found(tmp_path):
    body = "".join(f"    x{i} = {i}\n" for i in range(79))
    root = _package(
        tmp_path,
        {
            "services/run.py": f"def fits():\n{body}\n"  # 1 + 79 = 80 lines: fine
            f"async def too_long():\n{body}    return 0\n",
            "qt/window.py": "class Window:\n    def show(self):\n        def inner():\n"
            + textwrap.indent(body, "        ")
            + "            return 0\n        return inner\n",
            "core/long.py": f"def elsewhere():\n{body}    y = 1\n    return 0\n",
        },
    )
    assert long_functions(root) == [
        "pkg/qt/window.py:2 pkg.qt.window.Window.show: 83 lines",
        "pkg/qt/window.py:3 pkg.qt.window.Window.show.inner: 81 lines",
        "pkg/services/run.py:82 pkg.services.run.too_long: 81 lines",
    ]


def test_qt_outside_qt_is_found(tmp_path):
    root = _package(
        tmp_path,
        {
            "qt/app.py": "from PySide6.QtWidgets import QApplication\n",
            "__main__.py": "import PySide6\n",
            "cli.py": "def f():\n    from PySide6 import QtCore\n",
            "settings.py": "import PySide6.QtCore as QtCore\n",
        },
    )
    assert qt_outside_qt(root) == [
        "pkg/cli.py:2 imports PySide6",
        "pkg/settings.py:1 imports PySide6.QtCore",
    ]
