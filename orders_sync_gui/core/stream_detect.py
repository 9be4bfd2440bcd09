"""Method 2 over a table read in chunks: memory bounded by the sync state, not the source.

Each chunk of source rows is hashed (records.hash_frame) and classified at once against the
sync state; between chunks only what the count needs survives: the state as numpy arrays
with a flag per record once a row held it (core/state_index.py), the distinct uuids of
each chunk the state does not hold (a uuid shared across chunks must fail every row that
holds it) and the counts. The counts equal core.detect.count_by_customer's over the
whole table read at once (tests hold them to it, with customers and invalid rows straddling
chunk boundaries).

A chunk may instead carry each row's sync state itself (column STATE_HASH, from a join
done by the database): then no state is held here at all, and the
rows the database found unchanged never reach this module (see services/detection.py).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from .adopt_match import withhold
from .columns import ORDER_NUMBER, RECORD_UUID
from .models import CustomerCounts, RowError
from .records import SourceSpec, hash_frame, normal_uuid
from .state_index import StateIndex, as_hash_array, as_uuid_array

NO_CUSTOMER = "(no customer)"
# The column a chunk carries when the database joined each row's sync state hash to it.
STATE_HASH = "_state_hash"


class LateDuplicateError(RuntimeError):
    """A record_uuid met again in a later chunk, that the caller did not name as shared
    beforehand (a spelling of it the database's GROUP BY could not fold): the count must
    be run again with these uuids named in `shared`."""

    def __init__(self, uuids: set[str]) -> None:
        super().__init__(f"{len(uuids)} record_uuid(s) shared across chunks")
        self.uuids = uuids


@dataclass(slots=True)
class HashedChunk:
    """What the count needs of a chunk of source rows: per row its uuid, canonical
    customer and hash (None where the row is invalid), the hash its push recorded when the
    chunk carries it, the rows' errors, and the rows of shared uuids, set aside unhashed.
    Small and picklable: a worker process hashes, the counting process counts."""

    rows: int
    uuids: list[str | None]
    customers: list[str | None]
    hashes: list[str | None]
    state_hashes: list[str | None] | None
    errors: list[RowError]
    aside: pd.DataFrame | None = None


def hash_chunk(
    frame: pd.DataFrame,
    spec: SourceSpec,
    *,
    shared: Collection[str] = (),
    held: Mapping[str, str] | None = None,
) -> HashedChunk:
    rows, aside = len(frame), None
    if shared and rows:
        mask = frame[RECORD_UUID].map(lambda u: normal_uuid(u) in shared).to_numpy(bool)
        if mask.any():
            aside, frame = frame[mask], frame[~mask]
    if not len(frame):
        return HashedChunk(rows, [], [], [], None, [], aside)
    hashed = hash_frame(frame, spec, with_sizes=False)
    withhold(hashed, held or {})
    carried = frame[STATE_HASH].tolist() if STATE_HASH in frame.columns else None
    return HashedChunk(
        rows, hashed.uuids, hashed.customers, hashed.hashes, carried, hashed.errors, aside
    )


@dataclass(slots=True)
class ChunkedCounter:
    """Feed chunks with add(); finish() gives the counts and the row errors.

    `state`: the synced records (None: every chunk carries its rows' state). `shared`:
    uuids known to be held by more than one row; their rows are set aside and hashed
    together at the end, so that each gets the message naming all of its orders, as the
    unchunked path gives it. Classification is done in numpy over each chunk: no Python
    object per row survives it.
    """

    spec: SourceSpec
    state: StateIndex | None = None
    shared: Collection[str] = ()
    # {uuid: why} of the orders an adoption holds out of staging: counted as invalid
    held: Mapping[str, str] = field(default_factory=dict)
    counts: dict[str, CustomerCounts] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    rows: int = 0  # rows read so far
    # Per chunk, the distinct uuids its rows held that the state index does not mark:
    # a uuid in two of them is shared across chunks (checked at the end, in one sort).
    _unindexed: list[np.ndarray] = field(default_factory=list)
    _late: set[str] = field(default_factory=set)
    _aside: list[pd.DataFrame] = field(default_factory=list)

    def _counts_of(self, customer: str) -> CustomerCounts:
        counts = self.counts.get(customer)
        if counts is None:
            counts = self.counts[customer] = CustomerCounts(customer)
        return counts

    def add(self, frame: pd.DataFrame) -> None:
        """Hash and classify one chunk (its rows of shared uuids wait for finish())."""
        self.add_hashed(hash_chunk(frame, self.spec, shared=self.shared, held=self.held))

    def add_hashed(self, chunk: HashedChunk) -> None:
        """Classify a chunk hashed by hash_chunk (here, or in a worker process)."""
        self.rows += chunk.rows
        if chunk.aside is not None and len(chunk.aside):
            self._aside.append(chunk.aside)
        self.errors.extend(chunk.errors)
        self._classify(chunk, last=False)

    def _classify(self, chunk: HashedChunk, *, last: bool) -> None:
        if not chunk.uuids:
            return
        uuids = as_uuid_array(chunk.uuids)
        digests = as_hash_array(chunk.hashes)
        valid = digests != b""
        if chunk.state_hashes is not None:
            old = as_hash_array(chunk.state_hashes)
            unindexed = uuids
        else:
            assert self.state is not None
            # A row marks its uuid's state: what is left unmarked at the end is DELETED.
            # An invalid row marks it too: it is neither new nor deleted.
            at = self.state.lookup(uuids)
            indexed = at >= 0
            hit = at[indexed]
            if not last:
                again = hit[self.state.matched[hit]]
                self._late.update(u.decode() for u in self.state.uuids[again])
            self.state.matched[hit] = True
            old = np.full(len(uuids), b"", dtype=digests.dtype)
            old[indexed] = self.state.hashes[hit]
            unindexed = uuids[~indexed]
        if not last:
            self._unindexed.append(np.unique(unindexed[unindexed != b""]))
        kinds = np.where(
            old == b"",
            _NEW,
            np.where(old == digests, _UNCHANGED, _CHANGED),
        )
        kinds[~valid] = _INVALID
        names = [c if c is not None else NO_CUSTOMER for c in chunk.customers]
        codes, customers = pd.factorize(pd.Series(names, dtype=object))
        table = np.zeros((len(customers), 4), dtype=np.int64)
        np.add.at(table, (codes, kinds), 1)
        for customer, (new, changed, unchanged, invalid) in zip(
            customers, table.tolist(), strict=True
        ):
            counts = self._counts_of(customer)
            counts.new += new
            counts.changed += changed
            counts.unchanged += unchanged
            counts.invalid += invalid

    def _late_uuids(self) -> set[str]:
        late = set(self._late)
        if len(self._unindexed) > 1:
            every = np.concatenate(self._unindexed)
            values, seen = np.unique(every, return_counts=True)
            late.update(u.decode() for u in values[seen > 1])
        return late

    def finish(self) -> tuple[dict[str, CustomerCounts], list[RowError]]:
        late = self._late_uuids()
        if late:
            raise LateDuplicateError(late)
        self._unindexed = []
        if self._aside:
            aside = pd.concat(self._aside, ignore_index=True)
            # In order-number order, as read_rows reads them: the shared-uuid message lists
            # the orders in that order, whatever order the server streamed them in.
            keys = [k for k in (ORDER_NUMBER, RECORD_UUID) if k in aside.columns]
            aside = aside.sort_values(keys, key=lambda c: c.astype(str), ignore_index=True)
            chunk = hash_chunk(aside, self.spec, held=self.held)
            self.errors.extend(chunk.errors)
            self._classify(chunk, last=True)
            self._aside = []
        if self.state is not None:
            for customer, n in self.state.unmatched_by_customer().items():
                self._counts_of(customer).deleted += n
            self.state = StateIndex.empty()
        return self.counts, self.errors


# Columns of the per-customer table a chunk is counted into.
_NEW, _CHANGED, _UNCHANGED, _INVALID = 0, 1, 2, 3


def add_counts(into: dict[str, CustomerCounts], more: Mapping[str, CustomerCounts]) -> None:
    for name, c in more.items():
        have = into.setdefault(name, CustomerCounts(name))
        have.new += c.new
        have.changed += c.changed
        have.deleted += c.deleted
        have.unchanged += c.unchanged
        have.invalid += c.invalid
