"""Demo database set-up, shared by the CLI's demo-init and the GUI's demo mode."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from sqlalchemy.engine import URL

from ..monday.sandbox import SandboxProcess
from ..settings import load_mapping
from ..store import dbhash
from ..store.database import Store, record_versions
from ..store.demo import demo_chunks, load_orders
from ..store.engine import default_url
from ..store.schema import app_metadata
from .context import Context, open_context, resolve_db_url
from .demo_sandbox import demo_sandbox_config, launch_demo_sandbox
from .monday_setup import MondaySetup, monday_setup

if TYPE_CHECKING:  # served in this process only inline: its modules load then (graphql-core)
    from ..monday.sandbox import SandboxServer


class DemoExistsError(RuntimeError):
    pass


@dataclass(slots=True)
class DemoSession:
    """The embedded demo database and the monday.com sandbox serving it on 127.0.0.1."""

    ctx: Context
    setup: MondaySetup
    sandbox: SandboxServer | SandboxProcess

    def close(self) -> None:
        self.sandbox.stop()
        self.ctx.close()


def start_demo(launched: SandboxProcess | None = None) -> DemoSession:
    """Demo mode, for both faces: the demo database (made on first use) and a sandbox whose
    board survives restarts in the data folder.

    The sandbox runs in a child process (`launched`, or one launched here): in this one its
    request handling competed with the window for the interpreter (stalls of 140-260 ms
    during a push, bench_gui.py)."""
    process = launched or launch_demo_sandbox()
    ctx: Context | None = None
    try:
        ctx = open_context(default_url())
        if process is None:
            from ..monday.sandbox import SandboxServer

            sandbox: SandboxServer | SandboxProcess = SandboxServer(demo_sandbox_config()).start()
        else:
            sandbox = process.start()  # waits until it serves
    except BaseException:
        if process is not None:
            process.stop()
        if ctx is not None:
            ctx.close()
        raise
    token = sandbox.config.token
    setup = monday_setup(ctx, url=sandbox.url, token=token, board_id=sandbox.board_id)
    return DemoSession(ctx, setup, sandbox)


def demo_init(
    db_url: str | URL | None, *, orders: int, seed: int, force: bool = False
) -> dict[str, object]:
    """Fill ORDERS_UNIFIED of the database at `db_url` (None: the one the settings name,
    else the embedded demo file) with demo orders; --force also clears batches and sync
    state."""
    url, _ = resolve_db_url(db_url)
    store = Store(url, new_file=True)
    try:
        return fill_demo(store, orders=orders, seed=seed, force=force)
    finally:
        store.dispose()


def fill_demo(store: Store, *, orders: int, seed: int, force: bool) -> dict[str, object]:
    """demo_init on a store already open (its statements can be watched)."""
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
        record_versions(store.engine)  # the tables are new: so is their version history
    load_orders(store.engine, demo_chunks(orders, seed), replace=True)
    # PostgreSQL computes the row hash itself (what sql/007 does on SQL Server).
    db_hash = dbhash.install(store.engine, store.source(refresh=True), load_mapping())
    store.source(refresh=True)
    return {"database": store.describe(), "orders": orders, "seed": seed, "db_hash": db_hash}
