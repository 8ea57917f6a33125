"""Public input and output of the dispatch solver: plain frozen data, no behaviour beyond validation.

Time rules used throughout (and checked by `dispatch.validate`):
- A job's windows bound the *start* of service (the appointment slot is an arrival slot).
- An engineer leaves the start location no earlier than the shift start and must be back at the
  end location by the shift end.
- A break is taken between two visits (on the road or while waiting), before the first visit or
  after the last one; never during a visit. It starts at or after `earliest_start` and ends by
  `latest_end`.
- `max_work` bounds travel + service time (waiting and breaks do not count).
- `respond_by` is compared with the start of service; being later costs `lateness_per_minute`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Literal

PartsMode = Literal["require", "prefer", "ignore"]


def _aware(*values: datetime | None) -> None:
    for v in values:
        if v is not None and v.utcoffset() is None:
            raise ValueError(f"datetime {v!r} must be timezone-aware")


@dataclass(frozen=True, slots=True)
class Location:
    lat: float
    lon: float


@dataclass(frozen=True, slots=True)
class TimeWindow:
    start: datetime
    end: datetime

    def __post_init__(self) -> None:
        _aware(self.start, self.end)
        if self.end < self.start:
            raise ValueError(f"time window ends before it starts: {self.start} > {self.end}")


@dataclass(frozen=True, slots=True)
class Break:
    earliest_start: datetime
    latest_end: datetime
    duration: timedelta

    def __post_init__(self) -> None:
        _aware(self.earliest_start, self.latest_end)
        if self.duration < timedelta(0) or self.earliest_start + self.duration > self.latest_end:
            raise ValueError("break does not fit between its earliest start and latest end")


@dataclass(frozen=True, slots=True)
class LockedVisit:
    """A visit under way or frozen by the dispatcher: stays first in its engineer's route, in order."""

    job_id: str
    location: Location
    remaining: timedelta  # service time still to do
    earliest_start: datetime  # e.g. now for an engineer on site, the ETA for one en route

    def __post_init__(self) -> None:
        _aware(self.earliest_start)


@dataclass(frozen=True, slots=True)
class Engineer:
    id: str
    skills: Mapping[str, int]  # skill -> level 1..5
    shift: TimeWindow
    start: Location
    end: Location
    breaks: tuple[Break, ...] = ()
    max_work: timedelta | None = None  # travel + service
    van_parts: Mapping[str, int] = field(default_factory=dict)  # SKU -> quantity on board
    locked: tuple[LockedVisit, ...] = ()


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    location: Location
    duration: timedelta
    required_skills: Mapping[str, int] = field(default_factory=dict)  # skill -> minimum level
    windows: tuple[TimeWindow, ...] = ()  # hard; empty = any time in the shift
    priority: int = 3  # 1 = most urgent ... 4
    respond_by: datetime | None = None  # SLA: soft deadline for the start of service
    required_parts: Mapping[str, int] = field(default_factory=dict)
    pinned_engineer: str | None = None
    pinned_start: datetime | None = None  # start within +/- Weights.pin_tolerance; replaces windows

    def __post_init__(self) -> None:
        _aware(self.respond_by, self.pinned_start)
        if not 1 <= self.priority <= 4:
            raise ValueError(f"job {self.id}: priority must be 1..4")
        if self.duration < timedelta(0):
            raise ValueError(f"job {self.id}: negative duration")


def _default_drop_penalty() -> Mapping[int, int]:
    # In cost units (1 unit = 1 minute of travel at the default weight). P1 >> P4, and even P4
    # is worth ~2 days of driving, so the solver never drops work just to save travel.
    return {1: 10_000_000, 2: 1_000_000, 3: 100_000, 4: 20_000}


@dataclass(frozen=True, slots=True)
class Weights:
    """Objective weights in abstract cost units; integers because the solver works in integers."""

    travel_per_minute: int = 1
    lateness_per_minute: int = 50  # steep: an hour late costs as much as 50 hours' driving
    drop_penalty: Mapping[int, int] = field(default_factory=_default_drop_penalty)
    # Cost per minute of an engineer's work (travel + service) above a fair share of the total;
    # 0 turns balancing off.
    balance_per_minute: int = 1
    change_penalty: int = 30  # per job that moves to another engineer than in previous_plan
    missing_part_penalty: int = 500  # per missing unit, parts_mode="prefer"
    pin_tolerance: timedelta = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class SolveOptions:
    weights: Weights = field(default_factory=Weights)
    parts_mode: PartsMode = "require"
    time_limit: timedelta = timedelta(seconds=10)
    previous_plan: Mapping[str, Sequence[str]] | None = None  # engineer id -> job ids in order
    max_moved: int | None = None  # jobs that may change engineer vs previous_plan
    explain: bool = True
    # Stop after this many improving solutions instead of by wall clock: with it (and the same
    # input) the plan is reproducible; with only a time limit, how far the search got varies.
    solution_limit: int | None = None


class UnassignedReason(StrEnum):
    NO_QUALIFIED_ENGINEER = "no_qualified_engineer"
    NO_CAPACITY = "no_capacity"
    WINDOW_UNREACHABLE = "window_unreachable"
    PART_UNAVAILABLE = "part_unavailable"


@dataclass(frozen=True, slots=True)
class Stop:
    job_id: str
    arrival: datetime  # ETA at the site
    start: datetime  # service start (after waiting for the window or a break)
    end: datetime
    travel_from_previous: timedelta
    distance_from_previous_m: int
    lateness: timedelta  # past respond_by, zero if none
    locked: bool = False


@dataclass(frozen=True, slots=True)
class BreakTaken:
    start: datetime
    end: datetime


@dataclass(frozen=True, slots=True)
class Route:
    engineer_id: str
    stops: tuple[Stop, ...]
    depart: datetime
    return_at: datetime
    travel_time: timedelta
    travel_km: float
    idle_time: timedelta  # waiting, not counting breaks
    work_time: timedelta  # service time
    breaks: tuple[BreakTaken, ...] = ()


@dataclass(frozen=True, slots=True)
class Unassigned:
    job_id: str
    reason: UnassignedReason
    detail: str


@dataclass(frozen=True, slots=True)
class Explanation:
    job_id: str
    engineer_id: str
    skills_matched: Mapping[str, tuple[int, int]]  # skill -> (required level, engineer's level)
    travel_time: timedelta  # from the previous stop
    lateness: timedelta
    next_best_engineer: str | None  # None: no other engineer could take it
    next_best_extra_cost: float | None  # objective increase if moved there (cost units)
    note: str


@dataclass(frozen=True, slots=True)
class Plan:
    routes: tuple[Route, ...]
    unassigned: tuple[Unassigned, ...]
    explanations: Mapping[str, Explanation]
    objective: float  # cost units, same scale as Weights
    status: str  # solver status, or "greedy" when no solver ran
    used_fallback: bool  # True when the solver found nothing and this is the greedy plan
    first_solution_seconds: float | None
    solve_seconds: float
    moved_jobs: tuple[str, ...] = ()  # jobs now on another engineer than in previous_plan

    def route_of(self, engineer_id: str) -> Route | None:
        return next((r for r in self.routes if r.engineer_id == engineer_id), None)
