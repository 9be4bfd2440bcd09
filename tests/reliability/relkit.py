"""Helpers of the reliability suite: the figures it reports, sandboxes that count the faults
they inject, `orders-sync` run as a real process that a test can kill, and the audit that
decides, after each experiment, whether anything was duplicated, lost or half-written.

(A module of its own, not conftest.py, for the reason pushkit.py gives.)
"""

from __future__ import annotations

import json
import os
import selectors
import signal
import socket
import subprocess
import sys
import threading
import time
import uuid
from collections import Counter
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import requests
from sqlalchemy import func, select

from orders_sync_gui.core.board_values import item_name
from orders_sync_gui.core.mapping import BoardMapping
from orders_sync_gui.core.models import OPEN_BATCH_STATUSES, BatchStatus, Record
from orders_sync_gui.monday.sandbox import SandboxConfig, SandboxServer
from orders_sync_gui.monday.sandbox.app import Response
from orders_sync_gui.services import detection
from orders_sync_gui.services.context import Context
from orders_sync_gui.store.schema import batches, customer_locks, staged_rows, staged_subitems
from orders_sync_gui.store.source import customer_spellings
from orders_sync_gui.store.staging import get_batch
from orders_sync_gui.store.syncstate import load_state
from tests.monday.pushkit import TOKEN, active, texts

REPO = Path(__file__).resolve().parents[2]
CRASH_CLI = Path(__file__).with_name("crash_cli.py")
CUSTOMER = "GREYSON"
WINDOW = 1.0  # the sandbox's "minute", in seconds
UUID_COLUMN = "text_record_uuid"
CANCELLED = "Cancelled in source"
# monday's refusals that a client must wait out (each counts as an injected fault).
LIMIT_CODES = (
    "COMPLEXITY_BUDGET_EXHAUSTED",
    "RATE_LIMIT_EXCEEDED",
    "maxConcurrencyExceeded",
    "IP_RATE_LIMIT_EXCEEDED",
    "DAILY_LIMIT_EXCEEDED",
)


# The sandbox a kill trial runs against: monday's default, which replays a mutation's answer
# to a request carrying its Idempotency-Key again, or one that ignores the header (every
# request runs): then only the push's own look before creating keeps a resume from making
# anything twice.
REPLAY_MODES: dict[str, dict[str, Any]] = {
    "replay": {},
    "no-replay": {"idempotency_enabled": False},
}
PER_MODE = ("trials", "kills", "duplicates", "rows_lost")


# ---------------------------------------------------------------------- the figures
@dataclass
class Figures:
    """What `make reliability` reports (tests/reliability/figures.py prints it): totals, and
    the kill trials' own figures per replay mode."""

    trials: int = 0
    kills: int = 0
    duplicates: int = 0
    rows_lost: int = 0
    faults_injected: int = 0
    bad_rows_tried: int = 0
    bad_rows_handled: int = 0
    modes: dict[str, dict[str, int]] = field(default_factory=dict)
    started: float = field(default_factory=time.monotonic)

    @contextmanager
    def counted_in(self, mode: str) -> Iterator[None]:
        """What the block adds to the totals (trials, kills, duplicates, rows lost) is also
        counted under `mode`, a failing block's duplicates and losses included."""
        assert mode in REPLAY_MODES, mode
        before = {key: getattr(self, key) for key in PER_MODE}
        try:
            yield
        finally:
            tally = self.modes.setdefault(mode, dict.fromkeys(PER_MODE, 0))
            for key, was in before.items():
                tally[key] += getattr(self, key) - was

    def to_json(self) -> dict[str, Any]:
        out = asdict(self)
        out["seconds"] = round(time.monotonic() - out.pop("started"), 1)
        return out


FIGURES = Figures()


def injected(server: SandboxServer) -> int:
    """Faults the sandbox injected plus the limits it enforced (429s), so far."""
    stats = server.stats()
    return sum(stats["faults"].values()) + sum(stats["errors"].get(c, 0) for c in LIMIT_CODES)


def start_sandbox(**overrides: Any) -> SandboxServer:
    config = {"token": TOKEN, "window_seconds": WINDOW, **overrides}
    # (An answer to a client that is gone, killed or past its timeout, is the experiment
    # here: the sandbox logs it at debug level, no traceback on stderr.)
    return SandboxServer(SandboxConfig(**config)).start()


