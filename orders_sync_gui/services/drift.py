"""`orders-sync drift`: read the board and compare it with the sync state (core/drift.py).

The board is read through the client (paced, priced like every read): its active items
with the mapped columns and subitems, page by page, then the state of the items the sync
state names that were not among them (archived or deleted by hand). The source is read as
it is now, so each difference also shows the database's value.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from ..core.drift import BoardItem, Drift, compare
from ..monday.board_items import board_items, item_states
from ..store.syncstate import load_state
from .context import Context
from .detection import source_records
from .monday_setup import MondaySetup, MondaySetupError
from .push_plan import group_title

log = logging.getLogger(__name__)


@dataclass(slots=True)
class DriftReport:
    drift: Drift
    requests: int  # what the reading cost, in requests

    def to_dict(self) -> dict[str, object]:
        return self.drift.to_dict()


def _board_id(setup: MondaySetup) -> str:
    if not setup.board_id:
        raise MondaySetupError("no monday.com board id: set it in Settings or the mapping")
    return setup.board_id


def read_drift(ctx: Context, setup: MondaySetup, customer: str | None = None) -> DriftReport:
    """The board's drift from the sync state, of one customer or of all."""
    if customer:
        customer = ctx.customers.canonical(customer) or customer
    with ctx.store.engine.connect() as conn:
        everything = load_state(conn, tombstones=True)
    state = [s for s in everything if customer is None or s.record.customer == customer]
    client = setup.client()
    try:
        items: list[BoardItem] = list(board_items(client, _board_id(setup), ctx.mapping))
        active = {i.item_id for i in items}
        missing = sorted(
            {
                s.monday_item_id
                for s in state
                if s.monday_item_id and not s.tombstone and s.monday_item_id not in active
            }
        )
        states = item_states(client, missing) if missing else {}
        requests = client.stats.requests
    finally:
        client.close()
    source = source_records(ctx, customer) if state or customer else {}
    group = group_title(ctx.mapping, customer) if customer else None
    drift = compare(
        ctx.mapping,
        customer,
        state,
        items,
        states,
        source,
        known=[s.record.record_uuid for s in everything],
        group=group,
    )
    log.info(
        "drift%s: %d orders checked, %d fields changed, %d gone, %d unknown, %d duplicated, "
        "%d subitem differences (%d requests)",
        f" of {customer}" if customer else "",
        drift.checked,
        len(drift.changed),
        len(drift.gone),
        len(drift.unknown),
        len(drift.duplicates),
        len(drift.subitems),
        requests,
    )
    return DriftReport(drift, requests)
