"""Demo database set-up, shared by the CLI's demo-init and the GUI's demo mode."""

from __future__ import annotations

from ..store.database import Store
from ..store.demo import generate_orders, load_orders
from ..store.schema import app_metadata


class DemoExistsError(RuntimeError):
    pass


def demo_init(store: Store, *, orders: int, seed: int, force: bool = False) -> dict[str, object]:
    """Fill ORDERS_UNIFIED with demo orders; --force also clears batches and sync state."""
    if store.dialect == "mssql":
        raise DemoExistsError("demo data is never written to SQL Server")
    if store.has_source() and not force:
        raise DemoExistsError(
            f"{store.describe()} already holds ORDERS_UNIFIED: add --force to replace it "
            "(this also clears staged batches and sync state)"
        )
    if force:
        app_metadata.drop_all(store.engine)
        app_metadata.create_all(store.engine)
    load_orders(store.engine, generate_orders(orders, seed), replace=True)
    store.source(refresh=True)
    return {"database": store.describe(), "orders": orders, "seed": seed}
