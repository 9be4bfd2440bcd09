"""Settings: the database, monday.com (token to the keyring only), the mapping file.

Tests of a connection run on the pool: the dialog never freezes on an unreachable server.
"""

from __future__ import annotations

import html
import logging
from typing import Any

from PySide6.QtCore import Qt
from PySide6.QtWidgets import (
    QCheckBox,
    QComboBox,
    QDialog,
    QDialogButtonBox,
    QFileDialog,
    QFormLayout,
    QGroupBox,
    QHBoxLayout,
    QLabel,
    QLineEdit,
    QPushButton,
    QRadioButton,
    QSizePolicy,
    QVBoxLayout,
    QWidget,
)

from ..secrets import (
    SecretStoreError,
    backend_available,
    get_secret,
    monday_token_key,
    set_secret,
    sql_login_key,
)
from ..services.connection import (
    DEFAULT_API_URL,
    DEFAULT_API_VERSION,
    DEFAULT_ODBC_DRIVER,
    ConnectionTestError,
    SqlServerSettings,
    default_url,
    odbc_drivers,
    sqlserver_url,
    test_database,
    test_monday_board,
)
from ..services.context import sqlserver_settings
from ..services.monday_setup import MondaySetupError, setup_for_mapping
from ..settings import SettingsError, file_problems, load_mapping, load_settings, save_settings
from .workers import Job, JobRunner

log = logging.getLogger("orders_sync_gui.gui")

# Tokens typed while no keyring backend exists live here, for this run only.
SESSION_SECRETS: dict[str, str] = {}


def session_secret(key: str) -> str | None:
    if key in SESSION_SECRETS:
        return SESSION_SECRETS[key]
    try:
        return get_secret(key)
    except SecretStoreError:
        return None


def message_label(text: str = "") -> QLabel:
    """A message that wraps and grows downwards: never cut, never squeezing the form."""
    label = QLabel(text)
    label.setWordWrap(True)
    label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
    label.setSizePolicy(QSizePolicy.Policy.Expanding, QSizePolicy.Policy.Minimum)
    return label


