"""Cheapest feasible insertion of one visit into one of several routes (greedy and explanations)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np

from dispatch.optimizer.cost import UNITS_PER_COST, route_cost
from dispatch.optimizer.problem import Problem
from dispatch.optimizer.schedule import TimedRoute, simulate

UNKNOWN_COST = 2**62  # a route whose cost could not be evaluated: never insert into it


@dataclass(frozen=True, slots=True)
class Insertion:
    delta: int  # objective increase, internal units
    engineer: int
    route: list[int]
    timed: TimedRoute


def route_points(p: Problem, e: int, route: Sequence[int]) -> list[int]:
    s = p.specs[e]
    return [s.start_point, *(p.visits[v].point for v in route), s.end_point]


def best_insertion(
    p: Problem, routes: Sequence[Sequence[int]], costs: Sequence[int], v: int, engineers: Iterable[int]
) -> Insertion | None:
    """Try positions in order of travel added; stop once that alone exceeds the best found.

    Lateness, balance and missing parts only add to the travel delta, so the travel delta (plus
    the fixed move penalty) is a bound: the search usually ends after a handful of timings.
    """
    w = p.options.weights
    visit = p.visits[v]
    dur = p.durations
    prev = p.previous.get(visit.id)
    options: list[tuple[int, int, int]] = []  # (bound, engineer, position)
    for e in engineers:
        if costs[e] >= UNKNOWN_COST:
            continue
        pts = np.asarray(route_points(p, e, routes[e]), dtype=np.int64)
        delta = dur[pts[:-1], visit.point] + dur[visit.point, pts[1:]] - dur[pts[:-1], pts[1:]]
        fixed = UNITS_PER_COST * w.change_penalty if prev is not None and prev != e else 0
        first = len(p.specs[e].locked)  # nothing goes before a locked visit
        options.extend((int(delta[i]) * w.travel_per_minute + fixed, e, i) for i in range(first, len(delta)))
    options.sort()
    best: Insertion | None = None
    for bound, e, pos in options:
        if best is not None and bound >= best.delta:
            break
        route = [*routes[e][:pos], v, *routes[e][pos:]]
        timed = simulate(p, e, route)
        if timed is None:
            continue
        delta_cost = route_cost(p, timed) - costs[e]
        if best is None or delta_cost < best.delta:
            best = Insertion(delta_cost, e, route, timed)
    return best
