"""The dispatcher's questions about stock: levels by location or part, the ledger, transfers, serials.

Every list is keyset-paginated (core.services.paging), so page 500 costs what page 1 does.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from core.domain.errors import Invalid
from core.services.context import ServiceContext
from core.services.paging import Page, check_limit, decode_cursor, encode_cursor
from inventory.ledger import MovementKind, ReservationStatus, TransferStatus
from inventory.models import (
    Part,
    StockLevel,
    StockLocation,
    StockMovement,
    StockReservation,
    StockRule,
    StockSerial,
    StockTransfer,
)


@dataclass(frozen=True, slots=True)
class LevelFilter:
    part_id: int | None = None
    sku: str | None = None
    location_id: int | None = None
    kind: str | None = None
    # Only levels at or below their reorder point (with a rule).
    low: bool = False
    # Leave out rows with nothing on hand, reserved or on the way.
    nonzero: bool = True


def list_levels(
    ctx: ServiceContext, flt: LevelFilter, *, limit: int = 50, cursor: str | None = None
) -> Page[dict[str, Any]]:
    check_limit(limit)
    lv, rule = StockLevel, StockRule
    query = (
        sa.select(
            lv.part_id,
            Part.sku,
            Part.name,
            lv.location_id,
            StockLocation.code.label("location_code"),
            StockLocation.kind,
            lv.on_hand,
            lv.reserved,
            (lv.on_hand - lv.reserved).label("available"),
            lv.inbound,
            rule.reorder_point,
            rule.target,
        )
        .join(Part, Part.id == lv.part_id)
        .join(StockLocation, StockLocation.id == lv.location_id)
        .outerjoin(rule, sa.and_(rule.part_id == lv.part_id, rule.location_id == lv.location_id))
    )
    conditions: list[sa.ColumnElement[bool]] = []
    if flt.part_id is not None:
        conditions.append(lv.part_id == flt.part_id)
    if flt.sku is not None:
        conditions.append(Part.sku == flt.sku)
    if flt.location_id is not None:
        conditions.append(lv.location_id == flt.location_id)
    if flt.kind is not None:
        conditions.append(StockLocation.kind == flt.kind)
    if flt.low:
        conditions.append(lv.on_hand - lv.reserved + lv.inbound <= rule.reorder_point)
    elif flt.nonzero:
        conditions.append(sa.or_(lv.on_hand > 0, lv.inbound > 0))
    if cursor:
        part_id, location_id = decode_cursor(cursor, "part,location")
        conditions.append(
            sa.tuple_(lv.part_id, lv.location_id) > sa.tuple_(sa.literal(part_id), sa.literal(location_id))
        )
    rows = ctx.session.execute(
        query.where(*conditions).order_by(lv.part_id, lv.location_id).limit(limit + 1)
    ).all()
    items = [dict(r._mapping) for r in rows[:limit]]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = encode_cursor("part,location", last["part_id"], last["location_id"])
    return Page(items, next_cursor)


@dataclass(frozen=True, slots=True)
class MovementFilter:
    part_id: int | None = None
    sku: str | None = None
    location_id: int | None = None
    kinds: frozenset[MovementKind] = frozenset()
    work_order_id: int | None = None
    transfer_id: int | None = None
    serial: str | None = None
    actor: str | None = None
    since: datetime | None = None
    until: datetime | None = None


def list_movements(
    ctx: ServiceContext, flt: MovementFilter, *, limit: int = 50, cursor: str | None = None
) -> Page[dict[str, Any]]:
    """The ledger, newest first."""
    check_limit(limit)
    mv = StockMovement
    for name in ("since", "until"):
        value = getattr(flt, name)
        if value is not None and value.tzinfo is None:
            raise Invalid("give a time zone (e.g. 2026-11-22T08:00:00+08:00 or …Z)", field=name)
    conditions: list[sa.ColumnElement[bool]] = []
    for column, value in (
        (mv.part_id, flt.part_id),
        (Part.sku, flt.sku),
        (mv.location_id, flt.location_id),
        (mv.work_order_id, flt.work_order_id),
        (mv.transfer_id, flt.transfer_id),
        (mv.serial, flt.serial),
        (mv.actor, flt.actor),
    ):
        if value is not None:
            conditions.append(column == value)
    if flt.kinds:
        conditions.append(mv.kind.in_(sorted(k.value for k in flt.kinds)))
    if flt.since is not None:
        conditions.append(mv.at >= flt.since)
    if flt.until is not None:
        conditions.append(mv.at < flt.until)
    if cursor:
        _, last_id = decode_cursor(cursor, "-id")
        conditions.append(mv.id < last_id)
    rows = ctx.session.execute(
        sa.select(mv, Part.sku, StockLocation.code)
        .join(Part, Part.id == mv.part_id)
        .join(StockLocation, StockLocation.id == mv.location_id)
        .where(*conditions)
        .order_by(mv.id.desc())
        .limit(limit + 1)
    ).all()
    items = [_movement(m, sku, code) for m, sku, code in rows[:limit]]
    next_cursor = encode_cursor("-id", None, items[-1]["id"]) if len(rows) > limit else None
    return Page(items, next_cursor)


def _movement(m: StockMovement, sku: str, code: str) -> dict[str, Any]:
    return {
        "id": m.id,
        "at": m.at,
        "kind": m.kind,
        "part_id": m.part_id,
        "sku": sku,
        "location_id": m.location_id,
        "location_code": code,
        "quantity": m.quantity,
        "on_hand_delta": m.on_hand_delta,
        "reserved_delta": m.reserved_delta,
        "serial": m.serial,
        "transfer_id": m.transfer_id,
        "work_order_id": m.work_order_id,
        "reservation_id": m.reservation_id,
        "reason": m.reason,
        "actor": m.actor,
    }


def list_transfers(
    ctx: ServiceContext,
    *,
    status: TransferStatus | None = None,
    location_id: int | None = None,
    limit: int = 50,
    cursor: str | None = None,
) -> Page[StockTransfer]:
    """Transfers, newest first; `location_id` matches either end."""
    check_limit(limit)
    conditions: list[sa.ColumnElement[bool]] = []
    if status is not None:
        conditions.append(StockTransfer.status == status.value)
    if location_id is not None:
        conditions.append(
            sa.or_(StockTransfer.from_location_id == location_id, StockTransfer.to_location_id == location_id)
        )
    if cursor:
        _, last_id = decode_cursor(cursor, "-id")
        conditions.append(StockTransfer.id < last_id)
    rows = list(
        ctx.session.scalars(
            sa.select(StockTransfer).where(*conditions).order_by(StockTransfer.id.desc()).limit(limit + 1)
        )
    )
    if len(rows) > limit:
        rows = rows[:limit]
        return Page(rows, encode_cursor("-id", None, rows[-1].id))
    return Page(rows, None)


def reservations_of(
    ctx: ServiceContext,
    *,
    work_order_id: int | None = None,
    visit_id: int | None = None,
    active: bool = False,
) -> list[dict[str, Any]]:
    conditions: list[sa.ColumnElement[bool]] = []
    if work_order_id is not None:
        conditions.append(StockReservation.work_order_id == work_order_id)
    if visit_id is not None:
        conditions.append(StockReservation.visit_id == visit_id)
    if active:
        conditions.append(StockReservation.status == ReservationStatus.ACTIVE.value)
    rows = ctx.session.execute(
        sa.select(StockReservation, Part.sku, StockLocation.code)
        .join(Part, Part.id == StockReservation.part_id)
        .join(StockLocation, StockLocation.id == StockReservation.location_id)
        .where(*conditions)
        .order_by(StockReservation.id)
    ).all()
    return [
        {
            "id": r.id,
            "work_order_id": r.work_order_id,
            "visit_id": r.visit_id,
            "sku": sku,
            "location_id": r.location_id,
            "location_code": code,
            "quantity": r.quantity,
            "open_quantity": r.open_quantity,
            "status": r.status,
            "pickup_needed": r.pickup_needed,
            "created_at": r.created_at,
            "closed_at": r.closed_at,
        }
        for r, sku, code in rows
    ]


def find_serials(
    ctx: ServiceContext,
    *,
    serial: str | None = None,
    part_id: int | None = None,
    location_id: int | None = None,
) -> list[dict[str, Any]]:
    """Where serial numbers are (at most 500 rows; narrow by serial, part or location)."""
    conditions: list[sa.ColumnElement[bool]] = []
    if serial is not None:
        conditions.append(StockSerial.serial == serial)
    if part_id is not None:
        conditions.append(StockSerial.part_id == part_id)
    if location_id is not None:
        conditions.append(StockSerial.location_id == location_id)
    if not conditions:
        raise Invalid("narrow the search: give serial, part_id or location_id", field="serial")
    rows = ctx.session.execute(
        sa.select(StockSerial, Part.sku)
        .join(Part, Part.id == StockSerial.part_id)
        .where(*conditions)
        .order_by(StockSerial.part_id, StockSerial.serial)
        .limit(500)
    ).all()
    return [
        {
            "sku": sku,
            "serial": s.serial,
            "status": s.status,
            "location_id": s.location_id,
            "transfer_id": s.transfer_id,
            "work_order_id": s.work_order_id,
            "updated_at": s.updated_at,
        }
        for s, sku in rows
    ]
