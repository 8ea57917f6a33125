"""Stock in, stock out: receipts, adjustments (with a reason), and parts consumed or returned for a job.

`consume` and `return_parts` are also what the engineer's app calls (issue 6): with an engineer as the
actor they default to the engineer's own van, accept a warehouse by name, and never another engineer's van.
"""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
from msgspec import Meta

from core.domain.errors import Conflict, Invalid, NotFound
from core.domain.lifecycle import WorkOrderStatus
from core.services.common import Id, Input, ShortText
from core.services.context import Role, ServiceContext
from core.services.events import audit, emit
from core.services.workorders import current_visit, get_work_order
from core.store.models import WorkOrder
from inventory import serials
from inventory.ledger import MovementKind, ReservationStatus, SerialStatus, delta_for
from inventory.lines import Lines, Resolved, Serials, Sku, check_serials, resolve
from inventory.locations import get_location, usable_location
from inventory.models import Part, StockMovement, StockReservation
from inventory.posting import Entry, post
from inventory.read_model import LevelView, levels

Reason = Annotated[str, Meta(min_length=1, max_length=500)]


class ReceiveInput(Input):
    location_id: Id
    lines: Lines
    # The delivery note or purchase order, for the record.
    reason: ShortText | None = None


class AdjustInput(Input):
    location_id: Id
    sku: Sku
    # Signed: +2 found two more than the books say, -1 one is missing or broken.
    change: Annotated[int, Meta(ge=-1_000_000, le=1_000_000)]
    reason: Reason
    # Serial-tracked parts: the serials found (change > 0) or gone (change < 0).
    serials: Serials = []


class ConsumeInput(Input):
    work_order_id: Id
    lines: Lines
    # Omitted: the engineer's van (the acting engineer's, or the work order's current engineer's).
    location_id: Id | None = None
    note: ShortText | None = None


class ReturnInput(Input):
    work_order_id: Id
    lines: Lines
    location_id: Id | None = None
    reason: ShortText | None = None


def receive(ctx: ServiceContext, data: ReceiveInput) -> list[LevelView]:
    location = get_location(ctx, data.location_id, "location_id")
    if not location.active:
        raise Invalid(f"stock location {location.code} is closed", field="location_id")
    lines = resolve(ctx.session, data.lines)
    entries = []
    for line in lines:
        serials.introduce(ctx, line.part, line.serials, location)
        entries.extend(_entries(line, location.id, MovementKind.RECEIVE, reason=data.reason))
    post(ctx, entries)
    summary = _summary(lines)
    audit(ctx, "stock_location", location.id, "stock_received", reason=data.reason, data={"lines": summary})
    emit(ctx, "stock.received", "stock_location", location.id, {"lines": summary, "reason": data.reason})
    ctx.session.commit()
    return levels(ctx.session, [(line.part.id, location.id) for line in lines])


def adjust(ctx: ServiceContext, data: AdjustInput) -> list[LevelView]:
    """Correct the books to what is really there (a count, a breakage); the reason is kept in the ledger."""
    location = get_location(ctx, data.location_id, "location_id")
    part = ctx.session.scalar(sa.select(Part).where(Part.sku == data.sku))
    if part is None:
        raise Invalid(f"no part with SKU {data.sku!r} in the catalogue", field="sku")
    if data.change == 0:
        raise Invalid("an adjustment changes the quantity: give a non-zero change", field="change")
    check_serials(part, abs(data.change), data.serials, "serials")
    apply_adjustment(ctx, part, location.id, data.change, data.reason, data.serials)
    audit(
        ctx,
        "stock_location",
        location.id,
        "stock_adjusted",
        reason=data.reason,
        data={"sku": part.sku, "change": data.change, "serials": data.serials},
    )
    emit(
        ctx,
        "stock.adjusted",
        "stock_location",
        location.id,
        {"sku": part.sku, "change": data.change, "reason": data.reason},
    )
    ctx.session.commit()
    return levels(ctx.session, [(part.id, location.id)])


