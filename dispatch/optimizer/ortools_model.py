"""The OR-Tools routing model of a compiled `Problem` (construction only; search is in solver.py).

Node numbering: visit i is node i (jobs, then locked visits); engineer e starts at node
N + 2e and ends at node N + 2e + 1. Transit = service at the origin + travel, in seconds.

Cost coefficients are in the internal unit of `dispatch.cost` (1/60 cost unit), so that the
model's objective is exactly 60 x `cost.objective` plus a constant: the arc cost includes the
origin's service time (one matrix serves both the time dimension and the cost), and each
job's drop penalty is raised by its service cost so dropping is not made cheaper by it.
"""

from __future__ import annotations

from array import array
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from ortools.constraint_solver import pywrapcp

from dispatch.optimizer.cost import UNITS_PER_COST
from dispatch.optimizer.problem import Problem

TIME = "time"
WORK = "work"


@dataclass
class RoutingModel:
    problem: Problem
    manager: Any
    routing: Any
    time: Any
    breaks: dict[int, list[Any]] = field(default_factory=dict)

    @property
    def visits(self) -> int:
        return len(self.problem.visits)

    def index(self, node: int) -> int:
        return int(self.manager.NodeToIndex(node))

    def routes_to_indices(self, routes: list[list[int]]) -> list[list[int]]:
        return [[self.index(v) for v in r] for r in routes]


def build_model(p: Problem) -> RoutingModel:
    n, nv = len(p.visits), len(p.specs)
    w = p.options.weights
    starts = [n + 2 * e for e in range(nv)]
    ends = [n + 2 * e + 1 for e in range(nv)]
    manager = pywrapcp.RoutingIndexManager(n + 2 * nv, nv, starts, ends)
    model_params = pywrapcp.DefaultRoutingModelParameters()
    # The CP trail is zlib-compressed by default: memory we have, time we do not.
    model_params.solver_parameters.compress_trail = 0  # NO_COMPRESSION
    routing = pywrapcp.RoutingModel(manager, model_params)
    solver = routing.solver()

    size = routing.Size() + nv  # every routing index, ends included
    node_of = np.array([manager.IndexToNode(i) for i in range(size)], dtype=np.int64)
    point = np.array(
        [v.point for v in p.visits] + [x for s in p.specs for x in (s.start_point, s.end_point)],
        dtype=np.int64,
    )[node_of]
    service = np.array([v.duration for v in p.visits] + [0] * (2 * nv), dtype=np.int64)[node_of]
    transit = p.durations[np.ix_(point, point)] + service[:, None]
    # Python callbacks over a flat array indexed by routing index. RegisterTransitMatrix would
    # evaluate in C++, but in ortools 9.15's Python build it copies the whole matrix over and
    # over during search (malloc/memmove dominate a profile; ~10x fewer moves per second).
    time_cb = routing.RegisterTransitCallback(_flat_callback(transit))
    cost_cb = (
        time_cb
        if w.travel_per_minute == 1
        else routing.RegisterTransitCallback(_flat_callback(transit * w.travel_per_minute))
    )
    del transit
    routing.SetArcCostEvaluatorOfAllVehicles(cost_cb)

    horizon = p.horizon
    routing.AddDimension(time_cb, horizon, horizon, False, TIME)
    time = routing.GetDimensionOrDie(TIME)
    model = RoutingModel(p, manager, routing, time)

    for vi, v in enumerate(p.visits):
        idx = manager.NodeToIndex(vi)
        cumul = time.CumulVar(idx)
        lo, hi = v.windows[0][0], min(v.windows[-1][1], horizon)
        cumul.SetRange(lo, max(lo, hi))
        for (_, b), (a, _) in zip(v.windows, v.windows[1:], strict=False):
            cumul.RemoveInterval(b + 1, a - 1)
        if v.due is not None:
            time.SetCumulVarSoftUpperBound(idx, max(0, v.due), w.lateness_per_minute)
        allowed = _allowed(p, vi)
        if len(allowed) < nv:
            # Restricting the vehicle variable's domain (-1 = not performed) instead of
            # SetAllowedVehiclesForIndex, whose absl::Span argument the 9.15 Python wrapper rejects.
            routing.VehicleVar(idx).SetValues(([] if v.locked_to is not None else [-1]) + list(allowed))
        if v.locked_to is None:
            penalty = UNITS_PER_COST * w.drop_penalty[v.priority] + v.duration * w.travel_per_minute
            routing.AddDisjunction([idx], penalty)

    for e, s in enumerate(p.specs):
        time.CumulVar(routing.Start(e)).SetRange(s.shift_start, s.shift_end)
        time.CumulVar(routing.End(e)).SetRange(s.shift_start, s.shift_end)
        # Locked visits: first in the route, in the given order, on this engineer only.
        prev = routing.Start(e)
        for vi in s.locked:
            idx = manager.NodeToIndex(vi)
            solver.Add(routing.NextVar(prev) == idx)
            prev = idx
        if s.breaks:
            intervals = [
                solver.FixedDurationIntervalVar(
                    b.earliest, b.latest_start, b.duration, False, f"break-{e}-{k}"
                )
                for k, b in enumerate(s.breaks)
            ]
            visit_transits = [int(x) for x in service[: routing.Size()]]
            time.SetBreakIntervalsOfVehicle(intervals, e, visit_transits)
            for iv in intervals:
                routing.AddIntervalToAssignment(iv)  # so the solution reports where breaks went
            model.breaks[e] = intervals

    _add_work(p, routing, time_cb)
    _add_parts(p, routing)
    _add_moves(p, routing)
    return model


