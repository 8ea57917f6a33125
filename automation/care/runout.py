"""When does a consumable run out? Plain Python over readings; no I/O.

Counters are lifetime counters (run hours, labels printed): they only grow, from 0 at installation. A
reading lower than the one before means the meter was reset (a controller swap): counting carries on from
the new value, so usage is the sum of the increases (the "odometer").

- rate of use: the median of the per-day rates between consecutive readings of the last `RATE_WINDOW`
  (the last two readings when it holds fewer than two): a misread meter spoils two intervals, not the
  median. With four intervals or more, no interval counts more than `SPIKE` × that median in the
  odometer either, so a misread (up, then "reset" back down) adds a bounded amount, not its whole jump.
- usage: used = odometer(last reading) − odometer(at the last replacement), the latter interpolated
  between readings (before the first reading it is extrapolated back at the rate, never below 0; with no
  replacement on record the consumable is the original one, fitted at 0).
  Run-out = last reading + (capacity − used) ÷ rate; the crossing, in the past, when it is used up.
- cycle: run-out = the last replacement (else the installation) + the cycle.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from itertools import pairwise
from statistics import median
from typing import Any

RATE_WINDOW = timedelta(days=60)
SPIKE = 10.0
DAY_S = 86_400.0


@dataclass(frozen=True, slots=True)
class Reading:
    at: datetime
    value: float


@dataclass(frozen=True, slots=True)
class Prediction:
    run_out_at: datetime | None
    basis: dict[str, Any] = field(default_factory=dict)


def _steps(readings: Sequence[Reading]) -> list[tuple[datetime, datetime, float]]:
    """(from, to, units used) between consecutive readings, sorted; a drop is a reset, not negative use."""
    ordered = sorted(readings, key=lambda r: r.at)
    return [
        (a.at, b.at, b.value - a.value if b.value >= a.value else max(b.value, 0.0))
        for a, b in pairwise(ordered)
        if b.at > a.at
    ]


def _median_rate(steps: Sequence[tuple[datetime, datetime, float]]) -> float | None:
    rates = [used / ((b - a).total_seconds() / DAY_S) for a, b, used in steps]
    return median(rates) if rates else None


def rate_of_use(readings: Sequence[Reading]) -> float | None:
    """Units per day: the median rate between consecutive readings of the recent window."""
    steps = _steps(readings)
    if not steps:
        return None
    recent = [st for st in steps if st[0] >= steps[-1][1] - RATE_WINDOW]
    return _median_rate(recent if recent else steps[-1:])


def odometer(readings: Sequence[Reading]) -> list[tuple[datetime, float]]:
    """Cumulative use at each reading (sorted by time; resets carry on, spikes are capped)."""
    ordered = sorted(readings, key=lambda r: r.at)
    if not ordered:
        return []
    steps = _steps(ordered)
    typical = _median_rate(steps) if len(steps) >= 4 else None
    total = max(ordered[0].value, 0.0)
    out = [(ordered[0].at, total)]
    for a, b, used in steps:
        capped = used
        if typical is not None and typical > 0:
            capped = min(used, SPIKE * typical * (b - a).total_seconds() / DAY_S)
        total += capped
        out.append((b, total))
    return out


def odometer_at(odo: Sequence[tuple[datetime, float]], at: datetime, rate: float) -> float:
    """Cumulative use at any instant: interpolated inside the readings, extrapolated at `rate` outside."""
    first_at, first = odo[0]
    if at <= first_at:
        return max(first - rate * (first_at - at).total_seconds() / DAY_S, 0.0)
    for (t0, v0), (t1, v1) in pairwise(odo):
        if t0 <= at <= t1:
            span = (t1 - t0).total_seconds()
            return v0 + (v1 - v0) * ((at - t0).total_seconds() / span if span else 1.0)
    last_at, last = odo[-1]
    return last + rate * (at - last_at).total_seconds() / DAY_S


def by_usage(capacity: float, readings: Sequence[Reading], replaced_at: datetime | None) -> Prediction:
    odo = odometer(readings)
    rate = rate_of_use(readings)
    basis: dict[str, Any] = {"method": "usage", "capacity": capacity, "readings": len(odo)}
    if rate is None:
        return Prediction(None, {**basis, "why": "fewer than two readings of the counter"})
    basis["rate_per_day"] = round(rate, 3)
    start = odometer_at(odo, replaced_at, rate) if replaced_at is not None else 0.0
    last_at, last = odo[-1]
    used = last - start
    basis.update(used=round(used, 3), since=replaced_at.isoformat() if replaced_at else "installation")
    basis["last_reading_at"] = last_at.isoformat()
    if used >= capacity:
        # Used up already: when it crossed the capacity (between readings, or at the last one).
        crossed = next((t for t, v in odo if v - start >= capacity), last_at)
        return Prediction(crossed, basis)
    if rate <= 0:
        return Prediction(None, {**basis, "why": "not in use (the counter has not moved)"})
    return Prediction(last_at + timedelta(days=(capacity - used) / rate), basis)


def by_cycle(cycle_days: int, replaced_at: datetime | None, installed_at: datetime | None) -> Prediction:
    start = replaced_at or installed_at
    basis: dict[str, Any] = {"method": "cycle", "cycle_days": cycle_days}
    if start is None:
        return Prediction(None, {**basis, "why": "no replacement on record and no installation date"})
    basis["since"] = start.isoformat()
    basis["from"] = "replacement" if replaced_at is not None else "installation"
    return Prediction(start + timedelta(days=cycle_days), basis)
