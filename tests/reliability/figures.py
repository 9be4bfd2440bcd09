"""Print the reliability run's figures as one JSON line; exit 1 when a promise was broken.

`make reliability` runs it after pytest with the file the session wrote
(conftest.py's pytest_sessionfinish): `python tests/reliability/figures.py FILE`.

Besides the totals, "modes" gives the kill trials' figures per replay mode (the sandbox
replaying a mutation sent again under its Idempotency-Key, or ignoring the header): each
mode must have run trials, and neither may have duplicated or lost anything.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

KEYS = (
    "trials",
    "kills",
    "duplicates",
    "rows_lost",
    "faults_injected",
    "bad_rows_tried",
    "bad_rows_handled",
    "seconds",
)
MODES = ("replay", "no-replay")  # relkit.REPLAY_MODES
PER_MODE = ("trials", "kills", "duplicates", "rows_lost")


def main(argv: list[str]) -> int:
    path = Path(argv[1]) if len(argv) > 1 else None
    try:
        raw = json.loads(path.read_text("utf-8")) if path else {}
    except (OSError, ValueError):
        raw = {}
    figures = {key: raw.get(key) for key in KEYS}
    seen = raw.get("modes") or {}
    modes = {m: {k: (seen.get(m) or {}).get(k) for k in PER_MODE} for m in MODES}
    figures["modes"] = modes
    broken = not raw or figures["duplicates"] != 0 or figures["rows_lost"] != 0
    for tally in modes.values():
        broken |= not tally["trials"] or tally["duplicates"] != 0 or tally["rows_lost"] != 0
    figures["ok"] = not broken
    print(json.dumps(figures))
    return 1 if broken else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
