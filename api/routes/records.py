"""Master data the dispatcher works with: customers, contracts, sites, assets, engineers."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from api.access import needs
from api.deps import Ctx, expected_version, paged, parse_point, tagged
from api.routes.work_orders import IfMatch
from api.views import (
    AssetOut,
    ContractOut,
    CustomerOut,
    EngineerOut,
    SiteOut,
    engineer_out,
    view,
)
from core.services import customers, engineers
from core.services.common import get_or_404
from core.services.records import list_records, remove_record
from core.store.models import Asset, Contract, Customer, Engineer, Site
from core.store.nearby import NearbyRepository

Limit = Annotated[int, QueryParameter(ge=1, le=500)]
Cursor = Annotated[str | None, QueryParameter(max_length=500)]
READ, WRITE = needs("records.read"), needs("records.write")


class CustomerController(Controller):
    path = "/customers"
    tags = ["customers"]

    @get(opt=READ, sync_to_thread=True)
    def list_customers(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        q: Annotated[str | None, QueryParameter(max_length=200)] = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> Response[dict[str, Any]]:
        conditions = [Customer.name.contains(q, autoescape=True)] if q else []
        page = list_records(ctx, Customer, conditions, limit=limit, cursor=cursor)
        return paged(request, page, lambda c: view(c, CustomerOut))

    @post(opt=WRITE, sync_to_thread=True)
    def create_customer(self, ctx: Ctx, data: JSONBody[customers.CustomerInput]) -> Response[CustomerOut]:
        customer = customers.create_customer(ctx, data)
        return tagged(view(customer, CustomerOut), customer.version, 201)

    @get("/{customer_id:int}", opt=READ, sync_to_thread=True)
    def get_customer(self, ctx: Ctx, customer_id: FromPath[int]) -> Response[CustomerOut]:
        customer = get_or_404(ctx.session, Customer, customer_id, "customer")
        return tagged(view(customer, CustomerOut), customer.version)

    @patch("/{customer_id:int}", opt=WRITE, sync_to_thread=True)
    def update_customer(
        self,
        ctx: Ctx,
        customer_id: FromPath[int],
        data: JSONBody[customers.CustomerPatch],
        if_match: IfMatch = None,
    ) -> Response[CustomerOut]:
        customer = customers.update_customer(ctx, customer_id, data, expected_version(if_match))
        return tagged(view(customer, CustomerOut), customer.version)

    @delete("/{customer_id:int}", opt=WRITE, sync_to_thread=True)
    def delete_customer(self, ctx: Ctx, customer_id: FromPath[int], if_match: IfMatch = None) -> None:
        """Delete a customer nothing refers to (409 otherwise)."""
        remove_record(
            ctx,
            get_or_404(ctx.session, Customer, customer_id, "customer"),
            "customer",
            expected_version(if_match),
        )


class ContractController(Controller):
    path = "/contracts"
    tags = ["contracts"]

    @get(opt=READ, sync_to_thread=True)
    def list_contracts(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        customer_id: FromQuery[int | None] = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> Response[dict[str, Any]]:
        conditions = [Contract.customer_id == customer_id] if customer_id else []
        page = list_records(ctx, Contract, conditions, limit=limit, cursor=cursor)
        return paged(request, page, lambda c: view(c, ContractOut))

    @post(opt=WRITE, sync_to_thread=True)
    def create_contract(self, ctx: Ctx, data: JSONBody[customers.ContractInput]) -> Response[ContractOut]:
        contract = customers.create_contract(ctx, data)
        return tagged(view(contract, ContractOut), contract.version, 201)

    @get("/{contract_id:int}", opt=READ, sync_to_thread=True)
    def get_contract(self, ctx: Ctx, contract_id: FromPath[int]) -> Response[ContractOut]:
        contract = get_or_404(ctx.session, Contract, contract_id, "contract")
        return tagged(view(contract, ContractOut), contract.version)

    @patch("/{contract_id:int}", opt=WRITE, sync_to_thread=True)
    def update_contract(
        self,
        ctx: Ctx,
        contract_id: FromPath[int],
        data: JSONBody[customers.ContractPatch],
        if_match: IfMatch = None,
    ) -> Response[ContractOut]:
        contract = customers.update_contract(ctx, contract_id, data, expected_version(if_match))
        return tagged(view(contract, ContractOut), contract.version)

    @delete("/{contract_id:int}", opt=WRITE, sync_to_thread=True)
    def delete_contract(self, ctx: Ctx, contract_id: FromPath[int], if_match: IfMatch = None) -> None:
        """Delete a contract nothing refers to (409 otherwise)."""
        remove_record(
            ctx,
            get_or_404(ctx.session, Contract, contract_id, "contract"),
            "contract",
            expected_version(if_match),
        )


class SiteController(Controller):
    path = "/sites"
    tags = ["sites"]

    @get(opt=READ, sync_to_thread=True)
    def list_sites(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        customer_id: FromQuery[int | None] = None,
        territory_id: FromQuery[int | None] = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> Response[dict[str, Any]]:
        conditions = []
        if customer_id:
            conditions.append(Site.customer_id == customer_id)
        if territory_id:
            conditions.append(Site.territory_id == territory_id)
        page = list_records(ctx, Site, conditions, limit=limit, cursor=cursor)
        return paged(request, page, lambda s: view(s, SiteOut))

    @post(opt=WRITE, sync_to_thread=True)
    def create_site(self, ctx: Ctx, data: JSONBody[customers.SiteInput]) -> Response[SiteOut]:
        site = customers.create_site(ctx, data)
        return tagged(view(site, SiteOut), site.version, 201)

    @get("/{site_id:int}", opt=READ, sync_to_thread=True)
    def get_site(self, ctx: Ctx, site_id: FromPath[int]) -> Response[SiteOut]:
        site = get_or_404(ctx.session, Site, site_id, "site")
        return tagged(view(site, SiteOut), site.version)

    @patch("/{site_id:int}", opt=WRITE, sync_to_thread=True)
    def update_site(
        self, ctx: Ctx, site_id: FromPath[int], data: JSONBody[customers.SitePatch], if_match: IfMatch = None
    ) -> Response[SiteOut]:
        site = customers.update_site(ctx, site_id, data, expected_version(if_match))
        return tagged(view(site, SiteOut), site.version)

    @delete("/{site_id:int}", opt=WRITE, sync_to_thread=True)
    def delete_site(self, ctx: Ctx, site_id: FromPath[int], if_match: IfMatch = None) -> None:
        """Delete a site nothing refers to (409 otherwise)."""
        remove_record(ctx, get_or_404(ctx.session, Site, site_id, "site"), "site", expected_version(if_match))


class AssetController(Controller):
    path = "/assets"
    tags = ["assets"]

    @get(opt=READ, sync_to_thread=True)
    def list_assets(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        site_id: FromQuery[int | None] = None,
        serial: Annotated[str | None, QueryParameter(max_length=120)] = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> Response[dict[str, Any]]:
        conditions = []
        if site_id:
            conditions.append(Asset.site_id == site_id)
        if serial:
            conditions.append(Asset.serial == serial)
        page = list_records(ctx, Asset, conditions, limit=limit, cursor=cursor)
        return paged(request, page, lambda a: view(a, AssetOut))

    @post(opt=WRITE, sync_to_thread=True)
    def create_asset(self, ctx: Ctx, data: JSONBody[customers.AssetInput]) -> Response[AssetOut]:
        asset = customers.create_asset(ctx, data)
        return tagged(view(asset, AssetOut), asset.version, 201)

    @get("/{asset_id:int}", opt=READ, sync_to_thread=True)
    def get_asset(self, ctx: Ctx, asset_id: FromPath[int]) -> Response[AssetOut]:
        asset = get_or_404(ctx.session, Asset, asset_id, "asset")
        return tagged(view(asset, AssetOut), asset.version)

    @patch("/{asset_id:int}", opt=WRITE, sync_to_thread=True)
    def update_asset(
        self,
        ctx: Ctx,
        asset_id: FromPath[int],
        data: JSONBody[customers.AssetPatch],
        if_match: IfMatch = None,
    ) -> Response[AssetOut]:
        asset = customers.update_asset(ctx, asset_id, data, expected_version(if_match))
        return tagged(view(asset, AssetOut), asset.version)

    @delete("/{asset_id:int}", opt=WRITE, sync_to_thread=True)
    def delete_asset(self, ctx: Ctx, asset_id: FromPath[int], if_match: IfMatch = None) -> None:
        """Delete a asset nothing refers to (409 otherwise)."""
        remove_record(
            ctx, get_or_404(ctx.session, Asset, asset_id, "asset"), "asset", expected_version(if_match)
        )


class EngineerController(Controller):
    path = "/engineers"
    tags = ["engineers"]

    @get(opt=READ, sync_to_thread=True)
    def list_engineers(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        territory_id: FromQuery[int | None] = None,
        active: FromQuery[bool | None] = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> Response[dict[str, Any]]:
        conditions = []
        if territory_id:
            conditions.append(Engineer.territory_id == territory_id)
        if active is not None:
            conditions.append(Engineer.active.is_(active))
        page = list_records(ctx, Engineer, conditions, limit=limit, cursor=cursor)
        return paged(request, page, engineer_out)

    @get("/near", opt=READ, sync_to_thread=True)
    def engineers_near(
        self,
        ctx: Ctx,
        near: FromQuery[str],
        within_km: Annotated[float, QueryParameter(gt=0, le=20_000)],
        limit: Limit = 20,
    ) -> list[dict[str, Any]]:
        """Active engineers whose home base is within `within_km` of `near` (lat,lon), nearest first."""
        found = NearbyRepository(ctx.session).engineers_near(parse_point(near), within_km * 1000, limit=limit)
        return [{"engineer_id": n.id, "distance_km": round(n.distance_m / 1000, 3)} for n in found]

    @post(opt=WRITE, sync_to_thread=True)
    def create_engineer(self, ctx: Ctx, data: JSONBody[engineers.EngineerInput]) -> Response[EngineerOut]:
        engineer = engineers.create_engineer(ctx, data)
        return tagged(engineer_out(engineer), engineer.version, 201)

    @get("/{engineer_id:int}", opt=READ, sync_to_thread=True)
    def get_engineer(self, ctx: Ctx, engineer_id: FromPath[int]) -> Response[EngineerOut]:
        engineer = get_or_404(ctx.session, Engineer, engineer_id, "engineer")
        return tagged(engineer_out(engineer), engineer.version)

    @patch("/{engineer_id:int}", opt=WRITE, sync_to_thread=True)
    def update_engineer(
        self,
        ctx: Ctx,
        engineer_id: FromPath[int],
        data: JSONBody[engineers.EngineerPatch],
        if_match: IfMatch = None,
    ) -> Response[EngineerOut]:
        engineer = engineers.update_engineer(ctx, engineer_id, data, expected_version(if_match))
        return tagged(engineer_out(engineer), engineer.version)

    @delete("/{engineer_id:int}", opt=WRITE, sync_to_thread=True)
    def delete_engineer(self, ctx: Ctx, engineer_id: FromPath[int], if_match: IfMatch = None) -> None:
        """Delete a engineer nothing refers to (409 otherwise)."""
        remove_record(
            ctx,
            get_or_404(ctx.session, Engineer, engineer_id, "engineer"),
            "engineer",
            expected_version(if_match),
        )
