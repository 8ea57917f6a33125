"""The robust statistics against brute force, and the message formatting."""

from __future__ import annotations

import random
import statistics

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from iot.detection.robust import RollingMedian, theil_sen
from iot.detection.text import duration, num

values = st.lists(
    st.one_of(st.integers(-5, 5).map(float), st.floats(-1e6, 1e6, allow_nan=False)), min_size=1, max_size=80
)


@settings(max_examples=200, deadline=None)
@given(xs=values, size=st.integers(1, 25))
def test_rolling_median_and_mad_match_brute_force(xs: list[float], size: int) -> None:
    rm = RollingMedian(size)
    for i, x in enumerate(xs):
        rm.push(x)
        window = xs[max(0, i + 1 - size) : i + 1]
        med = statistics.median(window)
        assert rm.median() == med
        assert rm.mad(med) == statistics.median([abs(v - med) for v in window])
    again = RollingMedian(size, rm.ring, rm.pos)  # as restored from a snapshot
    assert again.sorted == rm.sorted


def test_theil_sen_recovers_a_line_and_shrugs_off_outliers() -> None:
    ts = [i * 1800.0 for i in range(40)]  # half-hourly
    xs = [3.0 + 0.2 * i for i in range(40)]  # +0.4 per hour
    fit = theil_sen(ts, xs)
    assert fit.slope == pytest.approx(0.4)
    assert fit.level == pytest.approx(xs[-1])
    assert fit.tau == 1.0
    rng = random.Random(1)
    for i in rng.sample(range(40), 8):  # a fifth of the points wild
        xs[i] += rng.choice((-50.0, 50.0))
    fit = theil_sen(ts, xs)
    assert fit.slope == pytest.approx(0.4, rel=0.1)
    assert fit.level == pytest.approx(3.0 + 0.2 * 39, abs=0.5)


def test_kendall_tau_of_noise_is_small() -> None:
    rng = random.Random(2)
    taus = [
        abs(theil_sen([i * 60.0 for i in range(48)], [rng.gauss(0, 1) for _ in range(48)]).tau)
        for _ in range(50)
    ]
    assert max(taus) < 0.4  # the trend rule's default bar is 0.6


@pytest.mark.parametrize(
    ("seconds", "text"),
    [
        (0, "0 s"),
        (59.4, "59 s"),
        (60, "1 min"),
        (3599, "59 min"),
        (3600, "1 h"),
        (5400, "1 h 30 min"),
        (86400, "1 d"),
        (86400 * 2 + 3600 * 5 + 60, "2 d 5 h"),
        (-5, "0 s"),
    ],
)
def test_duration(seconds: float, text: str) -> None:
    assert duration(seconds) == text


def test_num() -> None:
    assert num(7.1, "mm/s") == "7.1 mm/s"
    assert num(1234567.0) == "1.235e+06"
    assert num(0.000123456, "A") == "0.0001235 A"
