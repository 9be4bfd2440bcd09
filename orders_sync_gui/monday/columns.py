"""Making a column on a board: monday's create_column, for a column the mapping names and
the board lacks (https://developer.monday.com/api-reference/docs/columns; the type is one
of monday's ColumnType values, the id is left to monday to generate).

A create whose answer was lost may have run: its Idempotency-Key is made of the board, the
title and the type alone, so a resend within monday's 30 minutes gets the first answer, not
a second column; the caller also looks at the board's columns before creating (services/
mapping_from_board.py).
"""

from __future__ import annotations

import uuid

from ..core.mapping_match import FoundColumn, board_type
from .board import column_labels
from .client import MondayClient, MondayRequestError
from .operations import IDEMPOTENCY_NAMESPACE

CREATE_COLUMN_MUTATION = """mutation ($board: ID!, $title: String!, $type: ColumnType!) {
  create_column(board_id: $board, title: $title, column_type: $type) {
    id title type settings_str } }"""


def column_idempotency_key(board_id: str, title: str, column_type: str) -> str:
    return str(uuid.uuid5(IDEMPOTENCY_NAMESPACE, f"create_column|{board_id}|{title}|{column_type}"))


def create_column(client: MondayClient, board_id: str, title: str, column_type: str) -> FoundColumn:
    """Create a column of `column_type` titled `title` on the board (or subitems board)."""
    result = client.execute(
        CREATE_COLUMN_MUTATION,
        {"board": board_id, "title": title, "type": column_type},
        mutation=True,
        idempotency_key=column_idempotency_key(board_id, title, column_type),
    )
    made = result.data.get("create_column")
    if not made:
        error = next(iter(result.field_errors.values()), None)
        raise MondayRequestError(
            f"could not create the column {title!r} ({column_type}) on board {board_id}: {error}"
        )
    kind = board_type(str(made["type"]))
    labels = column_labels(made.get("settings_str")) if kind in ("status", "dropdown") else None
    return FoundColumn(
        str(made["id"]), str(made["title"]), kind, tuple(labels) if labels is not None else None
    )
