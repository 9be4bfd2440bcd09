"""Entry script of the console executable `orders-sync` (build.spec): PyInstaller runs this
file as `__main__`, outside the package, hence the absolute import."""

from __future__ import annotations

import sys

if __name__ == "__main__":
    from orders_sync_gui.cli import main

    sys.exit(main())
