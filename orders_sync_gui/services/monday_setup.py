"""Where the push finds monday.com: URL, API version, board, token and the account's limits.

The API version is settings.json's `monday.api_version` (the Settings dialog's field),
else monday/versions.py's DEFAULT_API_VERSION; every request of the setup's clients sends it.

Sources, first found wins: arguments (the GUI passes its session token), environment
(ORDERS_SYNC_MONDAY_URL, MONDAY_API_TOKEN, ORDERS_SYNC_BOARD_ID: for scheduled runs),
settings.json's "monday" section, the mapping's board id; the token otherwise from the
OS keyring. Limits default to monday's documented values and can be set in settings.json.
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

import requests

from ..core.mapping import BoardMapping
from ..monday.client import (
    DEFAULT_API_URL,
    ClientSettings,
    MondayClient,
    Pacer,
)
from ..monday.operations import ChunkPolicy
from ..monday.versions import VersionWatch, configured_api_version
from ..secrets import get_secret, monday_token_key
from ..settings import load_settings
from .context import Context

URL_ENV = "ORDERS_SYNC_MONDAY_URL"
TOKEN_ENV = "MONDAY_API_TOKEN"
BOARD_ENV = "ORDERS_SYNC_BOARD_ID"


class MondaySetupError(RuntimeError):
    pass


@dataclass(frozen=True, slots=True)
class Limits:
    """The account's limits (monday's documentation; a Pro plan by default)."""

    complexity_per_minute: int = 10_000_000
    max_complexity_per_request: int = 5_000_000
    requests_per_minute: int = 2_500
    # Mutations a minute besides the budget (https://developer.monday.com/api-reference/docs/
    # rate-limits): a request holds no more, or it could never pass.
    mutations_per_minute: int = 2_000
    daily_requests: int = 10_000  # reset at 00:00 UTC
    mutation_cost: int = 10_000  # complexity of one create/change/delete, as monday bills it
    # 50 mutations is 500,000 points, a twentieth of the budget: few requests, and a lost
    # response is cheap to redo (bench_push.py: 0.058 requests per mutation at 25 across
    # small customer batches; the target is 0.05).
    max_mutations_per_request: int = 50
    seconds_per_request: float = 0.6  # round trip of one batched request, for the estimate
    window_seconds: float = 60.0  # the "minute" of the budget (the sandbox can compress it)
    # Items a board (and a subitems board) may hold where monday does not say (items_limit):
    # 10,000 on non-Enterprise plans.
    max_items_per_board: int = 10_000

    @classmethod
    def from_json(cls, raw: dict[str, Any]) -> Limits:
        known = {f.name for f in fields(cls)}
        return cls(**{k: v for k, v in raw.items() if k in known})

    def chunk_policy(self) -> ChunkPolicy:
        return ChunkPolicy(
            max_mutations=max(1, min(self.max_mutations_per_request, self.mutations_per_minute)),
            max_complexity=self.max_complexity_per_request,
            budget_per_window=self.complexity_per_minute,
        )


@dataclass(frozen=True, slots=True)
class ClientHooks:
    """How the setup's clients wait and draw their backoff jitter: the real clock and a
    fresh random source by default. Tests pass a sleep that records every wait, and a seed
    so that each client's jitter repeats from run to run."""

    sleep: Callable[[float], None] = time.sleep
    seed: int | None = None  # None: seeded from the OS, as random.Random() is

    def rng(self) -> random.Random:
        """A new random source for one client (seeded alike for every client)."""
        return random.Random(self.seed)


@dataclass(slots=True)
class MondaySetup:
    url: str
    api_version: str
    board_id: str | None
    token: str = field(repr=False)
    limits: Limits = field(default_factory=Limits)
    timeout_seconds: float = 30.0
    deadline_seconds: float = 90.0  # a whole request, by the wall clock (ClientSettings)
    max_attempts: int = 8
    max_wait_seconds: float = 300.0
    base_backoff_seconds: float = 1.0
    max_backoff_seconds: float = 60.0
    pace: bool = True  # wait for the complexity budget (ClientSettings.pace)
    # Shared by every push of this setup: the budget reading, the API version monday served
    # (read once, with the board), and the board's layout.
    pacer: Pacer = field(default_factory=Pacer, repr=False, compare=False)
    versions: VersionWatch = field(default_factory=VersionWatch, repr=False, compare=False)
    board_cache: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)
    hooks: ClientHooks = field(default_factory=ClientHooks, repr=False, compare=False)

    def __repr__(self) -> str:  # never the token
        return f"MondaySetup(url={self.url!r}, board_id={self.board_id!r})"

    def client(
        self, session: requests.Session | None = None, cancel: threading.Event | None = None
    ) -> MondayClient:
        """A client of this setup; `session` carries adapters of its own (a transcript
        recorder, a replay of one); `cancel` wakes its waits (see MondayClient.cancel)."""
        return MondayClient(
            self.token,
            ClientSettings(
                url=self.url,
                api_version=self.api_version,
                timeout_seconds=self.timeout_seconds,
                deadline_seconds=self.deadline_seconds,
                max_attempts=self.max_attempts,
                max_wait_seconds=self.max_wait_seconds,
                base_backoff_seconds=self.base_backoff_seconds,
                max_backoff_seconds=self.max_backoff_seconds,
                pace=self.pace,
            ),
            sleep=self.hooks.sleep,
            rng=self.hooks.rng(),
            session=session,
            pacer=self.pacer,
            versions=self.versions,
            cancel=cancel,
        )


def monday_setup(
    ctx: Context,
    *,
    url: str | None = None,
    token: str | None = None,
    board_id: str | None = None,
    limits: Limits | None = None,
) -> MondaySetup:
    return setup_for_mapping(ctx.mapping, url=url, token=token, board_id=board_id, limits=limits)


def setup_for_mapping(
    mapping: BoardMapping | None,
    *,
    url: str | None = None,
    token: str | None = None,
    board_id: str | None = None,
    limits: Limits | None = None,
) -> MondaySetup:
    """monday_setup without a database: the mapping only names the board, last of all."""
    section = load_settings().get("monday") or {}
    url = url or os.environ.get(URL_ENV) or section.get("url") or DEFAULT_API_URL
    token = token or os.environ.get(TOKEN_ENV) or get_secret(monday_token_key(url))
    if not token:
        raise MondaySetupError(
            f"no monday.com API token for {url}: save it in Settings (kept in the OS keyring) "
            f"or set {TOKEN_ENV} for a scheduled run"
        )
    board = board_id or os.environ.get(BOARD_ENV) or section.get("board_id")
    board = board or (mapping.board_id if mapping is not None else None)
    return MondaySetup(
        url=url,
        api_version=configured_api_version(section.get("api_version")),
        board_id=str(board) if board else None,
        token=token,
        limits=limits or Limits.from_json(section.get("limits") or {}),
        timeout_seconds=float(section.get("timeout_seconds", 30.0)),
        deadline_seconds=float(section.get("deadline_seconds", 90.0)),
        max_attempts=int(section.get("max_attempts", 8)),
        max_wait_seconds=float(section.get("max_wait_seconds", 300.0)),
        base_backoff_seconds=float(section.get("base_backoff_seconds", 1.0)),
        max_backoff_seconds=float(section.get("max_backoff_seconds", 60.0)),
    )
