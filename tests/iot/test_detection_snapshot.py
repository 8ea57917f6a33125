"""Snapshot and restore: a detector that stops and resumes says exactly what one that never stopped says."""

from __future__ import annotations

import math
import random
from datetime import timedelta

import msgspec
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from iot.detection import (
    SNAPSHOT_VERSION,
    AssetDetector,
    MetricDetector,
    Signal,
    SnapshotError,
    decode_profile,
)
from tests.iot.test_detection_support import T0, feed, kinds

# Short windows so that every rule has state worth losing within a few hundred samples.
PROFILE = decode_profile(
    {
        "lead_time": "PT2H",
        "offline_grace": "PT5M",
        "evidence_points": 20,
        "metrics": {
            "a": {
                "threshold": [
                    {"op": "above", "limit": 60, "hysteresis": 5, "min_duration": "PT2M"},
                    {
                        "op": "below",
                        "limit": 0,
                        "hysteresis": 5,
                        "clear_duration": "PT1M",
                        "alarm_type": "low:a",
                    },
                ],
                "rate_of_change": {"max_per_minute": 3, "window": "PT5M", "min_duration": "PT30S"},
                "anomaly": {"window": 31, "warmup": 10, "z": 5, "clear_z": 2.5, "min_scale": 0.1},
                "trend": {"op": "above", "limit": 60, "window": "PT1H", "points": 12, "min_points": 8},
            },
            "b": {
                "threshold": [{"op": "below", "limit": 10, "hysteresis": 1}],
                "anomaly": {"window": 15, "warmup": 5, "z": 4, "clear_z": 2, "min_count": 1},
                "trend": {"op": "below", "limit": 0, "window": "PT30M", "points": 10, "min_points": 6},
            },
        },
    }
)


@st.composite
def streams(draw: st.DrawFn) -> list[tuple[float, dict[str, float]]]:
    """Irregular, messy telemetry: regimes of noise, ramps, steps and bursts, with gaps, duplicates,
    stragglers and NaNs — whatever order the broker delivers."""
    rng = random.Random(draw(st.integers(0, 2**32 - 1)))
    n = draw(st.integers(50, 600))
    t, a, b = 0.0, 20.0, 30.0
    out: list[tuple[float, dict[str, float]]] = []
    for _ in range(n):
        roll = rng.random()
        if roll < 0.03:
            a += rng.choice((-30, 30, 45))  # a step
        elif roll < 0.06:
            b -= rng.uniform(0, 10)
        a += rng.choice((0.0, 0.0, 0.2, -0.1))  # a drifting regime
        b += rng.choice((0.0, 0.05, -0.15))
        spike = 40.0 if rng.random() < 0.02 else 0.0
        t += rng.choice((10.0, 10.0, 15.0, 30.0, 0.0, -20.0, 600.0))  # duplicates, stragglers, gaps
        metrics = {"a": a + spike + rng.gauss(0, 1), "b": b + rng.gauss(0, 0.5)}
        if rng.random() < 0.01:
            metrics["a"] = math.nan
        out.append((t, metrics))
    return out


def run(
    asset: AssetDetector, stream: list[tuple[float, dict[str, float]]], lo: int = 0, hi: int | None = None
) -> list[Signal]:
    """Feed stream[lo:hi]; before each message, check offline against the message before it (so a
    10-minute gap is past the grace)."""
    out: list[Signal] = []
    for i in range(lo, len(stream) if hi is None else hi):
        t, metrics = stream[i]
        last_seen = stream[i - 1][0] if i else t
        out += asset.check_offline(T0 + timedelta(seconds=t), T0 + timedelta(seconds=last_seen))
        out += asset.observe(T0 + timedelta(seconds=t), metrics)
    return out


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(stream=streams(), cut=st.floats(0, 1))
def test_restore_then_continue_equals_never_stopping(
    stream: list[tuple[float, dict[str, float]]], cut: float
) -> None:
    whole = AssetDetector(PROFILE)
    expected = run(whole, stream)

    k = int(cut * len(stream))
    first = AssetDetector(PROFILE)
    before = run(first, stream, 0, k)
    blob = first.snapshot()
    second = AssetDetector(PROFILE)  # a new worker process
    second.restore(blob)
    after = run(second, stream, k)

    assert before + after == expected
    assert second.snapshot() == whole.snapshot()