def stop_sandbox(server: SandboxServer) -> None:
    FIGURES.faults_injected += injected(server)
    server.stop()


# ---------------------------------------------------------------------- orders-sync, a process
def write_cli_settings(home: Path, *, chunk: int = 3, **monday: Any) -> None:
    """settings.json of the process: small chunks (many requests per batch, so a kill has
    somewhere to land) and a client that backs off in tens of milliseconds."""
    section = {
        "limits": {"max_mutations_per_request": chunk, "window_seconds": WINDOW},
        "timeout_seconds": 3.0,
        "max_attempts": 6,
        "max_wait_seconds": 10.0,
        "base_backoff_seconds": 0.05,
        "max_backoff_seconds": 0.3,
        **monday,
    }
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "settings.json").write_text(json.dumps({"monday": section}), "utf-8")


def cli_env(db_url: str, server: SandboxServer, home: Path, **extra: str) -> dict[str, str]:
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("ORDERS_SYNC_", "MONDAY_", "PYTEST_"))
    }
    env.update(
        {
            "ORDERS_SYNC_DB_URL": db_url,
            "ORDERS_SYNC_MONDAY_URL": server.url,
            "MONDAY_API_TOKEN": TOKEN,
            "ORDERS_SYNC_BOARD_ID": server.board_id,
            "ORDERS_SYNC_HOME": str(home),
            "ORDERS_SYNC_OPERATOR": "operator-a",
            "PYTHONPATH": str(REPO),
            **extra,
        }
    )
    return env


class CliProcess:
    """`orders-sync ARGS` in a process of its own, its output kept in files (read after)."""

    def __init__(
        self, args: list[str], env: dict[str, str], workdir: Path, *, hooks: bool = False
    ) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        stem = f"{args[0]}-{time.monotonic_ns()}"
        self.out_path, self.err_path = workdir / f"{stem}.out", workdir / f"{stem}.err"
        self._out = self.out_path.open("wb")
        self._err = self.err_path.open("wb")
        entry = [str(CRASH_CLI)] if hooks else ["-m", "orders_sync_gui.cli"]
        self.args = args
        self.process = subprocess.Popen(
            [sys.executable, *entry, *args],
            cwd=REPO,
            env=env,
            stdout=self._out,
            stderr=self._err,
        )
        self.killed = False

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self) -> bool:
        """SIGKILL, if it still runs; True when this kill ended it."""
        if self.process.poll() is not None:
            return False
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)
        self.killed = self.process.returncode == -signal.SIGKILL
        return self.killed

    def wait(self, timeout: float = 120) -> int:
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()
            raise
        finally:
            self._out.close()
            self._err.close()
        self.killed = code == -signal.SIGKILL
        return code

    @property
    def stdout(self) -> str:
        return self.out_path.read_text("utf-8", errors="replace")

    @property
    def stderr(self) -> str:
        return self.err_path.read_text("utf-8", errors="replace")

    def json(self) -> dict[str, Any]:
        return json.loads(self.stdout.strip().splitlines()[-1])


