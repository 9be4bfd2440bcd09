"""The API version: what the sandbox serves for each `API-Version` header, what the client
sends and learns, and where a setup takes its version from (monday/versions.py,
monday/sandbox/versions.py)."""

from __future__ import annotations

import dataclasses
import logging
from typing import Any

import pytest
import requests
from pushkit import TOKEN, quick_setup, stage

from orders_sync_gui.monday.board import fetch_board
from orders_sync_gui.monday.client import (
    ClientSettings,
    MondayClient,
    MondayRequestError,
    MondayStopError,
    served_version,
)
from orders_sync_gui.monday.sandbox import SandboxConfig, SandboxServer
from orders_sync_gui.monday.sandbox.versions import KNOWN_VERSIONS, VersionTable
from orders_sync_gui.monday.versions import (
    DEFAULT_API_VERSION,
    VERSION_QUERY,
    ServedVersion,
    check_api_version,
)
from orders_sync_gui.services import connection
from orders_sync_gui.services.monday_setup import monday_setup
from orders_sync_gui.services.push import push
from orders_sync_gui.settings import save_settings

NO_HEADER = object()
VERSION_DOC = "query { version { kind value } }"
VERSIONS_LOG = "orders_sync_gui.monday.versions"


def post(sandbox: SandboxServer, query: str, api_version: Any = NO_HEADER) -> requests.Response:
    headers = {"Authorization": TOKEN}
    if api_version is not NO_HEADER:
        headers["API-Version"] = api_version
    return requests.post(sandbox.url, json={"query": query}, headers=headers, timeout=10)


def client_for(sandbox: SandboxServer, api_version: str = DEFAULT_API_VERSION) -> MondayClient:
    settings = ClientSettings(url=sandbox.url, api_version=api_version, timeout_seconds=5.0)
    return MondayClient(TOKEN, settings)


def version_warnings(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        r.getMessage()
        for r in caplog.records
        if r.name == VERSIONS_LOG and r.levelno >= logging.WARNING
    ]


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


# ---------------------------------------------------------------------- the client
def test_the_pinned_default_is_the_sandboxs_current_version():
    assert KNOWN_VERSIONS[DEFAULT_API_VERSION] == "current"


@pytest.mark.parametrize("value", ["2025-4", "2026-05", "v2026-10", "latest", ""])
def test_a_setting_that_is_no_version_name_stops_the_client_before_it_sends(sandbox, value):
    with pytest.raises(ValueError, match=r"not a monday\.com API version"):
        check_api_version(value)
    with pytest.raises(MondayStopError, match="API version in Settings"):
        client_for(sandbox, value)
    assert sandbox.stats()["requests"] == 0


def test_the_client_sends_its_version_on_every_request(sandbox):
    client = client_for(sandbox, "2026-07")
    fetch_board(client, sandbox.board_id)  # the board, then its subitems board
    client.execute(VERSION_QUERY)
    assert sandbox.stats()["api_version_headers"] == {"2026-07": 3}
    assert sandbox.stats()["served_versions"] == {"2026-07": 3}


def test_served_version_rides_along_the_board_read(sandbox):
    client = client_for(sandbox)
    fetch_board(client, sandbox.board_id)
    before = sandbox.stats()["requests"]
    assert served_version(client) == ServedVersion("current", "2026-10")
    assert served_version(client) == ("current", "2026-10")  # a (kind, value) tuple
    assert sandbox.stats()["requests"] == before  # no request of its own


def test_served_version_asks_once_when_nothing_told_it_yet(sandbox):
    client = client_for(sandbox, "current")
    assert served_version(client) == ("current", "2026-10")
    assert served_version(client) == ("current", "2026-10")
    assert sandbox.stats()["requests"] == 1


def test_a_version_monday_refuses_is_a_request_error_not_retried(make_sandbox):
    sandbox = make_sandbox(api_versions={"2026-10": "current"})
    client = client_for(sandbox, "2027-01")  # a well-formed name this monday does not serve
    with pytest.raises(MondayRequestError, match="Invalid API version"):
        served_version(client)
    assert sandbox.stats()["requests"] == 1


