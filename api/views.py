"""Response bodies: what the dispatcher API shows of each record."""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, TypeVar

import msgspec

from core.domain.lifecycle import VisitStatus, WorkOrderStatus
from core.domain.sla import SlaState, SlaTargets, sla_state
from core.domain.workorders import Kind, Priority, Source
from core.services.engineers import Shift, SkillLevel
from core.services.workorders import PartNeed, SkillRequirement, Window, current_visit
from core.store import models as m

S = TypeVar("S", bound=msgspec.Struct)


def view(obj: object, struct: type[S]) -> S:
    return msgspec.convert(obj, struct, from_attributes=True)


class Out(msgspec.Struct, kw_only=True):
    pass


class CustomerOut(Out):
    id: int
    code: str
    name: str
    email: str | None
    phone: str | None
    locale: str
    notes: str | None
    created_at: datetime
    version: int


class ContractOut(Out):
    id: int
    customer_id: int
    number: str
    tier: str
    starts_on: date
    ends_on: date
    covers_labour: bool
    covers_parts: bool
    priority_floor: int | None
    version: int


class SiteOut(Out):
    id: int
    customer_id: int
    territory_id: int
    name: str
    address: str
    lat: float
    lon: float
    access_notes: str | None
    geofence_radius_m: int
    contact_name: str | None
    contact_phone: str | None
    version: int


class AssetOut(Out):
    id: int
    site_id: int
    asset_model_id: int
    contract_id: int | None
    serial: str
    name: str | None
    installed_on: date | None
    warranty_ends_on: date | None
    version: int


class EngineerOut(Out):
    id: int
    name: str
    email: str | None
    phone: str | None
    territory_id: int
    home_lat: float
    home_lon: float
    skills: list[SkillLevel]
    shifts: list[Shift]
    max_work_minutes: int | None
    active: bool
    last_lat: float | None
    last_lon: float | None
    last_seen_at: datetime | None
    version: int


def engineer_out(engineer: m.Engineer) -> EngineerOut:
    data = {c: getattr(engineer, c) for c in EngineerOut.__struct_fields__ if c != "skills"}
    data["skills"] = [SkillLevel(s.skill_code, s.level) for s in engineer.skills]
    return msgspec.convert(data, EngineerOut)


class TerritoryOut(Out):
    id: int
    name: str
    timezone: str
    calendar: dict[str, Any]


class SkillOut(Out):
    code: str
    name: str


class SlaPolicyOut(Out):
    id: int
    tier: str
    priority: int
    response_minutes: int
    resolution_minutes: int
    around_the_clock: bool


class AssetModelOut(Out):
    id: int
    code: str
    name: str
    manufacturer: str | None
    category: str


class UserOut(Out):
    id: int
    username: str
    display_name: str
    role: str
    engineer_id: int | None
    customer_id: int | None
    active: bool


class VisitOut(Out):
    id: int
    work_order_id: int
    engineer_id: int
    status: VisitStatus
    planned_start: datetime | None
    planned_end: datetime | None
    pinned: bool
    assigned_at: datetime
    accepted_at: datetime | None
    en_route_at: datetime | None
    eta: datetime | None
    on_site_at: datetime | None
    off_site: bool
    work_done_at: datetime | None
    signed_off_at: datetime | None
    ended_reason: str | None
    version: int


class SlaOut(Out):
    state: SlaState | None
    respond_by: datetime | None
    resolve_by: datetime | None
    responded_at: datetime | None
    resolved_at: datetime | None
    # True while the order is on hold: the clocks stand still and the due times move on resume.
    paused: bool


class WorkOrderOut(Out):
    id: int
    reference: str
    title: str
    description: str
    status: WorkOrderStatus
    priority: Priority
    source: Source
    kind: Kind
    customer_id: int
    site_id: int
    asset_id: int | None
    contract_id: int | None
    territory_id: int
    estimated_minutes: int
    windows: list[Window]
    required_skills: list[SkillRequirement]
    required_parts: list[PartNeed]
    sla: SlaOut
    current_visit: VisitOut | None
    created_by: str | None
    created_at: datetime
    updated_at: datetime
    version: int


def sla_out(wo: m.WorkOrder, now: datetime) -> SlaOut:
    state = None
    if wo.respond_by and wo.resolve_by and wo.respond_risk_at and wo.resolve_risk_at:
        targets = SlaTargets(wo.respond_by, wo.resolve_by, wo.respond_risk_at, wo.resolve_risk_at)
        state = sla_state(
            wo.cancelled_at or wo.on_hold_since or now, targets, wo.responded_at, wo.resolved_at
        )
    return SlaOut(
        state=state,
        respond_by=wo.respond_by,
        resolve_by=wo.resolve_by,
        responded_at=wo.responded_at,
        resolved_at=wo.resolved_at,
        paused=wo.on_hold_since is not None,
    )


def work_order_out(wo: m.WorkOrder, now: datetime) -> WorkOrderOut:
    visit = current_visit(wo)
    return WorkOrderOut(
        id=wo.id,
        reference=wo.reference,
        title=wo.title,
        description=wo.description,
        status=WorkOrderStatus(wo.status),
        priority=Priority.of(wo.priority),
        source=Source(wo.source),
        kind=Kind(wo.kind),
        customer_id=wo.customer_id,
        site_id=wo.site_id,
        asset_id=wo.asset_id,
        contract_id=wo.contract_id,
        territory_id=wo.territory_id,
        estimated_minutes=wo.estimated_minutes,
        windows=msgspec.convert(wo.windows, list[Window]),
        required_skills=[SkillRequirement(s.skill_code, s.min_level) for s in wo.skills],
        required_parts=msgspec.convert(wo.required_parts, list[PartNeed]),
        sla=sla_out(wo, now),
        current_visit=view(visit, VisitOut) if visit else None,
        created_by=wo.created_by,
        created_at=wo.created_at,
        updated_at=wo.updated_at,
        version=wo.version,
    )


class AuditOut(Out):
    id: int
    at: datetime
    actor: str | None
    action: str
    from_state: str | None
    to_state: str | None
    reason: str | None
    data: dict[str, Any]


class PageOut(msgspec.Struct, kw_only=True):
    next_cursor: str | None


class WorkOrderPage(PageOut):
    items: list[WorkOrderOut]
