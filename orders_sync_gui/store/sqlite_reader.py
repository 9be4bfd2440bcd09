"""A SQLite SELECT stepped through by a bare child process, which hands its rows over in
chunks through a pipe: SQLite's own work (decoding the wide rows, building the packed size
text: a third of a count) runs on the other core while this process hashes.

A thread cannot do it: Python's sqlite3 gives the GIL up and takes it back once per row,
and the reading thread then waits for the hashing one at every row. The child imports
nothing but the standard library (about 30 MB, where a worker process of
services/parallel_detect.py holds its own pandas and SQLAlchemy), so a count of 100,000
rows gains a third without the memory that worker processes cost. A frozen build cannot
run `python -c`: there, and for a statement whose parameters or columns SQLAlchemy would
convert, the caller reads in its own process (see `offloadable`).
"""

from __future__ import annotations

import marshal
import pickle
import struct
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import IO, Any

from sqlalchemy import Select
from sqlalchemy.engine import Dialect

from .prefetch import read_ahead

# The child: the request (file, SQL, parameters, rows per chunk) comes pickled on stdin;
# each chunk goes out as its length and its marshal, an empty one ends; an error goes out
# as a marshalled ("error", message). Read-only by PRAGMA: it never writes. marshal, not
# pickle: SQLite's values are all types it knows, both ends run the same interpreter, and
# it writes a chunk in a quarter of pickle's time (the child is the slower end of a read
# of a large customer's rows).
_CHILD = r"""
import marshal, pickle, sqlite3, struct, sys
out = sys.stdout.buffer
def send(data):
    out.write(struct.pack("<q", len(data)))
    out.write(data)
    out.flush()
try:
    path, sql, params, n = pickle.load(sys.stdin.buffer)
    db = sqlite3.connect(path)
    db.execute("PRAGMA query_only = 1")
    cursor = db.execute(sql, params)
    while True:
        rows = cursor.fetchmany(n)
        if not rows:
            break
        data = marshal.dumps(rows)
        del rows  # one batch held at a time, not the next one's rows beside it
        send(data)
        del data
    send(b"")
except Exception as exc:
    send(marshal.dumps(("error", f"{type(exc).__name__}: {exc}")))
"""
_LENGTH = struct.Struct("<q")
# From this many rows a read is worth a child process: below, its start is not repaid.
OFFLOAD_ROWS = 20_000
# Rows the child sends at a time, at most: a whole chunk lets it read the next one while
# this process hashes (at 1,000 a 100,000-row count took 3.5 s, at 5,000 2.4 s).
BATCH_ROWS = 5_000
# Batches a thread takes off the pipe ahead of their use, at most. Without it the child
# stopped at every batch until this process, busy hashing the last chunk, came back for it
# (a pipe holds 64 KB, a batch megabytes): a large customer's preview waited a second for
# its rows. Bounded, so that a slow consumer's memory is too.
PUMPED_BATCHES = 8


def offloadable(stmt: Select[Any], dialect: Dialect) -> tuple[str, list[object]] | None:
    """The SQL and positional parameters the child runs for a SELECT, when this process
    can hand it over as it is: SQLite's `?` parameters, none SQLAlchemy would convert on
    the way in or out, nothing rendered at execution time; None otherwise."""
    if getattr(sys, "frozen", False) or not sys.executable or dialect.name != "sqlite":
        return None
    compiled = stmt.compile(dialect=dialect)
    sql = str(compiled)
    if compiled.positiontup is None or "POSTCOMPILE" in sql:
        return None
    converted = any(
        c.type.dialect_impl(dialect).result_processor(dialect, None) is not None
        for c in stmt.selected_columns
    ) or any(
        b.type.dialect_impl(dialect).bind_processor(dialect) is not None
        for b in compiled.binds.values()
    )
    if converted:
        return None
    values = compiled.construct_params()
    return sql, [values[name] for name in compiled.positiontup]


def read_rows(
    path: Path,
    sql: str,
    params: Sequence[object],
    *,
    chunk_rows: int,
    started: Callable[[int], None] | None = None,
) -> Iterator[list[tuple[Any, ...]]]:
    """The rows of `sql` on the file `path`, `chunk_rows` at a time, as the child reads
    them. Closing this early (or an error here) ends the child at once; `started` hears
    its process id."""
    child = subprocess.Popen(
        [sys.executable, "-I", "-c", _CHILD],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        creationflags=getattr(subprocess, "CREATE_NO_WINDOW", 0),  # Windows: no console flash
    )
    assert child.stdin is not None and child.stdout is not None
    batches = read_ahead(_batches(child.stdout), PUMPED_BATCHES)
    try:
        if started is not None:
            started(child.pid)
        pickle.dump((str(path), sql, list(params), min(chunk_rows, BATCH_ROWS)), child.stdin)
        child.stdin.close()
        chunk: list[tuple[Any, ...]] = []
        for data in batches:
            batch = marshal.loads(data)
            if isinstance(batch, tuple):  # ("error", message)
                raise RuntimeError(f"reading {path.name}: {batch[1]}")
            chunk.extend(batch)
            if len(chunk) >= chunk_rows:
                yield chunk[:chunk_rows]
                chunk = chunk[chunk_rows:]
        if chunk:
            yield chunk
    except _Ended:
        raise RuntimeError(f"the reader of {path.name} ended without its rows") from None
    finally:
        child.kill()  # first: the reading thread then sees the pipe's end and stops
        child.wait()
        batches.close()
        child.stdout.close()


class _Ended(Exception):
    """The child's output ended before its end mark."""


def _batches(stream: IO[bytes]) -> Iterator[bytes]:
    """The bytes of each batch the child writes, until its end mark."""
    while True:
        head = stream.read(_LENGTH.size)
        if len(head) < _LENGTH.size:
            raise _Ended
        (size,) = _LENGTH.unpack(head)
        if size == 0:
            return
        data = stream.read(size)
        if len(data) < size:
            raise _Ended
        yield data
