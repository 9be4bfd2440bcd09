"""HTTP plumbing: a loopback-only ThreadingHTTPServer in front of `SandboxApp`.

Endpoints:
- `POST /v2`: the GraphQL API (token required), as monday's `https://api.monday.com/v2`;
- `GET /_sandbox/stats`: counters, limits and fault settings (JSON);
- `GET /_sandbox/board`: every item of both boards with its column values (JSON);
- `POST /_sandbox/faults`: replace the fault settings (a FaultConfig as JSON; `{}` = off);
- `POST /_sandbox/reset`: empty the boards and the idempotency cache; `{"limits": true}`
  also resets rate-limit windows and counters.
The `/_sandbox/` endpoints need no token. HTTP/1.1 with keep-alive, like monday.

A client that hangs up mid-request or mid-answer (killed, or past its own timeout) is
normal for a server: it is logged at debug level, never a traceback on stderr.
"""

from __future__ import annotations

import ipaddress
import json
import logging
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit

from requests.structures import CaseInsensitiveDict

from .app import Response, SandboxApp, json_response
from .config import FaultConfig, SandboxConfig

log = logging.getLogger(__name__)
MAX_BODY_BYTES = 10 * 1024 * 1024


def loopback_host(host: str) -> str:
    """The address to bind, or ValueError: the sandbox never listens beyond this machine."""
    if host == "localhost":
        return "127.0.0.1"
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        raise ValueError(
            f"Sandbox host must be a loopback address such as 127.0.0.1, not {host!r}"
        ) from None
    if not address.is_loopback:
        raise ValueError(
            f"Sandbox refuses to bind {host}: it serves 127.0.0.1 / ::1 only, "
            "so a stand-in for monday.com is never reachable from another machine"
        )
    return host


# What a socket raises when the client has gone: a write after its reset or close
# (BrokenPipeError, ConnectionResetError) or a read cut short by its reset.
CLIENT_GONE = (BrokenPipeError, ConnectionResetError, ConnectionAbortedError)


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    allow_reuse_address = True
    app: SandboxApp

    def server_activate(self) -> None:
        self._connections: set[socket.socket] = set()
        self._connections_lock = threading.Lock()
        self.stopping = threading.Event()  # ends a trickled answer at once
        super().server_activate()

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._connections_lock:
            self._connections.add(request)
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._connections_lock:
            self._connections.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        error = sys.exc_info()[1]
        if isinstance(error, CLIENT_GONE):
            log.debug("client %s hung up mid-request: %r", client_address[0], error)
            return
        super().handle_error(request, client_address)  # a real fault: its traceback

    def close_connections(self) -> None:
        """End kept-alive connections too, so a stopped sandbox answers nobody."""
        with self._connections_lock:
            for connection in self._connections:
                with suppress(OSError):
                    connection.shutdown(socket.SHUT_RDWR)


class _Server6(_Server):
    address_family = socket.AF_INET6


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    # Headers and body leave as two writes: with Nagle's algorithm each response waited
    # ~40 ms for a delayed ACK (bench_push.py measured 45 ms against 2.3 ms per request).
    disable_nagle_algorithm = True
    timeout = 300  # idle keep-alive connections end after 5 minutes
    server: _Server

    def version_string(self) -> str:
        return "monday-sandbox"

    def log_message(self, format: str, *args: Any) -> None:
        log.debug("%s " + format, self.address_string(), *args)

    def _body(self) -> bytes | None:
        length = int(self.headers.get("Content-Length") or 0)
        if length > MAX_BODY_BYTES:
            self._send(json_response(413, {"errors": [{"message": "Request too large"}]}))
            return None
        return self.rfile.read(length) if length else b""

    def _send(self, response: Response) -> None:
        if response.drop:
            # Close without a byte of answer: the client cannot tell whether it ran.
            self.close_connection = True
            with suppress(OSError):
                self.connection.shutdown(socket.SHUT_RDWR)
            return
        if response.trickle is not None:
            self._trickle(response, response.trickle)
            return
        self.send_response(response.status)
        for name, value in response.headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        self.wfile.write(response.body)

    def _trickle(self, response: Response, seconds: float) -> None:
        """The whole answer, status line to body, one byte every `seconds`, until it is
        all sent, the client hangs up, or the sandbox stops."""
        self.close_connection = True
        reason = self.responses.get(response.status, ("",))[0]
        lines = [f"HTTP/1.1 {response.status} {reason}", f"Server: {self.version_string()}"]
        lines += [f"{name}: {value}" for name, value in response.headers.items()]
        lines += [f"Content-Length: {len(response.body)}", "Connection: close", "", ""]
        raw = "\r\n".join(lines).encode("latin-1") + response.body
        for i in range(len(raw)):
            if self.server.stopping.wait(seconds if i else 0):
                return
            self.wfile.write(raw[i : i + 1])  # a client gone: CLIENT_GONE, logged at debug

    def _path(self) -> str:
        return urlsplit(self.path).path.rstrip("/") or "/"

    def do_POST(self) -> None:
        body = self._body()
        if body is None:
            return
        app = self.server.app
        path = self._path()
        if path == "/v2":
            # A mapping, still case-insensitive as HTTP header names are.
            headers = CaseInsensitiveDict(self.headers.items())
            response = app.handle_graphql(headers, body, self.client_address[0])
        elif path == "/_sandbox/faults":
            response = self._set_faults(body)
        elif path == "/_sandbox/reset":
            try:
                options = _json_object(body)
            except ValueError as exc:
                response = json_response(400, {"errors": [{"message": str(exc)}]})
            else:
                app.reset(limits=bool(options.get("limits")))
                response = json_response(200, {"ok": True})
        else:
            response = json_response(404, {"errors": [{"message": f"No route {path}"}]})
        self._send(response)

    def do_GET(self) -> None:
        app = self.server.app
        path = self._path()
        if path == "/_sandbox/stats":
            response = json_response(200, app.stats_json())
        elif path == "/_sandbox/board":
            response = json_response(200, app.state.dump())
        elif path == "/v2":
            response = json_response(405, {"errors": [{"message": "Use POST for /v2"}]})
        else:
            response = json_response(404, {"errors": [{"message": f"No route {path}"}]})
        self._send(response)

    def _set_faults(self, body: bytes) -> Response:
        try:
            config = FaultConfig.from_json(_json_object(body))
        except (TypeError, ValueError) as exc:
            return json_response(400, {"errors": [{"message": str(exc)}]})
        self.server.app.faults.configure(config)
        return json_response(200, {"faults": config.to_json()})


