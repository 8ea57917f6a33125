"""Min/max replenishment as a pure function: stock positions and rules in, a proposal out.

A location's position for a part is what it can count on: on hand − reserved + inbound (transfers on the
road count, so a proposal is not repeated while yesterday's is still arriving). At or below the reorder
point, the location is brought back up to its target:

1. vans first (an engineer without the part is a second visit): each van's need is filled from the
   warehouses nearest to the engineer's base, splitting across warehouses when one has too little;
2. then warehouses: their position after what they ship to vans, plus the van demand nobody could fill
   (charged to the van's nearest warehouse), becomes a purchase need.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

import msgspec

from core.domain.geo import distance_m


@dataclass(frozen=True, slots=True)
class Place:
    id: int
    code: str
    kind: str  # warehouse | van
    lat: float
    lon: float  # a van is placed at its engineer's base
    engineer_id: int | None = None


@dataclass(frozen=True, slots=True)
class Position:
    on_hand: int = 0
    reserved: int = 0
    inbound: int = 0

    @property
    def free(self) -> int:
        """What can be shipped out now."""
        return max(0, self.on_hand - self.reserved)

    @property
    def projected(self) -> int:
        return self.on_hand - self.reserved + self.inbound


@dataclass(frozen=True, slots=True)
class Rule:
    part_id: int
    location_id: int
    reorder_point: int
    target: int


class TransferLine(msgspec.Struct, kw_only=True):
    sku: str
    quantity: int


class ProposedTransfer(msgspec.Struct, kw_only=True):
    from_location_id: int
    from_code: str
    to_location_id: int
    to_code: str
    engineer_id: int | None
    lines: list[TransferLine]


class PurchaseNeed(msgspec.Struct, kw_only=True):
    location_id: int
    location_code: str
    sku: str
    quantity: int
    # Where the number comes from: the location's own min/max, van demand no warehouse could fill, or both.
    because: str


class Shortage(msgspec.Struct, kw_only=True):
    location_id: int
    location_code: str
    sku: str
    quantity: int


class Proposal(msgspec.Struct, kw_only=True):
    transfers: list[ProposedTransfer]
    purchases: list[PurchaseNeed]
    # Van needs no warehouse could cover tonight (they are in the purchases as well).
    unfilled: list[Shortage]


def propose(
    places: Iterable[Place],
    positions: Mapping[tuple[int, int], Position],
    rules: Iterable[Rule],
    skus: Mapping[int, str],
) -> Proposal:
    by_id = {p.id: p for p in places}
    warehouses = sorted((p for p in by_id.values() if p.kind == "warehouse"), key=lambda p: p.id)
    rules = sorted(rules, key=lambda r: (skus[r.part_id], by_id[r.location_id].code))
    free: dict[tuple[int, int], int] = {}
    shipped: dict[tuple[int, int], int] = {}
    moves: dict[tuple[int, int], dict[int, int]] = {}  # (from, to) → part → quantity
    unmet: dict[tuple[int, int], int] = {}  # (part, nearest warehouse) → quantity
    unfilled: list[Shortage] = []
    for rule in rules:
        van = by_id[rule.location_id]
        if van.kind != "van":
            continue
        position = positions.get((rule.part_id, van.id), Position()).projected
        if position > rule.reorder_point:
            continue
        need = rule.target - position
        nearest = sorted(warehouses, key=lambda w: (distance_m(van.lat, van.lon, w.lat, w.lon), w.id))
        for w in nearest:
            key = (rule.part_id, w.id)
            if key not in free:
                free[key] = positions.get(key, Position()).free
            take = min(need, free[key])
            if take <= 0:
                continue
            free[key] -= take
            shipped[(rule.part_id, w.id)] = shipped.get((rule.part_id, w.id), 0) + take
            lines = moves.setdefault((w.id, van.id), {})
            lines[rule.part_id] = lines.get(rule.part_id, 0) + take
            need -= take
            if need == 0:
                break
        if need > 0:
            unfilled.append(
                Shortage(location_id=van.id, location_code=van.code, sku=skus[rule.part_id], quantity=need)
            )
            if nearest:
                key = (rule.part_id, nearest[0].id)
                unmet[key] = unmet.get(key, 0) + need
    transfers = [
        ProposedTransfer(
            from_location_id=src,
            from_code=by_id[src].code,
            to_location_id=dst,
            to_code=by_id[dst].code,
            engineer_id=by_id[dst].engineer_id,
            lines=[
                TransferLine(sku=skus[p], quantity=q)
                for p, q in sorted(parts.items(), key=lambda i: skus[i[0]])
            ],
        )
        for (src, dst), parts in sorted(
            moves.items(), key=lambda m: (by_id[m[0][0]].code, by_id[m[0][1]].code)
        )
    ]
    return Proposal(
        transfers=transfers,
        purchases=_purchases(by_id, positions, rules, skus, shipped, unmet),
        unfilled=unfilled,
    )


def _purchases(
    by_id: Mapping[int, Place],
    positions: Mapping[tuple[int, int], Position],
    rules: Iterable[Rule],
    skus: Mapping[int, str],
    shipped: Mapping[tuple[int, int], int],
    unmet: Mapping[tuple[int, int], int],
) -> list[PurchaseNeed]:
    own: dict[tuple[int, int], int] = {}
    for rule in rules:
        if by_id[rule.location_id].kind != "warehouse":
            continue
        key = (rule.part_id, rule.location_id)
        projected = positions.get(key, Position()).projected - shipped.get(key, 0)
        if projected <= rule.reorder_point:
            own[key] = rule.target - projected
    needs = []
    for key in sorted(set(own) | set(unmet), key=lambda k: (by_id[k[1]].code, skus[k[0]])):
        reasons = [
            text for text, amount in (("min/max", own.get(key)), ("van demand", unmet.get(key))) if amount
        ]
        place = by_id[key[1]]
        needs.append(
            PurchaseNeed(
                location_id=place.id,
                location_code=place.code,
                sku=skus[key[0]],
                quantity=own.get(key, 0) + unmet.get(key, 0),
                because=" + ".join(reasons),
            )
        )
    return needs
