"""Push, resume and undo against the sandbox over loopback: what an operator would see on
the board and in the batch history."""

from __future__ import annotations

import json
import logging
import threading
import traceback

import pytest
import requests
from pushkit import (
    CUSTOMER,
    TOKEN,
    SleepRecorder,
    active,
    assert_no_duplicates,
    assert_state_matches_board,
    board_view,
    counts,
    expected_items,
    make_demo_db,
    quick_setup,
    row_statuses,
    stage,
    staged,
    subitem_statuses,
    texts,
)
from sqlalchemy import select, update

from orders_sync_gui.cli import main
from orders_sync_gui.core.models import BatchStatus, ChangeType
from orders_sync_gui.monday.client import MondayStopError
from orders_sync_gui.monday.sandbox import FaultConfig, SandboxServer
from orders_sync_gui.resources import resource_path
from orders_sync_gui.secrets import monday_token_key, set_secret
from orders_sync_gui.services import detection
from orders_sync_gui.services import undo as undo_service
from orders_sync_gui.services.context import open_context
from orders_sync_gui.services.estimate import estimate
from orders_sync_gui.services.monday_setup import Limits, monday_setup
from orders_sync_gui.services.push import PushStopped, push
from orders_sync_gui.services.staging import NothingToStageError
from orders_sync_gui.services.staging import rollback as rollback_unpushed
from orders_sync_gui.settings import save_settings
from orders_sync_gui.store import pushing
from orders_sync_gui.store.schema import batches, staged_rows, staged_subitems, sync_state
from orders_sync_gui.store.staging import BatchStateError, get_batch


def http_dump(server: SandboxServer) -> dict:
    return requests.get(f"{server.base_url}/_sandbox/board", timeout=10).json()


def mutations(server: SandboxServer) -> int:
    return requests.get(f"{server.base_url}/_sandbox/stats", timeout=10).json()["mutations"]


def batch_status(ctx, batch_id: int) -> str:
    with ctx.store.engine.connect() as conn:
        return get_batch(conn, batch_id).status


def source_row(ctx, uid: str) -> dict:
    info = ctx.store.source()
    with ctx.store.engine.connect() as conn:
        row = conn.execute(info.table.select().where(info.table.c.record_uuid == uid)).one()
    return dict(row._mapping)


def update_source(ctx, uid: str, values: dict) -> None:
    info = ctx.store.source()
    with ctx.store.engine.begin() as conn:
        conn.execute(update(info.table).where(info.table.c.record_uuid == uid).values(values))


# ---------------------------------------------------------------------- end to end
@pytest.fixture
def any_ctx(db_url):
    """The demo database on SQLite and on PostgreSQL."""
    context = open_context(make_demo_db(db_url))
    yield context
    context.close()


