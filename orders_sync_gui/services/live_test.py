"""`orders-sync doctor --live-test`: a conformance run on the real board, an operator can
send back.

In a scratch group of its own ("orders-sync live test <time>") it creates an item with a
value in every mapped column (of every mapped type), a subitem, changes values on both,
sends one deliberately bad value (monday must refuse it, for that field alone), looks the
item up by its record_uuid column, archives and deletes it, and deletes the group. Each
step is a check. What it made is removed also when a step fails. Every request and
response goes to a transcript in the log folder, the token and ids redacted
(monday/transcript.py), so a run against monday.com can become a test fixture.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from ..core.board_values import column_value, compact_json
from ..core.mapping import BoardColumn, BoardMapping
from ..monday.board import GROUP_MUTATION, Board, fetch_board, find_items
from ..monday.client import MondayClient, MondayRequestError
from ..monday.operations import ChunkPolicy, Operation, OperationResult, run_operations
from ..monday.probe import delete_group, read_items
from ..monday.transcript import Recorder
from ..paths import log_dir
from .checks import FAIL, PASS, WARN, Check, CheckRunner, Outcome, Skipped
from .monday_setup import MondaySetup

LIVE = "live test: "
ITEM_NAME = "orders-sync live test"
SIZE = "M"
BAD_NUMBER = "not a number"
# (first value, changed value) per column type; status and dropdown take the board's labels.
_SAMPLES = {
    "text": ("orders-sync live test", "orders-sync live test, changed"),
    "numbers": ("42", "43"),
    "date": ("2026-01-15", "2026-02-16"),
    "long_text": ("orders-sync live test\nsecond line", "orders-sync live test\nchanged"),
}


def _sample(column: BoardColumn, board: Board, which: int) -> str | None:
    if column.type in ("status", "dropdown"):
        labels = board.labels.get(column.column_id) or []
        # An existing label only: a live test must not add labels to a real board.
        return labels[min(which, len(labels) - 1)] if labels else None
    return _SAMPLES[column.type][which]


@dataclass(slots=True)
class _LiveRun:
    mapping: BoardMapping
    client: MondayClient
    board_id: str
    runner: CheckRunner
    recorder: Recorder
    record_uuid: str
    group_title: str
    board: Board | None = None
    group_id: str | None = None
    item_id: str | None = None
    subitem_id: str | None = None
    item_gone: bool = False
    group_gone: bool = False
    changed: dict[str, str] = field(default_factory=dict)  # column id -> text expected
    _sent: int = 0

    def step(self, name: str, test: Callable[[], Outcome]) -> Check:
        return self.runner.run(LIVE + name, test)

    def _need(self, value: str | None, what: str) -> str:
        if value is None:
            raise Skipped(f"no {what} to work on (an earlier step failed)")
        return value

    def send(self, *ops: Operation) -> list[OperationResult]:
        """Mutations as the push sends them: aliased, with an Idempotency-Key of their own."""
        self._sent += 1
        scope = f"live-test|{self.record_uuid}|{self._sent}"
        results = [
            result
            for batch in run_operations(self.client, ops, scope=scope, policy=ChunkPolicy())
            for result in batch
        ]
        for result in results:
            if result.item_id is not None:
                kind = "subitem" if result.op.kind == "create_subitem" else "item"
                self.recorder.name_id(result.item_id, kind)
        return results

    # ------------------------------------------------------------------ the steps
    def read_board(self) -> Outcome:
        self.board = fetch_board(self.client, self.board_id)
        return PASS, f"board {self.board.board_id}: {len(self.board.columns)} columns", ""

    def make_group(self) -> Outcome:
        board = self.board
        if board is None:
            raise Skipped("the board could not be read")
        result = self.client.execute(
            GROUP_MUTATION, {"board": board.board_id, "name": self.group_title}, mutation=True
        )
        if result.field_errors:
            return FAIL, f"refused: {next(iter(result.field_errors.values()))}", ""
        self.group_id = str(result.data["create_group"]["id"])
        self.recorder.name_id(self.group_id, "group")
        return PASS, f"made the group '{self.group_title}'", ""

    def create_item(self) -> Outcome:
        group, board = self._need(self.group_id, "group"), self.board
        assert board is not None
        values: dict[str, Any] = {}
        types, skipped = set(), []
        for mapped in self.mapping.columns:
            value = _sample(mapped.column, board, 0)
            if value is None:
                skipped.append(mapped.column.column_id)
                continue
            values[mapped.column.column_id] = column_value(mapped.column, value)
            types.add(mapped.column.type)
        values[self.mapping.record_uuid_column.column_id] = self.record_uuid
        values[self.mapping.order_qty_column.column_id] = "3"
        types.update({"text", "numbers"})  # the record_uuid and order quantity columns
        args = {
            "board_id": board.board_id,
            "item_name": ITEM_NAME,
            "group_id": group,
            "column_values": compact_json(values),
            "create_labels_if_missing": True,
        }
        [result] = self.send(Operation("r0", "create_item", args))
        if result.error is not None:
            return FAIL, f"monday.com refused the item: {result.error}", ""
        self.item_id = result.item_id
        read = read_items(self.client, [self._need(self.item_id, "item")], list(values))
        texts = read[self._need(self.item_id, "item")].texts
        uid = texts.get(self.mapping.record_uuid_column.column_id)
        if uid != self.record_uuid:
            return FAIL, f"the item's record_uuid column reads {uid!r}", ""
        note = f"; no label to try in {', '.join(skipped)}" if skipped else ""
        detail = f"{len(values)} columns of types {', '.join(sorted(types))}{note}"
        if skipped:
            return WARN, detail, "give those columns a label on the board to have them tried"
        return PASS, detail, ""

    def create_subitem(self) -> Outcome:
        item = self._need(self.item_id, "item")
        values = {
            self.mapping.subitem_size_column.column_id: SIZE,
            self.mapping.subitem_qty_column.column_id: "3",
        }
        args = {
            "parent_item_id": item,
            "item_name": SIZE,
            "column_values": compact_json(values),
            "create_labels_if_missing": True,
        }
        [result] = self.send(Operation("r0", "create_subitem", args))
        if result.error is not None:
            return FAIL, f"monday.com refused the subitem: {result.error}", ""
        self.subitem_id = result.item_id
        return PASS, f"subitem {SIZE} made under the item", ""

    def change_values(self) -> Outcome:
        item, sub = self._need(self.item_id, "item"), self._need(self.subitem_id, "subitem")
        board = self.board
        assert board is not None and board.subitems_board_id is not None
        values: dict[str, Any] = {}
        for mapped in self.mapping.columns:  # one column of each type
            column = mapped.column
            value = _sample(column, board, 1)
            if value is not None and column.type not in self.changed.values():
                values[column.column_id] = column_value(column, value)
                self.changed[column.column_id] = column.type
        order_qty = self.mapping.order_qty_column
        if order_qty.type not in self.changed.values():
            values[order_qty.column_id] = _SAMPLES["numbers"][1]
            self.changed[order_qty.column_id] = order_qty.type
        qty = self.mapping.subitem_qty_column.column_id
        ops = [
            Operation(
                "r0",
                "change_multiple_column_values",
                {
                    "board_id": board.board_id,
                    "item_id": item,
                    "column_values": compact_json(values),
                },
            ),
            Operation(
                "s0",
                "change_multiple_column_values",
                {
                    "board_id": board.subitems_board_id,
                    "item_id": sub,
                    "column_values": compact_json({qty: "4"}),
                },
            ),
        ]
        refused = [f"{r.op.key}: {r.error}" for r in self.send(*ops) if r.error is not None]
        if refused:
            return FAIL, f"monday.com refused the change: {'; '.join(refused)}", ""
        return self._check_changed(item, sub, values)

    def _check_changed(self, item: str, sub: str, values: dict[str, Any]) -> Outcome:
        board = self.board
        assert board is not None
        qty = self.mapping.subitem_qty_column.column_id
        read = read_items(self.client, [item, sub], [*values, qty])
        wrong = []
        for column in [m.column for m in self.mapping.columns] + [self.mapping.order_qty_column]:
            if column.column_id in values:
                text = read[item].texts.get(column.column_id) or ""
                expected = _sample(column, board, 1) or ""
                if expected.split("\n")[-1] not in text:
                    wrong.append(f"{column.column_id} reads {text!r}, not {expected!r}")
        sub_qty = read[sub].texts.get(qty)
        if sub_qty != "4":
            wrong.append(f"the subitem's {qty} reads {sub_qty!r}, not '4'")
        if wrong:
            return FAIL, "; ".join(wrong), ""
        kinds = sorted(set(self.changed.values()))
        return PASS, f"changed {', '.join(kinds)} on the item and a number on the subitem", ""

    def bad_value(self) -> Outcome:
        item, board = self._need(self.item_id, "item"), self.board
        assert board is not None
        column = self.mapping.order_qty_column.column_id
        args = {
            "board_id": board.board_id,
            "item_id": item,
            "column_values": compact_json({column: BAD_NUMBER}),
        }
        try:
            [result] = self.send(Operation("r0", "change_multiple_column_values", args))
        except MondayRequestError as exc:
            return (
                WARN,
                f"refused for the whole request, not for the one field: {exc}",
                "a push would fail every row sent with a bad one: tell the developers",
            )
        if result.error is None:
            return (
                FAIL,
                f"monday.com accepted {BAD_NUMBER!r} in the numbers column {column}",
                "tell the developers: a push would not learn of a bad value",
            )
        return PASS, f"refused for that field alone: {result.error}", ""

    def look_up(self) -> Outcome:
        item = self._need(self.item_id, "item")
        column = self.mapping.record_uuid_column.column_id
        found = find_items(self.client, self.board_id, column, [self.record_uuid])
        hit = found.get(self.record_uuid)
        if hit is None:
            return FAIL, f"no item found by its {column} column", ""
        if hit.item_id != item:
            return FAIL, "another item than the one made was found by its record_uuid", ""
        if SIZE not in hit.subitems:
            return FAIL, f"the item was found without its subitem {SIZE}", ""
        return PASS, f"found by its {column} column, with its subitem", ""

    def archive(self) -> Outcome:
        item = self._need(self.item_id, "item")
        [result] = self.send(Operation("r0", "archive_item", {"item_id": item}))
        if result.error is not None:
            return FAIL, f"monday.com refused to archive it: {result.error}", ""
        state = read_items(self.client, [item], []).get(item)
        if state is None or state.state is None:
            return WARN, "archived; its state could not be read back", ""
        if state.state != "archived":
            return FAIL, f"after archive_item the item's state reads {state.state!r}", ""
        return PASS, "archived, and its state reads archived", ""

    def delete(self) -> Outcome:
        item = self._need(self.item_id, "item")
        [result] = self.send(Operation("r0", "delete_item", {"item_id": item}))
        if result.error is not None:
            return FAIL, f"monday.com refused to delete it: {result.error}", ""
        self.item_gone = True
        state = read_items(self.client, [item], []).get(item)
        if state is not None and state.state not in (None, "deleted"):
            return FAIL, f"after delete_item the item's state reads {state.state!r}", ""
        return PASS, "deleted", ""

    def drop_group(self) -> Outcome:
        group = self._need(self.group_id, "group")
        delete_group(self.client, self.board_id, group)
        self.group_gone = True
        return PASS, "the scratch group is deleted", ""

    def clean_up(self) -> None:
        """After a failed step: remove what the run made, and say so."""
        left = []
        if self.item_id is not None and not self.item_gone:
            try:
                self.send(Operation("r0", "delete_item", {"item_id": self.item_id}))
            except Exception:
                left.append(f"the item '{ITEM_NAME}'")
        if self.group_id is not None and not self.group_gone:
            try:
                delete_group(self.client, self.board_id, self.group_id)
            except Exception:
                left.append(f"the group '{self.group_title}'")
        if left:
            self.runner.add(
                LIVE + "clean up",
                FAIL,
                f"could not remove {' and '.join(left)}",
                "delete it on the board by hand",
            )
        elif (self.item_id and not self.item_gone) or (self.group_id and not self.group_gone):
            self.runner.add(LIVE + "clean up", WARN, "removed what a failed step left", "")


STEPS: tuple[tuple[str, Callable[[_LiveRun], Outcome]], ...] = (
    ("read board", _LiveRun.read_board),
    ("scratch group", _LiveRun.make_group),
    ("create item", _LiveRun.create_item),
    ("create subitem", _LiveRun.create_subitem),
    ("change values", _LiveRun.change_values),
    ("bad value refused", _LiveRun.bad_value),
    ("look up by record_uuid", _LiveRun.look_up),
    ("archive item", _LiveRun.archive),
    ("delete item", _LiveRun.delete),
    ("delete scratch group", _LiveRun.drop_group),
)


def run_live_test(
    mapping: BoardMapping,
    setup: MondaySetup,
    runner: CheckRunner,
    *,
    adapter: HTTPAdapter | None = None,
    record_uuid: str | None = None,
    group_title: str | None = None,
    folder: Path | None = None,
) -> Path | None:
    """Run the steps (each a check in `runner`) and write the transcript; returns its path.

    `adapter` sends the HTTP (a Replayer of a transcript; by default the network);
    `record_uuid` and `group_title` repeat a recorded run's."""
    runner.hide(setup.token)
    if not setup.board_id:
        runner.add(LIVE + "read board", FAIL, "no board id", "see the board check")
        return None
    started = datetime.now(UTC)
    recorder = Recorder(setup.token, inner=adapter)
    client = setup.client(session=recorder.mount_on(requests.Session()))
    run = _LiveRun(
        mapping,
        client,
        setup.board_id,
        runner,
        recorder,
        record_uuid or str(uuid.uuid4()),
        group_title or f"{ITEM_NAME} {started:%Y-%m-%d %H:%M:%S} UTC",
    )
    try:
        for name, step in STEPS:
            run.step(name, partial(step, run))
        run.clean_up()
    finally:
        client.close()
    path = (folder or log_dir()) / f"live-test-{started:%Y%m%dT%H%M%SZ}.json"
    written = runner.run(LIVE + "transcript", lambda: _write(recorder, path, run))
    return path if written.status == PASS else None


def _write(recorder: Recorder, path: Path, run: _LiveRun) -> Outcome:
    recorder.write(path, {"record_uuid": run.record_uuid, "group_title": run.group_title})
    return (
        PASS,
        f"{len(recorder.exchanges)} requests and responses, token and ids redacted, in {path}",
        "",
    )