def apply_adjustment(
    ctx: ServiceContext, part: Part, location_id: int, change: int, reason: str, serial_numbers: list[str]
) -> None:
    """The ledger side of an adjustment (shared with count imports); no commit."""
    location = get_location(ctx, location_id, "location_id")
    if part.serial_tracked:
        if change > 0:
            serials.introduce(ctx, part, serial_numbers, location)
        else:
            serials.take(ctx, part, serial_numbers, location, SerialStatus.REMOVED)
        entries = [
            Entry(
                part.id,
                location.id,
                delta_for(MovementKind.ADJUST, 1 if change > 0 else -1),
                MovementKind.ADJUST,
                1,
                serial=s,
                reason=reason,
            )
            for s in serial_numbers
        ]
    else:
        entries = [
            Entry(
                part.id,
                location.id,
                delta_for(MovementKind.ADJUST, change),
                MovementKind.ADJUST,
                abs(change),
                reason=reason,
            )
        ]
    post(ctx, entries)


# ---------------------------------------------------------------- for a work order


def consume(ctx: ServiceContext, data: ConsumeInput, *, commit: bool = True) -> list[LevelView]:
    """Parts used on a job. What was reserved for this job at that location is used first.

    `commit=False` leaves the transaction open for a caller that books more in the same breath
    (the engineer finishing a job with parts still to book).
    """
    wo = _stock_work_order(ctx, data.work_order_id)
    location = usable_location(ctx, data.location_id, "location_id", _engineer_for(ctx, wo))
    lines = resolve(ctx.session, data.lines)
    entries: list[Entry] = []
    for line in lines:
        held = _take_reservations(ctx, wo.id, line.part.id, location.id, line.quantity)
        serials.take(ctx, line.part, line.serials, location, SerialStatus.CONSUMED, work_order_id=wo.id)
        entries.extend(
            _entries(
                line, location.id, MovementKind.CONSUME, work_order_id=wo.id, reason=data.note, held=held
            )
        )
    post(ctx, entries)
    summary = _summary(lines)
    payload = {"location_id": location.id, "location_code": location.code, "lines": summary}
    audit(ctx, "work_order", wo.id, "parts_consumed", reason=data.note, data=payload)
    emit(ctx, "stock.consumed", "work_order", wo.id, payload)
    if not commit:
        ctx.session.flush()
        return []
    ctx.session.commit()
    return levels(ctx.session, [(line.part.id, location.id) for line in lines])


def return_parts(ctx: ServiceContext, data: ReturnInput) -> list[LevelView]:
    """Unused parts go back to stock; never more of a part than the job has used."""
    wo = _stock_work_order(ctx, data.work_order_id)
    location = usable_location(ctx, data.location_id, "location_id", _engineer_for(ctx, wo))
    lines = resolve(ctx.session, data.lines)
    # One returner per work order at a time, so two returns cannot both pass the "used enough" check.
    ctx.session.execute(sa.select(WorkOrder.id).where(WorkOrder.id == wo.id).with_for_update())
    entries: list[Entry] = []
    for i, line in enumerate(lines):
        used = _net_used(ctx, wo.id, line.part.id)
        if line.quantity > used:
            raise Invalid(
                f"{wo.reference} has used {used} of {line.part.sku}; {line.quantity} cannot come back",
                field=f"lines[{i}].quantity",
            )
        serials.bring_back(ctx, line.part, line.serials, wo.id, location)
        entries.extend(
            _entries(line, location.id, MovementKind.RETURN, work_order_id=wo.id, reason=data.reason)
        )
    post(ctx, entries)
    summary = _summary(lines)
    payload = {"location_id": location.id, "location_code": location.code, "lines": summary}
    audit(ctx, "work_order", wo.id, "parts_returned", reason=data.reason, data=payload)
    emit(ctx, "stock.returned", "work_order", wo.id, payload)
    ctx.session.commit()
    return levels(ctx.session, [(line.part.id, location.id) for line in lines])


_NO_STOCK = frozenset({WorkOrderStatus.CANCELLED, WorkOrderStatus.CLOSED})


