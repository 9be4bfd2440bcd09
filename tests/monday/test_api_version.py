"""The API version: what the sandbox serves for each `API-Version` header
(monday/sandbox/versions.py)."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from pushkit import TOKEN

from orders_sync_gui.monday.sandbox import SandboxConfig, SandboxServer
from orders_sync_gui.monday.sandbox.versions import KNOWN_VERSIONS, VersionTable

NO_HEADER = object()
VERSION_DOC = "query { version { kind value } }"


def post(sandbox: SandboxServer, query: str, api_version: Any = NO_HEADER) -> requests.Response:
    headers = {"Authorization": TOKEN}
    if api_version is not NO_HEADER:
        headers["API-Version"] = api_version
    return requests.post(sandbox.url, json={"query": query}, headers=headers, timeout=10)


# ---------------------------------------------------------------------- the sandbox
@pytest.mark.parametrize(
    ("header", "value", "kind", "display_name"),
    [
        ("2026-10", "2026-10", "current", "Current"),
        ("2026-07", "2026-07", "maintenance", "Maintenance"),
        ("2026-04", "2026-04", "previous_maintenance", "Previous Maintenance"),
        ("2027-01", "2027-01", "release_candidate", "Release Candidate"),
        (NO_HEADER, "2026-10", "current", "Current"),  # no header: the current version
        ("current", "2026-10", "current", "Current"),  # monday's name for it
        ("2025-04", "2026-04", "previous_maintenance", "Previous Maintenance"),  # retired
        ("2023-10", "2026-04", "previous_maintenance", "Previous Maintenance"),
    ],
)
def test_the_version_query_says_which_version_served_the_request(
    sandbox, header, value, kind, display_name
):
    response = post(sandbox, "query { version { kind value display_name } }", header)
    assert response.status_code == 200, response.text
    assert response.json()["data"]["version"] == {
        "kind": kind,
        "value": value,
        "display_name": display_name,
    }


def test_the_versions_query_lists_every_version_served(sandbox):
    response = post(sandbox, "query { versions { kind value } }", "2026-10")
    assert response.json()["data"]["versions"] == [
        {"value": v, "kind": k} for v, k in sorted(KNOWN_VERSIONS.items())
    ]


@pytest.mark.parametrize("header", ["banana", "2026-05", "2026-13", "26-10", "2027-04", "dev"])
def test_a_header_that_names_no_served_version_is_refused_before_anything_runs(sandbox, header):
    mutation = f'mutation {{ create_item(board_id: {sandbox.board_id}, item_name: "x") {{ id }} }}'
    response = post(sandbox, mutation, header)
    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["extensions"] == {"code": "INVALID_API_VERSION", "status_code": 400}
    assert repr(header) in error["message"]
    stats = sandbox.stats()
    assert stats["items"] == 0 and stats["budget_used"] == 0
    assert stats["api_version_headers"] == {header: 1} and stats["served_versions"] == {}


def test_a_missing_header_is_refused_once_monday_requires_it(make_sandbox):
    sandbox = make_sandbox(api_version_required=True)
    response = post(sandbox, VERSION_DOC)
    assert response.status_code == 400
    assert response.json()["errors"][0]["extensions"]["code"] == "API_VERSION_REQUIRED"
    assert post(sandbox, VERSION_DOC, "2026-10").status_code == 200


def test_the_sandbox_can_be_given_another_table_of_versions(make_sandbox):
    sandbox = make_sandbox(api_versions={"2026-07": "deprecated", "2026-10": "current"})
    response = post(sandbox, "query { version { kind value } }", "2026-07")
    assert response.json()["data"]["version"] == {"kind": "deprecated", "value": "2026-07"}
    assert post(sandbox, VERSION_DOC, "2027-01").status_code == 400  # not in this table


@pytest.mark.parametrize(
    "table",
    [
        {"2026-10": "maintenance"},  # no current version
        {"2026-07": "current", "2026-10": "current"},
        {"2026-10": "current", "2026-11": "maintenance"},  # not a version name
        {"2026-10": "current", "2026-07": "stable"},  # not a VersionKind
    ],
)
def test_a_table_of_versions_monday_could_not_serve_is_refused(table):
    with pytest.raises(ValueError, match="api_versions"):
        VersionTable(table)
    with pytest.raises(ValueError, match="api_versions"):
        SandboxServer(SandboxConfig(token=TOKEN, api_versions=table))
