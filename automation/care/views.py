"""What the care API shows: run-out predictions, notices (the office's, a customer's own), the last pass."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any, Literal

import sqlalchemy as sa

from automation.care.models import CareNotice, CareRun, Consumable, Prediction
from automation.care.runner import NAME
from automation.store import plain
from core.services.context import ServiceContext
from core.store.models import Asset, Customer, Site

NoticeState = Literal["open", "resolved", "all"]


def predictions(
    ctx: ServiceContext,
    within_days: int | None = None,
    customer_id: int | None = None,
    asset_id: int | None = None,
    limit: int = 100,
) -> list[dict[str, Any]]:
    """The latest run-out prediction per (asset, consumable), soonest first (unknown ones last)."""
    query = (
        sa.select(Prediction, Consumable, Asset.serial, Site.customer_id, Customer.name)
        .join(Consumable, Consumable.id == Prediction.consumable_id)
        .join(Asset, Asset.id == Prediction.asset_id)
        .join(Site, Site.id == Asset.site_id)
        .join(Customer, Customer.id == Site.customer_id)
        .order_by(Prediction.run_out_at.is_(None), Prediction.run_out_at, Prediction.asset_id)
    )
    if within_days is not None:
        query = query.where(Prediction.run_out_at <= ctx.now() + timedelta(days=within_days))
    if customer_id is not None:
        query = query.where(Site.customer_id == customer_id)
    if asset_id is not None:
        query = query.where(Prediction.asset_id == asset_id)
    return [
        plain(
            {
                "asset_id": p.asset_id,
                "serial": serial,
                "customer_id": cust,
                "customer": name,
                "consumable_id": c.id,
                "consumable": c.code,
                "name": c.name,
                "run_out_at": p.run_out_at,
                "days_left": _days_left(p.run_out_at, ctx.now()),
                "lead_days": c.lead_days,
                "basis": p.basis,
                "computed_at": p.computed_at,
            }
        )
        for p, c, serial, cust, name in ctx.session.execute(query.limit(limit))
    ]


def _days_left(at: datetime | None, now: datetime) -> float | None:
    return None if at is None else round((at - now).total_seconds() / 86400, 1)


def notices(
    ctx: ServiceContext,
    state: NoticeState = "open",
    customer_id: int | None = None,
    portal_only: bool = False,
    limit: int = 100,
) -> list[dict[str, Any]]:
    query = (
        sa.select(CareNotice, Consumable, Asset.serial, Customer.name)
        .join(Consumable, Consumable.id == CareNotice.consumable_id)
        .join(Asset, Asset.id == CareNotice.asset_id)
        .join(Customer, Customer.id == CareNotice.customer_id)
        .order_by(CareNotice.run_out_at, CareNotice.id)
    )
    if state != "all":
        query = query.where(CareNotice.status == state)
    if customer_id is not None:
        query = query.where(CareNotice.customer_id == customer_id)
    if portal_only:
        query = query.where(CareNotice.portal.is_(True))
    now = ctx.now()
    out = []
    for n, c, serial, customer in ctx.session.execute(query.limit(limit)):
        row = {
            "id": n.id,
            "status": n.status,
            "asset_id": n.asset_id,
            "serial": serial,
            "customer_id": n.customer_id,
            "customer": customer,
            "consumable": c.code,
            "name": c.name,
            "run_out_at": n.run_out_at,
            "days_left": _days_left(n.run_out_at, now),
            "raised_at": n.raised_at,
            "updated_at": n.updated_at,
            "count": n.count,
            "resolved_at": n.resolved_at,
            "resolved_reason": n.resolved_reason,
        }
        if not portal_only:  # the office also sees how it was worked out and the task it raised
            row.update(basis=n.basis, task_id=n.task_id, portal=n.portal)
        out.append(plain(row))
    return out


def status(ctx: ServiceContext) -> dict[str, Any]:
    run = ctx.session.get(CareRun, NAME)
    if run is None:
        return {"ran": False}
    return plain(
        {
            "ran": run.last_finished_at is not None,
            "holder": run.holder,
            "lease_until": run.lease_until,
            "next_due_at": run.next_due_at,
            "last_started_at": run.last_started_at,
            "last_finished_at": run.last_finished_at,
            "last_result": run.last_result,
        }
    )
