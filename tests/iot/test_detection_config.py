"""Profiles as data: the examples load, defaults are filled in, and a bad profile names its bad field."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

import msgspec
import pytest

from iot.detection import AssetDetector, Profile, ProfileError, decode_profile
from iot.detection.profiles import EXAMPLE_PROFILES


@pytest.mark.parametrize("name", sorted(EXAMPLE_PROFILES))
def test_example_profiles_load_from_json(name: str) -> None:
    doc = EXAMPLE_PROFILES[name]
    profile = decode_profile(json.dumps(doc))  # JSON-able, as stored with the asset model
    assert profile == decode_profile(doc)
    assert profile.metrics
    AssetDetector(profile)  # and build
    # A profile survives its own encoding (what an API would echo back).
    assert decode_profile(msgspec.json.encode(profile)) == profile


def test_required_metrics_of_the_examples() -> None:
    assert set(EXAMPLE_PROFILES["chiller"]["metrics"]) == {"discharge_temp_c", "vibration_mm_s", "current_a"}
    assert {"door_cycles", "motor_temp_c"} <= set(EXAMPLE_PROFILES["lift"]["metrics"])


def test_empty_profile_watches_nothing() -> None:
    profile = decode_profile({})
    assert profile.metrics == {} and profile.lead_time == timedelta(days=2)
    assert AssetDetector(profile).metrics == {}


def test_defaults_are_filled_in() -> None:
    profile = decode_profile(
        {
            "metrics": {
                "m": {
                    "threshold": [{"op": "above", "limit": 1}],
                    "rate_of_change": {"max_per_minute": 1},
                    "anomaly": {},
                    "trend": {"op": "above", "limit": 2, "points": 40},
                }
            },
            "fault_codes": {"E1": {}},
        }
    )
    m = profile.metrics["m"]
    assert [r.alarm_type for r in m.rules()] == ["threshold:m", "rate:m", "anomaly:m", "trend:m"]
    assert m.trend is not None and m.trend.min_points == 30
    assert profile.fault_codes["E1"].alarm_type == "fault:E1"
    assert profile.lead_time_for(m.trend) == profile.lead_time


def bad(doc: Any) -> str:
    with pytest.raises(ProfileError) as info:
        decode_profile(doc)
    return str(info.value)


def metric(**rules: Any) -> dict[str, Any]:
    return {"metrics": {"discharge_temp_c": rules}}


@pytest.mark.parametrize(
    ("doc", "expected"),
    [
        (
            metric(threshold=[{"op": "above", "limit": 1, "hysteresis": -1}]),
            "`$.metrics.discharge_temp_c.threshold[0].hysteresis`",
        ),
        (metric(threshold=[{"op": "over", "limit": 1}]), "`$.metrics.discharge_temp_c.threshold[0].op`"),
        (metric(threshold=[{"op": "above"}]), "missing required field `limit`"),
        (metric(threshold=[{"op": "above", "limit": float("nan")}]), "`limit` must be a finite number"),
        (metric(threshold=[{"op": "above", "limit": 1, "min_duration": "-PT1M"}]), "`min_duration`"),
        (metric(threshold=[{"op": "above", "limit": 1, "min_duration": 60}]), "Expected `duration`"),
        (
            metric(rate_of_change={"max_per_minute": 0}),
            "`$.metrics.discharge_temp_c.rate_of_change.max_per_minute`",
        ),
        (metric(anomaly={"window": 21, "warmup": 30}), "`warmup` (30) must not exceed `window` (21)"),
        (metric(anomaly={"z": 3, "clear_z": 4}), "`clear_z`"),
        (metric(trend={"op": "above", "limit": 1, "points": 10, "min_points": 11}), "`min_points`"),
        (metric(trend={"op": "above", "limit": 1, "window": "PT0S"}), "`window` must be positive"),
        (metric(tresholds=[]), "unknown field `tresholds` - at `$.metrics.discharge_temp_c`"),
        ({"fault_codes": {"E9": {"severity": "dire"}}}, "`$.fault_codes.E9.severity`"),
        ({"lead_time": "PT0S"}, "`lead_time` must be positive"),
        ({"offline_grace": "soon"}, "`$.offline_grace`"),
        ({"metrics": {"": {}}}, "`$.metrics`"),
        ([], "must be an object"),
        (b"{not json", "not valid JSON"),
        (
            metric(threshold=[{"op": "above", "limit": 1}, {"op": "above", "limit": 2}]),
            "alarm_type 'threshold:discharge_temp_c' of metrics.discharge_temp_c.threshold[1] is also raised",
        ),
        ({"metrics": {"offline": {"anomaly": {"alarm_type": "offline"}}}}, "'offline'"),
    ],
)
def test_bad_profiles_name_the_field(doc: Any, expected: str) -> None:
    assert expected in bad(doc)


def test_profile_error_is_a_value_error() -> None:
    assert issubclass(ProfileError, ValueError)
    assert isinstance(decode_profile(b"{}"), Profile)
