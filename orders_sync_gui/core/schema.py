"""A small strict checker for the JSON files an operator edits (settings.json, the board
mapping, the customer map): an unknown key (a typo such as `daily_request`) or a value of
the wrong type (`"1000000"` where a number belongs) is refused when the file is read, named
by its key path with what was expected, instead of being ignored or failing later.

A key starting with "_" is a comment (the bundled files use `_comment`).
"""

from __future__ import annotations

import difflib
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


class SchemaError(ValueError):
    """Every problem of one file, each naming its key and what was expected."""

    def __init__(self, problems: list[str]) -> None:
        super().__init__("; ".join(problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class Kind:
    """A value's expected kind: its words for a message, and the test."""

    expected: str
    accepts: Callable[[Any], bool]


def _whole(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


TEXT = Kind("a text", lambda v: isinstance(v, str))
WHOLE = Kind("a whole number", _whole)
NUMBER = Kind("a number", lambda v: _whole(v) or isinstance(v, float))
FLAG = Kind("true or false", lambda v: isinstance(v, bool))


def optional(kind: Kind) -> Kind:
    return Kind(f"{kind.expected} or null", lambda v: v is None or kind.accepts(v))


def either(*kinds: Kind) -> Kind:
    return Kind(" or ".join(k.expected for k in kinds), lambda v: any(k.accepts(v) for k in kinds))


def one_of(*values: str) -> Kind:
    return Kind("one of " + ", ".join(json.dumps(v) for v in values), lambda v: v in values)


@dataclass(frozen=True, slots=True)
class ListOf:
    item: Spec


@dataclass(frozen=True, slots=True)
class Obj:
    """An object with these keys (each optional), or, with `values`, any keys whose values
    are all of that spec (a map such as the customer aliases)."""

    keys: dict[str, Spec] = field(default_factory=dict)
    values: Spec | None = None


Spec = Kind | ListOf | Obj


def describe(value: Any) -> str:
    """A value as a message shows it: its JSON kind, and a short one itself."""
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, str):
        shown = value if len(value) <= 40 else value[:37] + "..."
        return f"the text {json.dumps(shown, ensure_ascii=False)}"
    if isinstance(value, int | float):
        return f"the number {value}"
    return "a list" if isinstance(value, list) else "an object"


def _problems(value: Any, spec: Spec, where: str) -> list[str]:
    named = where or "the file"
    if isinstance(spec, Kind):
        if spec.accepts(value):
            return []
        return [f'"{named}": expected {spec.expected}, not {describe(value)}']
    if isinstance(spec, ListOf):
        if not isinstance(value, list):
            return [f'"{named}": expected a list, not {describe(value)}']
        return [p for i, v in enumerate(value) for p in _problems(v, spec.item, f"{where}[{i}]")]
    if not isinstance(value, dict):
        return [f'"{named}": expected an object, not {describe(value)}']
    found: list[str] = []
    prefix = f"{where}." if where else ""
    for key, item in value.items():
        if str(key).startswith("_"):
            continue  # a comment
        if spec.values is not None:
            found += _problems(item, spec.values, f"{prefix}{key}")
        elif key in spec.keys:
            found += _problems(item, spec.keys[key], f"{prefix}{key}")
        else:
            found.append(_unknown(f"{prefix}{key}", str(key), spec))
    return found


def _unknown(path: str, key: str, spec: Obj) -> str:
    close = difflib.get_close_matches(key, list(spec.keys), n=1)
    hint = f'did you mean "{close[0]}"? ' if close else ""
    return f'"{path}": unknown key ({hint}expected one of: {", ".join(spec.keys)})'


def check(value: Any, spec: Spec) -> None:
    """Raise SchemaError naming every problem of `value` against `spec`."""
    problems = _problems(value, spec, "")
    if problems:
        raise SchemaError(problems)
