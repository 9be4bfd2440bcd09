"""One text form per value, so that the same data hashes the same on every database.

SQLite hands back strings or floats where SQL Server hands back Decimals and datetimes; the
canonical form erases those differences: numbers lose trailing zeros (`5`, `5.0` and
`Decimal("5.00")` all become "5"), datetimes become ISO text (a midnight becomes a plain
date), strings become Unicode NFC. NULL stays None, so it never equals the empty string.
"""

from __future__ import annotations

import math
import unicodedata
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from .columns import Kind


class CanonicalError(ValueError):
    """A value that has no honest canonical form (infinity, an unreadable date ...)."""


def is_null(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    # pandas.NA and NaT compare as neither equal nor unequal to themselves.
    try:
        return bool(value != value)
    except (TypeError, ValueError):
        return True


def canonical_number(value: Any) -> str:
    if isinstance(value, bool):
        raise CanonicalError(f"expected a number, got a boolean {value!r}")
    try:
        dec = value if isinstance(value, Decimal) else Decimal(str(value).strip())
    except InvalidOperation as exc:
        raise CanonicalError(f"{value!r} is not a number") from exc
    if not dec.is_finite():
        raise CanonicalError(f"{value!r} is not a finite number")
    if dec == 0:
        return "0"  # also folds -0 and 0E-4
    text = format(dec.normalize(), "f")
    return text


def canonical_datetime(value: Any) -> str:
    if isinstance(value, str):
        text = value.strip()
        try:
            value = datetime.fromisoformat(text)
        except ValueError as exc:
            raise CanonicalError(f"{value!r} is not a date") from exc
    elif hasattr(value, "to_pydatetime"):  # pandas.Timestamp
        value = value.to_pydatetime()
    if isinstance(value, datetime):
        if value.tzinfo is not None:
            raise CanonicalError(f"{value!r} carries a time zone; the source stores local dates")
        if (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0):
            return value.date().isoformat()
        spec = "microseconds" if value.microsecond else "seconds"
        return value.isoformat(timespec=spec)
    if isinstance(value, date):
        return value.isoformat()
    raise CanonicalError(f"{value!r} is not a date")


def canonical_text(value: Any) -> str:
    if not isinstance(value, str):
        value = str(value)
    return unicodedata.normalize("NFC", value)


def canonical(kind: Kind, value: Any) -> str | None:
    """The canonical text of one value of a column of this kind; None for NULL."""
    if is_null(value):
        return None
    if kind is Kind.TEXT:
        return canonical_text(value)
    if kind is Kind.DATETIME:
        return canonical_datetime(value)
    return canonical_number(value)
