"""Which monday.com API version the client asks for, and which one it was served.

monday releases an API version every quarter, named after the year and the first month of
the quarter it becomes current in (2026-10); several are served at once, each with a kind:
release candidate, current, maintenance, then older maintenance kinds, then deprecated.
A request names its version in the `API-Version` header; without one it gets the current
version. A retired version is not refused: monday routes it to a newer one it still serves,
so a client pinned to it silently runs on another schema. The `version { kind value }`
root query says which version served the request, so the client reads it once per setup
(it rides along the board read, see board.BOARD_QUERY) and warns when that version is not
the current one it asked for; client.served_version(client) returns it.

Docs (read 2026-12):
- https://developer.monday.com/api-reference/docs/api-versioning (kinds, life cycle, the
  current version is the default when no header is passed)
- https://developer.monday.com/api-reference/changelog/2026-10-is-now-the-current-api-version
  (2026-10 current since 2026-10-26; 2026-07 maintenance; 2027-01 release candidate)
- https://developer.monday.com/api-reference/changelog/the-api-version-header-is-now-required
  (2026-11-27: send the header on every request; `current` names the current version)
- https://developer.monday.com/api-reference/docs/version (the `version` query: `kind`,
  `value`, `display_name`; at the root only)
- https://developer.monday.com/api-reference/changelog/deprecating-versions-2025-01-and-2024-10-on-february-15th-2026
  (retired versions are routed to a newer one)
"""

from __future__ import annotations

import logging
import re
import threading
from typing import Any, NamedTuple

log = logging.getLogger(__name__)

# The version this release of orders-sync is built and tested against: every document the
# client sends validates against monday's published 2026-10 schema (tests/monday), and the
# sandbox serves it as the current version. monday made it current on 2026-10-26.
DEFAULT_API_VERSION = "2026-10"
# What earlier releases of orders-sync wrote into settings.json as their default (the
# Settings dialog saves the field as shown). monday has retired it: it would be served as
# another version, so a setup reading it uses DEFAULT_API_VERSION instead (monday_setup).
LEGACY_DEFAULT_API_VERSIONS = frozenset({"2025-04"})
# `current`: the header value naming whatever version is current (the changelog above).
CURRENT_ALIAS = "current"
_VERSION_NAME = re.compile(r"^\d{4}-(01|04|07|10)$")

# The kinds of VersionKind (monday's published 2026-10 schema) that call for a warning:
# anything but the current version. A release candidate is unstable, not for production;
# maintenance kinds only get bug fixes until they are deprecated; a deprecated one is about
# to be routed elsewhere; `dev` changes all the time.
WARNING_KINDS = frozenset(
    {
        "release_candidate",
        "maintenance",
        "previous_maintenance",
        "old__maintenance",
        "old_previous_maintenance",
        "deprecated",
        "dev",
    }
)

VERSION_FIELD = "version { kind value }"
VERSION_QUERY = "query { version { kind value } }"


class ServedVersion(NamedTuple):
    """The version that served a request: (kind, value), e.g. ("current", "2026-10")."""

    kind: str
    value: str


def check_api_version(value: str) -> str:
    """`value` stripped, or ValueError: a version name (YYYY-MM, the month one of 01, 04,
    07, 10, as monday's own SDK checks) or `current`."""
    name = value.strip()
    if name == CURRENT_ALIAS or _VERSION_NAME.match(name):
        return name
    raise ValueError(
        f"{value!r} is not a monday.com API version: expected a version name such as "
        f"{DEFAULT_API_VERSION} (YYYY-MM, the month 01, 04, 07 or 10) or {CURRENT_ALIAS!r}"
    )


def configured_api_version(configured: Any) -> str:
    """The version a setup asks for, from settings.json's `monday.api_version`: the default
    when unset or when it is the default of an earlier release (see
    LEGACY_DEFAULT_API_VERSIONS); otherwise the configured value, as written."""
    name = str(configured or "").strip()
    if not name:
        return DEFAULT_API_VERSION
    if name in LEGACY_DEFAULT_API_VERSIONS:
        log.info(
            "settings.json pins monday.com API version %s, the default of earlier releases "
            "of orders-sync, which monday has retired; using %s",
            name,
            DEFAULT_API_VERSION,
        )
        return DEFAULT_API_VERSION
    return name


def served_mismatch(requested: str, served: ServedVersion) -> str | None:
    """Why the served version deserves a warning, or None when it is the one asked for and
    current."""
    routed = requested not in (CURRENT_ALIAS, served.value)
    if not routed and served.kind not in WARNING_KINDS:
        return None
    what = f"monday.com served API version {served.value} ({served.kind})"
    if requested != DEFAULT_API_VERSION:
        advice = (
            f"set the API version in Settings to {DEFAULT_API_VERSION}, the one this release "
            "of orders-sync is checked against"
        )
    else:
        advice = f"this release of orders-sync is checked against {DEFAULT_API_VERSION}: update it"
    if routed:
        why = f"requests asked for {requested}, and monday routes a retired version elsewhere"
    elif served.kind == "release_candidate":
        why = "a release candidate is unstable, not for production use"
    else:
        why = "it is no longer monday's current version"
    return f"{what}: {why}; {advice}"


class VersionWatch:
    """What the clients of one setup learned about the version serving them (shared like
    the Pacer): noted from any response whose data holds `version`, warned about once."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._served: ServedVersion | None = None

    @property
    def served(self) -> ServedVersion | None:
        with self._lock:
            return self._served

    def note(self, requested: str, raw: Any) -> ServedVersion | None:
        if not isinstance(raw, dict) or not raw.get("value"):
            return None
        served = ServedVersion(str(raw.get("kind") or ""), str(raw["value"]))
        with self._lock:
            changed, self._served = served != self._served, served
        if changed:
            problem = served_mismatch(requested, served)
            if problem:
                log.warning("%s", problem)
            else:
                log.info("monday.com API version %s (%s)", served.value, served.kind)
        return served