def test_push_change_and_undo_end_to_end(any_ctx, sandbox, monkeypatch, capsys):
    ctx = any_ctx
    setup = quick_setup(ctx, sandbox)
    before_any = counts(ctx)
    assert before_any["new"] >= 25 and before_any["unchanged"] == 0

    # 1. A first batch of 20 NEW orders: one item per row, one subitem per non-zero size.
    first = stage(ctx, limit=20)
    want = expected_items(ctx, first)
    assert len(want.names) == 20
    report = push(ctx, first, setup)
    assert (report.status, report.succeeded, report.failed) == ("PUSHED", 20, 0)
    assert report.failures == [] and report.adopted == 0

    dump1 = http_dump(sandbox)
    items = active(dump1["items"])
    assert len(items) == 20
    groups = {g["id"]: g["title"] for g in dump1["board"]["groups"]}
    by_uuid = {texts(i)["text_record_uuid"]: i for i in items}
    assert set(by_uuid) == set(want.names)
    for uid, item in by_uuid.items():
        values = texts(item)
        assert item["name"] == want.names[uid]
        assert item["name"].startswith(f"{CUSTOMER} · ")
        assert groups[item["group_id"]] == CUSTOMER
        assert values["numeric_order_qty"] == want.qty[uid]
        assert values["date_ex_factory"] == want.ex_factory[uid]  # a date, ISO, no time
        assert (
            json.loads(item["column_values"]["date_ex_factory"]["value"])["date"]
            == (want.ex_factory[uid])
        )
        subs = {s["name"]: texts(s)["numeric_order_qty"] for s in active(item["subitems"])}
        assert subs == want.sizes[uid]
        assert not set(want.zero_sizes[uid]) & set(subs)  # a size typed as 0 is no subitem
    assert any(want.zero_sizes.values()), "the seeded batch should type a size as 0"
    assert sandbox.stats()["subitems"] == sum(len(s) for s in want.sizes.values())
    assert row_statuses(ctx, first) == {"PUSHED": 20}
    assert set(subitem_statuses(ctx, first)) == {"PUSHED"}
    assert batch_status(ctx, first) == BatchStatus.PUSHED
    assert assert_state_matches_board(ctx, dump1, CUSTOMER) == 20
    after_first = counts(ctx)
    assert after_first == {**before_any, "new": before_any["new"] - 20, "unchanged": 20}

    # 2. Pushing again sends nothing, and there is nothing changed to stage.
    sent = mutations(sandbox)
    again = push(ctx, first, setup)
    assert again.status == "PUSHED" and mutations(sandbox) == sent
    with pytest.raises(NothingToStageError):
        stage(ctx, types=(ChangeType.CHANGED,))
    assert board_view(sandbox.dump()) == board_view(dump1)

    # 3. One order changes in the source: its colour (part of the item name), one size's
    #    quantity, a size added and a size removed.
    target = staged(ctx, first)[3]
    uid = target.record_uuid
    old_sizes = {s: int(q) for s, q in target.values["sizes"].items()}
    assert len(old_sizes) >= 2, "the seeded order should have two sizes or more"
    kept, dropped = sorted(old_sizes)[:2]
    added = "ONE SIZE" if "ONE SIZE" not in old_sizes else "XXXL"
    assert source_row(ctx, uid)[added] in (None, 0)
    update_source(
        ctx,
        uid,
        {
            "CUSTOMER COLOUR DESCRIPTION": "NEON PINK",
            kept: old_sizes[kept] + 12,
            dropped: None,
            added: 36,
        },
    )
    assert counts(ctx) == {**after_first, "changed": 1, "unchanged": 19}
    second = stage(ctx, types=(ChangeType.CHANGED,))
    sent = mutations(sandbox)
    report = push(ctx, second, setup)
    assert (report.status, report.succeeded) == ("PUSHED", 1)
    # One item change, then the subitems: one changed, one created, one deleted.
    assert report.mutations == 4
    assert mutations(sandbox) - sent == 2  # the item request, then one subitem request

    view1, view2 = board_view(dump1), board_view(sandbox.dump())
    item_id = next(i for i, v in view1.items() if v["values"]["text_record_uuid"] == uid)
    assert {k: v for k, v in view2.items() if k != item_id} == {
        k: v for k, v in view1.items() if k != item_id
    }, "only the changed order's item may change"
    changed = view2[item_id]
    assert changed["values"]["text_colour"] == "NEON PINK"
    assert changed["name"].endswith(" · NEON PINK"), "the item name follows the colour"
    new_sizes = {**old_sizes, kept: old_sizes[kept] + 12, added: 36}
    del new_sizes[dropped]
    assert changed["values"]["numeric_order_qty"] == str(sum(new_sizes.values()))
    assert {n: v["numeric_order_qty"] for n, v in changed["subitems"].items()} == {
        s: str(q) for s, q in new_sizes.items()
    }
    assert counts(ctx) == after_first
    assert assert_state_matches_board(ctx, sandbox.dump(), CUSTOMER) == 20

    # 4. Undo the change through the CLI: the board and detection are as before it.
    monkeypatch.setenv("ORDERS_SYNC_MONDAY_URL", sandbox.url)
    monkeypatch.setenv("MONDAY_API_TOKEN", TOKEN)
    monkeypatch.setenv("ORDERS_SYNC_BOARD_ID", sandbox.board_id)
    capsys.readouterr()
    db = ctx.store.engine.url.render_as_string(hide_password=False)
    code = main(["--db", db, "rollback", "--batch", str(second), "--json"])
    out = json.loads(capsys.readouterr().out)
    assert code == 0, out
    assert out["status"] == "UNDONE"
    assert board_view(sandbox.dump()) == view1
    assert counts(ctx) == {**after_first, "changed": 1, "unchanged": 19}
    assert batch_status(ctx, second) == BatchStatus.UNDONE

    # 5. Undo the first batch (the latest pushed one now): the board is empty again and
    #    every order is NEW again.
    done = undo_service.undo(ctx, first, setup)
    assert done.status == "UNDONE" and done.undone == 20
    assert active(sandbox.dump()["items"]) == []
    assert counts(ctx) == before_any
    assert assert_state_matches_board(ctx, sandbox.dump(), CUSTOMER) == 0


