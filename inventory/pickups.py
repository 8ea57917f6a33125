"""Picking up at the warehouse: parts reserved there for a job move into the engineer's van, still reserved.

One transaction per pickup: the warehouse reservation is released and a new one made at the van, and the
parts travel by a transfer that is shipped and received at once (the engineer has them in hand), so the
ledger shows release → transfer_out at the warehouse and transfer_in → reserve at the van, linked by
the transfer id. A second call finds nothing left to pick up and changes nothing.
"""

from __future__ import annotations

import sqlalchemy as sa

from core.domain.errors import Invalid, NotFound
from core.services.common import Id, Input
from core.services.context import Role, ServiceContext
from core.services.events import audit, emit
from core.services.workorders import current_visit, get_work_order
from inventory import serials
from inventory.ledger import MovementKind, ReservationStatus, SerialStatus, TransferStatus, delta_for
from inventory.lines import PartLine, check_serials
from inventory.locations import van_of
from inventory.models import Part, StockLocation, StockReservation, StockTransfer, StockTransferLine
from inventory.posting import Entry, post
from inventory.read_model import LevelView, levels


class PickupInput(Input):
    work_order_id: Id
    # Serial-tracked parts: the serial numbers taken off the shelf, one line per SKU.
    serials: list[PartLine] = []


def pick_up(ctx: ServiceContext, data: PickupInput) -> list[LevelView]:
    """Move what a job has reserved in warehouses into its engineer's van (the acting engineer's)."""
    try:
        wo = get_work_order(ctx, data.work_order_id)
    except NotFound as exc:
        raise Invalid(exc.detail, field="work_order_id") from exc
    visit = current_visit(wo)
    engineer_id = (
        ctx.actor.engineer_id if ctx.actor.role is Role.ENGINEER else (visit.engineer_id if visit else None)
    )
    van = van_of(ctx, engineer_id) if engineer_id is not None else None
    if van is None:
        raise Invalid("the job's engineer has no van to pick up into", field="work_order_id")
    held = list(
        ctx.session.scalars(
            sa.select(StockReservation)
            .where(
                StockReservation.work_order_id == wo.id,
                StockReservation.status == ReservationStatus.ACTIVE.value,
                StockReservation.pickup_needed,
            )
            .order_by(StockReservation.id)
            .with_for_update()
            .execution_options(populate_existing=True)
        )
    )
    if not held:
        return []
    given = {line.sku: list(line.serials) for line in data.serials}
    entries: list[Entry] = []
    touched: list[tuple[int, int]] = []
    now = ctx.now()
    for warehouse_id in sorted({r.location_id for r in held}):
        here = [r for r in held if r.location_id == warehouse_id]
        warehouse = ctx.session.get_one(StockLocation, warehouse_id)
        transfer = StockTransfer(
            from_location_id=warehouse_id,
            to_location_id=van.id,
            status=TransferStatus.RECEIVED.value,
            reason=f"pickup for {wo.reference}",
            work_order_id=wo.id,
            shipped_at=now,
            shipped_by=ctx.actor.name,
            closed_at=now,
            closed_by=ctx.actor.name,
        )
        ctx.session.add(transfer)
        ctx.session.flush()
        for r in here:
            part = ctx.session.get_one(Part, r.part_id)
            taken = given.get(part.sku, []) if part.serial_tracked else []
            check_serials(part, r.open_quantity, taken, "serials")
            serials.take(ctx, part, taken, warehouse, SerialStatus.IN_TRANSIT, transfer_id=transfer.id)
            serials.arrive(ctx, part, taken, transfer.id, van)
            ctx.session.add(
                StockTransferLine(
                    transfer_id=transfer.id, part_id=part.id, quantity=r.open_quantity, serials=taken
                )
            )
            moved = StockReservation(
                work_order_id=r.work_order_id,
                visit_id=r.visit_id,
                part_id=part.id,
                location_id=van.id,
                quantity=r.open_quantity,
                open_quantity=r.open_quantity,
                status=ReservationStatus.ACTIVE.value,
                pickup_needed=False,
                created_at=now,
            )
            ctx.session.add(moved)
            ctx.session.flush()
            entries += _legs(r, moved, transfer.id, warehouse_id, van.id, taken)
            touched += [(part.id, warehouse_id), (part.id, van.id)]
            r.status, r.open_quantity, r.closed_at = ReservationStatus.RELEASED.value, 0, now
    post(ctx, entries)
    detail = {"van_id": van.id, "lines": [{"part_id": r.part_id, "from": r.location_id} for r in held]}
    audit(ctx, "work_order", wo.id, "parts_picked_up", data=detail)
    emit(ctx, "stock.picked_up", "work_order", wo.id, {**detail, "engineer_id": engineer_id})
    ctx.session.commit()
    return levels(ctx.session, touched)


def _legs(
    old: StockReservation, new: StockReservation, transfer_id: int, source: int, van: int, taken: list[str]
) -> list[Entry]:
    """The four ledger lines of a pickup: per serial number for serial-tracked parts, else one set."""
    units: list[tuple[int, str | None]] = [(1, s) for s in taken] or [(old.open_quantity, None)]
    wo = old.work_order_id
    legs = []
    for q, serial in units:
        legs += [
            Entry(old.part_id, source, delta_for(MovementKind.RELEASE, q), MovementKind.RELEASE, q,
                  serial=serial, work_order_id=wo, reservation_id=old.id, reason="picked up"),
            Entry(old.part_id, source, delta_for(MovementKind.TRANSFER_OUT, q), MovementKind.TRANSFER_OUT, q,
                  serial=serial, transfer_id=transfer_id, work_order_id=wo),
            Entry(old.part_id, van, delta_for(MovementKind.TRANSFER_IN, q), MovementKind.TRANSFER_IN, q,
                  serial=serial, transfer_id=transfer_id, work_order_id=wo),
            Entry(old.part_id, van, delta_for(MovementKind.RESERVE, q), MovementKind.RESERVE, q,
                  serial=serial, work_order_id=wo, reservation_id=new.id, reason="picked up"),
        ]  # fmt: skip
    return legs