def _flat_callback(matrix: np.ndarray[Any, np.dtype[np.int64]]) -> Callable[[int, int], int]:
    size = matrix.shape[0]
    flat = array("q")
    flat.frombytes(np.ascontiguousarray(matrix, dtype=np.int64).tobytes())

    def transit(i: int, j: int) -> int:
        return int(flat[i * size + j])

    return transit


def _add_work(p: Problem, routing: Any, time_cb: int) -> None:
    """Travel + service (no waiting): bounds max_work, and carries the balance cost.

    Balancing on work rather than on the time span keeps every cumul fixed by the route itself,
    so the search needs no scheduling LP to price a move (far faster with breaks).
    """
    w = p.options.weights
    balance = w.balance_per_minute and p.balance_target
    if not balance and all(s.max_work is None for s in p.specs):
        return
    caps = [s.max_work if s.max_work is not None else 2 * p.horizon for s in p.specs]
    routing.AddDimensionWithVehicleCapacity(time_cb, 0, caps, True, WORK)
    if balance:
        work = routing.GetDimensionOrDie(WORK)
        for e in range(len(p.specs)):
            work.SetCumulVarSoftUpperBound(routing.End(e), p.balance_target, w.balance_per_minute)


def _allowed(p: Problem, vi: int) -> tuple[int, ...]:
    v = p.visits[vi]
    prev = p.previous.get(v.id)
    # With no moves allowed, a previously planned job stays with its engineer or is dropped.
    if p.options.max_moved == 0 and prev is not None and prev in v.allowed:
        return (prev,)
    return v.allowed


def _add_parts(p: Problem, routing: Any) -> None:
    """One dimension per SKU whose stock could run short: van stock is shared by a route's jobs."""
    mode = p.options.parts_mode
    if mode == "ignore":
        return
    w = p.options.weights
    n, nv = len(p.visits), len(p.specs)
    skus = sorted({sku for v in p.visits for sku in v.parts})
    for sku in skus:
        demand = [v.parts.get(sku, 0) for v in p.visits] + [0] * (2 * nv)
        reachable = [sum(demand[i] for i in range(n) if e in p.visits[i].allowed) for e in range(nv)]
        stock = [p.specs[e].parts.get(sku, 0) for e in range(nv)]
        if all(stock[e] >= reachable[e] for e in range(nv)):
            continue  # no van can run out of it: the dimension would only slow the search
        # A vector by node, evaluated in C++: no call back into Python per evaluation (a Python
        # callback here was a fifth of the callback time on 300 x 3,000).
        cb = routing.RegisterUnaryTransitVector(demand)
        total = sum(demand)
        caps = stock if mode == "require" else [total] * nv
        routing.AddDimensionWithVehicleCapacity(cb, 0, caps, True, f"part:{sku}")
        if mode == "prefer":
            dim = routing.GetDimensionOrDie(f"part:{sku}")
            for e in range(nv):
                dim.SetCumulVarSoftUpperBound(
                    routing.End(e), stock[e], UNITS_PER_COST * w.missing_part_penalty
                )


def _add_moves(p: Problem, routing: Any) -> None:
    """Count, per engineer, the jobs taken from another engineer of the previous plan."""
    w = p.options.weights
    if not p.previous or (w.change_penalty == 0 and p.options.max_moved in (None, 0)):
        return
    n, nv = len(p.visits), len(p.specs)
    prev = [p.previous.get(v.id) for v in p.visits]
    callbacks = []
    for e in range(nv):
        moved = [1 if prev[i] is not None and prev[i] != e else 0 for i in range(n)] + [0] * (2 * nv)
        callbacks.append(routing.RegisterUnaryTransitVector(moved))
    routing.AddDimensionWithVehicleTransits(callbacks, 0, n, True, "moved")
    dim = routing.GetDimensionOrDie("moved")
    ends = [dim.CumulVar(routing.End(e)) for e in range(nv)]
    if w.change_penalty:
        for e in range(nv):
            dim.SetCumulVarSoftUpperBound(routing.End(e), 0, UNITS_PER_COST * w.change_penalty)
    if p.options.max_moved is not None and p.options.max_moved > 0:
        solver = routing.solver()
        solver.Add(solver.Sum(ends) <= p.options.max_moved)
