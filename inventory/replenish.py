"""Replenishment in the service: min/max rules, tonight's proposal (inventory.reorder), and accepting it.

Accepting ships every transfer of the proposal in one transaction: all are created, or none (a
warehouse that no longer has the stock fails the whole acceptance with a 409 naming the part).
"""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
import sqlalchemy as sa
from msgspec import Meta

from core.domain.errors import Invalid
from core.services.common import Id, Input, ShortText
from core.services.context import ServiceContext
from core.services.events import audit, emit
from core.store.models import Engineer
from inventory.ledger import LocationKind, SerialStatus
from inventory.lines import PartLine, Quantity, Sku, parts_by_sku
from inventory.locations import get_location
from inventory.models import Part, StockLevel, StockLocation, StockRule, StockSerial, StockTransfer
from inventory.posting import refuse
from inventory.reorder import Place, Position, Proposal, Rule, propose
from inventory.transfers import TransferInput, ship_uncommitted

RuleQuantity = Annotated[int, Meta(ge=0, le=1_000_000)]


class RuleInput(Input):
    location_id: Id
    sku: Sku
    reorder_point: RuleQuantity
    target: Annotated[int, Meta(ge=1, le=1_000_000)]


def put_rule(ctx: ServiceContext, data: RuleInput) -> StockRule:
    """Set (or replace) the min/max of one part at one location."""
    location = get_location(ctx, data.location_id, "location_id")
    part = ctx.session.scalar(sa.select(Part).where(Part.sku == data.sku))
    if part is None:
        raise Invalid(f"no part with SKU {data.sku!r} in the catalogue", field="sku")
    if data.target <= data.reorder_point:
        raise Invalid("the target must be above the reorder point", field="target")
    rule = ctx.session.get(StockRule, (part.id, location.id))
    if rule is None:
        rule = StockRule(part_id=part.id, location_id=location.id)
        ctx.session.add(rule)
    rule.reorder_point, rule.target, rule.updated_at = data.reorder_point, data.target, ctx.now()
    detail = {"sku": part.sku, "reorder_point": data.reorder_point, "target": data.target}
    audit(ctx, "stock_location", location.id, "stock_rule_set", data=detail)
    emit(ctx, "stock.rule_set", "stock_location", location.id, detail)
    ctx.session.commit()
    return rule


def delete_rule(ctx: ServiceContext, location_id: int, sku: str) -> None:
    location = get_location(ctx, location_id)
    part = ctx.session.scalar(sa.select(Part).where(Part.sku == sku))
    rule = ctx.session.get(StockRule, (part.id, location.id)) if part else None
    if rule is None:
        raise Invalid(f"{location.code} has no rule for {sku!r}", field="sku")
    ctx.session.delete(rule)
    audit(ctx, "stock_location", location.id, "stock_rule_removed", data={"sku": sku})
    ctx.session.commit()


def rules_of(ctx: ServiceContext, location_id: int) -> list[dict[str, Any]]:
    location = get_location(ctx, location_id)
    rows = ctx.session.execute(
        sa.select(StockRule, Part.sku)
        .join(Part, Part.id == StockRule.part_id)
        .where(StockRule.location_id == location.id)
        .order_by(Part.sku)
    ).all()
    return [
        {
            "location_id": r.location_id,
            "part_id": r.part_id,
            "sku": sku,
            "reorder_point": r.reorder_point,
            "target": r.target,
            "updated_at": r.updated_at,
        }
        for r, sku in rows
    ]


