"""Boards and items in memory, behind one lock, optionally persisted to a JSON file.

Every method that reads or writes takes `lock` (re-entrant), so the server may also hold it
around a whole GraphQL execution to give each request a consistent view. Writes raise
`MondayError` with monday's codes and change nothing when they fail: a create or change with
one bad column value leaves the item (and the columns' labels) as they were.

Persistence, when a state file is configured, is a snapshot plus a journal beside it:

- the snapshot (`state_file`) holds the whole state and a random `generation`; it is only
  ever written whole, to a temp file that is fsync'd, then `os.replace`d over the old one,
  and the directory fsync'd: a kill (or a power cut) leaves the old or the new snapshot,
  never half of one;
- the journal (`state_file` + ".journal") holds JSON lines appended since that snapshot:
  each line carries the snapshot's generation, the id counters, and the full fields of every
  item, subitem and board (name, columns, groups) one flush changed. The mutating methods
  record what they touched, so a line costs what the request changed, not the board's size
  (a full board, 60,000 objects, takes ~360 ms to serialise with the GIL held throughout).

The sandbox never answers a write it has not stored: `flush()` runs after every mutation
request that changed anything, still under the state lock and before the answer is built,
and appends its line with `flush()` + `os.fsync()`. There is no other mode (no debounce):
the command line's `--state`, the window's demo process and tests all take this one path.
Loading reads the snapshot then replays the journal's lines of the same generation in order;
a torn last line (a kill mid-append) is ignored, it belonged to an unanswered request.
Compaction (`save()`: a fresh snapshot under a new generation, then an emptied journal)
happens at load when the journal holds anything, on close, on reset, and when a line would
take the journal past the snapshot's size, so appends stay amortised O(change) and replay
stays O(board). The journal is truncated only once the new snapshot is durable; a kill
between the two leaves lines of the old generation, which the new snapshot already holds:
they are skipped (and replaying a line twice would change nothing: a line holds whole
objects and counters, never increments). After a failed write nothing more is appended
until a compaction succeeds, so a torn line is always the journal's last. The snapshot is
serialised in chunks of items, so another thread (the app's window) gets the GIL between
them even while a large board is compacted.

Ids are never handed out twice, across restarts and resets: the next item id and group
number are stored with every snapshot and journal line, and at load they are at least one
past the largest id the state holds (deleted and archived items stay in the state, so their
ids count too). A reset empties the boards but keeps the counters.
"""

from __future__ import annotations

import json
import os
import random
import re
import tempfile
import threading
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from .column_ids import check_custom_id, generated_id
from .columns import (
    DEFAULT_STATUS_LABELS,
    ITEM_VALUES_BYTES,
    MAX_NAME_LENGTH,
    WRITABLE_TYPES,
    Column,
    check_item_name,
    item_too_large,
    name_length,
    prepare_value,
    text_of,
    value_of,
    values_bytes,
)
from .errors import (
    MondayError,
    gone_error,
    invalid_argument,
    invalid_board,
    invalid_column,
)

STATE_VERSION = 2  # 2: snapshot + journal; 1 (a snapshot alone) still loads
READABLE_VERSIONS = (1, 2)
JOURNAL_SUFFIX = ".journal"
SNAPSHOT_CHUNK = 500  # items per json.dumps call while writing a snapshot
DEFAULT_GROUP = ("topics", "Group Title")
DEFAULT_GROUP_COLOR = "#579bfc"
NEW_GROUP_ID = re.compile(r"new_group(\d+)")


@dataclass
class Group:
    id: str
    title: str
    color: str = DEFAULT_GROUP_COLOR
    position: str = "0"
    archived: bool = False
    deleted: bool = False


@dataclass
class Board:
    id: str
    name: str
    columns: list[Column]
    groups: list[Group]
    parent_board_id: str | None = None  # set on a subitems board
    item_ids: list[str] = field(default_factory=list)  # creation order, deleted included
    live_count: int = 0  # items not deleted, for the items-per-board cap

    def column(self, column_id: str) -> Column | None:
        return next((c for c in self.columns if c.id == column_id), None)

    def group(self, group_id: str) -> Group | None:
        return next((g for g in self.groups if g.id == group_id and not g.deleted), None)


@dataclass
class Item:
    id: str
    board_id: str
    group_id: str
    name: str
    values: dict[str, Any]
    created_at: str
    updated_at: str
    state: str = "active"  # active | archived | deleted
    parent_id: str | None = None
    subitem_ids: list[str] = field(default_factory=list)


