"""`python -m orders_sync_gui`: the desktop application (see qt/app.py for its options)."""

from __future__ import annotations

import sys

from .qt.app import main

if __name__ == "__main__":
    sys.exit(main())
