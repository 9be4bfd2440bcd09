"""record_uuid's column types: dashed strings in Python on every dialect, read fast."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import ColumnElement, String, Text, Uuid, case, cast, func, type_coerce
from sqlalchemy.dialects.mssql import NVARCHAR

_HEX32 = re.compile(r"[0-9a-f]{32}")


class FastUuid(Uuid[str]):
    """Uuid(as_uuid=False) whose reads skip uuid.UUID for the 32 lower-case hex digits
    a dialect without a uuid type (SQLite) stores: SQLAlchemy's own processing parses and
    prints each value (about 3 µs), five seconds of a million-row detection. Anything
    else goes through SQLAlchemy's processing unchanged."""

    cache_ok = True

    def __init__(self) -> None:
        super().__init__(as_uuid=False)

    def result_processor(self, dialect: Any, coltype: object) -> Any:
        strict = super().result_processor(dialect, coltype)
        if strict is None:
            return None
        hex32 = _HEX32.fullmatch

        def process(value: object) -> object:
            if isinstance(value, str) and len(value) == 32 and hex32(value):
                v = value
                return f"{v[:8]}-{v[8:12]}-{v[12:16]}-{v[16:20]}-{v[20:]}"
            return strict(value)

        return process


class LenientUuid(FastUuid):
    """record_uuid as read from ORDERS_UNIFIED: FastUuid, except that a value which is
    no UUID comes back as its raw text (for the row check to name that one row, "has no
    valid record_uuid").

    A plain Uuid would raise ValueError in the result processing on one malformed value
    (SQLite keeps any text, as a careless load leaves it) and sink the whole read:
    detection, preview and staging of every customer.
    """

    cache_ok = True

    def result_processor(self, dialect: Any, coltype: object) -> Any:
        inner = super().result_processor(dialect, coltype)
        if inner is None:
            return None

        def process(value: object) -> object:
            try:
                return inner(value)
            except (ValueError, TypeError, AttributeError):
                return value if isinstance(value, str) else repr(value)

        return process


def dashed_text(col: ColumnElement[Any], dialect: str | None) -> ColumnElement[Any]:
    """A uuid column as the dashed lower-case text, made by the database: no Python object
    per value for a streamed read of a million rows (SQLAlchemy's processing of a million
    uuids was seconds of a count). A value that is no uuid comes through as stored, for
    the row check to name it. Other dialects (or None): the column, processed as usual."""
    if dialect == "sqlite":
        # Uuid stores 32 hex digits on SQLite; anything else a careless load left as it is.
        parts: list[ColumnElement[Any]] = [
            func.substr(col, start, length) for start, length in _GROUPS
        ]
        joined = parts[0]
        for part in parts[1:]:
            joined = joined.concat("-").concat(part)
        return type_coerce(case((func.length(col) == 32, func.lower(joined)), else_=col), String)
    if dialect == "postgresql":
        return type_coerce(cast(col, Text), String)
    if dialect == "mssql":
        return type_coerce(func.lower(cast(col, NVARCHAR(36))), String)
    return col


_GROUPS = ((1, 8), (9, 4), (13, 4), (17, 4), (21, 12))
