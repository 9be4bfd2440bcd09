"""Entry script of the desktop build (build.spec): PyInstaller runs this file as `__main__`,
outside the package, hence the absolute import."""

from __future__ import annotations

import sys

from orders_sync_gui.qt.app import main

if __name__ == "__main__":
    sys.exit(main())
