"""`orders-sync doctor --live-test`: the conformance run against the sandbox, its transcript,
and the transcript replayed through the client as a fixture.

tests/fixtures/live_test_transcript.json was recorded against the sandbox by the first test
here. To record it again (after a change to what the live test sends):

    ORDERS_SYNC_RECORD_TRANSCRIPT=1 pytest tests/monday/test_live_test.py -k sandbox

A transcript an operator sends back from monday.com is replayed the same way: save it
beside this one and replay it as `test_the_recorded_transcript_replays` does.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
from pathlib import Path
from typing import Any

import graphql
import pytest
from pushkit import TOKEN
from schemas import mondays_schema, sandbox_schema

from orders_sync_gui.cli import main
from orders_sync_gui.monday import probe, versions
from orders_sync_gui.monday.sandbox.app import SCHEMA_VERSION
from orders_sync_gui.monday.transcript import Replayer, replay_id
from orders_sync_gui.services.checks import Check, CheckRunner
from orders_sync_gui.services.live_test import run_live_test
from orders_sync_gui.services.monday_setup import MondaySetup
from orders_sync_gui.settings import load_mapping

FIXTURE = Path(__file__).resolve().parents[1] / "fixtures" / "live_test_transcript.json"
RECORD_ENV = "ORDERS_SYNC_RECORD_TRANSCRIPT"
# Labels on the sandbox's dropdown columns, so the item gets a value of every mapped type.
LABELS = {"dropdown_aag_season": ["SS26", "FW26"], "dropdown_category": ["TOP", "BOTTOM"]}
STEPS = [
    "read board",
    "scratch group",
    "create item",
    "create subitem",
    "change values",
    "bad value refused",
    "look up by record_uuid",
    "archive item",
    "delete item",
    "delete scratch group",
    "transcript",
]


def live(checks: list[dict[str, Any]] | list[Check]) -> dict[str, tuple[str, str]]:
    """{step: (status, detail)} of the live test's checks."""
    out = {}
    for check in checks:
        name, status, detail = (
            (check["name"], check["status"], check["detail"])
            if isinstance(check, dict)
            else (check.name, check.status, check.detail)
        )
        if name.startswith("live test: "):
            out[name.removeprefix("live test: ")] = (status, detail)
    return out


def test_the_live_test_passes_against_the_sandbox(
    db, make_sandbox, monkeypatch, capsys, isolated_home
):
    server = make_sandbox(labels=LABELS)
    monkeypatch.setenv("ORDERS_SYNC_MONDAY_URL", server.url)
    monkeypatch.setenv("MONDAY_API_TOKEN", TOKEN)
    monkeypatch.setenv("ORDERS_SYNC_BOARD_ID", server.board_id)
    capsys.readouterr()
    code = main(["--db", db, "doctor", "--live-test", "--json"])
    payload = json.loads(capsys.readouterr().out)
    steps = live(payload["checks"])
    assert code == 0 and payload["ok"] is True
    assert list(steps) == STEPS
    assert {s for s, _ in steps.values()} == {"pass"}, steps
    assert "date, dropdown, long_text, numbers, status, text" in steps["create item"][1]
    assert "ColumnValueException" in steps["bad value refused"][1]

    # Nothing is left on the board: the item deleted, the scratch group gone.
    dump = server.dump()
    assert [i["state"] for i in dump["items"]] == ["deleted"]
    assert [i["state"] for i in dump["items"][0]["subitems"]] == ["deleted"]
    titles = [g["title"] for g in dump["board"]["groups"] if not g.get("deleted")]
    assert not [t for t in titles if t.startswith("orders-sync live test")]

    # The transcript: every request and response, no token, no id.
    [path] = (isolated_home / "logs").glob("live-test-*.json")
    assert str(path) in steps["transcript"][1]
    text = path.read_text("utf-8")
    transcript = json.loads(text)
    assert len(transcript["exchanges"]) == 15
    ids = [server.board_id, server.subitems_board_id, dump["items"][0]["id"]]
    ids += [s["id"] for s in dump["items"][0]["subitems"]]
    for secret in [TOKEN, *ids, "Sandbox Operator"]:
        assert secret not in text, secret
    first = transcript["exchanges"][0]
    assert first["request"]["headers"]["Authorization"] == "<token>"
    assert first["request"]["body"]["variables"] == {"ids": ["<board 1>"]}
    if os.environ.get(RECORD_ENV):
        shutil.copyfile(path, FIXTURE)


