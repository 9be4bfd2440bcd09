"""Entry script of the desktop build (build.spec): PyInstaller runs this file as `__main__`,
outside the package, hence the absolute import."""

from __future__ import annotations

import multiprocessing
import sys

if __name__ == "__main__":
    # First: in the build, a spawned child (the demo sandbox, detection's workers) re-runs
    # this executable, and this is where it turns into that child instead of opening a
    # second window.
    multiprocessing.freeze_support()
    from orders_sync_gui.qt.app import main

    sys.exit(main())
