"""Robust statistics, streaming and bounded: a rolling median/MAD and a Theil–Sen line with Kendall's τ.

Both are pure Python on purpose: the windows are small (≤ a few hundred values), so the per-call cost is
dominated by interpreter overhead that numpy would not remove, and exact float arithmetic in a fixed
order keeps a restored detector bit-for-bit identical to one that never stopped.
"""

from __future__ import annotations

from bisect import bisect_left, bisect_right, insort
from statistics import median

# Scales the MAD of normal data to its standard deviation, so a robust score reads like a z-score.
MAD_TO_SIGMA = 1.4826


class RollingMedian:
    """The median and MAD of the last `size` values: a FIFO ring plus the same values kept sorted.

    push is O(size) in memmove but O(log size) in Python steps; `mad` is two binary searches (see
    `_kth_deviation`) instead of sorting |x - median| on every sample.
    """

    __slots__ = ("pos", "ring", "size", "sorted")

    def __init__(self, size: int, ring: list[float] | None = None, pos: int = 0) -> None:
        self.size = size
        self.ring: list[float] = list(ring) if ring else []
        self.pos = pos
        self.sorted: list[float] = sorted(self.ring)

    def __len__(self) -> int:
        return len(self.ring)

    def push(self, x: float) -> None:
        ring, srt = self.ring, self.sorted
        if len(ring) < self.size:
            ring.append(x)
        else:
            old = ring[self.pos]
            ring[self.pos] = x
            self.pos = (self.pos + 1) % self.size
            del srt[bisect_left(srt, old)]
        insort(srt, x)

    def median(self) -> float:
        srt = self.sorted
        n = len(srt)
        half = n >> 1
        if n & 1:
            return srt[half]
        return (srt[half - 1] + srt[half]) / 2

    def mad(self, med: float) -> float:
        """Median absolute deviation from `med` (the current median)."""
        srt = self.sorted
        n = len(srt)
        split = bisect_left(srt, med)
        half = n >> 1
        if n & 1:
            return _kth_deviation(srt, split, med, half)
        return (_kth_deviation(srt, split, med, half - 1) + _kth_deviation(srt, split, med, half)) / 2


def _kth_deviation(srt: list[float], split: int, m: float, k: int) -> float:
    """The k-th smallest (0-based) |x - m| over sorted `srt`, where srt[:split] < m <= srt[split:].

    The deviations form two ascending sequences — A[i] = m - srt[split-1-i] walking left from the split,
    B[j] = srt[split+j] - m walking right — so this is the k-th element of two sorted arrays: binary
    search for how many of the k+1 smallest come from A.
    """
    na, nb = split, len(srt) - split
    lo, hi = max(0, k + 1 - nb), min(k + 1, na)
    while True:
        i = (lo + hi) >> 1  # taken from A
        j = k + 1 - i  # taken from B
        if i < na and j > 0 and srt[split + j - 1] - m > m - srt[split - 1 - i]:
            lo = i + 1
        elif i > 0 and j < nb and m - srt[split - i] > srt[split + j] - m:
            hi = i - 1
        else:
            a = m - srt[split - i] if i > 0 else -1.0
            b = srt[split + j - 1] - m if j > 0 else -1.0
            return a if a > b else b


class Fit:
    """A robust line through points (t, x), t in hours relative to the last point."""

    __slots__ = ("level", "slope", "tau")

    def __init__(self, slope: float, level: float, tau: float) -> None:
        self.slope = slope  # per hour
        self.level = level  # fitted value at the last point
        self.tau = tau  # Kendall τ-a in [-1, 1]: monotonic trend strength


def theil_sen(ts: list[float], xs: list[float]) -> Fit:
    """Theil–Sen slope (median of pairwise slopes) and Kendall's τ from the same pairs.

    `ts` are strictly increasing epoch seconds. O(n²) pairs, so callers keep n small (≤ 96) and fit
    rarely (once per closed bucket). 29% of the points can be arbitrary before the slope breaks down.
    """
    last = ts[-1]
    pts = [((t - last) / 3600.0, x) for t, x in zip(ts, xs, strict=True)]
    slopes = sorted([(xj - xi) / (hj - hi) for i, (hi, xi) in enumerate(pts) for hj, xj in pts[i + 1 :]])
    m = len(slopes)
    half = m >> 1
    slope = slopes[half] if m & 1 else (slopes[half - 1] + slopes[half]) / 2
    # Times strictly increase, so a pair's slope has the sign of its value change: the concordant and
    # discordant pair counts of Kendall's τ fall out of the sorted slopes.
    up = m - bisect_right(slopes, 0.0)
    down = bisect_left(slopes, 0.0)
    level = median([x - slope * h for h, x in pts])
    return Fit(slope, level, (up - down) / m)
