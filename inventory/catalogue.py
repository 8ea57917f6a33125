"""The parts catalogue: SKUs, prices, units, serial tracking, compatible asset models, fault → parts map."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

import msgspec
import sqlalchemy as sa
from msgspec import UNSET, Meta, UnsetType

from core.domain.errors import Conflict, Invalid
from core.services.common import Id, Input, LongText, Name, check_version, get_or_404
from core.services.context import ServiceContext
from core.services.events import audit, emit
from core.services.records import add_record, change_record
from core.store.models import AssetModel
from inventory.ledger import money
from inventory.lines import Quantity, Sku, parts_by_sku
from inventory.models import FaultPart, Part, PartCompatibility, StockLevel

Unit = Annotated[str, Meta(min_length=1, max_length=16, pattern=r"^[A-Za-z0-9_.\-/]+$")]
ModelIds = Annotated[list[Id], Meta(max_length=200)]
FaultCode = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^\S+$")]


class PartInput(Input):
    sku: Sku
    name: Name
    unit_cost: Decimal
    unit_price: Decimal
    description: LongText = ""
    unit_of_measure: Unit = "ea"
    serial_tracked: bool = False
    compatible_asset_model_ids: ModelIds = []


class PartPatch(Input):
    name: Name | UnsetType = UNSET
    description: LongText | UnsetType = UNSET
    unit_of_measure: Unit | UnsetType = UNSET
    unit_cost: Decimal | UnsetType = UNSET
    unit_price: Decimal | UnsetType = UNSET
    serial_tracked: bool | UnsetType = UNSET
    active: bool | UnsetType = UNSET
    compatible_asset_model_ids: ModelIds | UnsetType = UNSET


def _compatibility(ctx: ServiceContext, ids: list[int]) -> list[PartCompatibility]:
    known = set(ctx.session.scalars(sa.select(AssetModel.id).where(AssetModel.id.in_(ids))))
    for i, model_id in enumerate(ids):
        field = f"compatible_asset_model_ids[{i}]"
        if model_id not in known:
            raise Invalid(f"asset model {model_id} does not exist", field=field)
        if ids.index(model_id) != i:
            raise Invalid(f"asset model {model_id} is listed twice", field=field)
    return [PartCompatibility(asset_model_id=m) for m in ids]


def create_part(ctx: ServiceContext, data: PartInput) -> Part:
    now = ctx.now()
    part = Part(
        sku=data.sku,
        name=data.name,
        description=data.description,
        unit_of_measure=data.unit_of_measure,
        unit_cost=money(data.unit_cost, "unit_cost"),
        unit_price=money(data.unit_price, "unit_price"),
        serial_tracked=data.serial_tracked,
        compatible=_compatibility(ctx, data.compatible_asset_model_ids),
        created_at=now,
        updated_at=now,
    )
    return add_record(ctx, part, "part", unique_hint="SKU")


def update_part(ctx: ServiceContext, part_id: int, patch: PartPatch, version: int | None) -> Part:
    part = get_or_404(ctx.session, Part, part_id, "part")
    check_version(part.version, version)
    extra: dict[str, object] = {}
    for name in ("unit_cost", "unit_price"):
        value = getattr(patch, name)
        if value is not UNSET:
            patch = msgspec.structs.replace(patch, **{name: money(value, name)})
    switching = patch.serial_tracked is not UNSET and patch.serial_tracked != part.serial_tracked
    # Serial numbers and counts must agree; switching with stock out there would break that.
    if switching and stock_anywhere(ctx, part.id):
        raise Conflict(
            f"{part.sku} still has stock (on hand or on the road); "
            "its serial tracking can change only when it has none"
        )
    if patch.compatible_asset_model_ids is not UNSET:
        part.compatible = _compatibility(ctx, patch.compatible_asset_model_ids)
        extra["compatible_asset_model_ids"] = True
    simple = msgspec.structs.replace(patch, compatible_asset_model_ids=UNSET)
    if extra or any(
        getattr(simple, name) not in (UNSET, getattr(part, name)) for name in simple.__struct_fields__
    ):
        part.updated_at = ctx.now()
    return change_record(ctx, part, simple, version, "part", extra_changes=extra)


def stock_anywhere(ctx: ServiceContext, part_id: int) -> bool:
    total = ctx.session.scalar(
        sa.select(sa.func.coalesce(sa.func.sum(StockLevel.on_hand + StockLevel.inbound), 0)).where(
            StockLevel.part_id == part_id
        )
    )
    return bool(total)


# ---------------------------------------------------------------- fault → parts


class FaultPartLine(msgspec.Struct, forbid_unknown_fields=True):
    sku: Sku
    quantity: Quantity = 1


class FaultPartsInput(Input):
    parts: Annotated[list[FaultPartLine], Meta(max_length=100)]


def put_fault_parts(
    ctx: ServiceContext, asset_model_id: int, fault_code: str, data: FaultPartsInput
) -> list[dict[str, Any]]:
    """Replace what a fault on this asset model calls for (an empty list removes the fault's entry)."""
    get_or_404(ctx.session, AssetModel, asset_model_id, "asset model")
    parts = parts_by_sku(ctx.session, [line.sku for line in data.parts])
    seen: set[str] = set()
    for i, line in enumerate(data.parts):
        if line.sku not in parts:
            raise Invalid(f"no part with SKU {line.sku!r} in the catalogue", field=f"parts[{i}].sku")
        if line.sku in seen:
            raise Invalid(f"{line.sku} is listed twice", field=f"parts[{i}].sku")
        seen.add(line.sku)
    ctx.session.execute(
        sa.delete(FaultPart).where(
            FaultPart.asset_model_id == asset_model_id, FaultPart.fault_code == fault_code
        )
    )
    for line in data.parts:
        ctx.session.add(
            FaultPart(
                asset_model_id=asset_model_id,
                fault_code=fault_code,
                part_id=parts[line.sku].id,
                quantity=line.quantity,
            )
        )
    result = [{"sku": line.sku, "quantity": line.quantity} for line in data.parts]
    audit(ctx, "asset_model", asset_model_id, "fault_parts_set", data={"fault": fault_code, "parts": result})
    emit(ctx, "part.fault_map_changed", "asset_model", asset_model_id, {"fault": fault_code, "parts": result})
    ctx.session.commit()
    return result


def fault_map(ctx: ServiceContext, asset_model_id: int) -> dict[str, list[dict[str, Any]]]:
    """The whole fault → parts map of one asset model."""
    get_or_404(ctx.session, AssetModel, asset_model_id, "asset model")
    rows = ctx.session.execute(
        sa.select(FaultPart.fault_code, Part.sku, FaultPart.quantity)
        .join(Part, Part.id == FaultPart.part_id)
        .where(FaultPart.asset_model_id == asset_model_id)
        .order_by(FaultPart.fault_code, Part.sku)
    )
    out: dict[str, list[dict[str, Any]]] = {}
    for code, sku, quantity in rows:
        out.setdefault(code, []).append({"sku": sku, "quantity": quantity})
    return out


def parts_for_fault(ctx: ServiceContext, asset_model_id: int, fault_code: str) -> list[dict[str, Any]]:
    """What a work order raised for this fault needs, in `WorkOrder.required_parts` shape."""
    rows = ctx.session.execute(
        sa.select(Part.sku, FaultPart.quantity)
        .join(Part, Part.id == FaultPart.part_id)
        .where(FaultPart.asset_model_id == asset_model_id, FaultPart.fault_code == fault_code, Part.active)
        .order_by(Part.sku)
    )
    return [{"sku": sku, "quantity": quantity} for sku, quantity in rows]
