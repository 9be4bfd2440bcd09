"""What the window works on: a context, and how to reach monday.com. Opened off the GUI
thread (opening may create and seed the demo database, or start the sandbox)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from ..services.context import Context, open_context
from ..services.monday_setup import MondaySetup, monday_setup

if TYPE_CHECKING:
    from ..services.demo_sandbox import LaunchedSandbox


@dataclass(slots=True)
class Session:
    ctx: Context
    label: str  # shown in the title and status bar
    demo: bool
    _setup: Callable[[], MondaySetup]
    _close: Callable[[], None] = field(default=lambda: None)

    def monday(self) -> MondaySetup:
        """The monday.com setup (reads the keyring: call it from a worker)."""
        return self._setup()

    def close(self) -> None:
        self._close()


def open_demo_session(launched: LaunchedSandbox | None = None) -> Session:
    """The demo (`launched`: its sandbox, when the app launched it at start-up)."""
    from ..services.demo import start_demo  # demo mode only

    demo = start_demo(launched)
    label = f"DEMO · sandbox {demo.sandbox.url.split('//')[1].split('/')[0]}"
    return Session(demo.ctx, label, True, lambda: demo.setup, demo.close)


def open_configured_session(
    db_url: str | None = None, token: Callable[[], str | None] = lambda: None
) -> Session:
    ctx = open_context(db_url)

    def setup() -> MondaySetup:
        return monday_setup(ctx, token=token())

    return Session(ctx, ctx.store.describe(), False, setup, ctx.close)