def test_undo_refuses_an_older_batch_while_a_later_one_is_pushed(ctx, sandbox):
    setup = quick_setup(ctx, sandbox)
    first = stage(ctx, limit=10)
    push(ctx, first, setup)
    second = stage(ctx, limit=10)
    push(ctx, second, setup)
    before = sandbox.dump()
    with pytest.raises(Exception, match="latest pushed batch"):
        undo_service.undo(ctx, first, setup)
    assert board_view(sandbox.dump()) == board_view(before)
    assert len(active(before["items"])) == 20


# ---------------------------------------------------------------------- monday's refusals
def _hold_a_slot(server: SandboxServer):
    """Park one request in the sandbox so its only concurrency slot is taken; returns the
    function that lets it finish."""
    server.app.gate.set_open(False)
    worker = threading.Thread(
        target=requests.post,
        args=(server.url,),
        kwargs={
            "json": {"query": "query { complexity { after } }"},
            "headers": {"Authorization": TOKEN},
            "timeout": 10,
        },
    )
    worker.start()
    assert server.wait_held(1)

    def release() -> None:
        server.app.gate.set_open(True)
        worker.join(timeout=10)

    return release


MIXED = FaultConfig(
    every_n=2,
    seed=5,
    kinds=("error_500", "drop_after_execute", "drop_before_execute", "locked_423"),
)
TROUBLE = {
    # name: (sandbox overrides, setup knobs, the retry reason the client must report)
    "complexity": ({"complexity_budget": 400_000}, {"pace": False}, "COMPLEXITY_BUDGET_EXHAUSTED"),
    "minute": ({"requests_per_minute": 4}, {}, "RATE_LIMIT_EXCEEDED"),
    "ip": ({"ip_limit": 4, "ip_window_seconds": 1.0}, {}, "IP_RATE_LIMIT_EXCEEDED"),
    "concurrency": ({"max_concurrency": 1}, {}, "maxConcurrencyExceeded"),
    "5xx-drops-423": ({"faults": MIXED}, {}, "INTERNAL_SERVER_ERROR"),
    "slow-past-timeout": (
        {"faults": FaultConfig(every_n=3, kinds=("delay",), delay_seconds=1.0,
                               mutations_only=True)},
        {"timeout_seconds": 0.4},
        "timeout",
    ),
}  # fmt: skip


