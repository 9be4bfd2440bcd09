"""The sandbox in a child process: what demo mode starts.

In the app's own process the sandbox's request handling (GraphQL parsing, validation and
execution for 50 mutations a request) competes with the window's thread for the
interpreter: bench_gui.py measured stalls of 140-260 ms during a 1,000-order demo push,
against 35 ms with the sandbox in a process of its own, as monday.com is in production.

The child is spawned (never forked: the parent holds Qt and threads), serves on 127.0.0.1
and stops when told, or when its parent is gone (the pipe closes), so a killed app leaves no
sandbox behind; its state file is journaled, so a kill at any moment keeps what it answered.
Spawning works in the PyInstaller build once the entry point has called
`multiprocessing.freeze_support()`.
"""

from __future__ import annotations

import contextlib
import multiprocessing
from multiprocessing.connection import Connection
from typing import Any

from .config import SandboxConfig

START_TIMEOUT_SECONDS = 60.0


class SandboxStartError(RuntimeError):
    pass


def _serve(config: SandboxConfig, conn: Connection) -> None:
    """The child: serve until the parent says stop or goes away."""
    from .server import SandboxServer  # the child's import: the parent never serves

    try:
        server = SandboxServer(config).start()
    except Exception as exc:  # reported to the parent, which raises it
        conn.send(("error", f"{type(exc).__name__}: {exc}"))
        return
    conn.send(("ready", server.url, server.board_id, server.subitems_board_id))
    try:
        conn.recv()  # "stop", or EOFError when the parent died
    except (EOFError, OSError):
        pass
    finally:
        server.stop()  # compacts the state file


class SandboxProcess:
    """SandboxServer's face (url, board_id, start, stop) over a spawned child process."""

    def __init__(self, config: SandboxConfig) -> None:
        self.config = config
        self.url = ""
        self.board_id = ""
        self.subitems_board_id = ""
        context = multiprocessing.get_context("spawn")
        self._conn, child = context.Pipe()
        self._process = context.Process(
            target=_serve, args=(config, child), name="orders-sync-sandbox", daemon=True
        )
        self._child_conn = child

    @property
    def base_url(self) -> str:
        return self.url.rsplit("/v2", 1)[0]

    def launch(self) -> SandboxProcess:
        """Start the child without waiting for it (start() waits): the app launches it
        first thing, so the child boots on another core while the window is built."""
        if self._process.pid is None:
            self._process.start()
            self._child_conn.close()  # the child has its own end: EOF reaches it when we go
        return self

    def start(self) -> SandboxProcess:
        self.launch()
        if self.url:
            return self
        if not self._conn.poll(START_TIMEOUT_SECONDS):
            self._process.kill()
            raise SandboxStartError(
                f"the demo sandbox did not start within {START_TIMEOUT_SECONDS:.0f} s"
            )
        try:
            message: Any = self._conn.recv()
        except EOFError:
            message = ("error", f"it exited with code {self._process.exitcode}")
        if message[0] != "ready":
            self._process.join(5)
            raise SandboxStartError(f"the demo sandbox could not start: {message[1]}")
        _, self.url, self.board_id, self.subitems_board_id = message
        return self

    def stop(self) -> None:
        if not self._process.is_alive():
            return
        with contextlib.suppress(BrokenPipeError, OSError):  # it may have just exited
            self._conn.send("stop")
        self._process.join(30)
        if self._process.is_alive():
            self._process.kill()
            self._process.join(5)
        self._conn.close()

    @property
    def alive(self) -> bool:
        return self._process.is_alive()

    @property
    def pid(self) -> int | None:
        return self._process.pid

    def __enter__(self) -> SandboxProcess:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
