"""Improve given routes with OR-Tools local search, warm-started: the step behind `solve` and regions.

The routes are loaded as the search's first solution, so the result is never worse than them
(OR-Tools returns the best solution it met) and every bound only the CP check knows, such as the
number of moved jobs, holds from the start.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from dispatch.optimizer.cost import UNITS_PER_COST, route_cost
from dispatch.optimizer.ortools_model import RoutingModel, build_model
from dispatch.optimizer.problem import Problem
from dispatch.optimizer.schedule import TimedRoute, Timing, simulate
from dispatch.optimizer.search import SearchProfile, apply_profile

OnCost = Callable[[float], None]  # the objective (cost units) of each solution found


@dataclass(frozen=True, slots=True)
class Improved:
    timed: list[TimedRoute]  # one per engineer, in engineer order
    dropped: list[int]  # job visits left out
    status: str  # OR-Tools' search status, e.g. "success", "partial_success_local_optimum_not_reached"


def improve(
    p: Problem,
    routes: Sequence[Sequence[int]],
    deadline: float,
    profile: SearchProfile,
    on_cost: OnCost | None = None,
) -> Improved | None:
    """Search until `deadline` (a `time.perf_counter()` value) from `routes`; None if nothing was found."""
    m = build_model(p)
    routing = m.routing
    params = pywrapcp.DefaultRoutingSearchParameters()
    # Model building takes part of the budget: the search gets what is left of it.
    apply_profile(params, profile, max(0.1, deadline - time.perf_counter()))
    if p.options.solution_limit is not None:
        params.solution_limit = p.options.solution_limit
    routing.CloseModelWithParameters(params)
    if on_cost is not None:
        # Constant part of the model's objective that cost.objective leaves out: service time.
        offset = sum(v.duration for v in p.visits) * p.options.weights.travel_per_minute
        cost = routing.CostVar()  # not `routing` itself: a callback that holds the model keeps it alive
        routing.AddAtSolutionCallback(lambda: on_cost((cost.Value() - offset) / UNITS_PER_COST))
    initial = routing.ReadAssignmentFromRoutes(m.routes_to_indices([list(r) for r in routes]), True)
    if initial is not None:  # None: the routes do not load (never seen); search from scratch
        solution = routing.SolveFromAssignmentWithParameters(initial, params)
    else:
        solution = routing.SolveWithParameters(params)
    if solution is None:
        return None
    timed, dropped = _extract(m, solution)
    status = routing_enums_pb2.RoutingSearchStatus.Value.Name(routing.status())
    return Improved(timed, dropped, status.removeprefix("ROUTING_").lower())


def _extract(m: RoutingModel, solution: Any) -> tuple[list[TimedRoute], list[int]]:
    p, routing = m.problem, m.routing
    timed: list[TimedRoute] = []
    served: set[int] = set()
    for e in range(len(p.specs)):
        idx = routing.Start(e)
        nodes: list[int] = []
        idx = solution.Value(routing.NextVar(idx))
        while not routing.IsEnd(idx):
            nodes.append(int(m.manager.IndexToNode(idx)))
            idx = solution.Value(routing.NextVar(idx))
        served.update(nodes)
        from_solver = _solver_timing(m, solution, e, nodes)
        rerun = simulate(p, e, nodes)
        # Prefer the canonical earliest-start timing (same rule as greedy) unless the solver's
        # own timing is cheaper, e.g. a break placed where the simple rule would not put it.
        if rerun is not None and route_cost(p, rerun) <= route_cost(p, from_solver):
            timed.append(rerun)
        else:
            timed.append(from_solver)
    dropped = [v for v in range(len(p.visits)) if v not in served and p.visits[v].locked_to is None]
    return timed, dropped


def _solver_timing(m: RoutingModel, solution: Any, e: int, nodes: list[int]) -> TimedRoute:
    p, routing, tdim = m.problem, m.routing, m.time
    spec = p.specs[e]
    breaks = []
    for iv in m.breaks.get(e, []):
        if solution.PerformedValue(iv):
            s = int(solution.StartValue(iv))
            breaks.append((s, s + int(solution.DurationValue(iv))))
    breaks.sort()
    depart = int(solution.Value(tdim.CumulVar(routing.Start(e))))
    t, prev = depart, spec.start_point
    stops: list[Timing] = []
    travel = distance = late = work = 0
    for vi in nodes:
        v = p.visits[vi]
        start = int(solution.Value(tdim.CumulVar(m.index(vi))))
        tr, d = int(p.durations[prev, v.point]), int(p.distances[prev, v.point])
        arrival = t + tr
        # A break between the two visits that began before we would have arrived was taken on
        # the road, so it delays the arrival; one that began later was taken on site.
        arrival += sum(b - a for a, b in breaks if t <= a < arrival)
        stops.append(Timing(vi, min(arrival, start), start, start + v.duration, tr, d))
        travel, distance, work = travel + tr, distance + d, work + tr + v.duration
        if v.due is not None and start > v.due:
            late += start - v.due
        t, prev = start + v.duration, v.point
    tr = int(p.durations[prev, spec.end_point])
    return TimedRoute(
        engineer=e,
        depart=depart,
        return_at=int(solution.Value(tdim.CumulVar(routing.End(e)))),
        stops=tuple(stops),
        breaks=tuple(breaks),
        travel=travel + tr,
        distance=distance + int(p.distances[prev, spec.end_point]),
        lateness=late,
        work=work + tr,
    )
