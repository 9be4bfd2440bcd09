"""One window per database: a lock file names the running instance (QLockFile, freed by
the OS if that process dies), and a local socket lets a second start bring it forward."""

from __future__ import annotations

import hashlib
import logging
from pathlib import Path

from PySide6.QtCore import QLockFile, QObject, Signal
from PySide6.QtNetwork import QLocalServer, QLocalSocket

log = logging.getLogger("orders_sync_gui.gui")
RAISE = b"raise\n"


def instance_key(database: str) -> str:
    """A short name for the database, for the lock file and the socket."""
    return "orders-sync-" + hashlib.sha256(database.encode("utf-8")).hexdigest()[:16]


class SingleInstance(QObject):
    """acquire() once at start: True for the first instance on this database; a later one
    gets False after it has asked the first to come forward (`activated` there)."""

    activated = Signal()

    def __init__(self, key: str, folder: Path, parent: QObject | None = None) -> None:
        super().__init__(parent)
        self.key = key
        folder.mkdir(parents=True, exist_ok=True)
        self.lock = QLockFile(str(folder / f"{key}.lock"))
        self.lock.setStaleLockTime(0)  # only a dead process's lock is stale
        self.server: QLocalServer | None = None

    def acquire(self) -> bool:
        if not self.lock.tryLock(100):
            self._ask_first_forward()
            return False
        QLocalServer.removeServer(self.key)  # a socket a crash left behind
        self.server = QLocalServer(self)
        self.server.newConnection.connect(self._knocked)
        if not self.server.listen(self.key):
            log.warning(
                "single instance: cannot listen on %s: %s", self.key, self.server.errorString()
            )
        return True

    def _ask_first_forward(self) -> None:
        socket = QLocalSocket()
        socket.connectToServer(self.key)
        if socket.waitForConnected(1000):
            socket.write(RAISE)
            socket.waitForBytesWritten(1000)
            socket.disconnectFromServer()

    def _knocked(self) -> None:
        assert self.server is not None
        while self.server.hasPendingConnections():
            conn = self.server.nextPendingConnection()
            conn.readyRead.connect(lambda c=conn: self._read(c))
            if conn.bytesAvailable():
                self._read(conn)

    def _read(self, conn: QLocalSocket) -> None:
        if bytes(conn.readAll().data()).startswith(RAISE.strip()):
            log.info("another start on this database: this window comes forward")
            self.activated.emit()
        conn.disconnectFromServer()

    def release(self) -> None:
        if self.server is not None:
            self.server.close()
            self.server = None
        self.lock.unlock()
