"""Degradation trend: a robust line over a time window predicts when the metric reaches its limit."""

from __future__ import annotations

import math
from typing import Any, ClassVar

from iot.detection.config import TrendRule
from iot.detection.history import to_datetime, to_series
from iot.detection.latch import NONE, RAISE
from iot.detection.robust import Fit, theil_sen
from iot.detection.rulebase import MetricInfo, RuleBase, RuleState
from iot.detection.signals import RuleKind, Signal
from iot.detection.text import duration, num


class TrendState(RuleState, tag="trend", kw_only=True):
    bucket: int = -1
    n: int = 0
    sum_dt: float = 0.0
    sum_x: float = 0.0
    pts_t: list[float] = []
    pts_x: list[float] = []


class Trend(RuleBase):
    """Averages samples into fixed time buckets (window / points wide, aligned to the epoch) and refits
    Theil–Sen over the buckets inside the window each time one closes.

    Bucket means bound the fit to `points` values whatever the sample rate (the fit is O(points²) but
    runs once per bucket, not per sample), and average the noise down before the robust fit sees it.
    Buckets are aligned to the epoch, not to the first sample, so a restored detector cuts them exactly
    where the original would have.
    """

    kind: ClassVar[RuleKind] = "trend"
    state_type: ClassVar[type[RuleState]] = TrendState

    def __init__(self, rule: TrendRule, info: MetricInfo, lead_time: float) -> None:
        super().__init__(rule, info)
        self.above = rule.op == "above"
        self.limit = rule.limit
        self.window = rule.window.total_seconds()
        self.width = self.window / rule.points
        self.min_points = rule.min_points or rule.points  # set by TrendRule.__post_init__
        self.min_tau = rule.min_tau
        self.lead = lead_time
        self.clear_after = lead_time * rule.clear_factor
        # The open bucket: its index, sample count, and sums (times relative to the bucket's start, so the
        # sum keeps its precision with epoch-sized timestamps).
        self.bucket = -1
        self.n = 0
        self.sum_dt = 0.0
        self.sum_x = 0.0
        # Closed buckets inside the window: mean time (epoch s) and mean value.
        self.pts_t: list[float] = []
        self.pts_x: list[float] = []

    def step(self, t: float, x: float) -> Signal | None:
        width = self.width
        b = int(t // width)
        out: Signal | None = None
        if b != self.bucket:
            if self.n:
                self.pts_t.append(self.bucket * width + self.sum_dt / self.n)
                self.pts_x.append(self.sum_x / self.n)
                out = self._judge(t)
            self.bucket, self.n, self.sum_dt, self.sum_x = b, 0, 0.0, 0.0
        self.n += 1
        self.sum_dt += t - b * width
        self.sum_x += x
        return out

    def _judge(self, t: float) -> Signal | None:
        """A bucket just closed: refit the window and move the latch."""
        cutoff = t - self.window
        while self.pts_t and self.pts_t[0] < cutoff:
            del self.pts_t[0]
            del self.pts_x[0]
        if len(self.pts_t) < self.min_points:
            # Too little data to say anything (a start, or a long gap): hold the current state.
            self.latch.step(t, False, False, self.min_duration, self.clear_duration)
            return None
        fit = theil_sen(self.pts_t, self.pts_x)
        toward_tau = fit.tau if self.above else -fit.tau
        ttl = self._time_to_limit(fit, t)
        on = toward_tau >= self.min_tau and ttl < self.lead
        # Hysteresis: clear only when the prediction is comfortably outside the lead time, or the trend
        # has mostly faded, so a fit that wobbles around the raise point does not flap.
        off = toward_tau < self.min_tau / 2 or ttl > self.clear_after
        edge = self.latch.step(t, on, off, self.min_duration, self.clear_duration)
        if edge == NONE:
            return None
        return self._signal(edge, t, fit, ttl)

    def _time_to_limit(self, fit: Fit, t: float) -> float:
        """Seconds from `t` until the fitted line reaches the limit: 0 if past it, inf if heading away."""
        gap = self.limit - fit.level if self.above else fit.level - self.limit
        if gap <= 0:
            return 0.0
        speed = fit.slope if self.above else -fit.slope  # per hour, towards the limit
        if speed <= 0:
            return math.inf
        reached = self.pts_t[-1] + gap / speed * 3600.0
        return max(0.0, reached - t)

    def _signal(self, edge: int, t: float, fit: Fit, ttl: float) -> Signal:
        unit, name = self.info.unit, self.info.name
        finite = math.isfinite(ttl)
        per_hour = f"{num(fit.slope, unit)}/h"
        span = duration(self.pts_t[-1] - self.pts_t[0])
        if edge == RAISE:
            limit = num(self.limit, unit)
            when = f"already at {limit}" if ttl == 0 else f"predicted to reach {limit} in {duration(ttl)}"
            message = (
                f"{name} trending {'up' if fit.slope > 0 else 'down'} {per_hour}: {when} "
                f"(fitted now {num(fit.level, unit)}, τ {fit.tau:.2f} over {len(self.pts_t)} points / {span})"
            )
        else:
            outlook = f"limit in {duration(ttl)}" if finite else "not heading for the limit"
            message = f"{name} trend eased: {per_hour}, {outlook} (τ {fit.tau:.2f})"
        return self.signal(
            "raise" if edge == RAISE else "clear",
            t,
            message,
            values=to_series(self.pts_t, self.pts_x),
            value=self.pts_x[-1],
            limit=self.limit,
            slope_per_hour=fit.slope,
            level=fit.level,
            time_to_limit_s=ttl if finite else None,
            predicted_at=to_datetime(t + ttl) if finite else None,
            fit_tau=fit.tau,
        )

    def _estimator(self) -> dict[str, Any]:
        return {
            "bucket": self.bucket,
            "n": self.n,
            "sum_dt": self.sum_dt,
            "sum_x": self.sum_x,
            "pts_t": list(self.pts_t),
            "pts_x": list(self.pts_x),
        }

    def _load_estimator(self, state: Any) -> None:
        self.bucket, self.n, self.sum_dt, self.sum_x = state.bucket, state.n, state.sum_dt, state.sum_x
        self.pts_t, self.pts_x = list(state.pts_t), list(state.pts_x)
