"""Threshold with hysteresis and minimum duration."""

from __future__ import annotations

from typing import ClassVar

from iot.detection.config import ThresholdRule
from iot.detection.latch import CLEAR, RAISE
from iot.detection.rulebase import MetricInfo, RuleBase, RuleState
from iot.detection.signals import RuleKind, Signal
from iot.detection.text import duration, num


class ThresholdState(RuleState, tag="threshold", kw_only=True):
    pass


class Threshold(RuleBase):
    kind: ClassVar[RuleKind] = "threshold"
    state_type: ClassVar[type[RuleState]] = ThresholdState

    def __init__(self, rule: ThresholdRule, info: MetricInfo) -> None:
        super().__init__(rule, info)
        self.above = rule.op == "above"
        self.limit = rule.limit
        # The clear level sits on the safe side of the limit, `hysteresis` away.
        self.clear_level = rule.limit - rule.hysteresis if self.above else rule.limit + rule.hysteresis

    def step(self, t: float, x: float) -> Signal | None:
        if self.above:
            on, off = x > self.limit, x <= self.clear_level
        else:
            on, off = x < self.limit, x >= self.clear_level
        onset = self.latch.onset
        edge = self.latch.step(t, on, off, self.min_duration, self.clear_duration)
        if edge == RAISE:
            unit, name = self.info.unit, self.info.name
            held = f" for {duration(t - onset)}" if onset is not None and t > onset else ""
            side = "above" if self.above else "below"
            return self.signal(
                "raise",
                t,
                f"{name} {side} {num(self.limit, unit)}{held} (now {num(x, unit)})",
                value=x,
                limit=self.limit,
                clear_level=self.clear_level,
            )
        if edge == CLEAR:
            unit, name = self.info.unit, self.info.name
            side = "below" if self.above else "above"
            return self.signal(
                "clear",
                t,
                f"{name} back {side} {num(self.clear_level, unit)} (now {num(x, unit)})",
                value=x,
                limit=self.limit,
                clear_level=self.clear_level,
            )
        return None
