"""`orders-sync run --notify`: a run that needs attention tells a Teams or Slack webhook (a
real HTTP server on 127.0.0.1) or a mailbox (a small real SMTP server on 127.0.0.1); a
notification that fails is logged and leaves the exit code alone; the webhook's URL lives in
the keyring only."""

from __future__ import annotations

import io
import json
import logging
import socketserver
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from email import message_from_bytes
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from orders_sync_gui.cli import main
from orders_sync_gui.services.notify import WEBHOOK_KEY


class Webhook:
    """An incoming webhook on 127.0.0.1 that keeps what it is sent."""

    def __init__(self, status: int = 200) -> None:
        self.bodies: list[dict[str, Any]] = []
        self.paths: list[str] = []
        hook = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                hook.bodies.append(json.loads(self.rfile.read(length)))
                hook.paths.append(self.path)
                self.send_response(status)
                self.send_header("Content-Length", "0")
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}/webhookb2/SECRET-PART-7f31"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()


class Mailbox(socketserver.ThreadingTCPServer):
    """Just enough SMTP (RFC 5321) on 127.0.0.1 to take a message: EHLO, MAIL, RCPT, DATA."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], bytes]] = []
        super().__init__(("127.0.0.1", 0), _SmtpSession)
        threading.Thread(target=self.serve_forever, daemon=True).start()

    @property
    def port(self) -> int:
        return self.server_address[1]

    def stop(self) -> None:
        self.shutdown()
        self.server_close()


class _SmtpSession(socketserver.StreamRequestHandler):
    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")

    def handle(self) -> None:
        sender, recipients = "", []
        self.reply("220 127.0.0.1 test mailbox")
        while line := self.rfile.readline():
            verb = line.decode().strip().split(" ", 1)[0].upper()
            if verb in ("EHLO", "HELO"):
                self.reply("250 127.0.0.1")
            elif verb == "MAIL":
                sender = line.decode().split(":", 1)[1].strip()
                self.reply("250 OK")
            elif verb == "RCPT":
                recipients.append(line.decode().split(":", 1)[1].strip())
                self.reply("250 OK")
            elif verb == "DATA":
                self.reply("354 end with <CRLF>.<CRLF>")
                data = io.BytesIO()
                while (chunk := self.rfile.readline()) not in (b".\r\n", b""):
                    data.write(chunk)
                assert isinstance(self.server, Mailbox)
                self.server.messages.append((sender, recipients, data.getvalue()))
                self.reply("250 OK")
            elif verb == "QUIT":
                self.reply("221 bye")
                return
            else:
                self.reply("250 OK")


@contextmanager
def serving(thing: Any) -> Iterator[Any]:
    try:
        yield thing
    finally:
        thing.stop()


def settings(home: Path, notify: dict[str, Any]) -> None:
    (home / "config").mkdir(parents=True, exist_ok=True)
    (home / "config" / "settings.json").write_text(json.dumps({"notify": notify}), "utf-8")


def refused_run(capsys, db: str, *extra: str) -> int:
    """A run whose customers are all over --max-changes 0: REFUSED, nothing sent to monday."""
    capsys.readouterr()
    code = main(
        ["--db", db, "run", "--customer", "GREYSON", "--max-changes", "0", "--json", *extra]
    )
    capsys.readouterr()
    return code


def test_a_refused_run_tells_the_teams_webhook(capsys, db, isolated_home, memory_keyring):
    with serving(Webhook()) as hook:
        memory_keyring.set_password("orders-sync", WEBHOOK_KEY, hook.url)
        settings(isolated_home, {"webhook": "teams"})
        assert refused_run(capsys, db, "--notify") == 1
    [body] = hook.bodies
    assert body["type"] == "message"
    card = body["attachments"][0]["content"]
    text = " ".join(block["text"] for block in card["body"])
    assert "1 of 1 customer(s) need attention" in text
    assert "GREYSON: REFUSED" in text and "--max-changes 0" in text
    assert hook.paths == ["/webhookb2/SECRET-PART-7f31"]
    # The URL is the keyring's alone: no file of the app's holds it.
    for path in isolated_home.rglob("*"):
        if path.is_file():
            assert b"SECRET-PART-7f31" not in path.read_bytes(), path


def test_a_slack_webhook_gets_text(capsys, db, isolated_home, memory_keyring):
    with serving(Webhook()) as hook:
        memory_keyring.set_password("orders-sync", WEBHOOK_KEY, hook.url)
        settings(isolated_home, {"webhook": "slack"})
        assert refused_run(capsys, db, "--notify") == 1
    [body] = hook.bodies
    assert set(body) == {"text"} and "GREYSON: REFUSED" in body["text"]


def test_a_failed_notification_is_logged_and_the_exit_code_stays(
    capsys, db, isolated_home, memory_keyring, caplog
):
    with serving(Webhook(status=500)) as hook:
        memory_keyring.set_password("orders-sync", WEBHOOK_KEY, hook.url)
        settings(isolated_home, {"webhook": "teams"})
        with caplog.at_level(logging.INFO, logger="orders_sync_gui"):
            assert refused_run(capsys, db, "--notify") == 1
    assert len(hook.bodies) == 1
    failures = [r for r in caplog.records if "notification by webhook failed" in r.getMessage()]
    assert failures and "HTTP 500" in failures[0].getMessage()
    assert all("SECRET-PART-7f31" not in r.getMessage() for r in caplog.records)


def test_nobody_listening_does_not_change_the_exit_code(capsys, db, isolated_home, memory_keyring):
    memory_keyring.set_password("orders-sync", WEBHOOK_KEY, "http://127.0.0.1:9/hook")
    assert refused_run(capsys, db, "--notify") == 1


def test_a_refused_run_is_mailed(capsys, db, isolated_home):
    with serving(Mailbox()) as mailbox:
        smtp = {
            "host": "127.0.0.1",
            "port": mailbox.port,
            "sender": "orders-sync@example.com",
            "to": ["ops@example.com"],
        }
        settings(isolated_home, {"smtp": smtp})
        assert refused_run(capsys, db, "--notify") == 1
    [(sender, recipients, data)] = mailbox.messages
    assert "orders-sync@example.com" in sender and recipients == ["<ops@example.com>"]
    mail = message_from_bytes(data)
    assert "need attention" in mail["Subject"]
    assert "GREYSON: REFUSED" in mail.get_payload()


def test_a_run_that_ends_fine_tells_nobody(capsys, db, isolated_home, memory_keyring):
    with serving(Webhook()) as hook:
        memory_keyring.set_password("orders-sync", WEBHOOK_KEY, hook.url)
        capsys.readouterr()
        code = main(["--db", db, "run", "--all", "--dry-run", "--json", "--notify"])
        assert code == 0
    assert hook.bodies == []


def test_the_webhook_url_goes_to_the_keyring_from_stdin(
    capsys, isolated_home, memory_keyring, monkeypatch
):
    monkeypatch.setattr(sys, "stdin", io.StringIO("https://example.invalid/hook/abc\n"))
    assert main(["notify", "--set-webhook", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"webhook": True}
    assert memory_keyring.get_password("orders-sync", WEBHOOK_KEY).endswith("/hook/abc")
    assert main(["notify", "--clear-webhook", "--json"]) == 0
    assert json.loads(capsys.readouterr().out) == {"webhook": False}


@pytest.fixture(autouse=True)
def _no_monday(monkeypatch):
    """These runs never reach monday.com: no URL or token in the environment."""
    for key in ("ORDERS_SYNC_MONDAY_URL", "MONDAY_API_TOKEN", "ORDERS_SYNC_BOARD_ID"):
        monkeypatch.delenv(key, raising=False)
