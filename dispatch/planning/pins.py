"""Pins and moves by hand: the dispatcher's word, checked by the same rules as the optimizer's plans."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from typing import Annotated
from zoneinfo import ZoneInfo

import msgspec
from msgspec import Meta

from core.domain.errors import Conflict, Invalid, NotFound
from core.domain.lifecycle import OPEN_STATUSES, VisitStatus, WorkOrderStatus
from core.services.common import Id, Input, Instant, get_or_404, get_ref
from core.services.context import ServiceContext
from core.services.events import audit
from core.services.visits import missing_skills
from core.store.models import Engineer, WorkOrder
from dispatch.optimizer import SolveOptions, greedy_plan
from dispatch.planning.config import PlanningConfig
from dispatch.planning.day import PLANNED, load_day
from dispatch.planning.models import PlanPin
from dispatch.planning.proposals import place
from dispatch.planning.render import plan_json


class PinInput(Input):
    engineer_id: Id | None = None
    start: Instant | None = None


class MoveInput(Input):
    work_order_id: Id
    engineer_id: Id
    # Omitted: the best time in the engineer's day; given: kept within the pin tolerance.
    start: Instant | None = None
    # Keep the dispatcher's choice through later optimisations (the default: a move by hand is meant).
    pin: bool = True
    release: bool = False


class PinOut(msgspec.Struct):
    work_order_id: int
    engineer_id: int | None
    start: datetime | None


class MoveOut(msgspec.Struct):
    work_order_id: int
    engineer_id: int
    start: str
    end: str
    eta: str
    pinned: bool
    route: Annotated[list[dict[str, object]], Meta(description="the engineer's day after the move")]


def _open_order(ctx: ServiceContext, wo_id: int, field: str | None = None) -> WorkOrder:
    if field is not None:
        wo = get_ref(ctx.session, WorkOrder, wo_id, field, "work order")
    else:
        wo = get_or_404(ctx.session, WorkOrder, wo_id, "work order")
    if WorkOrderStatus(wo.status) not in OPEN_STATUSES:
        raise Conflict(f"{wo.reference} is {wo.status}: only open work can be planned")
    return wo


def _engineer_for(ctx: ServiceContext, wo: WorkOrder, engineer_id: int) -> Engineer:
    engineer = get_ref(ctx.session, Engineer, engineer_id, "engineer_id", "engineer")
    if not engineer.active:
        raise Invalid(f"engineer {engineer.name} is not active", field="engineer_id")
    gaps = missing_skills(engineer, wo)
    if gaps:
        raise Conflict(f"{engineer.name} lacks the skills {wo.reference} needs: {', '.join(gaps)}")
    return engineer


def pin(ctx: ServiceContext, wo_id: int, data: PinInput) -> PlanPin:
    if data.engineer_id is None and data.start is None:
        raise Invalid("a pin names an engineer, a start time, or both", field="engineer_id")
    wo = _open_order(ctx, wo_id)
    if data.engineer_id is not None:
        _engineer_for(ctx, wo, data.engineer_id)
    row = ctx.session.get(PlanPin, wo_id)
    if row is None:
        row = PlanPin(work_order_id=wo_id, created_by=ctx.actor.name, created_at=ctx.now())
        ctx.session.add(row)
    row.engineer_id, row.start = data.engineer_id, data.start
    # The board reads pins from the visits (core): mark the planned visit the pin holds.
    for visit in wo.visits:
        if VisitStatus(visit.status) in PLANNED and data.engineer_id in (None, visit.engineer_id):
            visit.pinned = True
    start = data.start.isoformat() if data.start else None
    audit(ctx, "work_order", wo_id, "pinned", data={"engineer_id": data.engineer_id, "start": start})
    ctx.session.commit()
    return row


def unpin(ctx: ServiceContext, wo_id: int) -> None:
    row = ctx.session.get(PlanPin, wo_id)
    wo = get_or_404(ctx.session, WorkOrder, wo_id, "work order")
    # A visit assigned as pinned holds its work order too: unpinning releases both.
    held = [v for v in wo.visits if v.pinned and VisitStatus(v.status) in PLANNED]
    if row is None and not held:
        raise NotFound(f"work order {wo_id} is not pinned")
    if row is not None:
        ctx.session.delete(row)
    for visit in held:
        visit.pinned = False
    audit(ctx, "work_order", wo_id, "unpinned")
    ctx.session.commit()


def move(
    ctx: ServiceContext, config: PlanningConfig, data: MoveInput, zone_day: date | None = None
) -> MoveOut:
    """Assign or move a work order by hand into an engineer's day, at the cheapest feasible place.

    The engineer's other planned visits keep their order; what cannot be done (skills, windows,
    shift, breaks, parts) is refused with the optimizer's reason.
    """
    wo = _open_order(ctx, data.work_order_id, "work_order_id")
    engineer = _engineer_for(ctx, wo, data.engineer_id)
    when = data.start or ctx.now()
    day = zone_day or _local_day(engineer, when)
    d = load_day(ctx, wo.territory_id, day)
    eid, wid = str(engineer.id), str(wo.id)
    me = next((e for e in d.engineers if e.id == eid), None)
    if me is None:
        raise Conflict(f"{engineer.name} has no shift left on {day.isoformat()}", field="engineer_id")
    mine = [w for w in d.current.get(eid, []) if w != wid]
    by_id = {j.id: j for j in d.jobs}
    target = by_id.get(wid)
    if target is None:
        raise Conflict(
            f"{wo.reference} cannot be planned on {day.isoformat()}: under way, or due another day"
        )
    jobs = [replace(by_id[w], pinned_engineer=eid) for w in mine if w in by_id]
    jobs.append(replace(target, pinned_engineer=eid, pinned_start=data.start or target.pinned_start))
    options = SolveOptions(previous_plan={eid: mine}, parts_mode="require" if d.has_vans else "ignore")
    plan = greedy_plan(
        [me], jobs, config.travel_for([me.start, me.end, *(j.location for j in jobs)]), options
    )
    left = next((u for u in plan.unassigned if u.job_id == wid), None)
    if left is not None:
        raise Conflict(
            f"{wo.reference} does not fit {engineer.name}'s day: {left.reason.value}: {left.detail}"
        )
    doc = plan_json(d, plan)
    route = doc["routes"][0]
    for stop in route["stops"]:
        if stop["locked"]:
            continue
        w = str(stop["work_order_id"])
        if w == wid or w in d.visits:
            mine_now = w == wid
            place(
                ctx,
                d,
                w,
                engineer.id,
                stop,
                None,
                release=data.release and mine_now,
                pinned=data.pin and mine_now,
            )
    if data.pin:
        pin(ctx, wo.id, PinInput(engineer_id=engineer.id, start=data.start))
    stop = next(s for s in route["stops"] if str(s["work_order_id"]) == wid)
    return MoveOut(wo.id, engineer.id, stop["start"], stop["end"], stop["eta"], data.pin, route["stops"])


def _local_day(engineer: Engineer, when: datetime) -> date:
    return when.astimezone(ZoneInfo(engineer.territory.timezone)).date()
