"""The context every use case runs in: the store and the operator's settings."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass

from ..core.customers import CustomerMap
from ..core.mapping import BoardMapping
from ..settings import load_customer_map, load_mapping, operator_name
from ..store.database import Store
from ..store.demo import DEFAULT_ORDERS, DEFAULT_SEED, generate_orders, load_orders
from ..store.engine import default_url

log = logging.getLogger(__name__)

DB_URL_ENV = "ORDERS_SYNC_DB_URL"


@dataclass(slots=True)
class Context:
    store: Store
    mapping: BoardMapping
    customers: CustomerMap
    operator: str

    def close(self) -> None:
        self.store.dispose()


def resolve_db_url(explicit: str | None = None) -> tuple[str, bool]:
    """(url, is the embedded default): --db, then ORDERS_SYNC_DB_URL, then the demo file."""
    if explicit:
        return explicit, False
    env = os.environ.get(DB_URL_ENV)
    if env:
        return env, False
    return default_url(), True


def open_context(db_url: str | None = None, *, seed_demo: bool = True) -> Context:
    """Open the store; the embedded default is created and seeded with demo data on first use."""
    url, embedded = resolve_db_url(db_url)
    store = Store(url, new_file=embedded)
    if embedded and seed_demo and not store.has_source():
        log.info(
            "first run: creating the demo database (%d orders) at %s",
            DEFAULT_ORDERS,
            store.describe(),
        )
        load_orders(store.engine, generate_orders(DEFAULT_ORDERS, DEFAULT_SEED))
    return Context(
        store=store, mapping=load_mapping(), customers=load_customer_map(), operator=operator_name()
    )
