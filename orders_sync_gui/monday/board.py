"""Reading the board: its columns (checked against the mapping), groups, and lookups."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from ..core.mapping import BoardColumn, BoardMapping
from ..core.utf16 import clip_utf16
from .client import MondayClient, MondayRequestError
from .operations import IDEMPOTENCY_NAMESPACE
from .versions import VERSION_FIELD

# The first read of a setup (the board is kept a while, see services/batch_run.py), so the
# `version` root query rides along it: the client learns which API version serves it once
# per setup, at no extra request (versions.py;
# https://developer.monday.com/api-reference/docs/version).
BOARD_QUERY = f"""query ($ids: [ID!]) {{ boards(ids: $ids) {{ id name
  columns {{ id title type settings_str }} groups {{ id title }} }} {VERSION_FIELD} }}"""
GROUPS_QUERY = """query ($ids: [ID!]) { boards(ids: $ids) { id groups { id title } } }"""
SUBITEM_BOARD_QUERY = """query ($ids: [ID!]) { boards(ids: $ids) { id
  columns { id title type settings_str } } }"""
GROUP_MUTATION = """mutation ($board: ID!, $name: String!) {
  create_group(board_id: $board, group_name: $name) { id title } }"""
LOOKUP_QUERY = """query ($board: ID!, $column: String!, $values: [String]!, $limit: Int!) {
  items_page_by_column_values(board_id: $board, limit: $limit,
    columns: [{column_id: $column, column_values: $values}]) {
    cursor items { id name state column_values(ids: [$column]) { id text }
      subitems { id name } } } }"""
NEXT_LOOKUP_QUERY = """query ($cursor: String!, $column: String!, $limit: Int!) {
  next_items_page(cursor: $cursor, limit: $limit) {
    cursor items { id name state column_values(ids: [$column]) { id text }
      subitems { id name } } } }"""
# items_count is documented as costly (developer.monday.com/api-reference/changelog/
# new-boards-query-field-items_count): read once per push, before the first mutation.
# The board's groups ride along: the push reads them here, before it makes its group.
ROOM_QUERY = """query ($ids: [ID!]) { boards(ids: $ids) { id items_count items_limit
  groups { id title } } }"""
SUBITEMS_QUERY = """query ($ids: [ID!]) { items(ids: $ids) { id subitems { id name } } }"""
# monday's column type names for the mapping's types
_TYPE_ALIASES = {
    "numbers": {"numbers", "numeric"},
    "status": {"status", "color"},
    "dropdown": {"dropdown"},
    "long_text": {"long_text", "long-text"},
    "date": {"date"},
    "text": {"text"},
}


class BoardMismatchError(MondayRequestError):
    """The mapping does not fit the board; lists every mismatch at once."""


@dataclass(slots=True)
class Board:
    board_id: str
    name: str
    columns: dict[str, tuple[str, str]]  # id -> (title, type)
    groups: dict[str, str]  # title -> id
    subitems_board_id: str | None
    subitem_columns: dict[str, tuple[str, str]]
    read_at: float = field(default_factory=time.monotonic)  # when its groups were read
    # The labels of the status and dropdown columns whose settings_str lists them, by
    # column id (a column whose settings do not list its labels is not here).
    labels: dict[str, list[str]] = field(default_factory=dict)
    # The groups were read during the run using this copy (a copy kept between runs is
    # not): a group missing from them is missing on monday, no need to read again.
    groups_current: bool = True
    # The same as `labels`, of the subitems board's columns.
    subitem_labels: dict[str, list[str]] = field(default_factory=dict)


def fetch_board(client: MondayClient, board_id: str) -> Board:
    result = client.execute(BOARD_QUERY, {"ids": [board_id]})
    boards = result.data.get("boards") or []
    if not boards:
        raise BoardMismatchError(f"board {board_id} does not exist, or the token cannot see it")
    raw = boards[0]
    columns = {c["id"]: (c["title"], c["type"]) for c in raw.get("columns") or []}
    sub_board = None
    for column in raw.get("columns") or []:
        if column["type"] == "subtasks":
            try:
                ids = json.loads(column.get("settings_str") or "{}").get("boardIds") or []
            except json.JSONDecodeError:
                ids = []
            sub_board = str(ids[0]) if ids else None
    sub_raw: list[dict[str, Any]] = []
    if sub_board:
        sub = client.execute(SUBITEM_BOARD_QUERY, {"ids": [sub_board]}).data.get("boards") or []
        if sub:
            sub_raw = sub[0].get("columns") or []
    sub_columns = {c["id"]: (c["title"], c["type"]) for c in sub_raw}
    name = raw.get("name", "")
    board = Board(str(raw["id"]), name, columns, _groups(raw), sub_board, sub_columns)
    board.labels = _labels(raw.get("columns") or [])
    board.subitem_labels = _labels(sub_raw)
    return board


def _labels(columns: Iterable[Mapping[str, Any]]) -> dict[str, list[str]]:
    """{column id: labels} of the status and dropdown columns whose settings list them."""
    out: dict[str, list[str]] = {}
    for column in columns:
        listed = column_labels(column.get("settings_str"))
        if column["type"] in ("status", "color", "dropdown") and listed is not None:
            out[column["id"]] = listed
    return out


def column_labels(settings_str: str | None) -> list[str] | None:
    """The labels a status or dropdown column's settings_str lists; None when it lists none.

    Status: {"labels": {"0": "Working on it", ...}}; dropdown: {"labels": [{"id": 1,
    "name": "A"}, ...]}. The blank label (status index 5) is no label.
    """
    try:
        settings = json.loads(settings_str or "{}")
    except json.JSONDecodeError:
        return None
    raw = settings.get("labels") if isinstance(settings, dict) else None
    if isinstance(raw, dict):
        names = list(raw.values())
    elif isinstance(raw, list):
        names = [e.get("name", e.get("label")) if isinstance(e, dict) else e for e in raw]
    else:
        return None
    return [str(n) for n in names if isinstance(n, str) and n.strip()]


def _groups(raw: dict[str, Any]) -> dict[str, str]:
    return {g["title"]: str(g["id"]) for g in raw.get("groups") or []}


def refresh_groups(client: MondayClient, board: Board) -> None:
    """Read the board's groups again, as monday holds them now."""
    read_at = time.monotonic()
    boards = client.execute(GROUPS_QUERY, {"ids": [board.board_id]}).data.get("boards") or []
    if not boards:
        raise BoardMismatchError(
            f"board {board.board_id} does not exist, or the token cannot see it"
        )
    board.groups, board.read_at, board.groups_current = _groups(boards[0]), read_at, True


