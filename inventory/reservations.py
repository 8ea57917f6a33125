"""Reservations: a planned job's parts set aside, in the engineer's van if it has them, else in the
nearest warehouse that does (and dispatch is told a pickup is needed); released when the job is
reassigned, declined, cancelled or finished without them.

`reserve_for_visit` is idempotent per visit (a second call finds the visit's reservations and does
nothing), and the releases are idempotent by nature (nothing active is left to release), so a
redelivered event or a retried call changes nothing twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from core.domain.errors import NotFound
from core.domain.geo import distance_m
from core.domain.lifecycle import ACTIVE_VISIT_STATUSES
from core.services.context import ServiceContext
from core.services.events import audit, emit
from core.services.workorders import current_visit
from core.store.models import Engineer, Visit, WorkOrder
from inventory.ledger import Delta, LocationKind, MovementKind, ReservationStatus, delta_for
from inventory.lines import parts_by_sku
from inventory.locations import van_of
from inventory.models import Part, StockLevel, StockLocation, StockReservation
from inventory.posting import Entry, append, change_level, post


@dataclass(frozen=True, slots=True)
class Shortage:
    sku: str
    quantity: int
    reason: str


@dataclass(frozen=True, slots=True)
class Reserved:
    reservations: list[StockReservation] = field(default_factory=list)
    shortages: list[Shortage] = field(default_factory=list)

    @property
    def pickups(self) -> list[StockReservation]:
        return [r for r in self.reservations if r.pickup_needed]


def reserve_for_visit(ctx: ServiceContext, visit_id: int, *, again: bool = False) -> Reserved:
    """Reserve the work order's `required_parts` for this visit's engineer (no-op if already done).

    `again`: the parts the job needs have changed; what it holds goes back first, then the new list is
    reserved.
    """
    # Locked: two deliveries for the same visit (an event and a retried call) reserve one after the other,
    # so the second sees the first's reservations.
    visit = ctx.session.scalar(sa.select(Visit).where(Visit.id == visit_id).with_for_update())
    if visit is None:
        raise NotFound(f"visit {visit_id} does not exist")
    existing = _reservations(ctx, StockReservation.visit_id == visit.id)
    if visit.status not in ACTIVE_VISIT_STATUSES or (existing and not again):
        return Reserved([r for r in existing if r.status == ReservationStatus.ACTIVE])
    wo = visit.work_order
    # A reassignment whose release has not come through yet: the previous visit's parts go back first.
    held = [
        StockReservation.work_order_id == wo.id,
        StockReservation.status == ReservationStatus.ACTIVE.value,
    ]
    if not again:
        held.append(StockReservation.visit_id != visit.id)
    stale = _reservations(ctx, *held, lock=True)
    why = "the parts the job needs changed" if again else "the work order was reassigned"
    released = _release(ctx, stale, why)
    needs = _needs(wo)
    if not needs:
        if released:
            ctx.session.commit()
        return Reserved()
    engineer = ctx.session.get_one(Engineer, visit.engineer_id)
    parts = parts_by_sku(ctx.session, list(needs))
    van = van_of(ctx, engineer.id)
    made: list[StockReservation] = []
    short: list[Shortage] = []
    for sku, quantity in needs.items():
        part = parts.get(sku)
        if part is None or not part.active:
            short.append(Shortage(sku, quantity, "not in the catalogue"))
            continue
        reservation = _reserve_one(ctx, wo, visit, part, quantity, van, engineer)
        if reservation is None:
            short.append(Shortage(sku, quantity, f"no van or warehouse has {quantity} available"))
        else:
            made.append(reservation)
    _announce(ctx, wo, visit, made, short)
    ctx.session.commit()
    return Reserved(made, short)


def reserve_again(ctx: ServiceContext, wo_id: int) -> Reserved:
    """The job's parts list changed: re-reserve for its current visit, if it has one."""
    wo = ctx.session.get(WorkOrder, wo_id)
    visit = current_visit(wo) if wo is not None else None
    return reserve_for_visit(ctx, visit.id, again=True) if visit is not None else Reserved()


def release_for_visit(ctx: ServiceContext, visit_id: int, reason: str) -> int:
    """Give back what this visit held; the number of reservations released."""
    held = _reservations(
        ctx,
        StockReservation.visit_id == visit_id,
        StockReservation.status == ReservationStatus.ACTIVE.value,
        lock=True,
    )
    return _release_and_commit(ctx, held, reason)


def release_for_work_order(ctx: ServiceContext, wo_id: int, reason: str) -> int:
    """Give back everything still held for the work order (cancelled, or finished without it)."""
    held = _reservations(
        ctx,
        StockReservation.work_order_id == wo_id,
        StockReservation.status == ReservationStatus.ACTIVE.value,
        lock=True,
    )
    return _release_and_commit(ctx, held, reason)


def _needs(wo: WorkOrder) -> dict[str, int]:
    needs: dict[str, int] = {}
    for item in wo.required_parts:
        needs[item["sku"]] = needs.get(item["sku"], 0) + int(item.get("quantity", 1))
    return needs