@pytest.mark.parametrize("trouble", list(TROUBLE))
def test_a_push_through_monday_trouble_completes_once(ctx, make_sandbox, trouble):
    overrides, knobs, reason = TROUBLE[trouble]
    server = make_sandbox(**overrides)
    hook = _hold_a_slot(server) if trouble == "concurrency" else None
    recorder = SleepRecorder(hook)
    setup = quick_setup(ctx, server, sleep=recorder, **knobs)
    batch = stage(ctx, limit=10)
    want = expected_items(ctx, batch)
    report = push(ctx, batch, setup)
    assert (report.status, report.succeeded, report.failed) == ("PUSHED", 10, 0)
    dump = server.dump()
    assert_no_duplicates(dump)
    assert len(active(dump["items"])) == 10
    assert server.stats()["subitems"] == sum(len(s) for s in want.sizes.values())
    assert assert_state_matches_board(ctx, dump, CUSTOMER) == 10
    assert report.retries >= 1 and recorder.waits
    if trouble in ("complexity", "minute", "ip", "concurrency"):
        assert server.stats()["errors"].get(reason, 0) >= 1
        # a 429 is retried after monday's Retry-After / retry_in_seconds (1 s here), never
        # at once or after the client's own short backoff. A budget refusal may end earlier,
        # at the window's reset the client read itself (monday rounds both up to seconds:
        # Pacer.exhausted), but never before the sandbox's window of 1 s is mostly over.
        low = 0.5 if trouble == "complexity" else 1.0
        assert all(low <= w <= 1.0 + 0.16 for w in recorder.waits), recorder.waits
    if trouble == "5xx-drops-423":
        assert set(server.stats()["faults"]) == set(MIXED.kinds)
        # A dropped answer: what its request made is found on the board and taken up, or
        # (a request that made nothing, a change) sent again and answered from the cache.
        assert report.adopted + report.replays >= 1
    if trouble == "slow-past-timeout":
        assert report.replays >= 1 and server.stats()["faults"].get("delay", 0) >= 1


# ---------------------------------------------------------------------- stops and resumes
def _cli_env(monkeypatch, server: SandboxServer) -> None:
    # Small chunks, as in quick_setup: the push spans enough requests to stop mid-way.
    save_settings({"monday": {"limits": {"max_mutations_per_request": 10}}})
    monkeypatch.setenv("ORDERS_SYNC_MONDAY_URL", server.url)
    monkeypatch.setenv("MONDAY_API_TOKEN", TOKEN)
    monkeypatch.setenv("ORDERS_SYNC_BOARD_ID", server.board_id)


@pytest.mark.parametrize("calls", [1, 7], ids=["spent-before-any-write", "spent-mid-push"])
def test_the_daily_limit_stops_the_push_with_one_message_and_it_resumes(
    ctx, make_sandbox, monkeypatch, capsys, calls
):
    server = make_sandbox(daily_limit=calls)
    _cli_env(monkeypatch, server)
    batch = stage(ctx, limit=10)
    capsys.readouterr()
    code = main(["--db", str(ctx.store.url), "push", "--batch", str(batch)])
    out, err = capsys.readouterr()
    assert code == 1
    assert err.startswith("orders-sync: ") and len(err.strip().splitlines()) == 1
    assert "daily request limit" in err and err.count("daily request limit") == 1
    assert "Traceback" not in err and TOKEN not in out + err
    status = batch_status(ctx, batch)
    if calls == 1:  # nothing reached monday: the batch is as staged, its lock kept
        assert status == BatchStatus.STAGED
        assert row_statuses(ctx, batch) == {"PENDING": 10}
    else:
        assert status == BatchStatus.PARTIAL
        assert row_statuses(ctx, batch)["PUSHED"] >= 1
    with pytest.raises(Exception, match="open batch"):
        stage(ctx, limit=5)  # the customer stays locked until the batch is finished

    server.config.daily_limit = 1_000  # a new day (with room for the rest of the push)
    server.app.limits.reset()
    report = push(ctx, batch, quick_setup(ctx, server))
    assert (report.status, report.succeeded) == ("PUSHED", 10)
    dump = server.dump()
    assert_no_duplicates(dump)
    assert len(active(dump["items"])) == 10
    assert assert_state_matches_board(ctx, dump, CUSTOMER) == 10


