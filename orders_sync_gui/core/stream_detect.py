"""Method 2 over a table read in chunks: memory bounded by the sync state, not the source.

Each chunk of source rows is hashed (records.hash_frame) and classified at once against the
sync state; between chunks only what the count needs survives: the state still unmatched
({uuid: (customer, hash)}), the uuids seen (a uuid shared across chunks must fail every row
that holds it) and the counts. The counts equal core.detect.count_by_customer's over the
whole table read at once (tests hold them to it, with customers and invalid rows straddling
chunk boundaries).

A chunk may instead carry each row's sync state itself (column STATE_HASH, from a join
done by the database): then no state is held here at all, and the
rows the database found unchanged never reach this module (see services/detection.py).
"""

from __future__ import annotations

from collections.abc import Collection, Iterable, Mapping
from dataclasses import dataclass, field

import pandas as pd

from .adopt_match import withhold
from .columns import ORDER_NUMBER, RECORD_UUID
from .models import ChangeType, CustomerCounts, RowError
from .records import SourceSpec, hash_frame, normal_uuid

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
class ChunkedCounter:
    """Feed chunks with add(); finish() gives the counts and the row errors.

    `state`: {uuid: (customer, hash)} of the synced records (None: every chunk carries its
    rows' state). `shared`: uuids known to be held by more than one row; their rows are set
    aside and hashed together at the end, so that each gets the message naming all of its
    orders, as the unchunked path gives it.
    """

    spec: SourceSpec
    state: dict[str, tuple[str, str]] | None = None
    shared: Collection[str] = ()
    # {uuid: why} of the orders an adoption holds out of staging: counted as invalid
    held: Mapping[str, str] = field(default_factory=dict)
    counts: dict[str, CustomerCounts] = field(default_factory=dict)
    errors: list[RowError] = field(default_factory=list)
    rows: int = 0  # rows read so far
    _seen: set[str] = field(default_factory=set)
    _late: set[str] = field(default_factory=set)
    _aside: list[pd.DataFrame] = field(default_factory=list)

    def _count(self, customer: str, kind: ChangeType | None) -> CustomerCounts:
        counts = self.counts.get(customer)
        if counts is None:
            counts = self.counts[customer] = CustomerCounts(customer)
        if kind is None:
            counts.invalid += 1
        else:
            counts.add(kind)
        return counts

    def add(self, frame: pd.DataFrame) -> None:
        """Hash and classify one chunk (its rows of shared uuids wait for finish())."""
        self.rows += len(frame)
        if self.shared and len(frame):
            mask = frame[RECORD_UUID].map(lambda u: normal_uuid(u) in self.shared).to_numpy(bool)
            if mask.any():
                self._aside.append(frame[mask])
                frame = frame[~mask]
        self._classify(frame, last=False)

    def _classify(self, frame: pd.DataFrame, *, last: bool) -> None:
        if not len(frame):
            return
        hashed = hash_frame(frame, self.spec, with_sizes=False)
        withhold(hashed, self.held)
        self.errors.extend(hashed.errors)
        carried = STATE_HASH in frame.columns
        state_hashes = frame[STATE_HASH].tolist() if carried else None
        for i, (uid, customer, digest) in enumerate(
            zip(hashed.uuids, hashed.customers, hashed.hashes, strict=True)
        ):
            if uid is not None and not last:
                if uid in self._seen:
                    self._late.add(uid)
                self._seen.add(uid)
            old: str | None
            if state_hashes is not None:
                old = state_hashes[i]
            else:
                assert self.state is not None
                # A row pops its uuid's state: what is left at the end is DELETED. An
                # invalid row pops it too: it is neither new nor deleted.
                found = self.state.pop(uid, None) if uid is not None else None
                old = found[1] if found is not None else None
            if digest is None:
                self._count(customer or NO_CUSTOMER, None)
                continue
            assert customer is not None
            if old is None:
                kind = ChangeType.NEW
            else:
                kind = ChangeType.UNCHANGED if old == digest else ChangeType.CHANGED
            self._count(customer, kind)

    def finish(self) -> tuple[dict[str, CustomerCounts], list[RowError]]:
        if self._late:
            raise LateDuplicateError(self._late)
        if self._aside:
            aside = pd.concat(self._aside, ignore_index=True)
            # In order-number order, as read_rows reads them: the shared-uuid message lists
            # the orders in that order, whatever order the server streamed them in.
            keys = [k for k in (ORDER_NUMBER, RECORD_UUID) if k in aside.columns]
            aside = aside.sort_values(keys, key=lambda c: c.astype(str), ignore_index=True)
            self._classify(aside, last=True)
            self._aside = []
        if self.state is not None:
            for customer, _ in self.state.values():
                self._count(customer, ChangeType.DELETED)
            self.state = {}
        return self.counts, self.errors


def state_map(rows: Iterable[tuple[str, str, str]]) -> dict[str, tuple[str, str]]:
    """{uuid: (customer, hash)} from load_state_hashes' triples."""
    return {u: (c, h) for u, c, h in rows}


def add_counts(into: dict[str, CustomerCounts], more: Mapping[str, CustomerCounts]) -> None:
    for name, c in more.items():
        have = into.setdefault(name, CustomerCounts(name))
        have.new += c.new
        have.changed += c.changed
        have.deleted += c.deleted
        have.unchanged += c.unchanged
        have.invalid += c.invalid