def _reserve_one(
    ctx: ServiceContext,
    wo: WorkOrder,
    visit: Visit,
    part: Part,
    quantity: int,
    van: StockLocation | None,
    engineer: Engineer,
) -> StockReservation | None:
    for location in _candidates(ctx, part.id, quantity, van, engineer):
        # Conditional: a competitor may have taken the stock since we looked; then try the next place.
        if not change_level(ctx, (part.id, location.id), Delta(reserved=quantity)):
            continue
        reservation = StockReservation(
            work_order_id=wo.id,
            visit_id=visit.id,
            part_id=part.id,
            location_id=location.id,
            quantity=quantity,
            open_quantity=quantity,
            status=ReservationStatus.ACTIVE.value,
            pickup_needed=location.kind == LocationKind.WAREHOUSE,
            created_at=ctx.now(),
        )
        ctx.session.add(reservation)
        ctx.session.flush()
        append(
            ctx,
            [
                Entry(
                    part.id,
                    location.id,
                    delta_for(MovementKind.RESERVE, quantity),
                    MovementKind.RESERVE,
                    quantity,
                    work_order_id=wo.id,
                    reservation_id=reservation.id,
                    reason=f"visit {visit.id}",
                )
            ],
        )
        return reservation
    return None


def _candidates(
    ctx: ServiceContext, part_id: int, quantity: int, van: StockLocation | None, engineer: Engineer
) -> list[StockLocation]:
    """The van first (if it holds enough), then warehouses holding enough, nearest to the engineer's base."""
    holding = ctx.session.scalars(
        sa.select(StockLocation)
        .join(StockLevel, StockLevel.location_id == StockLocation.id)
        .where(
            StockLevel.part_id == part_id,
            StockLevel.on_hand - StockLevel.reserved >= quantity,
            StockLocation.active,
            sa.or_(
                StockLocation.kind == LocationKind.WAREHOUSE.value,
                StockLocation.id == (van.id if van else -1),
            ),
        )
    ).all()
    vans = [loc for loc in holding if loc.kind == LocationKind.VAN]
    warehouses = sorted(
        (loc for loc in holding if loc.kind == LocationKind.WAREHOUSE),
        key=lambda loc: (
            distance_m(engineer.home_lat, engineer.home_lon, loc.lat or 0.0, loc.lon or 0.0),
            loc.id,
        ),
    )
    return [*vans, *warehouses]


def _announce(
    ctx: ServiceContext, wo: WorkOrder, visit: Visit, made: list[StockReservation], short: list[Shortage]
) -> None:
    skus = dict(
        ctx.session.execute(sa.select(Part.id, Part.sku).where(Part.id.in_([r.part_id for r in made])))
        .tuples()
        .all()
    )
    lines = [
        {
            "sku": skus[r.part_id],
            "quantity": r.quantity,
            "location_id": r.location_id,
            "pickup": r.pickup_needed,
        }
        for r in made
    ]
    base = {"visit_id": visit.id, "engineer_id": visit.engineer_id}
    missing = [{"sku": s.sku, "quantity": s.quantity, "reason": s.reason} for s in short]
    audit(ctx, "work_order", wo.id, "parts_reserved", data={**base, "lines": lines, "shortages": missing})
    if made:
        emit(ctx, "stock.reserved", "work_order", wo.id, {**base, "lines": lines})
    by_place: dict[int, list[StockReservation]] = {}
    for r in made:
        if r.pickup_needed:
            by_place.setdefault(r.location_id, []).append(r)
    for location_id, held in sorted(by_place.items()):
        place = ctx.session.get_one(StockLocation, location_id)
        emit(
            ctx,
            "stock.pickup_needed",
            "work_order",
            wo.id,
            {
                **base,
                "location_id": place.id,
                "location_code": place.code,
                "lat": place.lat,
                "lon": place.lon,
                "lines": [{"sku": skus[r.part_id], "quantity": r.quantity} for r in held],
            },
        )
    if short:
        emit(ctx, "stock.shortage", "work_order", wo.id, {**base, "lines": missing})


def _reservations(
    ctx: ServiceContext, *conditions: sa.ColumnElement[bool], lock: bool = False
) -> list[StockReservation]:
    query = sa.select(StockReservation).where(*conditions).order_by(StockReservation.id)
    if lock:
        query = query.with_for_update().execution_options(populate_existing=True)
    return list(ctx.session.scalars(query))


def _release(ctx: ServiceContext, held: Sequence[StockReservation], reason: str) -> list[dict[str, Any]]:
    """Release the given (locked, active) reservations; no commit."""
    open_ones = [r for r in held if r.status == ReservationStatus.ACTIVE and r.open_quantity > 0]
    entries = [
        Entry(
            r.part_id,
            r.location_id,
            delta_for(MovementKind.RELEASE, r.open_quantity),
            MovementKind.RELEASE,
            r.open_quantity,
            work_order_id=r.work_order_id,
            reservation_id=r.id,
            reason=reason,
        )
        for r in open_ones
    ]
    post(ctx, entries)
    now = ctx.now()
    by_order: dict[int, list[dict[str, Any]]] = {}
    for r in open_ones:
        by_order.setdefault(r.work_order_id, []).append(
            {"reservation_id": r.id, "location_id": r.location_id, "quantity": r.open_quantity}
        )
        r.status, r.open_quantity, r.closed_at = ReservationStatus.RELEASED.value, 0, now
    for wo_id, items in by_order.items():
        audit(ctx, "work_order", wo_id, "parts_released", reason=reason, data={"lines": items})
        emit(ctx, "stock.released", "work_order", wo_id, {"lines": items, "reason": reason})
    return [item for items in by_order.values() for item in items]


def _release_and_commit(ctx: ServiceContext, held: Sequence[StockReservation], reason: str) -> int:
    released = _release(ctx, held, reason)
    ctx.session.commit()
    return len(released)
