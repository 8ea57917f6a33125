"""Pure VRPTW front-end (Solomon benchmark): identical vehicles, one capacity, minimise distance.

Distances follow the DIMACS convention used by the published best-known solutions: each arc is
the Euclidean distance truncated to one decimal. Internally everything is scaled by 10 so the
solver works on exact integers (arc = floor(10 * d), times and windows x 10); reported distances
are divided back, so a gap against the BKS table is like for like.
"""

from __future__ import annotations

import itertools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from ortools.constraint_solver import pywrapcp, routing_enums_pb2

from dispatch.optimizer.search import SearchProfile, apply_profile

SCALE = 10

# Every customer is mandatory and the cost is distance alone: iterated local search (ruin and
# recreate, then descent) without the operators that only reinsert optional visits.
VRPTW_PROFILE = SearchProfile(iterated_local_search=True, insertion_lns=False, heavy_operators=False)


@dataclass(frozen=True, slots=True)
class VrptwInstance:
    """Node 0 is the depot; its due date is the horizon. Times are in the instance's units."""

    name: str
    vehicles: int
    capacity: int
    x: tuple[float, ...]
    y: tuple[float, ...]
    demand: tuple[int, ...]
    ready: tuple[int, ...]
    due: tuple[int, ...]
    service: tuple[int, ...]

    @property
    def customers(self) -> int:
        return len(self.x) - 1


@dataclass(frozen=True, slots=True)
class VrptwSolution:
    routes: tuple[tuple[int, ...], ...]  # customer numbers per used vehicle, depot omitted
    distance: float  # DIMACS distance (tenths divided back)
    solver: str
    status: str
    seconds: float
    first_solution_seconds: float | None


def dimacs_matrix(inst: VrptwInstance) -> npt.NDArray[np.int64]:
    """floor(10 * euclid) for every pair; exact for integer coordinates (Solomon's)."""
    xs = np.asarray(inst.x, dtype=np.float64)
    ys = np.asarray(inst.y, dtype=np.float64)
    sq = (xs[:, None] - xs[None, :]) ** 2 + (ys[:, None] - ys[None, :]) ** 2
    if np.all(np.mod(xs, 1) == 0) and np.all(np.mod(ys, 1) == 0):
        # Integer square root avoids a float landing a hair below an exact tenth.
        flat = [math.isqrt(int(v) * SCALE * SCALE) for v in sq.ravel()]
        return np.asarray(flat, dtype=np.int64).reshape(sq.shape)
    return np.floor(np.sqrt(sq) * SCALE + 1e-9).astype(np.int64)


def route_distance(matrix: npt.NDArray[np.int64], routes: Sequence[Sequence[int]]) -> int:
    total = 0
    for r in routes:
        if not r:
            continue
        path = [0, *r, 0]
        total += int(sum(matrix[a, b] for a, b in itertools.pairwise(path)))
    return total


def check_vrptw(inst: VrptwInstance, routes: Sequence[Sequence[int]]) -> list[str]:
    """Every violated rule (capacity, windows, horizon, each customer exactly once); empty = feasible."""
    m = dimacs_matrix(inst)
    problems: list[str] = []
    seen: dict[int, int] = {}
    used = [r for r in routes if r]
    if len(used) > inst.vehicles:
        problems.append(f"{len(used)} routes > {inst.vehicles} vehicles")
    for k, r in enumerate(used):
        load = sum(inst.demand[c] for c in r)
        if load > inst.capacity:
            problems.append(f"route {k}: load {load} > {inst.capacity}")
        t = inst.ready[0] * SCALE
        prev = 0
        for c in r:
            seen[c] = seen.get(c, 0) + 1
            t = max(t + inst.service[prev] * SCALE + int(m[prev, c]), inst.ready[c] * SCALE)
            if t > inst.due[c] * SCALE:
                problems.append(f"route {k}: customer {c} starts {t / SCALE} > due {inst.due[c]}")
            prev = c
        back = t + inst.service[prev] * SCALE + int(m[prev, 0])
        if back > inst.due[0] * SCALE:
            problems.append(f"route {k}: returns {back / SCALE} > horizon {inst.due[0]}")
    for c in range(1, inst.customers + 1):
        if seen.get(c, 0) != 1:
            problems.append(f"customer {c} visited {seen.get(c, 0)} times")
    return problems


