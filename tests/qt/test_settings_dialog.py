"""Settings: secrets go to the keyring only; testing a connection never freezes the window."""

from __future__ import annotations

import html
import json

import keyring
import pytest
from keyring.backends import fail
from PySide6.QtWidgets import QLabel

from orders_sync_gui.qt import settings_dialog
from orders_sync_gui.qt.settings_dialog import SettingsDialog
from orders_sync_gui.secrets import monday_token_key
from orders_sync_gui.services.connection import odbc_drivers
from orders_sync_gui.settings import load_settings

TOKEN = "eyJhbGciOiJIUzI1NiJ9.secret-monday-token"


@pytest.fixture
def dialog(qtbot, isolated_home):
    settings_dialog.SESSION_SECRETS.clear()
    box = SettingsDialog()
    qtbot.addWidget(box)
    yield box
    box.runner.wait()
    settings_dialog.SESSION_SECRETS.clear()


def _files_containing(root, secret: str) -> list[str]:
    return [
        str(p)
        for p in root.rglob("*")
        if p.is_file() and secret in p.read_text(encoding="utf-8", errors="ignore")
    ]


def test_the_token_lands_in_the_keyring_and_in_no_file(dialog, memory_keyring, isolated_home):
    dialog.api_url.setText("https://api.monday.com/v2")
    dialog.board_id.setText("1234567890")
    dialog.token.setText(TOKEN)
    dialog.save()
    stored = memory_keyring.store[("orders-sync", monday_token_key("https://api.monday.com/v2"))]
    assert stored == TOKEN
    settings = json.loads((isolated_home / "config" / "settings.json").read_text())
    assert settings["monday"]["board_id"] == "1234567890"
    assert _files_containing(isolated_home, TOKEN) == []
    again = SettingsDialog()
    assert again.token.text() == "" and "saved" in again.token.placeholderText()


def test_without_a_keyring_the_token_is_kept_for_this_session_only(qtbot, isolated_home):
    keyring.set_keyring(fail.Keyring())
    box = SettingsDialog()
    qtbot.addWidget(box)
    assert not box.keyring_ok
    box.token.setText(TOKEN)
    box.save()
    key = monday_token_key(box.api_url.text())
    assert settings_dialog.session_secret(key) == TOKEN
    assert _files_containing(isolated_home, TOKEN) == []
    settings_dialog.SESSION_SECRETS.clear()


def test_an_unreachable_server_is_a_clear_message_and_the_window_stays_live(qtbot, dialog):
    if "FreeTDS" not in odbc_drivers():
        pytest.skip("the FreeTDS ODBC driver is not installed (Debian: tdsodbc)")
    dialog.use_mssql.setChecked(True)
    dialog.server.setText("127.0.0.1,1")  # nothing listens on port 1
    dialog.database.setText("ORDERS")
    dialog.driver.setCurrentText("FreeTDS")
    dialog.trusted.setChecked(False)
    dialog.username.setText("ops")
    dialog.password.setText("pw")
    dialog.test_database()
    assert dialog.db_result.text() == "Testing…"  # returned at once: the work is elsewhere
    qtbot.waitUntil(lambda: dialog.db_result.text().startswith("✗"), timeout=30_000)
    assert "cannot be reached" in dialog.db_result.text()
    assert "pw" not in dialog.db_result.text()
    assert dialog.db_test.isEnabled()


def test_a_missing_odbc_driver_is_named(qtbot, dialog):
    dialog.use_mssql.setChecked(True)
    dialog.server.setText("sql01")
    dialog.database.setText("ORDERS")
    dialog.driver.setCurrentText("ODBC Driver 99 for SQL Server")
    dialog.test_database()
    qtbot.waitUntil(lambda: dialog.db_result.text().startswith("✗"), timeout=30_000)
    assert "not installed" in dialog.db_result.text()


def test_a_refused_settings_file_is_shown_in_the_dialog_and_save_replaces_it(qtbot, isolated_home):
    config = isolated_home / "config"
    config.mkdir(parents=True, exist_ok=True)
    (config / "settings.json").write_text(
        json.dumps({"monday": {"limits": {"complexity_per_minute": "1000000"}}}), "utf-8"
    )
    box = SettingsDialog()
    qtbot.addWidget(box)
    label = box.findChild(QLabel, "settings_problem")
    assert label is not None
    assert '"monday.limits.complexity_per_minute": expected a whole number' in html.unescape(
        label.text()
    )
    box.board_id.setText("1234567890")
    box.save()
    assert load_settings()["monday"]["board_id"] == "1234567890"  # valid again
    assert SettingsDialog().findChild(QLabel, "settings_problem") is None
