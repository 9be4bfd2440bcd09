"""GraphQL resolvers: the root object and the views graphql-core walks.

graphql-core's default resolver reads an attribute (or key) named like the field and calls
it with `(info, **args)` when it is callable, so views expose plain attributes for scalar
fields and methods for fields with arguments. Every resolver runs with the state lock held
by the server, so one request sees one consistent board.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from graphql import GraphQLResolveInfo

from .columns import Column
from .config import SandboxConfig
from .errors import MondayError, invalid_argument
from .limits import Receipt
from .state import Board, BoardState, Group, Item
from .versions import ServedVersion, VersionTable

_TYPENAMES = {
    "text": "TextValue",
    "numbers": "NumbersValue",
    "date": "DateValue",
    "status": "StatusValue",
    "dropdown": "DropdownValue",
    "long_text": "LongTextValue",
    "subtasks": "SubtasksValue",
}

SANDBOX_USER_OFFSET = 10_000_000  # the token's user id: the account id plus this


@dataclass
class ExecutionContext:
    state: BoardState
    config: SandboxConfig
    receipt: Receipt | None
    mutated: bool = False
    api_version: ServedVersion | None = None  # the version serving this request
    versions: VersionTable | None = None


def _ctx(info: GraphQLResolveInfo) -> ExecutionContext:
    return info.context


def resolve_column_value_type(value: Any, _info: GraphQLResolveInfo, _type: Any) -> str:
    return value["__typename"]


# ---------------------------------------------------------------------- plain objects
def column_json(column: Column) -> dict[str, Any]:
    return {
        "id": column.id,
        "title": column.title,
        "type": column.type,
        "settings_str": column.settings_str(),
        "archived": False,
        "description": None,
        "width": None,
    }


def group_json(group: Group) -> dict[str, Any]:
    return {
        "id": group.id,
        "title": group.title,
        "color": group.color,
        "position": group.position,
        "archived": group.archived,
        "deleted": group.deleted,
    }


def _column_value(state: BoardState, item: Item, column: Column) -> dict[str, Any]:
    stored = item.values.get(column.id)
    value: dict[str, Any] = {
        "__typename": _TYPENAMES.get(column.type, "TextValue"),
        "id": column.id,
        "type": column.type,
        "text": state.item_text(item, column),
        "value": state.item_value(item, column),
        "column": column_json(column),
    }
    if column.type == "numbers":
        value["number"] = float(stored) if stored is not None else None
    elif column.type == "date":
        value["date"] = stored["date"] if stored else None
        value["time"] = stored["time"] if stored else None
    elif column.type == "status":
        index = stored["index"] if stored else None
        value["index"] = index
        value["label"] = column.labels.get(index) if index is not None else None
        value["is_done"] = value["label"] == "Done"
    elif column.type == "dropdown":
        ids = stored["ids"] if stored else []
        value["values"] = [{"id": str(i), "label": column.labels.get(i, "")} for i in ids]
    elif column.type == "subtasks":
        subitems = state.active_subitems(item)
        value["subitems_ids"] = [s.id for s in subitems]
        value["display_value"] = ", ".join(s.name for s in subitems)
    return value


# ---------------------------------------------------------------------- cursors
def _encode_cursor(key: str, offset: int) -> str:
    return base64.urlsafe_b64encode(f"{key}:{offset}".encode()).decode().rstrip("=")


def _decode_cursor(token: str) -> tuple[str, int]:
    try:
        padded = token + "=" * (-len(token) % 4)
        key, _, offset = base64.urlsafe_b64decode(padded.encode()).decode().partition(":")
        return key, int(offset)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise MondayError("The cursor is invalid", "CursorException", {"cursor": token}) from None


def _check_limit(limit: Any, config: SandboxConfig) -> int:
    if not isinstance(limit, int) or not 1 <= limit <= config.max_page_limit:
        raise invalid_argument(f"limit must be between 1 and {config.max_page_limit}", limit=limit)
    return limit


def _items_response(ctx: ExecutionContext, key: str, offset: int, limit: int) -> dict[str, Any]:
    items, next_offset = ctx.state.page(key, offset, limit)
    cursor = _encode_cursor(key, next_offset) if next_offset is not None else None
    return {"cursor": cursor, "items": [ItemView(i) for i in items]}


def _first_page(ctx: ExecutionContext, board: Board, ids: list[str], limit: int) -> dict[str, Any]:
    if len(ids) <= limit:  # one page holds it all: no cursor to keep
        return {"cursor": None, "items": [ItemView(ctx.state.items[i]) for i in ids]}
    key = ctx.state.open_cursor(board, ids)
    return _items_response(ctx, key, 0, limit)


# ---------------------------------------------------------------------- items_page filters
def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _rule_matches(state: BoardState, item: Item, column: Column, rule: Mapping[str, Any]) -> bool:
    operator = rule.get("operator") or "any_of"
    text = state.item_text(item, column) or ""
    wanted = _as_list(rule.get("compare_value"))
    if column.type == "status" and any(isinstance(v, int) for v in wanted):
        stored = item.values.get(column.id)
        index = stored["index"] if stored else None
        hit = index in wanted or (index is None and "" in wanted)
        return hit if operator == "any_of" else not hit
    words = [str(v) for v in wanted]
    lowered = text.lower()
    if operator == "any_of":
        return text in words
    if operator == "not_any_of":
        return text not in words
    if operator == "is_empty":
        return text == ""
    if operator == "is_not_empty":
        return text != ""
    if operator == "contains_text":
        return any(w.lower() in lowered for w in words)
    if operator == "not_contains_text":
        return not any(w.lower() in lowered for w in words)
    if operator == "starts_with":
        return any(lowered.startswith(w.lower()) for w in words)
    if operator == "ends_with":
        return any(lowered.endswith(w.lower()) for w in words)
    return False


def _sort_key(state: BoardState, item: Item, column: Column) -> tuple[int, float, str]:
    text = state.item_text(item, column) or ""
    if column.type == "numbers" and text:
        return (0, float(text), "")
    return (1 if not text else 0, 0.0, text)


def _filter_items(state: BoardState, board: Board, params: Mapping[str, Any] | None) -> list[str]:
    items = state.active_items(board)
    if not params:
        return [i.id for i in items]
    if params.get("ids"):
        ids = {str(i) for i in params["ids"]}
        items = [i for i in items if i.id in ids]
    rules: list[tuple[Column, Mapping[str, Any]]] = []
    for rule in params.get("rules") or []:
        column = board.column(str(rule["column_id"]))
        if column is None:
            raise MondayError(
                "This column ID doesn't exist for the board",
                "InvalidColumnIdException",
                {"column_id": rule["column_id"], "board_id": board.id},
            )
        rules.append((column, rule))
    if rules:
        combine = any if params.get("operator") == "or" else all
        items = [i for i in items if combine(_rule_matches(state, i, c, r) for c, r in rules)]
    for order in reversed(params.get("order_by") or []):
        column = board.column(str(order["column_id"]))
        if column is not None:
            reverse = order.get("direction") == "desc"
            items.sort(key=partial(_sort_key, state, column=column), reverse=reverse)
    return [i.id for i in items]


# ---------------------------------------------------------------------- views
class BoardView:
    def __init__(self, board: Board) -> None:
        self._board = board
        self.id = board.id
        self.name = board.name
        self.state = "active"

    def items_count(self, info: GraphQLResolveInfo) -> int:
        return len(_ctx(info).state.active_items(self._board))

    def items_limit(self, info: GraphQLResolveInfo) -> int:
        """The most items the board may hold (ItemsLimitationException past it)."""
        return _ctx(info).state.max_items_per_board

    def columns(
        self,
        info: GraphQLResolveInfo,
        ids: Iterable[str] | None = None,
        types: Iterable[str] | None = None,
    ) -> list[dict[str, Any]]:
        wanted_ids = set(ids) if ids is not None else None
        wanted_types = set(types) if types is not None else None
        return [
            column_json(c)
            for c in self._board.columns
            if (wanted_ids is None or c.id in wanted_ids)
            and (wanted_types is None or c.type in wanted_types)
        ]

    def groups(
        self, info: GraphQLResolveInfo, ids: Iterable[str] | None = None
    ) -> list[dict[str, Any]]:
        wanted = set(ids) if ids is not None else None
        return [
            {**group_json(g), "items_page": self._group_items_page(g)}
            for g in self._board.groups
            if not g.deleted and (wanted is None or g.id in wanted)
        ]

    def _group_items_page(self, group: Group) -> Callable[..., dict[str, Any]]:
        """A group's items_page, as monday serves it on the Group type
        (https://developer.monday.com/api-reference/reference/groups): the board's
        items_page narrowed to the group's items, with the same cursor and limits."""

        def items_page(
            info: GraphQLResolveInfo,
            limit: int = 25,
            cursor: str | None = None,
            query_params: Mapping[str, Any] | None = None,
        ) -> dict[str, Any]:
            ctx = _ctx(info)
            limit = _check_limit(limit, ctx.config)
            if cursor:
                key, offset = _decode_cursor(cursor)
                return _items_response(ctx, key, offset, limit)
            ids = _filter_items(ctx.state, self._board, query_params)
            ids = [i for i in ids if ctx.state.items[i].group_id == group.id]
            return _first_page(ctx, self._board, ids, limit)

        return items_page

    def top_group(self, info: GraphQLResolveInfo) -> dict[str, Any]:
        return group_json(next(g for g in self._board.groups if not g.deleted))

    def items_page(
        self,
        info: GraphQLResolveInfo,
        limit: int = 25,
        cursor: str | None = None,
        query_params: Mapping[str, Any] | None = None,
    ) -> dict[str, Any]:
        ctx = _ctx(info)
        limit = _check_limit(limit, ctx.config)
        if cursor:
            key, offset = _decode_cursor(cursor)
            return _items_response(ctx, key, offset, limit)
        ids = _filter_items(ctx.state, self._board, query_params)
        return _first_page(ctx, self._board, ids, limit)


class ItemView:
    def __init__(self, item: Item) -> None:
        self._item = item
        self.id = item.id
        self.name = item.name
        self.state = item.state
        self.created_at = item.created_at
        self.updated_at = item.updated_at

    def board(self, info: GraphQLResolveInfo) -> BoardView:
        return BoardView(_ctx(info).state.boards[self._item.board_id])

    def group(self, info: GraphQLResolveInfo) -> dict[str, Any] | None:
        group = _ctx(info).state.boards[self._item.board_id].group(self._item.group_id)
        return group_json(group) if group else None

    def parent_item(self, info: GraphQLResolveInfo) -> ItemView | None:
        parent_id = self._item.parent_id
        return ItemView(_ctx(info).state.items[parent_id]) if parent_id else None

    def subitems(self, info: GraphQLResolveInfo) -> list[ItemView]:
        return [ItemView(s) for s in _ctx(info).state.active_subitems(self._item)]

    def column_values(
        self,
        info: GraphQLResolveInfo,
        ids: Iterable[str] | None = None,
        types: Iterable[str] | None = None,
    ) -> list[dict[str, Any]]:
        state = _ctx(info).state
        board = state.boards[self._item.board_id]
        wanted_ids = set(ids) if ids is not None else None
        wanted_types = set(types) if types is not None else None
        return [
            _column_value(state, self._item, c)
            for c in board.columns
            if c.type != "name"  # monday leaves the name out of column_values
            and (wanted_ids is None or c.id in wanted_ids)
            and (wanted_types is None or c.type in wanted_types)
        ]


class Root:
    """Query and Mutation fields; each request gets the same stateless root."""

    # ------------------------------------------------------------------ queries
    def version(self, info: GraphQLResolveInfo) -> dict[str, str]:
        """The version serving this request (https://developer.monday.com/api-reference/docs/version)."""
        served = _ctx(info).api_version
        assert served is not None, "every request is served by a version (app.py)"
        return served.to_json()

    def versions(self, info: GraphQLResolveInfo) -> list[dict[str, str]]:
        """Every version served (https://developer.monday.com/api-reference/reference/versions)."""
        table = _ctx(info).versions
        return [v.to_json() for v in table.versions] if table is not None else []

    def boards(
        self,
        info: GraphQLResolveInfo,
        ids: list[str] | None = None,
        limit: int | None = None,
        page: int | None = None,
        state: str | None = None,
    ) -> list[BoardView]:
        boards = list(_ctx(info).state.boards.values())
        if ids is not None:
            wanted = [str(i) for i in ids]
            boards = [b for b in boards if b.id in wanted]
        if state in ("archived", "deleted"):
            return []
        size = limit if limit and limit > 0 else 25
        start = ((page or 1) - 1) * size
        return [BoardView(b) for b in boards[start : start + size]]

    def items(
        self,
        info: GraphQLResolveInfo,
        ids: list[str] | None = None,
        limit: int | None = None,
        page: int | None = None,
        exclude_nonactive: bool | None = None,
        newest_first: bool | None = None,
    ) -> list[ItemView]:
        """Archived and deleted items are returned (with their `state`) unless excluded."""
        ctx = _ctx(info)
        if ids is not None and len(ids) > ctx.config.max_items_query_ids:
            raise invalid_argument(
                f"items query accepts at most {ctx.config.max_items_query_ids} ids",
                ids_count=len(ids),
            )
        if ids is not None:
            found = [ctx.state.items.get(str(i)) for i in ids]
            items = [i for i in found if i is not None]
        else:
            items = sorted(ctx.state.items.values(), key=lambda i: int(i.id), reverse=True)
            size = limit if limit and limit > 0 else 25
            start = ((page or 1) - 1) * size
            items = items[start : start + size]
        if exclude_nonactive:
            items = [i for i in items if i.state == "active"]
        if newest_first:
            items.sort(key=lambda i: int(i.id), reverse=True)
        return [ItemView(i) for i in items]

    def items_page_by_column_values(
        self,
        info: GraphQLResolveInfo,
        board_id: str,
        columns: list[Mapping[str, Any]] | None = None,
        cursor: str | None = None,
        limit: int = 25,
    ) -> dict[str, Any]:
        ctx = _ctx(info)
        limit = _check_limit(limit, ctx.config)
        board = ctx.state.board(board_id)
        if cursor:
            key, offset = _decode_cursor(cursor)
            return _items_response(ctx, key, offset, limit)
        ids = ctx.state.find_by_column_values(board, columns)
        return _first_page(ctx, board, ids, limit)

    def next_items_page(
        self, info: GraphQLResolveInfo, cursor: str, limit: int = 25
    ) -> dict[str, Any]:
        ctx = _ctx(info)
        limit = _check_limit(limit, ctx.config)
        key, offset = _decode_cursor(cursor)
        return _items_response(ctx, key, offset, limit)

    def me(self, info: GraphQLResolveInfo) -> dict[str, str]:
        """The token's user: one made-up operator per sandbox (its id follows the account's)."""
        account = _ctx(info).config.account_id
        return {
            "id": str(account + SANDBOX_USER_OFFSET),
            "name": "Sandbox Operator",
            "email": "operator@sandbox.invalid",
        }

    def complexity(self, info: GraphQLResolveInfo) -> dict[str, int] | None:
        receipt = _ctx(info).receipt
        return receipt.to_json() if receipt else None

    # ------------------------------------------------------------------ mutations
    def create_item(
        self,
        info: GraphQLResolveInfo,
        board_id: str,
        item_name: str,
        group_id: str | None = None,
        column_values: Any = None,
        create_labels_if_missing: bool | None = None,
    ) -> ItemView:
        ctx = _ctx(info)
        ctx.mutated = True
        item = ctx.state.create_item(
            board_id, item_name, group_id, column_values, bool(create_labels_if_missing)
        )
        return ItemView(item)

    def create_subitem(
        self,
        info: GraphQLResolveInfo,
        parent_item_id: str,
        item_name: str,
        column_values: Any = None,
        create_labels_if_missing: bool | None = None,
    ) -> ItemView:
        ctx = _ctx(info)
        ctx.mutated = True
        item = ctx.state.create_subitem(
            parent_item_id, item_name, column_values, bool(create_labels_if_missing)
        )
        return ItemView(item)

    def change_multiple_column_values(
        self,
        info: GraphQLResolveInfo,
        board_id: str,
        column_values: Any,
        item_id: str | None = None,
        create_labels_if_missing: bool | None = None,
    ) -> ItemView:
        ctx = _ctx(info)
        ctx.mutated = True
        item = ctx.state.change_values(
            board_id, item_id, column_values, bool(create_labels_if_missing)
        )
        return ItemView(item)

    def archive_item(self, info: GraphQLResolveInfo, item_id: str | None = None) -> ItemView:
        ctx = _ctx(info)
        ctx.mutated = True
        return ItemView(ctx.state.set_state(item_id, "archived"))

    def delete_item(self, info: GraphQLResolveInfo, item_id: str | None = None) -> ItemView:
        ctx = _ctx(info)
        ctx.mutated = True
        return ItemView(ctx.state.set_state(item_id, "deleted"))

    def create_group(
        self,
        info: GraphQLResolveInfo,
        board_id: str,
        group_name: str,
        group_color: str | None = None,
    ) -> dict[str, Any]:
        ctx = _ctx(info)
        ctx.mutated = True
        return group_json(ctx.state.create_group(board_id, group_name, group_color))

    def delete_group(
        self, info: GraphQLResolveInfo, board_id: str, group_id: str
    ) -> dict[str, Any]:
        ctx = _ctx(info)
        ctx.mutated = True
        return group_json(ctx.state.delete_group(board_id, group_id))

    def create_column(
        self,
        info: GraphQLResolveInfo,
        board_id: str,
        title: str,
        column_type: str,
        defaults: Any = None,
        description: str | None = None,
        id: str | None = None,  # monday names the argument so
        after_column_id: str | None = None,
    ) -> dict[str, Any]:
        """A new column on a board or a subitems board; its id generated unless given
        (https://developer.monday.com/api-reference/docs/columns, create_column). Status and
        dropdown labels may come in `defaults`; the description is answered, not kept."""
        ctx = _ctx(info)
        ctx.mutated = True
        column = ctx.state.create_column(
            board_id,
            title,
            column_type,
            column_id=id,
            after_column_id=after_column_id,
            labels=default_labels(column_type, defaults),
        )
        return {**column_json(column), "description": description}


def default_labels(column_type: str, defaults: Any) -> dict[int, str]:
    """Labels a create_column's `defaults` gives a status column ({"labels": {"1": "A"}})
    or a dropdown column ({"settings": {"labels": [{"id": 1, "name": "A"}]}}, or the same
    list under "labels"); a JSON string is read first. Anything else: no labels."""
    if isinstance(defaults, str):
        try:
            defaults = json.loads(defaults) if defaults.strip() else None
        except ValueError:
            raise invalid_argument("defaults is not valid JSON", defaults=defaults) from None
    if not isinstance(defaults, Mapping):
        return {}
    raw = defaults.get("labels")
    settings = defaults.get("settings")
    if raw is None and isinstance(settings, Mapping):
        raw = settings.get("labels")
    labels: dict[int, str] = {}
    if column_type == "status" and isinstance(raw, Mapping):
        for key, name in raw.items():
            if str(key).strip().isdigit() and isinstance(name, str) and name:
                labels[int(key)] = name
    elif column_type == "dropdown" and isinstance(raw, list):
        for number, entry in enumerate(raw, 1):
            name = entry.get("name") if isinstance(entry, Mapping) else entry
            key = entry.get("id", number) if isinstance(entry, Mapping) else number
            if isinstance(name, str) and name and str(key).isdigit():
                labels[int(key)] = name
    return labels