@pytest.mark.parametrize("when", ["first-request", "mid-push"])
def test_a_spent_retry_bound_stops_the_push_and_a_later_push_resumes(ctx, make_sandbox, when):
    server = make_sandbox()
    every_500 = FaultConfig(every_n=1, kinds=("error_500",))
    if when == "first-request":
        server.set_faults(every_500)
    progress = []

    def break_after_the_items(p):  # monday starts failing once the items are done
        progress.append(p)
        if p.phase == "push-items":
            server.set_faults(every_500)

    setup = quick_setup(ctx, server, max_attempts=3)
    batch = stage(ctx, limit=10)
    with pytest.raises(PushStopped) as caught:
        push(ctx, batch, setup, progress=break_after_the_items)
    message = str(caught.value)
    assert "after 3 attempts" in message and "push again" in message
    assert message.count("after 3 attempts") == 1 and TOKEN not in message
    report = caught.value.report
    if when == "first-request":
        assert batch_status(ctx, batch) == BatchStatus.STAGED and report.succeeded == 0
        assert server.stats()["items"] == 0
    else:
        assert batch_status(ctx, batch) == BatchStatus.PARTIAL
        assert row_statuses(ctx, batch) == {"PUSHED": 10}  # items done, subitems not
        assert (
            report.succeeded == 0
            and "10 of 10 items on the board, sizes of 10 pending" in report.message
        )

    server.set_faults(FaultConfig())
    resumed = push(ctx, batch, setup)
    assert (resumed.status, resumed.succeeded) == ("PUSHED", 10)
    dump = server.dump()
    assert_no_duplicates(dump)
    assert len(active(dump["items"])) == 10
    assert assert_state_matches_board(ctx, dump, CUSTOMER) == 10


def test_a_push_stopped_not_knowing_what_monday_did_cannot_be_discarded(ctx, make_sandbox):
    # The group is made, then the items request runs on monday but its answer is lost, and
    # the client may not retry (max_attempts=1): the items exist, the store cannot know.
    server = make_sandbox(
        faults=FaultConfig(every_n=2, kinds=("drop_after_execute",), mutations_only=True)
    )
    batch = stage(ctx, limit=5)
    with pytest.raises(PushStopped, match="push again"):
        push(ctx, batch, quick_setup(ctx, server, max_attempts=1))
    assert len(active(server.dump()["items"])) == 5
    assert row_statuses(ctx, batch) == {"SENDING": 5}
    # Not STAGED: a plain rollback would forget items that are on the board, and the next
    # batch would create them a second time.
    assert batch_status(ctx, batch) == BatchStatus.PARTIAL
    with pytest.raises(BatchStateError, match="only a STAGED batch"):
        rollback_unpushed(ctx, batch)
    server.set_faults(FaultConfig())
    report = push(ctx, batch, quick_setup(ctx, server))
    assert (report.status, report.adopted) == ("PUSHED", 5)
    assert_no_duplicates(server.dump())
    assert assert_state_matches_board(ctx, server.dump(), CUSTOMER) == 5


def test_an_undo_refused_at_its_first_request_leaves_the_batch_as_it_was(ctx, make_sandbox):
    server = make_sandbox()
    batch = stage(ctx, limit=5)
    push(ctx, batch, quick_setup(ctx, server))
    refused = quick_setup(ctx, make_sandbox(token="another-account-token"))
    with pytest.raises(undo_service.UndoStopped, match="401") as caught:
        undo_service.undo(ctx, batch, refused)
    assert str(caught.value).count("401") == 1
    assert batch_status(ctx, batch) == BatchStatus.PUSHED  # not PARTIAL: nothing was undone
    assert len(active(server.dump()["items"])) == 5


# ---------------------------------------------------------------------- a value monday refuses
def _mapping_with_a_numbers_column() -> dict:
    """The shipped mapping, but CUSTOMER ALT PO goes to a numbers column (as an operator
    might map it, ALT POs being mostly digits)."""
    mapping = json.loads(resource_path("board_mapping.json").read_text("utf-8"))
    for column in mapping["columns"]:
        if column["source"] == "CUSTOMER ALT PO":
            column.update(column_id="numeric_alt_po", type="numbers")
    return mapping


