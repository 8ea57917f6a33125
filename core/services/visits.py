"""Visits: assigning an engineer, releasing the job to their phone, and the timeline that follows.

The work order follows its current visit (core.domain.lifecycle.work_order_status_for); both moves are
validated, audited and announced in the same transaction.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

import sqlalchemy as sa
from msgspec import Meta

from core.domain.errors import Conflict, Invalid, NotFound
from core.domain.lifecycle import (
    PLANNABLE_STATUSES,
    VisitStatus,
    WorkOrderStatus,
    check_visit_transition,
    work_order_status_for,
)
from core.services.common import Id, Input, Instant, check_version, get_or_404, get_ref
from core.services.context import Role, ServiceContext
from core.services.events import audit, emit
from core.services.workorders import apply_transition, current_visit, end_visit, get_work_order
from core.store.models import Engineer, Visit, WorkOrder


class AssignInput(Input):
    engineer_id: Id
    planned_start: Instant | None = None
    planned_end: Instant | None = None
    pinned: bool = False
    # Release to the engineer's phone at once (dispatched) rather than only planning it (scheduled).
    dispatch: bool = False


class VisitTransitionInput(Input):
    to: VisitStatus
    reason: Annotated[str, Meta(max_length=2000)] | None = None


def missing_skills(engineer: Engineer, wo: WorkOrder) -> list[str]:
    levels = {s.skill_code: s.level for s in engineer.skills}
    return [
        f"{req.skill_code} ≥ {req.min_level} (has {levels.get(req.skill_code, 0)})"
        for req in wo.skills
        if levels.get(req.skill_code, 0) < req.min_level
    ]


def assign(ctx: ServiceContext, wo_id: int, data: AssignInput, expected_version: int | None) -> Visit:
    wo = get_work_order(ctx, wo_id)
    check_version(wo.version, expected_version)
    if WorkOrderStatus(wo.status) not in PLANNABLE_STATUSES:
        raise Conflict(
            f"{wo.reference} is {wo.status}; only new or needs-revisit work orders can be assigned "
            "(to move a planned visit, unassign it first)"
        )
    engineer = get_ref(ctx.session, Engineer, data.engineer_id, "engineer_id", "engineer")
    if not engineer.active:
        raise Invalid(f"engineer {engineer.name} is not active", field="engineer_id")
    gaps = missing_skills(engineer, wo)
    if gaps:
        raise Conflict(f"{engineer.name} lacks the skills {wo.reference} needs: {', '.join(gaps)}")
    if data.planned_start and data.planned_end and data.planned_end <= data.planned_start:
        raise Invalid("a visit must end after it starts", field="planned_end")
    now = ctx.now()
    visit = Visit(
        work_order=wo,
        engineer_id=engineer.id,
        status=VisitStatus.ASSIGNED,
        planned_start=data.planned_start,
        planned_end=data.planned_end,
        pinned=data.pinned,
        assigned_at=now,
    )
    ctx.session.add(visit)
    ctx.session.flush()
    audit(
        ctx,
        "visit",
        visit.id,
        "assigned",
        to_state=visit.status,
        data={"work_order_id": wo.id, "engineer_id": engineer.id},
    )
    emit(ctx, "visit.assigned", "visit", visit.id, {"work_order_id": wo.id, "engineer_id": engineer.id})
    apply_transition(ctx, wo, WorkOrderStatus.SCHEDULED, None)
    if data.dispatch:
        apply_transition(ctx, wo, WorkOrderStatus.DISPATCHED, None)
    ctx.session.commit()
    return visit


def get_visit(ctx: ServiceContext, visit_id: int) -> Visit:
    visit = get_or_404(ctx.session, Visit, visit_id, "visit")
    if ctx.actor.role is Role.ENGINEER and visit.engineer_id != ctx.actor.engineer_id:
        raise NotFound(f"visit {visit_id} does not exist")
    return visit


def transition_visit(
    ctx: ServiceContext,
    visit_id: int,
    target: VisitStatus,
    *,
    reason: str | None = None,
    expected_version: int | None = None,
    at: datetime | None = None,
    commit: bool = True,
) -> Visit:
    """Move a visit along its timeline; the work order follows. `at` is when it happened (offline apps).

    `commit=False` leaves the transaction open for a caller that makes several moves as one step."""
    visit = get_visit(ctx, visit_id)
    check_version(visit.version, expected_version)
    check_visit_transition(VisitStatus(visit.status), target)
    wo = visit.work_order
    if current_visit(wo) is not visit:
        raise Conflict(f"visit {visit.id} is no longer the current visit of {wo.reference}")
    if target in (VisitStatus.DECLINED, VisitStatus.CANCELLED) and not (reason and reason.strip()):
        raise Invalid(f"a {target} visit needs a reason", field="reason")
    when = at or ctx.now()
    stamp = {
        VisitStatus.ACCEPTED: "accepted_at",
        VisitStatus.EN_ROUTE: "en_route_at",
        VisitStatus.ON_SITE: "on_site_at",
        VisitStatus.WORK_DONE: "work_done_at",
        VisitStatus.SIGNED_OFF: "signed_off_at",
    }.get(target)
    if stamp:
        setattr(visit, stamp, when)
    if target in (VisitStatus.DECLINED, VisitStatus.CANCELLED):
        end_visit(ctx, visit, target, reason or "")
    else:
        previous = visit.status
        visit.status = target
        audit(
            ctx,
            "visit",
            visit.id,
            "transitioned",
            from_state=previous,
            to_state=target,
            reason=reason,
            data={"work_order_id": wo.id, "at": when.isoformat()},
        )
        emit(
            ctx,
            f"visit.{target}",
            "visit",
            visit.id,
            {"work_order_id": wo.id, "engineer_id": visit.engineer_id, "from": previous, "to": target},
        )
    follow = work_order_status_for(target, WorkOrderStatus(wo.status))
    if follow is not None:
        # A dispatched order needs its visit released first; a visit checked in before release
        # (the engineer was quicker than the dispatcher) passes through dispatched on the way.
        if follow is WorkOrderStatus.IN_PROGRESS and wo.status == WorkOrderStatus.SCHEDULED:
            apply_transition(ctx, wo, WorkOrderStatus.DISPATCHED, None, when)
        # Signing off a job that was on hold resumes it on the way to completed.
        if follow is WorkOrderStatus.COMPLETED and wo.status == WorkOrderStatus.ON_HOLD:
            apply_transition(ctx, wo, WorkOrderStatus.IN_PROGRESS, None, when)
        apply_transition(ctx, wo, follow, reason, when)
    if commit:
        ctx.session.commit()
    return visit


def release(ctx: ServiceContext, wo_id: int, expected_version: int | None) -> WorkOrder:
    """Send a scheduled work order to its engineer's phone (scheduled → dispatched)."""
    wo = get_work_order(ctx, wo_id)
    check_version(wo.version, expected_version)
    if current_visit(wo) is None:
        raise Conflict(f"{wo.reference} has no visit to dispatch")
    apply_transition(ctx, wo, WorkOrderStatus.DISPATCHED, None)
    ctx.session.commit()
    return wo


def visits_of_engineer(ctx: ServiceContext, engineer_id: int, start: datetime, end: datetime) -> list[Visit]:
    return list(
        ctx.session.scalars(
            sa.select(Visit)
            .where(Visit.engineer_id == engineer_id, Visit.planned_start >= start, Visit.planned_start < end)
            .order_by(Visit.planned_start, Visit.id)
        )
    )
