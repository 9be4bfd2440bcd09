"""Alerts without Kestra (`orders-sync run --notify`): a short summary of a run that ended
PARTIAL, FAILED or REFUSED, to a Microsoft Teams or Slack incoming webhook, or by mail.

The webhook's URL is a secret (whoever has it can post to the channel): it lives in the OS
keyring only (`orders-sync notify --set-webhook`), never in settings.json, a log line or an
error message. settings.json's "notify" section says the rest:

    "notify": {"webhook": "teams" | "slack",          # the payload's shape (else by URL host)
               "smtp": {"host": ..., "port": 25, "starttls": false, "username": null,
                        "sender": "orders-sync@example.com", "to": ["ops@example.com"]}}

An SMTP login's password is in the keyring too. A notification that cannot be sent is
logged; it never changes how the run ends.
"""

from __future__ import annotations

import logging
import smtplib
import socket
from dataclasses import dataclass
from email.message import EmailMessage
from typing import Any
from urllib.parse import urlsplit

import requests

from ..secrets import SecretStoreError, get_secret
from ..settings import load_settings
from .run import RunReport

log = logging.getLogger(__name__)

WEBHOOK_KEY = "notify:webhook"
TIMEOUT_SECONDS = 10.0
MAX_LINES = 20  # customers named in one message; the rest counted


def smtp_password_key(host: str, username: str) -> str:
    return f"smtp:{host}:{username}"


@dataclass(frozen=True, slots=True)
class Sent:
    channel: str  # "webhook" or "smtp"
    ok: bool
    detail: str


def summary(report: RunReport, host: str | None = None) -> tuple[str, str]:
    """(title, body): which customers need attention and why, in a few lines."""
    host = host or socket.gethostname()
    alerts = report.alerts
    title = (
        f"orders-sync run on {host}: {len(alerts)} of {len(report.customers)} customer(s) "
        "need attention"
    )
    lines = []
    for c in alerts[:MAX_LINES]:
        batch = f" batch {c.batch_id}" if c.batch_id is not None else ""
        lines.append(
            f"{c.customer}: {c.status.value}{batch} ({c.succeeded} pushed, {c.failed} failed)"
            + (f": {c.reason}" if c.reason else "")
        )
    if len(alerts) > MAX_LINES:
        lines.append(f"... and {len(alerts) - MAX_LINES} more")
    fine = len(report.customers) - len(alerts)
    lines.append(
        f"{fine} other customer(s) ended fine; "
        f"{report.requests} requests in {report.seconds:.0f} s."
    )
    return title, "\n".join(lines)


def webhook_kind(url: str, configured: str | None) -> str:
    if configured in ("teams", "slack"):
        return configured
    host = (urlsplit(url).hostname or "").lower()
    teams_hosts = ("webhook.office.com", "logic.azure.com", "powerautomate", "powerplatform")
    return "teams" if any(h in host for h in teams_hosts) else "slack"


def webhook_payload(kind: str, title: str, body: str) -> dict[str, Any]:
    if kind == "slack":
        return {"text": f"*{title}*\n{body}"}
    # Teams' workflow webhooks take an Adaptive Card in a message's attachments.
    card = {
        "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
        "type": "AdaptiveCard",
        "version": "1.4",
        "body": [
            {"type": "TextBlock", "text": title, "weight": "Bolder", "wrap": True},
            *({"type": "TextBlock", "text": line, "wrap": True} for line in body.splitlines()),
        ],
    }
    return {
        "type": "message",
        "attachments": [
            {"contentType": "application/vnd.microsoft.card.adaptive", "content": card}
        ],
    }


def send_webhook(url: str, kind: str, title: str, body: str) -> None:
    try:
        response = requests.post(
            url, json=webhook_payload(kind, title, body), timeout=TIMEOUT_SECONDS
        )
    except requests.RequestException as exc:
        # The exception's text may hold the URL (its path is the secret): only its kind.
        raise NotifyError(
            f"the {kind} webhook could not be reached ({type(exc).__name__})"
        ) from None
    if not 200 <= response.status_code < 300:
        raise NotifyError(f"the {kind} webhook answered HTTP {response.status_code}")


def send_mail(smtp: dict[str, Any], title: str, body: str) -> None:
    host = str(smtp.get("host") or "")
    to = smtp.get("to") or []
    recipients = [to] if isinstance(to, str) else list(to)
    if not host or not recipients or not smtp.get("sender"):
        raise NotifyError('settings.json\'s "notify.smtp" needs a host, a sender and "to"')
    message = EmailMessage()
    message["Subject"] = title
    message["From"] = str(smtp["sender"])
    message["To"] = ", ".join(recipients)
    message.set_content(body)
    try:
        with smtplib.SMTP(host, int(smtp.get("port") or 25), timeout=TIMEOUT_SECONDS) as client:
            if smtp.get("starttls"):
                client.starttls()
            username = smtp.get("username")
            if username:
                password = get_secret(smtp_password_key(host, str(username)))
                if not password:
                    raise NotifyError(f"no SMTP password for {username} in the keyring")
                client.login(str(username), password)
            client.send_message(message)
    except (OSError, smtplib.SMTPException) as exc:
        raise NotifyError(f"mail to {host} failed: {type(exc).__name__}: {exc}") from None


def notify(report: RunReport, settings: dict[str, Any] | None = None) -> list[Sent]:
    """Send the run's summary on every configured channel when a customer needs attention;
    returns what each channel did (nothing when the run ended fine). Never raises."""
    if not report.alerts:
        return []
    section = (settings if settings is not None else load_settings()).get("notify") or {}
    title, body = summary(report)
    sent: list[Sent] = []
    try:
        url = get_secret(WEBHOOK_KEY)
    except SecretStoreError as exc:
        url = None
        sent.append(Sent("webhook", False, str(exc)))
    if url:
        sent.append(
            _attempt(
                "webhook",
                lambda: send_webhook(url, webhook_kind(url, section.get("webhook")), title, body),
            )
        )
    if section.get("smtp"):
        sent.append(_attempt("smtp", lambda: send_mail(section["smtp"], title, body)))
    if not sent:
        log.warning(
            "--notify: no webhook in the keyring (orders-sync notify --set-webhook) and no "
            '"notify.smtp" in settings.json: nobody was told'
        )
    return sent


def _attempt(channel: str, send: Any) -> Sent:
    try:
        send()
    except (NotifyError, SecretStoreError) as exc:
        log.error("notification by %s failed: %s", channel, exc)
        return Sent(channel, False, str(exc))
    except Exception as exc:  # a notification never ends the run
        log.error("notification by %s failed: %s", channel, type(exc).__name__)
        return Sent(channel, False, type(exc).__name__)
    log.info("notification sent by %s", channel)
    return Sent(channel, True, "sent")


class NotifyError(RuntimeError):
    pass