def current_proposal(ctx: ServiceContext, territory_id: int | None = None) -> Proposal:
    """Tonight's proposal from the current stock and rules (of one territory, or everywhere)."""
    session = ctx.session
    query = sa.select(StockLocation, Engineer.home_lat, Engineer.home_lon).outerjoin(
        Engineer, Engineer.id == StockLocation.engineer_id
    )
    query = query.where(StockLocation.active)
    if territory_id is not None:
        query = query.where(StockLocation.territory_id == territory_id)
    places = []
    for loc, home_lat, home_lon in session.execute(query):
        lat, lon = (loc.lat, loc.lon) if loc.kind == LocationKind.WAREHOUSE else (home_lat, home_lon)
        if lat is None or lon is None:
            continue
        places.append(Place(loc.id, loc.code, loc.kind, lat, lon, loc.engineer_id))
    ids = [p.id for p in places]
    rules = [
        Rule(r.part_id, r.location_id, r.reorder_point, r.target)
        for r in session.scalars(sa.select(StockRule).where(StockRule.location_id.in_(ids)))
    ]
    part_ids = sorted({r.part_id for r in rules})
    positions = {
        (lv.part_id, lv.location_id): Position(lv.on_hand, lv.reserved, lv.inbound)
        for lv in session.scalars(
            sa.select(StockLevel).where(StockLevel.part_id.in_(part_ids), StockLevel.location_id.in_(ids))
        )
    }
    skus = dict(session.execute(sa.select(Part.id, Part.sku).where(Part.id.in_(part_ids))).tuples().all())
    return propose(places, positions, rules, skus)


class AcceptedLine(msgspec.Struct, forbid_unknown_fields=True):
    sku: Sku
    quantity: Quantity


class AcceptedTransfer(msgspec.Struct, forbid_unknown_fields=True):
    from_location_id: Id
    to_location_id: Id
    lines: Annotated[list[AcceptedLine], Meta(min_length=1, max_length=200)]


class AcceptInput(Input):
    """The transfers of a proposal the dispatcher agrees with (all of them, or a subset, or edited)."""

    transfers: Annotated[list[AcceptedTransfer], Meta(min_length=1, max_length=500)]
    reason: ShortText = "replenishment"


def accept(ctx: ServiceContext, data: AcceptInput) -> list[StockTransfer]:
    """Ship the accepted transfers, all in one transaction. Serial-tracked parts take the lowest serials."""
    shipped = []
    for i, proposed in enumerate(data.transfers):
        source = get_location(ctx, proposed.from_location_id, f"transfers[{i}].from_location_id")
        parts = parts_by_sku(ctx.session, [line.sku for line in proposed.lines])
        lines = []
        for j, line in enumerate(proposed.lines):
            part = parts.get(line.sku)
            if part is None:
                raise Invalid(f"no part with SKU {line.sku!r}", field=f"transfers[{i}].lines[{j}].sku")
            picked = _pick_serials(ctx, part, source.id, line.quantity) if part.serial_tracked else []
            if part.serial_tracked and len(picked) < line.quantity:
                raise refuse(
                    ctx,
                    f"not enough {part.sku} at {source.code}: {len(picked)} in stock, {line.quantity} needed",
                )
            lines.append(PartLine(sku=line.sku, quantity=line.quantity, serials=picked))
        try:
            transfer_input = TransferInput(
                from_location_id=source.id,
                to_location_id=proposed.to_location_id,
                lines=lines,
                reason=data.reason,
            )
            shipped.append(ship_uncommitted(ctx, transfer_input))
        except Invalid as exc:
            raise Invalid(exc.detail, field=f"transfers[{i}].{exc.field}" if exc.field else None) from exc
    audit(
        ctx,
        "stock_transfer",
        shipped[0].id,
        "replenishment_accepted",
        data={"transfers": [t.id for t in shipped]},
    )
    ctx.session.commit()
    return shipped


def _pick_serials(ctx: ServiceContext, part: Part, location_id: int, quantity: int) -> list[str]:
    return list(
        ctx.session.scalars(
            sa.select(StockSerial.serial)
            .where(
                StockSerial.part_id == part.id,
                StockSerial.location_id == location_id,
                StockSerial.status == SerialStatus.IN_STOCK.value,
            )
            .order_by(StockSerial.serial)
            .limit(quantity)
        )
    )
