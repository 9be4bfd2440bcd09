"""Settings files hold no secret; the keyring does, and its absence is said clearly."""

from __future__ import annotations

import json

import keyring
import pytest
from keyring.backends import fail

from orders_sync_gui.secrets import (
    SecretStoreError,
    backend_available,
    get_secret,
    set_secret,
    sql_login_key,
)
from orders_sync_gui.services.context import resolve_db_url
from orders_sync_gui.settings import SettingsError, load_settings, save_settings
from orders_sync_gui.store.engine import describe_url

PASSWORD = "s3cret-P@ss;word"


def test_a_sql_login_reads_its_password_from_the_keyring_only(isolated_home, memory_keyring):
    path = save_settings(
        {
            "database": {
                "kind": "sqlserver",
                "server": "sql01.corp",
                "database": "ORDERS",
                "trusted_connection": False,
                "username": "ops",
                "driver": "FreeTDS",
            }
        }
    )
    set_secret(sql_login_key("sql01.corp", "ops"), PASSWORD)
    url, embedded = resolve_db_url()
    assert not embedded
    assert url.get_backend_name() == "mssql" and url.password == PASSWORD
    assert url.query["driver"] == "FreeTDS" and url.query["Encrypt"] == "yes"
    assert PASSWORD not in describe_url(url)
    assert PASSWORD not in path.read_text() and load_settings()["database"]["username"] == "ops"
    for file in isolated_home.rglob("*"):
        if file.is_file():
            assert PASSWORD not in file.read_text(errors="ignore")


def test_settings_refuse_a_secret(isolated_home):
    with pytest.raises(SettingsError, match="keyring"):
        save_settings({"monday": {"url": "https://api.monday.com/v2", "token": "abc"}})
    assert not (isolated_home / "config" / "settings.json").exists()


def test_no_keyring_backend_is_a_clear_error_not_a_plaintext_file(isolated_home):
    keyring.set_keyring(fail.Keyring())
    assert not backend_available()
    with pytest.raises(SecretStoreError, match="no keyring backend"):
        set_secret("monday:x", "token")
    with pytest.raises(SecretStoreError, match="no keyring backend"):
        get_secret("monday:x")
    assert not any(p.is_file() for p in isolated_home.rglob("*"))


def test_a_trusted_connection_needs_no_password(isolated_home):
    save_settings({"database": {"kind": "sqlserver", "server": "sql01", "database": "ORDERS"}})
    url, _ = resolve_db_url()
    assert url.password is None and url.query["Trusted_Connection"] == "yes"
    assert json.loads((isolated_home / "config" / "settings.json").read_text())