def _stock_work_order(ctx: ServiceContext, wo_id: int) -> WorkOrder:
    try:
        wo = get_work_order(ctx, wo_id)
    except NotFound as exc:
        raise Invalid(exc.detail, field="work_order_id") from exc
    if wo.status in _NO_STOCK:
        raise Conflict(f"{wo.reference} is {wo.status}; parts can no longer be booked against it")
    return wo


def _engineer_for(ctx: ServiceContext, wo: WorkOrder) -> int | None:
    """Whose van is "the van": the acting engineer's, or the engineer of the job's current visit."""
    if ctx.actor.role is Role.ENGINEER:
        return ctx.actor.engineer_id
    visit = current_visit(wo)
    if visit is not None:
        return visit.engineer_id
    # A signed-off job has no current visit; its last visit's engineer used the parts.
    return wo.visits[-1].engineer_id if wo.visits else None


def _take_reservations(
    ctx: ServiceContext, wo_id: int, part_id: int, location_id: int, quantity: int
) -> list[tuple[int, int]]:
    """Use this job's reservations at this location first: [(reservation id, units taken)]."""
    open_ones = ctx.session.scalars(
        sa.select(StockReservation)
        .where(
            StockReservation.work_order_id == wo_id,
            StockReservation.part_id == part_id,
            StockReservation.location_id == location_id,
            StockReservation.status == ReservationStatus.ACTIVE.value,
        )
        .order_by(StockReservation.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).all()
    taken: list[tuple[int, int]] = []
    left = quantity
    for reservation in open_ones:
        if left == 0:
            break
        take = min(left, reservation.open_quantity)
        reservation.open_quantity -= take
        if reservation.open_quantity == 0:
            reservation.status = ReservationStatus.CONSUMED.value
            reservation.closed_at = ctx.now()
        taken.append((reservation.id, take))
        left -= take
    return taken


def _net_used(ctx: ServiceContext, wo_id: int, part_id: int) -> int:
    used = ctx.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(-StockMovement.on_hand_delta), 0)).where(
            StockMovement.work_order_id == wo_id,
            StockMovement.part_id == part_id,
            StockMovement.kind.in_([MovementKind.CONSUME.value, MovementKind.RETURN.value]),
        )
    )
    return int(used or 0)


def _entries(
    line: Resolved,
    location_id: int,
    kind: MovementKind,
    *,
    work_order_id: int | None = None,
    reason: str | None = None,
    held: list[tuple[int, int]] | None = None,
) -> list[Entry]:
    """Ledger lines for one part line: one per serial number, else one for the quantity.

    A consumption that used reservations is split so each line names the reservation it drew on.
    """
    chunks: list[tuple[int, int, int | None]] = []  # (quantity, of which reserved, reservation id)
    left = line.quantity
    for reservation_id, take in held or []:
        chunks.append((take, take, reservation_id))
        left -= take
    if left:
        chunks.append((left, 0, None))
    if line.serials:
        # Serial-tracked: one line per unit, the reserved units first.
        units: list[tuple[int, int | None]] = []
        for quantity, reserved, rid in chunks:
            units.extend([(1, rid)] * reserved + [(0, None)] * (quantity - reserved))
        return [
            Entry(
                line.part.id,
                location_id,
                delta_for(kind, 1, from_reservation=from_res),
                kind,
                1,
                serial=serial,
                work_order_id=work_order_id,
                reservation_id=rid,
                reason=reason,
            )
            for serial, (from_res, rid) in zip(line.serials, units, strict=True)
        ]
    return [
        Entry(
            line.part.id,
            location_id,
            delta_for(kind, quantity, from_reservation=reserved),
            kind,
            quantity,
            work_order_id=work_order_id,
            reservation_id=rid,
            reason=reason,
        )
        for quantity, reserved, rid in chunks
    ]


def _summary(lines: list[Resolved]) -> list[dict[str, object]]:
    return [
        {
            "sku": line.part.sku,
            "quantity": line.quantity,
            **({"serials": list(line.serials)} if line.serials else {}),
        }
        for line in lines
    ]
