"""The orders a legacy board is filled from: a database's ORDERS_UNIFIED, read as the push
reads it (store/source.py, core/records.py), for `orders-sync sandbox --legacy-from`.

The sandbox (monday/) never reads a database itself: this reads the orders as core Records
and the sandbox lays them out (monday/sandbox/legacy.py). Nothing is written to the
database: not even the app's own tables.
"""

from __future__ import annotations

from collections.abc import Sequence

from sqlalchemy import URL

from ..core.columns import CUSTOMER_NAME, ORDER_NUMBER
from ..core.mapping import BoardMapping
from ..core.models import Record
from ..core.records import SourceSpec, records_from_frame
from ..resources import resource_path
from ..settings import MAPPING_FILE, load_customer_map, load_mapping
from ..store.database import Store
from ..store.source import customer_spellings, read_rows


class LegacySourceError(LookupError):
    """A customer asked for is not in the source."""


def bundled_mapping() -> BoardMapping:
    """The template mapping, as the sandbox lays its board out by default."""
    return load_mapping(resource_path(MAPPING_FILE))


def legacy_records(
    db_url: str | URL,
    customers: Sequence[str] | None = None,
    mapping: BoardMapping | None = None,
) -> list[Record]:
    """The valid orders of `customers` (any spelling; all customers when None), with the
    mapping's source columns and their sizes. Rows that cannot be synced are left out (the
    earlier scripts could not have formatted them either)."""
    mapping = mapping or bundled_mapping()
    customer_map = load_customer_map()
    store = Store(db_url, create=False)
    try:
        info = store.source()
        columns = list(dict.fromkeys([ORDER_NUMBER, CUSTOMER_NAME, *mapping.sources, *info.sizes]))
        with store.engine.connect() as conn:
            spellings: list[str] | None = None
            if customers:
                found = customer_spellings(conn, info)
                spellings = []
                for customer in customers:
                    names = customer_map.spellings_of(customer, found)
                    if not names:
                        raise LegacySourceError(
                            f"no customer {customer!r} in {store.describe()}'s ORDERS_UNIFIED"
                        )
                    spellings += names
            frame = read_rows(conn, info, columns, spellings=spellings)
        spec = SourceSpec(
            mapped=mapping.sources, kinds=info.kinds, sizes=info.sizes, customers=customer_map
        )
        records, _invalid = records_from_frame(frame, spec)
    finally:
        store.dispose()
    return records
