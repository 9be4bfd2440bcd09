"""The API versions the sandbox serves, and which one a request's `API-Version` header gets.

What monday documents, and the sandbox does:
- several versions are served at once, each of a kind (the `VersionKind` enum of monday's
  published schema); a request names one in `API-Version`
  (https://developer.monday.com/api-reference/docs/api-versioning);
- no header: the current version ("used as the default version when no header is passed",
  same page). monday announced that calls without the header will be refused with
  `API_VERSION_REQUIRED` (HTTP 400) from a date still to be set; `api_version_required`
  turns that on here
  (https://developer.monday.com/api-reference/changelog/the-api-version-header-is-now-required);
- `API-Version: current` names the current version (same changelog entry);
- a retired version is not refused: it is routed to a version still served, the oldest one
  (2024-07 ... 2023-10 went to 2024-10, then the oldest served,
  https://developer.monday.com/api-reference/changelog/reminder-january-15th-2025-api-version-deprecations;
  2025-01 and 2024-10 to 2025-04,
  https://developer.monday.com/api-reference/changelog/deprecating-versions-2025-01-and-2024-10-on-february-15th-2026);
- the `version` query answers which version served the request
  (https://developer.monday.com/api-reference/docs/version), `versions` lists them all
  (https://developer.monday.com/api-reference/reference/versions).

Not documented, so the sandbox's own choice: a header that names no version (not
YYYY-MM with a quarter's first month, nor `current`) or a version newer than the newest one
served is refused with HTTP 400 and `INVALID_API_VERSION`, in the shape of monday's other
transport-level errors (https://developer.monday.com/api-reference/docs/error-handling).
A client must not retry it: the same header fails the same way.

Every version in the table is served with the same SDL (schema-2026-10.graphql): the types,
fields and arguments it holds are alike in monday's published 2026-04, 2026-07 and 2026-10
schemas (only optional arguments the sandbox does not serve differ).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass

# As of 2026-12: 2026-10 became current on 2026-10-26, 2026-07 moved to maintenance and
# 2027-01 became the release candidate
# (https://developer.monday.com/api-reference/changelog/2026-10-is-now-the-current-api-version).
# 2026-04, maintenance until then, is past it; its deprecation date was not announced in
# the pages read, so it is served as previous_maintenance (the kind monday's `versions`
# example gives the version before the maintenance one). Older versions are retired.
KNOWN_VERSIONS: dict[str, str] = {
    "2026-04": "previous_maintenance",
    "2026-07": "maintenance",
    "2026-10": "current",
    "2027-01": "release_candidate",
}
# VersionKind's values (monday's published 2026-10 schema) and their display names, as the
# `version` examples show them ("Release Candidate", "Previous Maintenance").
DISPLAY_NAMES: dict[str, str] = {
    "current": "Current",
    "maintenance": "Maintenance",
    "previous_maintenance": "Previous Maintenance",
    "old__maintenance": "Old Maintenance",
    "old_previous_maintenance": "Old Previous Maintenance",
    "release_candidate": "Release Candidate",
    "deprecated": "Deprecated",
    "dev": "Dev",
}
CURRENT_ALIAS = "current"
_NAME = re.compile(r"^\d{4}-(01|04|07|10)$")


@dataclass(frozen=True)
class ServedVersion:
    value: str
    kind: str

    def to_json(self) -> dict[str, str]:
        return {"value": self.value, "kind": self.kind, "display_name": DISPLAY_NAMES[self.kind]}


@dataclass(frozen=True)
class VersionRefusal:
    status: int
    code: str
    message: str


class VersionTable:
    """`resolve(header)`: the version that serves a request, or why it is refused."""

    def __init__(self, kinds: Mapping[str, str], *, required: bool = False) -> None:
        unknown = {k for k in kinds.values() if k not in DISPLAY_NAMES}
        bad = [v for v in kinds if not _NAME.match(v)]
        current = [v for v, k in kinds.items() if k == "current"]
        if unknown or bad or len(current) != 1:
            raise ValueError(
                "api_versions maps version names (YYYY-MM, a quarter's first month) to "
                f"kinds of {sorted(DISPLAY_NAMES)}, exactly one of them current; got "
                f"{dict(kinds)}"
            )
        self.versions = [ServedVersion(v, kinds[v]) for v in sorted(kinds)]
        self.current = next(s for s in self.versions if s.kind == "current")
        self.required = required

    def resolve(self, header: str | None) -> ServedVersion | VersionRefusal:
        name = (header or "").strip()
        if not name:
            if self.required:
                return VersionRefusal(
                    400,
                    "API_VERSION_REQUIRED",
                    "The API-Version header is required: pass a version name, for example "
                    f"API-Version: {self.current.value}",
                )
            return self.current
        if name == CURRENT_ALIAS:
            return self.current
        known = next((s for s in self.versions if s.value == name), None)
        if known is not None:
            return known
        if _NAME.match(name) and name < self.versions[0].value:
            return self.versions[0]  # retired: routed to the oldest version still served
        return VersionRefusal(
            400,
            "INVALID_API_VERSION",
            f"Invalid API version {name!r}: pass one of "
            f"{', '.join(s.value for s in self.versions)} or {CURRENT_ALIAS!r}",
        )
