"""When does a consumable run out? Plain Python over readings; no I/O.

Counters are lifetime counters (run hours, labels printed): they only grow, from 0 at installation. A
reading lower than the one before means the meter was reset (a controller swap): counting carries on from
the new value, so usage is the sum of the increases (the "odometer").

- usage: used = odometer(last reading) − odometer(at the last replacement), the latter interpolated
  between readings (before the first reading it is extrapolated back at the current rate, never below 0;
  with no replacement on record the consumable is the original one, fitted at 0). The rate of use is the
  Theil–Sen slope (the median of pairwise slopes: one odd reading cannot swing it) of the odometer over
  the readings of the last `RATE_WINDOW`, or the last two readings when that window holds fewer than two.
  Run-out = last reading + (capacity − used) ÷ rate; in the past when it is used up already.
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
DAY_S = 86_400.0


@dataclass(frozen=True, slots=True)
class Reading:
    at: datetime
    value: float


@dataclass(frozen=True, slots=True)
class Prediction:
    run_out_at: datetime | None
    basis: dict[str, Any] = field(default_factory=dict)


def odometer(readings: Sequence[Reading]) -> list[tuple[datetime, float]]:
    """Cumulative use at each reading (sorted by time; a drop is a meter reset, not negative use)."""
    out: list[tuple[datetime, float]] = []
    total, previous = 0.0, None
    for r in sorted(readings, key=lambda r: r.at):
        if previous is None:
            total = max(r.value, 0.0)
        else:
            total += r.value - previous if r.value >= previous else max(r.value, 0.0)
        previous = r.value
        out.append((r.at, total))
    return out


def theil_sen(points: Sequence[tuple[datetime, float]]) -> float | None:
    """Units per day: the median slope over all pairs of points at different instants."""
    slopes = [
        (b[1] - a[1]) / ((b[0] - a[0]).total_seconds() / DAY_S)
        for i, a in enumerate(points)
        for b in points[i + 1 :]
        if b[0] > a[0]
    ]
    return median(slopes) if slopes else None


def rate_of_use(odo: Sequence[tuple[datetime, float]]) -> float | None:
    if len(odo) < 2:
        return None
    recent = [p for p in odo if p[0] >= odo[-1][0] - RATE_WINDOW]
    return theil_sen(recent if len(recent) >= 2 else odo[-2:])


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
    rate = rate_of_use(odo)
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
