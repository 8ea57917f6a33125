"""The churn step of the care pass: gather each customer's service signals from core tables and the outbox,
score them (`churn_model`), keep the score with its reasons; and the list account owners read.

Ratings are the domain events every rating is recorded as (`work_order.rated` from sign-off,
`survey.answered` from surveys, both on a 1–5 scale, NPS answers with their 0–10 score too), so this
needs neither the service desk's nor the field-work feature's tables.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import sqlalchemy as sa

from automation import people
from automation.care.churn_model import Signals, score
from automation.care.models import ChurnScore
from automation.store import insert_ignore, plain
from core.domain.sla import SlaState, SlaTargets, sla_state
from core.services.context import ServiceContext
from core.store.models import AuditEvent, Customer, OutboxEvent, Site, WorkOrder

RECENT = timedelta(days=90)
BEFORE = timedelta(days=180)
REPEAT_WITHIN = timedelta(days=30)
TICKETS_RECENT = timedelta(days=28)
TICKETS_USUAL = timedelta(days=336)
RATING_EVENTS = ("work_order.rated", "survey.answered")


@dataclass
class _Acc:
    ratings_recent: list[int] = field(default_factory=list)
    ratings_before: list[int] = field(default_factory=list)
    nps_scores: list[int] = field(default_factory=list)
    repeats: set[int] = field(default_factory=set)
    breaches: int = 0
    due: int = 0
    tickets_recent: int = 0
    tickets_before: int = 0
    first_order: datetime | None = None


def signals(ctx: ServiceContext) -> dict[int, Signals]:
    s, now = ctx.session, ctx.now()
    acc: dict[int, _Acc] = defaultdict(_Acc)
    for (customer_id,) in s.execute(sa.select(Customer.id)):
        acc[customer_id] = _Acc()
    _ratings(ctx, acc, now)
    _work(ctx, acc, now)
    out = {}
    for customer_id, a in acc.items():
        usual = 0.0
        if a.first_order is not None and a.first_order < now - TICKETS_RECENT:
            days = min(TICKETS_USUAL, now - TICKETS_RECENT - a.first_order) / timedelta(days=1)
            usual = a.tickets_before / max(days / 28, 1.0)
        out[customer_id] = Signals(
            ratings_recent=tuple(a.ratings_recent),
            ratings_before=tuple(a.ratings_before),
            nps_scores=tuple(a.nps_scores),
            repeats=len(a.repeats),
            breaches=a.breaches,
            due=a.due,
            tickets_recent=a.tickets_recent,
            tickets_usual=usual,
        )
    return out


def _ratings(ctx: ServiceContext, acc: dict[int, _Acc], now: datetime) -> None:
    rows = ctx.session.execute(
        sa.select(OutboxEvent.occurred_at, OutboxEvent.data).where(
            OutboxEvent.type.in_(RATING_EVENTS),
            OutboxEvent.occurred_at >= now - RECENT - BEFORE,
            OutboxEvent.occurred_at <= now,
        )
    )
    for at, data in rows:
        customer_id, rating = (data or {}).get("customer_id"), (data or {}).get("rating")
        if not isinstance(customer_id, int) or not isinstance(rating, int) or customer_id not in acc:
            continue
        a = acc[customer_id]
        if at >= now - RECENT:
            a.ratings_recent.append(rating)
            if data.get("kind") == "nps" and isinstance(data.get("score"), int):
                a.nps_scores.append(data["score"])
        else:
            a.ratings_before.append(rating)


def _work(ctx: ServiceContext, acc: dict[int, _Acc], now: datetime) -> None:
    s = ctx.session
    since = now - TICKETS_USUAL - TICKETS_RECENT
    orders = s.execute(
        sa.select(
            WorkOrder.id,
            WorkOrder.customer_id,
            WorkOrder.asset_id,
            WorkOrder.title,
            WorkOrder.created_at,
            WorkOrder.resolved_at,
            WorkOrder.responded_at,
            WorkOrder.respond_by,
            WorkOrder.resolve_by,
            WorkOrder.respond_risk_at,
            WorkOrder.resolve_risk_at,
            WorkOrder.cancelled_at,
        )
        .where(WorkOrder.created_at >= since, WorkOrder.created_at <= now)
        .order_by(WorkOrder.created_at, WorkOrder.id)
    ).all()
    firsts = s.execute(
        sa.select(WorkOrder.customer_id, sa.func.min(WorkOrder.created_at)).group_by(WorkOrder.customer_id)
    ).all()
    for customer_id, first in firsts:
        if customer_id in acc and first is not None:
            acc[customer_id].first_order = first
    # The same fault: the same asset and the same title (how a caller, or the fault map, names it).
    last_fixed: dict[tuple[int, str], datetime] = {}
    for (
        wo_id,
        cust,
        asset,
        title,
        created,
        resolved,
        responded,
        r_by,
        s_by,
        r_risk,
        s_risk,
        cancelled,
    ) in orders:
        a = acc[cust]
        if created >= now - TICKETS_RECENT:
            a.tickets_recent += 1
        else:
            a.tickets_before += 1
        if asset is not None:
            fault = (asset, " ".join(title.casefold().split()))
            fixed = last_fixed.get(fault)
            if (
                created >= now - RECENT
                and fixed is not None
                and timedelta(0) <= created - fixed <= REPEAT_WITHIN
            ):
                a.repeats.add(wo_id)
            if resolved is not None:
                last_fixed[fault] = resolved
        due = [d for d in (r_by, s_by) if d is not None and now - RECENT <= d <= now]
        if due and cancelled is None and None not in (r_by, s_by, r_risk, s_risk):
            a.due += 1
            state = sla_state(now, SlaTargets(r_by, s_by, r_risk, s_risk), responded, resolved)
            if state is SlaState.BREACHED:
                a.breaches += 1
    reopened = s.execute(
        sa.select(AuditEvent.subject_id, WorkOrder.customer_id)
        .join(WorkOrder, WorkOrder.id == AuditEvent.subject_id)
        .where(
            AuditEvent.subject_type == "work_order",
            AuditEvent.to_state == "needs_revisit",
            AuditEvent.at >= now - RECENT,
            AuditEvent.at <= now,
        )
    )
    for wo_id, cust in reopened:
        acc[cust].repeats.add(wo_id)


def run(ctx: ServiceContext) -> dict[str, int]:
    now = ctx.now()
    counts = {"customers": 0, "high": 0, "medium": 0}
    for customer_id, sig in signals(ctx).items():
        result = score(sig)
        values = {
            "score": result.score,
            "level": result.level,
            "reasons": result.reasons,
            "signals": sig.as_dict(),
            "computed_at": now,
        }
        done = ctx.session.execute(
            sa.update(ChurnScore).where(ChurnScore.customer_id == customer_id).values(**values)
        )
        if getattr(done, "rowcount", 0) == 0:
            insert_ignore(
                ctx.session, ChurnScore, {"customer_id": customer_id, **values}, ChurnScore.customer_id
            )
        counts["customers"] += 1
        counts[result.level] = counts.get(result.level, 0) + 1
    ctx.session.commit()
    return {"customers": counts["customers"], "high": counts["high"], "medium": counts["medium"]}


def account_owners(ctx: ServiceContext, customer_ids: list[int]) -> dict[int, str | None]:
    territory = dict(
        ctx.session.execute(
            sa.select(Site.customer_id, sa.func.min(Site.territory_id))
            .where(Site.customer_id.in_(customer_ids or [0]))
            .group_by(Site.customer_id)
        )
        .tuples()
        .all()
    )
    return {c: people.holder(ctx.session, "account_owner", territory.get(c), c) for c in customer_ids}


def list_scores(
    ctx: ServiceContext,
    owner: str | None = None,
    levels: frozenset[str] = frozenset(),
    limit: int = 100,
    customer_id: int | None = None,
) -> list[dict[str, Any]]:
    """Customers by churn risk, highest first, each with the reasons and whose account it is."""
    query = (
        sa.select(ChurnScore, Customer.code, Customer.name)
        .join(Customer, Customer.id == ChurnScore.customer_id)
        .order_by(ChurnScore.score.desc(), Customer.code)
    )
    if levels:
        query = query.where(ChurnScore.level.in_(sorted(levels)))
    if customer_id is not None:
        query = query.where(ChurnScore.customer_id == customer_id)
    rows = ctx.session.execute(query).all()
    owners = account_owners(ctx, [r[0].customer_id for r in rows])
    out = []
    for row, code, name in rows:
        who = owners.get(row.customer_id)
        if owner is not None and who != owner:
            continue
        out.append(
            plain(
                {
                    "customer_id": row.customer_id,
                    "customer_code": code,
                    "customer_name": name,
                    "account_owner": who,
                    "score": row.score,
                    "level": row.level,
                    "reasons": row.reasons,
                    "signals": row.signals,
                    "computed_at": row.computed_at,
                }
            )
        )
    return out[:limit]
