"""The wheel installs anywhere: built from this checkout, installed with its dependencies
into a fresh virtual environment outside it (a real install, as pip or pipx makes one), and
run from there, where no `resources/` folder of a checkout is in reach."""

from __future__ import annotations

import ast
import importlib.util
import json
import os
import subprocess
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

REPO = Path(__file__).resolve().parents[1]
INSTALL_TIMEOUT = 900


def test_every_package_of_the_source_tree_is_in_the_wheel() -> None:
    """pyproject.toml lists its packages (the bundled data's is mapped): one added to the
    source tree but not to the list would be missing from every install."""
    config = tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["tool"]["setuptools"]
    source = {
        ".".join(init.parent.relative_to(REPO).parts)
        for init in (REPO / "orders_sync_gui").rglob("__init__.py")
    }
    assert set(config["packages"]) == source | {"orders_sync_gui.bundled"}
    assert config["package-dir"]["orders_sync_gui.bundled"] == "resources"


def _run(command: list[str], *, cwd: Path, env: dict[str, str]) -> str:
    done = subprocess.run(
        command, cwd=cwd, env=env, capture_output=True, text=True, timeout=INSTALL_TIMEOUT
    )
    assert done.returncode == 0, f"{command}: exit {done.returncode}\n{done.stderr[-3000:]}"
    return done.stdout


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, str]]:
    """The bin folder of a fresh venv with the wheel installed, and the environment to run
    its commands in (no PYTHONPATH to the checkout, a home folder of its own)."""
    root = tmp_path_factory.mktemp("installed")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "ORDERS_SYNC"))}
    env |= {"ORDERS_SYNC_HOME": str(root / "home"), "QT_QPA_PLATFORM": "offscreen"}
    wheels = root / "wheels"
    pip = [sys.executable, "-m", "pip"]
    _run([*pip, "wheel", "--no-deps", "-q", "-w", str(wheels), str(REPO)], cwd=root, env=env)
    (wheel,) = wheels.glob("orders_sync-*.whl")
    _run([sys.executable, "-m", "venv", str(root / "venv")], cwd=root, env=env)
    bin_dir = root / "venv" / ("Scripts" if os.name == "nt" else "bin")
    _run([str(bin_dir / "python"), "-m", "pip", "install", "-q", str(wheel)], cwd=root, env=env)
    return bin_dir, env


def test_the_installed_commands_run_outside_the_checkout(
    installed: tuple[Path, dict[str, str]], tmp_path: Path
) -> None:
    bin_dir, env = installed
    python = str(bin_dir / "python")
    where = _run(
        [
            python,
            "-c",
            "from orders_sync_gui.resources import resource_path as r; "
            "print(r('board_mapping.json'))",
        ],
        cwd=tmp_path,
        env=env,
    )
    # The bundled data is the installed package's, not a checkout's.
    assert Path(where.strip()).is_relative_to(bin_dir.parent)
    assert not Path(where.strip()).is_relative_to(REPO)

    made = json.loads(
        _run(
            [str(bin_dir / "orders-sync"), "demo-init", "--orders", "300", "--json"],
            cwd=tmp_path,
            env=env,
        )
    )
    assert made["orders"] == 300
    counts = json.loads(
        _run([str(bin_dir / "orders-sync"), "detect", "--json"], cwd=tmp_path, env=env)
    )
    assert counts["customers"] and sum(c["new"] for c in counts["customers"]) == 300
    shown_version = _run([str(bin_dir / "orders-sync"), "--version"], cwd=tmp_path, env=env)
    assert shown_version.split() == ["orders-sync", _project()["version"]]
    smoke = _run([str(bin_dir / "orders-sync-gui"), "--smoke"], cwd=tmp_path, env=env)
    shown = json.loads(smoke.strip().splitlines()[-1])
    assert shown["customers"] == len(counts["customers"])
    assert "DEMO" in shown["title"]


def _project() -> dict[str, object]:
    return tomllib.loads((REPO / "pyproject.toml").read_text("utf-8"))["project"]


def test_the_version_is_written_once_in_pyproject() -> None:
    import orders_sync_gui

    assert "version" not in _project().get("dynamic", [])  # type: ignore[operator]
    assert orders_sync_gui.__version__ == _project()["version"]
    init = (REPO / "orders_sync_gui" / "__init__.py").read_text("utf-8")
    assert f'"{_project()["version"]}"' not in init


def _version_info() -> object:
    spec = importlib.util.spec_from_file_location(
        "version_info", REPO / "packaging" / "windows" / "version_info.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_windows_version_resource_carries_pyprojects_version() -> None:
    info: Any = _version_info()
    version = str(_project()["version"])
    text = info.version_text(version, exe_name="orders-sync-gui", description="the window")
    tree = ast.parse(text, mode="eval")  # PyInstaller evaluates this text
    assert isinstance(tree.body, ast.Call) and ast.unparse(tree.body.func) == "VSVersionInfo"
    numbers = info.version_tuple(version)
    assert f"filevers={numbers}" in text and f"prodvers={numbers}" in text
    assert f"StringStruct('ProductVersion', '{version}')" in text
    assert "StringStruct('OriginalFilename', 'orders-sync-gui.exe')" in text
    assert info.version_tuple("1.2") == (1, 2, 0, 0)
    assert info.version_tuple("2.10.3rc1") == (2, 10, 3, 0)
    with pytest.raises(ValueError, match="65535"):
        info.version_tuple("1.70000")
    spec = (REPO / "build.spec").read_text("utf-8")
    assert "version=version_file(" in spec and 'PROJECT["version"]' in spec


def test_the_installer_script_is_per_user_with_shortcut_and_uninstaller() -> None:
    iss = (REPO / "packaging" / "windows" / "orders-sync.iss").read_text("utf-8")
    setup = dict(
        line.split("=", 1)
        for line in iss.split("[Setup]")[1].split("\n[")[0].splitlines()
        if "=" in line and not line.startswith(";")
    )
    assert setup["PrivilegesRequired"] == "lowest"  # no administrator rights
    assert setup["DefaultDirName"].startswith("{autopf}")  # %LOCALAPPDATA%\Programs
    assert "GetVersionNumbersString" in iss  # the version comes from the built exe
    assert '#define GuiExe "orders-sync-gui.exe"' in iss
    assert '#define CliExe "orders-sync.exe"' in iss
    assert '"{group}\\{#AppName}"; Filename: "{app}\\{#GuiExe}"' in iss  # Start menu
    assert 'Filename: "{uninstallexe}"' in iss
    assert 'Source: "{#DistDir}\\{#CliExe}"' in iss
