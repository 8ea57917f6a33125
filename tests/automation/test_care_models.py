"""The care feature's arithmetic, without a database: run-out, churn scorecard, forecast and backtest."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

from hypothesis import given, settings
from hypothesis import strategies as st

from automation.care import churn_model, forecast_model, runout
from automation.care.runout import Reading

T = datetime(2026, 6, 1, tzinfo=UTC)


def _days(n: float) -> timedelta:
    return timedelta(days=n)


# ---------------------------------------------------------------- run-out


def test_a_meter_reset_is_not_negative_use() -> None:
    readings = [
        Reading(T, 100),
        Reading(T + _days(1), 110),
        Reading(T + _days(2), 4),
        Reading(T + _days(3), 14),
    ]
    assert [v for _, v in runout.odometer(readings)] == [100, 110, 114, 124]


def test_one_odd_reading_does_not_swing_the_rate() -> None:
    readings = [Reading(T + _days(d), 10.0 * d) for d in range(10)]
    readings[5] = Reading(T + _days(5), 400.0)  # a misread meter
    assert runout.rate_of_use(readings) == 10
    # In the odometer the misread counts 10 × the usual rate at most, not its whole jump of 360.
    assert runout.odometer(readings)[-1][1] == 90 + (100 - 10) + (60 - 10)


@settings(max_examples=200, deadline=None)
@given(
    capacity=st.floats(10, 1e6),
    used_share=st.floats(0.05, 0.95),
    gap_days=st.integers(1, 14),
    n=st.integers(2, 20),
)
def test_a_steady_counter_runs_out_where_arithmetic_says(
    capacity: float, used_share: float, gap_days: int, n: int
) -> None:
    """Replaced when the lifetime counter read `base`; readings every `gap_days` at a steady rate that has
    used `used_share` of the capacity by the last reading."""
    base = 12_345.0
    replaced = T
    rate = capacity * used_share / (gap_days * (n - 1))
    readings = [Reading(T + _days(gap_days * i), base + rate * gap_days * i) for i in range(n)]
    p = runout.by_usage(capacity, readings, replaced)
    expected = replaced + _days(capacity / rate)
    assert p.run_out_at is not None
    assert abs((p.run_out_at - expected).total_seconds()) < 60


def test_used_up_already_dates_the_crossing() -> None:
    readings = [Reading(T + _days(d), 100.0 * d) for d in range(0, 30, 5)]
    p = runout.by_usage(1200, readings, None)  # never replaced: fitted at 0 at installation
    assert p.run_out_at == T + _days(15) and p.basis["used"] == 2500


def test_a_replacement_before_the_first_reading_is_extrapolated_back_never_below_zero() -> None:
    readings = [Reading(T + _days(10), 1000), Reading(T + _days(20), 2000)]
    p = runout.by_usage(5000, readings, T)
    assert p.basis["used"] == 2000  # the counter read 0 at T (100/day back from 1000 at day 10)
    assert p.run_out_at == T + _days(50)
    far = runout.by_usage(5000, readings, T - _days(100))
    assert far.basis["used"] == 2000  # not 12,000: a lifetime counter was never below 0


def test_too_few_readings_or_no_use_predict_nothing() -> None:
    assert runout.by_usage(10, [Reading(T, 5)], None).run_out_at is None
    flat = runout.by_usage(10, [Reading(T, 5), Reading(T + _days(3), 5)], T - _days(1))
    assert flat.run_out_at is None and "not in use" in flat.basis["why"]


def test_a_cycle_counts_from_the_replacement_else_the_installation() -> None:
    assert runout.by_cycle(90, T, T - _days(400)).run_out_at == T + _days(90)
    assert runout.by_cycle(90, None, T).run_out_at == T + _days(90)
    assert runout.by_cycle(90, None, None).run_out_at is None


# ---------------------------------------------------------------- churn


def test_a_quiet_customer_scores_nothing() -> None:
    result = churn_model.score(churn_model.Signals(ratings_recent=(5, 4, 5), ratings_before=(5, 5), due=20))
    assert (result.score, result.level, result.reasons) == (0, "low", [])


def test_each_signal_gives_its_reason() -> None:
    sig = churn_model.Signals(
        ratings_recent=(2, 3, 2, 3),
        ratings_before=(5, 4, 5, 5),
        nps_scores=(2, 3, 10),
        repeats=2,
        breaches=6,
        due=20,
        tickets_recent=9,
        tickets_usual=2.0,
    )
    result = churn_model.score(sig)
    signals = {r["signal"]: r["points"] for r in result.reasons}
    assert signals == {
        "ratings_falling": 30,  # 4.75 → 2.5: 20 × 2.25, capped
        "ratings_low": 10,
        "nps_negative": 7,  # NPS -33
        "repeat_work": 16,
        "sla_breaches": 24,  # 30 % against 5 %: 25, capped at 24
        "ticket_spike": 25,
    }
    assert result.score == 100 and result.level == "high"
    assert all(r["reason"] and r["reason_zh"] for r in result.reasons)


def test_a_few_breaches_in_much_work_are_not_a_signal() -> None:
    assert churn_model.score(churn_model.Signals(breaches=2, due=60)).score == 0
    assert churn_model.score(churn_model.Signals(breaches=1, due=2)).score == 0  # one is not a pattern


def test_poisson_tail() -> None:
    assert churn_model.poisson_tail(0, 3.0) == 1.0
    assert math.isclose(churn_model.poisson_tail(1, 2.0), 1 - math.exp(-2))
    assert churn_model.poisson_tail(9, 2.0) < 0.001 < churn_model.poisson_tail(5, 2.0)


@settings(max_examples=200, deadline=None)
@given(
    recent=st.lists(st.integers(1, 5), max_size=8),
    before=st.lists(st.integers(1, 5), max_size=8),
    repeats=st.integers(0, 5),
    breaches=st.integers(0, 10),
    due=st.integers(0, 40),
    tickets=st.integers(0, 20),
    usual=st.floats(0, 10),
)
def test_more_trouble_never_lowers_the_score(
    recent: list[int], before: list[int], repeats: int, breaches: int, due: int, tickets: int, usual: float
) -> None:
    base = churn_model.Signals(
        tuple(recent), tuple(before), (), repeats, breaches, max(due, breaches), tickets, usual
    )
    worse = churn_model.Signals(
        tuple(recent), tuple(before), (), repeats + 1, breaches + 1, max(due, breaches) + 1, tickets, usual
    )
    a, b = churn_model.score(base), churn_model.score(worse)
    assert 0 <= a.score <= b.score <= 100
    assert a.level in ("low", "medium", "high")


# ---------------------------------------------------------------- forecast


def _series(weeks: int, noise: float, seed: int = 1) -> list[float]:
    rng = random.Random(seed)
    return [
        max(0.0, 20 + 0.05 * t + 7 * math.sin(2 * math.pi * t / forecast_model.PERIOD) + rng.gauss(0, noise))
        for t in range(weeks)
    ]


def test_a_clean_season_and_trend_is_recovered() -> None:
    y = _series(120, 0.0)
    _, ahead = forecast_model.forecast(y, 4)
    truth = [20 + 0.05 * t + 7 * math.sin(2 * math.pi * t / forecast_model.PERIOD) for t in range(120, 124)]
    assert all(abs(f - t) < 1e-6 for (f, _, _), t in zip(ahead, truth, strict=True))


def test_the_harmonic_model_beats_seasonal_naive_on_a_noisy_season() -> None:
    bt = forecast_model.backtest(_series(130, 2.0))
    assert bt.model is not None and bt.seasonal_naive is not None
    assert bt.model.n == bt.seasonal_naive.n == 13 * 4 - 6  # the last origins cannot see 4 weeks ahead
    assert bt.model.mase is not None and bt.seasonal_naive.mase is not None
    assert bt.model.mase < bt.seasonal_naive.mase


def test_short_history_falls_back_and_says_why() -> None:
    model, ahead = forecast_model.forecast([10, 12, 11, 9], 2)
    assert model.k == -1 and "recent mean" in model.method and ahead[0][0] == 10.5
    assert "needs" in (forecast_model.backtest([10.0] * 40).why or "")


def test_error_measures_on_a_hand_worked_example() -> None:
    # Actual 10, 0, 20 against forecasts 12, 1, 15; a scale (in-sample seasonal naive MAE) of 4.
    e = forecast_model._errors([(10, 12), (0, 1), (20, 15)], 4.0)
    assert e.mae is not None and math.isclose(e.mae, 8 / 3)
    assert e.mape is not None and math.isclose(e.mape, 100 * (0.2 + 0.25) / 2)  # the zero actual is left out
    assert e.mase is not None and math.isclose(e.mase, (8 / 3) / 4)
