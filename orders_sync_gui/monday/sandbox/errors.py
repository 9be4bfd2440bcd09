"""monday.com's application errors, raised by resolvers and rendered in `errors`.

Application errors travel with HTTP 200 inside the `errors` array, next to whatever data the
other fields of the request produced; transport errors (401, 409, 423, 429, 5xx) are built by
the server module instead.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # the config imports this module: it stays free of graphql-core
    from graphql import GraphQLError

COLUMN_VALUES_DOCS = "https://developer.monday.com/api-reference/docs/change-column-values"


class MondayError(Exception):
    """An application error with monday's `extensions` (code, status_code, error_data)."""

    def __init__(
        self,
        message: str,
        code: str,
        error_data: dict[str, Any] | None = None,
        status_code: int = 200,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.code = code
        self.error_data = error_data or {}
        self.status_code = status_code

    @property
    def extensions(self) -> dict[str, Any]:
        return {"code": self.code, "status_code": self.status_code, "error_data": self.error_data}


def column_value_error(
    column_id: str, column_type: str, value: Any, detail: str | None = None
) -> MondayError:
    message = detail or (
        "invalid value, please check our API documentation for the correct data structure "
        f"for this column. {COLUMN_VALUES_DOCS}"
    )
    return MondayError(
        message,
        "ColumnValueException",
        {"column_id": column_id, "column_type": column_type, "column_value": value},
    )


def invalid_column(column_id: str, board_id: str) -> MondayError:
    return MondayError(
        "This column ID doesn't exist for the board",
        "InvalidColumnIdException",
        {"column_id": column_id, "board_id": board_id},
    )


def invalid_board(board_id: str) -> MondayError:
    return MondayError("Board not found", "InvalidBoardIdException", {"board_id": board_id})


def invalid_item(item_id: str | None, board_id: str | None = None) -> MondayError:
    data: dict[str, Any] = {"item_id": item_id}
    if board_id is not None:
        data["board_id"] = board_id
    return MondayError("Item not found in board", "InvalidItemIdException", data)


# How the sandbox answers a mutation on an item that does not exist (SandboxConfig.gone_style).
# monday documents InvalidItemIdException and ResourceNotFoundException, the latter with
# HTTP 200 or 404, and its older pages an HTTP 500 for an id that does not exist
# (https://developer.monday.com/api-reference/docs/error-handling). When a 404 or 500 is sent
# is not documented; the styles act out the readings a client must survive:
GONE_STYLES = (
    "invalid_item_id",  # InvalidItemIdException on the field, HTTP 200 (the default)
    "resource_not_found",  # ResourceNotFoundException on the field, HTTP 200
    "resource_not_found_404",  # on the field; a request of that one mutation: HTTP 404
    "resource_not_found_404_request",  # HTTP 404 for the whole request, nothing runs
    "error_500",  # HTTP 500 for the whole request naming the item, nothing runs
)
# The styles that refuse a whole request before anything in it runs.
REQUEST_GONE_STYLES = frozenset({"resource_not_found_404_request", "error_500"})


def gone_error(style: str, item_id: str | None, board_id: str | None = None) -> MondayError:
    """The error of one mutation field whose item does not exist, in the style's words."""
    if style == "invalid_item_id":
        return invalid_item(item_id, board_id)
    data: dict[str, Any] = {"item_id": item_id}
    if board_id is not None:
        data["board_id"] = board_id
    return MondayError(
        f"Item {item_id} could not be found", "ResourceNotFoundException", data, status_code=404
    )


def gone_request_error(style: str, item_id: str) -> tuple[int, dict[str, Any]]:
    """(HTTP status, one `errors` entry without a path) refusing a whole request."""
    if style == "error_500":
        # The older reference's shape: a server error whose words name the missing item.
        message = f"Internal server error: item {item_id} does not exist"
        return 500, {
            "message": message,
            "extensions": {"code": "INTERNAL_SERVER_ERROR", "status_code": 500},
        }
    error = gone_error(style, item_id)
    return 404, {"message": error.message, "extensions": error.extensions}


def invalid_argument(message: str, **error_data: Any) -> MondayError:
    return MondayError(message, "InvalidArgumentException", error_data)


def format_graphql_error(error: GraphQLError, default_code: str) -> dict[str, Any]:
    """One entry of `errors` in monday's shape; non-monday errors get `default_code`."""
    formatted: dict[str, Any] = {"message": error.message}
    if error.locations:
        formatted["locations"] = [{"line": at.line, "column": at.column} for at in error.locations]
    if error.path:
        formatted["path"] = list(error.path)
    original = error.original_error
    if isinstance(original, MondayError):
        formatted["extensions"] = original.extensions
    else:
        formatted["extensions"] = {"code": default_code, "status_code": 200, "error_data": {}}
    return formatted
