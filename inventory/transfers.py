"""Transfers between locations, in two steps so stock on the road is neither lost nor counted twice.

Shipping books `transfer_out` at the source and raises the destination's `inbound`; receiving books
`transfer_in` at the destination and lowers `inbound`. Between the two, the units are in the transfer
(its lines; serial numbers `in_transit`). A cancelled transfer books `transfer_in` back at the source.
Closing a transfer is a conditional UPDATE on its status, so it is received (or cancelled) exactly once.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import sqlalchemy as sa

from core.domain.errors import Invalid, NotFound
from core.services.common import Id, Input, ShortText, get_or_404
from core.services.context import Role, ServiceContext
from core.services.events import audit, emit
from core.store.models import WorkOrder
from inventory import serials
from inventory.ledger import Delta, MovementKind, SerialStatus, TransferStatus, delta_for
from inventory.lines import Lines, resolve
from inventory.locations import get_location
from inventory.models import Part, StockLocation, StockTransfer, StockTransferLine
from inventory.posting import Entry, post, refuse


class TransferInput(Input):
    from_location_id: Id
    to_location_id: Id
    lines: Lines
    reason: ShortText | None = None
    # The job the parts are going out for, if any (a pickup for a visit).
    work_order_id: Id | None = None


class CloseInput(Input):
    note: ShortText | None = None


def ship(ctx: ServiceContext, data: TransferInput) -> StockTransfer:
    """Take the parts out of the source: from now on they are on the road to the destination."""
    transfer = ship_uncommitted(ctx, data)
    ctx.session.commit()
    return transfer


def ship_uncommitted(ctx: ServiceContext, data: TransferInput) -> StockTransfer:
    """`ship` without the commit, for use cases that ship several transfers all or nothing."""
    source = get_location(ctx, data.from_location_id, "from_location_id")
    target = get_location(ctx, data.to_location_id, "to_location_id")
    if source.id == target.id:
        raise Invalid("a transfer goes somewhere else", field="to_location_id")
    for place, field in ((source, "from_location_id"), (target, "to_location_id")):
        if not place.active:
            raise Invalid(f"stock location {place.code} is closed", field=field)
    if data.work_order_id is not None and ctx.session.get(WorkOrder, data.work_order_id) is None:
        raise Invalid(f"work order {data.work_order_id} does not exist", field="work_order_id")
    lines = resolve(ctx.session, data.lines)
    transfer = StockTransfer(
        from_location_id=source.id,
        to_location_id=target.id,
        status=TransferStatus.IN_TRANSIT.value,
        reason=data.reason,
        work_order_id=data.work_order_id,
        shipped_at=ctx.now(),
        shipped_by=ctx.actor.name,
        lines=[
            StockTransferLine(part_id=x.part.id, quantity=x.quantity, serials=list(x.serials)) for x in lines
        ],
    )
    ctx.session.add(transfer)
    ctx.session.flush()
    entries: list[Entry] = []
    for line in lines:
        serials.take(ctx, line.part, line.serials, source, SerialStatus.IN_TRANSIT, transfer_id=transfer.id)
        entries.extend(_legs(transfer, line.part.id, line.quantity, line.serials, MovementKind.TRANSFER_OUT))
        entries.append(Entry(line.part.id, target.id, Delta(inbound=line.quantity)))
    post(ctx, entries)
    payload = _payload(transfer, source, target, {x.part.id: x.part.sku for x in lines})
    audit(
        ctx,
        "stock_transfer",
        transfer.id,
        "shipped",
        to_state=transfer.status,
        reason=data.reason,
        data=payload,
    )
    emit(ctx, "stock.transfer_shipped", "stock_transfer", transfer.id, payload)
    return transfer


def receive_transfer(ctx: ServiceContext, transfer_id: int, data: CloseInput | None = None) -> StockTransfer:
    """The parts arrived: into the destination's stock (an engineer may receive into their own van)."""
    transfer = get_transfer(ctx, transfer_id)
    target = ctx.session.get_one(StockLocation, transfer.to_location_id)
    if ctx.actor.role is Role.ENGINEER and target.engineer_id != ctx.actor.engineer_id:
        raise NotFound(f"transfer {transfer_id} does not exist")
    _close(ctx, transfer, TransferStatus.RECEIVED)
    entries: list[Entry] = []
    for line in transfer.lines:
        part = ctx.session.get_one(Part, line.part_id)
        serials.arrive(ctx, part, line.serials, transfer.id, target)
        legs = _legs(transfer, line.part_id, line.quantity, line.serials, MovementKind.TRANSFER_IN, target.id)
        entries.extend(legs)
        entries.append(Entry(line.part_id, target.id, Delta(inbound=-line.quantity)))
    post(ctx, entries)
    note = data.note if data else None
    source = ctx.session.get_one(StockLocation, transfer.from_location_id)
    payload = _payload(transfer, source, target, _skus(ctx, transfer))
    audit(
        ctx,
        "stock_transfer",
        transfer.id,
        "received",
        from_state="in_transit",
        to_state="received",
        reason=note,
        data=payload,
    )
    emit(ctx, "stock.transfer_received", "stock_transfer", transfer.id, payload)
    ctx.session.commit()
    return transfer


