"""Rate of change: the change per minute over a time window."""

from __future__ import annotations

from typing import Any, ClassVar

from iot.detection.config import RateOfChangeRule
from iot.detection.latch import NONE, RAISE
from iot.detection.rulebase import MetricInfo, RuleBase, RuleState
from iot.detection.signals import RuleKind, Signal
from iot.detection.text import duration, num

# Reference samples kept per window: enough resolution for the rate, bounded whatever the sample rate.
_REFS = 64


class RateState(RuleState, tag="rate_of_change", kw_only=True):
    ref_t: list[float] = []
    ref_x: list[float] = []


class RateOfChange(RuleBase):
    """rate = (x - x_ref) / (t - t_ref) per minute, x_ref the oldest kept sample inside the window.

    Comparing with the window's oldest sample rather than the previous one divides the noise by the
    window length, so ordinary jitter between consecutive samples does not read as a fast change. The
    rate is only judged once the reference is at least half a window old (after a start or a data gap).
    """

    kind: ClassVar[RuleKind] = "rate_of_change"
    state_type: ClassVar[type[RuleState]] = RateState

    def __init__(self, rule: RateOfChangeRule, info: MetricInfo) -> None:
        super().__init__(rule, info)
        self.window = rule.window.total_seconds()
        self.spacing = self.window / _REFS
        self.max = rule.max_per_minute
        self.clear_level = rule.max_per_minute * rule.clear_ratio
        self.direction = rule.direction
        self.ref_t: list[float] = []
        self.ref_x: list[float] = []

    def step(self, t: float, x: float) -> Signal | None:
        ref_t, ref_x = self.ref_t, self.ref_x
        cutoff = t - self.window
        while ref_t and ref_t[0] < cutoff:
            del ref_t[0]
            del ref_x[0]
        rate: float | None = None
        if ref_t and t - ref_t[0] >= self.window / 2:
            rate = (x - ref_x[0]) * 60.0 / (t - ref_t[0])
        if not ref_t or t - ref_t[-1] >= self.spacing:
            ref_t.append(t)
            ref_x.append(x)
        if rate is None:
            on = off = False
        else:
            d = self.direction
            # Orient the rate so "up", "down" and "both" all compare against a positive limit.
            signed = rate if d == "up" else -rate if d == "down" else abs(rate)
            on, off = signed > self.max, signed < self.clear_level
        edge = self.latch.step(t, on, off, self.min_duration, self.clear_duration)
        if edge == NONE or rate is None:  # an edge needs on or off, which needs a rate
            return None
        unit, name = self.info.unit, self.info.name
        per_min = f"{num(rate, unit)}/min"
        if edge == RAISE:
            verb = "rising" if rate > 0 else "falling"
            message = (
                f"{name} {verb} {per_min} over {duration(self.window)} "
                f"(limit {num(self.max, unit)}/min, now {num(x, unit)})"
            )
        else:
            message = (
                f"{name} rate of change back to {per_min} (clears below {num(self.clear_level, unit)}/min)"
            )
        return self.signal(
            "raise" if edge == RAISE else "clear",
            t,
            message,
            value=x,
            limit=self.max,
            clear_level=self.clear_level,
            rate_per_minute=rate,
        )

    def _estimator(self) -> dict[str, Any]:
        return {"ref_t": list(self.ref_t), "ref_x": list(self.ref_x)}

    def _load_estimator(self, state: Any) -> None:
        self.ref_t, self.ref_x = list(state.ref_t), list(state.ref_x)
