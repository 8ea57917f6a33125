"""Detectors built from a profile: one per (asset, metric), and one per asset that holds them all.

Samples must arrive in time order per metric. A sample whose timestamp is not after the last accepted
one (a redelivery, a duplicate, a late straggler) is ignored without touching state — streaming windows
cannot be rewound, and the ingest already stored the value, so nothing is lost but its vote. NaN and
±inf values are ignored the same way (the ingest refuses them; this is a second line of defence).

Timestamps must be timezone-aware; they are handled internally as UTC epoch seconds.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from datetime import datetime

from iot.detection import snapshot as snap
from iot.detection.anomaly import Anomaly
from iot.detection.config import Profile, Severity
from iot.detection.faults import fault_signal
from iot.detection.history import History
from iot.detection.offline import OfflineWatch
from iot.detection.rate import RateOfChange
from iot.detection.rulebase import MetricInfo
from iot.detection.signals import Signal
from iot.detection.threshold import Threshold
from iot.detection.trend import Trend

Rule = Threshold | RateOfChange | Anomaly | Trend


def epoch(ts: datetime) -> float:
    if ts.tzinfo is None:
        # A naive datetime's .timestamp() silently means local time; refuse rather than guess.
        raise ValueError(f"naive timestamp {ts.isoformat()}: detectors need timezone-aware datetimes")
    return ts.timestamp()


class MetricDetector:
    """All rules of one metric of one asset. `observe` returns the raises and clears a sample causes."""

    __slots__ = ("_history", "_last_t", "_rules", "_steps", "metric", "profile")

    def __init__(self, profile: Profile, metric: str) -> None:
        if metric not in profile.metrics:
            raise ValueError(f"the profile does not watch metric {metric!r}")
        self.profile = profile
        self.metric = metric
        self._reset()

    def _reset(self) -> None:
        profile, metric = self.profile, self.metric
        spec = profile.metrics[metric]
        self._history = History(profile.evidence_points)
        info = MetricInfo(metric, spec.unit, self._history)
        rules: list[Rule] = [Threshold(rule, info) for rule in spec.threshold]
        if spec.rate_of_change is not None:
            rules.append(RateOfChange(spec.rate_of_change, info))
        if spec.anomaly is not None:
            rules.append(Anomaly(spec.anomaly, info))
        if spec.trend is not None:
            lead = profile.lead_time_for(spec.trend).total_seconds()
            rules.append(Trend(spec.trend, info, lead))
        self._rules = rules
        self._steps = [rule.step for rule in rules]  # bound once: the per-sample loop is the hot path
        self._last_t = -math.inf

    @property
    def alarm_types(self) -> list[str]:
        return [rule.alarm_type for rule in self._rules]

    @property
    def active(self) -> list[str]:
        """Alarm types currently raised by this detector."""
        return [rule.alarm_type for rule in self._rules if rule.latch.active]

    def observe(self, ts: datetime, value: float) -> list[Signal]:
        return self.observe_epoch(epoch(ts), value)

    def observe_epoch(self, t: float, value: float) -> list[Signal]:
        """`observe` with the time as UTC epoch seconds (saves the conversion when the caller has it)."""
        if not t > self._last_t or not math.isfinite(value):  # `not >` also rejects a NaN time
            return []
        self._last_t = t
        self._history.push(t, value)
        out: list[Signal] = []
        for step in self._steps:
            signal = step(t, value)
            if signal is not None:
                out.append(signal)
        return out

    # -- persistence -------------------------------------------------------------------------------

    def snapshot(self) -> bytes:
        return snap.encode(self._export())

    def restore(self, data: bytes) -> None:
        """Replace this detector's state with a snapshot's (raises `SnapshotError` if unusable).

        Rules are matched by alarm type. A rule whose configuration changed since the snapshot keeps its
        raised/cleared state but relearns its window; a rule new to the profile starts fresh.
        """
        self._load(snap.decode(data, snap.MetricSnapshot))

    def _export(self) -> snap.MetricSnapshot:
        rules: dict[str, snap.AnyRuleState] = {}
        for rule in self._rules:
            state = rule.export()
            if not isinstance(state, snap.AnyRuleState):  # every rule's state_type is in the union
                raise TypeError(type(state).__name__)
            rules[rule.alarm_type] = state
        return snap.MetricSnapshot(
            version=snap.SNAPSHOT_VERSION,
            metric=self.metric,
            last_t=self._last_t if math.isfinite(self._last_t) else None,
            history=self._history.export(),
            rules=rules,
        )

    def _load(self, state: snap.MetricSnapshot) -> None:
        if state.metric != self.metric:
            raise snap.SnapshotError(f"snapshot is of metric {state.metric!r}, not {self.metric!r}")
        self._reset()
        self._last_t = -math.inf if state.last_t is None else state.last_t
        self._history.load(state.history)
        for rule in self._rules:
            saved = state.rules.get(rule.alarm_type)
            if saved is not None:
                rule.load(saved)


class AssetDetector:
    """Everything watched on one asset: its metrics, its fault codes and whether it has gone silent."""

    __slots__ = ("_offline", "metrics", "profile")

    def __init__(self, profile: Profile) -> None:
        self.profile = profile
        self.metrics = {name: MetricDetector(profile, name) for name in profile.metrics}
        self._offline = OfflineWatch(profile)

    def observe(self, ts: datetime, metrics: Mapping[str, float]) -> list[Signal]:
        """One telemetry message; metrics the profile does not watch are skipped."""
        t = epoch(ts)
        out: list[Signal] = []
        for name, value in metrics.items():
            detector = self.metrics.get(name)
            if detector is not None:
                out.extend(detector.observe_epoch(t, value))
        return out

    def on_fault(
        self, ts: datetime, code: str, detail: str = "", reported_severity: Severity | None = None
    ) -> list[Signal]:
        signal = fault_signal(self.profile, ts, code, detail, reported_severity)
        return [] if signal is None else [signal]

    def check_offline(self, now: datetime, last_seen: datetime) -> list[Signal]:
        """Call periodically: raises once `now - last_seen` exceeds the grace, clears once it does not."""
        signal = self._offline.check(now, last_seen)
        return [] if signal is None else [signal]

    @property
    def active(self) -> list[str]:
        out = [a for d in self.metrics.values() for a in d.active]
        return [*out, self._offline.alarm_type] if self._offline.active else out

    def snapshot(self) -> bytes:
        return snap.encode(
            snap.AssetSnapshot(
                version=snap.SNAPSHOT_VERSION,
                metrics={name: d._export() for name, d in self.metrics.items()},
                offline=self._offline.active,
            )
        )

    def restore(self, data: bytes) -> None:
        """Replace the state with a snapshot's; metrics no longer in the profile are dropped, new ones
        start fresh (raises `SnapshotError` if unusable)."""
        state = snap.decode(data, snap.AssetSnapshot)
        for name, detector in self.metrics.items():
            saved = state.metrics.get(name)
            if saved is None:
                detector._reset()
            else:
                detector._load(saved)
        self._offline.active = state.offline
