"""Files the operator may edit: the board mapping and the customer map.

Each is read from the user's config folder when a copy is there, else from `resources/`.
Secrets never live here: tokens and passwords go to the keyring only.
"""

from __future__ import annotations

import getpass
import json
import os
from pathlib import Path
from typing import Any

from .core.customers import CustomerMap
from .core.mapping import BoardMapping, MappingError, parse_mapping
from .paths import config_dir
from .resources import resource_path

MAPPING_FILE = "board_mapping.json"
SETTINGS_FILE = "settings.json"
CUSTOMER_MAP_FILE = "customer_map.json"
DB_URL_ENV = "ORDERS_SYNC_DB_URL"


class SettingsError(RuntimeError):
    pass


def _user_or_default(name: str) -> Path:
    user = config_dir() / name
    return user if user.is_file() else resource_path(name)


def _read_json(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise SettingsError(f"{path} is missing") from exc
    except json.JSONDecodeError as exc:
        raise SettingsError(f"{path} is not valid JSON (line {exc.lineno}: {exc.msg})") from exc
    if not isinstance(data, dict):
        raise SettingsError(f"{path}: expected a JSON object")
    return data


def load_mapping(path: Path | None = None) -> BoardMapping:
    path = path or _user_or_default(MAPPING_FILE)
    try:
        return parse_mapping(_read_json(path))
    except MappingError as exc:
        raise SettingsError(f"{path}: {exc}") from exc


def mapping_file() -> Path:
    """The mapping file in use: the user's copy when there is one, else the bundled one."""
    return _user_or_default(MAPPING_FILE)


def user_mapping_file() -> Path:
    """Where the user's own copy of the mapping goes (it wins over the bundled one)."""
    return config_dir() / MAPPING_FILE


def read_mapping_json(path: Path | None = None) -> dict[str, Any]:
    """The mapping file's JSON as written (parse_mapping checks it, load_mapping builds it)."""
    return _read_json(path or mapping_file())


def save_mapping(raw: dict[str, Any]) -> Path:
    """Write the user's copy of the mapping, atomically, once parse_mapping accepts it; the
    bundled file stays the template."""
    try:
        parse_mapping(raw)
    except MappingError as exc:
        raise SettingsError(f"the mapping was not written: {exc}") from exc
    path = user_mapping_file()
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(raw, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    os.replace(tmp, path)
    return path


def load_customer_map(path: Path | None = None) -> CustomerMap:
    path = path or _user_or_default(CUSTOMER_MAP_FILE)
    aliases = _read_json(path).get("aliases", {})
    if not isinstance(aliases, dict):
        raise SettingsError(f"{path}: 'aliases' must map spellings to customer names")
    return CustomerMap({str(k): str(v) for k, v in aliases.items()})


def operator_name() -> str:
    """Who stages a batch, as recorded in its history."""
    name = os.environ.get("ORDERS_SYNC_OPERATOR")
    if name:
        return name
    try:
        return getpass.getuser()
    except (KeyError, OSError):  # no passwd entry, as in some containers
        return "unknown"


def load_settings() -> dict[str, Any]:
    """The operator's settings.json (database, monday.com); empty on first run."""
    path = config_dir() / SETTINGS_FILE
    return _read_json(path) if path.is_file() else {}


def save_settings(settings: dict[str, Any]) -> Path:
    """Write settings.json atomically. Refuses anything that looks like a secret."""
    for section in settings.values():
        if isinstance(section, dict) and {"password", "token"} & set(section):
            raise SettingsError("secrets belong in the keyring, not in settings.json")
    path = config_dir() / SETTINGS_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(settings, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)
    return path
