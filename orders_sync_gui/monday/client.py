"""The monday.com GraphQL client: one session, monday's headers, errors read and classified.

What it promises the push:
- every response's `errors` is read, HTTP 200 included;
- retryable trouble (complexity budget, minute/concurrency/IP limits, 409 idempotency in
  progress, 423 locked, 5xx, timeouts, dropped connections) is retried, waiting what monday
  says (`retry_in_seconds`, `Retry-After`) or backing off exponentially with full jitter,
  within a bound of attempts and seconds; past the bound, RetryBudgetExhausted;
- a mutation request keeps one Idempotency-Key across its retries, so a retry after a
  dropped connection replays monday's first answer instead of creating twice;
- 401/403 and the daily limit stop at once (MondayStopError) with one clear message;
- field errors (a bad value in one aliased mutation) come back per alias, for that row only;
- every answer monday documents for an item that no longer exists is recognised as "gone"
  (FieldError.gone; ItemGoneError when it speaks for a whole request), never retried;
- it paces itself from `complexity { before after reset_in_x_seconds }`, reads as writes:
  a read asks for that field too, and waits for the budget its last cost says it needs;
- every request has a wall-clock deadline, connect to last byte (deadline.py): a server
  that trickles its answer cannot hold a push past it, and giving up says the wall time;
- every request carries the `API-Version` of its settings (a version name, checked before
  anything is sent), and the version that served it is noted when an answer says (see
  versions.py);
- the token is never in a log line, an exception or a repr, and whatever the server sends
  back is scrubbed of it before anything reads it (a server echoing the Authorization
  header in an error cannot put it in a log, a message or the database).
"""

from __future__ import annotations

import json
import logging
import random
import re
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

import requests

from .deadline import DeadlineAdapter, watch
from .versions import (
    DEFAULT_API_VERSION,
    VERSION_QUERY,
    ServedVersion,
    VersionWatch,
    check_api_version,
)

log = logging.getLogger(__name__)

DEFAULT_API_URL = "https://api.monday.com/v2"
RETRYABLE_STATUS = {409, 423, 429, 500, 502, 503, 504}
RETRYABLE_CODES = {
    "COMPLEXITY_BUDGET_EXHAUSTED",
    "ComplexityException",
    "RATE_LIMIT_EXCEEDED",
    "maxConcurrencyExceeded",
    "IP_RATE_LIMIT_EXCEEDED",
    "INTERNAL_SERVER_ERROR",
}
# The account's complexity budget is spent: it comes back whole at the window's reset.
BUDGET_CODES = frozenset({"COMPLEXITY_BUDGET_EXHAUSTED", "ComplexityException"})
STOP_CODES = {"DAILY_LIMIT_EXCEEDED", "UNAUTHENTICATED", "USER_UNAUTHORIZED", "Unauthorized"}
# monday's answers for an item that no longer exists (deleted by hand, or by a request whose
# answer a crash lost): InvalidItemIdException and ResourceNotFoundException, the latter with
# HTTP 200 or 404 (https://developer.monday.com/api-reference/docs/error-handling);
# ItemNotFoundException as older clients met it. Older pages of the same reference described
# an HTTP 500 for an id that does not exist: such an answer is recognised by its words
# (_MISSING_ITEM), since its code is only INTERNAL_SERVER_ERROR.
GONE_CODES = frozenset(
    {"InvalidItemIdException", "ItemNotFoundException", "ResourceNotFoundException"}
)
_MISSING_ITEM = re.compile(
    r"\b(item|pulse|subitem)s?\b.*\b(not found|does not exist|doesn't exist|no longer exists)",
    re.IGNORECASE | re.DOTALL,
)
_ITEM_ID_KEYS = ("item_id", "itemId", "parent_item_id", "pulse_id", "resource_id", "id")


class MondayError(Exception):
    """Base of the client's errors. Messages never contain the token."""


class MondayStopError(MondayError):
    """Stop the push: the token is refused, permission is missing, or the day's calls are spent."""


class MondayRequestError(MondayError):
    """The request itself is wrong (validation, bad JSON): retrying cannot help."""


class ItemGoneError(MondayRequestError):
    """monday answered a whole request (HTTP 404, 500, or an error without a path) with
    "this item does not exist": no alias of it is known to have run. `item_ids` are the ids
    the answer names (empty when it names none); see operations.run_operations for how a
    chunk of several mutations is taken apart after it."""

    def __init__(self, message: str, code: str, item_ids: tuple[str, ...]) -> None:
        super().__init__(message)
        self.code = code
        self.item_ids = item_ids


