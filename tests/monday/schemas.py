"""The schemas the client's documents are validated against: API version SCHEMA_VERSION.

- The sandbox's SDL (orders_sync_gui/monday/sandbox/schema-2026-10.graphql), always here:
  the project's own subset of monday's 2026-10 schema, the one the sandbox serves.
- monday's own SDL for the same version, where it is at hand: $ORDERS_SYNC_MONDAY_SCHEMA,
  else `schema-<version>*.graphql` in shared/monday/ beside the repository. It is monday's
  data and is not copied into the project; the tests that need it say so when they skip.
  None of monday's npm packages carries it (docs/monday-api.md says which were looked at),
  so the setup cannot fetch it from a registry as pip fetches packages.

(A module of its own, not conftest.py, for the reason pushkit.py gives.)
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import graphql
import pytest
from graphql.execution.values import get_variable_values

from orders_sync_gui.monday.sandbox.app import SCHEMA_PATH, SCHEMA_VERSION

SHARED = Path(__file__).resolve().parents[3] / "shared" / "monday"


def mondays_schema_path(version: str = SCHEMA_VERSION) -> Path | None:
    configured = os.environ.get("ORDERS_SYNC_MONDAY_SCHEMA")
    if configured:
        return Path(configured) if Path(configured).is_file() else None
    found = sorted(SHARED.glob(f"schema-{version}*.graphql")) if SHARED.is_dir() else []
    return found[0] if found else None


def sandbox_schema() -> graphql.GraphQLSchema:
    return graphql.build_schema(SCHEMA_PATH.read_text("utf-8"))


def mondays_schema(version: str = SCHEMA_VERSION) -> graphql.GraphQLSchema:
    """monday's published SDL for `version`, or a skip that says what is missing."""
    path = mondays_schema_path(version)
    if path is None:
        pytest.skip(
            f"monday's published schema for API version {version} was not found "
            f"(schema-{version}*.graphql in {SHARED}, or $ORDERS_SYNC_MONDAY_SCHEMA): the "
            "check against monday's own SDL did not run; the one against the sandbox's "
            "subset of it did. monday serves it at https://api.monday.com/v2/get_schema?"
            f"format=sdl&version={version} (no npm package of monday's ships it: "
            "docs/monday-api.md)"
        )
    return graphql.build_schema(path.read_text("utf-8"))  # big: once per module


def problems(schema: graphql.GraphQLSchema, query: str, variables: dict[str, Any]) -> list[str]:
    """Validation errors of the document, and of the variables against its declarations."""
    document = graphql.parse(query)
    found = [e.message for e in graphql.validate(schema, document)]
    if found:
        return found
    [operation] = [
        d for d in document.definitions if isinstance(d, graphql.OperationDefinitionNode)
    ]
    coerced = get_variable_values(schema, operation.variable_definitions or (), variables)
    return [e.message for e in coerced] if isinstance(coerced, list) else []
