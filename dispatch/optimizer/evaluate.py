"""Time a given plan (e.g. the one committed now) the same way the optimizer times its own.

The diff of a proposal needs the current plan's travel and lateness on the same scale. A current
plan may no longer be feasible (an engineer ran late, a window moved): its routes are then timed
leniently (windows' ends and breaks ignored) rather than refused, and the route says so.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from dispatch.optimizer.model import Engineer, Job, Plan, SolveOptions
from dispatch.optimizer.plan import build_plan
from dispatch.optimizer.problem import Problem, compile_problem
from dispatch.optimizer.schedule import TimedRoute, Timing, simulate
from dispatch.optimizer.travel import TravelTimeProvider


@dataclass(frozen=True, slots=True)
class Evaluation:
    plan: Plan
    infeasible_engineers: tuple[str, ...]  # routes that break a hard rule as they stand


def evaluate(
    engineers: Sequence[Engineer],
    jobs: Sequence[Job],
    routes: Mapping[str, Sequence[str]],
    travel: TravelTimeProvider,
    options: SolveOptions | None = None,
) -> Evaluation:
    """The plan that `routes` (engineer id -> job ids in order, locked visits implied) amount to."""
    opts = options or SolveOptions(explain=False)
    # Qualification is not re-judged here: the current plan is what it is.
    p = compile_problem(engineers, [_unrestricted(j) for j in jobs], travel, opts)
    index = {v.id: i for i, v in enumerate(p.visits)}
    timed: list[TimedRoute] = []
    bad: list[str] = []
    served: set[int] = set()
    for e, spec in enumerate(p.specs):
        wanted = [index[j] for j in routes.get(spec.id, ()) if j in index and index[j] not in served]
        order = [*spec.locked, *wanted]
        served.update(wanted)
        t = simulate(p, e, order)
        if t is None:
            bad.append(spec.id)
            t = _lenient(p, e, order)
        timed.append(t)
    dropped = [v for v in p.job_visits if v not in served]
    plan = build_plan(
        p,
        timed,
        dropped,
        status="current",
        used_fallback=False,
        first_solution_seconds=None,
        solve_seconds=0.0,
    )
    return Evaluation(plan, tuple(bad))


def _unrestricted(job: Job) -> Job:
    return Job(
        id=job.id,
        location=job.location,
        duration=job.duration,
        windows=(),
        priority=job.priority,
        respond_by=job.respond_by,
    )


def _lenient(p: Problem, e: int, order: Sequence[int]) -> TimedRoute:
    spec = p.specs[e]
    t, prev = spec.shift_start, spec.start_point
    stops: list[Timing] = []
    travel = distance = late = work = 0
    for vi in order:
        v = p.visits[vi]
        tr, d = int(p.durations[prev, v.point]), int(p.distances[prev, v.point])
        arrive = t + tr
        start = max(arrive, v.windows[0][0])
        stops.append(Timing(vi, arrive, start, start + v.duration, tr, d))
        travel, distance, work = travel + tr, distance + d, work + tr + v.duration
        if v.due is not None and start > v.due:
            late += start - v.due
        t, prev = start + v.duration, v.point
    tr = int(p.durations[prev, spec.end_point])
    return TimedRoute(
        engineer=e,
        depart=spec.shift_start,
        return_at=t + tr,
        stops=tuple(stops),
        breaks=(),
        travel=travel + tr,
        distance=distance + int(p.distances[prev, spec.end_point]),
        lateness=late,
        work=work + tr,
    )
