"""Entry points: `solve` (OR-Tools, warm-started from greedy) and `greedy_plan` (baseline).

The search always starts from the greedy plan, so a feasible plan exists as soon as greedy is
done (seconds even for 300 engineers x 3,000 jobs), and the remaining time goes to local search:
over the whole day up to a few hundred visits, a region at a time above that (`regions`). If
OR-Tools cannot load or find any solution, the greedy plan is returned with `used_fallback=True`.

Determinism: compile and greedy are deterministic (ties broken by input order and ids).
OR-Tools' search is deterministic for a given number of steps, so with `solution_limit` the same
input gives the same plan; with only a time limit, the plan depends on how far the search got.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from dispatch.optimizer.cost import objective
from dispatch.optimizer.greedy import GreedyResult, greedy_routes
from dispatch.optimizer.improve import improve
from dispatch.optimizer.model import Engineer, Job, Plan, SolveOptions
from dispatch.optimizer.plan import build_plan
from dispatch.optimizer.problem import Problem, compile_problem
from dispatch.optimizer.regions import improve_by_regions
from dispatch.optimizer.schedule import TimedRoute
from dispatch.optimizer.search import SearchProfile
from dispatch.optimizer.travel import HaversineTravel, TravelTimeProvider

# Visits above which the day is improved a region at a time (dispatch.optimizer.regions): one
# model over more than a few hundred visits improves too slowly within seconds.
REGIONS_ABOVE = 400


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
    found = _search(p, g, deadline, profile, progress, t0)
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
    timed, dropped, status = found
    return build_plan(
        p,
        timed,
        dropped,
        status=status,
        used_fallback=False,
        first_solution_seconds=first,  # the greedy plan: feasible, and returned if nothing better
        solve_seconds=time.perf_counter() - t0,
    )


# Greedy descent first: the quickest way from the greedy plan to a local optimum. Then, with time
# left and no bound on moves, guided local search climbs out of it. A re-plan with a bound on
# moves (the urgent insertion) stops at the local optimum, so the job is placed sooner (fault to
# nudge 0.3-0.6 s in tests/dispatch/test_iot_to_engineer.py, instead of the whole re-plan budget).
DESCENT = SearchProfile(metaheuristic="GREEDY_DESCENT")
GUIDED = SearchProfile(metaheuristic="GUIDED_LOCAL_SEARCH")
MIN_SECOND_PHASE = 0.5  # seconds; less is not worth building the model again


def _search(
    p: Problem,
    g: GreedyResult,
    deadline: float,
    profile: SearchProfile | None,
    progress: Progress | None,
    t0: float,
) -> tuple[list[TimedRoute], list[int], str] | None:
    def add(value: float) -> None:
        if progress is not None:
            progress.add(time.perf_counter() - t0, value)

    # Registered only when someone listens: a solution callback costs time at every solution.
    report = add if progress is not None else None
    routes = [list(r) for r in g.routes]
    if len(p.visits) > REGIONS_ABOVE and len(p.specs) > 1:
        return improve_by_regions(
            p, routes, list(g.timed), list(g.dropped), deadline, profile or DESCENT, report
        )
    found = improve(p, routes, deadline, profile or DESCENT, report)
    if found is None or profile is not None or p.options.max_moved is not None:
        return None if found is None else (found.timed, found.dropped, found.status)
    if found.status != "success" or time.perf_counter() + MIN_SECOND_PHASE > deadline:
        return found.timed, found.dropped, found.status
    local_optimum = [[s.visit for s in t.stops] for t in found.timed]
    again = improve(p, local_optimum, deadline, GUIDED, report)
    best = found if again is None else again
    return best.timed, best.dropped, best.status
