"""A local stand-in for the monday.com API v2, for demo mode, tests and benchmarks.

Real HTTP on 127.0.0.1, real GraphQL parsing and validation (graphql-core) against a small
SDL whose names match monday's schema, monday's column value formats, error shapes and
limits (complexity, minute rate, concurrency, daily calls, IP), `Idempotency-Key`, and
deterministic fault injection. See `app.py` for the path of one request and the HTTP status
of each refusal, `complexity.py` for the cost model, `server.py` for the endpoints.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from .config import FAULT_KINDS, FaultConfig, SandboxConfig

if TYPE_CHECKING:
    from .cli import serve_forever_cli
    from .process import SandboxProcess, SandboxStartError
    from .server import SandboxServer, loopback_host

# The server (graphql-core, the resolvers) is imported when first asked for: the window's
# process only starts the sandbox as a child and talks to it over HTTP, and its start-up
# should not pay for the server's modules (bench_gui.py: start_seconds).
_LAZY = {
    "serve_forever_cli": ".cli",
    "SandboxProcess": ".process",
    "SandboxStartError": ".process",
    "SandboxServer": ".server",
    "loopback_host": ".server",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module, __name__), name)


__all__ = [
    "FAULT_KINDS",
    "FaultConfig",
    "SandboxConfig",
    "SandboxProcess",
    "SandboxServer",
    "SandboxStartError",
    "loopback_host",
    "serve_forever_cli",
]