class SandboxChild:
    """`orders-sync sandbox --port PORT --state FILE ...` in a process of its own, as a user
    starts it; ready once its JSON line has come and its stats answer (both read against a
    deadline, no bare sleep). `kill()` is SIGKILL: no stop, no compaction."""

    def __init__(self, state_file: Path, port: int = 0, *flags: str) -> None:
        self.state_file, self.flags = state_file, flags
        env = {**os.environ, "PYTHONPATH": str(REPO), "PYTHONUNBUFFERED": "1"}
        command = [sys.executable, "-m", "orders_sync_gui.cli", "sandbox", "--port", str(port)]
        command += ["--state", str(state_file), "--token", TOKEN]
        command += ["--window-seconds", str(WINDOW), *flags]
        self.process = subprocess.Popen(
            command, cwd=REPO, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE
        )
        try:
            ready = self._ready_line()
            self.url: str = ready["url"]
            self.board_id: str = ready["board_id"]
            self.base_url = self.url.rsplit("/v2", 1)[0]
            self.port = int(self.base_url.rsplit(":", 1)[1])
            self._wait_serving()
        except BaseException:
            self.kill()
            raise

    def _ready_line(self) -> dict[str, Any]:
        stdout = self.process.stdout
        assert stdout is not None
        deadline = time.monotonic() + 60
        line = b""
        with selectors.DefaultSelector() as selector:
            selector.register(stdout, selectors.EVENT_READ)
            while not line.endswith(b"\n"):
                left = deadline - time.monotonic()
                if left <= 0 or not selector.select(left):
                    raise AssertionError("the sandbox did not start within 60 s")
                chunk = os.read(stdout.fileno(), 4096)
                if not chunk:
                    self.process.wait(10)
                    error = self.process.stderr.read().decode() if self.process.stderr else ""
                    raise AssertionError(f"the sandbox exited ({self.process.returncode}): {error}")
                line += chunk
        return json.loads(line)

    def _wait_serving(self) -> None:
        deadline = time.monotonic() + 60
        while True:
            try:
                if requests.get(f"{self.base_url}/_sandbox/stats", timeout=5).ok:
                    return
            except requests.ConnectionError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("the sandbox printed its address but does not answer")

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def dump(self) -> dict[str, Any]:
        return requests.get(f"{self.base_url}/_sandbox/board", timeout=30).json()

    def stats(self) -> dict[str, Any]:
        return requests.get(f"{self.base_url}/_sandbox/stats", timeout=30).json()

    def set_faults(self, **config: Any) -> None:
        answer = requests.post(f"{self.base_url}/_sandbox/faults", json=config, timeout=30)
        assert answer.ok, answer.text

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
        self.process.wait(30)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                stream.close()


# ---------------------------------------------------------------------- where a kill lands
def _is_mutation(body: bytes) -> bool:
    try:
        return json.loads(body).get("query", "").lstrip().startswith("mutation")
    except (ValueError, AttributeError):
        return False


class KillSwitch:
    """Wraps the sandbox's request handler to time a kill against the requests it sees.

    With `nth` set, the nth mutation request (carrying `field`, if given) is the kill
    point: mode "executed" runs it and holds the answer back; "never" holds it and drops it
    unrun; "late" holds it and runs it only once the process is dead (a request still in
    the network when its sender died).
    Without `nth`, it only notes the first request, from which a timed kill counts.
    """

    def __init__(
        self, server: SandboxServer, nth: int | None = None, mode: str = "", field: str = ""
    ) -> None:
        self.server, self.nth, self.mode, self.field = server, nth, mode, field
        self.original = server.app.handle_graphql
        self.mutations = 0
        self.lock = threading.Lock()
        self.first = threading.Event()
        self.hit = threading.Event()
        self.killed = threading.Event()
        self.finished = threading.Event()
        server.app.handle_graphql = self

    def remove(self) -> None:
        self.server.app.handle_graphql = self.original
        self.killed.set()

    def __call__(self, headers, body, ip):  # type: ignore[no-untyped-def]
        self.first.set()
        target = False
        if self.nth is not None and _is_mutation(body) and f"{self.field}(".encode() in body:
            with self.lock:
                self.mutations += 1
                target = self.mutations == self.nth and not self.hit.is_set()
        if not target:
            return self.original(headers, body, ip)
        try:
            if self.mode == "executed":
                response = self.original(headers, body, ip)
                self.hit.set()
                self.killed.wait(30)
                return response  # to a dead client
            self.hit.set()
            self.killed.wait(30)
            if self.mode == "late":
                return self.original(headers, body, ip)
            return Response(0, drop=True)
        finally:
            self.finished.set()


