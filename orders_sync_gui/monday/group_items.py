"""Reading a group's items whole: every column value, and each subitem's name and quantity.

One `items_page` of the group, then `next_items_page` to its last page
(https://developer.monday.com/api-reference/reference/groups: a group's items_page;
https://developer.monday.com/api-reference/reference/items-page: cursors and limits).
Each page goes through the client, which prices and paces reads like every other request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from .client import MondayClient

# Pages of this many items: each item brings its subitems along (about five), and a read is
# priced by what it may return, so a smaller page keeps one read's cost in reason.
PAGE = 100

_ITEM_FIELDS = """id name state column_values { id text value }
  subitems { id name column_values(ids: $qty) { id text value } }"""
GROUP_ITEMS_QUERY = f"""query ($board: [ID!], $group: [String], $limit: Int!, $qty: [String!]) {{
  boards(ids: $board) {{ groups(ids: $group) {{ id items_page(limit: $limit) {{
    cursor items {{ {_ITEM_FIELDS} }} }} }} }} }}"""
NEXT_ITEMS_QUERY = f"""query ($cursor: String!, $limit: Int!, $qty: [String!]) {{
  next_items_page(cursor: $cursor, limit: $limit) {{ cursor items {{ {_ITEM_FIELDS} }} }} }}"""


@dataclass(frozen=True, slots=True)
class RawItem:
    """An item as monday returned it: its id, name, state, column_values (monday's list)
    and subitems (each with id, name and the quantity column's value)."""

    item_id: str
    name: str
    state: str
    column_values: list[dict[str, Any]]
    subitems: list[dict[str, Any]]


def group_items(
    client: MondayClient, board_id: str, group_id: str, qty_column: str, *, page: int = PAGE
) -> list[RawItem]:
    """Every active item of a group, read page by page (deleted and archived ones are not
    the group's: monday leaves them out of items_page)."""
    variables: dict[str, Any] = {"limit": page, "qty": [qty_column]}
    result = client.execute(
        GROUP_ITEMS_QUERY, {**variables, "board": [board_id], "group": [group_id]}
    )
    boards = result.data.get("boards") or []
    groups = (boards[0].get("groups") or []) if boards else []
    if not groups:
        return []
    response = groups[0].get("items_page") or {}
    out: list[RawItem] = []
    while True:
        out += [
            _raw(i) for i in response.get("items") or [] if (i.get("state") or "active") == "active"
        ]
        cursor = response.get("cursor")
        if not cursor:
            return out
        result = client.execute(NEXT_ITEMS_QUERY, {**variables, "cursor": cursor})
        response = result.data.get("next_items_page") or {}


def _raw(item: dict[str, Any]) -> RawItem:
    return RawItem(
        str(item["id"]),
        str(item.get("name") or ""),
        str(item.get("state") or "active"),
        list(item.get("column_values") or []),
        list(item.get("subitems") or []),
    )
