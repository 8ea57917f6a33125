"""/work-orders: the dispatcher's list, the record, its moves, its visits and its audit trail."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

import sqlalchemy as sa
from litestar import Controller, Request, Response, get, patch, post
from litestar.params import FromPath, FromQuery, HeaderParameter, JSONBody, QueryParameter

from api.access import needs
from api.deps import Ctx, expected_version, paged, parse_point, tagged
from api.views import AuditOut, VisitOut, WorkOrderOut, view, work_order_out
from core.domain.errors import Invalid
from core.domain.lifecycle import WorkOrderStatus
from core.domain.sla import SlaState
from core.domain.workorders import Priority
from core.services import visits, workorders
from core.services.workorders import Sort, TransitionInput, WorkOrderFilter, WorkOrderInput, WorkOrderPatch
from core.store.models import AuditEvent

IfMatch = Annotated[str | None, HeaderParameter(name="If-Match", required=False)]


class WorkOrderController(Controller):
    path = "/work-orders"
    tags = ["work orders"]

    @get(opt=needs("work_orders.read"), sync_to_thread=True)
    def list_work_orders(
        self,
        request: Request[Any, Any, Any],
        ctx: Ctx,
        status: FromQuery[list[WorkOrderStatus] | None] = None,
        priority: FromQuery[list[Priority] | None] = None,
        sla_state: FromQuery[list[SlaState] | None] = None,
        territory_id: FromQuery[int | None] = None,
        customer_id: FromQuery[int | None] = None,
        site_id: FromQuery[int | None] = None,
        asset_id: FromQuery[int | None] = None,
        skill: Annotated[str | None, QueryParameter(max_length=64)] = None,
        created_from: FromQuery[datetime | None] = None,
        created_to: FromQuery[datetime | None] = None,
        near: Annotated[str | None, QueryParameter(description="lat,lon of the centre")] = None,
        within_km: Annotated[float | None, QueryParameter(gt=0, le=20_000)] = None,
        sort: FromQuery[Sort] = "-created_at",
        limit: Annotated[int, QueryParameter(ge=1, le=500)] = 50,
        cursor: Annotated[str | None, QueryParameter(max_length=500)] = None,
    ) -> Response[dict[str, Any]]:
        """Work orders, newest first by default.

        Repeat a filter to OR its values (`status=new&status=on_hold`); different filters AND together.
        """
        flt = WorkOrderFilter(
            statuses=frozenset(status or ()),
            priorities=frozenset(priority or ()),
            sla_states=frozenset(sla_state or ()),
            territory_id=territory_id,
            customer_id=customer_id,
            site_id=site_id,
            asset_id=asset_id,
            skill=skill,
            created_from=_aware(created_from, "created_from"),
            created_to=_aware(created_to, "created_to"),
            near=parse_point(near) if near is not None else None,
            within_m=within_km * 1000 if within_km is not None else None,
        )
        if (flt.near is None) != (flt.within_m is None):
            raise Invalid("near and within_km go together", field="within_km" if flt.near else "near")
        page = workorders.list_work_orders(ctx, flt, sort=sort, limit=limit, cursor=cursor)
        now = ctx.now()
        return paged(request, page, lambda wo: work_order_out(wo, now))

    @post(opt=needs("work_orders.write"), sync_to_thread=True)
    def create_work_order(self, ctx: Ctx, data: JSONBody[WorkOrderInput]) -> Response[WorkOrderOut]:
        wo = workorders.create_work_order(ctx, data)
        return tagged(work_order_out(wo, ctx.now()), wo.version, status_code=201)

    @get("/{wo_id:int}", opt=needs("work_orders.read"), sync_to_thread=True)
    def get_work_order(self, ctx: Ctx, wo_id: FromPath[int]) -> Response[WorkOrderOut]:
        wo = workorders.get_work_order(ctx, wo_id)
        return tagged(work_order_out(wo, ctx.now()), wo.version)

    @patch("/{wo_id:int}", opt=needs("work_orders.write"), sync_to_thread=True)
    def update_work_order(
        self, ctx: Ctx, wo_id: FromPath[int], data: JSONBody[WorkOrderPatch], if_match: IfMatch = None
    ) -> Response[WorkOrderOut]:
        wo = workorders.update_work_order(ctx, wo_id, data, expected_version(if_match))
        return tagged(work_order_out(wo, ctx.now()), wo.version)

    @post("/{wo_id:int}/transitions", opt=needs("work_orders.write"), sync_to_thread=True, status_code=200)
    def transition(
        self, ctx: Ctx, wo_id: FromPath[int], data: JSONBody[TransitionInput], if_match: IfMatch = None
    ) -> Response[WorkOrderOut]:
        """Move the work order along its lifecycle; an illegal move is a 409 listing the allowed ones."""
        wo = workorders.transition_work_order(ctx, wo_id, data.to, data.reason, expected_version(if_match))
        return tagged(work_order_out(wo, ctx.now()), wo.version)

    @post("/{wo_id:int}/visits", opt=needs("visits.write"), sync_to_thread=True)
    def assign(
        self, ctx: Ctx, wo_id: FromPath[int], data: JSONBody[visits.AssignInput], if_match: IfMatch = None
    ) -> Response[VisitOut]:
        """Assign an engineer: a visit is created and the work order becomes scheduled (or dispatched)."""
        visit = visits.assign(ctx, wo_id, data, expected_version(if_match))
        return tagged(view(visit, VisitOut), visit.version, status_code=201)

    @post("/{wo_id:int}/dispatch", opt=needs("visits.write"), sync_to_thread=True, status_code=200)
    def dispatch(self, ctx: Ctx, wo_id: FromPath[int], if_match: IfMatch = None) -> Response[WorkOrderOut]:
        """Release a scheduled work order to its engineer's phone."""
        wo = visits.release(ctx, wo_id, expected_version(if_match))
        return tagged(work_order_out(wo, ctx.now()), wo.version)

    @get("/{wo_id:int}/visits", opt=needs("work_orders.read"), sync_to_thread=True)
    def list_visits(self, ctx: Ctx, wo_id: FromPath[int]) -> list[VisitOut]:
        wo = workorders.get_work_order(ctx, wo_id)
        return [view(v, VisitOut) for v in wo.visits]

    @get("/{wo_id:int}/audit", opt=needs("work_orders.read"), sync_to_thread=True)
    def audit_trail(self, ctx: Ctx, wo_id: FromPath[int]) -> list[AuditOut]:
        """Who did what, when and why — the work order's own events and its visits'."""
        wo = workorders.get_work_order(ctx, wo_id)
        visit_ids = [v.id for v in wo.visits]
        events = ctx.session.scalars(
            sa.select(AuditEvent)
            .where(
                sa.or_(
                    sa.and_(AuditEvent.subject_type == "work_order", AuditEvent.subject_id == wo.id),
                    sa.and_(AuditEvent.subject_type == "visit", AuditEvent.subject_id.in_(visit_ids)),
                )
            )
            .order_by(AuditEvent.id)
        )
        return [view(e, AuditOut) for e in events]


def _aware(value: datetime | None, field: str) -> datetime | None:
    if value is not None and value.tzinfo is None:
        raise Invalid("give a time zone (e.g. 2026-11-22T08:00:00+08:00 or …Z)", field=field)
    return value