def test_a_row_monday_refuses_fails_alone_with_mondays_message(
    db, make_sandbox, isolated_home, caplog
):
    mapping = _mapping_with_a_numbers_column()
    (isolated_home / "config").mkdir(parents=True)
    (isolated_home / "config" / "board_mapping.json").write_text(json.dumps(mapping), "utf-8")
    server = make_sandbox(mapping=mapping)
    ctx = open_context(db)
    try:
        bad = detection.preview(ctx, CUSTOMER).changes[3].record_uuid
        info = ctx.store.source()
        with ctx.store.engine.begin() as conn:
            conn.execute(update(info.table).values({"CUSTOMER ALT PO": "4711"}))
        update_source(ctx, bad, {"CUSTOMER ALT PO": "ALT-77"})
        setup = quick_setup(ctx, server)
        batch = stage(ctx, limit=10)
        assert bad in {r.record_uuid for r in staged(ctx, batch)}

        report = push(ctx, batch, setup)
        assert (report.status, report.succeeded, report.failed) == ("PARTIAL", 9, 1)
        [failure] = report.failures
        assert failure["record_uuid"] == bad
        assert failure["error"].startswith("ColumnValueException: invalid value")
        assert "1 failed" in report.message
        rows = {r.record_uuid: r for r in staged(ctx, batch)}
        assert rows[bad].status.value == "FAILED" and rows[bad].retry_count == 1
        assert rows[bad].error == failure["error"]  # stg_error_message keeps monday's words
        assert {r.status.value for u, r in rows.items() if u != bad} == {"PUSHED"}
        assert batch_status(ctx, batch) == BatchStatus.PARTIAL
        dump = server.dump()
        on_board = {texts(i)["text_record_uuid"] for i in active(dump["items"])}
        assert on_board == set(rows) - {bad}
        assert {texts(i)["numeric_alt_po"] for i in active(dump["items"])} == {"4711"}
        assert any(
            bad_order in r.getMessage() and "ColumnValueException" in r.getMessage()
            for r in caplog.records
            if r.levelname == "ERROR"
            for bad_order in [rows[bad].order_number]
        )

        # A second push offers the failed row again, and only it.
        before, sent = board_view(dump), mutations(server)
        again = push(ctx, batch, setup)
        assert (again.status, again.succeeded, again.failed) == ("PARTIAL", 9, 1)
        assert again.mutations == 1 and mutations(server) - sent == 1
        assert staged(ctx, batch)[[*rows].index(bad)].retry_count == 2
        assert board_view(server.dump()) == before
    finally:
        ctx.close()


# ---------------------------------------------------------------------- the token stays secret
def test_the_token_is_in_no_log_message_file_or_table(
    db, ctx, make_sandbox, isolated_home, caplog, capsys, monkeypatch, tmp_path
):
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="urllib3")
    server = make_sandbox(
        faults=FaultConfig(
            every_n=2, kinds=("error_500", "drop_after_execute", "drop_before_execute")
        )
    )
    texts_seen: list[str] = []

    # Settings as the GUI saves them, the token in the (memory) keyring.
    save_settings({"monday": {"url": server.url, "board_id": server.board_id}})
    set_secret(monday_token_key(server.url), TOKEN)
    setup = monday_setup(ctx)
    assert setup.token == TOKEN
    texts_seen += [repr(setup), str(setup), repr(setup.client()), repr(setup.client().settings)]

    # A push through faults (warnings, retries), then the CLI with -v, then an undo.
    quick = quick_setup(ctx, server)
    first = stage(ctx, limit=10)
    report = push(ctx, first, quick)
    texts_seen += [repr(report), json.dumps(report.to_dict())]
    second = stage(ctx, limit=5)
    server.set_faults(FaultConfig())  # the CLI's client backs off whole seconds
    capsys.readouterr()
    assert main(["-v", "--db", db, "push", "--batch", str(second), "--json"]) == 0
    texts_seen += list(capsys.readouterr())
    texts_seen.append(repr(undo_service.undo(ctx, second, quick)))

    # Refusals: a token the account does not accept, and a push stopped by it.
    other = make_sandbox(token="a-different-token")
    refused = quick_setup(ctx, other)
    third = stage(ctx, limit=3)
    with pytest.raises(PushStopped) as caught:
        push(ctx, third, refused)
    texts_seen += ["".join(traceback.format_exception(caught.value)), repr(caught.value)]
    with pytest.raises(MondayStopError) as stop:
        refused.client().execute("query { complexity { after } }")
    texts_seen.append("".join(traceback.format_exception(stop.value)))

    texts_seen += [r.getMessage() for r in caplog.records]
    texts_seen += [caplog.text]
    assert any("urllib3" in r.name for r in caplog.records)  # the scan did see its lines
    assert any("retry" in r.getMessage() for r in caplog.records)  # ...and the retries'
    with ctx.store.engine.connect() as conn:
        for table in (staged_rows, staged_subitems, batches, sync_state):
            texts_seen += [repr(tuple(row)) for row in conn.execute(select(table))]
    files = [p for p in [*isolated_home.rglob("*"), *tmp_path.glob("*.db*")] if p.is_file()]
    assert any(p.name == "settings.json" for p in files)
    leaks = [t for t in texts_seen if TOKEN in t]
    leaks += [str(p) for p in files if TOKEN.encode() in p.read_bytes()]
    assert leaks == []
    assert len(texts_seen) > 100  # it looked at every row and record


