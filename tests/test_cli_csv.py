"""`preview --csv` and `batches --csv`: the rows the JSON holds, as a table file."""

from __future__ import annotations

import csv
import json

import openpyxl

from orders_sync_gui.cli import main
from orders_sync_gui.services.demo import demo_init


def test_preview_and_batches_write_the_rows_they_print(tmp_path, capsys, isolated_home):
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    demo_init(db, orders=200, seed=5)
    capsys.readouterr()
    out = tmp_path / "preview.csv"
    args = ["--db", db, "preview", "--customer", "GREYSON", "--limit", "4", "--json"]
    assert main([*args, "--csv", str(out)]) == 0
    rows = json.loads(capsys.readouterr().out)["rows"]
    with out.open(encoding="utf-8-sig", newline="") as f:
        table = list(csv.reader(f))
    assert table[0][:3] == ["Change", "AAG ORDER NUMBER", "PO NUMBER"]
    assert [line[1] for line in table[1:]] == [r["order_number"] for r in rows]
    assert [line[-1] for line in table[1:]] == [r["record_uuid"] for r in rows]

    assert main(["--db", db, "stage", "--customer", "GREYSON", "--limit", "2"]) == 0
    book = tmp_path / "batches.xlsx"
    capsys.readouterr()
    assert main(["--db", db, "batches", "--json", "--csv", str(book)]) == 0
    batches = json.loads(capsys.readouterr().out)["batches"]
    sheet = [[c.value for c in r] for r in openpyxl.load_workbook(book).active.iter_rows()]
    assert sheet[0][:3] == ["Batch", "Customer", "Status"]
    assert [r[:3] for r in sheet[1:]] == [
        [b["batch_id"], b["customer"], b["status"]] for b in batches
    ]