def _check(
    columns: dict[str, tuple[str, str]], wanted: Iterable[BoardColumn], where: str
) -> list[str]:
    problems = []
    for col in wanted:
        found = columns.get(col.column_id)
        if found is None:
            problems.append(f"{where}: no column {col.column_id!r} ({col.title})")
        elif found[1] not in _TYPE_ALIASES.get(col.type, {col.type}):
            problems.append(
                f"{where}: column {col.column_id!r} ({found[0]}) is of type "
                f"{found[1]!r}, the mapping expects {col.type!r}"
            )
    return problems


def check_mapping(board: Board, mapping: BoardMapping) -> None:
    """Raise one error naming every column of the mapping the board lacks or types otherwise."""
    problems = mapping_problems(board, mapping)
    if problems:
        raise BoardMismatchError(
            "the board does not match the mapping:\n  "
            + "\n  ".join(problems)
            + "\nFix the board or the mapping file, then push again."
        )


def mapping_problems(board: Board, mapping: BoardMapping) -> list[str]:
    """Every column of the mapping the board lacks or types otherwise, one line each."""
    parent = [m.column for m in mapping.columns]
    parent += [mapping.record_uuid_column, mapping.order_qty_column]
    if mapping.deleted_action.get("kind") == "status":
        parent.append(
            BoardColumn(
                str(mapping.deleted_action.get("column_id")),
                str(mapping.deleted_action.get("title", "")),
                "status",
            )
        )
    problems = _check(board.columns, parent, f"board {board.board_id}")
    if board.subitems_board_id is None:
        problems.append(f"board {board.board_id} has no subitems column (no subitems board)")
    else:
        subs = [mapping.subitem_size_column, mapping.subitem_qty_column]
        problems += _check(board.subitem_columns, subs, f"subitems board {board.subitems_board_id}")
    return problems


