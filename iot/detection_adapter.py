"""The monitor's seam to the detectors: what a detector is to the monitor, and the one implementation.

The monitor (`iot.monitor`) needs three things per (asset, metric): a detector built from the asset
model's configuration, `update` with one reading (→ `Finding`s), and `snapshot()` / restore so state
survives a worker restart. `DetectionFactory` provides them from the detection package (`iot.detection`):
an asset model's `IotProfile.detection` document is decoded once per distinct document
(`decode_profile`) and each (asset, metric) it watches gets a `MetricDetector`; its signals become
`Finding`s whose evidence is the detector's `Evidence` as builtins (chart-ready `values`, `limit`,
`time_to_limit_s`, …). The protocols let tests drive the pipeline with a detector of their own.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

import msgspec

from core.domain.errors import Invalid
from iot.contract import Severity
from iot.detection import MetricDetector, Profile, ProfileError, Signal, SnapshotError, decode_profile
from iot.detection.faults import fault_signal


@dataclass(frozen=True, slots=True)
class Finding:
    """What a detector concluded from a reading: raise (or clear) an alarm of `alarm_type`."""

    alarm_type: str
    severity: Severity
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)
    clear: bool = False


class Detector(Protocol):
    def update(self, ts: datetime, value: float) -> Sequence[Finding]: ...

    def snapshot(self) -> bytes: ...


class DetectorFactory(Protocol):
    def create(self, config: dict[str, Any], metric: str) -> Detector | None:
        """A fresh detector for `metric`, or None when the configuration does not watch it."""
        ...

    def restore(self, config: dict[str, Any], metric: str, snapshot: bytes) -> Detector | None: ...


_profiles: dict[bytes, Profile] = {}


def profile_of(config: dict[str, Any]) -> Profile:
    """The decoded profile of a detection document (cached by content)."""
    key = msgspec.json.encode(config, order="sorted")
    profile = _profiles.get(key)
    if profile is None:
        if len(_profiles) > 1000:
            _profiles.clear()
        profile = _profiles[key] = decode_profile(config)
    return profile


def finding(signal: Signal) -> Finding:
    return Finding(
        alarm_type=signal.alarm_type,
        severity=Severity(signal.severity),
        message=signal.message,
        evidence={"rule": signal.rule, **msgspec.to_builtins(signal.evidence)},
        clear=signal.clear,
    )


class _Metric:
    __slots__ = ("inner",)

    def __init__(self, inner: MetricDetector) -> None:
        self.inner = inner

    def update(self, ts: datetime, value: float) -> Sequence[Finding]:
        return [finding(s) for s in self.inner.observe(ts, value)]

    def snapshot(self) -> bytes:
        return self.inner.snapshot()


class DetectionFactory:
    def validate(self, config: dict[str, Any]) -> None:
        try:
            profile_of(config)
        except ProfileError as exc:
            raise Invalid(str(exc), field="detection") from exc

    def create(self, config: dict[str, Any], metric: str) -> _Metric | None:
        if not config:
            return None
        profile = profile_of(config)
        if metric not in profile.metrics:
            return None
        return _Metric(MetricDetector(profile, metric))

    def restore(self, config: dict[str, Any], metric: str, snapshot: bytes) -> _Metric | None:
        detector = self.create(config, metric)
        if detector is None:
            return None
        try:
            detector.inner.restore(snapshot)
        except SnapshotError:
            return self.create(config, metric)  # unusable (e.g. an old format): relearn
        return detector

    def fault(
        self, config: dict[str, Any], ts: datetime, code: str, detail: str, reported: Severity
    ) -> Finding | None:
        """The profile's reading of a fault code: its alarm, or None when the profile ignores the code."""
        signal = fault_signal(profile_of(config), ts, code, detail, reported.value)
        return None if signal is None else finding(signal)

    def offline(self, config: dict[str, Any]) -> tuple[float, Severity, str] | None:
        """(grace in seconds, severity, alarm type) of the profile's offline rule; None without a profile."""
        if not config:
            return None
        p = profile_of(config)
        return p.offline_grace.total_seconds(), Severity(p.offline_severity), p.offline_alarm_type


def validate_config(config: dict[str, Any]) -> None:
    """Refuse (core.domain.errors.Invalid) a detection configuration the detectors cannot use."""
    DetectionFactory().validate(config)
