"""Checks as the doctor reports them: a name, pass / warn / fail / skip, one line of detail
and one line of fix. A check that raises is a failed check with its message, never a
traceback; secrets named to the runner never appear in a detail or a fix."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)

PASS = "pass"
WARN = "warn"
FAIL = "fail"
SKIP = "skip"
_RANK = {FAIL: 0, WARN: 1, SKIP: 2, PASS: 3}
DETAILS_FIX = "run `orders-sync -v doctor` to log the details"


@dataclass(frozen=True, slots=True)
class Check:
    name: str
    status: str  # pass | warn | fail | skip
    detail: str
    fix: str = ""

    def to_dict(self) -> dict[str, str]:
        return {"name": self.name, "status": self.status, "detail": self.detail, "fix": self.fix}

    def line(self) -> str:
        fix = f"; fix: {self.fix}" if self.fix and self.status != PASS else ""
        return f"{self.status.upper():<4}  {self.name}: {self.detail}{fix}"


class Skipped(Exception):
    """Raised by a check whose prerequisite failed: it reports skip, with the reason."""

    def __init__(self, detail: str, fix: str = "") -> None:
        super().__init__(detail)
        self.detail = detail
        self.fix = fix


Outcome = tuple[str, str, str]  # (status, detail, fix)


def one_line(exc: BaseException) -> str:
    """An exception as one line: a driver's own first line for database errors."""
    if isinstance(exc, DBAPIError) and exc.orig is not None:
        text = str(exc.orig).strip()
        return f"database error: {text.splitlines()[0] if text else type(exc.orig).__name__}"
    if isinstance(exc, KeyError) and exc.args:  # an answer without a field read from it
        return f"the answer has no {exc.args[0]!r} where one was expected"
    text = str(exc).strip() or type(exc).__name__
    return "; ".join(part.strip() for part in text.splitlines() if part.strip())


@dataclass(slots=True)
class CheckRunner:
    """Runs checks one by one, each in its own try, and keeps what they report."""

    checks: list[Check] = field(default_factory=list)
    _secrets: list[str] = field(default_factory=list, repr=False)

    def hide(self, secret: str | None) -> None:
        """Never show this text (a token) in what is reported."""
        if secret and secret not in self._secrets:
            self._secrets.append(secret)

    def _clean(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "<token>")
        return " ".join(text.split("\n")).strip()

    def add(self, name: str, status: str, detail: str, fix: str = "") -> Check:
        check = Check(name, status, self._clean(detail), self._clean(fix))
        self.checks.append(check)
        return check

    def run(self, name: str, test: Callable[[], Outcome]) -> Check:
        try:
            status, detail, fix = test()
        except Skipped as skipped:
            status, detail, fix = SKIP, skipped.detail, skipped.fix
        except Exception as exc:  # a check reports its own failure; the next one runs
            log.debug("check %r failed", name, exc_info=True)
            status, detail, fix = FAIL, one_line(exc), DETAILS_FIX
        return self.add(name, status, detail, fix)


def failing_first(checks: list[Check]) -> list[Check]:
    """fail, then warn, then skip, then pass; in run order within each."""
    return sorted(checks, key=lambda c: _RANK.get(c.status, 0))


def ok(checks: list[Check]) -> bool:
    return all(c.status != FAIL for c in checks)


def listed(items: list[Any], limit: int = 5) -> str:
    """'a, b, c and 4 more'."""
    shown = ", ".join(str(i) for i in items[:limit])
    return shown + (f" and {len(items) - limit} more" if len(items) > limit else "")
