"""Weekly service volume: a harmonic-regression forecast and its backtest. Plain Python; no I/O.

The method (Hyndman & Athanasopoulos, *Forecasting: Principles and Practice*, 3rd ed., §12.1 "Weekly,
daily and sub-daily data"): weekly data has a yearly season of 52.18 weeks, too long and fractional for
seasonal ETS/ARIMA, so the season is a few Fourier pairs sin/cos(2πk·t/52.18), k = 1…K, beside a level
and a linear trend, fitted by least squares; K (1…6) is chosen by the smallest AICc. Forecasts are the
fitted curve carried forward, never below zero; the 80 % band is ± 1.28 residual standard deviations.

With less than `MIN_SEASONAL` weeks there is not a year to learn the season from: the forecast is then the
mean of the last 8 weeks ("recent mean"), and the report says so.

Backtest (rolling origin): for each of the last `ORIGINS` weeks as forecast origin, fit on the weeks
before it and forecast `HORIZON` weeks ahead; pool the errors over every (origin, horizon) whose actual is
known. Compared on the same targets with the seasonal naive forecast (the same week a year earlier:
52 weeks back). Errors: MAE; MAPE over weeks with a non-zero actual; MASE = MAE ÷ the in-sample MAE of the
seasonal naive forecast on the history before the first origin (below 1: better than last year's figure).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

PERIOD = 365.25 / 7
MAX_K = 6
MIN_SEASONAL = 60
ORIGINS = 13
HORIZON = 4
Z80 = 1.2816


@dataclass(frozen=True, slots=True)
class Fit:
    k: int  # Fourier pairs; -1 for the recent-mean fallback
    coef: tuple[float, ...]
    sigma: float
    n: int
    level: float = 0.0  # the recent mean (fallback only)

    @property
    def method(self) -> str:
        if self.k < 0:
            return "recent mean of the last 8 weeks (less than a year of history)"
        return f"harmonic regression: linear trend + {self.k} Fourier pair(s) of the 52.18-week year"

    def predict(self, t: int) -> float:
        if self.k < 0:
            return self.level
        return sum(c * x for c, x in zip(self.coef, _row(t, self.k, self.n), strict=True))


@dataclass(frozen=True, slots=True)
class Errors:
    mae: float | None
    mape: float | None
    mase: float | None
    n: int

    def as_dict(self) -> dict[str, Any]:
        def r(v: float | None) -> float | None:
            return None if v is None else round(v, 3)

        return {"mae": r(self.mae), "mape": r(self.mape), "mase": r(self.mase), "points": self.n}


@dataclass(frozen=True, slots=True)
class Backtest:
    model: Errors | None = None
    seasonal_naive: Errors | None = None
    origins: int = 0
    horizon: int = HORIZON
    why: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        if self.model is None or self.seasonal_naive is None:
            return {"why": self.why}
        return {
            "origins": self.origins,
            "horizon": self.horizon,
            "model": self.model.as_dict(),
            "seasonal_naive": self.seasonal_naive.as_dict(),
        }


def _row(t: int, k: int, n: int) -> list[float]:
    # Time scaled to the fitted span keeps the normal equations well conditioned.
    row = [1.0, t / max(n, 1)]
    for j in range(1, k + 1):
        angle = 2 * math.pi * j * t / PERIOD
        row += [math.sin(angle), math.cos(angle)]
    return row


def _solve(a: list[list[float]], b: list[float]) -> list[float] | None:
    """Gaussian elimination with partial pivoting; None when singular."""
    n = len(b)
    m = [[*row, b[i]] for i, row in enumerate(a)]
    for col in range(n):
        pivot = max(range(col, n), key=lambda r: abs(m[r][col]))
        if abs(m[pivot][col]) < 1e-12:
            return None
        m[col], m[pivot] = m[pivot], m[col]
        for r in range(col + 1, n):
            f = m[r][col] / m[col][col]
            for c in range(col, n + 1):
                m[r][c] -= f * m[col][c]
    x = [0.0] * n
    for r in range(n - 1, -1, -1):
        x[r] = (m[r][n] - sum(m[r][c] * x[c] for c in range(r + 1, n))) / m[r][r]
    return x


def _least_squares(y: Sequence[float], k: int) -> tuple[list[float], float] | None:
    n = len(y)
    rows = [_row(t, k, n) for t in range(n)]
    p = len(rows[0])
    xtx = [[sum(r[i] * r[j] for r in rows) for j in range(p)] for i in range(p)]
    xty = [sum(r[i] * v for r, v in zip(rows, y, strict=True)) for i in range(p)]
    coef = _solve(xtx, xty)
    if coef is None:
        return None
    sse = sum(
        (v - sum(c * x for c, x in zip(coef, r, strict=True))) ** 2 for r, v in zip(rows, y, strict=True)
    )
    return coef, sse


def fit(y: Sequence[float]) -> Fit:
    n = len(y)
    if n < MIN_SEASONAL:
        recent = list(y[-8:]) or [0.0]
        mean = sum(recent) / len(recent)
        sd = math.sqrt(sum((v - mean) ** 2 for v in recent) / max(len(recent) - 1, 1))
        return Fit(-1, (), sd, n, mean)
    best: tuple[float, Fit] | None = None
    for k in range(1, MAX_K + 1):
        p = 2 + 2 * k
        if n - p - 1 <= 0:
            break
        solved = _least_squares(y, k)
        if solved is None:
            continue
        coef, sse = solved
        aicc = n * math.log(max(sse, 1e-9) / n) + 2 * p + 2 * p * (p + 1) / (n - p - 1)
        candidate = Fit(k, tuple(coef), math.sqrt(sse / max(n - p, 1)), n)
        if best is None or aicc < best[0]:
            best = (aicc, candidate)
    if best is None:
        return fit(y[-8:])
    return best[1]


def forecast(y: Sequence[float], horizon: int) -> tuple[Fit, list[tuple[float, float, float]]]:
    """(the fit, [(expected, low, high)] for the next `horizon` weeks)."""
    model = fit(y)
    out = []
    for h in range(horizon):
        mean = max(model.predict(len(y) + h), 0.0)
        spread = Z80 * model.sigma
        out.append((mean, max(mean - spread, 0.0), mean + spread))
    return model, out


def _errors(pairs: Sequence[tuple[float, float]], scale: float | None) -> Errors:
    if not pairs:
        return Errors(None, None, None, 0)
    mae = sum(abs(a - f) for a, f in pairs) / len(pairs)
    nonzero = [(a, f) for a, f in pairs if a != 0]
    mape = 100 * sum(abs(a - f) / abs(a) for a, f in nonzero) / len(nonzero) if nonzero else None
    mase = mae / scale if scale else None
    return Errors(mae, mape, mase, len(pairs))


def backtest(
    y: Sequence[float], origins: int = ORIGINS, horizon: int = HORIZON, season: int = 52
) -> Backtest:
    first = len(y) - origins
    if first < MIN_SEASONAL or first < season + 1:
        return Backtest(
            why=f"{len(y)} weeks of history: a backtest needs {max(MIN_SEASONAL, season + 1) + origins}"
        )
    train = y[:first]
    scale = sum(abs(train[t] - train[t - season]) for t in range(season, len(train))) / (len(train) - season)
    model_pairs: list[tuple[float, float]] = []
    naive_pairs: list[tuple[float, float]] = []
    for origin in range(first, len(y)):
        _, ahead = forecast(y[:origin], horizon)
        for h, (mean, _, _) in enumerate(ahead):
            t = origin + h
            if t >= len(y):
                break
            model_pairs.append((y[t], mean))
            naive_pairs.append((y[t], y[t - season]))
    return Backtest(_errors(model_pairs, scale), _errors(naive_pairs, scale), origins, horizon)
