"""The engineer's moves on a visit, as their phone reports them (perhaps late, perhaps twice)."""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy.orm import joinedload, lazyload, selectinload

from core.domain.errors import Conflict, Invalid, NotFound
from core.domain.lifecycle import VisitStatus
from core.services import visits
from core.services.common import check_version
from core.services.context import ServiceContext
from core.services.events import emit
from core.store.models import Visit, WorkOrder
from fieldwork.day import my_engineer_id
from fieldwork.geofence import judge
from mobile_contract import wire

# Phones' clocks drift; beyond this an "occurred_at" in the future is a wrong clock, not a fast engineer.
CLOCK_SKEW = timedelta(minutes=5)
# An offline queue older than this is not replayed into the live record without a dispatcher.
MAX_AGE = timedelta(days=14)


def check_time(ctx: ServiceContext, occurred_at: datetime) -> None:
    now = ctx.now()
    if occurred_at > now + CLOCK_SKEW:
        raise Invalid(
            f"occurred_at {occurred_at.isoformat()} is in the future; check the phone's clock",
            field="occurred_at",
        )
    if occurred_at < now - MAX_AGE:
        raise Invalid(
            f"occurred_at {occurred_at.isoformat()} is more than {MAX_AGE.days} days old", field="occurred_at"
        )


# A move needs the visit, its work order (with the order's visits: which one is current) and the site.
_VISIT_LOADING = joinedload(Visit.work_order).options(
    joinedload(WorkOrder.site), selectinload(WorkOrder.visits), lazyload(WorkOrder.skills)
)


def my_visit(ctx: ServiceContext, visit_id: int) -> Visit:
    mine = my_engineer_id(ctx)
    visit = ctx.session.get(Visit, visit_id, options=[_VISIT_LOADING])
    if visit is None or visit.engineer_id != mine:
        raise NotFound(f"visit {visit_id} does not exist")
    if visit.status in (VisitStatus.CANCELLED, VisitStatus.DECLINED):
        # The office moved on while the phone was offline: say so plainly, the app resyncs.
        raise Conflict(
            f"visit {visit.id} ({visit.work_order.reference}) was {visit.status} while you were "
            f"offline: {visit.ended_reason or 'no reason given'}. Sync to get your current plan; "
            "photos and notes you took stay on the work order."
        )
    return visit


# The order a visit moves in on the phone; a move may skip steps the engineer did not tap.
_PATH = (VisitStatus.ASSIGNED, VisitStatus.ACCEPTED, VisitStatus.EN_ROUTE, VisitStatus.ON_SITE)


def _advance(
    ctx: ServiceContext, visit: Visit, target: VisitStatus, version: int | None, at: datetime
) -> Visit:
    """Move to `target`, passing through the steps before it: arriving implies having set off.

    The version is checked once, up front, so a stale phone changes nothing at all; and all the steps
    commit together, so a failure on the way leaves the visit where it was, not half-way.
    """
    check_version(visit.version, version)
    current = VisitStatus(visit.status)
    if current in _PATH and target in _PATH and _PATH.index(target) > _PATH.index(current) + 1:
        for step in _PATH[_PATH.index(current) + 1 : _PATH.index(target)]:
            visits.transition_visit(ctx, visit.id, step, at=at, commit=False)
    return visits.transition_visit(ctx, visit.id, target, at=at)


def state_of(visit: Visit) -> wire.VisitState:
    return wire.VisitState(
        visit_id=visit.id,
        status=visit.status,
        work_order_status=visit.work_order.status,
        version=visit.version,
        distance_m=visit.checkin_distance_m,
        off_site=visit.off_site,
    )


def accept(ctx: ServiceContext, visit_id: int, move: wire.Move, version: int | None) -> wire.VisitState:
    check_time(ctx, move.occurred_at)
    return state_of(_advance(ctx, my_visit(ctx, visit_id), VisitStatus.ACCEPTED, version, move.occurred_at))


def decline(ctx: ServiceContext, visit_id: int, move: wire.Decline, version: int | None) -> wire.VisitState:
    check_time(ctx, move.occurred_at)
    visit = my_visit(ctx, visit_id)
    check_version(visit.version, version)
    return state_of(
        visits.transition_visit(ctx, visit.id, VisitStatus.DECLINED, reason=move.reason, at=move.occurred_at)
    )


def en_route(ctx: ServiceContext, visit_id: int, move: wire.EnRoute, version: int | None) -> wire.VisitState:
    check_time(ctx, move.occurred_at)
    visit = my_visit(ctx, visit_id)
    if move.eta is not None:
        if move.eta < move.occurred_at:
            raise Invalid("eta is before the time you set off", field="eta")
        visit.eta = move.eta
    return state_of(_advance(ctx, visit, VisitStatus.EN_ROUTE, version, move.occurred_at))


def check_in(
    ctx: ServiceContext,
    visit_id: int,
    move: wire.CheckIn,
    version: int | None,
    *,
    reject_off_site: bool = False,
) -> wire.VisitState:
    """Arrive on site. A fix outside the geofence is kept and flagged to the dispatcher (or refused)."""
    check_time(ctx, move.occurred_at)
    visit = my_visit(ctx, visit_id)
    site = visit.work_order.site
    fix = judge(site.lat, site.lon, site.geofence_radius_m, move.lat, move.lon, move.accuracy_m)
    if not fix.on_site and reject_off_site:
        raise Conflict(
            f"you are {fix.distance_m:.0f} m from {site.name} (geofence {site.geofence_radius_m} m, "
            f"GPS accuracy {move.accuracy_m:.0f} m); check in when you are there"
        )
    visit.checkin_lat, visit.checkin_lon = move.lat, move.lon
    visit.checkin_accuracy_m, visit.checkin_distance_m = move.accuracy_m, fix.distance_m
    visit.off_site = not fix.on_site
    if visit.off_site:
        emit(
            ctx,
            "visit.checked_in_off_site",
            "visit",
            visit.id,
            {
                "work_order_id": visit.work_order_id,
                "engineer_id": visit.engineer_id,
                "distance_m": round(fix.distance_m),
                "accuracy_m": move.accuracy_m,
            },
        )
    return state_of(_advance(ctx, visit, VisitStatus.ON_SITE, version, move.occurred_at))


_WORKING = (VisitStatus.ON_SITE, VisitStatus.WORK_DONE)


def working_visit(ctx: ServiceContext, visit_id: int) -> Visit:
    """My visit while I am working on site: checked in, not yet signed off."""
    visit = my_visit(ctx, visit_id)
    if visit.status not in _WORKING:
        hint = "check in first" if visit.status != VisitStatus.SIGNED_OFF else "the customer has signed off"
        raise Conflict(f"visit {visit.id} is {visit.status}: {hint}")
    return visit