@pytest.mark.parametrize(
    ("pinned", "served", "words"),
    [
        ("2026-07", ("maintenance", "2026-07"), "no longer monday's current version"),
        ("2026-04", ("previous_maintenance", "2026-04"), "no longer monday's current version"),
        ("2027-01", ("release_candidate", "2027-01"), "release candidate is unstable"),
        ("2025-04", ("previous_maintenance", "2026-04"), "routes a retired version elsewhere"),
    ],
)
def test_a_version_other_than_the_current_one_asked_for_is_warned_about_once(
    sandbox, caplog, pinned, served, words
):
    caplog.set_level(logging.INFO)
    client = client_for(sandbox, pinned)
    fetch_board(client, sandbox.board_id)
    fetch_board(client, sandbox.board_id)
    assert served_version(client) == served
    [warning] = version_warnings(caplog)
    assert words in warning and served[1] in warning
    assert f"set the API version in Settings to {DEFAULT_API_VERSION}" in warning


def test_a_warning_for_the_default_itself_says_to_update_orders_sync(make_sandbox, caplog):
    """The day monday makes a newer version current, the pinned one is maintenance."""
    caplog.set_level(logging.INFO)
    sandbox = make_sandbox(api_versions={DEFAULT_API_VERSION: "maintenance", "2027-01": "current"})
    fetch_board(client_for(sandbox), sandbox.board_id)
    [warning] = version_warnings(caplog)
    assert "no longer monday's current version" in warning and "update it" in warning


def test_the_current_version_asked_for_is_no_warning(sandbox, caplog):
    caplog.set_level(logging.INFO)
    fetch_board(client_for(sandbox), sandbox.board_id)
    assert version_warnings(caplog) == []


def test_a_push_learns_its_version_with_the_board_and_warns_for_a_maintenance_one(
    ctx, sandbox, caplog
):
    caplog.set_level(logging.INFO)
    setup = dataclasses.replace(quick_setup(ctx, sandbox), api_version="2026-07")
    report = push(ctx, stage(ctx, limit=3), setup)
    assert report.status == "PUSHED"
    assert setup.versions.served == ("maintenance", "2026-07")
    [warning] = version_warnings(caplog)
    assert "2026-07 (maintenance)" in warning
    headers = sandbox.stats()["api_version_headers"]
    assert headers == {"2026-07": sandbox.stats()["requests"]}


def test_settings_test_connection_names_the_version_served(ctx, sandbox):
    setup = quick_setup(ctx, sandbox)
    message = connection.test_monday(ctx, setup)
    assert message.endswith("API version 2026-10 (current)")
    assert sandbox.stats()["requests"] == 2  # the board and its subitems board: no more
    with pytest.raises(connection.ConnectionTestError, match="API version in Settings"):
        connection.test_monday(ctx, dataclasses.replace(setup, api_version="2026-5"))


# ---------------------------------------------------------------------- the setting
@pytest.mark.parametrize(
    ("saved", "used"),
    [
        (None, DEFAULT_API_VERSION),  # no settings.json at all
        ({}, DEFAULT_API_VERSION),
        ({"api_version": ""}, DEFAULT_API_VERSION),
        ({"api_version": "2026-07"}, "2026-07"),
        ({"api_version": " 2027-01 "}, "2027-01"),
        ({"api_version": "current"}, "current"),
        # what earlier releases saved as their default: monday has retired it
        ({"api_version": "2025-04"}, DEFAULT_API_VERSION),
    ],
)
def test_the_setup_takes_its_version_from_settings_json(ctx, saved, used):
    if saved is not None:
        save_settings({"monday": saved})
    setup = monday_setup(ctx, url="http://127.0.0.1:9/v2", token=TOKEN, board_id="1")
    assert setup.api_version == used
    client = setup.client()
    try:
        assert client.versions is setup.versions  # one reading for all clients of a setup
    finally:
        client.close()
