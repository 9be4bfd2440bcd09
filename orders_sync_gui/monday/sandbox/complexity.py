"""The sandbox's complexity cost model, computed from the document before it runs.

monday does not publish its formula; this one keeps its documented shape and anchor points
(https://developer.monday.com/api-reference/docs/rate-limits, .../docs/complexity): a read
costs by the objects it may return (its limits and ids, not what it happens to find), so
reads multiply with page sizes; nesting `subitems` in items "may lead to an increase" beyond
their count (https://developer.monday.com/api-reference/docs/subitems); a `create_item`
costs about 10,000 points (.../docs/development-best-practices); a page of 500 items with
their column values about 5,500 (.../docs/aggregation-api-guide). So:

- a scalar (leaf) field costs 0, and so do `complexity` and introspection fields;
- a mutation field costs `mutation_costs[name]` plus the cost of its selection, once;
- any other object field costs `n * (read_object_cost + cost of its selection)`, where n is
  how many objects it may return: the `limit` of `items_page` / `next_items_page` /
  `items_page_by_column_values` (default 25) for their `items`, `len(ids)` or `limit`
  (default 25) for `boards` and `items`, `len(ids)` or `list_estimate` for `column_values`,
  `columns`, `groups`, `subitems`, `values`; 1 for a single object;
- a `subitems` field nested in an item costs `subitems_weight` times that: how much more
  monday's nesting weighs is not published, the weight (10 by default) is the sandbox's.

So `create_item(...) { id }` costs 10,000, a page of 500 items with 10 column values
each costs 1 + 1 + 500 * (1 + 10) = 5,502, and the same page with `subitems { id name }`
500 * 10 * 10 * 1 = 50,000 more.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from graphql import (
    DocumentNode,
    FieldNode,
    FragmentDefinitionNode,
    FragmentSpreadNode,
    InlineFragmentNode,
    OperationDefinitionNode,
    OperationType,
    SelectionSetNode,
)
from graphql.utilities import value_from_ast_untyped

from .config import SandboxConfig

_PAGED = frozenset({"items_page", "next_items_page", "items_page_by_column_values"})
_ROOT_LISTS = frozenset({"boards", "items"})
_ESTIMATED_LISTS = frozenset({"column_values", "columns", "groups", "subitems", "values"})
_FREE = frozenset({"complexity"})
DEFAULT_PAGE = 25


def find_operation(document: DocumentNode, name: str | None) -> OperationDefinitionNode | None:
    operations = [d for d in document.definitions if isinstance(d, OperationDefinitionNode)]
    if name is None:
        return operations[0] if len(operations) == 1 else None
    return next((o for o in operations if o.name and o.name.value == name), None)


def is_mutation(document: DocumentNode, name: str | None) -> bool:
    operation = find_operation(document, name)
    return operation is not None and operation.operation == OperationType.MUTATION


def mutation_fields(
    document: DocumentNode, name: str | None, variables: Mapping[str, Any] | None = None
) -> list[tuple[str, dict[str, Any]]]:
    """The mutations a document would run, in order: (field name, its arguments' values),
    `complexity` and introspection left out."""
    operation = find_operation(document, name)
    if operation is None or operation.operation != OperationType.MUTATION:
        return []
    costing = _Costing(document, variables or {}, SandboxConfig())
    out: list[tuple[str, dict[str, Any]]] = []
    for node in costing._fields(operation.selection_set):
        field = node.name.value
        if field in _FREE or field.startswith("__"):
            continue
        args = {a.name.value: costing._arg(node, a.name.value) for a in node.arguments or ()}
        out.append((field, args))
    return out


class _Costing:
    def __init__(
        self, document: DocumentNode, variables: Mapping[str, Any], config: SandboxConfig
    ) -> None:
        self.config = config
        self.variables = dict(variables)
        self.fragments = {
            d.name.value: d for d in document.definitions if isinstance(d, FragmentDefinitionNode)
        }

    def _arg(self, node: FieldNode, name: str) -> Any:
        for argument in node.arguments or ():
            if argument.name.value == name:
                return value_from_ast_untyped(argument.value, self.variables)
        return None

    def _fields(self, selection_set: SelectionSetNode | None) -> list[FieldNode]:
        found: list[FieldNode] = []
        for selection in selection_set.selections if selection_set else ():
            if isinstance(selection, FieldNode):
                found.append(selection)
            elif isinstance(selection, InlineFragmentNode):
                found.extend(self._fields(selection.selection_set))
            elif isinstance(selection, FragmentSpreadNode):
                fragment = self.fragments.get(selection.name.value)
                if fragment is not None:
                    found.extend(self._fields(fragment.selection_set))
        return found

    def _count(self, node: FieldNode, page: int | None) -> int:
        name = node.name.value
        ids = self._arg(node, "ids")
        if name == "items" and page is not None:
            return page  # the `items` of an ItemsResponse
        if name in _ROOT_LISTS:
            limit = self._arg(node, "limit")
            return len(ids) if isinstance(ids, list) else _positive(limit, DEFAULT_PAGE)
        if name in _ESTIMATED_LISTS:
            return len(ids) if isinstance(ids, list) else self.config.list_estimate
        return 1

    def selection(self, selection_set: SelectionSetNode | None, page: int | None) -> int:
        return sum(self.field(node, page) for node in self._fields(selection_set))

    def field(self, node: FieldNode, page: int | None) -> int:
        name = node.name.value
        if node.selection_set is None or name.startswith("__") or name in _FREE:
            return 0
        child_page = _positive(self._arg(node, "limit"), DEFAULT_PAGE) if name in _PAGED else None
        inner = self.config.read_object_cost + self.selection(node.selection_set, child_page)
        weight = self.config.subitems_weight if name == "subitems" else 1
        return self._count(node, page) * inner * weight

    def root(self, operation: OperationDefinitionNode) -> int:
        if operation.operation != OperationType.MUTATION:
            return self.selection(operation.selection_set, None)
        total = 0
        for node in self._fields(operation.selection_set):
            name = node.name.value
            if name in _FREE or name.startswith("__"):
                continue
            cost = self.config.mutation_costs.get(name, max(self.config.mutation_costs.values()))
            total += cost + self.selection(node.selection_set, None)
        return total


def _positive(value: Any, default: int) -> int:
    return value if isinstance(value, int) and value > 0 else default


def query_cost(
    document: DocumentNode,
    operation_name: str | None,
    variables: Mapping[str, Any] | None,
    config: SandboxConfig,
) -> int:
    """Complexity points of the operation that will run (0 when none can be selected)."""
    operation = find_operation(document, operation_name)
    if operation is None:
        return 0
    return _Costing(document, variables or {}, config).root(operation)