def wait_for(event: threading.Event, proc: CliProcess, timeout: float = 60) -> bool:
    """Wait until `event` is set or the process ended; True when the event was set."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if event.wait(0.02):
            return True
        if proc.process.poll() is not None:
            return event.is_set()
    raise AssertionError(f"{proc.args} neither reached the kill point nor ended")


# ---------------------------------------------------------------------- a race, made to happen
class Barrier:
    """Processes started with ORDERS_SYNC_TEST_BARRIER block at a chosen statement until
    `parties` of them are there; then all go on at once."""

    def __init__(self, parties: int) -> None:
        self.parties = parties
        self.sock = socket.create_server(("127.0.0.1", 0))
        self.sock.settimeout(90)
        self.port = self.sock.getsockname()[1]
        self.arrived: list[int] = []
        self.thread = threading.Thread(target=self._serve, daemon=True)
        self.thread.start()

    def _serve(self) -> None:
        waiting = []
        try:
            while len(waiting) < self.parties:
                conn, _ = self.sock.accept()
                self.arrived.append(int(conn.recv(32).decode().strip() or 0))
                waiting.append(conn)
        except OSError:
            pass
        finally:
            for conn in waiting:
                try:
                    conn.sendall(b"go")
                finally:
                    conn.close()
            self.sock.close()

    def env(self, sql: str) -> dict[str, str]:
        return {"ORDERS_SYNC_TEST_BARRIER": str(self.port), "ORDERS_SYNC_TEST_BARRIER_SQL": sql}

    def close(self) -> None:
        self.thread.join(timeout=120)


# ---------------------------------------------------------------------- what the board shows
def board_text(kind: str, value: str | None) -> str | None:
    """What monday shows in `text` for a canonical value pushed to a column of this kind."""
    if value is None or value == "":
        return None if kind in ("status", "dropdown") else ""
    if kind == "date":
        day, _, clock = value.partition("T")
        return f"{day} {clock[:5]}" if clock else day
    if kind == "long_text":
        return long_text_shown(value)
    return value


def _units(text: str) -> int:
    return len(text.encode("utf-16-le", "surrogatepass")) // 2


def long_text_shown(text: str, limit: int = 2_000) -> str:
    """A long text as the board holds it: whole when it fits monday's 2,000 characters
    (UTF-16 units; developer.monday.com/api-reference/docs/long-text), else its start (no
    half pair, no trailing space) and " … [cut: N characters]", within the limit."""
    if _units(text) <= limit:
        return text
    marker = f" … [cut: {_units(text):,} characters]"
    room = 2 * (limit - _units(marker))
    return text.encode("utf-16-le")[:room].decode("utf-16-le", "ignore").rstrip() + marker


def expected_texts(mapping: BoardMapping, record: Record) -> dict[str, str | None]:
    out = {
        m.column.column_id: board_text(m.column.type, record.fields.get(m.source))
        for m in mapping.columns
    }
    out[mapping.record_uuid_column.column_id] = record.record_uuid
    out[mapping.order_qty_column.column_id] = str(sum(record.sizes.values()))
    return out


def duplicates_on(dump: dict[str, Any]) -> list[str]:
    """Every item or subitem that exists once too often, described."""
    found = []
    groups = Counter(g["title"] for g in dump["board"]["groups"] if not g.get("deleted"))
    found += [f"group {t!r}: {n} groups" for t, n in groups.items() if n > 1]
    items = active(dump["items"])
    for uid, n in Counter(texts(i)[UUID_COLUMN] for i in items).items():
        if n > 1:
            found += [f"order {uid}: {n} items"] * (n - 1)
    for item in items:
        for name, n in Counter(s["name"] for s in active(item["subitems"])).items():
            if n > 1:
                found += [f"item {item['id']}: subitem {name!r} {n} times"] * (n - 1)
    return found


# ---------------------------------------------------------------------- the audit
@dataclass
class Audit:
    synced: int = 0
    pending: int = 0  # visibly not synced: NEW/CHANGED/DELETED again, or open and not pushed
    duplicates: list[str] = field(default_factory=list)
    lost: list[str] = field(default_factory=list)
    store: list[str] = field(default_factory=list)  # half-written or self-contradicting

    def record(self) -> None:
        FIGURES.duplicates += len(self.duplicates)
        FIGURES.rows_lost += len(self.lost)

    def assert_clean(self, context: str = "") -> None:
        problems = self.duplicates + self.lost + self.store
        assert not problems, f"{context}: " + "; ".join(problems[:20])


def source_uuids(ctx: Context, customer: str) -> set[str]:
    info = ctx.store.source()
    with ctx.store.engine.connect() as conn:
        spellings = ctx.customers.spellings_of(customer, customer_spellings(conn, info))
        col = info.table.c["CUSTOMER NAME"]
        rows = conn.execute(select(info.table.c.record_uuid).where(col.in_(spellings)))
        return {str(u) for u in rows.scalars()}


def _open_unpushed(ctx: Context) -> dict[str, str]:
    """{uuid: status} of rows an open batch still has to push (pending, failed, in flight)."""
    with ctx.store.engine.connect() as conn:
        rows = conn.execute(
            select(staged_rows.c.source_uuid, staged_rows.c.stg_status)
            .join(batches, batches.c.batch_id == staged_rows.c.stg_batch_id)
            .where(
                batches.c.status.in_([s.value for s in OPEN_BATCH_STATUSES]),
                staged_rows.c.stg_status.in_(["PENDING", "FAILED", "SENDING"]),
            )
        )
        return {str(u): status for u, status in rows}


def audit(ctx: Context, dump: dict[str, Any], customer: str = CUSTOMER) -> Audit:
    """Every source row of the customer synced with the right values, or visibly pending;
    no monday object twice; no item the store has lost track of; the store consistent."""
    out = Audit(duplicates=duplicates_on(dump), store=store_problems(ctx))
    mapping = ctx.mapping
    found = detection.preview(ctx, customer)
    unpushed = _open_unpushed(ctx)
    visible = {c.record_uuid for c in found.changes} | set(unpushed)
    visible |= {e.record_uuid for e in found.errors if e.record_uuid}
    in_source = source_uuids(ctx, customer)
    with ctx.store.engine.connect() as conn:
        state = {s.record.record_uuid: s for s in load_state(conn)}
        # The labelled items of deleted orders (tombstones): known, and taken up again by
        # the order's next push if it comes back.
        kept = {
            s.record.record_uuid: s.kept_item_id
            for s in load_state(conn, tombstones=True)
            if s.kept_item_id
        }
    items = {i["id"]: i for i in active(dump["items"])}
    for uid in sorted(in_source):
        if uid in visible or not _is_uuid(uid):  # (a malformed uuid is an invalid row)
            out.pending += 1
            continue
        row = state.get(uid)
        item = items.get((row.monday_item_id or "") if row else "")
        if row is None or item is None:
            out.lost.append(f"order {uid}: counted synced, but no live item holds it")
            continue
        wrong = _item_differences(mapping, row.record, item, row.subitem_ids)
        if wrong:
            out.lost.append(f"order {uid} (item {item['id']}): the board differs: {wrong}")
        else:
            out.synced += 1
    for item in items.values():
        uid = texts(item)[UUID_COLUMN] or ""
        if uid in in_source:
            # An item the store does not know, for an order it will push again, is a
            # duplicate waiting to happen (unless an open batch still has it in flight:
            # its next push looks it up before creating anything).
            known = uid in state or kept.get(uid) == item["id"]
            if not known and unpushed.get(uid) != "SENDING":
                out.duplicates.append(f"order {uid}: item {item['id']} unknown to the store")
        elif (
            uid not in state
            and texts(item).get("status_sync") != CANCELLED
            and _customer_of(item, dump) == customer
        ):
            out.lost.append(f"deleted order {uid}: item {item['id']} still looks current")
    return out


def _is_uuid(text: str) -> bool:
    try:
        return str(uuid.UUID(text)) == text
    except ValueError:
        return False


def _customer_of(item: dict[str, Any], dump: dict[str, Any]) -> str | None:
    groups = {g["id"]: g["title"] for g in dump["board"]["groups"]}
    return groups.get(item["group_id"])


def _item_differences(
    mapping: BoardMapping, record: Record, item: dict[str, Any], subitem_ids: dict[str, str]
) -> list[str]:
    wrong = []
    values = texts(item)
    for column_id, want in expected_texts(mapping, record).items():
        if values.get(column_id) != want:
            wrong.append(f"{column_id}={values.get(column_id)!r}, not {want!r}")
    name = item_name(mapping, record.fields, record.fields.get("AAG ORDER NUMBER"))
    if item["name"] != name:
        wrong.append(f"name {item['name']!r}, not {name!r}")
    subs = {s["id"]: s for s in active(item["subitems"])}
    if set(subitem_ids) != set(record.sizes):
        wrong.append(f"subitem sizes {sorted(subitem_ids)}, not {sorted(record.sizes)}")
    for size, sub_id in subitem_ids.items():
        sub = subs.get(sub_id)
        if sub is None or sub["name"] != size:
            wrong.append(f"subitem {size} ({sub_id}) is not live")
        elif texts(sub)["numeric_order_qty"] != str(record.sizes.get(size)):
            wrong.append(f"subitem {size}: qty {texts(sub)['numeric_order_qty']}")
    if len(subs) != len(subitem_ids):
        wrong.append(f"{len(subs)} live subitems, the store knows {len(subitem_ids)}")
    return wrong


def store_problems(ctx: Context) -> list[str]:
    """A half-written or self-contradicting store: batch counts against their rows, locks
    against open batches, and (SQLite) the file's own integrity check."""
    problems = []
    with ctx.store.engine.connect() as conn:
        if ctx.store.dialect == "sqlite":
            check = conn.exec_driver_sql("PRAGMA integrity_check").scalar()
            if check != "ok":
                problems.append(f"integrity_check: {check}")
            if conn.exec_driver_sql("PRAGMA foreign_key_check").first() is not None:
                problems.append("foreign_key_check found orphaned rows")
        rows = dict(
            conn.execute(
                select(staged_rows.c.stg_batch_id, func.count()).group_by(
                    staged_rows.c.stg_batch_id
                )
            ).all()
        )
        subs = dict(
            conn.execute(
                select(staged_subitems.c.stg_batch_id, func.count()).group_by(
                    staged_subitems.c.stg_batch_id
                )
            ).all()
        )
        locks = dict(
            conn.execute(select(customer_locks.c.batch_id, customer_locks.c.customer)).all()
        )
        for b in conn.execute(select(batches)):
            gone = b.status == BatchStatus.ROLLED_BACK
            want_rows, want_subs = (0, 0) if gone else (b.item_count, b.subitem_count)
            if (rows.get(b.batch_id, 0), subs.get(b.batch_id, 0)) != (want_rows, want_subs):
                problems.append(
                    f"batch {b.batch_id} ({b.status}) says {want_rows} rows and {want_subs} "
                    f"subitems, the tables hold {rows.get(b.batch_id, 0)} and "
                    f"{subs.get(b.batch_id, 0)}"
                )
            is_open = b.status in {s.value for s in OPEN_BATCH_STATUSES}
            if is_open != (b.batch_id in locks):
                problems.append(
                    f"batch {b.batch_id} is {b.status} but its customer lock is "
                    f"{'held' if b.batch_id in locks else 'free'}"
                )
    return problems


