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
from .core.schema import (
    FLAG,
    NUMBER,
    TEXT,
    WHOLE,
    ListOf,
    Obj,
    SchemaError,
    Spec,
    check,
    either,
    one_of,
    optional,
)
from .paths import config_dir
from .resources import resource_path

MAPPING_FILE = "board_mapping.json"
SETTINGS_FILE = "settings.json"
CUSTOMER_MAP_FILE = "customer_map.json"
DB_URL_ENV = "ORDERS_SYNC_DB_URL"


class SettingsError(RuntimeError):
    pass


# Every key settings.json may hold, and of what kind: anything else is refused when the file
# is read or written (core/schema.py). `limits` are services.monday_setup.Limits' fields.
_WHOLE_LIMITS = (
    "complexity_per_minute",
    "max_complexity_per_request",
    "requests_per_minute",
    "mutations_per_minute",
    "daily_requests",
    "mutation_cost",
    "max_mutations_per_request",
    "max_items_per_board",
)
_NUMBER_LIMITS = ("seconds_per_request", "window_seconds")
SETTINGS_SCHEMA = Obj(
    {
        "database": Obj(
            {
                "kind": one_of("sqlite", "sqlserver"),
                "path": TEXT,
                "server": TEXT,
                "database": TEXT,
                "driver": TEXT,
                "trusted_connection": FLAG,
                "username": optional(TEXT),
                "encrypt": FLAG,
                "trust_server_certificate": FLAG,
            }
        ),
        "monday": Obj(
            {
                "url": TEXT,
                "api_version": optional(TEXT),
                "board_id": optional(either(TEXT, WHOLE)),
                "limits": Obj(
                    {
                        **dict.fromkeys(_WHOLE_LIMITS, WHOLE),
                        **dict.fromkeys(_NUMBER_LIMITS, NUMBER),
                    }
                ),
                "timeout_seconds": NUMBER,
                "deadline_seconds": NUMBER,
                "max_attempts": WHOLE,
                "max_wait_seconds": NUMBER,
                "base_backoff_seconds": NUMBER,
                "max_backoff_seconds": NUMBER,
            }
        ),
        "mapping_file": TEXT,
        # `orders-sync run --notify` (services/notify.py); the webhook's URL is a secret.
        "notify": Obj(
            {
                "webhook": one_of("teams", "slack"),
                "smtp": Obj(
                    {
                        "host": TEXT,
                        "port": WHOLE,
                        "starttls": FLAG,
                        "username": optional(TEXT),
                        "sender": TEXT,
                        "to": ListOf(TEXT),
                    }
                ),
            }
        ),
    }
)
CUSTOMER_MAP_SCHEMA = Obj({"aliases": Obj(values=TEXT)})


def _checked(path: Path, data: dict[str, Any], schema: Spec) -> dict[str, Any]:
    """`data` once it fits `schema`; else one SettingsError naming the file and each key."""
    try:
        check(data, schema)
    except SchemaError as exc:
        raise SettingsError(f"{path}: {exc}") from exc
    return data


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
    aliases = _checked(path, _read_json(path), CUSTOMER_MAP_SCHEMA).get("aliases", {})
    return CustomerMap({str(k): str(v) for k, v in aliases.items()})


def file_problems() -> list[str]:
    """What is wrong with the operator's files (settings.json, the board mapping, the
    customer map): one message each, naming the file and every key; empty when all load."""
    problems = []
    for load in (load_settings, load_mapping, load_customer_map):
        try:
            load()
        except SettingsError as exc:
            problems.append(str(exc))
    return problems


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
    return _checked(path, _read_json(path), SETTINGS_SCHEMA) if path.is_file() else {}


def save_settings(settings: dict[str, Any]) -> Path:
    """Write settings.json atomically. Refuses anything that looks like a secret."""
    for section in settings.values():
        if isinstance(section, dict) and {"password", "token"} & set(section):
            raise SettingsError("secrets belong in the keyring, not in settings.json")
    path = config_dir() / SETTINGS_FILE
    _checked(path, settings, SETTINGS_SCHEMA)  # never writes what would be refused
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(settings, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)
    return path