# ---------------------------------------------------------------------- deletes and strays
def _graphql(server: SandboxServer, query: str) -> dict:
    answer = requests.post(
        server.url, json={"query": query}, headers={"Authorization": TOKEN}, timeout=10
    )
    assert answer.status_code == 200 and "errors" not in answer.json(), answer.text
    return answer.json()["data"]


@pytest.mark.parametrize("action", ["status", "archive"])
def test_a_deleted_order_is_pushed_once_and_undone(db, make_sandbox, isolated_home, action):
    mapping = json.loads(resource_path("board_mapping.json").read_text("utf-8"))
    if action == "archive":
        mapping["deleted_action"] = {"kind": "archive"}
        (isolated_home / "config").mkdir(parents=True)
        (isolated_home / "config" / "board_mapping.json").write_text(json.dumps(mapping))
    server = make_sandbox(mapping=mapping)
    ctx = open_context(db)
    try:
        setup = quick_setup(ctx, server)
        first = stage(ctx, limit=10)
        push(ctx, first, setup)
        gone = staged(ctx, first)[4].record_uuid
        info = ctx.store.source()
        with ctx.store.engine.begin() as conn:
            conn.execute(info.table.delete().where(info.table.c.record_uuid == gone))
        assert counts(ctx)["deleted"] == 1
        second = stage(ctx, types=(ChangeType.DELETED,))
        report = push(ctx, second, setup)
        assert (report.status, report.succeeded) == ("PUSHED", 1)
        [item] = [i for i in server.dump()["items"] if texts(i)["text_record_uuid"] == gone]
        if action == "status":
            assert item["state"] == "active"
            assert texts(item)["status_sync"] == "Cancelled in source"
        else:
            assert item["state"] == "archived"
        # Pushed once, the deletion is no longer news: nothing to stage, nothing resent.
        assert counts(ctx) == {"new": counts(ctx)["new"], "changed": 0, "deleted": 0,
                               "unchanged": 9}  # fmt: skip
        with pytest.raises(NothingToStageError):
            stage(ctx, types=(ChangeType.DELETED,))

        done = undo_service.undo(ctx, second, setup)
        assert done.status == "UNDONE"
        [item] = [i for i in server.dump()["items"] if texts(i)["text_record_uuid"] == gone]
        if action == "status":
            assert texts(item)["status_sync"] is None  # the label is taken off again
            assert counts(ctx)["deleted"] == 1  # ...and the deletion is news again
            assert done.not_undoable == []
        else:  # monday's API cannot unarchive: the report says so
            assert item["state"] == "archived"
            assert any("stays archived" in n for n in done.not_undoable)
            assert counts(ctx)["deleted"] == 0
    finally:
        ctx.close()


