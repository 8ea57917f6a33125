"""The forecast step of the care pass: work orders created per territory and week (Monday–Sunday in the
territory's time zone), forecast for the next weeks with `forecast_model`, and its backtest.

Cancelled work orders are not counted (no engineer goes). The week in progress is not history yet: the
model learns from complete weeks and its first forecast week is the current one (its count so far is
shown beside it). Expected hours use the mean estimated duration of the last 13 weeks' work, so a
dispatcher can turn the forecast into engineer-days.
"""

from __future__ import annotations

from collections import Counter
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import sqlalchemy as sa

from automation.care import forecast_model
from automation.care.models import VolumeForecast
from automation.store import insert_ignore, plain
from core.services.context import ServiceContext
from core.store.models import Territory, WorkOrder

HISTORY_WEEKS = 156
FORECAST_WEEKS = 8


def week_start(at: datetime, zone: ZoneInfo) -> date:
    local = at.astimezone(zone).date()
    return local - timedelta(days=local.weekday())


def weekly_counts(
    ctx: ServiceContext, territory_id: int, zone: ZoneInfo
) -> tuple[list[date], list[float], float, int]:
    """(complete weeks, their counts, mean estimated minutes over 13 weeks, the current week so far)."""
    now = ctx.now()
    current = week_start(now, zone)
    since = now - timedelta(weeks=HISTORY_WEEKS + 1)
    rows = ctx.session.execute(
        sa.select(WorkOrder.created_at, WorkOrder.estimated_minutes).where(
            WorkOrder.territory_id == territory_id,
            WorkOrder.created_at >= since,
            WorkOrder.created_at <= now,
            # Cancelled work (duplicates merged away, calls withdrawn) needs no engineer.
            WorkOrder.status != "cancelled",
        )
    ).all()
    counts: Counter[date] = Counter(week_start(at, zone) for at, _ in rows)
    recent = [m for at, m in rows if at >= now - timedelta(weeks=13)]
    minutes = sum(recent) / len(recent) if recent else 0.0
    complete = [w for w in counts if w < current]
    if not complete:
        return [], [], minutes, counts[current]
    first = max(min(complete), current - timedelta(weeks=HISTORY_WEEKS))
    weeks = []
    w = first
    while w < current:
        weeks.append(w)
        w += timedelta(weeks=1)
    return weeks, [float(counts[w]) for w in weeks], minutes, counts[current]


def compute(ctx: ServiceContext, territory: Territory) -> dict[str, Any]:
    zone = ZoneInfo(territory.timezone)
    weeks, y, minutes, so_far = weekly_counts(ctx, territory.id, zone)
    current = week_start(ctx.now(), zone)
    model, ahead = forecast_model.forecast(y, FORECAST_WEEKS)
    by_week = dict(zip(weeks, y, strict=True))
    out_weeks = []
    for h, (mean, low, high) in enumerate(ahead):
        start = current + timedelta(weeks=h)
        # The same week a year earlier (the seasonal naive figure), for a person to compare with.
        last_year = by_week.get(start - timedelta(weeks=52))
        out_weeks.append(
            {
                "week_start": start.isoformat(),
                "iso_week": f"{start.isocalendar().year}-W{start.isocalendar().week:02d}",
                "expected": round(mean, 1),
                "low": round(low, 1),
                "high": round(high, 1),
                "expected_hours": round(mean * minutes / 60, 1),
                "last_year": None if last_year is None else int(last_year),
                **({"so_far": so_far} if h == 0 else {}),
            }
        )
    history = [
        {"week_start": w.isoformat(), "count": int(c)} for w, c in list(zip(weeks, y, strict=True))[-12:]
    ]
    return {
        "method": model.method,
        "weeks": out_weeks,
        "history": history,
        "backtest": {**forecast_model.backtest(y).as_dict(), "history_weeks": len(y)},
    }


def run(ctx: ServiceContext) -> dict[str, int]:
    now = ctx.now()
    done = 0
    for territory in ctx.session.scalars(sa.select(Territory).order_by(Territory.id)):
        values = {**compute(ctx, territory), "computed_at": now}
        updated = ctx.session.execute(
            sa.update(VolumeForecast).where(VolumeForecast.territory_id == territory.id).values(**values)
        )
        if getattr(updated, "rowcount", 0) == 0:
            insert_ignore(
                ctx.session,
                VolumeForecast,
                {"territory_id": territory.id, **values},
                VolumeForecast.territory_id,
            )
        done += 1
    ctx.session.commit()
    return {"territories": done}


def list_forecasts(ctx: ServiceContext, territory_id: int | None = None) -> list[dict[str, Any]]:
    query = (
        sa.select(VolumeForecast, Territory.name)
        .join(Territory, Territory.id == VolumeForecast.territory_id)
        .order_by(VolumeForecast.territory_id)
    )
    if territory_id is not None:
        query = query.where(VolumeForecast.territory_id == territory_id)
    return [
        plain(
            {
                "territory_id": f.territory_id,
                "territory": name,
                "method": f.method,
                "weeks": f.weeks,
                "history": f.history,
                "backtest": f.backtest,
                "computed_at": f.computed_at,
            }
        )
        for f, name in ctx.session.execute(query)
    ]