class Cancelled(MondayError):
    """The operator cancelled while the client waited (pacing, a retry's backoff): nothing
    more is sent; what was answered is recorded."""


class RetryBudgetExhausted(MondayError):
    """Retryable trouble outlasted the bound; the push stops and can be resumed later."""


@dataclass(frozen=True, slots=True)
class ClientSettings:
    url: str = DEFAULT_API_URL
    api_version: str = DEFAULT_API_VERSION
    timeout_seconds: float = 30.0  # per wait for the socket (connect, each read)
    # The whole request, connect to last byte, by the wall clock. monday ends every call at
    # 60 s (https://developer.monday.com/api-reference/docs/development-best-practices):
    # past that, its own answer has had its chance.
    deadline_seconds: float = 90.0
    max_attempts: int = 8  # per request, the first try included
    max_wait_seconds: float = 300.0  # total waiting per request before giving up
    base_backoff_seconds: float = 1.0
    max_backoff_seconds: float = 60.0
    pace: bool = True  # wait for the complexity budget instead of running into the wall


@dataclass(frozen=True, slots=True)
class FieldError:
    """One failed field of a request (a row's mutation), with monday's own words."""

    alias: str
    code: str
    message: str
    data: dict[str, Any]
    status_code: int | None = None  # extensions.status_code, when monday gave one

    def __str__(self) -> str:
        return f"{self.code}: {self.message}" if self.code else self.message

    @property
    def gone(self) -> bool:
        """monday says the item (or subitem) this mutation names does not exist."""
        return is_gone(self.code, self.message, self.status_code)


@dataclass(slots=True)
class Result:
    data: dict[str, Any]
    field_errors: dict[str, FieldError]
    complexity: dict[str, Any] | None
    attempts: int
    waited_seconds: float
    replayed: bool


@dataclass(slots=True)
class ClientStats:
    requests: int = 0
    retries: int = 0
    waited_seconds: float = 0.0
    replays: int = 0
    by_reason: dict[str, int] = field(default_factory=dict)

    def count(self, reason: str) -> None:
        self.by_reason[reason] = self.by_reason.get(reason, 0) + 1


class Pacer:
    """The account's complexity budget as last read, shared by every client of a setup.

    monday reports `reset_in_x_seconds` in whole seconds, rounded up; within one window the
    earliest reset seen is the truest, so it is kept. Clients made one after another (one
    per batch) share this reading instead of starting blind.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.after: int | None = None
        self.reset_at = 0.0
        # What each read document cost when last sent (monday's `complexity.query`): what
        # it will cost again, near enough, since a read costs by what it may return.
        self._read_costs: dict[str, int] = {}

    def note(self, complexity: dict[str, Any] | None) -> None:
        if not complexity:
            return
        try:
            after = int(complexity["after"])
            before = int(complexity["before"])
            reset_at = time.monotonic() + float(complexity["reset_in_x_seconds"])
        except (KeyError, TypeError, ValueError):
            return
        with self._lock:
            same_window = (
                self.after is not None and before <= self.after and self.reset_at > time.monotonic()
            )
            self.reset_at = min(self.reset_at, reset_at) if same_window else reset_at
            self.after = after

    def wait_needed(self, cost: int) -> float:
        with self._lock:
            if self.after is None or self.after >= cost:
                return 0.0
            return max(0.0, self.reset_at - time.monotonic())

    def note_read(self, query: str, complexity: dict[str, Any] | None) -> None:
        try:
            cost = int((complexity or {})["query"])
        except (KeyError, TypeError, ValueError):
            return
        with self._lock:
            self._read_costs[query] = cost

    def read_cost(self, query: str) -> int:
        """A read's cost as last charged; a read not sent yet: the dearest read seen."""
        with self._lock:
            known = self._read_costs.get(query)
            return known if known is not None else max(self._read_costs.values(), default=0)

    def exhausted(self, wait: float | None) -> float | None:
        """monday refused a request for the budget (COMPLEXITY_BUDGET_EXHAUSTED) and said
        to wait `wait` s: how long to wait. Several processes spend one account's budget
        (Kestra's workers), so the refusal is news: the budget is spent until the reset.
        monday rounds both its figures up to whole seconds, so each is a bound after the
        true reset; when this window's readings (`reset_in_x_seconds`) put the reset
        earlier, within that rounding, the earlier bound is the truer one. Further apart,
        they describe different windows, and the refusal's wait stands."""
        if wait is None:
            return None
        with self._lock:
            now = time.monotonic()
            reset_at = now + wait
            if now < self.reset_at <= reset_at < self.reset_at + 1.0:
                reset_at = self.reset_at
            self.after, self.reset_at = 0, reset_at
            return reset_at - now

    def forget(self) -> None:
        with self._lock:
            if self.after is not None and self.reset_at <= time.monotonic():
                self.after = None


