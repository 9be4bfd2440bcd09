"""`python -m orders_sync_gui` and the `orders-sync-gui` command: the desktop application
(see qt/app.py for its options)."""

from __future__ import annotations

import sys


def main() -> int:
    # Imported here, not above: a spawned child (the demo sandbox) imports the module that
    # started the app (this one, or the `orders-sync-gui` script that imports it) as
    # `__mp_main__`, and must not pay for the window's modules.
    from .qt.app import main as run_window

    return run_window()


if __name__ == "__main__":
    sys.exit(main())
