"""Compile the public input into integer seconds and indices, shared by greedy, solver and explain.

Times become whole seconds after `t0` (the earliest shift start or locked-visit start), so the
solver's integer cumuls and the greedy's arithmetic agree exactly.

Rules decided here (documented once):
- A pinned engineer restricts the job to that engineer *and* the engineer must still be
  qualified (skills, parts in "require" mode); a pin does not override qualifications.
- A pinned start replaces the job's windows by [pin - tolerance, pin + tolerance].
- A job id that is also a locked visit is the locked visit; the job entry is ignored.
- A break that can no longer be taken after an engineer's locked visits is dropped (it was
  missed or already taken), and a shift end that the locked visits alone overrun is extended to
  what they need, so committed work never makes the whole day infeasible.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import numpy as np
import numpy.typing as npt

from dispatch.optimizer.model import Engineer, Job, Location, SolveOptions, UnassignedReason
from dispatch.optimizer.travel import IntMatrix, TravelTimeProvider

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


@dataclass(frozen=True, slots=True)
class BreakSpec:
    earliest: int  # earliest start
    latest_start: int  # latest end - duration
    duration: int


@dataclass(frozen=True, slots=True)
class EngineerSpec:
    id: str
    shift_start: int
    shift_end: int  # possibly extended for locked visits
    breaks: tuple[BreakSpec, ...]
    max_work: int | None
    start_point: int
    end_point: int
    locked: tuple[int, ...]  # visit indices, in route order
    parts: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class VisitSpec:
    """A job to place, or a locked visit (locked_to set, mandatory, first in its route)."""

    id: str
    point: int
    duration: int
    windows: tuple[tuple[int, int], ...]  # allowed service starts, sorted, disjoint, non-empty
    due: int | None  # respond_by
    priority: int  # 0 for locked visits
    parts: Mapping[str, int]
    allowed: tuple[int, ...]  # engineer indices
    locked_to: int | None
    skills: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class StaticReason:
    reason: UnassignedReason
    detail: str


@dataclass(frozen=True, slots=True)
class Problem:
    t0: datetime
    horizon: int
    engineers: tuple[Engineer, ...]
    specs: tuple[EngineerSpec, ...]
    visits: tuple[VisitSpec, ...]  # every visit the model places (jobs first, then locked)
    jobs: tuple[Job, ...]  # every job given, in input order
    points: tuple[Location, ...]
    durations: IntMatrix
    distances: IntMatrix
    static_unassigned: Mapping[str, StaticReason]  # jobs kept out of the model, and why
    previous: Mapping[str, int]  # job id -> engineer index in previous_plan
    options: SolveOptions
    balance_target: int  # seconds of work (travel + service) per engineer above which balance costs

    def at(self, seconds: int) -> datetime:
        return self.t0 + timedelta(seconds=seconds)

    @property
    def job_visits(self) -> range:
        return range(sum(1 for v in self.visits if v.locked_to is None))


def _sec(t0: datetime, t: datetime, up: bool) -> int:
    s = (t - t0).total_seconds()
    return math.ceil(s) if up else math.floor(s)


def _dur(d: timedelta) -> int:
    return max(0, math.ceil(d.total_seconds()))


def qualified(engineer: Engineer, job: Job) -> bool:
    return all(engineer.skills.get(s, 0) >= lvl for s, lvl in job.required_skills.items())


def has_parts(stock: Mapping[str, int], need: Mapping[str, int]) -> bool:
    return all(stock.get(sku, 0) >= q for sku, q in need.items() if q > 0)


def _merge(windows: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    out: list[tuple[int, int]] = []
    for a, b in sorted(w for w in windows if w[0] <= w[1]):
        if out and a <= out[-1][1] + 1:
            out[-1] = (out[-1][0], max(out[-1][1], b))
        else:
            out.append((a, b))
    return tuple(out)


class _Points:
    def __init__(self) -> None:
        self.index: dict[tuple[float, float], int] = {}
        self.points: list[Location] = []

    def add(self, loc: Location) -> int:
        key = (loc.lat, loc.lon)
        if key not in self.index:
            self.index[key] = len(self.points)
            self.points.append(loc)
        return self.index[key]


@dataclass(frozen=True, slots=True)
class _Chain:
    """Where an engineer's locked visits leave them: free at `free`, at `point`, `work` done."""

    free: int
    point: int
    work: int
    visits: tuple[VisitSpec, ...]