def replay(transcript: dict[str, Any], folder: Path) -> tuple[list[Check], Replayer]:
    """The live test, answered by the transcript's responses in order."""
    replayer = Replayer(transcript["exchanges"])
    setup = MondaySetup(
        url="https://api.monday.com/v2",
        api_version="2025-04",
        board_id=replay_id("board", 1),
        token="replay-token",
        max_attempts=1,
    )
    runner = CheckRunner()
    run = transcript["run"]
    run_live_test(
        load_mapping(),
        setup,
        runner,
        adapter=replayer,
        record_uuid=run["record_uuid"],
        group_title=run["group_title"],
        folder=folder,
    )
    return runner.checks, replayer


@pytest.fixture
def recorded() -> dict[str, Any]:
    return json.loads(FIXTURE.read_text("utf-8"))


def test_the_recorded_transcript_holds_no_token_and_no_id(recorded):
    text = FIXTURE.read_text("utf-8")
    assert TOKEN not in text
    for sandbox_id in ("1800000001", "1800000002", "19000000"):
        assert sandbox_id not in text
    assert "<item 1>" in text and "<subitem 1>" in text and "<group 1>" in text


def test_the_recorded_transcript_replays(recorded, tmp_path):
    checks, replayer = replay(recorded, tmp_path)
    steps = live(checks)
    assert list(steps) == STEPS
    assert {s for s, _ in steps.values()} == {"pass"}, steps
    assert replayer.left == 0  # every recorded response was asked for, in order
    # The replay's own transcript has the recording's shape again.
    [again] = tmp_path.glob("live-test-*.json")
    assert len(json.loads(again.read_text("utf-8"))["exchanges"]) == len(recorded["exchanges"])


def _answer(transcript: dict[str, Any], field: str) -> dict[str, Any]:
    """The data of the first response to a request that names `field`."""
    for exchange in transcript["exchanges"]:
        if f"{field}(" in exchange["request"]["body"]["query"]:
            return exchange["response"]["body"]["data"]
    raise AssertionError(f"no request names {field}")


def _no_item_id(transcript: dict[str, Any]) -> None:
    del _answer(transcript, "create_item")["r0"]["id"]


def _no_subitems(transcript: dict[str, Any]) -> None:
    for item in _answer(transcript, "items_page_by_column_values")["items_page_by_column_values"][
        "items"
    ]:
        del item["subitems"]


def _no_state(transcript: dict[str, Any]) -> None:
    archived = [
        e
        for e in transcript["exchanges"]
        if "items(ids:" in e["request"]["body"]["query"]
        and e["response"]["body"]["data"]["items"][0].get("state") == "archived"
    ]
    archived[0]["response"]["body"]["data"]["items"][0]["state"] = "active"


@pytest.mark.parametrize(
    ("change", "step", "words"),
    [
        (_no_item_id, "create item", "the answer has no 'id'"),
        (_no_subitems, "look up by record_uuid", "without its subitem M"),
        (_no_state, "archive item", "state reads 'active'"),
    ],
)
def test_a_changed_response_shape_fails_its_step(recorded, tmp_path, change, step, words):
    changed = copy.deepcopy(recorded)
    change(changed)
    checks, _ = replay(changed, tmp_path)
    steps = live(checks)
    status, detail = steps[step]
    assert status == "fail" and words in detail, steps
    before = STEPS[: STEPS.index(step)]
    assert all(steps[s][0] == "pass" for s in before), steps


@pytest.mark.parametrize("which", ["sandbox SDL", "monday's SDL"])
def test_the_doctors_own_documents_validate_against_the_pinned_schema(which):
    schema = sandbox_schema() if which == "sandbox SDL" else mondays_schema(SCHEMA_VERSION)
    for query in (
        probe.ME_QUERY,
        versions.VERSION_QUERY,
        probe.ITEMS_QUERY,
        probe.DELETE_GROUP_MUTATION,
    ):
        assert graphql.validate(schema, graphql.parse(query)) == [], query