def cancel_transfer(ctx: ServiceContext, transfer_id: int, data: CloseInput) -> StockTransfer:
    """Call the transfer off: the parts go back into the source's stock."""
    transfer = get_transfer(ctx, transfer_id)
    if not (data.note and data.note.strip()):
        raise Invalid("say why the transfer is called off", field="note")
    source = ctx.session.get_one(StockLocation, transfer.from_location_id)
    target = ctx.session.get_one(StockLocation, transfer.to_location_id)
    _close(ctx, transfer, TransferStatus.CANCELLED)
    entries: list[Entry] = []
    for line in transfer.lines:
        part = ctx.session.get_one(Part, line.part_id)
        serials.arrive(ctx, part, line.serials, transfer.id, source)
        legs = _legs(transfer, line.part_id, line.quantity, line.serials, MovementKind.TRANSFER_IN, source.id)
        entries.extend(legs)
        entries.append(Entry(line.part_id, target.id, Delta(inbound=-line.quantity)))
    post(ctx, entries)
    payload = _payload(transfer, source, target, _skus(ctx, transfer))
    audit(
        ctx,
        "stock_transfer",
        transfer.id,
        "cancelled",
        from_state="in_transit",
        to_state="cancelled",
        reason=data.note,
        data=payload,
    )
    emit(ctx, "stock.transfer_cancelled", "stock_transfer", transfer.id, payload)
    ctx.session.commit()
    return transfer


def get_transfer(ctx: ServiceContext, transfer_id: int) -> StockTransfer:
    transfer = get_or_404(ctx.session, StockTransfer, transfer_id, "transfer")
    if ctx.actor.role is Role.ENGINEER:
        # An engineer sees the transfers into or out of their own van, nothing else.
        ends = {transfer.from_location_id, transfer.to_location_id}
        vans = ctx.session.scalars(
            sa.select(StockLocation.id).where(StockLocation.engineer_id == ctx.actor.engineer_id)
        ).all()
        if not ends & set(vans):
            raise NotFound(f"transfer {transfer_id} does not exist")
    return transfer


def _close(ctx: ServiceContext, transfer: StockTransfer, status: TransferStatus) -> None:
    table = cast(sa.Table, StockTransfer.__table__)
    closed = (
        ctx.session.connection()
        .execute(
            sa.update(table)
            .where(table.c.id == transfer.id, table.c.status == TransferStatus.IN_TRANSIT.value)
            .values(status=status.value, closed_at=ctx.now(), closed_by=ctx.actor.name)
            .returning(table.c.id)
        )
        .first()
    )
    if closed is None:
        current = ctx.session.scalar(sa.select(table.c.status).where(table.c.id == transfer.id))
        raise refuse(ctx, f"transfer {transfer.id} is already {current}")
    # The ORM copy follows the row we just changed.
    ctx.session.refresh(transfer)


def _legs(
    transfer: StockTransfer,
    part_id: int,
    quantity: int,
    serial_numbers: Sequence[str],
    kind: MovementKind,
    location_id: int | None = None,
) -> list[Entry]:
    where = transfer.from_location_id if location_id is None else location_id
    if serial_numbers:
        return [
            Entry(
                part_id,
                where,
                delta_for(kind, 1),
                kind,
                1,
                serial=s,
                transfer_id=transfer.id,
                work_order_id=transfer.work_order_id,
                reason=transfer.reason,
            )
            for s in serial_numbers
        ]
    return [
        Entry(
            part_id,
            where,
            delta_for(kind, quantity),
            kind,
            quantity,
            transfer_id=transfer.id,
            work_order_id=transfer.work_order_id,
            reason=transfer.reason,
        )
    ]


def _skus(ctx: ServiceContext, transfer: StockTransfer) -> dict[int, str]:
    ids = [line.part_id for line in transfer.lines]
    return dict(ctx.session.execute(sa.select(Part.id, Part.sku).where(Part.id.in_(ids))).tuples().all())


def _payload(
    transfer: StockTransfer, source: StockLocation, target: StockLocation, skus: dict[int, str]
) -> dict[str, Any]:
    return {
        "from_location_id": source.id,
        "from_code": source.code,
        "to_location_id": target.id,
        "to_code": target.code,
        "to_engineer_id": target.engineer_id,
        "work_order_id": transfer.work_order_id,
        "lines": [{"sku": skus[line.part_id], "quantity": line.quantity} for line in transfer.lines],
    }
