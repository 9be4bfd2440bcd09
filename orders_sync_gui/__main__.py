"""`python -m orders_sync_gui`: the application.

Until the desktop window lands, this shows the demo's change counts through the CLI.
"""

from __future__ import annotations

import sys

from .cli import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:] or ["detect"]))
