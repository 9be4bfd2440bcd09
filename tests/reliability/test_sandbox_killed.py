"""The sandbox killed mid-push: `orders-sync sandbox --port P --state FILE` as a real child
process, SIGKILLed at five points of one batch's push, each time restarted on the same file
and port, and the push resumed (pushed again) until it is done.

The push runs in this process against the child's URL, so that the kill points are exact:
they are counted in this process's HTTP layer (requests' HTTPAdapter.send), mutation
requests of the current push run carrying one field (create_group, create_item,
create_subitem), the nth of them:
- "answered": its answer read, then the sandbox killed (the next request finds no one);
- "unanswered": run and journaled by the sandbox, which drops the connection instead of
  answering (a drop_after_execute fault set for that one request), then killed;
- "unsent": the sandbox killed just before the request leaves (it is refused).
The push run then spends its few retries on the dead port and stops (PARTIAL, or STAGED
when only the group was made); the rows of an unanswered request are left in flight, for
the resume to settle. (The restart waits for that run to end: a retry of the same run
reaching the restarted sandbox would resend an unanswered create unlooked, a known gap,
tests/monday/test_no_replay_gaps.py.)

The restarted sandbox has lost its idempotency cache, whatever the mode: a request resent
under its Idempotency-Key runs again. Only the push's own look before creating (the
recovery's lookup of what was in flight, items by record_uuid, subitems by parent and
size, the group by title) stands between a resume and a second copy. Both replay modes run.

At the end: one active item per record_uuid, each item's subitems exactly its order's sizes
with their quantities, the sync state naming live items, and detection finding every pushed
order UNCHANGED.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import requests
from relkit import (
    CUSTOMER,
    FIGURES,
    REPLAY_MODES,
    SandboxChild,
    audit,
    batch_truth,
    duplicates_on,
    store_problems,
)
from requests.adapters import HTTPAdapter

from orders_sync_gui.core.models import BatchStatus
from orders_sync_gui.services import detection, staging
from orders_sync_gui.services.monday_setup import Limits
from orders_sync_gui.services.push import PushStopped, push
from tests.monday.pushkit import (
    active,
    assert_no_duplicates,
    assert_state_matches_board,
    expected_items,
    quick_setup,
    staged,
    texts,
)

ORDERS = 12
CHUNK = 2  # mutations per request: six item requests, a score of subitem requests

# (field counted, nth such mutation request of the push run, how the sandbox dies)
KILLS = [
    ("create_group", 1, "answered"),  # the customer's group made, then no monday
    ("create_item", 2, "unanswered"),  # items made, their answer lost
    ("create_item", 1, "unsent"),  # rows marked in flight; the request never arrives
    ("create_item", 1, "unanswered"),  # the resume's resend of those rows, answer lost
    ("create_subitem", 2, "unanswered"),  # sizes made, their answer lost
]


def _field_of(request: requests.PreparedRequest) -> str | None:
    """The kill-point field a GraphQL mutation request carries, if any."""
    if request.method != "POST" or not (request.url or "").endswith("/v2"):
        return None
    try:
        query = json.loads(request.body or b"{}").get("query", "")
    except (ValueError, AttributeError):
        return None
    if not query.lstrip().startswith("mutation"):
        return None
    return next((f for f, _, _ in KILLS if f"{f}(" in query), None)


class KillAt:
    """Kills the sandbox at the nth mutation request carrying `field` (see the module)."""

    def __init__(self, sandbox: SandboxChild, field: str, nth: int, how: str) -> None:
        self.sandbox, self.field, self.nth, self.how = sandbox, field, nth, how
        self.original = HTTPAdapter.send
        self.seen = 0
        self.hit = False

    def as_method(self) -> Any:
        def send(adapter: HTTPAdapter, request: requests.PreparedRequest, **kw: Any) -> Any:
            return self.send(adapter, request, **kw)

        return send

    def send(self, adapter: HTTPAdapter, request: requests.PreparedRequest, **kw: Any) -> Any:
        if self.hit or _field_of(request) != self.field:
            return self.original(adapter, request, **kw)
        self.seen += 1
        if self.seen < self.nth:
            return self.original(adapter, request, **kw)
        self.hit = True
        if self.how == "unsent":
            self.sandbox.kill()
            return self.original(adapter, request, **kw)  # refused
        if self.how == "answered":
            response = self.original(adapter, request, **kw)
            assert response.content  # read whole, before the sandbox goes
            self.sandbox.kill()
            return response
        assert self.how == "unanswered", self.how
        self.sandbox.set_faults(every_n=1, kinds=["drop_after_execute"], mutations_only=True)
        try:
            self.original(adapter, request, **kw)
        except requests.ConnectionError:
            self.sandbox.kill()
            raise
        self.sandbox.kill()
        raise AssertionError("the sandbox answered the request it was to run and drop")


@pytest.mark.parametrize("replay", REPLAY_MODES)
def test_the_sandbox_killed_at_five_points_of_a_push_and_restarted_on_its_file(
    replay: str, ctx: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    with FIGURES.counted_in(replay):
        _killed_five_times(replay, ctx, tmp_path, monkeypatch)


def _killed_five_times(
    replay: str, ctx: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    flags = () if replay == "replay" else ("--no-idempotency",)
    state_file = tmp_path / "board.json"
    sandbox = SandboxChild(state_file, 0, *flags)
    port = sandbox.port
    try:
        # A client that gives up on a dead sandbox within a second or so (three attempts).
        setup = quick_setup(
            ctx,
            sandbox,  # type: ignore[arg-type]
            limits=Limits(window_seconds=1, max_mutations_per_request=CHUNK),
            max_attempts=3,
            max_wait_seconds=5.0,
        )
        batch = staging.stage(ctx, CUSTOMER, limit=ORDERS).batch_id
        uuids = {r.record_uuid for r in staged(ctx, batch)}
        for number, (field, nth, how) in enumerate(KILLS, 1):
            point = f"kill {number} ({how}, {field} #{nth})"
            killer = KillAt(sandbox, field, nth, how)
            with monkeypatch.context() as patch:
                patch.setattr(HTTPAdapter, "send", killer.as_method())
                with pytest.raises(PushStopped) as stopped:
                    push(ctx, batch, setup)
            assert killer.hit, f"{point}: the push never sent that request"
            assert not sandbox.alive
            # Stopped, and saying so truthfully: PARTIAL, or STAGED while no row has left
            # (the customer's group alone made: it is found by its title next time).
            status = stopped.value.report.status
            assert status in (BatchStatus.PARTIAL, BatchStatus.STAGED), point
            assert batch_truth(ctx, batch) == [] and store_problems(ctx) == [], point
            FIGURES.kills += 1
            FIGURES.faults_injected += how == "unanswered"
            sandbox = SandboxChild(state_file, port, *flags)  # the same file, the same port
            assert sandbox.port == port
        report = push(ctx, batch, setup)
        assert (report.status, report.succeeded) == (BatchStatus.PUSHED, ORDERS)
        _check_board(ctx, sandbox.dump(), batch, uuids)
        FIGURES.trials += 1
    finally:
        sandbox.kill()


def _check_board(ctx: Any, dump: dict[str, Any], batch: int, uuids: set[str]) -> None:
    result = audit(ctx, dump)  # duplicates (groups, items, subitems), losses, the store
    result.record()
    result.assert_clean("after the last resume")
    assert duplicates_on(dump) == []
    assert_no_duplicates(dump)
    items = active(dump["items"])
    per_uuid = Counter(texts(i)["text_record_uuid"] for i in items)
    assert per_uuid == Counter(uuids), "exactly one active item per pushed order"
    # No subitem under the wrong order: each item's sizes are its own order's, with its
    # quantities, read from the source table.
    want = expected_items(ctx, batch)
    for item in items:
        uid = texts(item)["text_record_uuid"]
        sizes = {s["name"]: texts(s)["numeric_order_qty"] for s in active(item["subitems"])}
        assert sizes == want.sizes[uid], f"item {item['id']} ({uid})"
    assert assert_state_matches_board(ctx, dump, CUSTOMER) == len(uuids)
    # Detection: every pushed order UNCHANGED, by both methods.
    found = detection.preview(ctx, CUSTOMER)
    assert not {c.record_uuid for c in found.changes} & uuids
    [counts], _ = detection.detect_counts(ctx, CUSTOMER)
    assert counts.unchanged == len(uuids)
    groups = [g for g in dump["board"]["groups"] if g["title"] == CUSTOMER]
    assert len(groups) == 1, "the customer's group made once"
