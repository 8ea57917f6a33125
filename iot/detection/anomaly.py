"""A robust streaming anomaly score: distance from the rolling median in rolling-MAD units.

Why median/MAD rather than EWMA mean/variance: an outlier burst inflates an EWMA variance and drags its
mean within a few samples, so the burst masks itself; the median and MAD ignore anything short of half
the window. A slow drift, on the other hand, moves the rolling median with it (lag ≈ window/2 samples),
so it scores ≈ drift-per-window / noise and stays quiet — drifts are the trend rule's job.
"""

from __future__ import annotations

from typing import Any, ClassVar

from iot.detection.config import AnomalyRule
from iot.detection.latch import NONE, RAISE
from iot.detection.robust import MAD_TO_SIGMA, RollingMedian
from iot.detection.rulebase import MetricInfo, RuleBase, RuleState
from iot.detection.signals import RuleKind, Signal
from iot.detection.text import num


class AnomalyState(RuleState, tag="anomaly", kw_only=True):
    ring: list[float] = []
    pos: int = 0
    streak: int = 0


class Anomaly(RuleBase):
    """Scores each sample against the previous `window` samples, then adds it to them.

    Anomalous samples do enter the window: a lasting level shift becomes the new normal after about half
    a window and the alarm clears, rather than alarming forever on an asset that was re-tuned.
    """

    kind: ClassVar[RuleKind] = "anomaly"
    state_type: ClassVar[type[RuleState]] = AnomalyState

    def __init__(self, rule: AnomalyRule, info: MetricInfo) -> None:
        super().__init__(rule, info)
        self.size = rule.window
        self.warmup = rule.warmup
        self.z = rule.z
        self.clear_z = rule.clear_z
        self.min_scale = rule.min_scale
        self.min_count = rule.min_count
        self.window = RollingMedian(rule.window)
        # Consecutive samples scoring at least z. Even at z = 6 a lone sample crosses now and then,
        # because the window's MAD is itself an estimate; two in a row almost never do by chance.
        self.streak = 0

    def step(self, t: float, x: float) -> Signal | None:
        window = self.window
        if len(window) < self.warmup:
            window.push(x)
            return None
        med = window.median()
        scale = MAD_TO_SIGMA * window.mad(med)
        scale = max(scale, self.min_scale)
        score = abs(x - med) / scale
        window.push(x)
        self.streak = self.streak + 1 if score >= self.z else 0
        edge = self.latch.step(
            t, self.streak >= self.min_count, score < self.clear_z, self.min_duration, self.clear_duration
        )
        if edge == NONE:
            return None
        unit, name = self.info.unit, self.info.name
        if edge == RAISE:
            message = (
                f"{name} anomalous: {num(x, unit)} is {score:.1f} robust σ from its recent median "
                f"{num(med, unit)} (limit {self.z:g} σ)"
            )
        else:
            message = f"{name} back to normal: {num(x, unit)}, {score:.1f} σ from median {num(med, unit)}"
        return self.signal(
            "raise" if edge == RAISE else "clear",
            t,
            message,
            value=x,
            score=score,
            baseline=med,
            limit=self.z,
            clear_level=self.clear_z,
        )

    def _estimator(self) -> dict[str, Any]:
        return {"ring": list(self.window.ring), "pos": self.window.pos, "streak": self.streak}

    def _load_estimator(self, state: Any) -> None:
        self.window = RollingMedian(self.size, state.ring, state.pos)
        self.streak = state.streak
