"""`fieldops care report`: what the care pass found, as text: consumables, key dates, churn, forecast."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

import sqlalchemy as sa

from automation.care import churn, forecast
from automation.care.models import CareNotice, Consumable, Prediction
from automation.models import Task
from core.services.context import ServiceContext
from core.store.models import Asset, Customer


def table(headers: Sequence[str], rows: Sequence[Sequence[object]], numeric: Sequence[int] = ()) -> str:
    cells = [[str(c) for c in row] for row in rows]
    widths = [max([_width(h)] + [_width(r[i]) for r in cells]) for i, h in enumerate(headers)]

    def line(values: Sequence[str]) -> str:
        parts = []
        for i, (v, w) in enumerate(zip(values, widths, strict=True)):
            pad = " " * (w - _width(v))
            parts.append(pad + v if i in numeric else v + pad)
        return "  " + "  ".join(parts).rstrip()

    return "\n".join([line(list(headers)), *(line(r) for r in cells)])


def _width(text: str) -> int:
    # CJK characters take two columns in a terminal.
    return sum(2 if "\u1100" <= ch <= "\uffdc" and not "\u2000" <= ch <= "\u303e" else 1 for ch in text)


def _num(value: float) -> str:
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:,.1f}"


def consumables(ctx: ServiceContext, now: datetime) -> str:
    s = ctx.session
    rows = s.execute(
        sa.select(CareNotice, Consumable, Asset.serial, Customer.name)
        .join(Consumable, Consumable.id == CareNotice.consumable_id)
        .join(Asset, Asset.id == CareNotice.asset_id)
        .join(Customer, Customer.id == CareNotice.customer_id)
        .where(CareNotice.status == "open")
        .order_by(CareNotice.run_out_at, CareNotice.id)
    ).all()
    later = s.scalar(
        sa.select(sa.func.count()).select_from(Prediction).where(Prediction.run_out_at.is_not(None))
    )
    unknown = s.scalar(
        sa.select(sa.func.count()).select_from(Prediction).where(Prediction.run_out_at.is_(None))
    )
    out = [f"Consumables running out (open notices, earliest first): {len(rows)}"]
    body = []
    for notice, c, serial, customer in rows:
        b = notice.basis
        if b.get("method") == "usage":
            used, rate = _num(b["used"]), _num(b["rate_per_day"])
            basis = f"{used} of {_num(b['capacity'])} {c.unit} used, {rate} {c.unit}/day"
        else:
            basis = f"every {b.get('cycle_days')} days since {b.get('from')} {str(b.get('since'))[:10]}"
        days = (notice.run_out_at.date() - now.date()).days
        to = {"task": "task", "portal": "portal", "both": "task+portal"}[c.notify]
        body.append(
            (
                notice.run_out_at.date().isoformat(),
                f"{days:+d}" if days else "0",
                customer,
                serial,
                c.name,
                to,
                basis,
            )
        )
    if body:
        out.append(
            table(("run-out", "days", "customer", "asset", "consumable", "notice", "basis"), body, (1,))
        )
    out.append(
        f"  ({(later or 0) - len(rows)} more predicted beyond their lead time; "
        f"{unknown or 0} without enough data)"
    )
    return "\n".join(out)


def key_dates(ctx: ServiceContext) -> str:
    tasks = list(
        ctx.session.scalars(
            sa.select(Task)
            .where(Task.kind == "key_date", Task.status == "open")
            .order_by(Task.due_at, Task.id)
        )
    )
    out = [f"Key-date reminders (open tasks for the account owners): {len(tasks)}"]
    if tasks:
        out.append(
            table(
                ("due", "owner", "reminder"), [(t.due_at.date().isoformat(), t.owner, t.title) for t in tasks]
            )
        )
    return "\n".join(out)


def churn_risk(ctx: ServiceContext) -> str:
    rows = churn.list_scores(ctx)
    flagged = [r for r in rows if r["level"] != "low"]
    out = [f"Churn risk (medium and high): {len(flagged)} of {len(rows)} customers"]
    if flagged:
        out.append(
            table(
                ("score", "level", "customer", "owner", "reasons"),
                [
                    (
                        r["score"],
                        r["level"],
                        f"{r['customer_code']} {r['customer_name']}",
                        r["account_owner"] or "-",
                        "; ".join(reason["reason"] for reason in r["reasons"]),
                    )
                    for r in flagged
                ],
                (0,),
            )
        )
    return "\n".join(out)


def _errors(e: dict[str, Any]) -> str:
    mape = "n/a" if e.get("mape") is None else f"{e['mape']:.1f} %"
    mase = "n/a" if e.get("mase") is None else f"{e['mase']:.2f}"
    return f"MAE {e['mae']:.2f}, MAPE {mape}, MASE {mase}"


def volume(ctx: ServiceContext) -> str:
    out = []
    for f in forecast.list_forecasts(ctx):
        out.append(f"Service-volume forecast — {f['territory']} ({f['method']})")
        rows = []
        for w in f["weeks"]:
            so_far = f"so far {w['so_far']}" if "so_far" in w else ""
            band = f"{w['low']:.0f}–{w['high']:.0f}"
            rows.append(
                (
                    w["iso_week"],
                    w["week_start"],
                    f"{w['expected']:.1f}",
                    band,
                    f"{w['expected_hours']:.0f}",
                    so_far,
                )
            )
        out.append(table(("week", "starts", "expected", "80 % band", "hours", ""), rows, (2, 3, 4)))
        bt = f["backtest"]
        if "model" in bt:
            out.append(
                f"  backtest: the last {bt['origins']} weeks as origins, 1–{bt['horizon']} weeks ahead "
                f"({bt['model']['points']} forecasts; {bt['history_weeks']} weeks of history)\n"
                f"    model:          {_errors(bt['model'])}\n"
                f"    seasonal naive: {_errors(bt['seasonal_naive'])}  (the same week a year earlier)"
            )
        else:
            out.append(f"  backtest: {bt.get('why')}")
    return "\n".join(out) if out else "Service-volume forecast: no territories"


def render(ctx: ServiceContext, took_s: float | None = None) -> str:
    now = ctx.now()
    head = f"fieldops care report — {now.strftime('%Y-%m-%d %H:%M')} UTC"
    if took_s is not None:
        head += f" (care pass {took_s:.1f} s)"
    return "\n\n".join([head, consumables(ctx, now), key_dates(ctx), churn_risk(ctx), volume(ctx)]) + "\n"
