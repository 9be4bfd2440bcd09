"""`orders-sync` exactly as shipped (orders_sync_gui.cli.main), with two test hooks on its
database statements, switched on by environment variables:

- ORDERS_SYNC_TEST_KILL_AT=<n>[:before|:after] SIGKILLs the process itself just before (or
  just after) its n-th SQL statement: a kill inside a transaction, or right after a commit
  (the statement before which a transaction begins), at a point the test chose at random;
- ORDERS_SYNC_TEST_KILL_P=<p> with ORDERS_SYNC_TEST_KILL_SEED=<seed>: from the first write
  on, before and after each statement, SIGKILL with probability p/2 (a seeded draw): a kill
  point spread over the whole run without knowing its length beforehand;
- ORDERS_SYNC_TEST_STATEMENTS=<file> writes, on a normal exit, how many statements ran and
  the number of the first write (INSERT/UPDATE/DELETE): the range a kill point is drawn from;
- ORDERS_SYNC_TEST_BARRIER=<port> with ORDERS_SYNC_TEST_BARRIER_SQL=<regex>: before the first
  statement matching the regex, connect to 127.0.0.1:<port> and block until the test says
  "go", so that two processes reach the same statement together (a race, made to happen).

Run as `python tests/reliability/crash_cli.py <orders-sync arguments>`.
"""

from __future__ import annotations

import atexit
import json
import os
import random
import re
import signal
import socket
import sys

from sqlalchemy import Engine, event

from orders_sync_gui.cli import main

_count = 0
_first_write: int | None = None
_barrier_passed = False


def _kill_point() -> tuple[int, str] | None:
    raw = os.environ.get("ORDERS_SYNC_TEST_KILL_AT")
    if not raw:
        return None
    number, _, when = raw.partition(":")
    return int(number), when or "before"


KILL = _kill_point()
KILL_P = float(os.environ.get("ORDERS_SYNC_TEST_KILL_P") or 0) / 2
_draw = random.Random(int(os.environ.get("ORDERS_SYNC_TEST_KILL_SEED") or 0))
BARRIER_PORT = os.environ.get("ORDERS_SYNC_TEST_BARRIER")
BARRIER_SQL = re.compile(os.environ.get("ORDERS_SYNC_TEST_BARRIER_SQL") or "^$")


def _die() -> None:
    sys.stdout.flush()
    sys.stderr.flush()
    os.kill(os.getpid(), signal.SIGKILL)


def _wait_at_barrier() -> None:
    with socket.create_connection(("127.0.0.1", int(BARRIER_PORT or 0)), timeout=60) as sock:
        sock.sendall(f"{os.getpid()}\n".encode())
        answer = sock.recv(16)  # blocks until the test lets every party go
    if not answer.startswith(b"go"):
        raise SystemExit("the barrier was abandoned by the test")


@event.listens_for(Engine, "before_cursor_execute")
def _before(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
    global _count, _first_write, _barrier_passed
    _count += 1
    if _first_write is None and statement.lstrip().upper().startswith(
        ("INSERT", "UPDATE", "DELETE")
    ):
        _first_write = _count
    if KILL is not None and (_count, "before") == KILL:
        _die()
    if KILL_P and _first_write is not None and _draw.random() < KILL_P:
        _die()
    if BARRIER_PORT and not _barrier_passed and BARRIER_SQL.search(statement):
        _barrier_passed = True
        _wait_at_barrier()


@event.listens_for(Engine, "after_cursor_execute")
def _after(conn, cursor, statement, parameters, context, executemany):  # type: ignore[no-untyped-def]
    if KILL is not None and (_count, "after") == KILL:
        _die()
    if KILL_P and _first_write is not None and _draw.random() < KILL_P:
        _die()


def _report() -> None:
    path = os.environ.get("ORDERS_SYNC_TEST_STATEMENTS")
    if path:
        with open(path, "w", encoding="utf-8") as handle:
            json.dump({"statements": _count, "first_write": _first_write or 1}, handle)


atexit.register(_report)

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
