"""Proposals: optimise a territory's day, show the diff, commit it through the core use cases, or discard it.

Committing goes visit by visit through `core.services.visits` (assign, cancel), so lifecycle,
audit and outbox rules hold for every change; each of those use cases commits on its own, so a
failure half-way leaves the changes made so far (each valid on its own) and the proposal open.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date, datetime, timedelta
from typing import Any

import sqlalchemy as sa

from core.domain.errors import Conflict, NotFound, StaleVersion
from core.domain.lifecycle import VisitStatus
from core.services import visits as core_visits
from core.services.context import ServiceContext
from core.services.events import audit, emit
from core.store.models import Visit
from dispatch.optimizer import Plan, SolveOptions, solve
from dispatch.optimizer.evaluate import evaluate
from dispatch.planning.config import PlanningConfig
from dispatch.planning.day import PLANNED, DayInput, load_day
from dispatch.planning.models import PlanProposal
from dispatch.planning.render import affected_engineers, diff_json, plan_json

Report = Callable[[str], None]


def _quiet(_: str) -> None:
    return None


def current_plan(ctx: ServiceContext, config: PlanningConfig, territory_id: int, day: date) -> dict[str, Any]:
    """The committed plan of the day, per engineer, timed with ETAs."""
    d = load_day(ctx, territory_id, day)
    return _current_doc(config, d)


def _current_doc(config: PlanningConfig, d: DayInput) -> dict[str, Any]:
    travel = config.travel_for(_points(d))
    ev = evaluate(d.engineers, d.jobs, d.current, travel, SolveOptions(explain=False))
    doc = plan_json(d, ev.plan)
    planned = {wo for ws in d.current.values() for wo in ws}
    # Work not in today's plan is not "unassigned" by anyone yet: list only what the plan dropped.
    doc["unassigned"] = [u for u in doc["unassigned"] if str(u["work_order_id"]) in planned]
    doc["unplanned_work_order_ids"] = sorted(int(j.id) for j in d.jobs if j.id not in planned)
    doc["infeasible_engineer_ids"] = [int(e) for e in ev.infeasible_engineers]
    return doc


def _points(d: DayInput) -> list[Any]:
    pts = [p for e in d.engineers for p in (e.start, e.end, *(lv.location for lv in e.locked))]
    return pts + [j.location for j in d.jobs]


def optimise(
    ctx: ServiceContext,
    config: PlanningConfig,
    territory_id: int,
    day: date,
    *,
    time_limit: float | None = None,
    kind: str = "full",
    max_moved: int | None = None,
    solution_limit: int | None = None,
    only: frozenset[str] | None = None,
    report: Report = _quiet,
) -> PlanProposal:
    """Propose a plan. `only`: place just these work orders beside the current plan (incremental)."""
    limit = min(time_limit or config.optimizer_seconds, config.optimizer_seconds)
    d = load_day(ctx, territory_id, day)
    if only is not None:
        planned = {w for ws in d.current.values() for w in ws}
        d = replace(d, jobs=tuple(j for j in d.jobs if j.id in only or j.id in planned))
    report(f"loaded {len(d.engineers)} engineers, {len(d.jobs)} work orders to place")
    travel = config.travel_for(_points(d))
    options = SolveOptions(
        time_limit=timedelta(seconds=limit),
        previous_plan=d.current,
        max_moved=max_moved,
        parts_mode="require" if d.has_vans else "ignore",
        solution_limit=solution_limit,
    )
    report(f"optimising for up to {limit:g} s")
    plan = solve(d.engineers, d.jobs, travel, options)
    report(f"done in {plan.solve_seconds:.1f} s: {plan.status}, {len(plan.unassigned)} unassigned")
    return _store(ctx, config, d, plan, kind, limit)


def _store(
    ctx: ServiceContext, config: PlanningConfig, d: DayInput, plan: Plan, kind: str, limit: float
) -> PlanProposal:
    after = plan_json(d, plan)
    before = _current_doc(config, d)
    proposal = PlanProposal(
        territory_id=d.territory_id,
        day=d.day,
        status="proposed",
        kind=kind,
        basis=d.basis,
        time_limit_s=limit,
        objective=plan.objective,
        solver_status=plan.status,
        solve_seconds=plan.solve_seconds,
        plan=after,
        diff=diff_json(before, after),
        created_by=ctx.actor.name,
        created_at=ctx.now(),
    )
    ctx.session.add(proposal)
    ctx.session.commit()
    return proposal


def get_proposal(ctx: ServiceContext, proposal_id: int) -> PlanProposal:
    p = ctx.session.get(PlanProposal, proposal_id)
    if p is None:
        raise NotFound(f"proposal {proposal_id} does not exist")
    return p


def _open(ctx: ServiceContext, proposal_id: int) -> PlanProposal:
    p = get_proposal(ctx, proposal_id)
    if p.status != "proposed":
        raise Conflict(f"proposal {proposal_id} is already {p.status}")
    return p


def discard(ctx: ServiceContext, proposal_id: int) -> PlanProposal:
    p = _open(ctx, proposal_id)
    p.status, p.decided_by, p.decided_at = "discarded", ctx.actor.name, ctx.now()
    ctx.session.commit()
    return p


def commit(ctx: ServiceContext, proposal_id: int, *, release: bool = False) -> PlanProposal:
    p = _open(ctx, proposal_id)
    d = load_day(ctx, p.territory_id, p.day)
    if d.basis != p.basis:
        raise StaleVersion(
            f"proposal {proposal_id} was made from a plan that has changed since "
            "(work orders, visits, pins or engineers): optimise again"
        )
    pid, doc, diff = p.id, p.plan, p.diff
    for route in doc["routes"]:
        for stop in route["stops"]:
            if not stop["locked"]:
                place(ctx, d, str(stop["work_order_id"]), route["engineer_id"], stop, pid, release=release)
    for u in doc["unassigned"]:
        cv = d.visits.get(str(u["work_order_id"]))
        if cv is not None and VisitStatus(cv.status) in PLANNED:
            core_visits.transition_visit(
                ctx,
                cv.visit_id,
                VisitStatus.CANCELLED,
                reason=f"left out by plan proposal {pid}: {u['detail']}",
            )
    p = get_proposal(ctx, pid)
    p.status, p.decided_by, p.decided_at = "committed", ctx.actor.name, ctx.now()
    emit(
        ctx,
        "plan.committed",
        "plan_proposal",
        pid,
        {"engineer_ids": affected_engineers(diff), "territory_id": p.territory_id, "proposal_id": pid},
    )
    ctx.session.commit()
    return p


def place(
    ctx: ServiceContext,
    d: DayInput,
    wo_id: str,
    engineer_id: int,
    stop: dict[str, Any],
    proposal_id: int | None,
    *,
    release: bool = False,
    pinned: bool = False,
) -> None:
    """Make the database say: this work order, this engineer, this time (assign, move or retime)."""
    start, end = datetime.fromisoformat(stop["start"]), datetime.fromisoformat(stop["end"])
    why = f"plan proposal {proposal_id}" if proposal_id is not None else "moved by hand"
    cv = d.visits.get(wo_id)
    if cv is not None and int(cv.engineer_id) == engineer_id:
        if cv.start != start or cv.end != end:
            retime(ctx, cv.visit_id, start, end, why)
        return
    if cv is not None:
        core_visits.transition_visit(
            ctx, cv.visit_id, VisitStatus.CANCELLED, reason=f"re-planned to engineer {engineer_id} ({why})"
        )
    core_visits.assign(
        ctx,
        int(wo_id),
        core_visits.AssignInput(
            engineer_id=engineer_id, planned_start=start, planned_end=end, dispatch=release, pinned=pinned
        ),
        None,
    )


def retime(ctx: ServiceContext, visit_id: int, start: datetime, end: datetime, why: str) -> None:
    """Same engineer, new planned time. Core has no use case for it yet (see the report): kept minimal."""
    visit = ctx.session.get(Visit, visit_id)
    if visit is None:
        raise NotFound(f"visit {visit_id} does not exist")
    before = visit.planned_start.isoformat() if visit.planned_start else None
    visit.planned_start, visit.planned_end = start, end
    data = {"work_order_id": visit.work_order_id, "engineer_id": visit.engineer_id, "from": before,
            "planned_start": start.isoformat(), "planned_end": end.isoformat()}  # fmt: skip
    audit(ctx, "visit", visit.id, "rescheduled", reason=why, data=data)
    emit(ctx, "visit.rescheduled", "visit", visit.id, data)
    ctx.session.commit()


def latest(ctx: ServiceContext, territory_id: int, day: date) -> PlanProposal | None:
    return ctx.session.scalars(
        sa.select(PlanProposal)
        .where(PlanProposal.territory_id == territory_id, PlanProposal.day == day)
        .order_by(PlanProposal.id.desc())
        .limit(1)
    ).first()