@dataclass
class _Cursor:
    board_id: str
    ids: list[str]
    created: float


class BoardState:
    """The sandbox's account: one parent board and its subitems board."""

    def __init__(
        self,
        board_id: str,
        subitems_board_id: str,
        board_name: str,
        columns: list[Column],
        subitem_columns: list[Column],
        *,
        first_item_id: int = 1_900_000_001,
        max_items_per_board: int = 10_000,
        cursor_ttl_seconds: float = 3600.0,
        state_file: Path | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.lock = threading.RLock()
        self._layout = (board_id, subitems_board_id, board_name, columns, subitem_columns)
        self.max_items_per_board = max_items_per_board
        self.cursor_ttl_seconds = cursor_ttl_seconds
        self.state_file = state_file
        self._clock = clock
        self.gone_style = "invalid_item_id"  # errors.GONE_STYLES; the app sets its config's
        self._cursors: dict[str, _Cursor] = {}
        self._cursor_seq = 0
        self.boards: dict[str, Board] = {}
        self.items: dict[str, Item] = {}
        # Never reset, not even by reset(): an id once handed out is never handed out again.
        self._next_item_id = first_item_id
        self._next_group_seq = 1
        # Persistence: what changed since the last flush (items in the order first touched,
        # which puts new items in creation order), and where the files stand.
        self._dirty_items: dict[str, None] = {}
        self._dirty_boards: set[str] = set()
        self._generation: str | None = None  # the snapshot's on disk; None: none yet
        self._needs_snapshot = False  # after a reset or a failed write: compact next
        self._snapshot_bytes = 0
        self._journal_bytes = 0
        self._fresh_layout()
        if state_file is not None and state_file.exists():
            self._load(state_file)

    # ----------------------------------------------------------------- layout / reset
    def _fresh_layout(self) -> None:
        board_id, sub_id, name, columns, sub_columns = self._layout
        self.boards = {
            board_id: Board(board_id, name, _copy_columns(columns), [Group(*DEFAULT_GROUP)]),
            sub_id: Board(
                sub_id,
                f"Subitems of {name}",
                _copy_columns(sub_columns),
                [Group("topics", "Subitems")],
                parent_board_id=board_id,
            ),
        }
        self.items = {}
        self._cursors.clear()

    def reset(self) -> None:
        with self.lock:
            self._fresh_layout()
            self._needs_snapshot = True
            self.save()

    @property
    def journal_file(self) -> Path | None:
        if self.state_file is None:
            return None
        return self.state_file.with_name(self.state_file.name + JOURNAL_SUFFIX)

    def _touch(self, *items: Item) -> None:
        """Record items changed by a write, for the next journal line."""
        if self.state_file is not None:
            for item in items:
                self._dirty_items[item.id] = None

    def _touch_board(self, board: Board) -> None:
        if self.state_file is not None:
            self._dirty_boards.add(board.id)

    # ----------------------------------------------------------------- lookups
    def board(self, board_id: Any) -> Board:
        board = self.boards.get(str(board_id))
        if board is None:
            raise invalid_board(str(board_id))
        return board

    def live_item(self, item_id: Any, board_id: str | None = None) -> Item:
        """An item that is not deleted (archived items can still be changed, as on monday)."""
        item = self.items.get(str(item_id))
        if item is None or item.state == "deleted" or (board_id and item.board_id != board_id):
            raise gone_error(self.gone_style, None if item_id is None else str(item_id), board_id)
        return item

    def active_items(self, board: Board) -> list[Item]:
        return [self.items[i] for i in board.item_ids if self.items[i].state == "active"]

    def item_text(self, item: Item, column: Column) -> str | None:
        if column.type == "name":
            return item.name
        if column.type == "subtasks":
            return text_of(column, None, [self.items[i].name for i in self._active_subitems(item)])
        return text_of(column, item.values.get(column.id))

    def item_value(self, item: Item, column: Column) -> str | None:
        if column.type == "name":
            return json.dumps(item.name)
        if column.type == "subtasks":
            return value_of(column, None, self._active_subitems(item))
        return value_of(column, item.values.get(column.id))

    def _active_subitems(self, item: Item) -> list[str]:
        return [i for i in item.subitem_ids if self.items[i].state == "active"]

    def active_subitems(self, item: Item) -> list[Item]:
        return [self.items[i] for i in self._active_subitems(item)]

    # ----------------------------------------------------------------- writes
    def create_item(
        self,
        board_id: Any,
        name: Any,
        group_id: str | None,
        column_values: Any,
        create_labels: bool,
    ) -> Item:
        with self.lock:
            board = self.board(board_id)
            if board.parent_board_id is not None:
                raise invalid_argument(
                    "Items of a subitems board are created with create_subitem",
                    board_id=board.id,
                )
            check_item_name(name)
            group = board.group(group_id) if group_id else _top_group(board)
            if group is None:
                raise MondayError(
                    "Group not found", "InvalidGroupIdException", {"group_id": group_id}
                )
            return self._new_item(board, group, name, column_values, create_labels, None)

    def create_subitem(
        self, parent_item_id: Any, name: Any, column_values: Any, create_labels: bool
    ) -> Item:
        with self.lock:
            parent = self.live_item(parent_item_id)
            if parent.parent_id is not None:
                raise invalid_argument(
                    "A subitem can't have subitems", parent_item_id=str(parent_item_id)
                )
            sub_board = next(
                b for b in self.boards.values() if b.parent_board_id == parent.board_id
            )
            check_item_name(name)
            item = self._new_item(
                sub_board, _top_group(sub_board), name, column_values, create_labels, parent
            )
            parent.subitem_ids.append(item.id)
            self._touch(parent)
            return item

    def _new_item(
        self,
        board: Board,
        group: Group,
        name: str,
        column_values: Any,
        create_labels: bool,
        parent: Item | None,
    ) -> Item:
        if board.live_count >= self.max_items_per_board:
            raise MondayError(
                f"You have reached the limit of {self.max_items_per_board} items per board",
                "ItemsLimitationException",
                {"board_id": board.id, "limit": self.max_items_per_board},
            )
        values, new_name, labels = self._prepare(board, column_values, create_labels, False)
        self._check_size(board, values)
        now = _now_iso()
        item = Item(
            id=str(self._next_item_id),
            board_id=board.id,
            group_id=group.id,
            name=new_name or name,
            values=values,
            created_at=now,
            updated_at=now,
            parent_id=parent.id if parent else None,
        )
        self._next_item_id += 1
        self._apply_labels(board, labels)
        self.items[item.id] = item
        board.item_ids.append(item.id)
        board.live_count += 1
        self._touch(item)
        return item

    def change_values(
        self, board_id: Any, item_id: Any, column_values: Any, create_labels: bool
    ) -> Item:
        with self.lock:
            board = self.board(board_id)
            if item_id is None:
                raise invalid_argument("item_id is required", board_id=board.id)
            item = self.live_item(item_id, board.id)
            values, new_name, labels = self._prepare(board, column_values, create_labels, True)
            self._check_size(board, {**item.values, **values})
            self._apply_labels(board, labels)
            for column_id, stored in values.items():
                if stored is None:
                    item.values.pop(column_id, None)
                else:
                    item.values[column_id] = stored
            if new_name:
                item.name = new_name
            item.updated_at = _now_iso()
            self._touch(item)
            return item

    def _prepare(
        self, board: Board, column_values: Any, create_labels: bool, keep_clears: bool
    ) -> tuple[dict[str, Any], str | None, dict[str, dict[int, str]]]:
        """Validate a whole write before touching anything; returns values, name, labels."""
        parsed = _parse_json_argument(column_values)
        values: dict[str, Any] = {}
        labels: dict[str, dict[int, str]] = {}
        new_name: str | None = None
        for column_id, raw in parsed.items():
            column = board.column(column_id)
            if column is None:
                raise invalid_column(column_id, board.id)
            if column.type == "name":
                new_name = check_item_name(raw)
                continue
            working = labels.setdefault(column.id, dict(column.labels))
            stored = prepare_value(column, raw, working, create_labels)
            if stored is not None or keep_clears:
                values[column.id] = stored
        return values, new_name, labels

    def _check_size(self, board: Board, values: dict[str, Any]) -> None:
        """An item's values, all columns together, within what an item holds."""
        columns = {c.id: c for c in board.columns}
        total = values_bytes(columns, values)
        if total > ITEM_VALUES_BYTES:
            raise item_too_large(total)

    def _apply_labels(self, board: Board, labels: dict[str, dict[int, str]]) -> None:
        """Store the labels a write created (`create_labels_if_missing`) on its columns."""
        for column_id, working in labels.items():
            column = board.column(column_id)
            if column is not None and column.labels != working:
                column.labels = working
                self._touch_board(board)

    def set_state(self, item_id: Any, state: str) -> Item:
        """Archive or delete an item; its subitems follow, as on monday."""
        with self.lock:
            if item_id is None:
                raise invalid_argument("item_id is required")
            item = self.live_item(item_id)
            for one in [item, *(self.items[i] for i in item.subitem_ids)]:
                if one.state != "deleted":
                    one.state = state
                    one.updated_at = _now_iso()
                    if state == "deleted":
                        self.boards[one.board_id].live_count -= 1
                    self._touch(one)
            return item

    def create_group(self, board_id: Any, name: Any, color: str | None) -> Group:
        with self.lock:
            board = self.board(board_id)
            too_long = isinstance(name, str) and name_length(name) > MAX_NAME_LENGTH
            if not isinstance(name, str) or not name.strip() or too_long:
                raise invalid_argument(
                    f"Group name must be between 1 and {MAX_NAME_LENGTH} characters"
                )
            group = Group(
                id=f"new_group{self._next_group_seq}",
                title=name,
                color=color or DEFAULT_GROUP_COLOR,
                position=str(len(board.groups)),
            )
            self._next_group_seq += 1
            board.groups.append(group)
            self._touch_board(board)
            return group

    def delete_group(self, board_id: Any, group_id: Any) -> Group:
        """Delete a group and, as on monday, its items; a board keeps at least one group."""
        with self.lock:
            board = self.board(board_id)
            group = board.group(str(group_id))
            if group is None:
                raise MondayError(
                    "Group not found", "InvalidGroupIdException", {"group_id": group_id}
                )
            if sum(not g.deleted for g in board.groups) == 1:
                raise invalid_argument("A board must keep at least one group", group_id=group.id)
            for item_id in board.item_ids:
                item = self.items[item_id]
                if item.group_id == group.id and item.state != "deleted":
                    self.set_state(item.id, "deleted")
            group.deleted = True
            self._touch_board(board)
            return group

    def create_column(
        self,
        board_id: Any,
        title: Any,
        column_type: str,
        *,
        column_id: str | None = None,
        after_column_id: str | None = None,
        labels: Mapping[int, str] | None = None,
    ) -> Column:
        """Add a column to a board, as create_column does (column_ids.py for its id: the
        caller's, checked, or one generated like monday's); after `after_column_id`, else
        last. Columns of a reset board go back to the layout's."""
        with self.lock:
            board = self.board(board_id)
            if not isinstance(title, str) or not title.strip():
                raise invalid_argument("A column title can't be blank", board_id=board.id)
            if column_type not in WRITABLE_TYPES:
                raise invalid_argument(
                    f"Columns of type {column_type} can't be created on this board",
                    board_id=board.id,
                    column_type=column_type,
                )
            taken = [c.id for c in board.columns]
            if column_id is not None:
                new_id = check_custom_id(column_id, taken)
            else:
                rng = random.Random(f"{board.id}:{len(board.columns)}:{title}")
                new_id = generated_id(column_type, rng, set(taken))
            position = len(board.columns)
            if after_column_id is not None:
                if str(after_column_id) not in taken:
                    raise invalid_column(str(after_column_id), board.id)
                position = taken.index(str(after_column_id)) + 1
            column = Column(new_id, title, column_type, dict(labels or {}))
            if column_type == "status" and not column.labels:
                column.labels = dict(DEFAULT_STATUS_LABELS)
            board.columns.insert(position, column)
            self._touch_board(board)
            return column

    # ----------------------------------------------------------------- searches and pages
    def find_by_column_values(
        self, board: Board, columns: Iterable[Mapping[str, Any]] | None
    ) -> list[str]:
        """Active items whose `text` equals one of the given values, for every column (AND).

        Archived and deleted items are not returned: items_page and this search only ever
        return active items (an archived item still exists and is found by `items(ids:)`).
        """
        wanted: list[tuple[Column, set[str]]] = []
        for spec in columns or []:
            column = board.column(str(spec["column_id"]))
            if column is None:
                raise invalid_column(str(spec["column_id"]), board.id)
            values = {"" if v is None else str(v) for v in spec.get("column_values") or []}
            wanted.append((column, values))
        found = []
        for item in self.active_items(board):
            if all((self.item_text(item, c) or "") in values for c, values in wanted):
                found.append(item.id)
        return found

    def open_cursor(self, board: Board, ids: list[str]) -> str:
        now = self._clock()
        expired = [k for k, c in self._cursors.items() if now - c.created > self.cursor_ttl_seconds]
        for key in expired:
            del self._cursors[key]
        self._cursor_seq += 1
        key = f"c{self._cursor_seq}"
        self._cursors[key] = _Cursor(board.id, ids, now)
        return key

    def page(self, cursor_key: str, offset: int, limit: int) -> tuple[list[Item], int | None]:
        """Items at `offset` of a cursor's snapshot; skips items deleted since it opened."""
        cursor = self._cursors.get(cursor_key)
        if cursor is None or self._clock() - cursor.created > self.cursor_ttl_seconds:
            self._cursors.pop(cursor_key, None)
            raise MondayError(
                "The cursor has expired or is invalid: cursors are valid for 60 minutes",
                "CursorException",
                {"cursor_ttl_seconds": self.cursor_ttl_seconds},
            )
        chunk = cursor.ids[offset : offset + limit]
        items = [self.items[i] for i in chunk if self.items[i].state == "active"]
        next_offset = offset + limit if offset + limit < len(cursor.ids) else None
        return items, next_offset

    # ----------------------------------------------------------------- stats and dumps
    def counts(self) -> dict[str, int]:
        with self.lock:
            counts = {"items": 0, "subitems": 0, "archived": 0, "deleted": 0}
            for item in self.items.values():
                if item.state == "deleted":
                    counts["deleted"] += 1
                    continue
                counts["subitems" if item.parent_id else "items"] += 1
                if item.state == "archived":
                    counts["archived"] += 1
            return counts

    def dump(self) -> dict[str, Any]:
        """Everything a test may assert on, including archived and deleted items."""
        with self.lock:
            board_id, sub_id = self._layout[0], self._layout[1]

            def item_json(item: Item) -> dict[str, Any]:
                board = self.boards[item.board_id]
                return {
                    "id": item.id,
                    "name": item.name,
                    "state": item.state,
                    "group_id": item.group_id,
                    "column_values": {
                        c.id: {"text": self.item_text(item, c), "value": self.item_value(item, c)}
                        for c in board.columns
                        if c.type not in ("name", "subtasks")
                    },
                    "subitems": [item_json(self.items[i]) for i in item.subitem_ids],
                }

            return {
                "board": _board_json(self.boards[board_id]),
                "subitems_board": _board_json(self.boards[sub_id]),
                "items": [item_json(self.items[i]) for i in self.boards[board_id].item_ids],
            }

    # ----------------------------------------------------------------- persistence
    def flush(self) -> None:
        """Put what changed since the last flush on disk, durably (fsync'd) before it
        returns: one journal line, or a compaction when there is no snapshot of this
        generation yet, after a reset or a failed write, or when the line would take the
        journal past the snapshot's size."""
        if self.state_file is None:
            return
        with self.lock:
            if self._generation is None or self._needs_snapshot:
                self.save()
                return
            if not self._dirty_items and not self._dirty_boards:
                return
            line = self._journal_line()
            if self._journal_bytes + len(line) > self._snapshot_bytes:
                self.save()
                return
            journal = self.journal_file
            assert journal is not None
            self._needs_snapshot = True  # until the line is wholly written and synced
            with journal.open("ab") as handle:
                handle.write(line)
                handle.flush()
                os.fsync(handle.fileno())
            self._needs_snapshot = False
            self._journal_bytes += len(line)
            self._dirty_items.clear()
            self._dirty_boards.clear()

    def save(self) -> None:
        """Compact: write the whole state as a fresh, durable snapshot, then empty the
        journal."""
        if self.state_file is None:
            return
        with self.lock:
            journal = self.journal_file
            assert journal is not None
            self._needs_snapshot = True  # until both files are done
            generation = uuid.uuid4().hex
            self._snapshot_bytes = self._write_snapshot(self.state_file, generation)
            # The snapshot holds everything: the journal's lines are stale from here on (a
            # kill before the truncation leaves them, and their old generation skips them).
            self._generation = generation
            self._dirty_items.clear()
            self._dirty_boards.clear()
            self._truncate_journal()
            self._journal_bytes = 0
            self._needs_snapshot = False

    def _truncate_journal(self) -> None:
        """Empty the journal (creating it if need be), durably; only ever called once the
        snapshot that holds its lines is on disk."""
        journal = self.journal_file
        assert journal is not None
        created = not journal.exists()
        with journal.open("wb") as handle:
            handle.flush()
            os.fsync(handle.fileno())
        if created:
            _fsync_directory(journal.parent)

    def close(self) -> None:
        """Compact what is pending and what the journal holds (on stop)."""
        if self.state_file is None:
            return
        with self.lock:
            pending = self._dirty_items or self._dirty_boards or self._needs_snapshot
            if pending or self._journal_bytes:
                self.save()

    def _journal_line(self) -> bytes:
        entry: dict[str, Any] = {
            "generation": self._generation,
            "next_item_id": self._next_item_id,
            "next_group_seq": self._next_group_seq,
            "boards": [_board_meta(self.boards[b]) for b in sorted(self._dirty_boards)],
            "items": [vars(self.items[i]) for i in self._dirty_items],
        }
        return (json.dumps(entry, separators=(",", ":")) + "\n").encode("utf-8")

    def _write_snapshot(self, path: Path, generation: str) -> int:
        """Write the snapshot (temp file + fsync + replace + directory fsync); returns its
        size in bytes.

        Items are serialised SNAPSHOT_CHUNK at a time: one json.dumps of a whole board holds
        the GIL for its whole length, chunks let other threads run between them."""
        head = {
            "version": STATE_VERSION,
            "generation": generation,
            "next_item_id": self._next_item_id,
            "next_group_seq": self._next_group_seq,
            "boards": [_board_state(b) for b in self.boards.values()],
        }
        items = list(self.items.values())
        directory = path.parent
        directory.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(prefix=".sandbox-", suffix=".json", dir=directory)
        try:
            with os.fdopen(fd, "wb") as handle:
                size = handle.write(json.dumps(head, separators=(",", ":"))[:-1].encode())
                size += handle.write(b',"items":[')
                for start in range(0, len(items), SNAPSHOT_CHUNK):
                    chunk = [vars(item) for item in items[start : start + SNAPSHOT_CHUNK]]
                    text = json.dumps(chunk, separators=(",", ":"))[1:-1]
                    size += handle.write((("," if start else "") + text).encode("utf-8"))
                size += handle.write(b"]}")
                handle.flush()
                os.fsync(handle.fileno())
            os.replace(tmp, path)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        _fsync_directory(directory)  # the replace itself, before the journal is emptied
        return size

    def _load(self, path: Path) -> None:
        journal = self.journal_file
        assert journal is not None
        try:
            raw_snapshot = path.read_bytes()
            data = json.loads(raw_snapshot)
            version = data.get("version") if isinstance(data, dict) else None
            if version not in READABLE_VERSIONS:
                raise ValueError(
                    f"unsupported state version {version!r} (this sandbox reads versions "
                    f"{', '.join(map(str, READABLE_VERSIONS))}): written by another release?"
                )
            boards = {}
            for raw in data["boards"]:
                board = Board(
                    id=raw["id"],
                    name=raw["name"],
                    columns=[Column.from_json(c) for c in raw["columns"]],
                    groups=[Group(**g) for g in raw["groups"]],
                    parent_board_id=raw.get("parent_board_id"),
                    item_ids=list(raw["item_ids"]),
                )
                boards[board.id] = board
            items = {raw["id"]: Item(**raw) for raw in data["items"]}
            counters = [int(data["next_item_id"]), int(data["next_group_seq"])]
            generation = data.get("generation") if version >= 2 else None
            journal_text = journal.read_bytes() if journal.exists() else b""
            for entry in _journal_entries(journal_text, generation):
                _replay(entry, boards, items, counters)
            for board in boards.values():
                board.live_count = sum(items[i].state != "deleted" for i in board.item_ids)
            counters = _counters_past(counters, boards, items)
        except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
            raise ValueError(f"Cannot load sandbox state file {path}: {exc}") from exc
        if set(boards) != set(self.boards):
            raise ValueError(
                f"Sandbox state file {path} holds boards {sorted(boards)}, "
                f"expected {sorted(self.boards)}"
            )
        self.boards, self.items = boards, items
        self._next_item_id, self._next_group_seq = counters
        self._generation = generation if isinstance(generation, str) else None
        self._snapshot_bytes = len(raw_snapshot)
        self._journal_bytes = len(journal_text)
        if journal_text:
            self.save()  # compact: replayed lines, a torn or a stale one, go


def _journal_entries(text: bytes, generation: str | None) -> list[dict[str, Any]]:
    """The journal's lines that belong to the snapshot's generation, in order; a torn last
    line (no newline, not JSON) is what a kill mid-append leaves, and is left out."""
    lines = text.split(b"\n")
    entries = []
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
        except ValueError:
            if number == len(lines):  # the last line, without its newline: torn
                break
            raise ValueError(f"journal line {number} is not JSON") from None
        if not isinstance(entry, dict):
            raise ValueError(f"journal line {number} is not an object")
        if generation is not None and entry.get("generation") == generation:
            entries.append(entry)
    return entries


def _replay(
    entry: dict[str, Any],
    boards: dict[str, Board],
    items: dict[str, Item],
    counters: list[int],
) -> None:
    for raw in entry["boards"]:
        board = boards[raw["id"]]
        board.name = raw["name"]
        board.columns = [Column.from_json(c) for c in raw["columns"]]
        board.groups = [Group(**g) for g in raw["groups"]]
    for raw in entry["items"]:
        item = Item(**raw)
        if item.id not in items:  # new: items are touched first when created
            boards[item.board_id].item_ids.append(item.id)
        items[item.id] = item
    counters[:] = [
        max(counters[0], int(entry["next_item_id"])),
        max(counters[1], int(entry["next_group_seq"])),
    ]


def _counters_past(
    counters: list[int], boards: dict[str, Board], items: dict[str, Item]
) -> list[int]:
    """The counters, moved past every id the state holds (deleted items and groups too), so
    that no id comes back even if a stored counter lagged (a state written by an older
    sandbox, or edited by hand)."""
    item_ids = [int(i) for i in items if i.isdigit()]
    group_numbers = [
        int(match.group(1))
        for board in boards.values()
        for group in board.groups
        if (match := NEW_GROUP_ID.fullmatch(group.id))
    ]
    return [
        max([counters[0], *(i + 1 for i in item_ids)]),
        max([counters[1], *(n + 1 for n in group_numbers)]),
    ]


def _fsync_directory(directory: Path) -> None:
    """Make a rename or a new file in `directory` durable. POSIX only: Windows cannot open
    a directory to sync it (there the replace is as durable as NTFS makes it)."""
    if os.name == "nt":
        return
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _copy_columns(columns: list[Column]) -> list[Column]:
    return [Column(c.id, c.title, c.type, dict(c.labels), dict(c.settings)) for c in columns]


def _top_group(board: Board) -> Group:
    return next(g for g in board.groups if not g.deleted)


def _parse_json_argument(column_values: Any) -> dict[str, Any]:
    """The JSON scalar arrives as a JSON string (or, from variables, already decoded)."""
    if column_values is None or column_values == "":
        return {}
    parsed = column_values
    if isinstance(column_values, str):
        try:
            parsed = json.loads(column_values)
        except ValueError as exc:
            raise MondayError(
                f"column_values is not valid JSON: {exc}",
                "JsonParseException",
                {"column_values": column_values},
            ) from None
    if not isinstance(parsed, dict):
        raise MondayError(
            "column_values must be a JSON object keyed by column id",
            "JsonParseException",
            {"column_values": column_values},
        )
    return parsed


def _board_json(board: Board) -> dict[str, Any]:
    return {
        "id": board.id,
        "name": board.name,
        "columns": [
            {"id": c.id, "title": c.title, "type": c.type, "settings_str": c.settings_str()}
            for c in board.columns
        ],
        "groups": [{"id": g.id, "title": g.title} for g in board.groups if not g.deleted],
    }


def _board_meta(board: Board) -> dict[str, Any]:
    """A board without its item ids (a journal line adds new items to them)."""
    return {
        "id": board.id,
        "name": board.name,
        "parent_board_id": board.parent_board_id,
        "columns": [c.to_json() for c in board.columns],
        "groups": [vars(g) for g in board.groups],
    }


def _board_state(board: Board) -> dict[str, Any]:
    return {**_board_meta(board), "item_ids": board.item_ids}


def _now_iso() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