@dataclass(frozen=True, slots=True)
class _Context:
    t0: datetime
    horizon: int
    engineers: Sequence[Engineer]
    specs: Sequence[EngineerSpec]
    chains: Sequence[_Chain]
    eng_index: Mapping[str, int]
    durations: IntMatrix
    options: SolveOptions
    # Who is qualified depends only on the skill requirements, and thousands of jobs share a few
    # dozen of them: computed once per requirement (300 x 3,000 spent seconds here).
    skilled: dict[tuple[tuple[str, int], ...], list[int]] = field(default_factory=dict)
    # Per engineer, as arrays, what reachability needs: when and where the locked work ends.
    free: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    free_point: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    end_point: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    shift_end: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    work_left: npt.NDArray[np.int64] = field(default_factory=lambda: np.zeros(0, dtype=np.int64))


def compile_problem(
    engineers: Sequence[Engineer],
    jobs: Sequence[Job],
    travel: TravelTimeProvider,
    options: SolveOptions,
) -> Problem:
    if len({e.id for e in engineers}) != len(engineers):
        raise ValueError("engineer ids must be unique")
    if len({j.id for j in jobs}) != len(jobs):
        raise ValueError("job ids must be unique")
    locked_ids = {lv.job_id for e in engineers for lv in e.locked}
    if len(locked_ids) != sum(len(e.locked) for e in engineers):
        raise ValueError("a locked visit appears on more than one engineer")
    starts = [e.shift.start for e in engineers] + [lv.earliest_start for e in engineers for lv in e.locked]
    t0 = (min(starts) if starts else _EPOCH).replace(microsecond=0)  # no clock: epoch when empty

    pts = _Points()
    start_pts = [pts.add(e.start) for e in engineers]
    end_pts = [pts.add(e.end) for e in engineers]
    job_pts = [pts.add(j.location) for j in jobs]
    locked_pts = [[pts.add(lv.location) for lv in e.locked] for e in engineers]
    matrix = travel.matrix(pts.points)
    dur = matrix.durations
    if dur.shape != (len(pts.points), len(pts.points)):
        raise ValueError("travel provider returned a matrix of the wrong size")

    # Engineers first: the locked chain decides when each engineer is free.
    chains = [_locked_chain(t0, ei, e, start_pts[ei], locked_pts[ei], dur) for ei, e in enumerate(engineers)]
    specs = [
        _engineer_spec(t0, e, chains[ei], start_pts[ei], end_pts[ei], dur) for ei, e in enumerate(engineers)
    ]
    horizon = max([s.shift_end for s in specs] + [0])
    eng_index = {e.id: i for i, e in enumerate(engineers)}
    unbounded = 2**40
    ctx = _Context(
        t0,
        horizon,
        engineers,
        specs,
        chains,
        eng_index,
        dur,
        options,
        free=np.array([c.free for c in chains], dtype=np.int64),
        free_point=np.array([c.point for c in chains], dtype=np.int64),
        end_point=np.array([s.end_point for s in specs], dtype=np.int64),
        shift_end=np.array([s.shift_end for s in specs], dtype=np.int64),
        work_left=np.array(
            [
                unbounded if s.max_work is None else s.max_work - c.work
                for s, c in zip(specs, chains, strict=True)
            ],
            dtype=np.int64,
        ),
    )

    job_visits: list[VisitSpec] = []
    static: dict[str, StaticReason] = {}
    for ji, job in enumerate(jobs):
        if job.id in locked_ids:
            continue
        out = _job_visit(ctx, job, job_pts[ji])
        if isinstance(out, StaticReason):
            static[job.id] = out
        else:
            job_visits.append(out)

    # Locked visits come after jobs, so job visits are 0..len(jobs_in_model)-1.
    offset = len(job_visits)
    locked_visits: list[VisitSpec] = []
    final_specs: list[EngineerSpec] = []
    for ei, s in enumerate(specs):
        first = offset + len(locked_visits)
        locked_visits.extend(chains[ei].visits)
        final_specs.append(_with_locked(s, tuple(range(first, first + len(chains[ei].visits)))))
    visits = tuple(job_visits) + tuple(locked_visits)
    return Problem(
        t0=t0,
        horizon=horizon,
        engineers=tuple(engineers),
        specs=tuple(final_specs),
        visits=visits,
        jobs=tuple(jobs),
        points=tuple(pts.points),
        durations=dur,
        distances=matrix.distances,
        static_unassigned=static,
        previous=_previous(options, eng_index),
        options=options,
        balance_target=_balance_target(visits, len(specs)),
    )