# Retries after which a mutation may or may not have run on monday.com.
OUTCOME_UNKNOWN = frozenset({"timeout", "connection dropped", "deadline"})


class _Retry(Exception):
    def __init__(
        self, reason: str, wait: float | None, detail: str | None = None, *, budget: bool = False
    ) -> None:
        super().__init__(reason)
        self.reason = reason  # a short name, counted in ClientStats.by_reason
        self.wait = wait
        self.detail = detail or reason  # what the log and the give-up message say
        self.budget = budget  # the complexity budget: it resets for every client at once


class MondayClient:
    def __init__(
        self,
        token: str,
        settings: ClientSettings | None = None,
        *,
        sleep: Callable[[float], None] = time.sleep,
        rng: random.Random | None = None,
        session: requests.Session | None = None,
        pacer: Pacer | None = None,
        versions: VersionWatch | None = None,
        cancel: threading.Event | None = None,
    ) -> None:
        if not token:
            raise MondayStopError("no monday.com API token: save one in Settings")
        self.settings = settings or ClientSettings()
        try:
            api_version = check_api_version(self.settings.api_version)
        except ValueError as exc:
            raise MondayStopError(f"the API version in Settings: {exc}") from None
        self._token = token
        self._api_version = api_version
        self._sleep = sleep
        self._rng = rng or random.Random()
        if session is None:
            session = requests.Session()
            for prefix in ("https://", "http://"):
                session.mount(prefix, DeadlineAdapter())
        self._session = session
        self._scrubbed = _token_forms(token)
        self._session.headers.update(
            {
                "Content-Type": "application/json",
                "API-Version": api_version,
                "User-Agent": "orders-sync",
            }
        )
        self.stats = ClientStats()
        self.pacer = pacer or Pacer()
        self.versions = versions or VersionWatch()
        # Set by the operator's Cancel: every wait of this client wakes on it at once.
        self.cancel = cancel
        # Called at least once a second while the client waits (seconds left, why): a
        # window shows the wait as it goes instead of freezing on it.
        self.on_wait: Callable[[float, str], None] | None = None

    def __repr__(self) -> str:
        return f"MondayClient(url={self.settings.url!r}, api_version={self.settings.api_version!r})"

    def close(self) -> None:
        self._session.close()

    # --- pacing -------------------------------------------------------------------------

    def _note_complexity(self, complexity: dict[str, Any] | None) -> None:
        self.pacer.note(complexity)

    def wait_for_budget(self, cost: int) -> float:
        """Sleep until the budget should afford `cost`, from the last complexity reading."""
        if not self.settings.pace:
            self.check_cancel()
            return 0.0
        wait = self.pacer.wait_needed(cost)
        if wait > 0:
            log.info("pacing: the complexity budget is short, waiting %.1f s for it", wait)
            self._wait(wait, "pacing: waiting for monday.com's complexity budget")
            self.stats.waited_seconds += wait
        self.pacer.forget()  # unknown until the next reading
        self.check_cancel()
        return wait

    def check_cancel(self) -> None:
        if self.cancel is not None and self.cancel.is_set():
            raise Cancelled("cancelled by the operator")

    def _wait(self, seconds: float, reason: str) -> None:
        """Wait `seconds`, waking at once on cancel (Cancelled) and telling on_wait at least
        once a second. An injected sleep (tests record the waits, or fake the clock) is
        called once with the whole wait, as before."""
        if self._sleep is not time.sleep:
            if self.on_wait is not None:
                self.on_wait(seconds, reason)
            self._sleep(seconds)
            self.check_cancel()
            return
        end = time.monotonic() + seconds
        while True:
            self.check_cancel()
            left = end - time.monotonic()
            if left <= 0:
                return
            if self.on_wait is not None:
                self.on_wait(left, reason)
            step = min(1.0, left)
            if self.cancel is not None:
                self.cancel.wait(step)
            else:
                time.sleep(step)

    # --- one request --------------------------------------------------------------------

    def execute(
        self,
        query: str,
        variables: dict[str, Any] | None = None,
        *,
        mutation: bool = False,
        idempotency_key: str | None = None,
        before_resend: Callable[[], None] | None = None,
    ) -> Result:
        """Send one GraphQL request, retrying what is worth retrying, within the bound.

        `before_resend` runs before a mutation whose answer was lost (a timeout, a dropped
        connection: monday may have run it) is sent again; it may raise to stop the resend
        (the caller looks at the board first, and takes up what the lost request made).

        A read is paced as writes are (run_operations): it asks for `complexity` too, and
        first waits for the budget its last cost says it needs."""
        read = None if mutation else query
        if read is not None:
            query = with_complexity(query)
            self.wait_for_budget(self.pacer.read_cost(read))
        body = json.dumps(
            {"query": query, "variables": variables or {}},
            separators=(",", ":"),
            ensure_ascii=False,
        ).encode("utf-8")
        # API-Version is in the session's headers too; per request, it holds even for a
        # session that a caller passed in and changes.
        headers = {"Authorization": self._token, "API-Version": self._api_version}
        if mutation:
            headers["Idempotency-Key"] = idempotency_key or str(uuid.uuid4())
        waited = 0.0
        s = self.settings
        started = time.monotonic()
        for attempt in range(1, s.max_attempts + 1):
            try:
                result = self._once(body, headers, attempt, waited)
            except _Retry as retry:
                self.stats.count(retry.reason)
                if attempt == s.max_attempts:
                    raise RetryBudgetExhausted(
                        f"monday.com kept refusing ({retry.detail}) after {attempt} attempts "
                        f"over {time.monotonic() - started:.1f} s; nothing was lost: push "
                        "again later to resume"
                    ) from None
                backoff = min(s.max_backoff_seconds, s.base_backoff_seconds * 2 ** (attempt - 1))
                wait = retry.wait if retry.wait is not None else self._rng.uniform(0, backoff)
                # A little jitter on monday's own wait too, so parallel clients don't stampede.
                # Less for the budget: it comes back whole for every client at its reset,
                # which admits many requests at once; a late start is budget left unused.
                spread = 0.02 * wait + 0.02 if retry.budget else 0.1 * wait + 0.05
                wait = wait + self._rng.uniform(0, min(1.0, spread))
                if waited + wait > s.max_wait_seconds:
                    raise RetryBudgetExhausted(
                        f"monday.com asked to wait {wait:.0f} s more ({retry.reason}), beyond "
                        f"the {s.max_wait_seconds:g} s bound; nothing was lost: push again "
                        "later to resume"
                    ) from None
                log.warning(
                    "monday.com: %s; retry %d of %d in %.1f s",
                    retry.detail,
                    attempt,
                    s.max_attempts - 1,
                    wait,
                )
                self.stats.retries += 1
                self.stats.waited_seconds += wait
                waited += wait
                self._wait(wait, f"monday.com: {retry.detail}; retrying")
                if mutation and before_resend is not None and retry.reason in OUTCOME_UNKNOWN:
                    before_resend()
                continue
            if read is not None:
                self.pacer.note_read(read, result.complexity)
            return result
        raise AssertionError("unreachable")

    def _post(self, body: bytes, headers: dict[str, str]) -> tuple[requests.Response, bytes]:
        """One POST within the deadline: the response and its body, scrubbed of the token."""
        s = self.settings
        started = time.monotonic()
        with watch(s.deadline_seconds) as watched:
            try:
                response = self._session.post(
                    s.url,
                    data=body,
                    headers=headers,
                    timeout=(min(s.timeout_seconds, s.deadline_seconds), s.timeout_seconds),
                )
                content = response.content
            except requests.RequestException as exc:
                if not watched.fired:
                    raise
                raise _deadline_passed(s.deadline_seconds, time.monotonic() - started) from exc
        return response, self._scrub(content)

    def _scrub(self, content: bytes) -> bytes:
        for form in self._scrubbed:
            if form in content:
                content = content.replace(form, b"[token]")
        return content

    def _scrub_text(self, text: str) -> str:
        return self._scrub(text.encode("utf-8", "surrogatepass")).decode("utf-8", "replace")

    def _once(self, body: bytes, headers: dict[str, str], attempt: int, waited: float) -> Result:
        self.stats.requests += 1
        try:
            response, content = self._post(body, headers)
        except requests.Timeout:
            raise _Retry("timeout", None) from None
        except requests.exceptions.SSLError as exc:
            # A certificate that does not verify (a proxy intercepting HTTPS, a wrong URL)
            # will not verify the next time either: stop with what to check, rather than
            # retry it as a dropped connection and report monday.com as "refusing". Nothing
            # was sent: the TLS handshake fails before the request and its token leave.
            if "CERTIFICATE_VERIFY_FAILED" not in str(exc):
                raise _Retry("connection dropped", None) from None
            host = urlsplit(self.settings.url).hostname
            raise MondayStopError(
                f"the TLS certificate of {host} could not be verified, so nothing was sent: "
                "check the monday.com URL in Settings, or ask IT whether a proxy intercepts "
                "HTTPS"
            ) from None
        except (requests.ConnectionError, requests.exceptions.ChunkedEncodingError):
            # (cut off mid-answer: ChunkedEncodingError, "Connection broken")
            raise _Retry("connection dropped", None) from None
        except requests.exceptions.InvalidHeader:
            # requests names the header's value in this one: never let it out.
            raise MondayStopError(
                "the API token in Settings holds a character an HTTP header cannot carry "
                "(a line break, a leading space?): paste it again"
            ) from None
        except requests.RequestException as exc:
            raise MondayRequestError(
                f"the request to monday.com failed: {self._scrub_text(str(exc))}"
            ) from None
        status = response.status_code
        retry_after = _retry_after(response)
        try:
            payload = json.loads(content)
        except ValueError:
            payload = None
        errors = (payload.get("errors") or []) if isinstance(payload, dict) else []
        codes = {_code(e) for e in errors}
        if status in (401, 403) or codes & STOP_CODES:
            raise MondayStopError(_stop_message(status, errors))
        if errors and all(_gone(e, status) for e in errors):
            if any(not e.get("path") for e in errors):
                raise _item_gone(status, errors)
            status = 200  # per alias (a 404 for a one-mutation request): field errors
        # Only an error without a path speaks for the whole request. An error with a path
        # (even INTERNAL_SERVER_ERROR) is one alias's failure in an answer whose other
        # aliases ran: it is that alias's field error. Retrying the request would replay the
        # same answer (same Idempotency-Key) until the bound, stop the push and drop the
        # rows monday did.
        request_codes = {_code(e) for e in errors if not e.get("path")}
        if status in RETRYABLE_STATUS or request_codes & RETRYABLE_CODES:
            wait = retry_after if retry_after is not None else _retry_in(errors)
            if request_codes & BUDGET_CODES:
                wait = self.pacer.exhausted(wait)
            reason = next((c for c in codes if c), None) or f"HTTP {status}"
            raise _Retry(reason, wait, budget=bool(request_codes & BUDGET_CODES))
        if status != 200 or not isinstance(payload, dict):
            reason = self._scrub_text(response.reason or "")
            detail = "; ".join(_message(e) for e in errors) or reason or "no detail"
            raise MondayRequestError(f"monday.com answered HTTP {status}: {detail}")
        field_errors: dict[str, FieldError] = {}
        request_errors: list[str] = []
        for error in errors:
            path = error.get("path") or []
            if path:
                alias = str(path[0])
                field_errors.setdefault(
                    alias,
                    FieldError(alias, _code(error), _message(error), _data(error), _status(error)),
                )
            else:
                request_errors.append(f"{_code(error) or 'error'}: {_message(error)}")
        if request_errors:
            raise MondayRequestError(
                "monday.com rejected the request: " + "; ".join(request_errors)
            )
        data = payload.get("data") or {}
        complexity = data.get("complexity") if isinstance(data, dict) else None
        self._note_complexity(complexity)
        if isinstance(data, dict) and "version" in data:
            self.versions.note(self._api_version, data["version"])
        replayed = response.headers.get("Idempotency-Replayed", "").lower() == "true"
        if replayed:
            self.stats.replays += 1
        return Result(data, field_errors, complexity, attempt, waited, replayed)


