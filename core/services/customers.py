"""Customers and what they own: contracts, sites, assets."""

from __future__ import annotations

from datetime import date
from typing import Annotated

from msgspec import UNSET, Meta, UnsetType

from core.domain.errors import Invalid
from core.services.common import (
    Code,
    Email,
    Id,
    Input,
    Latitude,
    Longitude,
    LongText,
    Name,
    Phone,
    ShortText,
    get_or_404,
    get_ref,
)
from core.services.context import ServiceContext
from core.services.records import add_record, change_record
from core.store.models import Asset, AssetModel, Contract, Customer, Site, Territory

Tier = Annotated[str, Meta(min_length=1, max_length=32, pattern=r"^[a-z0-9_\-]+$")]
PriorityRank = Annotated[int, Meta(ge=1, le=4)]
Locale = Annotated[str, Meta(pattern=r"^(zh-CN|en)$")]
Radius = Annotated[int, Meta(ge=10, le=10_000)]


class CustomerInput(Input):
    code: Code
    name: Name
    email: Email | None = None
    phone: Phone | None = None
    locale: Locale = "zh-CN"
    notes: LongText | None = None


class CustomerPatch(Input):
    name: Name | UnsetType = UNSET
    email: Email | UnsetType | None = UNSET
    phone: Phone | UnsetType | None = UNSET
    locale: Locale | UnsetType = UNSET
    notes: LongText | UnsetType | None = UNSET


def create_customer(ctx: ServiceContext, data: CustomerInput) -> Customer:
    customer = Customer(
        code=data.code,
        name=data.name,
        email=data.email,
        phone=data.phone,
        locale=data.locale,
        notes=data.notes,
        created_at=ctx.now(),
    )
    return add_record(ctx, customer, "customer", unique_hint="code")


def update_customer(
    ctx: ServiceContext, customer_id: int, patch: CustomerPatch, version: int | None
) -> Customer:
    customer = get_or_404(ctx.session, Customer, customer_id, "customer")
    return change_record(ctx, customer, patch, version, "customer")


class ContractInput(Input):
    customer_id: Id
    number: Code
    tier: Tier
    starts_on: date
    ends_on: date
    covers_labour: bool = True
    covers_parts: bool = False
    priority_floor: PriorityRank | None = None


class ContractPatch(Input):
    tier: Tier | UnsetType = UNSET
    ends_on: date | UnsetType = UNSET
    covers_labour: bool | UnsetType = UNSET
    covers_parts: bool | UnsetType = UNSET
    priority_floor: PriorityRank | UnsetType | None = UNSET


def create_contract(ctx: ServiceContext, data: ContractInput) -> Contract:
    get_ref(ctx.session, Customer, data.customer_id, "customer_id", "customer")
    if data.ends_on < data.starts_on:
        raise Invalid("a contract cannot end before it starts", field="ends_on")
    contract = Contract(
        customer_id=data.customer_id,
        number=data.number,
        tier=data.tier,
        starts_on=data.starts_on,
        ends_on=data.ends_on,
        covers_labour=data.covers_labour,
        covers_parts=data.covers_parts,
        priority_floor=data.priority_floor,
        created_at=ctx.now(),
    )
    return add_record(ctx, contract, "contract", unique_hint="number")


def update_contract(
    ctx: ServiceContext, contract_id: int, patch: ContractPatch, version: int | None
) -> Contract:
    contract = get_or_404(ctx.session, Contract, contract_id, "contract")
    if patch.ends_on is not UNSET and patch.ends_on < contract.starts_on:
        raise Invalid("a contract cannot end before it starts", field="ends_on")
    return change_record(ctx, contract, patch, version, "contract")


class SiteInput(Input):
    customer_id: Id
    territory_id: Id
    name: Name
    address: ShortText
    lat: Latitude
    lon: Longitude
    access_notes: LongText | None = None
    geofence_radius_m: Radius = 200
    contact_name: Name | None = None
    contact_phone: Phone | None = None


class SitePatch(Input):
    name: Name | UnsetType = UNSET
    address: ShortText | UnsetType = UNSET
    lat: Latitude | UnsetType = UNSET
    lon: Longitude | UnsetType = UNSET
    access_notes: LongText | UnsetType | None = UNSET
    geofence_radius_m: Radius | UnsetType = UNSET
    contact_name: Name | UnsetType | None = UNSET
    contact_phone: Phone | UnsetType | None = UNSET


def create_site(ctx: ServiceContext, data: SiteInput) -> Site:
    get_ref(ctx.session, Customer, data.customer_id, "customer_id", "customer")
    get_ref(ctx.session, Territory, data.territory_id, "territory_id", "territory")
    site = Site(
        customer_id=data.customer_id,
        territory_id=data.territory_id,
        name=data.name,
        address=data.address,
        lat=data.lat,
        lon=data.lon,
        access_notes=data.access_notes,
        geofence_radius_m=data.geofence_radius_m,
        contact_name=data.contact_name,
        contact_phone=data.contact_phone,
        created_at=ctx.now(),
    )
    return add_record(ctx, site, "site")


def update_site(ctx: ServiceContext, site_id: int, patch: SitePatch, version: int | None) -> Site:
    site = get_or_404(ctx.session, Site, site_id, "site")
    return change_record(ctx, site, patch, version, "site")


class AssetInput(Input):
    site_id: Id
    asset_model_id: Id
    serial: Annotated[str, Meta(min_length=1, max_length=120)]
    name: Name | None = None
    contract_id: Id | None = None
    installed_on: date | None = None
    warranty_ends_on: date | None = None


class AssetPatch(Input):
    name: Name | UnsetType | None = UNSET
    contract_id: Id | UnsetType | None = UNSET
    installed_on: date | UnsetType | None = UNSET
    warranty_ends_on: date | UnsetType | None = UNSET


def _check_asset_contract(ctx: ServiceContext, site: Site, contract_id: int | None) -> None:
    if contract_id is None:
        return
    contract = get_ref(ctx.session, Contract, contract_id, "contract_id", "contract")
    if contract.customer_id != site.customer_id:
        raise Invalid(f"contract {contract.number} belongs to another customer", field="contract_id")


def create_asset(ctx: ServiceContext, data: AssetInput) -> Asset:
    site = get_ref(ctx.session, Site, data.site_id, "site_id", "site")
    get_ref(ctx.session, AssetModel, data.asset_model_id, "asset_model_id", "asset model")
    _check_asset_contract(ctx, site, data.contract_id)
    asset = Asset(
        site_id=data.site_id,
        asset_model_id=data.asset_model_id,
        serial=data.serial,
        name=data.name,
        contract_id=data.contract_id,
        installed_on=data.installed_on,
        warranty_ends_on=data.warranty_ends_on,
        created_at=ctx.now(),
    )
    return add_record(ctx, asset, "asset", unique_hint="model and serial")


def update_asset(ctx: ServiceContext, asset_id: int, patch: AssetPatch, version: int | None) -> Asset:
    asset = get_or_404(ctx.session, Asset, asset_id, "asset")
    if patch.contract_id is not UNSET:
        _check_asset_contract(ctx, asset.site, patch.contract_id)
    return change_record(ctx, asset, patch, version, "asset")
