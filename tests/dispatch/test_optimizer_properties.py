"""Property tests: whatever the day, the optimizer's plan keeps every hard rule and accounts for every job."""

from __future__ import annotations

from datetime import timedelta

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from dispatch.optimizer import HaversineTravel, Job, Plan, greedy_plan, solve, validate_plan
from dispatch.optimizer.model import SolveOptions
from tests.dispatch.instances import Day, at, days, locations, quick

TRAVEL = HaversineTravel()
SETTINGS = settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def check(plan: Plan, day: Day, options: SolveOptions) -> None:
    errors = validate_plan(plan, day.engineers, day.jobs, TRAVEL, options)
    assert errors == []
    placed = {s.job_id: r.engineer_id for r in plan.routes for s in r.stops}
    for job in day.jobs:
        assert (job.id in placed) != any(u.job_id == job.id for u in plan.unassigned), job.id
        if job.id in placed and job.pinned_engineer is not None:
            assert placed[job.id] == job.pinned_engineer
    for u in plan.unassigned:
        assert u.detail  # a reason a dispatcher can read
    for e in day.engineers:
        route = plan.route_of(e.id)
        assert route is not None
        assert [s.job_id for s in route.stops[: len(e.locked)]] == [lv.job_id for lv in e.locked]
        assert all(s.locked for s in route.stops[: len(e.locked)])
    for jid, why in plan.explanations.items():
        assert why.engineer_id == placed[jid]


@SETTINGS
@given(days())
def test_every_solver_plan_keeps_the_hard_rules(day: Day) -> None:
    options = quick()
    check(solve(day.engineers, day.jobs, TRAVEL, options), day, options)


@SETTINGS
@given(days())
def test_every_greedy_plan_keeps_the_hard_rules(day: Day) -> None:
    options = quick()
    check(greedy_plan(day.engineers, day.jobs, TRAVEL, options), day, options)


@SETTINGS
@given(days(), st.integers(0, 3), locations)
def test_replan_keeps_locks_and_moves_at_most_the_bound(day: Day, bound: int, where: object) -> None:
    first = solve(day.engineers, day.jobs, TRAVEL, quick())
    previous = {r.engineer_id: [s.job_id for s in r.stops if not s.locked] for r in first.routes}
    urgent = Job(
        id="URGENT",
        location=where,  # type: ignore[arg-type]
        duration=timedelta(minutes=30),
        priority=1,
        respond_by=at(120),
    )
    jobs = (*day.jobs, urgent)
    options = quick(previous_plan=previous, max_moved=bound)
    again = solve(day.engineers, jobs, TRAVEL, options)
    check(again, Day(day.engineers, jobs), options)
    assert len(again.moved_jobs) <= bound
    before = {s.job_id: r.engineer_id for r in first.routes for s in r.stops}
    after = {s.job_id: r.engineer_id for r in again.routes for s in r.stops}
    assert len([j for j in before if j in after and after[j] != before[j]]) <= bound


@SETTINGS
@given(days(max_jobs=8))
def test_the_solver_is_never_worse_than_greedy(day: Day) -> None:
    # The search starts from the greedy plan and only accepts improvements.
    options = quick()
    g = greedy_plan(day.engineers, day.jobs, TRAVEL, options)
    s = solve(day.engineers, day.jobs, TRAVEL, options)
    assert s.objective <= g.objective + 1e-6
