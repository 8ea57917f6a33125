"""Check a plan against the hard rules, from the public input alone (tests, benchmarks, the API).

Independent of how the plan was made: it recomputes travel from the provider and reads only
`Plan`, `Engineer`, `Job` and `SolveOptions`. Returns every violation found; empty = valid.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

from dispatch.optimizer.model import (
    Engineer,
    Job,
    Location,
    Plan,
    Route,
    SolveOptions,
    Stop,
    UnassignedReason,
)
from dispatch.optimizer.problem import has_parts, qualified
from dispatch.optimizer.travel import TravelTimeProvider

_ZERO = timedelta(0)
Travel = Callable[[Location, Location], timedelta]


def validate_plan(
    plan: Plan,
    engineers: Sequence[Engineer],
    jobs: Sequence[Job],
    travel: TravelTimeProvider,
    options: SolveOptions | None = None,
) -> list[str]:
    opts = options or SolveOptions()
    errors: list[str] = []
    jobs_by_id = {j.id: j for j in jobs}
    engs = {e.id: e for e in engineers}
    locked_ids = {lv.job_id for e in engineers for lv in e.locked}
    points: list[Location] = []
    index: dict[tuple[float, float], int] = {}

    def pt(loc: Location) -> int:
        key = (loc.lat, loc.lon)
        if key not in index:
            index[key] = len(points)
            points.append(loc)
        return index[key]

    for e in engineers:
        pt(e.start), pt(e.end)
        for lv in e.locked:
            pt(lv.location)
    for j in jobs:
        pt(j.location)
    matrix = travel.matrix(points)

    def secs(a: Location, b: Location) -> timedelta:
        return timedelta(seconds=int(matrix.durations[pt(a), pt(b)]))

    placed = Counter(s.job_id for r in plan.routes for s in r.stops)
    left = Counter(u.job_id for u in plan.unassigned)
    for jid in set(jobs_by_id) | locked_ids:
        if jid in locked_ids and jid not in placed:
            errors.append(f"locked visit {jid} is missing from its route")
        elif jid not in locked_ids and placed[jid] + left[jid] != 1:
            errors.append(f"job {jid} is placed {placed[jid]} time(s) and unassigned {left[jid]} time(s)")
    for jid in set(placed) | set(left):
        if jid not in jobs_by_id and jid not in locked_ids:
            errors.append(f"plan mentions unknown job {jid}")
        elif placed[jid] > 1:
            errors.append(f"job {jid} is placed {placed[jid]} times")

    for route in plan.routes:
        eng = engs.get(route.engineer_id)
        if eng is None:
            errors.append(f"route for unknown engineer {route.engineer_id}")
            continue
        errors += _check_route(route, eng, jobs_by_id, opts, secs)

    errors += _check_reasons(plan, engs, jobs_by_id)
    return errors


def _check_reasons(plan: Plan, engs: dict[str, Engineer], jobs_by_id: dict[str, Job]) -> list[str]:
    errors: list[str] = []
    for u in plan.unassigned:
        job = jobs_by_id.get(u.job_id)
        if job is None:
            continue
        anyone = any(qualified(e, job) for e in engs.values())
        if u.reason is UnassignedReason.NO_QUALIFIED_ENGINEER:
            pinned = engs.get(job.pinned_engineer) if job.pinned_engineer else None
            if anyone and (job.pinned_engineer is None or (pinned is not None and qualified(pinned, job))):
                errors.append(f"job {job.id}: says no qualified engineer, but one is")
        elif not anyone:
            errors.append(f"job {job.id}: reason {u.reason} but nobody is qualified")
    return errors


def _check_route(
    route: Route, eng: Engineer, jobs: dict[str, Job], opts: SolveOptions, travel: Travel
) -> list[str]:
    errs: list[str] = []
    name = f"route {eng.id}"
    locked_free, shift_end = _locked_bounds(eng, travel)
    errs += _check_frame(name, route, eng, shift_end)
    locked = {lv.job_id: lv for lv in eng.locked}
    services: list[tuple[datetime, datetime]] = []
    here, prev_end = eng.start, route.depart
    work = _ZERO
    stock = dict(eng.van_parts)
    for s in route.stops:
        lv = locked.get(s.job_id)
        job = jobs.get(s.job_id)
        loc = lv.location if lv is not None else (job.location if job is not None else None)
        if loc is None:
            continue
        tr = travel(here, loc)
        errs += _check_leg(name, route, s, prev_end, tr)
        if lv is not None:
            if s.start < lv.earliest_start or s.end - s.start != lv.remaining:
                errs.append(f"{name}: locked {s.job_id} timing changed")
            work += tr + lv.remaining
        elif job is not None:
            errs += _check_job(name, s.job_id, s.start, s.end, s.lateness, job, eng, opts)
            work += tr + job.duration
            if opts.parts_mode == "require":
                for sku, q in job.required_parts.items():
                    stock[sku] = stock.get(sku, 0) - q
        services.append((s.start, s.end))
        here, prev_end = loc, s.end
    back = travel(here, eng.end)
    work += back
    if route.return_at < prev_end + back:
        errs.append(f"{name}: returns {route.return_at} before last end + travel {back}")
    if eng.max_work is not None and work > max(eng.max_work, _locked_work(eng, travel)):
        errs.append(f"{name}: works {work} > max {eng.max_work}")
    if any(q < 0 for q in stock.values()):
        errs.append(f"{name}: uses more parts than the van holds: {stock}")
    errs += _check_breaks(name, route, eng, services, locked_free)
    return errs


def _check_frame(name: str, route: Route, eng: Engineer, shift_end: datetime) -> list[str]:
    """The shift bounds the day, and locked visits come first, in their order."""
    errs: list[str] = []
    if route.depart < eng.shift.start:
        errs.append(f"{name}: departs {route.depart} before shift start {eng.shift.start}")
    if route.return_at > shift_end:
        errs.append(f"{name}: returns {route.return_at} after shift end {shift_end}")
    locked_order = [lv.job_id for lv in eng.locked]
    if [s.job_id for s in route.stops[: len(locked_order)]] != locked_order:
        errs.append(f"{name}: locked visits {locked_order} are not first and in order")
    return errs


def _check_leg(name: str, route: Route, s: Stop, prev_end: datetime, tr: timedelta) -> list[str]:
    errs: list[str] = []
    if s.travel_from_previous != tr:
        errs.append(f"{name}: {s.job_id} travel {s.travel_from_previous} != {tr}")
    if s.arrival < prev_end + tr:
        errs.append(f"{name}: {s.job_id} arrives {s.arrival} before {prev_end} + travel {tr}")
    if s.start < s.arrival:
        errs.append(f"{name}: {s.job_id} starts before arriving")
    need = tr + _breaks_within(route, prev_end, s.start)
    if s.start - prev_end < need:
        errs.append(f"{name}: {s.job_id} gap {s.start - prev_end} < travel + breaks {need}")
    return errs


def _locked_bounds(eng: Engineer, travel: Travel) -> tuple[datetime, datetime]:
    """When the locked visits leave the engineer free, and the shift end they may push out."""
    # Committed (locked) work may push the day past the shift end; that much overrun is allowed.
    t, here = eng.shift.start, eng.start
    for lv in eng.locked:
        t = max(t + travel(here, lv.location), lv.earliest_start) + lv.remaining
        here = lv.location
    return (t if eng.locked else eng.shift.start), max(eng.shift.end, t + travel(here, eng.end))


def _check_job(
    name: str,
    jid: str,
    start: datetime,
    end: datetime,
    lateness: timedelta,
    job: Job,
    eng: Engineer,
    opts: SolveOptions,
) -> list[str]:
    errs: list[str] = []
    if not qualified(eng, job):
        errs.append(f"{name}: {jid} needs skills {dict(job.required_skills)}")
    if job.pinned_engineer is not None and job.pinned_engineer != eng.id:
        errs.append(f"{name}: {jid} is pinned to {job.pinned_engineer}")
    if opts.parts_mode == "require" and not has_parts(eng.van_parts, job.required_parts):
        errs.append(f"{name}: {jid} needs parts the van lacks")
    # Durations are rounded up to whole seconds inside the solver.
    if not _ZERO <= end - start - job.duration < timedelta(seconds=1):
        errs.append(f"{name}: {jid} lasts {end - start}, not {job.duration}")
    if job.pinned_start is not None:
        tol = opts.weights.pin_tolerance
        if not job.pinned_start - tol <= start <= job.pinned_start + tol:
            errs.append(f"{name}: {jid} starts {start}, pinned {job.pinned_start} +/- {tol}")
    elif job.windows and not any(w.start <= start <= w.end for w in job.windows):
        errs.append(f"{name}: {jid} starts {start} outside its windows")
    expected = max(_ZERO, start - job.respond_by) if job.respond_by is not None else _ZERO
    if abs(lateness - expected) >= timedelta(seconds=1):
        errs.append(f"{name}: {jid} lateness {lateness} != {expected}")
    return errs


def _breaks_within(route: Route, a: datetime, b: datetime) -> timedelta:
    return sum((br.end - br.start for br in route.breaks if a <= br.start and br.end <= b), _ZERO)


def _check_breaks(
    name: str,
    route: Route,
    eng: Engineer,
    services: list[tuple[datetime, datetime]],
    locked_free: datetime,
) -> list[str]:
    errs: list[str] = []
    taken = sorted(route.breaks, key=lambda b: b.start)
    # Breaks that could not follow the locked visits are dropped by design (missed or taken).
    due = [
        b
        for b in sorted(eng.breaks, key=lambda b: b.earliest_start)
        if b.latest_end - b.duration >= max(b.earliest_start, locked_free)
    ]
    if len(taken) != len(due):
        errs.append(f"{name}: {len(taken)} breaks taken, {len(due)} required")
        return errs
    for br, spec in zip(taken, due, strict=True):
        if br.start < spec.earliest_start or br.end > spec.latest_end or br.end - br.start < spec.duration:
            errs.append(f"{name}: break {br.start}-{br.end} outside {spec.earliest_start}-{spec.latest_end}")
        if any(s < br.end and br.start < e for s, e in services):
            errs.append(f"{name}: break {br.start}-{br.end} overlaps a visit")
    return errs


def _locked_work(eng: Engineer, travel: Travel) -> timedelta:
    here, work = eng.start, _ZERO
    for lv in eng.locked:
        work += travel(here, lv.location) + lv.remaining
        here = lv.location
    return work + travel(here, eng.end)
