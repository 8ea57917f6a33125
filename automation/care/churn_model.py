"""Churn risk from service signals: a scorecard with its reasons. Plain Python; no I/O.

There is no history of customers who left to train a model on, so this is an explainable scorecard: each
signal adds points up to a cap, the reasons say how many and why, and the total (0–100) reads as
low (< 25), medium (25–49) or high (≥ 50). The windows: "recent" is the last 90 days, "before" the 180
days before that; tickets compare the last 28 days with the 12 × 28 days before.

| signal | points |
|---|---|
| ratings falling: recent mean ≥ 0.5 below the earlier mean (both ≥ 2 ratings) | 20 × the drop, ≤ 30 |
| ratings low: recent mean ≤ 3.0 (≥ 2 ratings) | 10 |
| NPS below 0 (% promoters 9–10 − % detractors 0–6; ≥ 3 answers) | NPS ÷ −5, ≤ 15 |
| repeat work: the same fault on an asset ≤ 30 days after it was fixed, or a job reopened | 8 each, ≤ 24 |
| SLA breaches: ≥ 2, and more than 5 % of the jobs due recently missed a target | 1 per % above 5, ≤ 24 |
| ticket spike: ≥ 3 in 28 days, and that many has < 2 % chance at the usual rate (Poisson) | 25 |
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

LEVELS = ((50, "high"), (25, "medium"), (0, "low"))
SPIKE_P = 0.02


@dataclass(frozen=True, slots=True)
class Signals:
    ratings_recent: tuple[int, ...] = ()
    ratings_before: tuple[int, ...] = ()
    nps_scores: tuple[int, ...] = ()
    repeats: int = 0
    breaches: int = 0
    # Recent work orders with a response or resolution target that fell due (the breach rate's base).
    due: int = 0
    tickets_recent: int = 0
    # Mean work orders per 28 days over the year before.
    tickets_usual: float = 0.0

    def as_dict(self) -> dict[str, Any]:
        return {
            "ratings_recent": len(self.ratings_recent),
            "rating_recent_mean": _mean(self.ratings_recent),
            "ratings_before": len(self.ratings_before),
            "rating_before_mean": _mean(self.ratings_before),
            "nps_answers": len(self.nps_scores),
            "nps": nps(self.nps_scores),
            "repeats": self.repeats,
            "sla_breaches": self.breaches,
            "sla_due": self.due,
            "tickets_last_28_days": self.tickets_recent,
            "tickets_usual_per_28_days": round(self.tickets_usual, 2),
        }


@dataclass(frozen=True, slots=True)
class Score:
    score: int
    level: str
    reasons: list[dict[str, Any]] = field(default_factory=list)


def _mean(values: tuple[int, ...]) -> float | None:
    return round(sum(values) / len(values), 2) if values else None


def nps(scores: tuple[int, ...]) -> int | None:
    """Net promoter score: % promoters (9–10) − % detractors (0–6)."""
    if not scores:
        return None
    promoters = sum(1 for s in scores if s >= 9)
    detractors = sum(1 for s in scores if s <= 6)
    return round(100 * (promoters - detractors) / len(scores))


def poisson_tail(k: int, rate: float) -> float:
    """P(X ≥ k) for X ~ Poisson(rate)."""
    if k <= 0:
        return 1.0
    if rate <= 0:
        return 0.0
    term = math.exp(-rate)
    below = term
    for i in range(1, k):
        term *= rate / i
        below += term
    return max(0.0, 1.0 - below)


def score(sig: Signals) -> Score:
    reasons: list[dict[str, Any]] = []

    def add(signal: str, points: float, en: str, zh: str) -> None:
        reasons.append({"signal": signal, "points": round(points), "reason": en, "reason_zh": zh})

    recent, before = _mean(sig.ratings_recent), _mean(sig.ratings_before)
    n_recent = len(sig.ratings_recent)
    if recent is not None and before is not None and n_recent >= 2 and len(sig.ratings_before) >= 2:
        drop = before - recent
        if drop >= 0.5:
            add(
                "ratings_falling",
                min(20 * drop, 30),
                f"ratings fell from {before:.1f} to {recent:.1f} ({n_recent} in 90 days)",
                f"满意度从 {before:.1f} 降至 {recent:.1f}（近 90 天 {n_recent} 个评价）",
            )
    if recent is not None and n_recent >= 2 and recent <= 3.0:
        add("ratings_low", 10, f"recent ratings average {recent:.1f} of 5", f"近期评分平均 {recent:.1f}/5")
    net = nps(sig.nps_scores)
    if net is not None and len(sig.nps_scores) >= 3 and net < 0:
        add(
            "nps_negative",
            min(-net / 5, 15),
            f"NPS {net} ({len(sig.nps_scores)} answers in 90 days)",
            f"NPS {net}（近 90 天 {len(sig.nps_scores)} 份答卷）",
        )
    if sig.repeats:
        add(
            "repeat_work",
            min(8 * sig.repeats, 24),
            f"{sig.repeats} repeat job(s): the same fault back within 30 days of the fix",
            f"近 90 天同一故障修复后 30 天内复发 {sig.repeats} 次",
        )
    rate = sig.breaches / sig.due if sig.due else 0.0
    if sig.breaches >= 2 and rate > 0.05:
        add(
            "sla_breaches",
            min(100 * (rate - 0.05), 24),
            f"{sig.breaches} of {sig.due} jobs due in 90 days missed an SLA target ({rate:.0%})",
            f"近 90 天 {sig.due} 张到期工单中 {sig.breaches} 张 SLA 违约（{rate:.0%}）",
        )
    if sig.tickets_recent >= 3 and poisson_tail(sig.tickets_recent, sig.tickets_usual) < SPIKE_P:
        add(
            "ticket_spike",
            25,
            f"{sig.tickets_recent} tickets in 28 days against {sig.tickets_usual:.1f} usually",
            f"近 28 天 {sig.tickets_recent} 张工单，平时约 {sig.tickets_usual:.1f} 张",
        )
    reasons = [r for r in reasons if r["points"] > 0]
    total = min(100, sum(r["points"] for r in reasons))
    level = next(name for floor, name in LEVELS if total >= floor)
    return Score(total, level, sorted(reasons, key=lambda r: -r["points"]))
