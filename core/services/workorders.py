"""Work-order use cases: create, change, move through the lifecycle, list."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Annotated, Any, Literal

import msgspec
import sqlalchemy as sa
from msgspec import UNSET, Meta, UnsetType

from core.domain.errors import Conflict, Invalid, NotFound
from core.domain.geo import Point
from core.domain.lifecycle import (
    ACTIVE_VISIT_STATUSES,
    OPEN_STATUSES,
    VisitStatus,
    WorkOrderStatus,
    check_work_order_transition,
)
from core.domain.sla import SlaState, SlaTargets, extend_targets
from core.domain.workorders import Kind, Priority, Source, effective_priority
from core.services import sla
from core.services.common import (
    Id,
    Input,
    Instant,
    LongText,
    Name,
    SkillCode,
    check_version,
    get_or_404,
    get_ref,
)
from core.services.context import Role, ServiceContext
from core.services.events import audit, emit
from core.services.paging import Page, check_limit, decode_cursor, encode_cursor
from core.store import sla_sql
from core.store.base import UTCDateTime
from core.store.models import Asset, Site, Skill, Territory, Visit, WorkOrder, WorkOrderSkill
from core.store.nearby import site_geo

Minutes = Annotated[int, Meta(ge=1, le=7 * 24 * 60)]
Quantity = Annotated[int, Meta(ge=1, le=100_000)]
Sku = Annotated[str, Meta(min_length=1, max_length=64)]


class SkillRequirement(msgspec.Struct, forbid_unknown_fields=True):
    skill: SkillCode
    min_level: Annotated[int, Meta(ge=1, le=5)] = 1


class Window(msgspec.Struct, forbid_unknown_fields=True):
    start: Instant
    end: Instant


class PartNeed(msgspec.Struct, forbid_unknown_fields=True):
    sku: Sku
    quantity: Quantity = 1


class WorkOrderInput(Input):
    title: Name
    site_id: Id
    description: LongText = ""
    asset_id: Id | None = None
    source: Source = Source.MANUAL
    kind: Kind = Kind.CORRECTIVE
    # Omitted: P3, or what the contract promises.
    priority: Priority | None = None
    estimated_minutes: Minutes = 60
    windows: Annotated[list[Window], Meta(max_length=20)] = []
    required_skills: Annotated[list[SkillRequirement], Meta(max_length=20)] = []
    required_parts: Annotated[list[PartNeed], Meta(max_length=100)] = []


class WorkOrderPatch(Input):
    title: Name | UnsetType = UNSET
    description: LongText | UnsetType = UNSET
    priority: Priority | UnsetType = UNSET
    estimated_minutes: Minutes | UnsetType = UNSET
    windows: Annotated[list[Window], Meta(max_length=20)] | UnsetType = UNSET
    required_skills: Annotated[list[SkillRequirement], Meta(max_length=20)] | UnsetType = UNSET
    required_parts: Annotated[list[PartNeed], Meta(max_length=100)] | UnsetType = UNSET


class TransitionInput(Input):
    to: WorkOrderStatus
    reason: Annotated[str, Meta(max_length=2000)] | None = None


Sort = Literal["-created_at", "created_at", "respond_by"]


@dataclass(frozen=True, slots=True)
class WorkOrderFilter:
    statuses: frozenset[WorkOrderStatus] = frozenset()
    priorities: frozenset[Priority] = frozenset()
    sla_states: frozenset[SlaState] = frozenset()
    territory_id: int | None = None
    customer_id: int | None = None
    site_id: int | None = None
    asset_id: int | None = None
    skill: str | None = None
    created_from: datetime | None = None
    created_to: datetime | None = None
    near: Point | None = None
    within_m: float | None = None


# ---------------------------------------------------------------- create


def create_work_order(ctx: ServiceContext, data: WorkOrderInput) -> WorkOrder:
    session, now = ctx.session, ctx.now()
    site = get_ref(session, Site, data.site_id, "site_id", "site")
    asset = None
    if data.asset_id is not None:
        asset = get_ref(session, Asset, data.asset_id, "asset_id", "asset")
        if asset.site_id != site.id:
            raise Invalid(f"asset {asset.id} is not at site {site.id}", field="asset_id")
    _check_windows(data.windows)
    _check_skills(ctx, data.required_skills)

    contract = sla.active_contract(session, site.customer_id, asset, now.date())
    priority = effective_priority(data.priority or Priority.P3, contract.priority_floor if contract else None)
    wo = WorkOrder(
        title=data.title,
        description=data.description,
        customer_id=site.customer_id,
        site_id=site.id,
        asset_id=asset.id if asset else None,
        contract_id=contract.id if contract else None,
        territory_id=site.territory_id,
        source=data.source,
        kind=data.kind,
        priority=priority.rank,
        status=WorkOrderStatus.NEW,
        estimated_minutes=data.estimated_minutes,
        windows=msgspec.to_builtins(data.windows),
        required_parts=msgspec.to_builtins(data.required_parts),
        skills=[WorkOrderSkill(skill_code=r.skill, min_level=r.min_level) for r in data.required_skills],
        created_by=ctx.actor.name,
        created_at=now,
        updated_at=now,
    )
    _set_targets(
        wo, sla.targets_for(session, site.territory, contract.tier if contract else None, priority.rank, now)
    )
    session.add(wo)
    session.flush()
    audit(ctx, "work_order", wo.id, "created", to_state=wo.status, data={"priority": priority.value})
    emit(ctx, "work_order.created", "work_order", wo.id, _event_data(wo))
    session.commit()
    return wo


def _set_targets(wo: WorkOrder, targets: SlaTargets | None) -> None:
    wo.respond_by = targets.respond_by if targets else None
    wo.resolve_by = targets.resolve_by if targets else None
    wo.respond_risk_at = targets.respond_risk_at if targets else None
    wo.resolve_risk_at = targets.resolve_risk_at if targets else None


def _targets_of(wo: WorkOrder) -> SlaTargets | None:
    if (
        wo.respond_by is None
        or wo.resolve_by is None
        or wo.respond_risk_at is None
        or wo.resolve_risk_at is None
    ):
        return None
    return SlaTargets(wo.respond_by, wo.resolve_by, wo.respond_risk_at, wo.resolve_risk_at)


def _check_windows(windows: list[Window]) -> None:
    for i, w in enumerate(windows):
        if w.end <= w.start:
            raise Invalid("a window must end after it starts", field=f"windows[{i}].end")


def _check_skills(ctx: ServiceContext, required: list[SkillRequirement]) -> None:
    codes = [r.skill for r in required]
    known = set(ctx.session.scalars(sa.select(Skill.code).where(Skill.code.in_(codes))))
    for i, code in enumerate(codes):
        if code not in known:
            raise Invalid(f"unknown skill {code!r}", field=f"required_skills[{i}].skill")
        if codes.index(code) != i:
            raise Invalid(f"skill {code!r} is listed twice", field=f"required_skills[{i}].skill")


def _event_data(wo: WorkOrder) -> dict[str, Any]:
    return {
        "reference": wo.reference,
        "status": wo.status,
        "priority": Priority.of(wo.priority).value,
        "territory_id": wo.territory_id,
        "customer_id": wo.customer_id,
        "site_id": wo.site_id,
        "asset_id": wo.asset_id,
        "source": wo.source,
        "kind": wo.kind,
    }


# ---------------------------------------------------------------- read


def get_work_order(ctx: ServiceContext, wo_id: int) -> WorkOrder:
    wo = get_or_404(ctx.session, WorkOrder, wo_id, "work order")
    if not _visible(ctx, wo):
        # Someone else's work looks exactly like no work at all: nothing leaks.
        raise NotFound(f"work order {wo_id} does not exist")
    return wo


def _visible(ctx: ServiceContext, wo: WorkOrder) -> bool:
    actor = ctx.actor
    if actor.role in (Role.ADMIN, Role.DISPATCHER):
        return True
    if actor.role is Role.ENGINEER:
        return any(v.engineer_id == actor.engineer_id for v in wo.visits)
    if actor.role is Role.CUSTOMER:
        return wo.customer_id == actor.customer_id
    return False


def list_work_orders(
    ctx: ServiceContext,
    flt: WorkOrderFilter,
    *,
    sort: Sort = "-created_at",
    limit: int = 50,
    cursor: str | None = None,
) -> Page[WorkOrder]:
    check_limit(limit)
    now = ctx.now()
    query = sa.select(WorkOrder)
    conditions = _filter_conditions(ctx, flt, now)
    key_col, descending = _sort_key(sort)
    if cursor:
        key, last_id = decode_cursor(cursor, sort)
        key_value = _parse_key(key, sort)
        row = sa.tuple_(key_col, WorkOrder.id)
        bound = sa.tuple_(sa.literal(key_value, UTCDateTime()), sa.literal(last_id))
        conditions.append(row < bound if descending else row > bound)
    order = (key_col.desc(), WorkOrder.id.desc()) if descending else (key_col.asc(), WorkOrder.id.asc())
    rows = list(ctx.session.scalars(query.where(*conditions).order_by(*order).limit(limit + 1)))
    next_cursor = None
    if len(rows) > limit:
        rows = rows[:limit]
        last = rows[-1]
        next_cursor = encode_cursor(sort, _key_of(last, sort), last.id)
    return Page(rows, next_cursor)


# Orders without an SLA sort after every real deadline.
_NO_DEADLINE = datetime(9999, 1, 1, tzinfo=UTC)


def _sort_key(sort: Sort) -> tuple[sa.SQLColumnExpression[Any], bool]:
    if sort == "respond_by":
        return sa.func.coalesce(
            WorkOrder.respond_by, sa.literal(_NO_DEADLINE, WorkOrder.respond_by.type)
        ), False
    created: sa.SQLColumnExpression[Any] = WorkOrder.created_at
    return created, sort == "-created_at"


def _key_of(wo: WorkOrder, sort: Sort) -> datetime:
    if sort == "respond_by":
        return wo.respond_by or _NO_DEADLINE
    return wo.created_at


def _parse_key(key: object, sort: Sort) -> datetime:
    try:
        value = datetime.fromisoformat(str(key))
    except ValueError as exc:
        raise Invalid("the cursor is damaged; start again without it", field="cursor") from exc
    if value.tzinfo is None:
        raise Invalid("the cursor is damaged; start again without it", field="cursor")
    return value


def _filter_conditions(
    ctx: ServiceContext, flt: WorkOrderFilter, now: datetime
) -> list[sa.ColumnElement[bool]]:
    conditions: list[sa.ColumnElement[bool]] = []
    if ctx.actor.role is Role.ENGINEER:
        conditions.append(
            sa.exists().where(Visit.work_order_id == WorkOrder.id, Visit.engineer_id == ctx.actor.engineer_id)
        )
    elif ctx.actor.role is Role.CUSTOMER:
        conditions.append(WorkOrder.customer_id == ctx.actor.customer_id)
    if flt.statuses:
        conditions.append(WorkOrder.status.in_(sorted(flt.statuses)))
    if flt.priorities:
        conditions.append(WorkOrder.priority.in_(sorted(p.rank for p in flt.priorities)))
    if flt.sla_states:
        conditions.append(sa.or_(*(sla_sql.in_state(s, now) for s in flt.sla_states)))
    for column, value in (
        (WorkOrder.territory_id, flt.territory_id),
        (WorkOrder.customer_id, flt.customer_id),
        (WorkOrder.site_id, flt.site_id),
        (WorkOrder.asset_id, flt.asset_id),
    ):
        if value is not None:
            conditions.append(column == value)
    if flt.skill is not None:
        conditions.append(
            sa.exists().where(
                WorkOrderSkill.work_order_id == WorkOrder.id, WorkOrderSkill.skill_code == flt.skill
            )
        )
    if flt.created_from is not None:
        conditions.append(WorkOrder.created_at >= flt.created_from)
    if flt.created_to is not None:
        conditions.append(WorkOrder.created_at < flt.created_to)
    if flt.near is not None and flt.within_m is not None:
        geo = site_geo(ctx.session)
        conditions.append(
            WorkOrder.site_id.in_(
                sa.select(Site.id).where(geo.within(flt.near, flt.within_m)).scalar_subquery()
            )
        )
    return conditions


# ---------------------------------------------------------------- change


def update_work_order(
    ctx: ServiceContext, wo_id: int, patch: WorkOrderPatch, expected_version: int | None
) -> WorkOrder:
    wo = get_work_order(ctx, wo_id)
    check_version(wo.version, expected_version)
    if wo.status not in OPEN_STATUSES:
        raise Conflict(f"work order {wo.reference} is {wo.status}; only open work orders can be changed")
    changed: dict[str, Any] = {}
    for name in ("title", "description", "estimated_minutes"):
        value = getattr(patch, name)
        if value is not UNSET and getattr(wo, name) != value:
            setattr(wo, name, value)
            changed[name] = value
    if patch.windows is not UNSET:
        _check_windows(patch.windows)
        wo.windows = msgspec.to_builtins(patch.windows)
        changed["windows"] = wo.windows
    if patch.required_parts is not UNSET:
        wo.required_parts = msgspec.to_builtins(patch.required_parts)
        changed["required_parts"] = wo.required_parts
    if patch.required_skills is not UNSET:
        _check_skills(ctx, patch.required_skills)
        wo.skills = [WorkOrderSkill(skill_code=r.skill, min_level=r.min_level) for r in patch.required_skills]
        changed["required_skills"] = msgspec.to_builtins(patch.required_skills)
    if patch.priority is not UNSET:
        floor = wo.contract.priority_floor if wo.contract else None
        priority = effective_priority(patch.priority, floor)
        if priority.rank != wo.priority:
            wo.priority = priority.rank
            changed["priority"] = priority.value
            # The promise follows the urgency, counted from when the customer first asked.
            territory = ctx.session.get_one(Territory, wo.territory_id)
            _set_targets(
                wo,
                sla.targets_for(
                    ctx.session,
                    territory,
                    wo.contract.tier if wo.contract else None,
                    priority.rank,
                    wo.created_at,
                ),
            )
    if changed:
        wo.updated_at = ctx.now()
        audit(ctx, "work_order", wo.id, "updated", data={"changed": sorted(changed)})
        emit(ctx, "work_order.updated", "work_order", wo.id, {**_event_data(wo), "changed": sorted(changed)})
    ctx.session.commit()
    return wo


def transition_work_order(
    ctx: ServiceContext, wo_id: int, target: WorkOrderStatus, reason: str | None, expected_version: int | None
) -> WorkOrder:
    """A dispatcher's move. Moves that need a visit say so, so the board and the app never disagree."""
    wo = get_work_order(ctx, wo_id)
    check_version(wo.version, expected_version)
    current = WorkOrderStatus(wo.status)
    check_work_order_transition(current, target, reason)
    visit = current_visit(wo)
    if target in (WorkOrderStatus.SCHEDULED, WorkOrderStatus.DISPATCHED) and visit is None:
        raise Conflict(
            f"{wo.reference} has no engineer yet: assign a visit first (POST /work-orders/{wo.id}/visits)"
        )
    if target is WorkOrderStatus.COMPLETED and visit is not None and visit.status in _ON_SITE:
        raise Conflict(
            f"the engineer is on site for {wo.reference}: their sign-off completes it "
            f"(or cancel visit {visit.id} first)"
        )
    if visit is not None and target in _ENDS_THE_VISIT:
        end_visit(ctx, visit, VisitStatus.CANCELLED, reason or f"work order moved to {target}")
    apply_transition(ctx, wo, target, reason)
    ctx.session.commit()
    return wo


