"""Secrets and boundaries: the API token stays in the keyring and the process environment;
SQL metacharacters in what operators type are just text; the sandbox listens on loopback
only; TLS certificates are always verified.
"""

from __future__ import annotations

import datetime as dt
import http.server
import ipaddress
import json
import logging
import re
import ssl
import subprocess
import sys
import threading
import traceback
from pathlib import Path

import pytest
from relkit import (
    CUSTOMER,
    REPO,
    CliProcess,
    KillSwitch,
    cli_env,
    files_under,
    token_leaks,
    wait_for,
    write_cli_settings,
)
from sqlalchemy import inspect, select, text, update

from orders_sync_gui.cli import main
from orders_sync_gui.monday.board import fetch_board
from orders_sync_gui.monday.client import ClientSettings, MondayClient, MondayError
from orders_sync_gui.monday.sandbox import FaultConfig, SandboxConfig, SandboxServer, loopback_host
from orders_sync_gui.resources import resource_path
from orders_sync_gui.secrets import monday_token_key, set_secret
from orders_sync_gui.services import staging
from orders_sync_gui.services.context import open_context
from orders_sync_gui.services.monday_setup import monday_setup
from orders_sync_gui.services.push import PushStopped, push
from orders_sync_gui.services.undo import undo
from orders_sync_gui.settings import SettingsError, save_settings
from orders_sync_gui.store.schema import (
    batches,
    customer_locks,
    staged_rows,
    staged_subitems,
    sync_state,
)
from tests.monday.pushkit import TOKEN, make_demo_db, quick_setup

PACKAGE = REPO / "orders_sync_gui"


# ---------------------------------------------------------------------- the token
@pytest.fixture
def gui_logging():  # type: ignore[no-untyped-def]
    """The desktop app's logging (its log file and the log pane's handler), as it starts."""
    pytest.importorskip("PySide6")
    from orders_sync_gui.qt.app import setup_logging

    root = logging.getLogger()
    level, handlers = root.level, list(root.handlers)
    urllib3_level = logging.getLogger("urllib3").level
    pane, path = setup_logging()
    lines: list[str] = []
    pane.bridge.record.connect(lambda _level, line: lines.append(line))
    yield lines, path
    for handler in root.handlers[:]:
        if handler not in handlers:
            root.removeHandler(handler)
            handler.close()
    root.setLevel(level)
    logging.getLogger("urllib3").setLevel(urllib3_level)


def test_the_token_is_in_no_log_record_pane_line_exception_payload_or_file(
    db, ctx, make_sandbox, isolated_home, tmp_path, gui_logging, caplog
):
    pane_lines, log_file = gui_logging
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="urllib3")
    server = make_sandbox(
        faults=FaultConfig(
            rate=0.3, seed=3, kinds=("error_500", "drop_after_execute", "drop_before_execute")
        )
    )
    seen: list[str] = []
    # As the GUI keeps it: settings.json without the token, the token in the keyring.
    save_settings({"monday": {"url": server.url, "board_id": server.board_id}})
    set_secret(monday_token_key(server.url), TOKEN)
    setup = monday_setup(ctx)
    assert setup.token == TOKEN
    seen += [repr(setup), str(setup), repr(setup.client()), repr(setup.client().settings)]

    # A push through faults (warnings, retries, replays), then its undo.
    batch = staging.stage(ctx, CUSTOMER, limit=8).batch_id
    report = push(ctx, batch, quick_setup(ctx, server))
    seen += [repr(report), json.dumps(report.to_dict())]
    seen.append(repr(undo(ctx, batch, quick_setup(ctx, server))))

    # monday refusing: another account's token, a push stopped by it, a raw request.
    refused = quick_setup(ctx, make_sandbox(token="another-account"))
    second = staging.stage(ctx, CUSTOMER, limit=3).batch_id
    with pytest.raises(PushStopped) as stopped:
        push(ctx, second, refused)
    seen += ["".join(traceback.format_exception(stopped.value)), repr(stopped.value)]
    with pytest.raises(MondayError) as error:
        refused.client().execute("query { complexity { after } }")
    seen.append("".join(traceback.format_exception(error.value)))

    # The CLI, verbose, in a process of its own: once to the end, once killed mid-push.
    home = tmp_path / "cli-home"
    write_cli_settings(home)
    server.set_faults(FaultConfig())
    env = cli_env(db, server, home)
    done = CliProcess(["-v", "push", "--batch", str(second), "--json"], env, tmp_path / "runs")
    assert done.wait() == 0, done.stderr
    third = staging.stage(ctx, CUSTOMER, limit=6).batch_id
    switch = KillSwitch(server, 2, "executed")
    killed = CliProcess(["-v", "push", "--batch", str(third)], env, tmp_path / "runs")
    if wait_for(switch.hit, killed):
        killed.kill()
    switch.remove()
    killed.wait()
    seen += [done.stdout, done.stderr, killed.stdout, killed.stderr]

    # Every log record (message, arguments, exception), every line of the log pane, every
    # row the store holds (staging payloads included), every file the app wrote.
    for record in caplog.records:
        seen += [record.getMessage(), repr(record.args), record.exc_text or ""]
    seen += pane_lines
    with ctx.store.engine.connect() as conn:
        for table in (staged_rows, staged_subitems, batches, sync_state, customer_locks):
            seen += [repr(tuple(row)) for row in conn.execute(select(table))]
    files = files_under(isolated_home, home, tmp_path)
    assert log_file in files and log_file.stat().st_size > 0
    assert any(p.suffix == ".db" for p in files) and any(p.name == "settings.json" for p in files)
    assert pane_lines and any("retry" in r.getMessage() for r in caplog.records)
    assert token_leaks(files, seen) == []
    assert len(seen) > 200  # it looked at every record, row and output


