"""Settings: what does not apply is disabled, messages wrap, and Test monday.com checks the
token, the board and the mapping against a real sandbox over loopback."""

from __future__ import annotations

import pytest

from orders_sync_gui.monday.sandbox import SandboxConfig, SandboxServer
from orders_sync_gui.qt import settings_dialog
from orders_sync_gui.qt.settings_dialog import SettingsDialog

TOKEN = "settings-test-token-0123456789"


@pytest.fixture
def dialog(qtbot, isolated_home, memory_keyring):
    settings_dialog.SESSION_SECRETS.clear()
    box = SettingsDialog()
    qtbot.addWidget(box)
    yield box
    box.runner.wait()
    settings_dialog.SESSION_SECRETS.clear()


def test_fields_that_do_not_apply_are_disabled(dialog):
    dialog.use_sqlite.setChecked(True)
    assert dialog.sqlite_path.isEnabled()
    assert not any(w.isEnabled() for w in (dialog.server, dialog.database, dialog.username))
    dialog.use_mssql.setChecked(True)
    dialog.trusted.setChecked(True)
    assert dialog.server.isEnabled() and not dialog.sqlite_path.isEnabled()
    assert not dialog.username.isEnabled() and not dialog.password.isEnabled()
    dialog.trusted.setChecked(False)
    assert dialog.username.isEnabled() and dialog.password.isEnabled()


def test_test_monday_checks_token_board_and_mapping(qtbot, dialog):
    with SandboxServer(SandboxConfig(token=TOKEN)) as sandbox:
        dialog.api_url.setText(sandbox.url)
        dialog.board_id.setText(str(sandbox.board_id))
        dialog.token.setText(TOKEN)
        dialog.monday_test.click()
        qtbot.waitUntil(lambda: dialog.monday_test.isEnabled(), timeout=20_000)
        ok = dialog.monday_result.text()
        assert ok.startswith("✓") and "mapped columns present" in ok
        dialog.token.setText("not-the-token-at-all")
        dialog.monday_test.click()
        qtbot.waitUntil(lambda: dialog.monday_test.isEnabled(), timeout=20_000)
        refused = dialog.monday_result.text()
        assert refused.startswith("✗") and "token" in refused
        assert "not-the-token-at-all" not in refused
    assert dialog.monday_result.wordWrap() and dialog.db_result.wordWrap()
