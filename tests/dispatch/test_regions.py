"""Large days by regions: a cut prices routes exactly like the whole day, and plans keep every rule."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import dispatch.optimizer.regions as regions
import dispatch.optimizer.solver as solver
from dispatch.optimizer import Engineer, HaversineTravel, Job, Location, TimeWindow, greedy_plan, solve
from dispatch.optimizer.cost import moved_count, route_cost
from dispatch.optimizer.greedy import greedy_routes
from dispatch.optimizer.problem import compile_problem
from dispatch.optimizer.schedule import simulate
from dispatch.optimizer.subproblem import OUTSIDE, restrict
from tests.dispatch.instances import Day, at, days, locations, quick
from tests.dispatch.test_optimizer_properties import check

TRAVEL = HaversineTravel()
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
# The fixture only swaps module constants, the same for every example.
REGION_SETTINGS = settings(
    SETTINGS, suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture]
)


@SETTINGS
@given(days(), st.data())
def test_a_cut_prices_each_route_as_the_whole_day_does(day: Day, data: st.DataObject) -> None:
    p = compile_problem(day.engineers, day.jobs, TRAVEL, quick())
    g = greedy_routes(p)
    group = data.draw(st.lists(st.sampled_from(range(len(p.specs))), min_size=1, unique=True))
    jobs = [v for e in group for v in g.routes[e] if p.visits[v].locked_to is None]
    jobs += [v for v in g.dropped if set(group) & set(p.visits[v].allowed)]
    sub = restrict(p, group, jobs, None)
    for local, (e, route) in enumerate(zip(group, sub.local_routes(g.routes), strict=True)):
        in_cut = simulate(sub.problem, local, route)
        assert in_cut is not None
        whole = g.timed[e]
        assert sub.lift(in_cut) == whole
        assert route_cost(sub.problem, in_cut) == route_cost(p, whole)


def test_a_job_from_outside_the_cut_counts_as_moved_inside() -> None:
    home = Location(31.2, 121.4)
    engs = [
        Engineer(id=eid, skills={}, shift=TimeWindow(at(0), at(480)), start=home, end=home) for eid in "AB"
    ]
    jobs = [Job(id="J", location=Location(31.21, 121.41), duration=timedelta(minutes=30))]
    p = compile_problem(engs, jobs, TRAVEL, quick(previous_plan={"A": ["J"]}))
    sub = restrict(p, [1], [0], max_moved=0)
    assert sub.problem.previous == {"J": OUTSIDE}
    assert moved_count(sub.problem, 0, [0]) == 1  # J on B inside the cut is a move from A
    assert sub.problem.options.max_moved == 0


@pytest.fixture
def small_regions() -> Iterator[None]:
    """Every day goes through regions, in groups of about two engineers."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(solver, "REGIONS_ABOVE", 0)
        mp.setattr(regions, "GROUP_VISITS", 2)
        mp.setattr(regions, "MIN_SLICE", 0.0)
        yield


@REGION_SETTINGS
@given(days())
def test_every_plan_made_by_regions_keeps_the_hard_rules(small_regions: None, day: Day) -> None:
    options = quick(time_limit=timedelta(seconds=1))
    plan = solve(day.engineers, day.jobs, TRAVEL, options)
    check(plan, day, options)
    assert plan.objective <= greedy_plan(day.engineers, day.jobs, TRAVEL, options).objective + 1e-6
    # "greedy": nothing was left to search (no job any engineer could take).
    assert plan.status == "greedy" or plan.status.startswith("regions_") or len(day.engineers) == 1


@REGION_SETTINGS
@given(days(), st.integers(0, 3), locations)
def test_a_replan_by_regions_keeps_locks_and_the_bound_on_moves(
    small_regions: None, day: Day, bound: int, where: object
) -> None:
    first = solve(day.engineers, day.jobs, TRAVEL, quick(time_limit=timedelta(seconds=1)))
    previous = {r.engineer_id: [s.job_id for s in r.stops if not s.locked] for r in first.routes}
    urgent = Job(id="URGENT", location=where, duration=timedelta(minutes=30), priority=1, respond_by=at(120))  # type: ignore[arg-type]
    jobs = (*day.jobs, urgent)
    options = quick(previous_plan=previous, max_moved=bound, time_limit=timedelta(seconds=1))
    again = solve(day.engineers, jobs, TRAVEL, options)
    check(again, Day(day.engineers, jobs), options)
    assert len(again.moved_jobs) <= bound
