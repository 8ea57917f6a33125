"""Hypothesis strategies for small, tight field days: the optimizer property tests draw from here."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from hypothesis import strategies as st

from dispatch.optimizer import (
    Break,
    Engineer,
    Job,
    Location,
    LockedVisit,
    SolveOptions,
    TimeWindow,
)

DAY = datetime(2026, 11, 24, 0, 0, tzinfo=UTC)  # 08:00 in Shanghai
SKILLS = ("hvac", "lift")
SKUS = ("F-1", "V-2")


def at(minutes: int) -> datetime:
    return DAY + timedelta(minutes=minutes)


@dataclass(frozen=True)
class Day:
    engineers: tuple[Engineer, ...]
    jobs: tuple[Job, ...]


locations = st.builds(
    Location,
    lat=st.floats(31.15, 31.30).map(lambda v: round(v, 4)),
    lon=st.floats(121.40, 121.55).map(lambda v: round(v, 4)),
)


@st.composite
def engineers(draw: st.DrawFn, index: int) -> Engineer:
    start = draw(st.sampled_from([0, 30, 60]))
    length = draw(st.sampled_from([240, 360, 480]))
    home = draw(locations)
    skills = {s: lvl for s in SKILLS if (lvl := draw(st.integers(0, 4)))}
    breaks: tuple[Break, ...] = ()
    if draw(st.booleans()):
        breaks = (Break(at(start + 120), at(start + length - 30), timedelta(minutes=30)),)
    locked: tuple[LockedVisit, ...] = ()
    if draw(st.booleans()):
        locked = (
            LockedVisit(
                job_id=f"L{index}",
                location=draw(locations),
                remaining=timedelta(minutes=draw(st.sampled_from([10, 30]))),
                earliest_start=at(start + draw(st.sampled_from([0, 20]))),
            ),
        )
    return Engineer(
        id=f"E{index}",
        skills=skills,
        shift=TimeWindow(at(start), at(start + length)),
        start=home,
        end=home,
        breaks=breaks,
        max_work=timedelta(minutes=length - 60) if draw(st.booleans()) else None,
        van_parts={sku: draw(st.integers(0, 2)) for sku in SKUS},
        locked=locked,
    )


@st.composite
def jobs(draw: st.DrawFn, index: int, engineer_ids: list[str]) -> Job:
    windows: tuple[TimeWindow, ...] = ()
    kind = draw(st.sampled_from(["any", "window", "two"]))
    if kind == "window":
        s = draw(st.integers(0, 420))
        windows = (TimeWindow(at(s), at(s + draw(st.sampled_from([30, 120])))),)
    elif kind == "two":
        windows = (TimeWindow(at(30), at(90)), TimeWindow(at(300), at(360)))
    pin_engineer = draw(st.sampled_from([None, None, None, *engineer_ids]))
    pin_start = at(draw(st.integers(60, 400))) if draw(st.integers(0, 7)) == 0 else None
    return Job(
        id=f"J{index}",
        location=draw(locations),
        duration=timedelta(minutes=draw(st.sampled_from([15, 30, 60, 90]))),
        required_skills={
            s: draw(st.integers(1, 4)) for s in draw(st.sets(st.sampled_from(SKILLS), max_size=2))
        },
        windows=windows,
        priority=draw(st.integers(1, 4)),
        respond_by=at(draw(st.integers(30, 480))) if draw(st.booleans()) else None,
        required_parts={draw(st.sampled_from(SKUS)): 1} if draw(st.integers(0, 4)) == 0 else {},
        pinned_engineer=pin_engineer,
        pinned_start=pin_start,
    )


@st.composite
def days(draw: st.DrawFn, max_engineers: int = 4, max_jobs: int = 12) -> Day:
    n = draw(st.integers(1, max_engineers))
    engs = tuple(draw(engineers(i)) for i in range(n))
    ids = [e.id for e in engs]
    js = tuple(draw(jobs(k, ids)) for k in range(draw(st.integers(0, max_jobs))))
    return Day(engs, js)


def quick(**kw: object) -> SolveOptions:
    """Short, reproducible searches: a solution limit rather than the wall clock decides when to stop."""
    base: dict[str, object] = {"time_limit": timedelta(seconds=2), "solution_limit": 60}
    base.update(kw)
    return SolveOptions(**base)  # type: ignore[arg-type]