# Moves after which the current visit has no purpose left; it is cancelled with the same reason.
_ENDS_THE_VISIT = frozenset(
    {WorkOrderStatus.NEW, WorkOrderStatus.CANCELLED, WorkOrderStatus.NEEDS_REVISIT, WorkOrderStatus.COMPLETED}
)
_ON_SITE = frozenset({VisitStatus.ON_SITE, VisitStatus.WORK_DONE})


def current_visit(wo: WorkOrder) -> Visit | None:
    active = [v for v in wo.visits if v.status in ACTIVE_VISIT_STATUSES]
    return active[-1] if active else None


def end_visit(ctx: ServiceContext, visit: Visit, status: VisitStatus, reason: str) -> None:
    previous = visit.status
    visit.status = status
    visit.ended_reason = reason
    audit(
        ctx,
        "visit",
        visit.id,
        "transitioned",
        from_state=previous,
        to_state=status,
        reason=reason,
        data={"work_order_id": visit.work_order_id},
    )
    emit(
        ctx,
        f"visit.{status}",
        "visit",
        visit.id,
        {
            "work_order_id": visit.work_order_id,
            "engineer_id": visit.engineer_id,
            "from": previous,
            "to": status,
        },
    )


def apply_transition(
    ctx: ServiceContext,
    wo: WorkOrder,
    target: WorkOrderStatus,
    reason: str | None,
    at: datetime | None = None,
) -> None:
    """Move a work order and keep its SLA clocks honest.

    `at` is when it really happened (an engineer's phone may report a check-in hours later); SLA facts
    use it, so a late sync never makes a punctual response look late.
    """
    current = WorkOrderStatus(wo.status)
    check_work_order_transition(current, target, reason)
    now = at or ctx.now()
    if current is WorkOrderStatus.ON_HOLD and wo.on_hold_since is not None:
        targets = _targets_of(wo)
        if targets is not None:
            territory = ctx.session.get_one(Territory, wo.territory_id)
            policy = sla.find_policy(ctx.session, wo.contract.tier if wo.contract else None, wo.priority)
            calendar = sla.calendar_for(territory, policy)
            _set_targets(
                wo,
                extend_targets(
                    targets,
                    wo.on_hold_since,
                    now,
                    calendar,
                    responded_at=wo.responded_at,
                    resolved_at=wo.resolved_at,
                ),
            )
        wo.on_hold_since = None
    if target is WorkOrderStatus.ON_HOLD:
        wo.on_hold_since = now
    if target is WorkOrderStatus.IN_PROGRESS and wo.responded_at is None:
        wo.responded_at = now
    if target is WorkOrderStatus.COMPLETED:
        wo.resolved_at = now
    if target is WorkOrderStatus.NEEDS_REVISIT:
        wo.resolved_at = None
    if target is WorkOrderStatus.CANCELLED:
        wo.cancelled_at = now
    wo.status = target
    wo.updated_at = now
    audit(ctx, "work_order", wo.id, "transitioned", from_state=current, to_state=target, reason=reason)
    emit(
        ctx,
        "work_order.transitioned",
        "work_order",
        wo.id,
        {**_event_data(wo), "from": current.value, "to": target.value, "reason": reason},
    )
