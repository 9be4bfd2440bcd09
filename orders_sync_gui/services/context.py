"""The context every use case runs in: the store and the operator's settings."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from typing import Any

from sqlalchemy import URL

from ..core.customers import CustomerMap
from ..core.mapping import BoardMapping
from ..secrets import get_secret, sql_login_key
from ..settings import (
    DB_URL_ENV,
    load_customer_map,
    load_mapping,
    load_settings,
    operator_name,
)
from ..store.database import Store
from ..store.demo import DEFAULT_ORDERS, DEFAULT_SEED, generate_orders, load_orders
from ..store.engine import DEFAULT_ODBC_DRIVER, SqlServerSettings, default_url, sqlserver_url

log = logging.getLogger(__name__)


@dataclass(slots=True)
class Context:
    store: Store
    mapping: BoardMapping
    customers: CustomerMap
    operator: str

    def close(self) -> None:
        self.store.dispose()


def sqlserver_settings(raw: dict[str, Any]) -> SqlServerSettings:
    return SqlServerSettings(
        server=str(raw.get("server") or ""),
        database=str(raw.get("database") or ""),
        driver=str(raw.get("driver") or DEFAULT_ODBC_DRIVER),
        trusted_connection=bool(raw.get("trusted_connection", True)),
        username=raw.get("username") or None,
        encrypt=bool(raw.get("encrypt", True)),
        trust_server_certificate=bool(raw.get("trust_server_certificate", False)),
    )


def resolve_db_url(explicit: str | URL | None = None) -> tuple[str | URL, bool]:
    """(url, is the embedded default): --db, then ORDERS_SYNC_DB_URL, then settings.json's
    database (SQL Server, its login's password read from the keyring), then the demo file."""
    if explicit:
        return explicit, str(explicit) == default_url()
    env = os.environ.get(DB_URL_ENV)
    if env:
        return env, False
    database = load_settings().get("database") or {}
    if database.get("kind") == "sqlserver":
        settings = sqlserver_settings(database)
        password = None
        if not settings.trusted_connection and settings.username:
            password = get_secret(sql_login_key(settings.server, settings.username))
        return sqlserver_url(settings, password), False
    if database.get("kind") == "sqlite" and database.get("path"):
        return f"sqlite:///{database['path']}", False
    return default_url(), True


def open_store(
    url: str | URL, *, embedded: bool, seed_demo: bool = True, create: bool = True
) -> Store:
    """The store at `url` (see Store for `create`); the embedded default is created and
    seeded with demo data on first use."""
    store = Store(url, new_file=embedded, create=create)
    if embedded and seed_demo and not store.has_source():
        log.info(
            "first run: creating the demo database (%d orders) at %s",
            DEFAULT_ORDERS,
            store.describe(),
        )
        store.ensure_schema()
        load_orders(store.engine, generate_orders(DEFAULT_ORDERS, DEFAULT_SEED))
    return store


def open_context(db_url: str | URL | None = None, *, seed_demo: bool = True) -> Context:
    """Open the store; the embedded default is created and seeded with demo data on first use."""
    url, embedded = resolve_db_url(db_url)
    store = open_store(url, embedded=embedded, seed_demo=seed_demo)
    return Context(
        store=store, mapping=load_mapping(), customers=load_customer_map(), operator=operator_name()
    )
