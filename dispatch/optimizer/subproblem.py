"""A compiled problem cut down to some engineers and some jobs, renumbered, with the way back.

The cut keeps every rule that lives on one engineer (shift, breaks, max work, van stock, locked
visits first) and the global balance target, so route costs in the cut equal route costs in the
whole. What crosses the cut is handled here too: a job that was on an engineer outside the cut
in the previous plan counts as moved wherever it goes inside, and the bound on moved jobs is
what the rest of the plan has not used up.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from dispatch.optimizer.problem import Problem, VisitSpec
from dispatch.optimizer.schedule import TimedRoute, Timing

OUTSIDE = -1  # the previous engineer of a job is not in the cut


@dataclass(frozen=True, slots=True)
class SubProblem:
    problem: Problem
    engineers: tuple[int, ...]  # local engineer index -> index in the whole problem
    visits: tuple[int, ...]  # local visit index -> index in the whole problem

    def local_routes(self, routes: Sequence[Sequence[int]]) -> list[list[int]]:
        """The whole problem's routes (by engineer) for this cut's engineers, renumbered."""
        local = {v: i for i, v in enumerate(self.visits)}
        return [[local[v] for v in routes[e]] for e in self.engineers]

    def lift(self, timed: TimedRoute) -> TimedRoute:
        """A route of the cut as a route of the whole problem."""
        stops = tuple(
            Timing(self.visits[s.visit], s.arrival, s.start, s.end, s.travel, s.distance) for s in timed.stops
        )
        return replace(timed, engineer=self.engineers[timed.engineer], stops=stops)


def restrict(p: Problem, engineers: Sequence[int], jobs: Sequence[int], max_moved: int | None) -> SubProblem:
    """Engineers `engineers` (indices) with job visits `jobs` (each allowed to one of them at least)."""
    eng_local = {e: i for i, e in enumerate(engineers)}
    visits: list[VisitSpec] = []
    for v in jobs:
        spec = p.visits[v]
        allowed = tuple(eng_local[e] for e in spec.allowed if e in eng_local)
        if not allowed or spec.locked_to is not None:
            raise ValueError(f"visit {spec.id} cannot go to any engineer of the cut")
        visits.append(replace(spec, allowed=allowed))
    # Locked visits after the jobs, as compile_problem lays them out.
    order = list(jobs)
    specs = []
    for e in engineers:
        first = len(visits)
        for v in p.specs[e].locked:
            visits.append(replace(p.visits[v], allowed=(eng_local[e],), locked_to=eng_local[e]))
            order.append(v)
        specs.append(replace(p.specs[e], locked=tuple(range(first, len(visits)))))
    ids = {vs.id for vs in visits}
    previous = {jid: eng_local.get(e, OUTSIDE) for jid, e in p.previous.items() if jid in ids}
    sub = replace(
        p,
        engineers=tuple(p.engineers[e] for e in engineers),
        specs=tuple(specs),
        visits=tuple(visits),
        jobs=(),
        static_unassigned={},
        previous=previous,
        options=replace(p.options, max_moved=max_moved),
    )
    return SubProblem(sub, tuple(engineers), tuple(order))
