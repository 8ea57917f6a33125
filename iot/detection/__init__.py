"""Predictive-maintenance detection: per-asset-model rules as data, streaming detectors, snapshots.

Pure computation — no I/O, no database, no MQTT — so the ingest worker owns persistence and transport.

    profile = decode_profile(document)              # ProfileError names the bad field
    detector = MetricDetector(profile, "vibration_mm_s")
    for signal in detector.observe(ts, value): ...  # Signal: raise/clear, alarm type, evidence, message
    blob = detector.snapshot(); detector.restore(blob)
"""

from iot.detection.config import (
    AnomalyRule,
    FaultCode,
    MetricProfile,
    Profile,
    ProfileError,
    RateOfChangeRule,
    Severity,
    ThresholdRule,
    TrendRule,
    decode_profile,
)
from iot.detection.detectors import AssetDetector, MetricDetector
from iot.detection.signals import Evidence, Signal
from iot.detection.snapshot import SNAPSHOT_VERSION, SnapshotError

__all__ = [
    "SNAPSHOT_VERSION",
    "AnomalyRule",
    "AssetDetector",
    "Evidence",
    "FaultCode",
    "MetricDetector",
    "MetricProfile",
    "Profile",
    "ProfileError",
    "RateOfChangeRule",
    "Severity",
    "Signal",
    "SnapshotError",
    "ThresholdRule",
    "TrendRule",
    "decode_profile",
]
