"""The streamed count on several cores: a SQLite table's rows hashed by worker processes,
one rowid slice each, while this process counts what they hand back, slice by slice in
table order.

Hashing is pure Python under one GIL, so threads gain nothing; processes do (about 1.8x
on two cores at a million rows). Only SQLite: the workers open the file themselves, with
no credentials to pass; a server database computes its own row hash (store/dbhash.py).
Below MIN_ROWS a worker's start (importing pandas, about half a second) costs more than
it saves. The processes are spawned, not forked: the window's threads must not be
copied into them (and a frozen build re-runs its executable, see qt/launcher.py).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Collection, Generator, Mapping, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, Engine

from ..core.records import SourceSpec
from ..core.stream_detect import HashedChunk, hash_chunk
from ..store.engine import make_engine, sqlite_path
from ..store.source import SourceInfo, reflect_source, rowid_range, stream_source

MIN_ROWS = 200_000
SLICE_ROWS = 50_000
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


def hashed_chunks(
    conn: Connection,
    info: SourceInfo,
    columns: Sequence[str],
    spec: SourceSpec,
    *,
    workers: int,
    shared: Collection[str],
    held: Mapping[str, str],
    chunk_rows: int,
) -> Generator[HashedChunk, None, None]:
    """Every row of the table, hashed by `workers` processes, in rowid order. Stopping
    early (the consumer raises, or closes this) terminates the workers at once.

    The first slice is hashed here, chunk by chunk, while the workers start (a second or
    more, importing pandas): the window's customer list fills within a second as on the
    one-process path, instead of after a worker's first whole slice."""
    url = str(conn.engine.url)  # a SQLite file's: no password in it
    lo, hi = rowid_range(conn, info)
    head = min(lo + SLICE_ROWS, hi)
    common = (url, list(columns), spec, set(shared), dict(held), chunk_rows)
    jobs = [_Job(*common, (a, min(a + SLICE_ROWS, hi))) for a in range(head, hi, SLICE_ROWS)]
    pool = multiprocessing.get_context("spawn").Pool(workers)
    try:
        results = pool.imap(_hash_slice, jobs)
        for frame in stream_source(conn, info, columns, chunk_rows=chunk_rows, rowids=(lo, head)):
            yield hash_chunk(frame, spec, shared=shared, held=held)
        for chunks in results:
            yield from chunks
        pool.close()
    finally:
        pool.terminate()
        pool.join()
