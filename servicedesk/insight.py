"""The 360° customer view: what an agent needs to answer "what is going on with this customer" at once.

Open alarms (iot) and spend (fieldwork's settlements) come through core's annex, so this module needs
neither feature.
"""

from __future__ import annotations

from collections import defaultdict
from decimal import Decimal
from typing import Any

import sqlalchemy as sa

from core.domain.lifecycle import OPEN_STATUSES
from core.domain.sla import SlaState
from core.services import annex, sla
from core.services.common import get_or_404
from core.services.context import ServiceContext
from core.store import sla_sql
from core.store.models import Asset, Customer, Site, Visit, WorkOrder
from servicedesk import contacts, surveys
from servicedesk.models import InboundMessage, SurveyResponse
from servicedesk.portal import summary
from servicedesk.triage import coverage_of


def overview(ctx: ServiceContext, customer_id: int) -> dict[str, Any]:
    s = ctx.session
    customer = get_or_404(s, Customer, customer_id, "customer")
    now = ctx.now()
    today = now.date()
    sites = list(s.scalars(sa.select(Site).where(Site.customer_id == customer_id).order_by(Site.id)))
    assets_out = []
    for a in s.scalars(
        sa.select(Asset)
        .join(Site, Asset.site_id == Site.id)
        .where(Site.customer_id == customer_id)
        .order_by(Asset.id)
    ):
        contract = sla.active_contract(s, customer_id, a, today)
        cov = coverage_of(
            today,
            a.warranty_ends_on,
            (contract.number, contract.tier, contract.ends_on, contract.covers_labour, contract.covers_parts)
            if contract
            else None,
        )
        assets_out.append(
            {"id": a.id, "serial": a.serial, "site_id": a.site_id, "model": a.model.code, **cov}
        )
    alarms = annex.asset_facts(s, [row["id"] for row in assets_out])
    for row in assets_out:
        row["open_alarms"] = [_alarm(f) for f in alarms[row["id"]]]
    orders = list(
        s.scalars(sa.select(WorkOrder).where(WorkOrder.customer_id == customer_id).order_by(WorkOrder.id))
    )
    open_orders = [w for w in orders if w.status in OPEN_STATUSES]
    done = [w for w in orders if w.status in ("completed", "closed")]
    visits_per: dict[int, int] = {}
    for wo_id, count in s.execute(
        sa.select(Visit.work_order_id, sa.func.count())
        .where(Visit.work_order_id.in_([w.id for w in done] or [0]), Visit.status == "signed_off")
        .group_by(Visit.work_order_id)
    ).all():
        visits_per[int(wo_id)] = int(count)
    first_time = len([w for w in done if visits_per.get(w.id, 0) <= 1])
    charges = annex.work_order_charges(s, [w.id for w in orders])
    breached = s.scalar(
        sa.select(sa.func.count()).where(
            WorkOrder.customer_id == customer_id,
            WorkOrder.status.in_(sorted(OPEN_STATUSES)),
            sla_sql.in_state(SlaState.BREACHED, now),
        )
    )
    by_month: dict[tuple[str, str], list[int]] = {}
    for r in s.scalars(sa.select(SurveyResponse).where(SurveyResponse.customer_id == customer_id)):
        by_month.setdefault((r.answered_at.strftime("%Y-%m"), r.kind), []).append(r.score)
    survey_rows = [{"month": m, "kind": k, **surveys.figures(v, k)} for (m, k), v in sorted(by_month.items())]
    triage = s.scalar(
        sa.select(sa.func.count()).where(
            InboundMessage.customer_id == customer_id, InboundMessage.state == "triage"
        )
    )
    flags = []
    if breached:
        flags.append({"flag": "sla_breached", "count": breached, "text": "有超时工单 / SLA breached"})
    if any(r.get("nps", 0) < 0 or r.get("satisfied_pct", 100) < 60 for r in survey_rows[-3:]):
        flags.append({"flag": "unhappy", "text": "近期满意度偏低 / recent low satisfaction"})
    open_alarms = sum(len(a["open_alarms"]) for a in assets_out)
    if open_alarms:
        flags.append({"flag": "open_alarms", "count": open_alarms, "text": "设备有未关闭告警 / open alarms"})
    if any(not a["under_warranty"] and a["contract"] is None for a in assets_out):
        flags.append({"flag": "uncovered_assets", "text": "有资产无保修无合同 / assets without cover"})
    return {
        "customer": {"id": customer.id, "code": customer.code, "name": customer.name},
        "vip": contacts.is_vip(ctx, customer_id),
        "sites": [{"id": x.id, "name": x.name, "address": x.address} for x in sites],
        "assets": assets_out,
        "open_work_orders": [summary(w) for w in open_orders],
        "past_work_orders": [
            {**summary(w), "charged": _money(charges[w.id])} for w in orders if w.status not in OPEN_STATUSES
        ][-20:],
        "first_time_fix_rate": (first_time / len(done)) if done else None,
        "open_alarms": open_alarms,
        "spend": _spend(charges),
        "surveys": survey_rows,
        "waiting_in_triage": triage,
        "risk_flags": flags,
    }


def _alarm(fact: annex.Fact) -> dict[str, Any]:
    return {
        "kind": fact.kind,
        "code": fact.code,
        "summary": fact.summary,
        "severity": fact.severity,
        "raised_at": fact.raised_at.isoformat() if fact.raised_at else None,
        "link": fact.link,
    }


def _money(charges: list[annex.Charge]) -> dict[str, str]:
    """What the customer paid for one job, per currency (decimal strings: money is never a float)."""
    paid: dict[str, Decimal] = defaultdict(Decimal)
    for c in charges:
        paid[c.currency] += c.customer
    return {currency: str(amount) for currency, amount in sorted(paid.items())}


def _spend(charges: dict[int, list[annex.Charge]]) -> list[dict[str, Any]]:
    """Totals per currency and month: what the work cost, what cover paid, what the customer paid."""
    sums: dict[tuple[str, str], list[Decimal]] = defaultdict(lambda: [Decimal(0)] * 3)
    jobs: dict[tuple[str, str], set[int]] = defaultdict(set)
    for wo_id, items in charges.items():
        for c in items:
            key = (c.currency, c.at.strftime("%Y-%m"))
            row = sums[key]
            row[0] += c.total
            row[1] += c.covered
            row[2] += c.customer
            jobs[key].add(wo_id)
    return [
        {
            "currency": currency,
            "month": month,
            "jobs": len(jobs[(currency, month)]),
            "total": str(total),
            "covered": str(covered),
            "customer": str(customer),
        }
        for (currency, month), (total, covered, customer) in sorted(sums.items())
    ]
