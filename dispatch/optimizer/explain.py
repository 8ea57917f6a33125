"""Why a job is where it is, or why it is nowhere: pure post-processing of a finished plan.

Reasons for a job the plan leaves out are decided in this order, each honestly checked:
1. `no_qualified_engineer`: nobody has the skills at the level (or the pinned engineer lacks them);
2. `part_unavailable`: no qualified engineer's van holds the parts (or what is left of them
   after the plan's other jobs, in "require" mode);
3. `window_unreachable`: no qualified engineer could do it even with an otherwise empty day
   (after their locked visits), within its windows, shift, breaks and max work;
4. `no_capacity`: someone could do it alone, but the day is full (or serving it would cost more
   than its drop penalty, which the detail says).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import timedelta

from dispatch.optimizer.cost import UNITS_PER_COST, drop_cost, route_cost
from dispatch.optimizer.insertion import UNKNOWN_COST, best_insertion
from dispatch.optimizer.model import Explanation, Unassigned, UnassignedReason
from dispatch.optimizer.problem import Problem, has_parts
from dispatch.optimizer.schedule import TimedRoute, simulate

NEXT_BEST_CANDIDATES = 5  # engineers tried for "next best", nearest first


def unassigned_reason(p: Problem, v: int, routes: Sequence[Sequence[int]]) -> Unassigned:
    visit = p.visits[v]
    engineers = list(visit.allowed)
    if p.options.parts_mode == "require" and visit.parts:
        left = [_stock_left(p, e, routes[e]) for e in range(len(p.specs))]
        engineers = [e for e in engineers if has_parts(left[e], visit.parts)]
        if not engineers:
            return Unassigned(
                visit.id,
                UnassignedReason.PART_UNAVAILABLE,
                "the parts on qualified engineers' vans are committed to other jobs",
            )
    alone = [e for e in engineers if simulate(p, e, [*p.specs[e].locked, v]) is not None]
    if not alone:
        return Unassigned(
            visit.id,
            UnassignedReason.WINDOW_UNREACHABLE,
            "no qualified engineer can start it within its windows, shift and breaks",
        )
    costs = [_cost_of(p, e, routes[e]) for e in range(len(p.specs))]
    ins = best_insertion(p, routes, costs, v, alone)
    if ins is None:
        return Unassigned(
            visit.id,
            UnassignedReason.NO_CAPACITY,
            f"{len(alone)} qualified engineer(s) could do it, but their days are full",
        )
    return Unassigned(
        visit.id,
        UnassignedReason.NO_CAPACITY,
        f"fits only at extra cost {ins.delta / UNITS_PER_COST:.0f} (with {p.specs[ins.engineer].id}), "
        f"more than leaving it (P{visit.priority} penalty {drop_cost(p, v) / UNITS_PER_COST:.0f})",
    )


def explain_assignments(p: Problem, timed: Sequence[TimedRoute]) -> Mapping[str, Explanation]:
    routes = [[s.visit for s in t.stops] for t in timed]
    costs = [route_cost(p, t) for t in timed]
    out: dict[str, Explanation] = {}
    for t in timed:
        e = t.engineer
        eng = p.engineers[e]
        for k, stop in enumerate(t.stops):
            visit = p.visits[stop.visit]
            if visit.locked_to is not None:
                continue
            without = [x for x in routes[e] if x != stop.visit]
            rest = simulate(p, e, without)
            saving = costs[e] - route_cost(p, rest) if rest is not None else 0
            others = _nearest_others(p, stop.visit, e, routes)
            ins = best_insertion(p, routes, costs, stop.visit, others) if others else None
            lateness = max(0, stop.start - visit.due) if visit.due is not None else 0
            skills = {s: (lvl, eng.skills.get(s, 0)) for s, lvl in sorted(visit.skills.items())}
            if ins is None:
                note = (
                    "no other qualified engineer could take it"
                    if not others
                    else (f"none of the {len(others)} nearest other qualified engineers could fit it")
                )
            else:
                note = f"next best: {p.specs[ins.engineer].id}"
            if k == 0 and len(p.specs[e].locked) == 0:
                note += "; first visit of the day"
            out[visit.id] = Explanation(
                job_id=visit.id,
                engineer_id=eng.id,
                skills_matched=skills,
                travel_time=timedelta(seconds=stop.travel),
                lateness=timedelta(seconds=lateness),
                next_best_engineer=None if ins is None else p.specs[ins.engineer].id,
                next_best_extra_cost=None if ins is None else (ins.delta - saving) / UNITS_PER_COST,
                note=note,
            )
    return out


def _nearest_others(p: Problem, v: int, e: int, routes: Sequence[Sequence[int]]) -> list[int]:
    visit = p.visits[v]
    others = [x for x in visit.allowed if x != e]
    if p.options.parts_mode == "require" and visit.parts:
        others = [x for x in others if has_parts(_stock_left(p, x, routes[x]), visit.parts)]
    point = visit.point
    others.sort(key=lambda x: (int(p.durations[p.specs[x].start_point, point]), x))
    return others[:NEXT_BEST_CANDIDATES]


def _stock_left(p: Problem, e: int, route: Sequence[int]) -> dict[str, int]:
    left = dict(p.specs[e].parts)
    for v in route:
        for sku, q in p.visits[v].parts.items():
            left[sku] = left.get(sku, 0) - q
    return left


def _cost_of(p: Problem, e: int, route: Sequence[int]) -> int:
    t = simulate(p, e, route)
    # A route the simple timing rule cannot reproduce (rare break placements) gets no insertion.
    return route_cost(p, t) if t is not None else UNKNOWN_COST
