"""Helpers shared by the detection tests (a module, not a conftest, so it stays out of the way)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from typing import Any

from iot.detection import MetricDetector, Profile, Signal, decode_profile

T0 = datetime(2026, 3, 1, tzinfo=UTC)


def profile_of(metric: str, lead_time: str = "P2D", **rules: Any) -> Profile:
    return decode_profile({"lead_time": lead_time, "metrics": {metric: rules}})


def detector(metric: str = "m", lead_time: str = "P2D", **rules: Any) -> MetricDetector:
    return MetricDetector(profile_of(metric, lead_time, **rules), metric)


def feed(
    det: MetricDetector, values: Iterable[float], step_s: float = 60.0, start: datetime = T0
) -> list[tuple[int, Signal]]:
    """Samples `step_s` apart from `start`; returns (sample index, signal) for every signal emitted."""
    out: list[tuple[int, Signal]] = []
    for i, value in enumerate(values):
        out.extend((i, s) for s in det.observe(start + timedelta(seconds=i * step_s), value))
    return out


def kinds(signals: list[tuple[int, Signal]], alarm_type: str | None = None) -> list[str]:
    return [s.kind for _, s in signals if alarm_type is None or s.alarm_type == alarm_type]


def test_helpers_feed_in_order() -> None:
    det = detector(threshold=[{"op": "above", "limit": 1}])
    assert feed(det, [0, 2, 0])[0][0] == 1
