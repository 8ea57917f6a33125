"""Consumables per asset model, the meter readings that arrive as data, and replacements.

A consumable runs out either by use (`counter` + `capacity`: e.g. a filter lasts 2,000 run hours) or by
time (`cycle_days`: e.g. lift rope lubrication every 90 days), never both; the notice goes `lead_days`
ahead to the account owner as a task, to the customer in the portal, or both.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import sqlalchemy as sa
from msgspec import Meta

from automation.care.models import CareNotice, Consumable, Replacement, UsageReading
from automation.store import insert_ignore, plain
from core.domain.errors import Invalid, NotFound
from core.services.common import Code, Id, Input, Instant, Name, get_ref
from core.services.context import ServiceContext
from core.services.events import audit, emit
from core.store.models import Asset, AssetModel, WorkOrder

Notify = Literal["task", "portal", "both"]
CounterName = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_.\-]+$")]
MAX_READINGS = 1000


class ConsumableInput(Input):
    asset_model_id: Id
    code: Code
    name: Name
    counter: CounterName | None = None
    capacity: Annotated[float, Meta(gt=0, le=1e12)] | None = None
    unit: Annotated[str, Meta(max_length=32)] = ""
    cycle_days: Annotated[int, Meta(ge=1, le=3660)] | None = None
    lead_days: Annotated[int, Meta(ge=0, le=365)] = 14
    notify: Notify = "task"
    sku: Annotated[str, Meta(min_length=1, max_length=64)] | None = None
    active: bool = True


def put_consumable(ctx: ServiceContext, data: ConsumableInput) -> Consumable:
    """Create or change the consumable `code` of an asset model (the pair is its identity)."""
    get_ref(ctx.session, AssetModel, data.asset_model_id, "asset_model_id", "asset model")
    by_use = data.counter is not None or data.capacity is not None
    if by_use and data.cycle_days is not None:
        raise Invalid(
            "a consumable runs out by use (counter + capacity) or by time (cycle_days), not both",
            field="cycle_days",
        )
    if by_use and data.counter is None:
        raise Invalid("which counter measures its use? e.g. run_hours", field="counter")
    if by_use and data.capacity is None:
        raise Invalid(f"how much {data.counter} does one last?", field="capacity")
    if not by_use and data.cycle_days is None:
        raise Invalid(
            "give counter + capacity (runs out by use) or cycle_days (runs out by time)", field="cycle_days"
        )
    now = ctx.now()
    row = ctx.session.scalar(
        sa.select(Consumable).where(
            Consumable.asset_model_id == data.asset_model_id, Consumable.code == data.code
        )
    )
    if row is None:
        row = Consumable(asset_model_id=data.asset_model_id, code=data.code, created_at=now)
        ctx.session.add(row)
    for name in ("name", "counter", "capacity", "unit", "cycle_days", "lead_days", "notify", "sku", "active"):
        setattr(row, name, getattr(data, name))
    row.updated_at = now
    ctx.session.flush()
    emit(
        ctx,
        "care.consumable_saved",
        "asset_model",
        data.asset_model_id,
        {"consumable_id": row.id, "code": row.code},
    )
    ctx.session.commit()
    return row


def list_consumables(ctx: ServiceContext, asset_model_id: int | None = None) -> list[Consumable]:
    query = sa.select(Consumable).order_by(Consumable.asset_model_id, Consumable.code)
    if asset_model_id is not None:
        query = query.where(Consumable.asset_model_id == asset_model_id)
    return list(ctx.session.scalars(query))


def consumable_out(c: Consumable) -> dict[str, Any]:
    return plain(
        {
            "id": c.id,
            "asset_model_id": c.asset_model_id,
            "code": c.code,
            "name": c.name,
            "runs_out_by": "usage" if c.counter is not None else "cycle",
            "counter": c.counter,
            "capacity": c.capacity,
            "unit": c.unit,
            "cycle_days": c.cycle_days,
            "lead_days": c.lead_days,
            "notify": c.notify,
            "sku": c.sku,
            "active": c.active,
            "updated_at": c.updated_at,
        }
    )


# ---------------------------------------------------------------- readings that arrive as data


class ReadingInput(Input):
    asset_id: Id
    counter: CounterName
    at: Instant
    value: Annotated[float, Meta(ge=0, le=1e15)]


class ReadingsInput(Input):
    readings: Annotated[list[ReadingInput], Meta(min_length=1, max_length=MAX_READINGS)]
    source: Annotated[str, Meta(min_length=1, max_length=32)] = "meter"


def record_readings(ctx: ServiceContext, data: ReadingsInput) -> dict[str, int]:
    """Store meter readings; the same (asset, counter, instant) is stored once (re-sending is harmless)."""
    now = ctx.now()
    known_assets: set[int] = set()
    stored = 0
    for i, r in enumerate(data.readings):
        if r.asset_id not in known_assets:
            get_ref(ctx.session, Asset, r.asset_id, f"readings[{i}].asset_id", "asset")
            known_assets.add(r.asset_id)
        if r.at > now:
            raise Invalid("a reading from the future", field=f"readings[{i}].at")
        new = insert_ignore(
            ctx.session,
            UsageReading,
            {
                "asset_id": r.asset_id,
                "counter": r.counter,
                "at": r.at,
                "value": r.value,
                "source": data.source,
                "recorded_by": ctx.actor.name,
                "created_at": now,
            },
        )
        stored += new is not None
    ctx.session.commit()
    return {"received": len(data.readings), "stored": stored, "duplicates": len(data.readings) - stored}


# ---------------------------------------------------------------- replacements


class ReplacementInput(Input):
    asset_id: Id
    consumable_id: Id
    at: Instant | None = None
    work_order_id: Id | None = None


def record_replacement(ctx: ServiceContext, data: ReplacementInput) -> Replacement:
    asset = get_ref(ctx.session, Asset, data.asset_id, "asset_id", "asset")
    consumable = get_ref(ctx.session, Consumable, data.consumable_id, "consumable_id", "consumable")
    if consumable.asset_model_id != asset.asset_model_id:
        raise Invalid(
            f"{consumable.code} is not a consumable of asset {asset.id}'s model", field="consumable_id"
        )
    if data.work_order_id is not None:
        wo = get_ref(ctx.session, WorkOrder, data.work_order_id, "work_order_id", "work order")
        if wo.asset_id != asset.id:
            raise Invalid(f"{wo.reference} is not for asset {asset.id}", field="work_order_id")
    at = data.at or ctx.now()
    if at > ctx.now():
        raise Invalid("a replacement in the future", field="at")
    row = add_replacement(ctx, asset.id, consumable.id, at, "manual", None, data.work_order_id)
    assert row is not None
    ctx.session.commit()
    return row


def add_replacement(
    ctx: ServiceContext,
    asset_id: int,
    consumable_id: int,
    at: datetime,
    source: str,
    source_key: str | None,
    work_order_id: int | None,
) -> Replacement | None:
    """Record a replacement in the current transaction (None: this source event was recorded before) and
    resolve the open notice it answers."""
    row_id = insert_ignore(
        ctx.session,
        Replacement,
        {
            "asset_id": asset_id,
            "consumable_id": consumable_id,
            "at": at,
            "source": source,
            "source_key": source_key,
            "work_order_id": work_order_id,
            "recorded_by": ctx.actor.name,
            "created_at": ctx.now(),
        },
    )
    if row_id is None:
        return None
    resolve_open(ctx, asset_id, consumable_id, "replaced")
    if work_order_id is not None:
        audit(ctx, "work_order", work_order_id, "consumable_replaced", data={"consumable_id": consumable_id})
    return ctx.session.get_one(Replacement, row_id)


def resolve_open(ctx: ServiceContext, asset_id: int, consumable_id: int, reason: str) -> int | None:
    """Close the open notice of (asset, consumable), if any; its id, for the caller's record."""
    notice = ctx.session.scalar(
        sa.select(CareNotice).where(
            CareNotice.asset_id == asset_id,
            CareNotice.consumable_id == consumable_id,
            CareNotice.status == "open",
        )
    )
    if notice is None:
        return None
    notice.status, notice.resolved_at, notice.resolved_reason = "resolved", ctx.now(), reason
    notice.updated_at = ctx.now()
    emit(
        ctx,
        "care.notice_resolved",
        "asset",
        asset_id,
        {
            "notice_id": notice.id,
            "consumable_id": consumable_id,
            "customer_id": notice.customer_id,
            "reason": reason,
        },
    )
    return notice.id


def last_replacements(ctx: ServiceContext, pairs: list[tuple[int, int]]) -> dict[tuple[int, int], datetime]:
    """The latest replacement per (asset, consumable) up to now."""
    if not pairs:
        return {}
    assets = sorted({a for a, _ in pairs})
    rows = ctx.session.execute(
        sa.select(Replacement.asset_id, Replacement.consumable_id, sa.func.max(Replacement.at))
        .where(Replacement.asset_id.in_(assets), Replacement.at <= ctx.now())
        .group_by(Replacement.asset_id, Replacement.consumable_id)
    ).all()
    return {(a, c): _aware(at) for a, c, at in rows if at is not None}


def _aware(at: Any) -> datetime:
    # SQLite may hand back max() of a datetime column as text, without a zone.
    value = datetime.fromisoformat(at) if isinstance(at, str) else at
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)


def get_consumable(ctx: ServiceContext, consumable_id: int) -> Consumable:
    row = ctx.session.get(Consumable, consumable_id)
    if row is None:
        raise NotFound(f"consumable {consumable_id} does not exist")
    return row
