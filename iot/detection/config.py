"""Detection profiles: what to watch on one asset model, as data (msgspec Structs validated on decode).

A profile is a JSON document stored with the asset model. `decode_profile` turns it into typed rules and
refuses a bad one with a `ProfileError` whose message names the offending field, e.g.
``Expected `float` >= 0.0 - at `$.metrics.discharge_temp_c.threshold[0].hysteresis` ``.

Durations are ISO 8601 strings ("PT5M", "PT12H", "P2D"), the form msgspec encodes `timedelta` as.
Alarm types default to ``threshold:<metric>``, ``rate:<metric>``, ``anomaly:<metric>`` and
``trend:<metric>``; they must be unique within a profile because there is at most one open alarm per
(asset, alarm type).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import timedelta
from typing import Annotated, Any, Literal

import msgspec
from msgspec import Meta

# Same words as `iot.contract.Severity`, kept as a Literal so this package imports nothing from the app.
Severity = Literal["info", "warning", "minor", "major", "critical"]
Direction = Literal["above", "below"]

_ZERO = timedelta(0)
MetricName = Annotated[str, Meta(min_length=1, max_length=64)]
AlarmType = Annotated[str, Meta(min_length=1, max_length=96)]


class ProfileError(ValueError):
    """A detection profile that cannot be used; the message names the field."""


# Cross-field checks raise ValueError from __post_init__; msgspec adds the location (" - at `$...`").


def _finite(**values: float) -> None:
    for name, value in values.items():
        if not math.isfinite(value):
            raise ValueError(f"`{name}` must be a finite number, got {value!r}")


def _not_negative(**values: timedelta) -> None:
    for name, value in values.items():
        if value < _ZERO:
            raise ValueError(f"`{name}` must not be negative, got {value}")


def _positive(**values: timedelta) -> None:
    for name, value in values.items():
        if value <= _ZERO:
            raise ValueError(f"`{name}` must be positive, got {value}")


class _Latched(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """What every stateful rule shares: the alarm it raises and how long a condition must last.

    `min_duration`: the raise condition must hold over this span of samples before the alarm is raised
    (suppresses spikes). `clear_duration`: the clear condition must hold this long before it is cleared.
    """

    severity: Severity = "major"
    alarm_type: AlarmType | None = None  # None: `<rule>:<metric>`, filled in by the profile
    min_duration: timedelta = _ZERO
    clear_duration: timedelta = _ZERO

    def _check_latch(self) -> None:
        _not_negative(min_duration=self.min_duration, clear_duration=self.clear_duration)


class ThresholdRule(_Latched, kw_only=True, forbid_unknown_fields=True):
    """Raise while the value is `op` (above/below) `limit`; clear once it is back past the hysteresis band.

    For op="above": raise when value > limit, clear when value <= limit - hysteresis (mirror for below).
    """

    op: Direction
    limit: float
    hysteresis: Annotated[float, Meta(ge=0)] = 0.0

    def __post_init__(self) -> None:
        _finite(limit=self.limit, hysteresis=self.hysteresis)
        self._check_latch()


class RateOfChangeRule(_Latched, kw_only=True, forbid_unknown_fields=True):
    """Raise while the change per minute, measured over `window`, exceeds `max_per_minute`.

    The rate is (now - oldest sample inside the window) / elapsed, so a step of size S reads as S/window
    for one window and then falls back: one raise, one clear. `clear_ratio` × max is the clear level.
    """

    max_per_minute: Annotated[float, Meta(gt=0)]
    window: timedelta = timedelta(minutes=5)
    direction: Literal["up", "down", "both"] = "both"
    clear_ratio: Annotated[float, Meta(gt=0, le=1)] = 0.5

    def __post_init__(self) -> None:
        _finite(max_per_minute=self.max_per_minute)
        _positive(window=self.window)
        self._check_latch()


class AnomalyRule(_Latched, kw_only=True, forbid_unknown_fields=True):
    """Robust z-score of each sample against the rolling median/MAD of the previous `window` samples.

    score = |x - median| / max(1.4826 · MAD, min_scale); raise once `min_count` consecutive samples score
    at least `z` (a burst, not one stray reading), clear below `clear_z`.
    `min_scale` floors the spread so a quantised or flat signal (MAD = 0) does not score infinity:
    set it to about the sensor's resolution or its normal noise.
    """

    window: Annotated[int, Meta(ge=5, le=2001)] = 121
    warmup: Annotated[int, Meta(ge=3)] = 30
    z: Annotated[float, Meta(gt=0)] = 6.0
    min_count: Annotated[int, Meta(ge=1, le=1000)] = 2
    clear_z: Annotated[float, Meta(gt=0)] = 3.0
    min_scale: Annotated[float, Meta(gt=0)] = 1e-6

    def __post_init__(self) -> None:
        _finite(z=self.z, clear_z=self.clear_z, min_scale=self.min_scale)
        if self.warmup > self.window:
            raise ValueError(f"`warmup` ({self.warmup}) must not exceed `window` ({self.window})")
        if self.clear_z > self.z:
            raise ValueError(f"`clear_z` ({self.clear_z}) must not exceed `z` ({self.z})")
        self._check_latch()


class TrendRule(_Latched, kw_only=True, forbid_unknown_fields=True):
    """Degradation trend: a robust (Theil–Sen) line through the last `window` predicts when the metric
    reaches `limit` (rising above it for op="above", falling below for op="below").

    Samples are averaged into `points` time buckets (window / points wide); the line is refitted when a
    bucket closes. It raises when the predicted time to the limit is below the lead time (the profile's,
    or this rule's `lead_time`), with at least `min_points` buckets and a Kendall τ of at least `min_tau`
    in the limit's direction — τ is the fit quality: pure noise gives |τ| ≈ 0, a clean trend ≈ 1.
    It clears when the prediction moves beyond `clear_factor` × lead time or τ falls below min_tau / 2.

    Rule of thumb: `window` of at least a day (daily cycles average out) and not much shorter than the
    lead time (the extrapolation error grows with lead time / window).
    """

    op: Direction
    limit: float
    window: timedelta = timedelta(hours=24)
    points: Annotated[int, Meta(ge=8, le=96)] = 48
    # None: three quarters of `points`. Fewer lets a fit on a fraction of the window (e.g. the rising
    # half of a daily cycle after a start) extrapolate into a false alarm.
    min_points: Annotated[int, Meta(ge=5)] | None = None
    min_tau: Annotated[float, Meta(gt=0, le=1)] = 0.6
    clear_factor: Annotated[float, Meta(ge=1)] = 2.0
    lead_time: timedelta | None = None

    def __post_init__(self) -> None:
        _finite(limit=self.limit, clear_factor=self.clear_factor)
        _positive(window=self.window)
        if self.lead_time is not None:
            _positive(lead_time=self.lead_time)
        if self.min_points is None:
            self.min_points = math.ceil(0.75 * self.points)
        if self.min_points > self.points:
            raise ValueError(f"`min_points` ({self.min_points}) must not exceed `points` ({self.points})")
        self._check_latch()


class MetricProfile(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    unit: Annotated[str, Meta(max_length=32)] = ""
    threshold: Annotated[list[ThresholdRule], Meta(max_length=8)] = []
    rate_of_change: RateOfChangeRule | None = None
    anomaly: AnomalyRule | None = None
    trend: TrendRule | None = None

    def rules(self) -> list[ThresholdRule | RateOfChangeRule | AnomalyRule | TrendRule]:
        out: list[ThresholdRule | RateOfChangeRule | AnomalyRule | TrendRule] = list(self.threshold)
        out.extend(r for r in (self.rate_of_change, self.anomaly, self.trend) if r is not None)
        return out


class FaultCode(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """A device fault code's alarm. The work order it leads to (skills, parts) is configured elsewhere."""

    alarm_type: AlarmType | None = None  # None: `fault:<code>`
    severity: Severity = "major"
    message: Annotated[str, Meta(max_length=200)] = ""


class Profile(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One asset model's detection profile. `{}` is a valid profile that watches nothing."""

    model: Annotated[str, Meta(max_length=96)] = ""
    lead_time: timedelta = timedelta(days=2)
    offline_grace: timedelta = timedelta(minutes=15)
    offline_severity: Severity = "major"
    offline_alarm_type: AlarmType = "offline"
    # Length of the chart-ready `values` carried as evidence (raw samples; trend: bucket means).
    evidence_points: Annotated[int, Meta(ge=2, le=1000)] = 60
    metrics: dict[MetricName, MetricProfile] = {}
    fault_codes: dict[Annotated[str, Meta(min_length=1, max_length=64)], FaultCode] = {}
    # Severity for fault codes missing from `fault_codes` (alarm type `fault:<code>`); None ignores them.
    unmapped_fault_severity: Severity | None = "minor"

    def __post_init__(self) -> None:
        _positive(lead_time=self.lead_time)
        _not_negative(offline_grace=self.offline_grace)
        seen: dict[str, str] = {self.offline_alarm_type: "offline_alarm_type"}
        for name, metric in self.metrics.items():
            for i, rule in enumerate(metric.threshold):
                _claim(seen, rule, f"threshold:{name}", f"metrics.{name}.threshold[{i}]")
            singles: tuple[tuple[str, _Latched | None], ...] = (
                ("rate_of_change", metric.rate_of_change),
                ("anomaly", metric.anomaly),
                ("trend", metric.trend),
            )
            for field, single in singles:
                if single is not None:
                    _claim(seen, single, f"{_PREFIX[field]}:{name}", f"metrics.{name}.{field}")
        for code, fault in self.fault_codes.items():
            if fault.alarm_type is None:
                fault.alarm_type = f"fault:{code}"

    def lead_time_for(self, rule: TrendRule) -> timedelta:
        return rule.lead_time if rule.lead_time is not None else self.lead_time


_PREFIX = {"rate_of_change": "rate", "anomaly": "anomaly", "trend": "trend"}


def _claim(seen: dict[str, str], rule: _Latched, default: str, where: str) -> None:
    """Fill in the default alarm type and refuse one that another rule already raises."""
    if rule.alarm_type is None:
        rule.alarm_type = default
    other = seen.get(rule.alarm_type)
    if other is not None:
        raise ValueError(
            f"alarm_type {rule.alarm_type!r} of {where} is also raised by {other}; "
            "give each rule its own `alarm_type`"
        )
    seen[rule.alarm_type] = where


def decode_profile(data: Mapping[str, Any] | bytes | str) -> Profile:
    """Validate a profile document (JSON text or an already-parsed mapping) into a `Profile`."""
    if isinstance(data, bytes | str):
        try:
            raw: Any = msgspec.json.decode(data)
        except msgspec.DecodeError as exc:
            raise ProfileError(f"profile is not valid JSON: {exc}") from None
    else:
        raw = data
    if not isinstance(raw, Mapping):
        raise ProfileError(f"profile must be an object, got {type(raw).__name__}")
    # msgspec reports a dict value's path as `$.metrics[...]`; checking each entry on its own first lets
    # the error name the metric (or fault code) the operator has to fix.
    for key, cls in (("metrics", MetricProfile), ("fault_codes", FaultCode)):
        entries = raw.get(key)
        if isinstance(entries, Mapping):
            for name, entry in entries.items():
                try:
                    msgspec.convert(entry, cls)
                except msgspec.ValidationError as exc:
                    raise ProfileError(_located(str(exc), f"$.{key}.{name}")) from None
    try:
        return msgspec.convert(raw, Profile)
    except msgspec.ValidationError as exc:
        raise ProfileError(_located(str(exc), "$")) from None


def _located(message: str, prefix: str) -> str:
    marker = " - at `$"
    if marker in message:
        return message.replace(marker, f" - at `{prefix}", 1)
    return f"{message} - at `{prefix}`"