def _json_object(body: bytes) -> dict[str, Any]:
    if not body.strip():
        return {}
    data = json.loads(body)
    if not isinstance(data, dict):
        raise ValueError("expected a JSON object")
    return data


class SandboxServer:
    """The sandbox on 127.0.0.1: `start()` serves in a daemon thread, `stop()` ends it.

    >>> with SandboxServer(SandboxConfig()) as sandbox:  # doctest: +SKIP
    ...     requests.post(sandbox.url, json={"query": "{ complexity { after } }"},
    ...                   headers={"Authorization": sandbox.config.token})
    """

    def __init__(self, config: SandboxConfig | None = None) -> None:
        self.config = config or SandboxConfig()
        self._host = loopback_host(self.config.host)
        self.app = SandboxApp(self.config)
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # ------------------------------------------------------------------ lifecycle
    def start(self) -> SandboxServer:
        if self._httpd is not None:
            raise RuntimeError("sandbox already started")
        server_class = _Server6 if ":" in self._host else _Server
        httpd = server_class((self._host, self.config.port), _Handler)
        httpd.app = self.app
        self._httpd = httpd
        # The socket listens once the constructor returns, so the URL answers right away.
        # A short poll interval keeps stop() quick (shutdown waits for the next poll).
        self._thread = threading.Thread(
            target=httpd.serve_forever, args=(0.05,), name="monday-sandbox", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        httpd, self._httpd = self._httpd, None
        if httpd is None:
            return
        self.app.gate.set_open(True)  # let held requests finish
        httpd.stopping.set()
        httpd.shutdown()
        httpd.server_close()
        httpd.close_connections()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._thread = None
        self.app.state.close()  # compacts the journal into the snapshot

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # ------------------------------------------------------------------ addresses
    @property
    def port(self) -> int:
        if self._httpd is None:
            raise RuntimeError("sandbox not started")
        return int(self._httpd.server_address[1])

    @property
    def base_url(self) -> str:
        host = f"[{self._host}]" if ":" in self._host else self._host
        return f"http://{host}:{self.port}"

    @property
    def url(self) -> str:
        return f"{self.base_url}/v2"

    @property
    def board_id(self) -> str:
        return str(self.config.board_id)

    @property
    def subitems_board_id(self) -> str:
        return str(self.config.resolved_subitems_board_id)

    # ------------------------------------------------------------------ in-process control
    def set_faults(self, faults: FaultConfig) -> None:
        self.app.faults.configure(faults)

    def stats(self) -> dict[str, Any]:
        return self.app.stats_json()

    def dump(self) -> dict[str, Any]:
        return self.app.state.dump()

    def reset(self, limits: bool = False) -> None:
        self.app.reset(limits=limits)

    @contextmanager
    def hold(self, *, mutations_only: bool = False) -> Iterator[None]:
        """Requests entering meanwhile wait just before they execute (holding a concurrency
        slot and their idempotency key) until the block ends; with `mutations_only`, queries
        still run (a client may read the board while its mutation is in flight)."""
        self.app.gate.set_open(False, mutations_only=mutations_only)
        try:
            yield
        finally:
            self.app.gate.set_open(True)

    def wait_held(self, count: int, timeout: float = 5.0) -> bool:
        """Wait until `count` requests are held by `hold()`; False on timeout."""
        return self.app.gate.wait_waiting(count, timeout)