def missing_labels(
    board: Board, mapping: BoardMapping, values: Mapping[str, Iterable[str | None]]
) -> dict[str, list[str]]:
    """{column id: labels not on the board} for the mapping's status and dropdown columns
    whose labels the board lists: the values each source column holds (`values`, by source
    column), and the label a deleted order gets. A push creates them (it asks monday to
    create missing labels), unless the board forbids new labels."""
    wanted: dict[str, set[str]] = {}
    for mapped in mapping.columns:
        if mapped.column.type in ("status", "dropdown"):
            given = {v for v in values.get(mapped.source, ()) if v is not None and v.strip()}
            wanted.setdefault(mapped.column.column_id, set()).update(given)
    deleted = mapping.deleted_action
    if deleted.get("kind") == "status" and deleted.get("label"):
        wanted.setdefault(str(deleted.get("column_id")), set()).add(str(deleted["label"]))
    out: dict[str, list[str]] = {}
    for column_id, labels in wanted.items():
        listed = board.labels.get(column_id)
        if listed is not None:
            gone = sorted(labels - set(listed))
            if gone:
                out[column_id] = gone
    return out


MAX_GROUP_NAME = 255  # monday's limit, in UTF-16 code units (see core/utf16.py)
_GROUP_CREATE_ROUNDS = 4  # a replayed group found deleted is made again, a few times at most


def group_idempotency_key(board_id: str, title: str, replaces: str = "") -> str:
    """The Idempotency-Key of creating the group `title` on a board.

    Made of the board id and the title alone, so every run and every process that creates
    this group sends the same key. `replaces` names a group of that title that a replayed
    answer returned but that is gone from the board: the new create gets a key of its own,
    again the same for every run that finds the same group gone.
    """
    return str(uuid.uuid5(IDEMPOTENCY_NAMESPACE, f"create_group|{board_id}|{title}|{replaces}"))


def ensure_group(client: MondayClient, board: Board, title: str) -> str:
    """The id of the customer's group, created when missing, and never twice.

    A create whose answer was lost (a dropped connection, a kill) may have run, or may still
    run while a resume reads the board and does not see the group yet. So the create's
    Idempotency-Key is derived from the board and the title (group_idempotency_key), never
    random: within monday's 30 minutes a second create of the same group is answered with
    the first one's answer (after a 409 and a retry while the first still runs). And the
    board's groups are read again before any create (look before creating): a group made by
    a run whose answer was lost, or by a database restored from before it, is found, not
    made twice, whether or not monday honours the key. (Groups this run has read already,
    see Board.groups_current, are not read twice.)
    """
    title = clip_utf16(title, MAX_GROUP_NAME)
    if title in board.groups:
        return board.groups[title]
    if not board.groups_current:  # look before creating: made since this copy was read?
        refresh_groups(client, board)
        if title in board.groups:
            return board.groups[title]
    replaces = ""
    for _ in range(_GROUP_CREATE_ROUNDS):
        result = client.execute(
            GROUP_MUTATION,
            {"board": board.board_id, "name": title},
            mutation=True,
            idempotency_key=group_idempotency_key(board.board_id, title, replaces),
        )
        group = result.data.get("create_group")
        if not group:
            error = next(iter(result.field_errors.values()), None)
            raise MondayRequestError(f"could not create the group {title!r}: {error}")
        group_id = str(group["id"])
        if result.replayed:
            # An earlier run made this group: still on the board, or deleted since?
            refresh_groups(client, board)
            if group_id not in board.groups.values():
                replaces = group_id
                continue
        board.groups[title] = group_id
        return group_id
    raise MondayRequestError(
        f"could not create the group {title!r}: each one made was deleted from the board again"
    )