def greedy_vrptw(inst: VrptwInstance) -> VrptwSolution:
    """The baseline on Solomon: customers by due date, each at its cheapest feasible insertion.

    Same rule as the field greedy (most constrained first, cheapest feasible insertion), with a
    capacity check instead of skills; opens a new route when nothing fits.
    """
    t0 = time.perf_counter()
    m = dimacs_matrix(inst)
    ready = [r * SCALE for r in inst.ready]
    due = [d * SCALE for d in inst.due]
    service = [s * SCALE for s in inst.service]
    routes: list[list[int]] = []
    loads: list[int] = []

    def feasible(path: list[int]) -> bool:
        t = ready[0]
        prev = 0
        for c in path:
            t = max(t + service[prev] + int(m[prev, c]), ready[c])
            if t > due[c]:
                return False
            prev = c
        return t + service[prev] + int(m[prev, 0]) <= due[0]

    order = sorted(range(1, inst.customers + 1), key=lambda c: (due[c], ready[c], c))
    for c in order:
        best: tuple[int, int, int] | None = None
        for k, r in enumerate(routes):
            if loads[k] + inst.demand[c] > inst.capacity:
                continue
            path = [0, *r, 0]
            for pos in range(len(r) + 1):
                a, b = path[pos], path[pos + 1]
                delta = int(m[a, c] + m[c, b] - m[a, b])
                if (best is None or delta < best[0]) and feasible([*r[:pos], c, *r[pos:]]):
                    best = (delta, k, pos)
        if best is None:
            routes.append([c])
            loads.append(inst.demand[c])
        else:
            _, k, pos = best
            routes[k].insert(pos, c)
            loads[k] += inst.demand[c]
    dist = route_distance(m, routes)
    elapsed = time.perf_counter() - t0
    return VrptwSolution(
        routes=tuple(tuple(r) for r in routes),
        distance=dist / SCALE,
        solver="greedy",
        status="feasible" if len(routes) <= inst.vehicles else "too_many_routes",
        seconds=elapsed,
        first_solution_seconds=elapsed,
    )


def solve_vrptw(
    inst: VrptwInstance,
    time_limit: float,
    profile: SearchProfile | None = None,
) -> VrptwSolution:
    """OR-Tools routing on the DIMACS-scaled instance; all customers mandatory."""
    t0 = time.perf_counter()
    m = dimacs_matrix(inst)
    n = len(inst.x)
    manager = pywrapcp.RoutingIndexManager(n, inst.vehicles, 0)
    routing = pywrapcp.RoutingModel(manager)
    # Matrices registered in C++ are evaluated without calling back into Python; with a time
    # limit that difference is most of the search speed. Node i maps to index i for i < n here
    # only for customers, so the matrices are laid out by routing index.
    size = routing.Size() + inst.vehicles
    node_of = [manager.IndexToNode(i) for i in range(size)]
    dist_rows = m[np.ix_(node_of, node_of)]
    service = np.asarray(inst.service, dtype=np.int64) * SCALE
    time_rows = dist_rows + service[node_of][:, None]
    dist_cb = routing.RegisterTransitMatrix(dist_rows.tolist())
    time_cb = routing.RegisterTransitMatrix(time_rows.tolist())
    routing.SetArcCostEvaluatorOfAllVehicles(dist_cb)

    demand_cb = routing.RegisterUnaryTransitVector([int(inst.demand[node]) for node in node_of])
    routing.AddDimension(demand_cb, 0, inst.capacity, True, "load")

    horizon = inst.due[0] * SCALE
    routing.AddDimension(time_cb, horizon, horizon, False, "time")
    tdim = routing.GetDimensionOrDie("time")
    for node in range(1, n):
        idx = manager.NodeToIndex(node)
        tdim.CumulVar(idx).SetRange(inst.ready[node] * SCALE, inst.due[node] * SCALE)
    for v in range(inst.vehicles):
        tdim.CumulVar(routing.Start(v)).SetRange(inst.ready[0] * SCALE, horizon)
        tdim.CumulVar(routing.End(v)).SetRange(inst.ready[0] * SCALE, horizon)

    params = pywrapcp.DefaultRoutingSearchParameters()
    apply_profile(params, profile or VRPTW_PROFILE, time_limit)
    first: list[float] = []
    routing.AddAtSolutionCallback(lambda: first.append(time.perf_counter() - t0) if not first else None)
    solution = (
        routing.SolveWithIteratedLocalSearch(params)
        if params.use_iterated_local_search
        else routing.SolveWithParameters(params)
    )
    elapsed = time.perf_counter() - t0
    if solution is None:
        return VrptwSolution((), math.inf, "ortools", _status(routing), elapsed, None)
    routes: list[tuple[int, ...]] = []
    for v in range(inst.vehicles):
        idx = solution.Value(routing.NextVar(routing.Start(v)))
        r: list[int] = []
        while not routing.IsEnd(idx):
            r.append(manager.IndexToNode(idx))
            idx = solution.Value(routing.NextVar(idx))
        if r:
            routes.append(tuple(r))
    return VrptwSolution(
        routes=tuple(routes),
        distance=route_distance(m, routes) / SCALE,
        solver="ortools",
        status=_status(routing),
        seconds=elapsed,
        first_solution_seconds=first[0] if first else None,
    )


def _status(routing: pywrapcp.RoutingModel) -> str:
    name: str = routing_enums_pb2.RoutingSearchStatus.Value.Name(routing.status())
    return name.removeprefix("ROUTING_").lower()
