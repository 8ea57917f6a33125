"""Property tests of the VRPTW front-end the Solomon benchmark runs: feasible plans, honest distances."""

from __future__ import annotations

import math

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispatch.optimizer.search import SearchProfile
from dispatch.optimizer.vrptw import (
    SCALE,
    VrptwInstance,
    check_vrptw,
    dimacs_matrix,
    greedy_vrptw,
    route_distance,
    solve_vrptw,
)

SETTINGS = settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
HORIZON = 1000


@st.composite
def instances(draw: st.DrawFn) -> VrptwInstance:
    """Up to 12 customers; each one alone is reachable from the depot, so a plan always exists."""
    n = draw(st.integers(1, 12))
    xs = [25, *(draw(st.integers(0, 50)) for _ in range(n))]
    ys = [25, *(draw(st.integers(0, 50)) for _ in range(n))]
    service = [0, *(draw(st.integers(0, 10)) for _ in range(n))]
    ready, due = [0], [HORIZON]
    for c in range(1, n + 1):
        there = math.dist((xs[0], ys[0]), (xs[c], ys[c]))
        r = draw(st.integers(0, 400))
        d = max(r + draw(st.integers(5, 300)), math.ceil(there))
        ready.append(r)
        due.append(min(d, HORIZON - service[c] - math.ceil(there)))
    demand = [0, *(draw(st.integers(1, 20)) for _ in range(n))]
    return VrptwInstance(
        name="drawn",
        vehicles=n,
        capacity=draw(st.integers(20, 100)),
        x=tuple(float(v) for v in xs),
        y=tuple(float(v) for v in ys),
        demand=tuple(demand),
        ready=tuple(ready),
        due=tuple(due),
        service=tuple(service),
    )


def honest(inst: VrptwInstance, routes: tuple[tuple[int, ...], ...], distance: float) -> None:
    assert check_vrptw(inst, routes) == []
    assert distance == route_distance(dimacs_matrix(inst), routes) / SCALE


@SETTINGS
@given(instances())
def test_greedy_serves_every_customer_within_the_rules(inst: VrptwInstance) -> None:
    sol = greedy_vrptw(inst)
    honest(inst, sol.routes, sol.distance)
    assert sol.status == "feasible"


@SETTINGS
@given(instances())
def test_the_solver_serves_every_customer_within_the_rules(inst: VrptwInstance) -> None:
    sol = solve_vrptw(inst, 0.3)
    honest(inst, sol.routes, sol.distance)


@SETTINGS
@given(instances(), st.sampled_from([SearchProfile(), SearchProfile(metaheuristic="GREEDY_DESCENT")]))
def test_the_other_search_profiles_keep_the_rules_too(inst: VrptwInstance, profile: SearchProfile) -> None:
    # The default is iterated local search; guided local search and plain descent are what the
    # field solver uses, and the tuning script compares them on Solomon.
    sol = solve_vrptw(inst, 0.2, profile)
    honest(inst, sol.routes, sol.distance)


def test_distances_follow_the_bks_convention() -> None:
    # DIMACS: each arc is the Euclidean distance truncated to one decimal (3-4-5 gives exactly 5.0).
    inst = VrptwInstance(
        "t", 1, 10, (0.0, 3.0, 1.0), (0.0, 4.0, 1.0), (0, 1, 1), (0, 0, 0), (100, 100, 100), (0, 0, 0)
    )
    m = dimacs_matrix(inst)
    assert m[0, 1] == 50 and m[0, 2] == 14  # sqrt(2) = 1.414… → 1.4
    assert route_distance(m, [[1]]) == 100
