"""Column ids as monday makes them, for a board laid out "as the earlier scripts left it".

A column created without an id of its own gets one monday generates: the type's prefix, an
underscore, and a short random tail (`text_mkq1x2ab`, `color_mkraagvh`, `numeric_mks5kp0t`:
"mk" then six lowercase letters or digits, as boards made since 2024 show them). monday
documents only that an id is generated when none is given, and what a chosen id may be:
1 to 20 lowercase letters and underscores, unique on the board
(https://developer.monday.com/api-reference/changelog/new-argument-create-a-column-with-a-custom-id,
https://developer.monday.com/api-reference/docs/columns). The prefixes are the ones such
boards show: a status column's is "color", a numbers column's "numeric".
"""

from __future__ import annotations

import random
import re
import string
from collections.abc import Container, Iterable, Mapping
from typing import Any

from orders_sync_gui.core.mapping_match import BOARD, SUBITEMS, Path, mapping_slots, with_column_ids

from .errors import MondayError

TYPE_PREFIXES = {
    "text": "text",
    "long_text": "long_text",
    "numbers": "numeric",
    "date": "date",
    "status": "color",
    "dropdown": "dropdown",
}
TAIL_ALPHABET = string.ascii_lowercase + string.digits
TAIL_LENGTH = 6
GENERATED_ID = re.compile(r"(?:[a-z_]+)_mk[a-z0-9]{6}")
CUSTOM_ID = re.compile(r"[a-z_]{1,20}")
COLUMN_ID_MODES = ("template", "generated")


def generated_id(column_type: str, rng: random.Random, taken: Container[str]) -> str:
    """A monday-like generated id for a new column of `column_type`, unused in `taken`."""
    prefix = TYPE_PREFIXES.get(column_type, column_type)
    while True:
        tail = "".join(rng.choice(TAIL_ALPHABET) for _ in range(TAIL_LENGTH))
        candidate = f"{prefix}_mk{tail}"
        if candidate not in taken:
            return candidate


def check_custom_id(column_id: Any, taken: Iterable[str]) -> str:
    """A column id chosen by the caller, as create_column's `id` argument accepts it."""
    if not isinstance(column_id, str) or not CUSTOM_ID.fullmatch(column_id):
        raise MondayError(
            "A column id must be 1 to 20 characters, lowercase letters and underscores only",
            "InvalidArgumentException",
            {"id": column_id},
        )
    if column_id in set(taken):
        raise MondayError(
            "A column with this id already exists on the board",
            "InvalidArgumentException",
            {"id": column_id},
        )
    return column_id


def generated_layout(
    mapping: Mapping[str, Any], seed: int
) -> tuple[dict[str, Any], dict[str, str], dict[str, str]]:
    """The mapping with every column slot given a generated id, seeded (the same seed makes
    the same ids), and the id maps {template id: generated id} of the board and of its
    subitems board. A template id named twice on one board (a column with two roles) gets
    one generated id; the boards draw their ids apart, as monday's boards do."""
    rng = random.Random(f"column-ids:{seed}")
    maps: dict[str, dict[str, str]] = {BOARD: {}, SUBITEMS: {}}
    taken = {"name", "subitems"}
    paths: dict[Path, str] = {}
    for slot in mapping_slots(mapping):
        ids = maps[slot.board]
        if slot.column_id not in ids:
            ids[slot.column_id] = generated_id(slot.type, rng, taken)
            taken.add(ids[slot.column_id])
        paths[slot.path] = ids[slot.column_id]
    return with_column_ids(mapping, paths), maps[BOARD], maps[SUBITEMS]
