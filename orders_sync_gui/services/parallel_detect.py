"""The streamed count on several cores: a SQLite table's rows hashed by worker processes,
one rowid slice each, while this process counts what they hand back, slice by slice in
table order.

Hashing is pure Python under one GIL, so threads gain nothing; processes do (about 1.8x
on two cores at a million rows). Only SQLite: the workers open the file themselves, with
no credentials to pass; a server database computes its own row hash (store/dbhash.py).
Below MIN_ROWS the count stays in this process: on two cores, the two ways took the
same at 50,000 rows and the workers a fifth less at 100,000 (2.4 s against 2.95 s), but
each worker holds its own pandas and SQLAlchemy (over 100 MB): at 100,000 rows they would
have more than doubled the count's memory for half a second. The processes are spawned,
not forked: the window's threads must not be copied into them (and a frozen build re-runs
its executable, see qt/launcher.py).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Collection, Generator, Mapping, Sequence
from dataclasses import dataclass

import pandas as pd
from sqlalchemy import Connection, Engine

from ..core.records import SourceSpec
from ..core.stream_detect import HashedChunk, hash_chunk
from ..store.engine import make_engine, sqlite_path
from ..store.source import SourceInfo, reflect_source, rowid_range, stream_source

MIN_ROWS = 150_000
SLICE_ROWS = 50_000
MIN_SLICE_ROWS = 10_000
MAX_WORKERS = 4


def workers_for(engine: Engine, rows: int) -> int:
    """How many worker processes a count of `rows` rows gets (1: none, this process)."""
    if sqlite_path(engine.url) is None or rows < MIN_ROWS:
        return 1
    return max(1, min(os.cpu_count() or 1, MAX_WORKERS))


@dataclass(frozen=True, slots=True)
class _Job:
    url: str
    columns: Sequence[str]
    spec: SourceSpec
    shared: Collection[str]
    held: Mapping[str, str]
    chunk_rows: int
    rowids: tuple[int, int]


def _yield_to_parent() -> None:
    """A worker runs at a lower priority (POSIX): the counting process, which builds the
    sync state's index and hashes the first slice while the workers start, gets the cores
    first, and the window's first customers come sooner (the same total work)."""
    if hasattr(os, "nice"):
        os.nice(5)


# A worker's engine and reflected table, made on its first slice.
_opened: dict[str, tuple[Engine, SourceInfo]] = {}


def _hash_slice(job: _Job) -> list[HashedChunk]:
    if job.url not in _opened:
        engine = make_engine(job.url)
        _opened[job.url] = (engine, reflect_source(engine))
    engine, info = _opened[job.url]
    with engine.connect() as conn:
        frames = stream_source(
            conn, info, job.columns, chunk_rows=job.chunk_rows, rowids=job.rowids
        )
        return [hash_chunk(f, job.spec, shared=job.shared, held=job.held) for f in frames]


@dataclass(slots=True)
class LocalHash:
    """The table's rows (or a rowid range of them) hashed in this process, chunk by chunk:
    WorkerHash's counterpart without workers, and its first slice."""

    conn: Connection
    info: SourceInfo
    columns: Sequence[str]
    spec: SourceSpec
    shared: Collection[str]
    held: Mapping[str, str]
    chunk_rows: int
    rowids: tuple[int, int] | None = None
    # SQLite's rows read by a child process (store/sqlite_reader.py) while this one hashes
    offload: bool = False
    _frames: Generator[pd.DataFrame, None, None] | None = None

    def chunks(self) -> Generator[HashedChunk, None, None]:
        self._frames = stream_source(  # type: ignore[assignment]
            self.conn,
            self.info,
            self.columns,
            chunk_rows=self.chunk_rows,
            rowids=self.rowids,
            offload=self.offload,
        )
        assert self._frames is not None
        for frame in self._frames:
            yield hash_chunk(frame, self.spec, shared=self.shared, held=self.held)

    def close(self) -> None:
        """Stops the reading now (a child process that reads, at once)."""
        if self._frames is not None:
            self._frames.close()


class WorkerHash:
    """Every row of the table, hashed by `workers` processes, handed back in rowid order
    by chunks(). The workers start here, at once: their start (importing pandas, most of
    a second) overlaps what the caller does before it reads the first chunk (building the
    sync state's index). close() terminates them; use it in `with closing(...)`, so that a
    cancel (the consumer raising) stops them now.

    The first slice is hashed here, chunk by chunk, while the workers start: the window's
    customer list fills within a second as on the one-process path, instead of after a
    worker's first whole slice."""

    def __init__(
        self,
        conn: Connection,
        info: SourceInfo,
        columns: Sequence[str],
        spec: SourceSpec,
        *,
        workers: int,
        shared: Collection[str],
        held: Mapping[str, str],
        chunk_rows: int,
    ) -> None:
        url = str(conn.engine.url)  # a SQLite file's: no password in it
        lo, hi = rowid_range(conn, info)
        step = slice_rows(hi - lo, workers)
        head = (lo, min(lo + step, hi))
        self._head = LocalHash(conn, info, columns, spec, shared, held, chunk_rows, head)
        common = (url, list(columns), spec, set(shared), dict(held), chunk_rows)
        jobs = [_Job(*common, (a, min(a + step, hi))) for a in range(head[1], hi, step)]
        self._pool = multiprocessing.get_context("spawn").Pool(workers, _yield_to_parent)
        self._results = self._pool.imap(_hash_slice, jobs)

    def chunks(self) -> Generator[HashedChunk, None, None]:
        yield from self._head.chunks()
        for chunks in self._results:
            yield from chunks
        self._pool.close()

    def close(self) -> None:
        self._pool.terminate()
        self._pool.join()


def slice_rows(span: int, workers: int) -> int:
    """Rows per slice: about two slices a worker and one for this process, so that the
    slices end together, but never more than SLICE_ROWS (a worker hands a whole slice
    back at once: its hashes are held until then) nor fewer than MIN_SLICE_ROWS."""
    even = -(-span // (2 * workers + 1))
    return max(1, min(SLICE_ROWS, max(MIN_SLICE_ROWS, even)))