def test_two_databases_pushing_their_batch_1_to_one_board_each_get_their_items(tmp_path, sandbox):
    urls = [make_demo_db(f"sqlite:///{tmp_path / f'db{seed}.db'}", seed=seed) for seed in (7, 8)]
    uuids = set()
    for url in urls:
        ctx = open_context(url)
        try:
            batch = stage(ctx, limit=5)
            assert batch == 1  # both number their batches from 1
            uuids |= {r.record_uuid for r in staged(ctx, batch)}
            report = push(ctx, batch, quick_setup(ctx, sandbox))
            assert report.status == "PUSHED" and report.replays == 0
            assert assert_state_matches_board(ctx, sandbox.dump(), CUSTOMER) == 5
        finally:
            ctx.close()
    on_board = {texts(i)["text_record_uuid"] for i in active(sandbox.dump()["items"])}
    assert len(uuids) == 10 and on_board == uuids


def _change_sizes(ctx, setup, first: int, values_for) -> tuple[str, int]:
    """Change one pushed order's sizes in the source, stage and return (uuid, batch)."""
    row = staged(ctx, first)[2]
    sizes = {s: int(q) for s, q in row.values["sizes"].items()}
    update_source(ctx, row.record_uuid, values_for(sizes))
    return row.record_uuid, stage(ctx, types=(ChangeType.CHANGED,))


def _delete_on_board(server: SandboxServer, item_id: str) -> None:
    """What a planner's click (or a request whose answer was lost) does to an item."""
    _graphql(server, f"mutation {{ delete_item(item_id: {item_id}) {{ id }} }}")


def _subitem_id(server: SandboxServer, uid: str, size: str) -> str:
    [item] = [i for i in active(server.dump()["items"]) if texts(i)["text_record_uuid"] == uid]
    return next(s["id"] for s in active(item["subitems"]) if s["name"] == size)


def test_a_removed_size_whose_subitem_is_already_gone_is_done_not_failed(ctx, sandbox):
    setup = quick_setup(ctx, sandbox)
    first = stage(ctx, limit=5)
    push(ctx, first, setup)
    dropped = {}

    def drop_one(sizes):
        dropped["size"] = sorted(sizes)[0]
        return {dropped["size"]: None}

    uid, second = _change_sizes(ctx, setup, first, drop_one)
    # The subitem went already: a push whose answer a crash lost, or a planner's hand.
    _delete_on_board(sandbox, _subitem_id(sandbox, uid, dropped["size"]))
    report = push(ctx, second, setup)
    assert (report.status, report.failed) == ("PUSHED", 0)
    assert set(subitem_statuses(ctx, second)) == {"PUSHED"}
    assert assert_state_matches_board(ctx, sandbox.dump(), CUSTOMER) == 5
    assert counts(ctx)["changed"] == 0


def test_an_undo_that_could_not_revert_a_subitem_is_not_called_done(ctx, sandbox):
    setup = quick_setup(ctx, sandbox)
    first = stage(ctx, limit=5)
    push(ctx, first, setup)
    bumped = {}

    def bump_one(sizes):
        bumped["size"] = size = sorted(sizes)[0]
        return {size: sizes[size] + 6}

    uid, second = _change_sizes(ctx, setup, first, bump_one)
    push(ctx, second, setup)
    _delete_on_board(sandbox, _subitem_id(sandbox, uid, bumped["size"]))
    report = undo_service.undo(ctx, second, setup)
    assert report.status == "PARTIAL" and report.failed == 1
    assert "still to revert" in report.message
    assert batch_status(ctx, second) == BatchStatus.PARTIAL
    with ctx.store.engine.connect() as conn:  # the customer is not free for a new batch
        assert pushing.latest_pushed_batch(conn, CUSTOMER) == second


# ---------------------------------------------------------------------- the estimate
@pytest.mark.parametrize(
    "limits",
    [
        Limits(window_seconds=1),
        Limits(window_seconds=1, complexity_per_minute=150_000),  # the budget caps a chunk
    ],
    ids=["defaults", "small-budget"],
)
def test_the_estimate_counts_the_requests_and_mutations_the_push_sends(ctx, sandbox, limits):
    batch = stage(ctx, limit=10)
    guess = estimate(ctx, batch, limits)
    report = push(ctx, batch, quick_setup(ctx, sandbox, limits=limits))
    assert (guess.requests, guess.mutations) == (report.requests, report.mutations)
    assert guess.items == 10 and guess.subitems == report.mutations - 10
