"""Secrets live in the OS keyring only: never in settings files, logs or exception text.

One wrapper, so that every caller gets the same clear error when a machine has no keyring
backend (a headless Linux box without Secret Service), instead of a silent plaintext file.
"""

from __future__ import annotations

import threading

import keyring
from keyring.errors import KeyringError, NoKeyringError, PasswordDeleteError

from . import APP_NAME

SERVICE = APP_NAME
_lock = threading.Lock()  # some backends are not safe to call from two threads at once


class SecretStoreError(RuntimeError):
    pass


def monday_token_key(api_url: str) -> str:
    return f"monday:{api_url}"


def sql_login_key(server: str, username: str) -> str:
    return f"sqlserver:{server}:{username}"


def backend_available() -> bool:
    """False where the keyring has no usable backend (it would refuse every call)."""
    backend = keyring.get_keyring()
    return getattr(backend, "priority", 0) > 0 and "fail" not in type(backend).__module__


def _no_backend() -> SecretStoreError:
    return SecretStoreError(
        "no keyring backend is available on this machine (on Linux: a Secret Service such "
        "as GNOME Keyring or KWallet); the secret was not stored"
    )


def get_secret(key: str) -> str | None:
    with _lock:
        try:
            return keyring.get_password(SERVICE, key)
        except NoKeyringError:
            raise _no_backend() from None
        except KeyringError as exc:
            raise SecretStoreError(f"the keyring refused to read: {type(exc).__name__}") from None


def set_secret(key: str, value: str) -> None:
    with _lock:
        try:
            keyring.set_password(SERVICE, key, value)
        except NoKeyringError:
            raise _no_backend() from None
        except KeyringError as exc:
            raise SecretStoreError(f"the keyring refused to store: {type(exc).__name__}") from None


def delete_secret(key: str) -> None:
    with _lock:
        try:
            keyring.delete_password(SERVICE, key)
        except PasswordDeleteError:
            pass  # nothing stored: already the wanted outcome
        except NoKeyringError:
            raise _no_backend() from None
