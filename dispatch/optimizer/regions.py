"""Large days, a region at a time: improve a group of neighbouring engineers, then the next group.

One OR-Tools model over hundreds of engineers and thousands of jobs spends its whole time limit
scanning neighbourhoods and barely moves (measured: 300 x 3,000 ended exactly at the greedy plan
after 60 s, 100 x 1,000 1 % below it after 30 s). Most useful moves are local anyway: a job goes
to an engineer working nearby. So the day is cut into groups of neighbouring engineers with their
current jobs (plus the unplaced jobs they could take), each group is improved on its own for a
slice of the time (a model the size of a small territory, where the search is quick), and its
routes replace the group's routes. A round covers every engineer once; later rounds draw the
groups differently, so work crosses the earlier borders. This is decomposition in the spirit of
POPMUSIC (Taillard & Voss); each step starts from the current routes, so the plan never gets worse.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from dispatch.optimizer.cost import UNITS_PER_COST, drop_cost, moved_count, route_cost
from dispatch.optimizer.improve import improve
from dispatch.optimizer.problem import Problem
from dispatch.optimizer.schedule import TimedRoute
from dispatch.optimizer.search import SearchProfile
from dispatch.optimizer.subproblem import restrict

# Jobs per group. Measured on 100 x 1,000 at 30 s with descent: 60 → 5 rounds, 100 → 4 rounds
# and the lowest objective and travel, 150 → 2 rounds; smaller groups converge sooner, larger ones
# see more moves (bench/dispatch/README.md).
GROUP_VISITS = 100
STALL, GROW = 0.005, 1.5  # a round gaining less than 0.5 % makes the next round's groups 1.5x larger
MIN_SLICE = 1.0  # seconds; below this a group's model costs more to build than it searches
EXTRA_UNPLACED = 2  # unplaced jobs offered to a group, per engineer in it

OnObjective = Callable[[float], None]  # the whole plan's objective (cost units) after an improvement


@dataclass
class _Plan:
    """The current whole plan: routes by engineer, their timing and cost, and what is left out."""

    p: Problem
    routes: list[list[int]]
    timed: list[TimedRoute]
    cost: list[int]
    dropped: set[int]

    def total(self) -> int:
        return sum(self.cost) + sum(drop_cost(self.p, v) for v in self.dropped)


def improve_by_regions(
    p: Problem,
    routes: list[list[int]],
    timed: list[TimedRoute],
    dropped: list[int],
    deadline: float,
    profile: SearchProfile,
    on_objective: OnObjective | None = None,
    *,
    group_visits: int | None = None,
    seed: int = 0,
) -> tuple[list[TimedRoute], list[int], str]:
    """Improve the plan (routes by engineer, their timing, the unplaced jobs) until `deadline`."""
    plan = _Plan(p, [list(r) for r in routes], list(timed), [route_cost(p, t) for t in timed], set(dropped))
    rng = random.Random(seed)  # noqa: S311  (which groups to draw: reproducible, not secret)
    n = len(p.specs)
    per_engineer = max(1.0, sum(len(r) for r in routes) / max(1, n))
    size = max(2, min(n, round((group_visits or GROUP_VISITS) / per_engineer)))
    rounds = 0
    # With a solution limit (reproducible mode) one round: how many more fit is the clock's call.
    while time.perf_counter() + MIN_SLICE <= deadline and not (rounds and p.options.solution_limit):
        groups = _groups(plan, size, rng)
        before = plan.total()
        for k, group in enumerate(groups):
            now = time.perf_counter()
            if now + MIN_SLICE > deadline:
                break
            slice_end = now + max(MIN_SLICE, (deadline - now) / (len(groups) - k))
            _improve_group(plan, group, min(slice_end, deadline), profile, on_objective)
        rounds += 1
        if plan.total() > (1 - STALL) * before:
            # Small groups have given what they can: look at larger neighbourhoods.
            size = min(n, math.ceil(size * GROW))
    return plan.timed, sorted(plan.dropped), f"regions_{rounds}_rounds"


def _centres(plan: _Plan) -> np.ndarray:
    """Each engineer's working area: mean position of home and current jobs, in km (east, north)."""
    p = plan.p
    lat = np.array([pt.lat for pt in p.points])
    lon = np.array([pt.lon for pt in p.points])
    scale = math.cos(math.radians(float(lat.mean()))) if len(lat) else 1.0
    out = np.zeros((len(p.specs), 2))
    for e, spec in enumerate(p.specs):
        pts = [spec.start_point, *(p.visits[v].point for v in plan.routes[e])]
        out[e] = (float(lon[pts].mean()) * scale * 111.0, float(lat[pts].mean()) * 111.0)
    return out


def _groups(plan: _Plan, size: int, rng: random.Random) -> list[list[int]]:
    """Cover every engineer once: from a random seed, the `size` nearest engineers not yet taken."""
    centres = _centres(plan)
    free = set(range(len(plan.p.specs)))
    seeds = list(free)
    rng.shuffle(seeds)
    groups = []
    for s in seeds:
        if s not in free:
            continue
        left = sorted(free)
        d = np.hypot(*(centres[left] - centres[s]).T)
        group = [left[i] for i in np.argsort(d, kind="stable")[:size]]
        free.difference_update(group)
        groups.append(group)
    return groups


def _improve_group(
    plan: _Plan, group: list[int], deadline: float, profile: SearchProfile, on_objective: OnObjective | None
) -> None:
    p = plan.p
    members = set(group)
    jobs = [v for e in group for v in plan.routes[e] if p.visits[v].locked_to is None]
    offered = _unplaced_for(plan, members, EXTRA_UNPLACED * len(group))
    max_moved = p.options.max_moved
    if max_moved is not None:
        outside = sum(
            moved_count(p, e, (v for v in plan.routes[e])) for e in range(len(p.specs)) if e not in members
        )
        max_moved = max(0, max_moved - outside)
    sub = restrict(p, group, [*jobs, *offered], max_moved)
    before = sum(plan.cost[e] for e in group) + sum(drop_cost(p, v) for v in offered)
    rest = plan.total() - before

    def report(sub_objective: float) -> None:
        if on_objective is not None:
            on_objective(rest / UNITS_PER_COST + sub_objective)

    found = improve(sub.problem, sub.local_routes(plan.routes), deadline, profile, report)
    if found is None:
        return
    lifted = [sub.lift(t) for t in found.timed]
    after = sum(route_cost(p, t) for t in lifted) + sum(drop_cost(p, sub.visits[v]) for v in found.dropped)
    if after > before:
        return  # the search returns its best, which starts at the current routes; kept as a guard
    for t in lifted:
        e = t.engineer
        plan.routes[e] = [s.visit for s in t.stops]
        plan.timed[e] = t
        plan.cost[e] = route_cost(p, t)
    plan.dropped.difference_update(offered)
    plan.dropped.update(sub.visits[v] for v in found.dropped)


def _unplaced_for(plan: _Plan, members: set[int], limit: int) -> list[int]:
    """Unplaced jobs this group could take, most urgent first, then nearest to the group's homes."""
    p = plan.p
    homes = [p.specs[e].start_point for e in members]
    cands = [v for v in plan.dropped if members.intersection(p.visits[v].allowed)]
    cands.sort(key=lambda v: (p.visits[v].priority, int(p.durations[homes, p.visits[v].point].min()), v))
    return cands[:limit]