def served_version(client: MondayClient) -> ServedVersion:
    """(kind, value) of the API version serving `client`'s requests, e.g. ("current",
    "2026-10"): what its setup already learned (the board read carries the `version` query,
    see board.BOARD_QUERY), else one `version` query. For a doctor, and Test connection."""
    known = client.versions.served
    if known is not None:
        return known
    client.execute(VERSION_QUERY)  # _once notes the answer in client.versions
    served = client.versions.served
    if served is None:
        raise MondayRequestError("monday.com's answer to the version query held no version")
    return served


def _token_forms(token: str) -> tuple[bytes, ...]:
    """The token as it may appear in a response body: as is, and JSON-escaped."""
    forms = {token.encode("utf-8", "surrogatepass")}
    for ascii_only in (True, False):
        forms.add(json.dumps(token, ensure_ascii=ascii_only)[1:-1].encode("utf-8", "replace"))
    return tuple(sorted(f for f in forms if len(f) >= 4))


def _deadline_passed(deadline: float, took: float) -> _Retry:
    return _Retry(
        "deadline",
        None,
        f"no complete answer within the {deadline:g} s deadline: cut off after {took:.1f} s",
    )


COMPLEXITY_FIELD = "complexity { before after query reset_in_x_seconds }"
_ASKS_COMPLEXITY = re.compile(r"\bcomplexity\s*\{")


