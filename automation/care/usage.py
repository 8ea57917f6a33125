"""Where counter readings come from: meter readings stored as data, and telemetry through a registered source.

Automation may not import the IoT feature, and copying telemetry (one row every few seconds per device)
into a table of our own would double the biggest table for a few points a week. So the composition root
registers a `CounterSource` (`fieldops/commands/automation.py` reads the IoT telemetry table): asked for
the counter's value as of a handful of instants, it answers with a few indexed look-ups. Readings that
arrive as data (a meter read on a visit, a customer's export) go into `care_readings`; a consumable's
history is the union of both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime, timedelta

import sqlalchemy as sa
from sqlalchemy.orm import Session

from automation.care.models import UsageReading
from automation.care.runout import Reading

# (session, asset id, counter name, instants) → for each instant, the last reading at or before it (if any).
CounterSource = Callable[[Session, int, str, Sequence[datetime]], list[Reading]]

_sources: dict[str, CounterSource] = {}

# How far back a prediction looks, and how many instants it samples from telemetry.
LOOK_BACK = timedelta(days=400)
SAMPLES = 16


def register(name: str, source: CounterSource) -> None:
    """Called by the composition root when it wires the features; registering again replaces it."""
    _sources[name] = source


def unregister(name: str) -> None:
    _sources.pop(name, None)


def sample_instants(now: datetime, since: datetime | None) -> list[datetime]:
    """Where to sample a counter: at the last replacement (the start of this consumable's use), then evenly
    over the rate window up to now."""
    start = max(since, now - LOOK_BACK) if since is not None else now - timedelta(days=60)
    window = min(now - start, timedelta(days=60))
    step = window / (SAMPLES - 1)
    points = [now - step * i for i in range(SAMPLES)]
    if since is not None and since >= now - LOOK_BACK:
        points.append(since)
    return sorted(set(points))


def readings(
    session: Session, asset_id: int, counter: str, now: datetime, since: datetime | None
) -> list[Reading]:
    """Every reading of `asset_id`'s `counter` we know of up to `now`: stored ones and telemetry samples."""
    stored = session.execute(
        sa.select(UsageReading.at, UsageReading.value)
        .where(
            UsageReading.asset_id == asset_id,
            UsageReading.counter == counter,
            UsageReading.at <= now,
            UsageReading.at >= now - LOOK_BACK,
        )
        .order_by(UsageReading.at)
    ).all()
    out = {at: Reading(at, value) for at, value in stored}
    if _sources:
        instants = sample_instants(now, since)
        for source in _sources.values():
            for r in source(session, asset_id, counter, instants):
                out.setdefault(r.at, r)
    return sorted(out.values(), key=lambda r: r.at)
