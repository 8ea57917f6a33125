"""What others read of the stock: the optimizer's parts per van, the app's "my van", a job's parts used.

All reads, no writes: these are cheap aggregate queries over `stock_levels` and the ledger.
"""

from __future__ import annotations

from collections.abc import Collection, Iterable

import msgspec
import sqlalchemy as sa
from sqlalchemy.orm import Session

from inventory.ledger import LocationKind, MovementKind
from inventory.models import Part, StockLevel, StockLocation, StockMovement


class LevelView(msgspec.Struct, kw_only=True):
    part_id: int
    sku: str
    location_id: int
    location_code: str
    on_hand: int
    reserved: int
    available: int
    inbound: int


def van_stock(
    session: Session,
    *,
    include_reserved: bool = False,
    skus: Collection[str] | None = None,
    engineer_ids: Collection[int] | None = None,
) -> dict[int, dict[str, int]]:
    """Engineer id → SKU → units available in their van (every engineer with an active van is present).

    Available means on hand minus what is reserved for work orders. A re-plan that moves the very
    visits those reservations belong to can ask for `include_reserved=True` (on hand) instead.
    The optimizer only cares about the SKUs its open work orders need: pass them as `skus` (and the
    territory's engineers as `engineer_ids`) and the answer stays small however full the vans are.
    """
    van = sa.and_(StockLocation.kind == LocationKind.VAN.value, StockLocation.active)
    if engineer_ids is not None:
        van = sa.and_(van, StockLocation.engineer_id.in_(list(engineer_ids)))
    vans = session.execute(sa.select(StockLocation.engineer_id).where(van)).scalars().all()
    out: dict[int, dict[str, int]] = {engineer_id: {} for engineer_id in vans if engineer_id is not None}
    amount = StockLevel.on_hand if include_reserved else StockLevel.on_hand - StockLevel.reserved
    query = (
        sa.select(StockLocation.engineer_id, Part.sku, amount)
        .join(StockLocation, StockLocation.id == StockLevel.location_id)
        .join(Part, Part.id == StockLevel.part_id)
        .where(van, amount > 0)
    )
    if skus is not None:
        query = query.where(Part.sku.in_(list(skus)))
    for engineer_id, sku, quantity in session.execute(query):
        out[engineer_id][sku] = quantity
    return out


def van_stock_of(session: Session, engineer_id: int) -> dict[str, int]:
    """SKU → units available in one engineer's van (empty when they have no van)."""
    rows = session.execute(
        sa.select(Part.sku, StockLevel.on_hand - StockLevel.reserved)
        .join(StockLocation, StockLocation.id == StockLevel.location_id)
        .join(Part, Part.id == StockLevel.part_id)
        .where(
            StockLocation.engineer_id == engineer_id,
            StockLevel.on_hand - StockLevel.reserved > 0,
        )
    )
    return dict(rows.tuples().all())


def parts_used(session: Session, work_order_id: int) -> dict[str, int]:
    """SKU → units consumed for a work order, net of returns (what a settlement charges)."""
    used = sa.func.sum(-StockMovement.on_hand_delta)
    rows = session.execute(
        sa.select(Part.sku, used)
        .join(Part, Part.id == StockMovement.part_id)
        .where(
            StockMovement.work_order_id == work_order_id,
            StockMovement.kind.in_([MovementKind.CONSUME.value, MovementKind.RETURN.value]),
        )
        .group_by(Part.sku)
        .having(used > 0)
    )
    return {sku: int(quantity) for sku, quantity in rows}


def levels(session: Session, keys: Iterable[tuple[int, int]]) -> list[LevelView]:
    """The current levels of the given (part, location) pairs, in that order."""
    wanted = list(dict.fromkeys(keys))
    if not wanted:
        return []
    rows = session.execute(
        sa.select(
            StockLevel.part_id,
            Part.sku,
            StockLevel.location_id,
            StockLocation.code,
            StockLevel.on_hand,
            StockLevel.reserved,
            StockLevel.inbound,
        )
        .join(Part, Part.id == StockLevel.part_id)
        .join(StockLocation, StockLocation.id == StockLevel.location_id)
        .where(sa.tuple_(StockLevel.part_id, StockLevel.location_id).in_(wanted))
    )
    found = {(r.part_id, r.location_id): r for r in rows}
    return [
        LevelView(
            part_id=r.part_id,
            sku=r.sku,
            location_id=r.location_id,
            location_code=r.code,
            on_hand=r.on_hand,
            reserved=r.reserved,
            available=r.on_hand - r.reserved,
            inbound=r.inbound,
        )
        for key in wanted
        if (r := found.get(key)) is not None
    ]
