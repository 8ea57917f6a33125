"""Forward timing of one engineer's route: the feasibility check behind greedy and explanations.

Times are earliest-start, except the departure, which is moved as late as the first visit allows
(nobody leaves home to wait outside a customer's door). Breaks follow one deterministic rule:
a pending break is taken before visit j if it fits in the wait for j's window, or if it could no
longer be taken after j; it is taken on site after arriving (an OR-Tools break may lie anywhere
between two visits, so every timing produced here is also feasible for the solver's model).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from dispatch.optimizer.problem import BreakSpec, Problem, VisitSpec


@dataclass(frozen=True, slots=True)
class Timing:
    visit: int
    arrival: int
    start: int
    end: int
    travel: int  # from the previous stop
    distance: int


@dataclass(frozen=True, slots=True)
class TimedRoute:
    engineer: int
    depart: int
    return_at: int
    stops: tuple[Timing, ...]
    breaks: tuple[tuple[int, int], ...]
    travel: int  # including the way back
    distance: int
    lateness: int  # seconds past respond_by, summed
    work: int  # travel + service


def _window_start(v: VisitSpec, arrive: int) -> int | None:
    for a, b in v.windows:
        if b >= arrive:
            return max(arrive, a)
    return None


def _breaks_after_last(
    pending: Sequence[BreakSpec], t: int, return_at: int, taken: list[tuple[int, int]]
) -> int | None:
    """Place the breaks left after the last visit (appending to `taken`); the new return time."""
    for b in pending:
        # At home once back, or on the road if it must start sooner.
        if max(return_at, b.earliest) <= b.latest_start:
            bstart = max(return_at, b.earliest)
        elif max(t, b.earliest) <= b.latest_start:
            bstart = max(t, b.earliest)
            return_at = max(return_at, bstart) + b.duration
        else:
            return None
        taken.append((bstart, bstart + b.duration))
    return return_at


def simulate(p: Problem, e: int, visits: Sequence[int]) -> TimedRoute | None:
    """Timing of `visits` in this order for engineer `e`, or None if a hard rule fails."""
    spec = p.specs[e]
    dur, dist = p.durations, p.distances
    pending: list[BreakSpec] = list(spec.breaks)
    taken: list[tuple[int, int]] = []
    stops: list[Timing] = []
    t, prev = spec.shift_start, spec.start_point
    travel_total = dist_total = late = work = 0
    for vi in visits:
        v = p.visits[vi]
        tr = int(dur[prev, v.point])
        arrive = t + tr
        start = _window_start(v, arrive)
        if start is None:
            return None
        while pending:
            b = pending[0]
            bstart = max(arrive, b.earliest)
            fits_in_wait = bstart <= b.latest_start and bstart + b.duration <= start
            if not fits_in_wait and max(start + v.duration, b.earliest) <= b.latest_start:
                break  # can still be taken after this visit
            if bstart > b.latest_start:
                return None
            taken.append((bstart, bstart + b.duration))
            pending.pop(0)
            if not fits_in_wait:
                start = _window_start(v, bstart + b.duration)
                if start is None:
                    return None
        end = start + v.duration
        stops.append(Timing(vi, arrive, start, end, tr, int(dist[prev, v.point])))
        travel_total += tr
        dist_total += int(dist[prev, v.point])
        work += tr + v.duration
        if v.due is not None and start > v.due:
            late += start - v.due
        t, prev = end, v.point
    tr = int(dur[prev, spec.end_point])
    return_at = _breaks_after_last(pending, t, t + tr, taken)
    if return_at is None:
        return None
    travel_total += tr
    dist_total += int(dist[prev, spec.end_point])
    work += tr
    if return_at > spec.shift_end or (spec.max_work is not None and work > spec.max_work):
        return None
    depart = spec.shift_start
    if stops and not any(s < stops[0].start for s, _ in taken):
        # Leave just in time for the first visit instead of waiting on site.
        first = stops[0]
        depart = max(spec.shift_start, first.start - first.travel)
        stops[0] = Timing(
            first.visit, depart + first.travel, first.start, first.end, first.travel, first.distance
        )
    return TimedRoute(
        engineer=e,
        depart=depart,
        return_at=return_at,
        stops=tuple(stops),
        breaks=tuple(taken),
        travel=travel_total,
        distance=dist_total,
        lateness=late,
        work=work,
    )
