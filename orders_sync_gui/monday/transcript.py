"""A transcript of the HTTP a client sends and receives, fit to be sent back by an operator.

`Recorder` is a requests adapter: mounted on the client's session it keeps every request
(method, URL, the headers that matter, the JSON body) and every response (status, the
headers that matter, the JSON body) in order. `redacted()` gives them with the token gone
and every id (boards, groups, items, subitems, the user, the account) replaced by a stable
placeholder, `<item 1>`, the same one wherever the id appears, also inside JSON held in a
string (a column's settings_str, the column_values sent).

`Replayer` answers each request with the next recorded response, placeholders turned into
made-up ids of the same kind, so a transcript recorded against monday.com (or the
sandbox) drives the client again offline: a test fixture.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from requests.structures import CaseInsensitiveDict

TRANSCRIPT_FORMAT = 1
TOKEN_PLACEHOLDER = "<token>"
REQUEST_HEADERS = ("API-Version", "Content-Type", "Idempotency-Key")
RESPONSE_HEADERS = (
    "Content-Type",
    "Retry-After",
    "Idempotency-Replayed",
    "RateLimit",
    "RateLimit-Policy",
)
# Under these keys of an answer, an object's "id" is an id of that kind.
_KIND_OF_KEY = {
    "boards": "board",
    "groups": "group",
    "group": "group",
    "top_group": "group",
    "create_group": "group",
    "delete_group": "group",
    "items": "item",
    "parent_item": "item",
    "create_item": "item",
    "subitems": "subitem",
    "create_subitem": "subitem",
    "me": "user",
}
_NOT_IDS = {"columns", "column_values", "values", "complexity"}  # column ids are no secret
_PLACEHOLDER = re.compile(r"<(board|group|item|subitem|user|account) (\d+)>")
_REPLAY_BASE = {"board": 5_100_000_000, "item": 5_200_000_000, "subitem": 5_300_000_000}


def _json_or_text(raw: object) -> Any:
    """A request's or answer's body (bytes or str as requests builds them; None) as JSON,
    or as text when it is not JSON."""
    if not isinstance(raw, bytes | str):
        return None
    text = raw.decode("utf-8", "replace") if isinstance(raw, bytes) else raw
    try:
        return json.loads(text)
    except ValueError:
        return text


class Recorder(HTTPAdapter):
    """Keeps each exchange; mount it on a requests.Session for http:// and https://."""

    def __init__(self, token: str, inner: HTTPAdapter | None = None) -> None:
        """`inner` sends the requests (a Replayer); by default they go over the network."""
        super().__init__(max_retries=0)
        self._token = token
        self._inner = inner
        self.exchanges: list[dict[str, Any]] = []
        self._ids: dict[str, str] = {}
        self._counts: Counter[str] = Counter()
        self.started = datetime.now(UTC)

    def mount_on(self, session: requests.Session) -> requests.Session:
        session.mount("http://", self)
        session.mount("https://", self)
        return session

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        sent = {
            "method": request.method,
            "url": request.url,
            "headers": {
                name: request.headers[name] for name in REQUEST_HEADERS if name in request.headers
            },
            "body": _json_or_text(request.body),
        }
        if "Authorization" in request.headers:
            sent["headers"]["Authorization"] = TOKEN_PLACEHOLDER
        exchange: dict[str, Any] = {"request": sent}
        self.exchanges.append(exchange)
        try:
            if self._inner is not None:
                response = self._inner.send(request, *args, **kwargs)
            else:
                response = super().send(request, *args, **kwargs)
        except requests.RequestException as exc:
            exchange["error"] = type(exc).__name__
            raise
        exchange["response"] = {
            "status": response.status_code,
            "headers": {
                name: response.headers[name]
                for name in RESPONSE_HEADERS
                if name in response.headers
            },
            "body": _json_or_text(response.content),
        }
        return response

    # ------------------------------------------------------------------ ids
    def name_id(self, value: object, kind: str) -> None:
        """Give an id its placeholder (the first kind named wins)."""
        text = str(value) if value is not None else ""
        if text and text not in self._ids:
            self._counts[kind] += 1
            self._ids[text] = f"<{kind} {self._counts[kind]}>"

    def _discover(self, value: Any, kind: str | None = None) -> None:
        if isinstance(value, dict):
            if kind is not None and "id" in value and not isinstance(value["id"], dict | list):
                self.name_id(value["id"], kind)
            if kind == "user":
                self.name_id(value.get("name"), "user name")
                self.name_id(value.get("email"), "user email")
            for key, inner in value.items():
                if key not in _NOT_IDS:
                    self._discover(inner, _KIND_OF_KEY.get(key))
        elif isinstance(value, list):
            for inner in value:
                self._discover(inner, kind)

    def redacted(self, run: Mapping[str, Any] | None = None) -> dict[str, Any]:
        """The transcript to save: no token, every known id a placeholder."""
        for exchange in self.exchanges:
            body = (exchange.get("response") or {}).get("body")
            if isinstance(body, dict):
                if body.get("account_id") is not None:
                    self.name_id(body["account_id"], "account")
                self._discover(body.get("data"))
        document = {
            "format": TRANSCRIPT_FORMAT,
            "recorded_at": self.started.isoformat(timespec="seconds"),
            "run": dict(run or {}),
            "exchanges": self.exchanges,
        }
        return _scrub(document, self._ids, self._token)

    def write(self, path: Path, run: Mapping[str, Any] | None = None) -> Path:
        path.parent.mkdir(parents=True, exist_ok=True)
        text = json.dumps(self.redacted(run), ensure_ascii=False, indent=1)
        path.write_text(text + "\n", encoding="utf-8")
        return path