@settings(max_examples=30, deadline=None)
@given(stream=streams(), cut=st.floats(0, 1))
def test_metric_snapshots_restore_per_metric(
    stream: list[tuple[float, dict[str, float]]], cut: float
) -> None:
    """The worker may persist one snapshot per (asset, metric): the same guarantee holds per metric."""
    values = [(t, m["a"]) for t, m in stream]
    whole = MetricDetector(PROFILE, "a")
    expected = [s for t, v in values for s in whole.observe(T0 + timedelta(seconds=t), v)]
    k = int(cut * len(values))
    first = MetricDetector(PROFILE, "a")
    got = [s for t, v in values[:k] for s in first.observe(T0 + timedelta(seconds=t), v)]
    second = MetricDetector(PROFILE, "a")
    second.restore(first.snapshot())
    got += [s for t, v in values[k:] for s in second.observe(T0 + timedelta(seconds=t), v)]
    assert got == expected


def test_snapshot_carries_a_version_and_refuses_others() -> None:
    det = MetricDetector(PROFILE, "a")
    feed(det, [20.0] * 50)
    raw = msgspec.msgpack.decode(det.snapshot())
    assert raw["version"] == SNAPSHOT_VERSION
    raw["version"] = SNAPSHOT_VERSION + 1
    with pytest.raises(SnapshotError, match="version"):
        det.restore(msgspec.msgpack.encode(raw))
    with pytest.raises(SnapshotError):
        det.restore(b"\x00garbage")
    with pytest.raises(SnapshotError, match="metric"):
        MetricDetector(PROFILE, "b").restore(det.snapshot())


def test_restore_replaces_state_entirely() -> None:
    used = MetricDetector(PROFILE, "a")
    feed(used, [100.0] * 20)  # raised
    fresh_blob = MetricDetector(PROFILE, "a").snapshot()
    used.restore(fresh_blob)
    assert used.active == []


def test_a_changed_rule_keeps_its_alarm_so_it_can_still_clear() -> None:
    old = decode_profile({"metrics": {"t": {"threshold": [{"op": "above", "limit": 100, "hysteresis": 5}]}}})
    new = decode_profile({"metrics": {"t": {"threshold": [{"op": "above", "limit": 120, "hysteresis": 5}]}}})
    det = MetricDetector(old, "t")
    assert kinds(feed(det, [90, 110])) == ["raise"]
    moved = MetricDetector(new, "t")
    moved.restore(det.snapshot())
    assert moved.active == ["threshold:t"]
    later = T0 + timedelta(hours=1)
    assert kinds(feed(moved, [112, 116, 114], start=later)) == ["clear"]  # <= 120 - 5 under the new rule


def test_duplicates_after_restore_are_still_ignored() -> None:
    det = MetricDetector(PROFILE, "b")
    feed(det, [30.0] * 10)
    again = MetricDetector(PROFILE, "b")
    again.restore(det.snapshot())
    assert again.observe(T0 + timedelta(minutes=9), 0.0) == []  # the last accepted timestamp
    assert again.observe(T0, 0.0) == []
    assert kinds([(0, s) for s in again.observe(T0 + timedelta(minutes=10), 0.0)], "threshold:b") == ["raise"]


def test_asset_snapshot_keeps_the_offline_alarm() -> None:
    asset = AssetDetector(PROFILE)
    assert kinds([(0, s) for s in asset.check_offline(T0 + timedelta(hours=1), T0)]) == ["raise"]
    again = AssetDetector(PROFILE)
    again.restore(asset.snapshot())
    assert again.check_offline(T0 + timedelta(hours=2), T0) == []  # not raised twice
    assert kinds([(0, s) for s in again.check_offline(T0 + timedelta(hours=2), T0 + timedelta(hours=2))]) == [
        "clear"
    ]
