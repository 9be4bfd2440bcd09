"""Every knob of the sandbox. Defaults are monday's values for an Enterprise account using a
personal API token (docs as of 2026-09, see shared/monday/REFERENCE.md)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any

from orders_sync_gui.core.models import Record

from .errors import GONE_STYLES
from .versions import KNOWN_VERSIONS

FAULT_KINDS = (
    "error_500",  # HTTP 500, nothing executed
    "drop_before_execute",  # socket closed without a response, nothing executed
    "drop_after_execute",  # executed (and cached under its Idempotency-Key), then dropped
    "delay",  # waits `delay_seconds`, then handled normally
    "locked_423",  # HTTP 423 "Resource is currently locked", nothing executed
    # nothing executed; the answer (an HTTP 500) leaves one byte every `trickle_seconds`,
    # headers included: no single read ever waits long, the whole never ends in time
    "trickle",
    # nothing executed; every field of the request fails (HTTP 200, per alias) with words
    # that echo the request's Authorization header back
    "echo_auth",
    # nothing executed; HTTP 400 for the whole request, its message echoing Authorization
    "echo_auth_request",
)

DEFAULT_MUTATION_COSTS: dict[str, int] = {
    "create_item": 10_000,
    "create_subitem": 10_000,
    "change_multiple_column_values": 10_000,
    "archive_item": 10_000,
    "delete_item": 10_000,
    "create_group": 10_000,
    "delete_group": 10_000,
}


@dataclass(frozen=True)
class FaultConfig:
    """Which GraphQL requests fail on purpose, deterministically.

    A request is hit when it is the `every_n`-th eligible one (n, 2n, ...) or, with `rate`,
    when a `random.Random(seed)` draw falls under it. Hits take their kind from `kinds` in
    turn (first hit kinds[0], second kinds[1], ...). Only mutations are eligible when
    `mutations_only` is set. With `max_hits`, no more requests than that are hit (0: no
    limit): "the first mutation's answer is lost, once".
    """

    every_n: int = 0
    rate: float = 0.0
    seed: int = 0
    kinds: tuple[str, ...] = ("error_500",)
    delay_seconds: float = 1.0
    trickle_seconds: float = 2.0  # between two bytes of a "trickle" answer
    mutations_only: bool = False
    max_hits: int = 0

    def __post_init__(self) -> None:
        unknown = [k for k in self.kinds if k not in FAULT_KINDS]
        if unknown or not self.kinds:
            raise ValueError(f"unknown fault kinds {unknown}; known: {', '.join(FAULT_KINDS)}")
        if self.every_n < 0 or not 0.0 <= self.rate <= 1.0 or self.delay_seconds < 0:
            raise ValueError("every_n must be >= 0, rate in [0, 1], delay_seconds >= 0")
        if self.trickle_seconds <= 0:
            raise ValueError("trickle_seconds must be > 0")

    @property
    def enabled(self) -> bool:
        return self.every_n > 0 or self.rate > 0

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["kinds"] = list(self.kinds)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> FaultConfig:
        known = {f.name for f in fields(cls)}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown fault settings {sorted(unknown)}")
        values = dict(data)
        if "kinds" in values:
            kinds = values["kinds"]
            values["kinds"] = (kinds,) if isinstance(kinds, str) else tuple(kinds)
        return cls(**values)


@dataclass(frozen=True)
class LegacyMess:
    """What time did to a board the earlier scripts filled (legacy.py), as shares: items
    with one mapped value edited by hand since, orders with two items (a script run twice),
    orders never put on the board, and items whose order is gone from the source. Each is
    rounded up, so a share above 0 of a small board is at least one."""

    edited: float = 0.02
    duplicated: float = 0.01
    missing: float = 0.01
    orphan: float = 0.01

    def __post_init__(self) -> None:
        shares = (self.edited, self.duplicated, self.missing, self.orphan)
        if not all(0.0 <= s <= 1.0 for s in shares) or self.duplicated + self.missing > 1.0:
            raise ValueError("each share must be in [0, 1], duplicated + missing at most 1")


@dataclass
class SandboxConfig:
    # --- server
    host: str = "127.0.0.1"  # loopback only; anything else is refused
    port: int = 0  # 0 picks a free port
    token: str = "sandbox-token"  # the exact `Authorization` header value accepted
    # Personal tokens of other users of the same account, accepted too. Every limit is the
    # account's, whichever token and connection a request comes by: monday's complexity
    # budget, minute and daily limits are per account
    # (https://developer.monday.com/api-reference/docs/rate-limits), so several workers (or
    # users) spend one budget. The IP limit alone is per address.
    account_tokens: tuple[str, ...] = ()
    account_id: int = 90_000_001

    # --- board layout
    board_id: int = 1_800_000_001
    subitems_board_id: int | None = None  # None: board_id + 1
    board_name: str | None = None  # None: the mapping's board_name
    mapping: dict[str, Any] | None = None  # None: resources/board_mapping.json
    extra_columns: tuple[dict[str, Any], ...] = ()  # {"column_id", "title", "type"}
    extra_subitem_columns: tuple[dict[str, Any], ...] = ()
    missing_columns: tuple[str, ...] = ()  # column ids left off both boards
    labels: dict[str, list[str]] = field(default_factory=dict)  # labels that already exist
    first_item_id: int = 1_900_000_001
    # JSON snapshot + journal; loaded on start. Every mutation request that changed
    # something is journaled and fsync'd before its answer (state.py): no debounce.
    state_file: Path | None = None
    # No effect. It once debounced the saves (answering before saving: a kill lost answered
    # writes); still accepted so that configs written for it construct.
    state_save_interval: float = 0.0

    # --- data limits
    max_items_per_board: int = 10_000
    max_page_limit: int = 500
    max_items_query_ids: int = 100
    cursor_ttl_seconds: float = 3600.0

    # --- rate limits; every "per minute" window lasts `window_seconds`
    window_seconds: float = 60.0
    complexity_budget: int = 10_000_000
    max_complexity_per_query: int = 5_000_000
    complexity_error_status: int = 429  # HTTP status of COMPLEXITY_BUDGET_EXHAUSTED
    requests_per_minute: int = 5_000
    # Mutations (aliased fields) a minute, besides the budget: 2,000 (rate-limits page);
    # None: no cap.
    mutations_per_minute: int | None = 2_000
    max_concurrency: int = 250
    daily_limit: int = 25_000
    # A day's length; days start on its multiples since the Unix epoch (UTC), so 86,400
    # resets at every 00:00 UTC, as monday's daily limit does (limits.py).
    daily_window_seconds: float = 86_400.0
    refused_call_weight: float = 0.1  # what a call a rate limit refused counts toward the day
    ip_limit: int | None = 5_000  # None disables the IP limit
    ip_window_seconds: float = 10.0

    # --- complexity cost model (see complexity.py)
    mutation_costs: dict[str, int] = field(default_factory=lambda: dict(DEFAULT_MUTATION_COSTS))
    read_object_cost: int = 1
    list_estimate: int = 10
    subitems_weight: int = 10  # nested subitems weigh this many times their objects

    # --- how a mutation on an item that does not exist is answered (errors.GONE_STYLES)
    gone_style: str = "invalid_item_id"

    # --- API versions (versions.py): version name -> kind. A request without `API-Version`
    # gets the current one, or, with `api_version_required`, HTTP 400 API_VERSION_REQUIRED
    # (what monday announced for a date still to be set).
    api_versions: dict[str, str] = field(default_factory=lambda: dict(KNOWN_VERSIONS))
    api_version_required: bool = False

    # --- idempotency and faults
    idempotency_enabled: bool = True  # False: `Idempotency-Key` ignored, every request runs
    idempotency_ttl_seconds: float = 1800.0  # how long a key's response is replayed (30 min)
    faults: FaultConfig = field(default_factory=FaultConfig)

    # --- onboarding an existing board (column_ids.py, legacy.py)
    # "generated": every column of the mapping gets a monday-like generated id
    # (`text_mkq1x2ab`) instead of the template's, titles and types kept; ids in `labels`
    # and `missing_columns` are the template's, and follow.
    column_ids: str = "template"
    board_seed: int = 0  # seeds the generated ids and the legacy fill's mess
    # Orders the earlier scripts put on the board (core Records, read from a database's
    # ORDERS_UNIFIED by services/legacy_source.py: the sandbox never reads a database).
    # An empty board is filled with them at start: one item per order in a group per
    # customer, subitems per size, the record uuid column left empty, and `legacy_mess`.
    legacy_records: tuple[Record, ...] | None = None
    legacy_mess: LegacyMess = field(default_factory=LegacyMess)
    legacy_truth_file: Path | None = None  # where the fill writes what it did (JSON)

    def __post_init__(self) -> None:
        if self.gone_style not in GONE_STYLES:
            raise ValueError(
                f"unknown gone_style {self.gone_style!r}; known: {', '.join(GONE_STYLES)}"
            )

    @property
    def resolved_subitems_board_id(self) -> int:
        return self.subitems_board_id or self.board_id + 1