def _locked_chain(
    t0: datetime, ei: int, e: Engineer, start: int, points: Sequence[int], dur: IntMatrix
) -> _Chain:
    t, p, work = _sec(t0, e.shift.start, True), start, 0
    visits: list[VisitSpec] = []
    for lv, q in zip(e.locked, points, strict=True):
        earliest = _sec(t0, lv.earliest_start, True)
        d = _dur(lv.remaining)
        t = max(t + int(dur[p, q]), earliest) + d
        work += int(dur[p, q]) + d
        p = q
        visits.append(
            VisitSpec(
                id=lv.job_id,
                point=q,
                duration=d,
                windows=((earliest, 2**40),),
                due=None,
                priority=0,
                parts={},
                allowed=(ei,),
                locked_to=ei,
                skills={},
            )
        )
    return _Chain(t, p, work, tuple(visits))


def _engineer_spec(
    t0: datetime, e: Engineer, chain: _Chain, start: int, end: int, dur: IntMatrix
) -> EngineerSpec:
    s0, s1 = _sec(t0, e.shift.start, True), _sec(t0, e.shift.end, False)
    back = int(dur[chain.point, end])
    breaks = []
    for b in sorted(e.breaks, key=lambda b: b.earliest_start):
        bs = BreakSpec(
            earliest=_sec(t0, b.earliest_start, True),
            latest_start=_sec(t0, b.latest_end, False) - _dur(b.duration),
            duration=_dur(b.duration),
        )
        if bs.latest_start >= max(bs.earliest, chain.free if e.locked else s0):
            breaks.append(bs)
    return EngineerSpec(
        id=e.id,
        shift_start=s0,
        shift_end=max(s1, chain.free + back),
        breaks=tuple(breaks),
        max_work=None if e.max_work is None else max(_dur(e.max_work), chain.work + back),
        start_point=start,
        end_point=end,
        locked=(),
        parts=dict(e.van_parts),
    )


def _with_locked(s: EngineerSpec, locked: tuple[int, ...]) -> EngineerSpec:
    return EngineerSpec(
        id=s.id,
        shift_start=s.shift_start,
        shift_end=s.shift_end,
        breaks=s.breaks,
        max_work=s.max_work,
        start_point=s.start_point,
        end_point=s.end_point,
        locked=locked,
        parts=s.parts,
    )


def _previous(options: SolveOptions, eng_index: Mapping[str, int]) -> dict[str, int]:
    previous: dict[str, int] = {}
    for eid, jids in (options.previous_plan or {}).items():
        if eid in eng_index:
            for jid in jids:
                previous.setdefault(jid, eng_index[eid])
    return previous


def _windows(ctx: _Context, job: Job) -> tuple[tuple[int, int], ...]:
    t0 = ctx.t0
    if job.pinned_start is not None:
        tol = _dur(ctx.options.weights.pin_tolerance)
        pin = _sec(t0, job.pinned_start, False)
        return _merge([(max(0, pin - tol), pin + tol)])
    if job.windows:
        return _merge([(max(0, _sec(t0, tw.start, True)), _sec(t0, tw.end, False)) for tw in job.windows])
    return ((0, ctx.horizon),)