def test_a_server_echoing_the_token_back_gets_it_into_nothing(
    db, ctx, make_sandbox, isolated_home, tmp_path, caplog
):
    """monday (or a proxy before it) answering with the request's Authorization header in
    its error text: per alias (the rows' refusals, kept in the database and logged) and for
    the whole request (the push's stop: its exception, the batch's message, the CLI's one
    line). The client scrubs every answer before reading it: the token is nowhere, and the
    words around it still are."""
    caplog.set_level(logging.DEBUG)
    caplog.set_level(logging.DEBUG, logger="urllib3")
    server = make_sandbox()
    setup = quick_setup(ctx, server)
    seen: list[str] = []

    # Per alias: every mutation of a push (its customer's group made by an earlier one)
    # refused with the echo; the rows fail alone.
    assert push(ctx, staging.stage(ctx, CUSTOMER, limit=2).batch_id, setup).status == "PUSHED"
    server.set_faults(FaultConfig(every_n=1, mutations_only=True, kinds=("echo_auth",)))
    first = staging.stage(ctx, CUSTOMER, limit=4).batch_id
    report = push(ctx, first, setup)
    assert report.failed == 4
    seen += [repr(report), json.dumps(report.to_dict())]

    # The whole request: the read of the board (every request echoes now) stops the push.
    server.set_faults(FaultConfig(every_n=1, kinds=("echo_auth_request",)))
    with pytest.raises(PushStopped) as stopped:
        push(ctx, first, quick_setup(ctx, server))
    seen += ["".join(traceback.format_exception(stopped.value)), repr(stopped.value)]
    client = setup.client()
    with pytest.raises(MondayError) as refused:
        client.execute("query { complexity { after } }")
    seen.append("".join(traceback.format_exception(refused.value)))

    # The CLI, verbose, in a process of its own: its one-line stop and its log.
    home = tmp_path / "cli-home"
    write_cli_settings(home)
    cli = CliProcess(["-v", "push", "--batch", str(first)], cli_env(db, server, home), tmp_path)
    assert cli.wait() == 1
    seen += [cli.stdout, cli.stderr]

    for record in caplog.records:
        seen += [record.getMessage(), repr(record.args), record.exc_text or ""]
    with ctx.store.engine.connect() as conn:
        for table in (staged_rows, staged_subitems, batches, sync_state, customer_locks):
            seen += [repr(tuple(row)) for row in conn.execute(select(table))]
    echoed = [t for t in seen if "Authorization: [token]" in t]
    # The echo reached the rows' errors, the database, the exception, the log and the CLI.
    assert len(echoed) >= 5 and "Authorization: [token]" in cli.stderr
    assert token_leaks(files_under(isolated_home, home, tmp_path), seen) == []
    assert server.stats()["faults"]["echo_auth"] >= 1


