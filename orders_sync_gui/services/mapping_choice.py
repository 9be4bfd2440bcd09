"""The mapping dialog's use cases: the board's columns matched to the mapping, the columns an
operator may choose from for a slot left ambiguous or unmatched, and saving the choices as
the user's mapping (the bundled file stays the template).

The matching is core/mapping_match.py's, the board's columns are read as
services/mapping_from_board.py reads them; a saved mapping must pass the same check the
push makes before it sends anything (monday/board.mapping_problems).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from ..core.mapping import BoardMapping, parse_mapping
from ..core.mapping_match import (
    SUBITEMS,
    Ambiguous,
    FoundColumn,
    MappingMatch,
    Matched,
    Slot,
    Unmatched,
    apply_matches,
    compatible,
    mapping_slots,
    match_columns,
)
from ..core.mapping_match import (
    Path as SlotPath,
)
from ..monday.board import Board, fetch_board, mapping_problems
from ..settings import read_mapping_json, save_mapping
from .mapping_from_board import create_missing_column, found_columns
from .monday_setup import MondaySetup, MondaySetupError


class MappingNotSaved(RuntimeError):
    """The choices leave a slot without a column, or the board would refuse them."""


@dataclass(slots=True)
class MappingChoices:
    """What the dialog shows: the mapping's JSON, the board, its columns, the match."""

    raw: dict[str, Any]
    board: Board
    columns: list[FoundColumn]
    subitem_columns: list[FoundColumn]
    match: MappingMatch

    def candidates(self, slot: Slot) -> list[FoundColumn]:
        """The columns of the slot's board whose type fits it, titled alike first."""
        pool = self.subitem_columns if slot.board == SUBITEMS else self.columns
        fitting = [c for c in pool if compatible(slot.type, c.type)]
        alike = [c for c in fitting if c.title.casefold() == slot.title.casefold()]
        return alike + [c for c in fitting if c not in alike]


def read_choices(setup: MondaySetup) -> MappingChoices:
    """Read the board's columns and match the mapping in use to them."""
    if not setup.board_id:
        raise MondaySetupError("no monday.com board id: set it in Settings")
    client = setup.client()
    try:
        board = fetch_board(client, setup.board_id)
    finally:
        client.close()
    raw = read_mapping_json()
    parent, sub = found_columns(board)
    return MappingChoices(raw, board, parent, sub, match_columns(mapping_slots(raw), parent, sub))


def create_column_for(setup: MondaySetup, slot: Slot) -> MappingChoices:
    """Make the column a slot lacks on its board (create_column, with the mapping's title
    and type), then read the board again."""
    create_missing_column(slot, setup=setup)
    return read_choices(setup)


def save_choices(
    choices: MappingChoices, picks: Mapping[SlotPath, FoundColumn]
) -> tuple[Path, BoardMapping]:
    """Write the user's mapping: the matched slots, and each ambiguous or unmatched one
    with the column picked for it. Every slot must have one, and the board must pass the
    push's check with the result."""
    chosen = list(choices.match.matched)
    left: list[Ambiguous | Unmatched] = [*choices.match.ambiguous, *choices.match.unmatched]
    missing = [one.slot for one in left if one.slot.path not in picks]
    if missing:
        names = ", ".join(s.source for s in missing)
        raise MappingNotSaved(f"nothing saved: no column chosen for {names}")
    chosen += [Matched(one.slot, picks[one.slot.path]) for one in left]
    taken: dict[tuple[str, str], str] = {}
    for one in chosen:
        key = (one.slot.board, one.column.column_id)
        if taken.setdefault(key, one.slot.column_id) != one.slot.column_id:
            raise MappingNotSaved(
                f"nothing saved: the column {one.column.title!r} ({one.column.column_id}) is "
                f"chosen for two of the mapping's columns ({taken[key]}, {one.slot.column_id})"
            )
    written = apply_matches(choices.raw, chosen, choices.board.board_id)
    mapping = parse_mapping(written)
    problems = mapping_problems(choices.board, mapping)
    if problems:
        raise MappingNotSaved("nothing saved: the board still differs: " + "; ".join(problems))
    return save_mapping(written), mapping
