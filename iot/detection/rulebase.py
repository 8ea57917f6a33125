"""What the four metric rules share: the metric they watch, their latch, and how their state travels."""

from __future__ import annotations

import hashlib
from typing import Any, ClassVar

import msgspec

from iot.detection.config import AnomalyRule, RateOfChangeRule, Severity, ThresholdRule, TrendRule
from iot.detection.history import History, to_datetime
from iot.detection.latch import Latch
from iot.detection.signals import Evidence, RuleKind, Signal, SignalKind

AnyRule = ThresholdRule | RateOfChangeRule | AnomalyRule | TrendRule


class MetricInfo:
    """The metric a rule belongs to, and its recent raw samples (shared by all its rules)."""

    __slots__ = ("history", "name", "unit")

    def __init__(self, name: str, unit: str, history: History) -> None:
        self.name, self.unit, self.history = name, unit, history


class RuleState(msgspec.Struct, kw_only=True):
    """The persisted part of a rule. Subclasses add their estimator's fields and a msgspec tag."""

    fingerprint: str
    latch: Latch


def fingerprint(rule: AnyRule) -> str:
    """Identifies a rule's configuration, so a snapshot taken under another one is not trusted blindly."""
    return hashlib.blake2b(msgspec.msgpack.encode(rule), digest_size=8).hexdigest()


class RuleBase:
    kind: ClassVar[RuleKind]
    state_type: ClassVar[type[RuleState]]

    def __init__(self, rule: AnyRule, info: MetricInfo) -> None:
        if rule.alarm_type is None:  # Profile.__post_init__ fills it; a bare rule has none
            raise ValueError("rule has no alarm_type: build detectors from a decoded Profile")
        self.alarm_type: str = rule.alarm_type
        self.severity: Severity = rule.severity
        self.min_duration = rule.min_duration.total_seconds()
        self.clear_duration = rule.clear_duration.total_seconds()
        self.fingerprint = fingerprint(rule)
        self.info = info
        self.latch = Latch()

    # -- state -------------------------------------------------------------------------------------

    def _estimator(self) -> dict[str, Any]:
        """The estimator's fields, as the state type's keyword arguments (none by default)."""
        return {}

    def _load_estimator(self, state: Any) -> None:
        """Take the estimator's fields from `state` (an instance of `state_type`)."""

    def export(self) -> RuleState:
        return self.state_type(fingerprint=self.fingerprint, latch=_copy(self.latch), **self._estimator())

    def load(self, state: RuleState) -> None:
        # The latch is kept even when the rule's configuration changed, so an alarm raised under the old
        # configuration is still cleared by this detector; estimator buffers sized for the old
        # configuration are dropped and rebuilt from new samples.
        self.latch = _copy(state.latch)
        if state.fingerprint == self.fingerprint and isinstance(state, self.state_type):
            self._load_estimator(state)

    # -- signals -----------------------------------------------------------------------------------

    def signal(self, kind: SignalKind, t: float, message: str, **evidence: Any) -> Signal:
        info = self.info
        evidence.setdefault("values", info.history.series())
        return Signal(
            kind=kind,
            alarm_type=self.alarm_type,
            rule=self.kind,
            severity=self.severity,
            ts=to_datetime(t),
            message=message,
            evidence=Evidence(metric=info.name, unit=info.unit or None, **evidence),
        )


def _copy(latch: Latch) -> Latch:
    return Latch(active=latch.active, onset=latch.onset, clear_onset=latch.clear_onset)
