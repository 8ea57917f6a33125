"""Entry points: `solve` (OR-Tools, warm-started from greedy) and `greedy_plan` (baseline).

The search always starts from the greedy plan, so a feasible plan exists as soon as greedy is
done (seconds even for 300 engineers x 3,000 jobs), and the remaining time goes to local search.
If OR-Tools cannot load or find any solution, the greedy plan is returned with
`used_fallback=True`.

Determinism: compile and greedy are deterministic (ties broken by input order and ids).
OR-Tools' search is deterministic for a given number of steps, so with `solution_limit` the same
input gives the same plan; with only a time limit, the plan depends on how far the search got.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from dispatch.optimizer.cost import UNITS_PER_COST, objective, route_cost
from dispatch.optimizer.greedy import GreedyResult, greedy_routes
from dispatch.optimizer.model import Engineer, Job, Plan, SolveOptions
from dispatch.optimizer.ortools_model import RoutingModel, build_model
from dispatch.optimizer.plan import build_plan
from dispatch.optimizer.problem import Problem, compile_problem
from dispatch.optimizer.schedule import TimedRoute, Timing, simulate
from dispatch.optimizer.search import SearchProfile, apply_profile
from dispatch.optimizer.travel import HaversineTravel, TravelTimeProvider

LARGE = 1500  # visits above which the search prunes neighbourhoods


@dataclass
class Progress:
    """Best objective (cost units) over time since `solve` was called; for benchmarks."""

    points: list[tuple[float, float]] = field(default_factory=list)

    def add(self, seconds: float, value: float) -> None:
        if not self.points or value < self.points[-1][1]:
            self.points.append((seconds, value))


def greedy_plan(
    engineers: Sequence[Engineer],
    jobs: Sequence[Job],
    travel: TravelTimeProvider | None = None,
    options: SolveOptions | None = None,
) -> Plan:
    t0 = time.perf_counter()
    opts = options or SolveOptions()
    p = compile_problem(engineers, jobs, travel or HaversineTravel(), opts)
    g = greedy_routes(p)
    elapsed = time.perf_counter() - t0
    return build_plan(
        p,
        g.timed,
        g.dropped,
        status="greedy",
        used_fallback=False,
        first_solution_seconds=elapsed,
        solve_seconds=elapsed,
    )


def solve(
    engineers: Sequence[Engineer],
    jobs: Sequence[Job],
    travel: TravelTimeProvider | None = None,
    options: SolveOptions | None = None,
    *,
    profile: SearchProfile | None = None,
    progress: Progress | None = None,
) -> Plan:
    """Plan the jobs. `profile` overrides the search tuning; `progress` records objective over time."""
    t0 = time.perf_counter()
    opts = options or SolveOptions()
    p = compile_problem(engineers, jobs, travel or HaversineTravel(), opts)
    g = greedy_routes(p)
    first = time.perf_counter() - t0
    if progress is not None:
        progress.add(first, objective(p, g.timed, g.dropped))
    remaining = opts.time_limit.total_seconds() - first
    if not any(v.locked_to is None for v in p.visits) or remaining <= 0.05:
        return build_plan(
            p,
            g.timed,
            g.dropped,
            status="greedy",
            used_fallback=False,
            first_solution_seconds=first,
            solve_seconds=time.perf_counter() - t0,
        )
    deadline = t0 + opts.time_limit.total_seconds()
    found = _search(p, g, deadline, profile or default_profile(p), progress, t0)
    if found is None:
        return build_plan(
            p,
            g.timed,
            g.dropped,
            status="no_solution_greedy_fallback",
            used_fallback=True,
            first_solution_seconds=first,
            solve_seconds=time.perf_counter() - t0,
        )
    timed, dropped, status, first_found = found
    return build_plan(
        p,
        timed,
        dropped,
        status=status,
        used_fallback=False,
        first_solution_seconds=first if first_found is None else min(first, first_found),
        solve_seconds=time.perf_counter() - t0,
    )


def default_profile(p: Problem) -> SearchProfile:
    n = len(p.visits)
    if n > LARGE:
        # Prune each operator's neighbourhood to the nearest ~40 nodes: full neighbourhoods over
        # thousands of nodes leave no time for more than a few moves.
        return SearchProfile(neighbors_ratio=min(1.0, 40 / n), min_neighbors=40)
    return SearchProfile()


def _search(
    p: Problem,
    g: GreedyResult,
    deadline: float,
    profile: SearchProfile,
    progress: Progress | None,
    t0: float,
) -> tuple[list[TimedRoute], list[int], str, float | None] | None:
    m = build_model(p)
    routing = m.routing
    params = pywrapcp.DefaultRoutingSearchParameters()
    # Model building takes part of the budget: the search gets what is left of it.
    apply_profile(params, profile, max(0.1, deadline - time.perf_counter()))
    if p.options.solution_limit is not None:
        params.solution_limit = p.options.solution_limit
    routing.CloseModelWithParameters(params)
    # Constant part of the model's objective that cost.objective leaves out: service time.
    offset = sum(v.duration for v in p.visits) * p.options.weights.travel_per_minute
    first_found: list[float] = []

    def on_solution() -> None:
        now = time.perf_counter() - t0
        if not first_found:
            first_found.append(now)
        if progress is not None:
            progress.add(now, (routing.CostVar().Value() - offset) / UNITS_PER_COST)

    routing.AddAtSolutionCallback(on_solution)
    initial = routing.ReadAssignmentFromRoutes(m.routes_to_indices([list(r) for r in g.routes]), True)
    if initial is not None:
        solution = routing.SolveFromAssignmentWithParameters(initial, params)
    else:
        solution = routing.SolveWithParameters(params)
    if solution is None:
        return None
    timed, dropped = _extract(m, solution)
    status = (
        routing_enums_pb2.RoutingSearchStatus.Value.Name(routing.status()).removeprefix("ROUTING_").lower()
    )
    return timed, dropped, status, first_found[0] if first_found and initial is None else None


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
