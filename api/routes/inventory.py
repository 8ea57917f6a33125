"""/parts, /fault-parts, /stock-locations, /stock, /stock/transfers: spare parts for the office.

Engineers consume and return parts through the mobile API (the same inventory use cases, with their van
as the default location); these routes are the office's view and tools.
"""

from __future__ import annotations

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any

import msgspec
import sqlalchemy as sa
from litestar import Controller, Request, Response, delete, get, patch, post, put
from litestar.params import FromPath, FromQuery, JSONBody, PathParameter, QueryParameter, RawBody
from litestar.types import ControllerRouterHandler

from api.access import needs
from api.deps import Ctx, expected_version, paged, tagged
from api.problems import problem
from api.routes.work_orders import IfMatch
from core.services.common import Id, Input, get_or_404, get_ref
from core.services.paging import Page
from core.services.records import list_records, remove_record
from core.store.models import Visit
from inventory import (
    catalogue,
    csv_catalogue,
    csv_counts,
    locations,
    movements,
    pickups,
    queries,
    read_model,
    replenish,
    reservations,
    transfers,
)
from inventory.csv_read import CsvRejected
from inventory.ledger import MovementKind, TransferStatus
from inventory.models import Part, PartCompatibility, StockLocation, StockTransfer
from inventory.read_model import LevelView
from inventory.reorder import Proposal

READ, WRITE, CATALOGUE = needs("stock.read"), needs("stock.write"), needs("catalogue.write")
Limit = Annotated[int, QueryParameter(ge=1, le=500)]
Cursor = Annotated[str | None, QueryParameter(max_length=500)]
SkuQuery = Annotated[str | None, QueryParameter(max_length=64)]
CSV = "text/csv; charset=utf-8"


class PartOut(msgspec.Struct, kw_only=True):
    id: int
    sku: str
    name: str
    description: str
    unit_of_measure: str
    unit_cost: Decimal
    unit_price: Decimal
    serial_tracked: bool
    active: bool
    compatible_asset_model_ids: list[int]
    created_at: datetime
    updated_at: datetime
    version: int


def part_out(part: Part) -> PartOut:
    return PartOut(
        id=part.id,
        sku=part.sku,
        name=part.name,
        description=part.description,
        unit_of_measure=part.unit_of_measure,
        unit_cost=part.unit_cost,
        unit_price=part.unit_price,
        serial_tracked=part.serial_tracked,
        active=part.active,
        compatible_asset_model_ids=[c.asset_model_id for c in part.compatible],
        created_at=part.created_at,
        updated_at=part.updated_at,
        version=part.version,
    )


class LocationOut(msgspec.Struct, kw_only=True):
    id: int
    code: str
    name: str
    kind: str
    engineer_id: int | None
    territory_id: int | None
    address: str | None
    lat: float | None
    lon: float | None
    active: bool
    version: int


def location_out(location: StockLocation) -> LocationOut:
    return msgspec.convert(location, LocationOut, from_attributes=True)


class TransferLineOut(msgspec.Struct, kw_only=True):
    sku: str
    quantity: int
    serials: list[str]


class TransferOut(msgspec.Struct, kw_only=True):
    id: int
    from_location_id: int
    to_location_id: int
    status: str
    reason: str | None
    work_order_id: int | None
    shipped_at: datetime
    shipped_by: str | None
    closed_at: datetime | None
    closed_by: str | None
    lines: list[TransferLineOut]


def transfer_out(ctx: Ctx, transfer: StockTransfer) -> TransferOut:
    ids = [line.part_id for line in transfer.lines]
    skus = dict(ctx.session.execute(sa.select(Part.id, Part.sku).where(Part.id.in_(ids))).tuples().all())
    return TransferOut(
        id=transfer.id,
        from_location_id=transfer.from_location_id,
        to_location_id=transfer.to_location_id,
        status=transfer.status,
        reason=transfer.reason,
        work_order_id=transfer.work_order_id,
        shipped_at=transfer.shipped_at,
        shipped_by=transfer.shipped_by,
        closed_at=transfer.closed_at,
        closed_by=transfer.closed_by,
        lines=[
            TransferLineOut(sku=skus[x.part_id], quantity=x.quantity, serials=x.serials)
            for x in transfer.lines
        ],
    )


def csv_problem(exc: CsvRejected) -> Response[dict[str, Any]]:
    """422 naming the first bad cell, with every error (line, column, message) in `errors`."""
    errors = [{"line": e.line, "field": e.field, "message": e.message} for e in exc.errors]
    return problem(422, exc.detail, slug="csv-rejected", field=exc.field, errors=errors)