def batch_truth(ctx: Context, batch_id: int) -> list[str]:
    """Does the batch's status say what its rows say?"""
    with ctx.store.engine.connect() as conn:
        batch = get_batch(conn, batch_id)
        row_states = Counter(
            conn.execute(
                select(staged_rows.c.stg_status).where(staged_rows.c.stg_batch_id == batch_id)
            ).scalars()
        )
        sub_states = Counter(
            conn.execute(
                select(staged_subitems.c.stg_status).where(
                    staged_subitems.c.stg_batch_id == batch_id
                )
            ).scalars()
        )
    problems = []
    every = set(row_states) | set(sub_states)
    if batch.status == BatchStatus.STAGED and every - {"PENDING"}:
        problems.append(f"batch {batch_id} is STAGED, yet its rows are {dict(row_states)}")
    if batch.status == BatchStatus.PUSHED and every - {"PUSHED"}:
        problems.append(f"batch {batch_id} is PUSHED, yet its rows are {dict(row_states)}")
    if batch.status == BatchStatus.PUSHED and batch.succeeded_count != batch.item_count:
        problems.append(f"batch {batch_id} PUSHED {batch.succeeded_count}/{batch.item_count}")
    if batch.status == BatchStatus.UNDONE and every & {"PUSHED", "SENDING"}:
        # (rows that never reached monday.com, PENDING or FAILED, had nothing to undo)
        problems.append(f"batch {batch_id} is UNDONE, yet its rows are {dict(row_states)}")
    return problems


def token_leaks(paths: Iterable[Path], texts_seen: Iterable[str] = ()) -> list[str]:
    """Where the API token shows up: files (any bytes) and texts."""
    leaks = [t[:80] for t in texts_seen if TOKEN in t]
    for path in paths:
        if path.is_file() and TOKEN.encode() in path.read_bytes():
            leaks.append(str(path))
    return leaks


def files_under(*roots: Path) -> list[Path]:
    return [p for root in roots if root.exists() for p in root.rglob("*") if p.is_file()]
