"""Turn timed routes (from greedy or the solver) into the public `Plan`."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from dispatch.optimizer.cost import objective
from dispatch.optimizer.explain import explain_assignments, unassigned_reason
from dispatch.optimizer.model import BreakTaken, Plan, Route, Stop, Unassigned
from dispatch.optimizer.problem import Problem
from dispatch.optimizer.schedule import TimedRoute


def build_plan(
    p: Problem,
    timed: Sequence[TimedRoute],
    dropped: Sequence[int],
    *,
    status: str,
    used_fallback: bool,
    first_solution_seconds: float | None,
    solve_seconds: float,
) -> Plan:
    routes = tuple(_route(p, t) for t in timed)
    visit_routes = [[s.visit for s in t.stops] for t in timed]
    unassigned: list[Unassigned] = [
        Unassigned(job.id, r.reason, r.detail)
        for job in p.jobs
        if (r := p.static_unassigned.get(job.id)) is not None
    ]
    unassigned += [unassigned_reason(p, v, visit_routes) for v in dropped]
    order = {job.id: k for k, job in enumerate(p.jobs)}
    unassigned.sort(key=lambda u: order.get(u.job_id, len(order)))
    moved = tuple(
        p.visits[s.visit].id
        for t in timed
        for s in t.stops
        if (prev := p.previous.get(p.visits[s.visit].id)) is not None and prev != t.engineer
    )
    return Plan(
        routes=routes,
        unassigned=tuple(unassigned),
        explanations=explain_assignments(p, timed) if p.options.explain else {},
        objective=objective(p, timed, dropped),
        status=status,
        used_fallback=used_fallback,
        first_solution_seconds=first_solution_seconds,
        solve_seconds=solve_seconds,
        moved_jobs=moved,
    )


def _route(p: Problem, t: TimedRoute) -> Route:
    stops = []
    for s in t.stops:
        v = p.visits[s.visit]
        late = max(0, s.start - v.due) if v.due is not None else 0
        stops.append(
            Stop(
                job_id=v.id,
                arrival=p.at(s.arrival),
                start=p.at(s.start),
                end=p.at(s.end),
                travel_from_previous=timedelta(seconds=s.travel),
                distance_from_previous_m=s.distance,
                lateness=timedelta(seconds=late),
                locked=v.locked_to is not None,
            )
        )
    service = sum(s.end - s.start for s in t.stops)
    on_break = sum(b - a for a, b in t.breaks if a < t.return_at and b > t.depart)
    idle = max(0, t.return_at - t.depart - t.travel - service - on_break)
    return Route(
        engineer_id=p.specs[t.engineer].id,
        stops=tuple(stops),
        depart=p.at(t.depart),
        return_at=p.at(t.return_at),
        travel_time=timedelta(seconds=t.travel),
        travel_km=t.distance / 1000,
        idle_time=timedelta(seconds=idle),
        work_time=timedelta(seconds=service),
        breaks=tuple(BreakTaken(p.at(a), p.at(b)) for a, b in t.breaks),
    )
