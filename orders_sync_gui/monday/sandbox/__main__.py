"""`python -m orders_sync_gui.monday.sandbox [--port P] [--state FILE]`."""

import sys

from .cli import serve_forever_cli

if __name__ == "__main__":
    sys.exit(serve_forever_cli())
