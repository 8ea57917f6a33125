"""Stock locations: warehouses on the map and one van per engineer; who may use which."""

from __future__ import annotations

from typing import Annotated

import sqlalchemy as sa
from msgspec import UNSET, Meta, UnsetType

from core.domain.errors import Invalid, NotFound
from core.services.common import Code, Id, Input, Latitude, Longitude, Name, ShortText, get_ref
from core.services.context import Role, ServiceContext
from core.services.records import add_record, change_record
from core.store.models import Engineer, Territory
from inventory.ledger import LocationKind
from inventory.models import StockLocation

KindName = Annotated[str, Meta(pattern=r"^(warehouse|van)$")]


class LocationInput(Input):
    code: Code
    name: Name
    kind: KindName
    # A van belongs to an engineer; a warehouse has a place on the map.
    engineer_id: Id | None = None
    territory_id: Id | None = None
    address: ShortText | None = None
    lat: Latitude | None = None
    lon: Longitude | None = None


class LocationPatch(Input):
    name: Name | UnsetType = UNSET
    territory_id: Id | UnsetType | None = UNSET
    address: ShortText | UnsetType | None = UNSET
    lat: Latitude | UnsetType = UNSET
    lon: Longitude | UnsetType = UNSET
    active: bool | UnsetType = UNSET


def create_location(ctx: ServiceContext, data: LocationInput) -> StockLocation:
    if data.kind == LocationKind.VAN:
        if data.engineer_id is None:
            raise Invalid("a van belongs to an engineer: give engineer_id", field="engineer_id")
        engineer = get_ref(ctx.session, Engineer, data.engineer_id, "engineer_id", "engineer")
        if van_of(ctx, engineer.id) is not None:
            raise Invalid(f"engineer {engineer.name} already has a van", field="engineer_id")
    else:
        if data.engineer_id is not None:
            raise Invalid("a warehouse belongs to no engineer", field="engineer_id")
        for name in ("lat", "lon"):
            if getattr(data, name) is None:
                raise Invalid("a warehouse needs its place on the map (lat and lon)", field=name)
    if data.territory_id is not None:
        get_ref(ctx.session, Territory, data.territory_id, "territory_id", "territory")
    location = StockLocation(
        code=data.code,
        name=data.name,
        kind=data.kind,
        engineer_id=data.engineer_id,
        territory_id=data.territory_id,
        address=data.address,
        lat=data.lat,
        lon=data.lon,
        created_at=ctx.now(),
    )
    return add_record(ctx, location, "stock_location", unique_hint="code")


def update_location(
    ctx: ServiceContext, location_id: int, patch: LocationPatch, version: int | None
) -> StockLocation:
    location = get_location(ctx, location_id)
    if patch.territory_id not in (UNSET, None):
        get_ref(ctx.session, Territory, patch.territory_id, "territory_id", "territory")
    if location.kind == LocationKind.VAN and (patch.lat is not UNSET or patch.lon is not UNSET):
        raise Invalid("a van is where its engineer is; it has no fixed place", field="lat")
    return change_record(ctx, location, patch, version, "stock_location")


def ensure_van(ctx: ServiceContext, engineer_id: int) -> StockLocation:
    """The engineer's van, created (code VAN-<id>) if they have none yet."""
    van = van_of(ctx, engineer_id)
    if van is not None:
        return van
    engineer = get_ref(ctx.session, Engineer, engineer_id, "engineer_id", "engineer")
    return create_location(
        ctx,
        LocationInput(
            code=f"VAN-{engineer.id}",
            name=f"{engineer.name} van",
            kind=LocationKind.VAN,
            engineer_id=engineer.id,
            territory_id=engineer.territory_id,
        ),
    )


def van_of(ctx: ServiceContext, engineer_id: int) -> StockLocation | None:
    return ctx.session.scalar(sa.select(StockLocation).where(StockLocation.engineer_id == engineer_id))


def get_location(ctx: ServiceContext, location_id: int, field: str | None = None) -> StockLocation:
    """A location the actor may see: an engineer sees warehouses and their own van, no other van.

    With `field` (an id inside a request body) an unknown location is a 422 naming it, else a 404.
    """
    location = ctx.session.get(StockLocation, location_id)
    if location is not None and ctx.actor.role is Role.ENGINEER:
        own = location.kind == LocationKind.WAREHOUSE or location.engineer_id == ctx.actor.engineer_id
        location = location if own else None
    if location is None:
        if field:
            raise Invalid(f"stock location {location_id} does not exist", field=field)
        raise NotFound(f"stock location {location_id} does not exist")
    return location


def usable_location(
    ctx: ServiceContext, location_id: int | None, field: str, engineer_id: int | None
) -> StockLocation:
    """Where stock is taken from or put back: the named location, else the engineer's van."""
    if location_id is not None:
        location = get_location(ctx, location_id, field)
    else:
        if engineer_id is None:
            raise Invalid("name the stock location (there is no engineer whose van to use)", field=field)
        found = van_of(ctx, engineer_id)
        if found is None:
            raise Invalid(
                f"engineer {engineer_id} has no van location yet; create one (POST /stock-locations)",
                field=field,
            )
        location = found
    if not location.active:
        raise Invalid(f"stock location {location.code} is closed", field=field)
    return location
