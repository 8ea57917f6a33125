"""The last N raw samples of one metric, kept so a signal can carry a chart-ready series."""

from __future__ import annotations

from datetime import UTC, datetime

import msgspec


class HistoryState(msgspec.Struct, kw_only=True):
    """Oldest first (the ring's rotation is not persisted, so equal histories encode equally)."""

    ts: list[float] = []
    xs: list[float] = []


class History:
    """A fixed-size ring of (epoch seconds, value); O(1) per sample, ordered only when a signal asks."""

    __slots__ = ("pos", "size", "ts", "xs")

    def __init__(self, size: int) -> None:
        self.size = size
        self.ts: list[float] = []
        self.xs: list[float] = []
        self.pos = 0

    def push(self, t: float, x: float) -> None:
        if len(self.ts) < self.size:
            self.ts.append(t)
            self.xs.append(x)
        else:
            p = self.pos
            self.ts[p] = t
            self.xs[p] = x
            self.pos = (p + 1) % self.size

    def ordered(self) -> tuple[list[float], list[float]]:
        p = self.pos
        return self.ts[p:] + self.ts[:p], self.xs[p:] + self.xs[:p]

    def series(self) -> list[tuple[datetime, float]]:
        return to_series(*self.ordered())

    def export(self) -> HistoryState:
        ts, xs = self.ordered()
        return HistoryState(ts=ts, xs=xs)

    def load(self, state: HistoryState) -> None:
        # A profile may have changed `evidence_points`: keep the newest samples that still fit.
        self.ts, self.xs = state.ts[-self.size :], state.xs[-self.size :]
        self.pos = 0  # chronological: slot 0 holds the oldest


def to_datetime(t: float) -> datetime:
    return datetime.fromtimestamp(t, tz=UTC)


def to_series(ts: list[float], xs: list[float]) -> list[tuple[datetime, float]]:
    return [(to_datetime(t), x) for t, x in zip(ts, xs, strict=True)]
