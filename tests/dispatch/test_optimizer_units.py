"""Worked examples: the greedy baseline, reasons for unassigned work, explanations, travel providers."""

from __future__ import annotations

from datetime import timedelta

import numpy as np
import pytest

from dispatch.optimizer import (
    Engineer,
    HaversineTravel,
    Job,
    Location,
    MatrixTravel,
    TimeWindow,
    UnassignedReason,
    greedy_plan,
    solve,
    validate_plan,
)
from tests.dispatch.instances import at, quick

TRAVEL = HaversineTravel()
WEST, EAST = Location(31.20, 121.40), Location(31.20, 121.60)


def engineer(eid: str, home: Location, **kw: object) -> Engineer:
    base: dict[str, object] = {
        "skills": {"hvac": 3},
        "shift": TimeWindow(at(0), at(480)),
        "start": home,
        "end": home,
    }
    base.update(kw)
    return Engineer(id=eid, **base)  # type: ignore[arg-type]


def job(jid: str, where: Location, **kw: object) -> Job:
    base: dict[str, object] = {"duration": timedelta(minutes=60), "required_skills": {"hvac": 2}}
    base.update(kw)
    return Job(id=jid, location=where, **base)  # type: ignore[arg-type]


def test_greedy_sends_the_nearest_qualified_engineer() -> None:
    engs = [engineer("W", WEST), engineer("E", EAST)]
    plan = greedy_plan(engs, [job("near-east", Location(31.21, 121.59))], TRAVEL, quick())
    assert [s.job_id for s in plan.route_of("E").stops] == ["near-east"]  # type: ignore[union-attr]
    assert plan.status == "greedy"


def test_each_unassigned_job_says_why() -> None:
    engs = [engineer("W", WEST, van_parts={"F-1": 1})]
    jobs = [
        job("no-skill", WEST, required_skills={"lift": 1}),
        job("low-level", WEST, required_skills={"hvac": 5}),
        job("no-part", WEST, required_parts={"V-9": 1}),
        job("too-early", WEST, windows=(TimeWindow(at(-300), at(-200)),)),
        job("pin-elsewhere", WEST, pinned_engineer="NOBODY"),
    ]
    plan = solve(engs, jobs, TRAVEL, quick())
    reasons = {u.job_id: u.reason for u in plan.unassigned}
    assert reasons == {
        "no-skill": UnassignedReason.NO_QUALIFIED_ENGINEER,
        "low-level": UnassignedReason.NO_QUALIFIED_ENGINEER,
        "no-part": UnassignedReason.PART_UNAVAILABLE,
        "too-early": UnassignedReason.WINDOW_UNREACHABLE,
        "pin-elsewhere": UnassignedReason.NO_QUALIFIED_ENGINEER,
    }
    assert "hvac>=5" in next(u.detail for u in plan.unassigned if u.job_id == "low-level")


def test_when_the_day_is_full_the_least_urgent_work_waits() -> None:
    engs = [engineer("W", WEST, shift=TimeWindow(at(0), at(150)))]
    jobs = [job(f"P{p}", WEST, priority=p) for p in (4, 3, 1, 2)]
    plan = solve(engs, jobs, TRAVEL, quick())
    placed = {s.job_id for s in plan.route_of("W").stops}  # type: ignore[union-attr]
    assert placed == {"P1", "P2"}
    assert {u.job_id: u.reason for u in plan.unassigned} == {
        "P3": UnassignedReason.NO_CAPACITY,
        "P4": UnassignedReason.NO_CAPACITY,
    }


def test_an_explanation_names_the_skills_and_the_next_best_engineer() -> None:
    engs = [engineer("W", WEST), engineer("E", EAST, skills={"hvac": 4})]
    plan = solve(engs, [job("J", Location(31.20, 121.42))], TRAVEL, quick())
    why = plan.explanations["J"]
    assert why.engineer_id == "W"
    assert why.skills_matched == {"hvac": (2, 3)}
    assert why.next_best_engineer == "E"
    assert why.next_best_extra_cost is not None and why.next_best_extra_cost > 0
    assert why.travel_time > timedelta(0)


def test_an_explanation_says_when_nobody_else_could_do_it() -> None:
    engs = [engineer("W", WEST), engineer("E", EAST, skills={"lift": 4})]
    why = solve(engs, [job("J", EAST)], TRAVEL, quick()).explanations["J"]
    assert why.engineer_id == "W"
    assert why.next_best_engineer is None
    assert "no other qualified engineer" in why.note


def test_a_pinned_time_is_kept() -> None:
    engs = [engineer("W", WEST)]
    plan = solve(engs, [job("J", EAST, pinned_start=at(240))], TRAVEL, quick())
    stop = plan.route_of("W").stops[0]  # type: ignore[union-attr]
    assert abs(stop.start - at(240)) <= timedelta(minutes=15)
    assert validate_plan(plan, engs, [job("J", EAST, pinned_start=at(240))], TRAVEL, quick()) == []


def test_sla_lateness_is_avoided_when_it_can_be() -> None:
    engs = [engineer("W", WEST)]
    jobs = [
        job("relaxed", WEST, respond_by=at(470)),
        job("urgent", EAST, respond_by=at(90), priority=1),
    ]
    plan = solve(engs, jobs, TRAVEL, quick())
    assert [s.job_id for s in plan.route_of("W").stops] == ["urgent", "relaxed"]  # type: ignore[union-attr]
    assert all(s.lateness == timedelta(0) for s in plan.route_of("W").stops)  # type: ignore[union-attr]


def test_a_precomputed_matrix_serves_any_subset_of_its_points() -> None:
    points = (WEST, EAST, Location(31.3, 121.5))
    full = HaversineTravel().matrix(points)
    travel = MatrixTravel(points, full)
    sub = travel.matrix([EAST, WEST])
    assert sub.durations.tolist() == [[0, int(full.durations[1, 0])], [int(full.durations[0, 1]), 0]]
    with pytest.raises(ValueError, match="no travel times"):
        travel.matrix([Location(0, 0)])
    with pytest.raises(ValueError, match="matrix size"):
        MatrixTravel(points[:2], full)
    assert np.array_equal(travel.matrix(points).distances, full.distances)


def test_the_solver_plans_with_a_precomputed_matrix() -> None:
    engs = [engineer("W", WEST)]
    jobs = [job("A", EAST), job("B", Location(31.3, 121.5))]
    points = (WEST, EAST, Location(31.3, 121.5))
    travel = MatrixTravel(points, HaversineTravel(circuity=1.5).matrix(points))
    plan = solve(engs, jobs, travel, quick())
    assert validate_plan(plan, engs, jobs, travel, quick()) == []
    assert len(plan.route_of("W").stops) == 2  # type: ignore[union-attr]