def _scrub(value: Any, ids: Mapping[str, str], token: str) -> Any:
    # Long ids first, so that an id inside a longer one is not replaced half-way.
    ordered = sorted((i for i in ids if len(i) >= 4), key=len, reverse=True)
    inside = (
        re.compile(
            r"(?<![0-9A-Za-z_])(" + "|".join(re.escape(i) for i in ordered) + r")(?![0-9A-Za-z_])"
        )
        if ordered
        else None
    )

    def walk(node: Any) -> Any:
        if isinstance(node, dict):
            return {key: walk(inner) for key, inner in node.items()}
        if isinstance(node, list):
            return [walk(inner) for inner in node]
        if isinstance(node, bool) or node is None:
            return node
        if isinstance(node, int) and str(node) in ids:
            return ids[str(node)]
        if isinstance(node, str):
            if token and token in node:
                node = node.replace(token, TOKEN_PLACEHOLDER)
            if node in ids:
                return ids[node]
            if inside is not None:
                node = inside.sub(lambda m: ids[m.group(1)], node)
        return node

    return walk(value)


def replay_id(kind: str, number: int) -> str:
    """The made-up id a placeholder stands for when a transcript is replayed."""
    if kind in _REPLAY_BASE:
        return str(_REPLAY_BASE[kind] + number)
    if kind == "group":
        return f"replay_group{number}"
    return str(5_900_000_000 + number)


class Replayer(HTTPAdapter):
    """Answers each request with the transcript's next response, in order."""

    def __init__(self, exchanges: Iterable[Mapping[str, Any]]) -> None:
        super().__init__(max_retries=0)
        self._exchanges = list(exchanges)
        self.sent: list[dict[str, Any]] = []

    @classmethod
    def from_file(cls, path: Path) -> Replayer:
        return cls(json.loads(path.read_text(encoding="utf-8"))["exchanges"])

    @property
    def left(self) -> int:
        return len(self._exchanges) - len(self.sent)

    def mount_on(self, session: requests.Session) -> requests.Session:
        session.mount("http://", self)
        session.mount("https://", self)
        return session

    def send(self, request: requests.PreparedRequest, *args: Any, **kwargs: Any) -> Any:
        index = len(self.sent)
        self.sent.append({"body": _json_or_text(request.body)})
        if index >= len(self._exchanges):
            raise requests.ConnectionError(
                f"the transcript has no response for request {index + 1}"
            )
        exchange = self._exchanges[index]
        if exchange.get("error") or "response" not in exchange:
            raise requests.ConnectionError(
                f"recorded: {exchange.get('error') or 'no response'} (request {index + 1})"
            )
        recorded = exchange["response"]
        text = json.dumps(recorded.get("body"), ensure_ascii=False)
        text = _PLACEHOLDER.sub(lambda m: replay_id(m.group(1), int(m.group(2))), text)
        response = requests.Response()
        response.status_code = int(recorded.get("status", 200))
        response.headers = CaseInsensitiveDict(recorded.get("headers") or {})
        response._content = text.encode("utf-8")
        response.encoding = "utf-8"
        response.url = request.url or ""
        response.request = request
        response.reason = "replayed"
        return response