def test_a_token_a_header_cannot_carry_is_named_without_being_shown():
    """requests names a header's value when it refuses it (a pasted token ending in a line
    break): the client says what is wrong without it."""
    client = MondayClient(TOKEN + "\n", ClientSettings(url="http://127.0.0.1:9/v2"))
    with pytest.raises(MondayError, match="cannot carry") as refused:
        client.execute("query { complexity { after } }")
    assert TOKEN not in "".join(traceback.format_exception(refused.value))


# ---------------------------------------------------------------------- SQL is just text
INJECTIONS = [
    'Robert\'); DROP TABLE "MON_BatchProcessing";--',
    "x' OR '1'='1",
    '1; DELETE FROM "MON_SyncState" --',
    '"; DROP TABLE ORDERS_UNIFIED; --',
    "' UNION SELECT record_uuid FROM x --",
]
APP_TABLES = (
    "ORDERS_UNIFIED",
    "MON_BatchProcessing",
    "STG_MON_CustMasterSchedule",
    "STG_MON_CustMasterSchedule_Subitems",
    "MON_SyncState",
    "MON_CustomerLock",
)


def test_sql_in_customer_po_filter_and_operator_is_stored_and_read_back_verbatim(
    db_url, monkeypatch, capsys
):
    """Through the CLI's own code (in this process): each string as a customer's name and
    its order's PO in the source, as the --customer and --po an operator types, and as the
    operator's name (ORDERS_SYNC_OPERATOR)."""
    url = make_demo_db(db_url)
    ctx = open_context(url)
    try:
        table = ctx.store.source().table
        order = table.c["AAG ORDER NUMBER"]
        with ctx.store.engine.begin() as conn:
            uids = conn.execute(select(table.c.record_uuid).order_by(order).limit(5)).scalars()
            for uid, evil in zip(list(uids), INJECTIONS, strict=True):
                conn.execute(
                    update(table)
                    .where(table.c.record_uuid == uid)
                    .values({"CUSTOMER NAME": evil, "PO NUMBER": evil})
                )
        for evil in INJECTIONS:
            monkeypatch.setenv("ORDERS_SYNC_OPERATOR", evil)
            capsys.readouterr()
            assert main(["--db", url, "stage", "--customer", evil, "--po", evil, "--json"]) == 0
            assert json.loads(capsys.readouterr().out)["items"] == 1, "its one order, no more"
            [batch] = staging.history(ctx, evil)
            customer = ctx.customers.canonical(evil)
            assert (batch.customer, batch.operator, batch.filter_po) == (customer, evil, evil)
            assert main(["--db", url, "stage", "--customer", CUSTOMER, "--po", evil]) == 1
            assert f"in PO {evil}" in capsys.readouterr().err  # matched nothing, said so
            assert main(["--db", url, "batches", "--customer", evil, "--json"]) == 0
            [listed] = json.loads(capsys.readouterr().out)["batches"]
            assert (listed["operator"], listed["filter_po"]) == (evil, evil)
        names = set(inspect(ctx.store.engine).get_table_names())
        assert set(APP_TABLES) <= names, "every table is still there"
        with ctx.store.engine.connect() as conn:
            assert conn.execute(text('SELECT COUNT(*) FROM "ORDERS_UNIFIED"')).scalar() == 150
        assert len(staging.history(ctx)) == len(INJECTIONS)
    finally:
        ctx.close()


def test_sql_in_the_mapping_s_column_titles_is_just_text(ctx, make_sandbox):
    mapping = json.loads(resource_path("board_mapping.json").read_text("utf-8"))
    for column, evil in zip(mapping["columns"], INJECTIONS, strict=False):
        column["title"] = evil
    server = make_sandbox(mapping=mapping)
    board = fetch_board(quick_setup(ctx, server).client(), server.board_id)
    titles = {cid: title for cid, (title, _) in board.columns.items()}
    for column, evil in zip(mapping["columns"], INJECTIONS, strict=False):
        assert titles[column["column_id"]] == evil


# ---------------------------------------------------------------------- loopback only
@pytest.mark.parametrize(
    "host", ["0.0.0.0", "::", "192.168.1.10", "10.0.0.1", "8.8.8.8", "example.com", ""]
)
def test_the_sandbox_refuses_to_listen_beyond_loopback(host):
    with pytest.raises(ValueError, match=r"loopback|127\.0\.0\.1"):
        loopback_host(host)
    with pytest.raises(ValueError):
        SandboxServer(SandboxConfig(host=host))