def csv_file(text: str, filename: str) -> Response[str]:
    return Response(
        text, media_type=CSV, headers={"Content-Disposition": f'attachment; filename="{filename}"'}
    )


# ---------------------------------------------------------------- the catalogue


class PartController(Controller):
    path = "/parts"
    tags = ["parts"]

    @get(opt=READ, sync_to_thread=True)
    def list_parts(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        q: Annotated[str | None, QueryParameter(max_length=200, description="SKU or name contains")] = None,
        active: FromQuery[bool | None] = None,
        asset_model_id: FromQuery[int | None] = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> Response[dict[str, Any]]:
        conditions: list[sa.ColumnElement[bool]] = []
        if q:
            conditions.append(
                sa.or_(Part.sku.contains(q, autoescape=True), Part.name.contains(q, autoescape=True))
            )
        if active is not None:
            conditions.append(Part.active.is_(active))
        if asset_model_id is not None:
            conditions.append(
                Part.id.in_(
                    sa.select(PartCompatibility.part_id).where(
                        PartCompatibility.asset_model_id == asset_model_id
                    )
                )
            )
        page = list_records(ctx, Part, conditions, limit=limit, cursor=cursor)
        return paged(request, page, part_out)

    @post(opt=CATALOGUE, sync_to_thread=True)
    def create_part(self, ctx: Ctx, data: JSONBody[catalogue.PartInput]) -> Response[PartOut]:
        part = catalogue.create_part(ctx, data)
        return tagged(part_out(part), part.version, 201)

    @get("/{part_id:int}", opt=READ, sync_to_thread=True)
    def get_part(self, ctx: Ctx, part_id: FromPath[int]) -> Response[PartOut]:
        part = get_or_404(ctx.session, Part, part_id, "part")
        return tagged(part_out(part), part.version)

    @patch("/{part_id:int}", opt=CATALOGUE, sync_to_thread=True)
    def update_part(
        self, ctx: Ctx, part_id: FromPath[int], data: JSONBody[catalogue.PartPatch], if_match: IfMatch = None
    ) -> Response[PartOut]:
        part = catalogue.update_part(ctx, part_id, data, expected_version(if_match))
        return tagged(part_out(part), part.version)

    @delete("/{part_id:int}", opt=CATALOGUE, sync_to_thread=True)
    def delete_part(self, ctx: Ctx, part_id: FromPath[int], if_match: IfMatch = None) -> None:
        """Delete a part nothing refers to (409 once it has stock history: deactivate it instead)."""
        part = get_or_404(ctx.session, Part, part_id, "part")
        part.compatible = []
        remove_record(ctx, part, "part", expected_version(if_match))

    @get("/export", opt=READ, sync_to_thread=True)
    def export_parts(self, ctx: Ctx) -> Response[str]:
        """The catalogue as CSV, in exactly the columns the import reads."""
        return csv_file(csv_catalogue.export_catalogue(ctx), "parts.csv")

    @post("/import", opt=CATALOGUE, sync_to_thread=True, status_code=200)
    def import_parts(self, ctx: Ctx, body: RawBody) -> Response[Any]:
        """Create or update parts by SKU from a CSV body (`Content-Type: text/csv`), all or nothing.

        Columns: sku, name, unit_cost, unit_price (required), unit_of_measure, serial_tracked, active,
        compatible_models (asset model codes, `;`-separated), description. Errors: 422 with `errors`.
        """
        try:
            result = csv_catalogue.import_catalogue(ctx, body)
        except CsvRejected as exc:
            return csv_problem(exc)
        return Response(msgspec.to_builtins(result))


class FaultPartsController(Controller):
    path = "/fault-parts"
    tags = ["parts"]

    @get("/{asset_model_id:int}", opt=READ, sync_to_thread=True)
    def fault_map(self, ctx: Ctx, asset_model_id: FromPath[int]) -> dict[str, list[dict[str, Any]]]:
        """An asset model's fault → parts map: what a work order raised for each fault should bring."""
        return catalogue.fault_map(ctx, asset_model_id)

    @put("/{asset_model_id:int}/{fault_code:str}", opt=CATALOGUE, sync_to_thread=True)
    def put_fault_parts(
        self,
        ctx: Ctx,
        asset_model_id: FromPath[int],
        fault_code: Annotated[str, PathParameter(min_length=1, max_length=64)],
        data: JSONBody[catalogue.FaultPartsInput],
    ) -> list[dict[str, Any]]:
        """Replace the parts one fault calls for (an empty list removes the fault)."""
        return catalogue.put_fault_parts(ctx, asset_model_id, fault_code, data)


# ---------------------------------------------------------------- locations


class LocationController(Controller):
    path = "/stock-locations"
    tags = ["stock"]

    @get(opt=READ, sync_to_thread=True)
    def list_locations(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        kind: Annotated[str | None, QueryParameter(pattern=r"^(warehouse|van)$")] = None,
        territory_id: FromQuery[int | None] = None,
        engineer_id: FromQuery[int | None] = None,
        active: FromQuery[bool | None] = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> Response[dict[str, Any]]:
        conditions: list[sa.ColumnElement[bool]] = []
        for column, value in (
            (StockLocation.kind, kind),
            (StockLocation.territory_id, territory_id),
            (StockLocation.engineer_id, engineer_id),
        ):
            if value is not None:
                conditions.append(column == value)
        if active is not None:
            conditions.append(StockLocation.active.is_(active))
        page = list_records(ctx, StockLocation, conditions, limit=limit, cursor=cursor)
        return paged(request, page, location_out)

    @post(opt=WRITE, sync_to_thread=True)
    def create_location(self, ctx: Ctx, data: JSONBody[locations.LocationInput]) -> Response[LocationOut]:
        """A warehouse (with lat/lon) or an engineer's van (with engineer_id; one per engineer)."""
        location = locations.create_location(ctx, data)
        return tagged(location_out(location), location.version, 201)

    @get("/{location_id:int}", opt=READ, sync_to_thread=True)
    def get_location(self, ctx: Ctx, location_id: FromPath[int]) -> Response[LocationOut]:
        location = locations.get_location(ctx, location_id)
        return tagged(location_out(location), location.version)

    @patch("/{location_id:int}", opt=WRITE, sync_to_thread=True)
    def update_location(
        self,
        ctx: Ctx,
        location_id: FromPath[int],
        data: JSONBody[locations.LocationPatch],
        if_match: IfMatch = None,
    ) -> Response[LocationOut]:
        location = locations.update_location(ctx, location_id, data, expected_version(if_match))
        return tagged(location_out(location), location.version)


# ---------------------------------------------------------------- stock


class ReserveInput(Input):
    visit_id: Id


class ReleaseInput(Input):
    work_order_id: Id
    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


class ReservedOut(msgspec.Struct, kw_only=True):
    reservations: list[dict[str, Any]]
    shortages: list[dict[str, Any]]


class RuleOut(msgspec.Struct, kw_only=True):
    location_id: int
    part_id: int
    reorder_point: int
    target: int
    updated_at: datetime


class StockController(Controller):
    path = "/stock"
    tags = ["stock"]

    @get(opt=READ, sync_to_thread=True)
    def list_levels(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        part_id: FromQuery[int | None] = None,
        sku: SkuQuery = None,
        location_id: FromQuery[int | None] = None,
        kind: Annotated[str | None, QueryParameter(pattern=r"^(warehouse|van)$")] = None,
        low: Annotated[bool, QueryParameter(description="only at or below the reorder point")] = False,
        include_zero: FromQuery[bool] = False,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> Response[dict[str, Any]]:
        """Stock by location and part: on hand, reserved, available, inbound (on the road), min/max."""
        flt = queries.LevelFilter(
            part_id=part_id, sku=sku, location_id=location_id, kind=kind, low=low, nonzero=not include_zero
        )
        page = queries.list_levels(ctx, flt, limit=limit, cursor=cursor)
        return paged(request, page, lambda row: row)

    @get("/movements", opt=READ, sync_to_thread=True)
    def list_movements(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        part_id: FromQuery[int | None] = None,
        sku: SkuQuery = None,
        location_id: FromQuery[int | None] = None,
        kind: FromQuery[list[MovementKind] | None] = None,
        work_order_id: FromQuery[int | None] = None,
        transfer_id: FromQuery[int | None] = None,
        serial: Annotated[str | None, QueryParameter(max_length=120)] = None,
        actor: Annotated[str | None, QueryParameter(max_length=120)] = None,
        since: FromQuery[datetime | None] = None,
        until: FromQuery[datetime | None] = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> Response[dict[str, Any]]:
        """The ledger, newest first: who moved what, when, why, for which work order."""
        flt = queries.MovementFilter(
            part_id=part_id,
            sku=sku,
            location_id=location_id,
            kinds=frozenset(kind or ()),
            work_order_id=work_order_id,
            transfer_id=transfer_id,
            serial=serial,
            actor=actor,
            since=since,
            until=until,
        )
        page = queries.list_movements(ctx, flt, limit=limit, cursor=cursor)
        return paged(request, page, lambda row: row)

    @post("/receipts", opt=WRITE, sync_to_thread=True)
    def receive(self, ctx: Ctx, data: JSONBody[movements.ReceiveInput]) -> Response[list[LevelView]]:
        """Goods in at a location (serial-tracked parts list their serial numbers)."""
        return Response(movements.receive(ctx, data), status_code=201)

    @post("/adjustments", opt=WRITE, sync_to_thread=True)
    def adjust(self, ctx: Ctx, data: JSONBody[movements.AdjustInput]) -> Response[list[LevelView]]:
        """Correct one level by a signed `change`, with the reason (a count, a breakage)."""
        return Response(movements.adjust(ctx, data), status_code=201)

    @post("/consumptions", opt=WRITE, sync_to_thread=True)
    def consume(self, ctx: Ctx, data: JSONBody[movements.ConsumeInput]) -> Response[list[LevelView]]:
        """Book parts used on a work order (default: the van of its engineer); 409 when not there."""
        return Response(movements.consume(ctx, data), status_code=201)

    @post("/returns", opt=WRITE, sync_to_thread=True)
    def return_parts(self, ctx: Ctx, data: JSONBody[movements.ReturnInput]) -> Response[list[LevelView]]:
        """Unused parts of a work order back into stock (never more than it used)."""
        return Response(movements.return_parts(ctx, data), status_code=201)

    @post("/pickups", opt=WRITE, sync_to_thread=True, status_code=200)
    def pick_up(self, ctx: Ctx, data: JSONBody[pickups.PickupInput]) -> list[LevelView]:
        """A job's parts reserved in warehouses move into its engineer's van (still reserved for it)."""
        return pickups.pick_up(ctx, data)

    @get("/counts/export", opt=READ, sync_to_thread=True)
    def export_counts(self, ctx: Ctx, location_id: FromQuery[int | None] = None) -> Response[str]:
        """A count sheet (CSV) of what the books say is on hand; fill in `quantity` and import it back."""
        return csv_file(csv_counts.export_counts(ctx, location_id), "stock-count.csv")

    @post("/counts/import", opt=WRITE, sync_to_thread=True, status_code=200)
    def import_counts(
        self,
        ctx: Ctx,
        body: RawBody,
        reason: Annotated[str | None, QueryParameter(max_length=500)] = None,
    ) -> Response[Any]:
        """Set the books to a count (CSV body: location, sku, quantity, serials, reason), all or nothing.

        Differences become `adjust` movements with the row's reason, or `reason` for the whole file.
        """
        try:
            result = csv_counts.import_counts(ctx, body, reason)
        except CsvRejected as exc:
            return csv_problem(exc)
        return Response(msgspec.to_builtins(result))

    @get("/vans", opt=READ, sync_to_thread=True)
    def van_stock(self, ctx: Ctx, include_reserved: FromQuery[bool] = False) -> dict[str, dict[str, int]]:
        """Engineer id → SKU → units available in their van (what the optimizer reads)."""
        stock = read_model.van_stock(ctx.session, include_reserved=include_reserved)
        return {str(engineer): parts for engineer, parts in stock.items()}

    @get("/serials", opt=READ, sync_to_thread=True)
    def find_serials(
        self,
        ctx: Ctx,
        serial: Annotated[str | None, QueryParameter(max_length=120)] = None,
        part_id: FromQuery[int | None] = None,
        location_id: FromQuery[int | None] = None,
    ) -> list[dict[str, Any]]:
        """Where serial numbers are: in stock (and where), on the road, or used on which work order."""
        return queries.find_serials(ctx, serial=serial, part_id=part_id, location_id=location_id)

    @get("/reservations", opt=READ, sync_to_thread=True)
    def list_reservations(self, ctx: Ctx, work_order_id: FromQuery[int]) -> list[dict[str, Any]]:
        """A work order's reservations: where its parts are held, and whether a pickup is needed."""
        return queries.reservations_of(ctx, work_order_id=work_order_id)

    @post("/reservations", opt=WRITE, sync_to_thread=True, status_code=200)
    def reserve(self, ctx: Ctx, data: JSONBody[ReserveInput]) -> ReservedOut:
        """Reserve a visit's parts now (also done on assignment); a second call changes nothing."""
        get_ref(ctx.session, Visit, data.visit_id, "visit_id", "visit")
        done = reservations.reserve_for_visit(ctx, data.visit_id)
        return ReservedOut(
            reservations=queries.reservations_of(ctx, visit_id=data.visit_id, active=True),
            shortages=[{"sku": s.sku, "quantity": s.quantity, "reason": s.reason} for s in done.shortages],
        )

    @post("/reservations/release", opt=WRITE, sync_to_thread=True, status_code=200)
    def release(self, ctx: Ctx, data: JSONBody[ReleaseInput]) -> dict[str, int]:
        """Give back everything still reserved for a work order."""
        return {"released": reservations.release_for_work_order(ctx, data.work_order_id, data.reason)}

    @get("/rules", opt=READ, sync_to_thread=True)
    def list_rules(self, ctx: Ctx, location_id: FromQuery[int]) -> list[dict[str, Any]]:
        """Min/max rules of a location."""
        return replenish.rules_of(ctx, location_id)

    @put("/rules", opt=WRITE, sync_to_thread=True)
    def put_rule(self, ctx: Ctx, data: JSONBody[replenish.RuleInput]) -> RuleOut:
        """Set a part's reorder point and target at a location."""
        return msgspec.convert(replenish.put_rule(ctx, data), RuleOut, from_attributes=True)

    @delete("/rules", opt=WRITE, sync_to_thread=True)
    def delete_rule(
        self, ctx: Ctx, location_id: FromQuery[int], sku: Annotated[str, QueryParameter(max_length=64)]
    ) -> None:
        replenish.delete_rule(ctx, location_id, sku)

    @get("/replenishment", opt=READ, sync_to_thread=True)
    def proposal(self, ctx: Ctx, territory_id: FromQuery[int | None] = None) -> Proposal:
        """Proposed van transfers and warehouse purchase needs from the min/max rules (nothing changes)."""
        return replenish.current_proposal(ctx, territory_id)

    @post("/replenishment", opt=WRITE, sync_to_thread=True)
    def accept(self, ctx: Ctx, data: JSONBody[replenish.AcceptInput]) -> Response[list[TransferOut]]:
        """Accept proposed transfers (all, some, or edited): each is shipped, all in one transaction."""
        shipped = replenish.accept(ctx, data)
        return Response([transfer_out(ctx, t) for t in shipped], status_code=201)


class TransferController(Controller):
    path = "/stock/transfers"
    tags = ["stock"]

    @get(opt=READ, sync_to_thread=True)
    def list_transfers(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        status: FromQuery[TransferStatus | None] = None,
        location_id: FromQuery[int | None] = None,
        limit: Limit = 50,
        cursor: Cursor = None,
    ) -> Response[dict[str, Any]]:
        page: Page[StockTransfer] = queries.list_transfers(
            ctx, status=status, location_id=location_id, limit=limit, cursor=cursor
        )
        return paged(request, page, lambda t: transfer_out(ctx, t))

    @post(opt=WRITE, sync_to_thread=True)
    def ship(self, ctx: Ctx, data: JSONBody[transfers.TransferInput]) -> Response[TransferOut]:
        """Ship parts: out of the source now, into the destination when received (in transit between)."""
        return Response(transfer_out(ctx, transfers.ship(ctx, data)), status_code=201)

    @get("/{transfer_id:int}", opt=READ, sync_to_thread=True)
    def get_transfer(self, ctx: Ctx, transfer_id: FromPath[int]) -> TransferOut:
        return transfer_out(ctx, transfers.get_transfer(ctx, transfer_id))

    @post("/{transfer_id:int}/receive", opt=WRITE, sync_to_thread=True, status_code=200)
    def receive(
        self, ctx: Ctx, transfer_id: FromPath[int], data: JSONBody[transfers.CloseInput | None] = None
    ) -> TransferOut:
        """The parts arrived (409 if the transfer was already received or cancelled)."""
        return transfer_out(ctx, transfers.receive_transfer(ctx, transfer_id, data))

    @post("/{transfer_id:int}/cancel", opt=WRITE, sync_to_thread=True, status_code=200)
    def cancel(
        self, ctx: Ctx, transfer_id: FromPath[int], data: JSONBody[transfers.CloseInput]
    ) -> TransferOut:
        """Call the transfer off (with a note saying why): the parts go back to the source."""
        return transfer_out(ctx, transfers.cancel_transfer(ctx, transfer_id, data))


ROUTES: list[ControllerRouterHandler] = [
    PartController,
    FaultPartsController,
    LocationController,
    StockController,
    TransferController,
]
