"""`python -m orders_sync_gui`: the desktop application (see qt/app.py for its options)."""

from __future__ import annotations

import sys

if __name__ == "__main__":
    # Imported here, not above: a spawned child (the demo sandbox) imports this module as
    # `__mp_main__`, and must not pay for the window's modules.
    from .qt.app import main

    sys.exit(main())