def test_the_sandbox_listens_on_loopback_and_its_command_refuses_any_other_address():
    assert loopback_host("localhost") == "127.0.0.1"
    assert loopback_host("::1") == "::1" and loopback_host("127.0.0.2") == "127.0.0.2"
    with SandboxServer(SandboxConfig()) as server:
        assert server.url.startswith("http://127.0.0.1:")
    done = subprocess.run(
        [sys.executable, "-m", "orders_sync_gui.monday.sandbox", "--host", "0.0.0.0"],
        cwd=REPO,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode != 0 and done.stdout == ""  # never said it was listening
    assert "loopback" in done.stderr or "127.0.0.1" in done.stderr


# ---------------------------------------------------------------------- TLS
def test_no_setting_can_turn_certificate_verification_off(ctx, isolated_home):
    insecure = {
        "verify": False, "verify_ssl": False, "ssl_verify": False, "tls_verify": False,
        "insecure": True, "ssl": False, "ca_bundle": "", "cert": None, "trust_env": False,
        "session": {"verify": False},
    }  # fmt: skip
    # Each such key is refused, written or found in the file (settings are strict).
    for key, value in insecure.items():
        with pytest.raises(SettingsError, match=re.escape(f'"monday.{key}": unknown key')):
            save_settings({"monday": {"url": "https://api.monday.com/v2", key: value}})
    (isolated_home / "config").mkdir(parents=True, exist_ok=True)
    (isolated_home / "config" / "settings.json").write_text(
        json.dumps({"monday": {"url": "https://api.monday.com/v2", **insecure}}), "utf-8"
    )
    with pytest.raises(SettingsError, match=r'"monday\.verify": unknown key'):
        monday_setup(ctx, token=TOKEN, board_id="1")
    save_settings({"monday": {"url": "https://api.monday.com/v2"}})
    setup = monday_setup(ctx, token=TOKEN, board_id="1")
    client = setup.client()
    assert client._session.verify is True
    assert "verify" not in repr(setup.limits) and client.settings.url.startswith("https://")
    # Nowhere in the app's code is verification switched off, or its warning silenced.
    patterns = re.compile(
        r"verify\s*=\s*False|\.verify\s*=|CERT_NONE|check_hostname\s*=\s*False|"
        r"disable_warnings|InsecureRequestWarning|_create_unverified_context"
    )
    offenders = [
        f"{path.relative_to(REPO)}:{n}"
        for path in PACKAGE.rglob("*.py")
        for n, line in enumerate(path.read_text("utf-8").splitlines(), 1)
        if patterns.search(line)
    ]
    assert offenders == []


def _self_signed(tmp_path: Path) -> tuple[Path, Path]:
    x509 = pytest.importorskip("cryptography.x509")
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = tmp_path / "cert.pem", tmp_path / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def test_an_untrusted_certificate_stops_the_client_before_the_token_leaves(tmp_path):
    """An HTTPS endpoint on loopback with a self-signed certificate (a proxy intercepting
    HTTPS looks the same): the client refuses it at the handshake, so no request, and no
    token, ever reaches it; and it says so once instead of retrying."""
    cert, key = _self_signed(tmp_path)
    requests_seen: list[dict] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            requests_seen.append(dict(self.headers))
            self.send_response(200)
            self.end_headers()

        def log_message(self, *args) -> None:  # type: ignore[no-untyped-def]
            pass

    httpd = http.server.HTTPServer(("127.0.0.1", 0), Handler)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    httpd.socket = context.wrap_socket(httpd.socket, server_side=True)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    try:
        url = f"https://127.0.0.1:{httpd.server_address[1]}/v2"
        client = MondayClient(TOKEN, ClientSettings(url=url, max_attempts=3, timeout_seconds=5))
        with pytest.raises(MondayError, match="could not be verified") as refused:
            client.execute("query { complexity { after } }")
        assert client.stats.requests == 1 and client.stats.retries == 0
        assert TOKEN not in "".join(traceback.format_exception(refused.value))
    finally:
        httpd.shutdown()
        httpd.server_close()
    assert requests_seen == [], "nothing got past the handshake"