def _allowed_engineers(ctx: _Context, job: Job) -> list[int] | StaticReason:
    """Engineers qualified for the job (and its pin, and its parts in "require" mode), or why none."""
    engineers = ctx.engineers
    need = tuple(sorted(job.required_skills.items()))
    if need not in ctx.skilled:
        ctx.skilled[need] = [i for i, e in enumerate(engineers) if qualified(e, job)]
    skilled = ctx.skilled[need]
    if not skilled:
        return StaticReason(UnassignedReason.NO_QUALIFIED_ENGINEER, _skills_detail(job, engineers))
    allowed = skilled
    if job.pinned_engineer is not None:
        pi = ctx.eng_index.get(job.pinned_engineer)
        if pi is None:
            return StaticReason(
                UnassignedReason.NO_QUALIFIED_ENGINEER,
                f"pinned engineer {job.pinned_engineer} is not in this plan",
            )
        if pi not in skilled:
            return StaticReason(
                UnassignedReason.NO_QUALIFIED_ENGINEER,
                f"pinned engineer {job.pinned_engineer} lacks the required skills",
            )
        allowed = [pi]
    if ctx.options.parts_mode == "require" and job.required_parts:
        allowed = [i for i in allowed if has_parts(ctx.specs[i].parts, job.required_parts)]
        if not allowed:
            return StaticReason(
                UnassignedReason.PART_UNAVAILABLE,
                "no qualified engineer's van holds " + _parts_text(job.required_parts),
            )
    return allowed


def _job_visit(ctx: _Context, job: Job, q: int) -> VisitSpec | StaticReason:
    windows = _windows(ctx, job)
    allowed = _allowed_engineers(ctx, job)
    if isinstance(allowed, StaticReason):
        return allowed
    if not windows:
        return StaticReason(UnassignedReason.WINDOW_UNREACHABLE, "the job's windows are empty")
    d = _dur(job.duration)
    allowed = _reachable(ctx, allowed, q, d, windows)
    if not allowed:
        return StaticReason(
            UnassignedReason.WINDOW_UNREACHABLE,
            "no qualified engineer can start it within its windows and shift, even going straight there",
        )
    return VisitSpec(
        id=job.id,
        point=q,
        duration=d,
        windows=windows,
        due=None if job.respond_by is None else _sec(ctx.t0, job.respond_by, False),
        priority=job.priority,
        parts=dict(job.required_parts),
        allowed=tuple(allowed),
        locked_to=None,
        skills=dict(job.required_skills),
    )


def _balance_target(visits: Sequence[VisitSpec], engineers: int) -> int:
    """A fair share of the work: all service time split evenly, plus ~30 % for travel."""
    if engineers == 0:
        return 0
    return math.ceil(1.3 * sum(v.duration for v in visits) / engineers)


def _reachable(
    ctx: _Context, engineers: list[int], q: int, d: int, windows: tuple[tuple[int, int], ...]
) -> list[int]:
    """Necessary condition (ignores breaks): the job alone fits after each engineer's locked work.

    Vectorised over the engineers: this runs for every (job, qualified engineer) pair.
    """
    es = np.asarray(engineers, dtype=np.int64)
    there = ctx.durations[ctx.free_point[es], q]
    back = ctx.durations[q, ctx.end_point[es]]
    arrive = ctx.free[es] + there
    start = np.full(len(es), -1, dtype=np.int64)
    for a, b in reversed(windows):  # the earliest window still open wins: assign it last
        start = np.where(arrive <= b, np.maximum(arrive, a), start)
    ok = (start >= 0) & (start + d + back <= ctx.shift_end[es]) & (there + d + back <= ctx.work_left[es])
    return [int(e) for e in es[ok]]


def _skills_detail(job: Job, engineers: Sequence[Engineer]) -> str:
    need = ", ".join(f"{s}>={lvl}" for s, lvl in sorted(job.required_skills.items()))
    best = (
        max(
            (sum(min(e.skills.get(s, 0), lvl) for s, lvl in job.required_skills.items()), e.id)
            for e in engineers
        )
        if engineers
        else None
    )
    return f"needs {need}; no engineer has all of them" + (f" (closest: {best[1]})" if best else "")


def _parts_text(parts: Mapping[str, int]) -> str:
    return ", ".join(f"{q}x {sku}" for sku, q in sorted(parts.items()))
