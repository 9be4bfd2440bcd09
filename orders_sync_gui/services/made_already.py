"""Creates already made: which of a chunk's create operations monday.com has run already.

Looked up on the board before a create whose answer was lost is sent again, and before an
undo re-creates the sizes its batch deleted: an item by the record_uuid its row carries, a
subitem by its parent item and its name (the size). monday's Idempotency-Key would answer
such a resend from its cache, but only where it is honoured and only for 30 minutes; the
board itself is the truth.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ..core.mapping import BoardMapping
from ..core.staged import StagedRow
from ..monday.board import Board, find_items, subitems_of
from ..monday.client import MondayClient
from ..monday.operations import Operation


def made_already(
    client: MondayClient,
    board: Board,
    mapping: BoardMapping,
    rows: Mapping[int, StagedRow],
    ops: Iterable[Operation],
) -> dict[str, str]:
    """{operation key: the id of what it creates, already on the board}."""
    items = [op for op in ops if op.kind == "create_item" and op.key.startswith("r")]
    sizes = [op for op in ops if op.kind == "create_subitem"]
    found: dict[str, str] = {}
    if items:
        wanted = {op.key: rows[int(op.key[1:])] for op in items}
        hits = find_items(
            client,
            board.board_id,
            mapping.record_uuid_column.column_id,
            sorted({row.record_uuid for row in wanted.values()}),
        )
        for key, row in wanted.items():
            hit = hits.get(row.record_uuid)
            old = row.previous.monday_item_id if row.previous else None
            if hit is not None and hit.state == "active" and hit.item_id != old:
                found[key] = hit.item_id
    if sizes:
        parents = sorted({str(op.args["parent_item_id"]) for op in sizes})
        existing = subitems_of(client, parents)
        for op in sizes:
            sub_id = existing.get(str(op.args["parent_item_id"]), {}).get(op.args["item_name"])
            if sub_id is not None:
                found[op.key] = sub_id
    return found