class SettingsDialog(QDialog):
    def __init__(self, parent: QWidget | None = None, *, demo: bool = False) -> None:
        super().__init__(parent)
        self.setWindowTitle("Settings")
        self.setMinimumWidth(620)
        self.runner = JobRunner(self)
        try:
            self.settings = load_settings()
        except SettingsError:  # shown below; Save writes a valid file in its place
            self.settings = {}
        self.problems = file_problems()
        self.keyring_ok = backend_available()
        buttons = QDialogButtonBox(
            QDialogButtonBox.StandardButton.Save | QDialogButtonBox.StandardButton.Cancel
        )
        buttons.accepted.connect(self.save)
        buttons.rejected.connect(self.reject)
        layout = QVBoxLayout(self)
        if self.problems:
            layout.addWidget(self._problems_label(self.problems))
        layout.addWidget(self._database_box(self.settings.get("database") or {}))
        layout.addWidget(self._monday_box(self.settings.get("monday") or {}, demo=demo))
        layout.addWidget(self._mapping_box())
        layout.addWidget(buttons)

    def _problems_label(self, problems: list[str]) -> QLabel:
        """Why a file was refused: settings.json's form then starts empty (Save writes a
        valid one); a mapping or customer map is fixed in its file."""
        label = QLabel(
            "<b>A settings file was refused:</b><br>"
            + "<br>".join(html.escape(p) for p in problems)
        )
        label.setObjectName("settings_problem")
        label.setWordWrap(True)
        label.setTextInteractionFlags(Qt.TextInteractionFlag.TextSelectableByMouse)
        label.setStyleSheet("QLabel { color: #a40000; }")
        return label

    def _database_box(self, db: dict[str, Any]) -> QGroupBox:
        self.use_sqlite = QRadioButton("Embedded SQLite file")
        self.use_mssql = QRadioButton("SQL Server")
        self.sqlite_path = QLineEdit(str(db.get("path") or ""))
        self.sqlite_path.setPlaceholderText("(the demo database in the data folder)")
        self.server = QLineEdit(str(db.get("server") or ""))
        self.database = QLineEdit(str(db.get("database") or ""))
        self.driver = QComboBox()
        self.driver.setEditable(True)
        drivers = odbc_drivers()
        self.driver.addItems(drivers or [DEFAULT_ODBC_DRIVER])
        self.driver.setCurrentText(
            str(db.get("driver") or (drivers[0] if drivers else DEFAULT_ODBC_DRIVER))
        )
        self.trusted = QCheckBox("Windows authentication (trusted connection)")
        self.trusted.setChecked(bool(db.get("trusted_connection", True)))
        self.username = QLineEdit(str(db.get("username") or ""))
        self.password = QLineEdit()
        self.password.setEchoMode(QLineEdit.EchoMode.Password)
        self.password.setPlaceholderText("kept in the OS keyring; leave empty to keep")
        self.encrypt = QCheckBox("Encrypt")
        self.encrypt.setChecked(bool(db.get("encrypt", True)))
        self.trust_cert = QCheckBox("Trust the server certificate (only for a test server)")
        self.trust_cert.setChecked(bool(db.get("trust_server_certificate", False)))
        (self.use_mssql if db.get("kind") == "sqlserver" else self.use_sqlite).setChecked(True)
        self.db_result = message_label()
        self.db_test = QPushButton("Test connection")
        self.db_test.clicked.connect(self.test_database)
        box = QGroupBox("Database")
        form = QFormLayout(box)
        kind = QHBoxLayout()
        kind.addWidget(self.use_sqlite)
        kind.addWidget(self.use_mssql)
        kind.addStretch(1)
        form.addRow(kind)
        form.addRow("SQLite file", self.sqlite_path)
        form.addRow("Server", self.server)
        form.addRow("Database", self.database)
        form.addRow("ODBC driver", self.driver)
        form.addRow("", self.trusted)
        form.addRow("SQL login", self.username)
        form.addRow("Password", self.password)
        form.addRow("", self.encrypt)
        form.addRow("", self.trust_cert)
        form.addRow(self.db_test)  # the message has a row of its own: it wraps, never cut
        form.addRow(self.db_result)
        for toggle in (self.use_sqlite, self.use_mssql, self.trusted):
            toggle.toggled.connect(self._applies)
        self._applies()
        return box

    def _applies(self) -> None:
        """Fields that do not apply to the choice made are disabled, not left editable."""
        sqlserver = self.use_mssql.isChecked()
        self.sqlite_path.setEnabled(not sqlserver)
        for field in (self.server, self.database, self.driver, self.trusted):
            field.setEnabled(sqlserver)
        for field in (self.encrypt, self.trust_cert):
            field.setEnabled(sqlserver)
        login = sqlserver and not self.trusted.isChecked()
        self.username.setEnabled(login)
        self.password.setEnabled(login)

    def _monday_box(self, mon: dict[str, Any], *, demo: bool) -> QGroupBox:
        self.api_url = QLineEdit(str(mon.get("url") or DEFAULT_API_URL))
        self.api_version = QLineEdit(str(mon.get("api_version") or DEFAULT_API_VERSION))
        self.board_id = QLineEdit(str(mon.get("board_id") or ""))
        self.token = QLineEdit()
        self.token.setEchoMode(QLineEdit.EchoMode.Password)
        saved = session_secret(monday_token_key(self.api_url.text())) is not None
        self.token.setPlaceholderText(
            "saved — type a new token to replace it"
            if saved
            else "paste the API token (it is never shown again)"
        )
        keyring_note = QLabel(
            "The token is saved in the operating system's keyring."
            if self.keyring_ok
            else "No keyring is available on this computer: the token is kept in memory for this "
            "session only and asked for again next time (it is never written to a file)."
        )
        keyring_note.setWordWrap(True)
        box = QGroupBox("monday.com")
        form = QFormLayout(box)
        form.addRow("API URL", self.api_url)
        form.addRow("API version", self.api_version)
        form.addRow("Board id", self.board_id)
        form.addRow("API token", self.token)
        form.addRow(keyring_note)
        self.monday_test = QPushButton("Test monday.com")
        self.monday_test.setToolTip("Check the token, the board and the mapping's columns")
        self.monday_test.clicked.connect(self.test_monday)
        self.monday_result = message_label()
        form.addRow(self.monday_test)
        form.addRow(self.monday_result)
        if demo:
            note = message_label(
                "The window is on the demo database and the local sandbox now; these "
                "settings apply once a database is saved above (and the app restarted)."
            )
            form.addRow(note)
        return box

    def test_monday(self) -> None:
        """The token (typed, or the one saved), the board and the mapping, in the
        background."""
        url = str(self.api_url.text().strip() or DEFAULT_API_URL)
        token = self.token.text() or session_secret(monday_token_key(url))
        board = self.board_id.text().strip() or None
        version = self.api_version.text().strip() or DEFAULT_API_VERSION
        self.monday_result.setText("Testing…")
        self.monday_test.setEnabled(False)

        def work(job: Job) -> str:
            try:
                mapping = load_mapping()
                setup = setup_for_mapping(mapping, url=url, token=token, board_id=board)
                setup.api_version = version
                return "✓ " + test_monday_board(mapping, setup)
            except (ConnectionTestError, MondaySetupError, SettingsError) as exc:
                return f"✗ {exc}"

        def done(message: str) -> None:
            self.monday_result.setText(message)
            self.monday_test.setEnabled(True)

        self.runner.start(
            "Testing monday.com",
            "monday-test",
            work,
            on_success=done,
            on_failure=lambda m: done(f"✗ {m}"),
        )

    def _mapping_box(self) -> QGroupBox:
        self.mapping = QLineEdit(str(self.settings.get("mapping_file") or ""))
        self.mapping.setPlaceholderText("(the default mapping in resources/)")
        browse = QPushButton("Browse…")
        browse.clicked.connect(self._browse_mapping)
        row = QHBoxLayout()
        row.addWidget(self.mapping)
        row.addWidget(browse)
        box = QGroupBox("Board mapping file")
        box.setLayout(row)
        return box

    def _browse_mapping(self) -> None:
        name, _ = QFileDialog.getOpenFileName(self, "Board mapping", "", "JSON (*.json)")
        if name:
            self.mapping.setText(name)

    def _sqlserver(self) -> SqlServerSettings:
        return sqlserver_settings(self._database_section())

    def _database_section(self) -> dict[str, Any]:
        if self.use_sqlite.isChecked():
            path = self.sqlite_path.text().strip()
            return {"kind": "sqlite", "path": path} if path else {}
        return {
            "kind": "sqlserver",
            "server": self.server.text().strip(),
            "database": self.database.text().strip(),
            "driver": self.driver.currentText(),
            "trusted_connection": self.trusted.isChecked(),
            "username": self.username.text().strip() or None,
            "encrypt": self.encrypt.isChecked(),
            "trust_server_certificate": self.trust_cert.isChecked(),
        }

    def database_url(self) -> Any:
        if self.use_sqlite.isChecked():
            path = self.sqlite_path.text().strip()
            return f"sqlite:///{path}" if path else default_url()
        settings = self._sqlserver()
        password = self.password.text() or (
            session_secret(sql_login_key(settings.server, settings.username or ""))
            if settings.username
            else None
        )
        return sqlserver_url(settings, password)

    def test_database(self) -> None:
        self.db_result.setText("Testing…")
        self.db_test.setEnabled(False)
        try:
            url = self.database_url()
        except ValueError as exc:
            self._db_done(f"✗ {exc}")
            return

        def work(job: Job) -> str:
            try:
                return "✓ " + test_database(url)
            except ConnectionTestError as exc:
                return f"✗ {exc}"

        self.runner.start(
            "Testing the database",
            "db-test",
            work,
            on_success=self._db_done,
            on_failure=lambda m: self._db_done(f"✗ {m}"),
        )

    def _db_done(self, message: str) -> None:
        self.db_result.setText(message)
        self.db_test.setEnabled(True)

    def save(self) -> None:
        section = self._database_section()
        url = self.api_url.text().strip() or DEFAULT_API_URL
        mon = {
            "url": url,
            "api_version": self.api_version.text().strip() or DEFAULT_API_VERSION,
            "board_id": self.board_id.text().strip() or None,
        }
        new = dict(self.settings)
        new["database"] = section
        new["monday"] = {**(self.settings.get("monday") or {}), **mon}
        if self.mapping.text().strip():
            new["mapping_file"] = self.mapping.text().strip()
        secrets = []
        if self.token.text():
            secrets.append((monday_token_key(url), self.token.text()))
        if section.get("kind") == "sqlserver" and section.get("username") and self.password.text():
            secrets.append(
                (sql_login_key(section["server"], section["username"]), self.password.text())
            )
        for key, value in secrets:
            try:
                set_secret(key, value)
            except SecretStoreError:
                SESSION_SECRETS[key] = value  # this run only; never a file
                log.warning("no keyring: the secret is kept for this session only")
        self.token.clear()
        self.password.clear()
        save_settings(new)
        log.info("settings saved")
        self.accept()

    def wait(self) -> None:
        self.runner.wait()