@dataclass(frozen=True, slots=True)
class FoundItem:
    item_id: str
    record_uuid: str
    subitems: dict[str, str]  # subitem name (size label) -> id
    state: str = "active"  # or "archived" (deleted items are never found)


LOOKUP_PAGE = 500  # monday's largest page of items


def find_items(
    client: MondayClient, board_id: str, column_id: str, uuids: Sequence[str], *, chunk: int = 50
) -> dict[str, FoundItem]:
    """Items on the board whose record_uuid column holds one of `uuids` (deleted never
    match): `chunk` values per lookup, each lookup read to its last page."""
    found: dict[str, FoundItem] = {}
    for i in range(0, len(uuids), chunk):
        values = list(uuids[i : i + chunk])
        result = client.execute(
            LOOKUP_QUERY,
            {"board": board_id, "column": column_id, "values": values, "limit": LOOKUP_PAGE},
        )
        page = result.data.get("items_page_by_column_values") or {}
        while True:
            _take_found(found, page.get("items") or [], set(values))
            if not page.get("cursor"):
                break
            result = client.execute(
                NEXT_LOOKUP_QUERY,
                {"cursor": page["cursor"], "column": column_id, "limit": LOOKUP_PAGE},
            )
            page = result.data.get("next_items_page") or {}
    return found


def _take_found(found: dict[str, FoundItem], items: list[dict], values: set[str]) -> None:
    for item in items:
        if item.get("state") == "deleted":
            continue
        text = next((cv.get("text") for cv in item.get("column_values") or []), None)
        if text in values:
            subs = {s["name"]: str(s["id"]) for s in item.get("subitems") or []}
            # Two items for one uuid would be a duplicate: keep the oldest (lowest id).
            known = found.get(text)
            if known is None or int(item["id"]) < int(known.item_id):
                found[text] = FoundItem(str(item["id"]), text, subs, item.get("state") or "active")


@dataclass(frozen=True, slots=True)
class BoardRoom:
    """How many items a board holds, and the most it may (None: monday did not say)."""

    board_id: str
    items: int
    limit: int | None


def board_room(client: MondayClient, board: Board) -> dict[str, BoardRoom]:
    """The room left on the board and its subitems board; the board's groups are read
    again with it (see Board.groups_current)."""
    ids = [board.board_id] + ([board.subitems_board_id] if board.subitems_board_id else [])
    read_at = time.monotonic()
    result = client.execute(ROOM_QUERY, {"ids": ids})
    out: dict[str, BoardRoom] = {}
    for raw in result.data.get("boards") or []:
        limit = raw.get("items_limit")
        out[str(raw["id"])] = BoardRoom(
            str(raw["id"]), int(raw.get("items_count") or 0), int(limit) if limit else None
        )
        if str(raw["id"]) == board.board_id:
            board.groups, board.read_at, board.groups_current = _groups(raw), read_at, True
    return out


def subitems_of(
    client: MondayClient, item_ids: Sequence[str], *, chunk: int = 100
) -> dict[str, dict[str, str]]:
    """{parent item id: {subitem name: subitem id}}."""
    out: dict[str, dict[str, str]] = {}
    for i in range(0, len(item_ids), chunk):
        result = client.execute(SUBITEMS_QUERY, {"ids": list(item_ids[i : i + chunk])})
        for item in result.data.get("items") or []:
            out[str(item["id"])] = {s["name"]: str(s["id"]) for s in item.get("subitems") or []}
    return out
