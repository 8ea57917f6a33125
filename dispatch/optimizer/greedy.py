"""Greedy baseline: most urgent job first, each at its cheapest feasible insertion.

Jobs go in order of (priority, respond_by, window end); each is inserted where it adds least
cost (travel, lateness, missing parts, moves) among the nearest qualified engineers that can
still take it; if none can, it stays unassigned. Locked visits stay first. With a previous plan,
its routes are kept as far as they remain feasible before anything else is inserted.

It is the solver's warm start, its fallback, and the benchmarks' yardstick.
"""

from __future__ import annotations

import heapq
from dataclasses import dataclass

import numpy as np

from dispatch.optimizer.cost import route_cost
from dispatch.optimizer.insertion import best_insertion, route_points
from dispatch.optimizer.problem import Problem, has_parts
from dispatch.optimizer.schedule import TimedRoute, simulate

NEAREST_ENGINEERS = 12  # candidates per job; enough in practice, keeps 300 x 3,000 in seconds


@dataclass(frozen=True, slots=True)
class GreedyResult:
    routes: tuple[tuple[int, ...], ...]  # visit indices per engineer, locked first
    timed: tuple[TimedRoute, ...]
    dropped: tuple[int, ...]  # job visits left out


class _State:
    def __init__(self, p: Problem) -> None:
        self.p = p
        self.routes: list[list[int]] = [list(s.locked) for s in p.specs]
        timed = [simulate(p, e, r) for e, r in enumerate(self.routes)]
        if any(t is None for t in timed):
            raise AssertionError("locked visits alone must always be feasible")  # compile guarantees
        self.timed: list[TimedRoute] = [t for t in timed if t is not None]
        self.cost = [route_cost(p, t) for t in self.timed]
        self.stock = [dict(s.parts) for s in p.specs]
        self.moved = 0
        # near[e, q]: travel from the nearest point of e's route (home, visits, end) to point q,
        # kept up to date on each insertion instead of recomputed for every job (the candidate
        # search was a third of greedy's time at 300 x 3,000).
        self.near = (
            np.stack([p.durations[route_points(p, e, r)].min(axis=0) for e, r in enumerate(self.routes)])
            if p.specs
            else np.zeros((0, len(p.points)), dtype=np.int64)
        )

    def commit(self, e: int, route: list[int], timed: TimedRoute, v: int) -> None:
        self.routes[e] = route
        self.timed[e] = timed
        self.cost[e] = route_cost(self.p, timed)
        for sku, q in self.p.visits[v].parts.items():
            self.stock[e][sku] = self.stock[e].get(sku, 0) - q
        prev = self.p.previous.get(self.p.visits[v].id)
        if prev is not None and prev != e:
            self.moved += 1
        np.minimum(self.near[e], self.p.durations[self.p.visits[v].point], out=self.near[e])


def greedy_routes(p: Problem) -> GreedyResult:
    st = _State(p)
    placed: set[int] = set()
    if p.previous:
        _seed_previous(st, placed)
    order = sorted(
        (v for v in p.job_visits if v not in placed),
        key=lambda v: (
            p.visits[v].priority,
            p.visits[v].due if p.visits[v].due is not None else 2**62,
            p.visits[v].windows[-1][1],
            p.visits[v].id,
        ),
    )
    dropped: list[int] = []
    for v in order:
        if _insert(st, v):
            placed.add(v)
        else:
            dropped.append(v)
    return GreedyResult(tuple(tuple(r) for r in st.routes), tuple(st.timed), tuple(sorted(dropped)))


def _seed_previous(st: _State, placed: set[int]) -> None:
    p = st.p
    by_id = {p.visits[v].id: v for v in p.job_visits}
    for e, spec in enumerate(p.specs):
        for jid in (p.options.previous_plan or {}).get(spec.id, ()):
            v = by_id.get(jid)
            if v is None or v in placed or e not in p.visits[v].allowed:
                continue
            if p.options.parts_mode == "require" and not has_parts(st.stock[e], p.visits[v].parts):
                continue
            route = [*st.routes[e], v]
            timed = simulate(p, e, route)
            if timed is not None:
                st.commit(e, route, timed, v)
                placed.add(v)


def _candidates(st: _State, v: int) -> list[int]:
    p = st.p
    visit = p.visits[v]
    allowed = list(visit.allowed)
    if p.options.parts_mode == "require" and visit.parts:
        allowed = [e for e in allowed if has_parts(st.stock[e], visit.parts)]
    prev = p.previous.get(visit.id)
    limit = p.options.max_moved
    if prev is not None and limit is not None and st.moved >= limit:
        allowed = [e for e in allowed if e == prev]
    if len(allowed) <= NEAREST_ENGINEERS:
        return allowed
    # Nearest by any point of the current route (start, visits, end), not just home; ties by index.
    near = st.near[allowed, visit.point]
    best = heapq.nsmallest(NEAREST_ENGINEERS, zip(near.tolist(), allowed, strict=True))
    return [e for _, e in best]


def _insert(st: _State, v: int) -> bool:
    ins = best_insertion(st.p, st.routes, st.cost, v, _candidates(st, v))
    if ins is None:
        return False
    st.commit(ins.engineer, ins.route, ins.timed, v)
    return True
