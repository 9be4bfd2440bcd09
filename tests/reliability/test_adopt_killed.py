"""A kill anywhere in `orders-sync adopt`, then adopt again: finished, nothing twice.

`orders-sync adopt` runs as a real process (tests/reliability/crash_cli.py) against a
legacy-filled sandbox and is SIGKILLed at seeded random SQL statements, again and again,
until a run ends by itself. Then every matched item carries its own order's record_uuid
(and no other item does), the sync state names each order's item and nothing else, there
is one adoption batch and it is PUSHED, and the board has not one item more.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import pytest
from relkit import FIGURES, CliProcess, cli_env, start_sandbox, stop_sandbox, write_cli_settings

from orders_sync_gui.monday.sandbox.config import LegacyMess
from orders_sync_gui.services.context import open_context
from orders_sync_gui.services.legacy_source import legacy_records
from orders_sync_gui.store.staging import list_batches
from orders_sync_gui.store.syncstate import load_state

CUSTOMER = "GREYSON"
MESS = LegacyMess(edited=0.08, duplicated=0.03, missing=0.03, orphan=0.03)
KILL_P = "0.06"  # per statement, from the first write on: most runs die somewhere
MAX_RUNS = 40


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_killed_adoption_is_finished_by_the_next_with_nothing_twice(
    db: str, tmp_path: Path, seed: int
) -> None:
    server = start_sandbox(
        column_ids="generated",
        board_seed=11,
        legacy_records=tuple(legacy_records(db)),
        legacy_mess=MESS,
    )
    try:
        home = tmp_path / "home"
        write_cli_settings(home, chunk=3)  # many requests: somewhere for a kill to land
        env = cli_env(db, server, home)
        mapped = CliProcess(["mapping", "--from-board", "--write"], env, tmp_path)
        assert mapped.wait() == 0, mapped.stderr
        truth = server.app.legacy_truth
        group = truth.groups[CUSTOMER]
        items_before = [i for i in server.dump()["items"] if i["state"] == "active"]

        kills = 0
        for run in range(MAX_RUNS):
            extra = {
                "ORDERS_SYNC_TEST_KILL_P": KILL_P,
                "ORDERS_SYNC_TEST_KILL_SEED": f"{seed}{run}",
            }
            proc = CliProcess(
                ["adopt", "--customer", CUSTOMER, "--json"],
                cli_env(db, server, home, **extra),
                tmp_path,
                hooks=True,
            )
            code = proc.wait()
            if not proc.killed:
                assert code == 0, proc.stderr
                break
            kills += 1
        else:
            pytest.fail(f"adopt was killed {MAX_RUNS} times in a row")
        FIGURES.trials += 1
        FIGURES.kills += kills
        assert kills, "no run was killed: the trial tried nothing"
        report = proc.json()

        dump = server.dump()
        uuid_column = next(c["id"] for c in dump["board"]["columns"] if c["title"] == "RECORD UUID")
        items = [i for i in dump["items"] if i["state"] == "active"]
        assert len(items) == len(items_before)  # adoption makes nothing
        carried = {
            i["id"]: i["column_values"][uuid_column]["text"]
            for i in items
            if i["group_id"] == group and i["column_values"][uuid_column]["text"]
        }
        assert max(Counter(carried.values()).values()) == 1
        assert all(truth.item_orders[item] == uid for item, uid in carried.items())
        ctx = open_context(db)
        try:
            with ctx.store.engine.connect() as conn:
                state = {s.record.record_uuid: s.monday_item_id for s in load_state(conn, CUSTOMER)}
                adoptions = [b for b in list_batches(conn, CUSTOMER) if b.change_types == "ADOPTED"]
        finally:
            ctx.close()
        assert state == {uid: item for item, uid in carried.items()}
        assert len(state) == report["counts"]["matched"]
        assert [b.status for b in adoptions] == ["PUSHED"]
    finally:
        stop_sandbox(server)
