"""What the detectors say: raise or clear one alarm type, with the evidence and a sentence for humans."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

import msgspec

from iot.detection.config import Severity

SignalKind = Literal["raise", "clear"]
RuleKind = Literal["threshold", "rate_of_change", "anomaly", "trend", "fault", "offline"]


class Evidence(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Why a signal was emitted. Only the fields relevant to the rule are set; the rest are omitted when
    encoded (`msgspec.to_builtins(evidence)` gives a JSON-able dict for the alarm / work order).
    """

    metric: str | None = None
    unit: str | None = None
    value: float | None = None  # the sample that decided
    # Chart-ready (ts, value) pairs, oldest first, at most `Profile.evidence_points` long: the latest raw
    # samples, or for a trend the bucket means the line was fitted to.
    values: list[tuple[datetime, float]] = []
    limit: float | None = None  # the level the rule compares with (threshold, trend limit, max rate, z)
    clear_level: float | None = None
    rate_per_minute: float | None = None
    score: float | None = None  # anomaly: robust z-score
    baseline: float | None = None  # anomaly: rolling median
    slope_per_hour: float | None = None
    level: float | None = None  # trend: the fitted level at the last point
    time_to_limit_s: float | None = None  # trend: predicted seconds from `Signal.ts` to the limit
    predicted_at: datetime | None = None
    fit_tau: float | None = None  # trend: Kendall τ of the window (fit quality)
    fault_code: str | None = None
    detail: str | None = None
    last_seen: datetime | None = None


class Signal(msgspec.Struct, frozen=True, kw_only=True):
    kind: SignalKind
    alarm_type: str
    rule: RuleKind
    severity: Severity
    ts: datetime  # the sample (or check) time at which it was decided, UTC
    message: str
    evidence: Evidence

    @property
    def clear(self) -> bool:
        return self.kind == "clear"
