"""The mapping from the board: the board's own column ids for every column the mapping names.

A board the earlier scripts filled has monday's generated column ids (`text_mkq1x2ab`), not
the template's. `mapping_from_board` reads the board's columns and its subitems board's
(id, title, type, and the labels of status and dropdown columns from settings_str: monday/
board.py), matches each slot of the mapping by title and compatible type (core/
mapping_match.py), and, asked to write and only when every slot matched, writes the user's
copy of the mapping with the board's ids (the bundled file stays the template). A partial
mapping is never written: a push with it would fail on the columns left out, or write into
the wrong one of two look-alikes. `create_missing_column` makes a column the board lacks,
with the mapping's title and type, for the mapping dialog to call.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ..core.mapping import parse_mapping
from ..core.mapping_match import (
    SUBITEMS,
    Ambiguous,
    FoundColumn,
    MappingMatch,
    Slot,
    apply_matches,
    board_type,
    mapping_slots,
    match_columns,
)
from ..monday.board import Board, fetch_board, mapping_problems
from ..monday.columns import create_column
from ..settings import mapping_file, read_mapping_json, save_mapping
from .monday_setup import MondaySetup, MondaySetupError, setup_for_mapping

WRITE_COMMAND = "orders-sync mapping --from-board --write"


class MappingFromBoardError(RuntimeError):
    """The board cannot be read as asked, or a column cannot be made."""


@dataclass(slots=True)
class BoardMappingReport:
    board_id: str
    board_name: str
    subitems_board_id: str | None
    mapping_file: Path  # the mapping that was matched
    match: MappingMatch
    written: Path | None = None
    refused: str | None = None  # why --write wrote nothing
    notes: list[str] = field(default_factory=list)

    @property
    def complete(self) -> bool:
        return self.match.complete

    def to_dict(self) -> dict[str, Any]:
        return {
            "board_id": self.board_id,
            "board_name": self.board_name,
            "subitems_board_id": self.subitems_board_id,
            "mapping": str(self.mapping_file),
            "matched": [m.to_dict() for m in self.match.matched],
            "ambiguous": [a.to_dict() for a in self.match.ambiguous],
            "unmatched": [u.to_dict() for u in self.match.unmatched],
            "written": str(self.written) if self.written else None,
        }


def found_columns(board: Board) -> tuple[list[FoundColumn], list[FoundColumn]]:
    """The columns of the board and of its subitems board, in the board's order, with the
    labels their settings list (types as the mapping names them)."""

    def listed(
        columns: dict[str, tuple[str, str]], labels: dict[str, list[str]]
    ) -> list[FoundColumn]:
        out = []
        for column_id, (title, kind) in columns.items():
            known = labels.get(column_id)
            found = FoundColumn(
                column_id, title, board_type(kind), tuple(known) if known is not None else None
            )
            out.append(found)
        return out

    return (
        listed(board.columns, board.labels),
        listed(board.subitem_columns, board.subitem_labels),
    )


def _setup(setup: MondaySetup | None, board_id: str | None, raw: dict[str, Any]) -> MondaySetup:
    setup = setup or setup_for_mapping(parse_mapping(raw), board_id=board_id)
    if board_id:
        setup.board_id = str(board_id)
    if not setup.board_id:
        raise MondaySetupError(
            "no board id: give --board ID (the number in the board's URL), or set it in "
            "Settings or ORDERS_SYNC_BOARD_ID"
        )
    return setup


def _read_board(setup: MondaySetup) -> Board:
    assert setup.board_id is not None
    client = setup.client()
    try:
        return fetch_board(client, setup.board_id)
    finally:
        client.close()


def shortfall(match: MappingMatch, *, writing: bool) -> str:
    """What is left to match, and what to do, in one line ("nothing written" when asked
    to write)."""
    parts = []
    if match.ambiguous:
        parts.append(f"{len(match.ambiguous)} ambiguous")
    if match.unmatched:
        parts.append(f"{len(match.unmatched)} unmatched")
    head = "nothing written: " if writing else ""
    return (
        f"{head}{' and '.join(parts)} of the mapping's {match.slots} columns; give each one "
        "column on the board with its title and type (retitle a look-alike, add a missing "
        "one) or correct the title in the mapping file, then run "
        f"`{WRITE_COMMAND}`{' again' if writing else ''}"
    )


def mapping_from_board(
    *, board_id: str | None = None, write: bool = False, setup: MondaySetup | None = None
) -> BoardMappingReport:
    """Match the mapping in use to the board's columns; with `write`, and when every column
    matched, write the user's mapping with the board's column ids (and its board id)."""
    path = mapping_file()
    raw = read_mapping_json(path)
    setup = _setup(setup, board_id, raw)
    board = _read_board(setup)
    parent, sub = found_columns(board)
    match = match_columns(mapping_slots(raw), parent, sub)
    report = BoardMappingReport(board.board_id, board.name, board.subitems_board_id, path, match)
    if board.subitems_board_id is None:
        report.notes.append(f"board {board.board_id} has no subitems column")
    if not write:
        return report
    if not match.complete:
        report.refused = shortfall(match, writing=True)
        return report
    written = apply_matches(raw, match.matched, board.board_id)
    problems = mapping_problems(board, parse_mapping(written))
    if problems:  # the pre-push check would refuse it: say so rather than write it
        report.refused = "nothing written: the board still differs: " + "; ".join(problems)
        return report
    report.written = save_mapping(written)
    return report


def find_slot(name: str, raw: dict[str, Any] | None = None) -> Slot:
    """A slot of the mapping in use by its source column or its slot path
    (`AAG ORDER NUMBER`, `record_uuid_column`, `subitems.qty_column`)."""
    slots = mapping_slots(raw if raw is not None else read_mapping_json())
    for slot in slots:
        if name in (slot.source, slot.slot):
            return slot
    raise MappingFromBoardError(f"the mapping names no column {name!r}")


def create_missing_column(
    slot: Slot, *, setup: MondaySetup | None = None, board_id: str | None = None
) -> FoundColumn:
    """Make the column a slot names, with the mapping's title and type, on its board (the
    subitems board for a subitems slot). The board is read first: a column that matches
    already (made meanwhile, by hand or by a create whose answer was lost) is returned
    instead of a second one; two look-alikes are left for the operator to choose from."""
    setup = _setup(setup, board_id, read_mapping_json())
    board = _read_board(setup)
    parent, sub = found_columns(board)
    on_subitems = slot.board == SUBITEMS
    target = board.subitems_board_id if on_subitems else board.board_id
    if target is None:
        raise MappingFromBoardError(
            f"board {board.board_id} has no subitems board to add {slot.title!r} to"
        )
    there = match_columns([slot], parent, sub)
    if there.matched:
        return there.matched[0].column
    if there.ambiguous:
        raise MappingFromBoardError(_look_alikes(there.ambiguous[0]))
    client = setup.client()
    try:
        return create_column(client, target, slot.title, slot.type)
    finally:
        client.close()


def _look_alikes(ambiguous: Ambiguous) -> str:
    ids = ", ".join(c.column_id for c in ambiguous.candidates)
    return (
        f"the board has several columns titled {ambiguous.slot.title!r} ({ids}): pick one "
        "rather than make another"
    )