def with_complexity(query: str) -> str:
    """A one-operation document that also asks for the `complexity` root field (monday
    answers it at the root only: https://developer.monday.com/api-reference/docs/complexity).
    A document that asks already, or that this cannot safely extend (fragments after the
    operation), is left as it is."""
    text = query.rstrip()
    if _ASKS_COMPLEXITY.search(text) or not text.endswith("}") or "fragment " in text:
        return query
    return f"{text[:-1].rstrip()} {COMPLEXITY_FIELD} }}"


def _code(error: dict[str, Any]) -> str:
    ext = error.get("extensions") or {}
    return str(ext.get("code") or error.get("error_code") or "")


def _message(error: dict[str, Any]) -> str:
    return str(error.get("message") or error.get("error_message") or "")


def _status(error: dict[str, Any]) -> int | None:
    value = (error.get("extensions") or {}).get("status_code", error.get("status_code"))
    try:
        return int(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def is_gone(code: str, message: str, status: int | None = None) -> bool:
    """Whether an error says the item it concerns does not exist (see GONE_CODES)."""
    if code in GONE_CODES:
        return True
    # The older pages' HTTP 500 (or a 404) for an id that does not exist: a plain internal
    # error code, and words naming the missing item. A 500 that does not name one is a
    # server fault, retried as such.
    generic = code in ("", "INTERNAL_SERVER_ERROR") or status in (404, 500)
    return generic and status != 200 and bool(_MISSING_ITEM.search(message))


def _gone(error: dict[str, Any], http_status: int) -> bool:
    status = _status(error)
    return is_gone(_code(error), _message(error), status if status is not None else http_status)


def _item_gone(http_status: int, errors: list[dict[str, Any]]) -> ItemGoneError:
    ids: list[str] = []
    for error in errors:
        data = _data(error)
        found = [str(data[k]) for k in _ITEM_ID_KEYS if data.get(k) not in (None, "")]
        found = found or re.findall(r"\b\d{4,}\b", _message(error))
        ids += [i for i in found if i not in ids]
    code = next((_code(e) for e in errors if _code(e)), "") or f"HTTP {http_status}"
    detail = "; ".join(_message(e) for e in errors)
    return ItemGoneError(
        f"monday.com answered HTTP {http_status}: {code}: {detail}", code, tuple(ids)
    )


def _data(error: dict[str, Any]) -> dict[str, Any]:
    data = (error.get("extensions") or {}).get("error_data")
    return data if isinstance(data, dict) else {}


def _retry_in(errors: list[dict[str, Any]]) -> float | None:
    for error in errors:
        ext = error.get("extensions") or {}
        for key in ("retry_in_seconds", "retryInSeconds"):
            value = ext.get(key, (ext.get("error_data") or {}).get(key))
            if value is not None:
                try:
                    return max(0.0, float(value))
                except (TypeError, ValueError):
                    continue
    return None


def _retry_after(response: requests.Response) -> float | None:
    value = response.headers.get("Retry-After")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None


def _stop_message(status: int, errors: list[dict[str, Any]]) -> str:
    codes = {_code(e) for e in errors}
    if "DAILY_LIMIT_EXCEEDED" in codes:
        # The limit resets at midnight UTC (support article "API Rate Limits":
        # https://support.monday.com/hc/en-us/articles/26471164460690-API-Rate-Limits).
        left = 86_400 - int(time.time()) % 86_400
        return (
            "monday.com's daily request limit for this account is spent: the push stops "
            "here and resumes from where it stopped once the limit resets at 00:00 UTC "
            f"(in {left // 3600} h {left % 3600 // 60:02d} min)"
        )
    if status == 403:
        return "monday.com refused permission (403): the token's user cannot change this board"
    return "monday.com refused the API token (401): check the token in Settings"
