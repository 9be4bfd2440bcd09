"""Which board item is which order: adoption's classifier (pure).

Items the earlier scripts made carry no record_uuid; only their values tie them to order
lines. Orders and items are matched on the match columns (by default the order number,
style and colour), each value normalised as the customer map normalises names (what prints,
case and spacing folded), and classified:

- matched: one item and one order share a key (or the item already carries the order's
  record_uuid, or the sync state names it);
- ambiguous: several items, or several orders, share a key: never guessed;
- board only: an item no order matches (or one carrying the record_uuid of an order that
  is not this customer's to adopt: it is never given a second); source only: an order no
  item matches.

An operator's choice ({record_uuid: item id}) settles an ambiguous order, or pairs a
source-only order with a board-only item; the other members of its group are then left as
they are (their items board only, their orders source only).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from .board_read import BoardItem
from .columns import COLOUR, ORDER_NUMBER, STYLE
from .customers import fold
from .models import Record, RowError
from .records import HashedFrame

DEFAULT_MATCH = (ORDER_NUMBER, STYLE, COLOUR)

Key = tuple[str, ...]


class ChoiceError(ValueError):
    """An operator's choice names no order or item that can be paired."""


@dataclass(frozen=True, slots=True)
class Pair:
    order: Record
    item: BoardItem
    linked: bool = False  # the item already carries the order's record_uuid (or state)


@dataclass(frozen=True, slots=True)
class Ambiguous:
    key: Key  # normalised
    orders: tuple[Record, ...]
    items: tuple[BoardItem, ...]
    shown: tuple[str, ...] = ()  # the match values as the first order has them

    @property
    def reason(self) -> str:
        if len(self.items) > 1 and len(self.orders) > 1:
            who = f"{len(self.orders)} orders and {len(self.items)} board items"
        elif len(self.items) > 1:
            who = f"{len(self.items)} board items"
        else:
            who = f"{len(self.orders)} orders"
        ids = ", ".join(i.item_id for i in self.items)
        return f"{who} share the match values {' / '.join(self.shown or self.key)} (items {ids})"


@dataclass(slots=True)
class Classification:
    matched: list[Pair] = field(default_factory=list)
    ambiguous: list[Ambiguous] = field(default_factory=list)
    board_only: list[BoardItem] = field(default_factory=list)
    source_only: list[Record] = field(default_factory=list)

    def counts(self) -> dict[str, int]:
        return {
            "matched": len(self.matched),
            "ambiguous_orders": sum(len(a.orders) for a in self.ambiguous),
            "ambiguous_items": sum(len(a.items) for a in self.ambiguous),
            "board_only": len(self.board_only),
            "source_only": len(self.source_only),
        }


def match_key(values: Mapping[str, str | None], columns: Sequence[str]) -> Key | None:
    """The normalised match values; None when every one is blank (nothing to match on)."""
    key = tuple(fold(values.get(c) or "") for c in columns)
    return key if any(key) else None


def classify(
    orders: Sequence[Record],
    items: Sequence[BoardItem],
    columns: Sequence[str] = DEFAULT_MATCH,
    *,
    linked: Mapping[str, str] | None = None,
    chosen: Mapping[str, str] | None = None,
) -> Classification:
    """Classify every order and every item once. `linked`: {record_uuid: item id} the sync
    state knows; `chosen`: the operator's pairs, which win over the keys."""
    out = Classification()
    by_uuid = {o.record_uuid: o for o in orders}
    by_id = {i.item_id: i for i in items}
    _check_choices(chosen or {}, by_uuid, by_id)
    paired_orders: set[str] = set()
    paired_items: set[str] = set()

    def pair(order: Record, item: BoardItem, is_linked: bool) -> None:
        out.matched.append(Pair(order, item, is_linked))
        paired_orders.add(order.record_uuid)
        paired_items.add(item.item_id)

    known = dict(linked or {})
    for item in items:  # an item that says which order it is
        if item.record_uuid in by_uuid and item.record_uuid not in known:
            known[item.record_uuid] = item.item_id
    for uid, item_id in known.items():
        if uid in by_uuid and item_id in by_id and item_id not in paired_items:
            pair(by_uuid[uid], by_id[item_id], True)
    for uid, item_id in (chosen or {}).items():
        if known.get(uid) == item_id:
            continue  # chosen before, and linked since
        if uid in paired_orders or item_id in paired_items:
            raise ChoiceError(f"order {uid} or item {item_id} is linked already")
        pair(by_uuid[uid], by_id[item_id], False)
    groups: dict[Key, tuple[list[Record], list[BoardItem]]] = {}
    for order in orders:
        if order.record_uuid in paired_orders:
            continue
        key = match_key(order.fields, columns)
        if key is None:
            out.source_only.append(order)
        else:
            groups.setdefault(key, ([], []))[0].append(order)
    for item in items:
        if item.item_id in paired_items:
            continue
        if item.record_uuid:
            # It says it is another order's (synced, or of another customer now): never
            # given a second identity.
            out.board_only.append(item)
            continue
        key = match_key(item.fields, columns)
        if key is None or key not in groups:
            out.board_only.append(item)
        else:
            groups[key][1].append(item)
    for key, (group_orders, group_items) in groups.items():
        if not group_items:
            out.source_only.extend(group_orders)
        elif len(group_orders) == 1 and len(group_items) == 1:
            pair(group_orders[0], group_items[0], False)
        else:
            shown = tuple(str(group_orders[0].fields.get(c) or "") for c in columns)
            out.ambiguous.append(Ambiguous(key, tuple(group_orders), tuple(group_items), shown))
    return out


def _check_choices(
    chosen: Mapping[str, str], orders: Mapping[str, Record], items: Mapping[str, BoardItem]
) -> None:
    taken: dict[str, str] = {}
    for uid, item_id in chosen.items():
        if uid not in orders:
            raise ChoiceError(f"no order {uid} of this customer to choose an item for")
        if item_id not in items:
            raise ChoiceError(f"no item {item_id} in this customer's group on the board")
        if items[item_id].record_uuid and items[item_id].record_uuid != uid:
            raise ChoiceError(
                f"item {item_id} carries the record_uuid {items[item_id].record_uuid}: "
                "it is another order's"
            )
        if item_id in taken:
            raise ChoiceError(f"item {item_id} is chosen for two orders")
        taken[item_id] = uid


HELD_FIELD = "board items"  # how a held order's RowError names what holds it


def withhold(hashed: HashedFrame, held: Mapping[str, str], customer_hint: str = "NAME") -> int:
    """Hold these orders out of a detection ({record_uuid: why}): each becomes an invalid
    row (no hash) with its reason and how to settle it, as a malformed row is listed. A row
    invalid already keeps its own error. Returns how many were held."""
    if not held:
        return 0
    numbers = hashed.fields.get(ORDER_NUMBER) or [None] * len(hashed.uuids)
    count = 0
    for i, uid in enumerate(hashed.uuids):
        if uid is None or uid not in held or hashed.hashes[i] is None:
            continue
        customer = hashed.customers[i] or customer_hint
        number = numbers[i]
        hashed.hashes[i] = None
        hashed.errors.append(
            RowError(
                uid,
                number,
                HELD_FIELD,
                f"held out of staging: {held[uid]}; choose which item it is in Adopt board "
                f"items, or `orders-sync adopt --customer {customer!r} --choose "
                f"{number or uid}=ITEM_ID`",
            )
        )
        count += 1
    return count
