"""One customer's rows read in chunks and sorted out by Method 2 before Method 1 sees them.

A preview shows only the rows that changed, but it used to turn every row of the
customer into a Record and join all of them with all of its sync state (parsed from
JSON): 26 s and 2.2 GB for a customer of 237,000 orders, to show 1,600. Here each chunk is
hashed and compared with the state's hashes of the customer's records (and of its rows'
uuids, wherever they were pushed): an equal hash is UNCHANGED and is only counted; the
others (NEW, or a hash that moved) become Records, and only their state is read whole.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field

import pandas as pd
from sqlalchemy import Connection

from ..core.adopt_match import withhold
from ..core.models import Record, RowError
from ..core.records import SourceSpec, hash_frame, records_of
from ..core.stream_detect import STATE_HASH
from ..store.source import SourceInfo, stream_rows

# The column a frame carries when a SQLite join found its rows' state by the uuid's hex
# digits (store/customer_state_join.py): what the row's state was looked up by.
STATE_KEY = "_state_key"
# And whether the state that key names is a tombstone (1) or not (0).
STATE_GONE = "_state_gone"

# Larger than detection's chunks: hash_frame's work per column and chunk (factorising, the
# numpy passes) made 5,000-row chunks cost twice the hashing of one frame; at 20,000 the
# chunks of a customer of 60,000 orders hash as fast as the one frame did.
SCAN_ROWS = 20_000


@dataclass(slots=True)
class CustomerScan:
    """What a customer's rows came to: Records of the rows that are not unchanged, in the
    order read; every row's errors and warnings; the uuids of all the rows read
    (valid or not); those of the Records that have a sync state, and how many valid rows
    hashed as their state did. `buried`: where a frame says which rows' records are
    tombstones (STATE_GONE), the uuids that may be one (those rechecked too); None where
    no frame said."""

    records: list[Record] = field(default_factory=list)
    errors: list[RowError] = field(default_factory=list)
    warnings: list[RowError] = field(default_factory=list)
    present: set[str] = field(default_factory=set)
    synced: set[str] = field(default_factory=set)
    unchanged: int = 0
    buried: set[str] | None = None


def scan_customer(
    conn: Connection,
    info: SourceInfo,
    columns: Sequence[str],
    spec: SourceSpec,
    *,
    spellings: Sequence[str],
    state: Mapping[str, tuple[str, str]],
    held: Mapping[str, str],
) -> CustomerScan:
    """Every row of the customer's spellings; `state`: {uuid: (customer, hash)} of the
    synced records they may meet."""
    frames = stream_rows(conn, info, columns, spellings=spellings, chunk_rows=SCAN_ROWS)
    return scan_frames(frames, spec, state=state, held=held)


def scan_frames(
    frames: Iterable[pd.DataFrame],
    spec: SourceSpec,
    *,
    state: Mapping[str, tuple[str, str]] | None,
    held: Mapping[str, str],
    recheck: Callable[[list[str]], Mapping[str, str]] | None = None,
) -> CustomerScan:
    """`state` None: each frame carries its rows' state hash (STATE_HASH, from a join done
    by the database). A frame that also carries the key the join used (STATE_KEY) has the
    rows whose key is not their uuid's hex digits looked up again by `recheck` ({uuid:
    hash} of those synced)."""
    scan = CustomerScan()
    for frame in frames:
        hashed = hash_frame(frame, spec, with_sizes=False)  # sizes of the moved rows only
        withhold(hashed, held)  # orders an adoption holds back
        scan.errors.extend(hashed.errors)
        scan.warnings.extend(hashed.warnings)
        scan.present.update(e.record_uuid for e in hashed.errors if e.record_uuid)
        carried = frame[STATE_HASH].tolist() if state is None else None
        if carried is not None and STATE_KEY in frame.columns:
            assert recheck is not None
            odd = _recheck(carried, frame[STATE_KEY].tolist(), hashed.uuids, recheck)
            if STATE_GONE in frame.columns:
                gone = frame[STATE_GONE].tolist()
                scan.buried = scan.buried if scan.buried is not None else set()
                scan.buried.update(hashed.uuids[i] for i in odd)  # type: ignore[misc]
                scan.buried.update(u for u, g in zip(hashed.uuids, gone, strict=True) if g and u)
        moved: list[int] = []
        for i in hashed.valid_rows():
            uid = hashed.uuids[i]
            assert uid is not None
            scan.present.add(uid)
            if carried is not None:
                old = carried[i]
            else:
                assert state is not None
                found = state.get(uid)
                old = found[1] if found is not None else None
            if old is not None and old == hashed.hashes[i]:
                scan.unchanged += 1
                continue
            moved.append(i)
            if old is not None:
                scan.synced.add(uid)
        scan.records.extend(records_of(hashed, spec, moved))
    return scan


def _recheck(
    carried: list[str | None],
    keys: Sequence[object],
    uuids: Sequence[str | None],
    recheck: Callable[[list[str]], Mapping[str, str]],
) -> list[int]:
    """Put right the state of the rows whose join key is not the uuid the app read; the
    positions of those rows."""
    odd = [
        i
        for i, (u, k) in enumerate(zip(uuids, keys, strict=True))
        if u is not None and (not isinstance(k, str) or k != u.replace("-", ""))
    ]
    if odd:
        found = recheck([uuids[i] for i in odd])  # type: ignore[misc]
        for i in odd:
            carried[i] = found.get(uuids[i])  # type: ignore[arg-type]
    return odd
