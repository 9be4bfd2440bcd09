"""A local stand-in for the monday.com API v2, for demo mode, tests and benchmarks.

Real HTTP on 127.0.0.1, real GraphQL parsing and validation (graphql-core) against a small
SDL whose names match monday's schema, monday's column value formats, error shapes and
limits (complexity, minute rate, concurrency, daily calls, IP), `Idempotency-Key`, and
deterministic fault injection. See `app.py` for the path of one request and the HTTP status
of each refusal, `complexity.py` for the cost model, `server.py` for the endpoints.
"""

from .cli import serve_forever_cli
from .config import FAULT_KINDS, FaultConfig, SandboxConfig
from .process import SandboxProcess, SandboxStartError
from .server import SandboxServer, loopback_host

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
