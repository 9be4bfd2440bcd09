"""Small reads and writes the doctor and its live test send: who the token is, which API
version answered, an item's values and state, a group deleted. Each reads the answer's
shape strictly: a missing field is a KeyError or a ProbeError naming it, never a default.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .client import MondayClient, MondayRequestError

ME_QUERY = "query { me { id name } }"
ITEMS_QUERY = """query ($ids: [ID!], $columns: [String!]) { items(ids: $ids) { id name state
  column_values(ids: $columns) { id text } } }"""
DELETE_GROUP_MUTATION = """mutation ($board: ID!, $group: String!) {
  delete_group(board_id: $board, group_id: $group) { id deleted } }"""
# monday's VersionKind values that still serve but will not for long, or change under you.


class ProbeError(MondayRequestError):
    """monday.com answered, but not in the shape the app reads."""


@dataclass(frozen=True, slots=True)
class Me:
    user_id: str
    name: str


def _field(data: dict[str, Any], name: str, where: str) -> Any:
    if not isinstance(data, dict) or data.get(name) is None:
        raise ProbeError(f"monday.com's answer to {where} has no {name!r}")
    return data[name]


def whoami(client: MondayClient) -> Me:
    """The token's user; a refused token is the client's MondayStopError."""
    me = _field(client.execute(ME_QUERY).data, "me", "me")
    return Me(str(_field(me, "id", "me")), str(_field(me, "name", "me")))


@dataclass(frozen=True, slots=True)
class ItemState:
    item_id: str
    name: str
    state: str | None
    texts: dict[str, str | None]


def read_items(
    client: MondayClient, item_ids: Sequence[str], column_ids: Sequence[str]
) -> dict[str, ItemState]:
    """Items (active, archived or deleted, as monday returns them) with some column texts."""
    result = client.execute(ITEMS_QUERY, {"ids": list(item_ids), "columns": list(column_ids)})
    out: dict[str, ItemState] = {}
    for item in _field(result.data, "items", "items"):
        values = {
            str(_field(cv, "id", "column_values")): cv.get("text")
            for cv in item.get("column_values") or []
        }
        item_id = str(_field(item, "id", "items"))
        out[item_id] = ItemState(item_id, str(item.get("name") or ""), item.get("state"), values)
    return out


def delete_group(client: MondayClient, board_id: str, group_id: str) -> str:
    """Delete a group (and, as monday does, the items in it); returns its id."""
    result = client.execute(
        DELETE_GROUP_MUTATION, {"board": board_id, "group": group_id}, mutation=True
    )
    error = next(iter(result.field_errors.values()), None)
    if error is not None:
        raise MondayRequestError(f"could not delete the group {group_id!r}: {error}")
    group = _field(result.data, "delete_group", "delete_group")
    return str(_field(group, "id", "delete_group"))
