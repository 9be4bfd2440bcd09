"""Reading the board's items with the values of the mapped columns and their subitems: what
drift compares with the sync state, and the item states a push looks at before it changes
an item (an item archived or deleted by hand is found before it is updated in vain).

Every read goes through the client, so it is paced and priced like any other: monday
prices a read by the objects it may return, and nested subitems weigh more than their
count (https://developer.monday.com/api-reference/docs/rate-limits, .../docs/subitems), so
pages are kept moderate and only the mapped columns are asked for.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from ..core.drift import BoardItem, BoardSubitem
from ..core.mapping import BoardMapping
from .client import MondayClient

# A page of items with their mapped columns and subitems: monday's largest page is 500;
# nested subitems make each item dearer, so a smaller page keeps one request's price down.
ITEMS_PAGE = 200
# monday's items(ids:) takes at most 100 ids (https://developer.monday.com/api-reference/
# reference/items).
IDS_CHUNK = 100

_ITEM_FIELDS = """id name state group { id title }
  column_values(ids: $columns) { id text value }
  subitems { id name state column_values(ids: $subcolumns) { id text } }"""
PAGE_QUERY = f"""query ($ids: [ID!], $limit: Int!, $columns: [String!], $subcolumns: [String!]) {{
  boards(ids: $ids) {{ items_page(limit: $limit) {{ cursor items {{ {_ITEM_FIELDS} }} }} }} }}"""
NEXT_PAGE_QUERY = f"""query ($cursor: String!, $limit: Int!, $columns: [String!],
  $subcolumns: [String!]) {{ next_items_page(cursor: $cursor, limit: $limit) {{
  cursor items {{ {_ITEM_FIELDS} }} }} }}"""
BY_ID_QUERY = f"""query ($ids: [ID!], $columns: [String!], $subcolumns: [String!]) {{
  items(ids: $ids) {{ {_ITEM_FIELDS} }} }}"""
STATES_QUERY = """query ($ids: [ID!]) { items(ids: $ids) { id state } }"""


def _columns(mapping: BoardMapping) -> dict[str, list[str]]:
    parent = [m.column.column_id for m in mapping.columns]
    parent += [mapping.record_uuid_column.column_id, mapping.order_qty_column.column_id]
    subs = [mapping.subitem_size_column.column_id, mapping.subitem_qty_column.column_id]
    return {"columns": list(dict.fromkeys(parent)), "subcolumns": subs}


def _item(raw: dict[str, Any], qty_column: str) -> BoardItem:
    values = {
        str(cv["id"]): (cv.get("text"), cv.get("value")) for cv in raw.get("column_values") or []
    }
    subitems = tuple(
        BoardSubitem(
            str(s["id"]),
            str(s.get("name") or ""),
            next(
                (cv.get("text") for cv in s.get("column_values") or [] if cv["id"] == qty_column),
                None,
            ),
        )
        for s in raw.get("subitems") or []
        if (s.get("state") or "active") == "active"
    )
    group = raw.get("group") or {}
    return BoardItem(
        str(raw["id"]),
        str(raw.get("name") or ""),
        str(raw.get("state") or "active"),
        group.get("title"),
        values,
        subitems,
    )


def board_items(
    client: MondayClient, board_id: str, mapping: BoardMapping, *, page: int = ITEMS_PAGE
) -> Iterator[BoardItem]:
    """Every active item of the board, page by page (the cursor followed to its end)."""
    wanted = _columns(mapping)
    qty = mapping.subitem_qty_column.column_id
    result = client.execute(PAGE_QUERY, {"ids": [board_id], "limit": page, **wanted})
    boards = result.data.get("boards") or []
    found = boards[0].get("items_page") if boards else None
    while found:
        for raw in found.get("items") or []:
            yield _item(raw, qty)
        cursor = found.get("cursor")
        if not cursor:
            return
        result = client.execute(NEXT_PAGE_QUERY, {"cursor": cursor, "limit": page, **wanted})
        found = result.data.get("next_items_page")


def items_by_id(
    client: MondayClient, item_ids: Sequence[str], mapping: BoardMapping
) -> dict[str, BoardItem]:
    """The items of these ids as they are now (archived and deleted ones with their state;
    an id monday no longer returns is missing)."""
    wanted = _columns(mapping)
    qty = mapping.subitem_qty_column.column_id
    out: dict[str, BoardItem] = {}
    for i in range(0, len(item_ids), IDS_CHUNK):
        chunk = list(item_ids[i : i + IDS_CHUNK])
        result = client.execute(BY_ID_QUERY, {"ids": chunk, **wanted})
        for raw in result.data.get("items") or []:
            out[str(raw["id"])] = _item(raw, qty)
    return out


def item_states(client: MondayClient, item_ids: Sequence[str]) -> dict[str, str]:
    """{item id: active, archived or deleted}; an id monday no longer returns is "deleted"
    (monday keeps deleted items a while, then forgets them)."""
    out = {str(i): "deleted" for i in item_ids}
    ids = list(out)
    for i in range(0, len(ids), IDS_CHUNK):
        result = client.execute(STATES_QUERY, {"ids": ids[i : i + IDS_CHUNK]})
        for raw in result.data.get("items") or []:
            out[str(raw["id"])] = str(raw.get("state") or "active")
    return out


def reads_for(item_count: int) -> int:
    """Requests item_states (or items_by_id) makes for this many items."""
    return -(-item_count // IDS_CHUNK)
