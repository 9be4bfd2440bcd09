"""Entry script of the console executable `orders-sync` (build.spec): PyInstaller runs this
file as `__main__`, outside the package, hence the absolute import."""

from __future__ import annotations

import multiprocessing
import sys

if __name__ == "__main__":
    # First: in the build, a spawned child (detection's worker processes) re-runs this
    # executable, and this is where it turns into that child instead of running a command.
    multiprocessing.freeze_support()
    from orders_sync_gui.cli import main

    sys.exit(main())
