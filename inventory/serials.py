"""Serial numbers: each is in exactly one place (in stock at a location, on the road, or gone).

Every move is a conditional UPDATE on the serial's current place, checked by row count, so a serial that
is not where the request says it is gets a 409 naming where it is, and two people cannot take it twice.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, cast

import sqlalchemy as sa
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from core.services.context import ServiceContext
from inventory.ledger import SerialStatus
from inventory.models import Part, StockLocation, StockSerial
from inventory.posting import refuse

SERIALS = cast(sa.Table, StockSerial.__table__)
GONE = (SerialStatus.CONSUMED.value, SerialStatus.REMOVED.value)


def introduce(ctx: ServiceContext, part: Part, serials: Sequence[str], location: StockLocation) -> None:
    """New units into stock (a receipt, a count that found more): unknown serials, or ones that had left."""
    if not serials:
        return
    current = _where(ctx, part, serials)
    placed = [s for s in serials if s in current and current[s]["status"] not in GONE]
    if placed:
        raise refuse(ctx, f"{part.sku} serial {placed[0]} is already {_describe(ctx, current[placed[0]])}")
    back = [s for s in serials if s in current]
    fresh = [s for s in serials if s not in current]
    values = _in_stock_at(ctx, location)
    if back and len(_update(ctx, part, back, SERIALS.c.status.in_(GONE), values)) != len(back):
        raise refuse(ctx, f"a serial number of {part.sku} moved at the same moment; try again")
    if fresh:
        conn = ctx.session.connection()
        insert = pg_insert if conn.dialect.name == "postgresql" else sqlite_insert
        rows = [{"part_id": part.id, "serial": s, "work_order_id": None, **values} for s in fresh]
        result = conn.execute(
            insert(SERIALS).values(rows).on_conflict_do_nothing().returning(SERIALS.c.serial)
        )
        if len(result.all()) != len(fresh):
            raise refuse(ctx, f"a serial number of {part.sku} was received at the same moment; try again")


def take(
    ctx: ServiceContext,
    part: Part,
    serials: Sequence[str],
    location: StockLocation,
    status: SerialStatus,
    *,
    transfer_id: int | None = None,
    work_order_id: int | None = None,
) -> None:
    """Units leave `location`: consumed (for a work order), on the road (a transfer) or removed (a count)."""
    condition = sa.and_(SERIALS.c.status == SerialStatus.IN_STOCK.value, SERIALS.c.location_id == location.id)
    values = {
        "status": status.value,
        "location_id": None,
        "transfer_id": transfer_id,
        "work_order_id": work_order_id,
        "updated_at": ctx.now(),
    }
    _move(ctx, part, serials, condition, values, f"in stock at {location.code}")


def arrive(
    ctx: ServiceContext, part: Part, serials: Sequence[str], transfer_id: int, location: StockLocation
) -> None:
    """Units on the road with `transfer_id` arrive at `location` (received, or sent back on a cancel)."""
    condition = sa.and_(
        SERIALS.c.status == SerialStatus.IN_TRANSIT.value, SERIALS.c.transfer_id == transfer_id
    )
    _move(ctx, part, serials, condition, _in_stock_at(ctx, location), f"on transfer {transfer_id}")


def bring_back(
    ctx: ServiceContext, part: Part, serials: Sequence[str], work_order_id: int, location: StockLocation
) -> None:
    """Units consumed for a work order come back unused."""
    condition = sa.and_(
        SERIALS.c.status == SerialStatus.CONSUMED.value, SERIALS.c.work_order_id == work_order_id
    )
    _move(ctx, part, serials, condition, _in_stock_at(ctx, location), f"used on work order {work_order_id}")


def _in_stock_at(ctx: ServiceContext, location: StockLocation) -> dict[str, Any]:
    return {
        "status": SerialStatus.IN_STOCK.value,
        "location_id": location.id,
        "transfer_id": None,
        "updated_at": ctx.now(),
    }


def _move(
    ctx: ServiceContext,
    part: Part,
    serials: Sequence[str],
    condition: sa.ColumnElement[bool],
    values: dict[str, Any],
    expected: str,
) -> None:
    if not serials:
        return
    moved = _update(ctx, part, serials, condition, values)
    missing = [s for s in serials if s not in moved]
    if not missing:
        return
    # Say where the first one that was not where the request said actually is.
    row = _where(ctx, part, missing[:1]).get(missing[0])
    if row is None:
        raise refuse(ctx, f"{part.sku} serial {missing[0]} is unknown (not {expected})")
    raise refuse(ctx, f"{part.sku} serial {missing[0]} is not {expected}: it is {_describe(ctx, row)}")


def _update(
    ctx: ServiceContext,
    part: Part,
    serials: Sequence[str],
    condition: sa.ColumnElement[bool],
    values: dict[str, Any],
) -> set[str]:
    """The serials moved (RETURNING: PostgreSQL and SQLite ≥ 3.35 both have it)."""
    result = ctx.session.connection().execute(
        sa.update(SERIALS)
        .where(SERIALS.c.part_id == part.id, SERIALS.c.serial.in_(list(serials)), condition)
        .values(**values)
        .returning(SERIALS.c.serial)
    )
    return set(result.scalars())


def _where(ctx: ServiceContext, part: Part, serials: Sequence[str]) -> dict[str, dict[str, Any]]:
    rows = ctx.session.connection().execute(
        sa.select(SERIALS).where(SERIALS.c.part_id == part.id, SERIALS.c.serial.in_(list(serials)))
    )
    return {row.serial: dict(row._mapping) for row in rows}


def _describe(ctx: ServiceContext, row: dict[str, Any]) -> str:
    status = row["status"]
    if status == SerialStatus.IN_STOCK:
        code = ctx.session.scalar(sa.select(StockLocation.code).where(StockLocation.id == row["location_id"]))
        return f"in stock at {code}"
    if status == SerialStatus.IN_TRANSIT:
        return f"on the road (transfer {row['transfer_id']})"
    if status == SerialStatus.CONSUMED:
        return f"used on work order {row['work_order_id']}"
    return "removed from stock"
