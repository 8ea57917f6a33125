"""The objective, evaluated the same way for every plan (greedy or solver), so they compare.

Internal unit: 1/60 of a cost unit, so that per-minute weights times seconds stay integers
(the OR-Tools model uses exactly these coefficients). `Plan.objective` is in cost units.
"""

from __future__ import annotations

from collections.abc import Iterable

from dispatch.optimizer.problem import Problem
from dispatch.optimizer.schedule import TimedRoute

UNITS_PER_COST = 60


def route_cost(p: Problem, r: TimedRoute) -> int:
    w = p.options.weights
    cost = r.travel * w.travel_per_minute + r.lateness * w.lateness_per_minute
    if w.balance_per_minute and p.balance_target:
        cost += max(0, r.work - p.balance_target) * w.balance_per_minute
    cost += UNITS_PER_COST * (
        missing_parts(p, r.engineer, (s.visit for s in r.stops)) * w.missing_part_penalty
        if p.options.parts_mode == "prefer"
        else 0
    )
    cost += UNITS_PER_COST * w.change_penalty * moved_count(p, r.engineer, (s.visit for s in r.stops))
    return cost


def missing_parts(p: Problem, e: int, visits: Iterable[int]) -> int:
    need: dict[str, int] = {}
    for v in visits:
        for sku, q in p.visits[v].parts.items():
            need[sku] = need.get(sku, 0) + q
    stock = p.specs[e].parts
    return sum(max(0, q - stock.get(sku, 0)) for sku, q in need.items())


def moved_count(p: Problem, e: int, visits: Iterable[int]) -> int:
    prev = p.previous
    return sum(1 for v in visits if (pe := prev.get(p.visits[v].id)) is not None and pe != e)


def drop_cost(p: Problem, v: int) -> int:
    return UNITS_PER_COST * p.options.weights.drop_penalty[p.visits[v].priority]


def objective(p: Problem, routes: Iterable[TimedRoute], dropped: Iterable[int]) -> float:
    total = sum(route_cost(p, r) for r in routes) + sum(drop_cost(p, v) for v in dropped)
    return total / UNITS_PER_COST
