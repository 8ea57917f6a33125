"""The escalation matrix: per contract tier × priority, who is told how long after an SLA clock goes at
risk (or is breached) — engineer → supervisor → service manager → account owner. Acknowledging stops it.

Delays are wall-clock minutes after the basis instant (the clock's at-risk instant or its due instant): an
SLA at risk outside business hours is still at risk. Each level is notified at most once per chain
(`escalation_steps` is unique per chain and level), whichever worker gets there first.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Annotated, Any, Literal

import msgspec
import sqlalchemy as sa
from msgspec import Meta
from sqlalchemy.orm import Session

from automation import people
from automation.models import Escalation, EscalationPolicy, EscalationStep
from automation.store import insert_ignore, plain, skip_locked
from core.domain.errors import Conflict, Invalid, NotFound
from core.domain.lifecycle import OPEN_STATUSES, WorkOrderStatus
from core.services.common import Input
from core.services.context import Actor, ServiceContext
from core.services.events import audit, emit
from core.store.models import Contract, WorkOrder

LevelRole = Literal["engineer", "supervisor", "service_manager", "account_owner"]


class Level(msgspec.Struct, forbid_unknown_fields=True):
    role: LevelRole
    after_minutes: Annotated[int, Meta(ge=0, le=7 * 24 * 60)] = 0
    basis: Literal["at_risk", "breached"] = "at_risk"


class PolicyInput(Input):
    tier: Annotated[str, Meta(min_length=1, max_length=32)]
    priority: Annotated[int, Meta(ge=1, le=4)]
    levels: Annotated[list[Level], Meta(min_length=1, max_length=8)]


def put_policy(ctx: ServiceContext, data: PolicyInput) -> EscalationPolicy:
    last: tuple[int, int] = (0, 0)
    for i, level in enumerate(data.levels):
        order = (0 if level.basis == "at_risk" else 1, level.after_minutes)
        if order < last:
            raise Invalid(
                "levels go in order: at-risk levels first, each no earlier than the one before",
                field=f"levels[{i}].after_minutes",
            )
        last = order
    row = ctx.session.scalar(
        sa.select(EscalationPolicy).where(
            EscalationPolicy.tier == data.tier, EscalationPolicy.priority == data.priority
        )
    )
    if row is None:
        row = EscalationPolicy(tier=data.tier, priority=data.priority, levels=[], updated_at=ctx.now())
        ctx.session.add(row)
    row.levels = msgspec.to_builtins(data.levels)
    row.updated_at = ctx.now()
    ctx.session.commit()
    return row


def list_policies(ctx: ServiceContext) -> list[EscalationPolicy]:
    return list(
        ctx.session.scalars(
            sa.select(EscalationPolicy).order_by(EscalationPolicy.tier, EscalationPolicy.priority)
        )
    )


def policy_out(p: EscalationPolicy) -> dict[str, Any]:
    return {"id": p.id, "tier": p.tier, "priority": p.priority, "levels": p.levels}


def _policy_for(session: Session, tier: str | None, priority: int) -> EscalationPolicy | None:
    rows = {
        p.tier: p
        for p in session.scalars(
            sa.select(EscalationPolicy).where(
                EscalationPolicy.priority == priority, EscalationPolicy.tier.in_([tier or "*", "*"])
            )
        )
    }
    return rows.get(tier or "*") or rows.get("*")


# ---------------------------------------------------------------- the worker's pass


def run(sessions: Any, clock: Any, worker: str = "worker", limit: int = 500) -> int:
    """Start chains for clocks that went at risk, notify levels that are due, close finished chains."""
    notified = 0
    with sessions() as session:
        ctx = ServiceContext(session, clock, Actor.system("escalation"))
        _start_chains(ctx, limit)
        session.commit()
    with sessions() as session:
        ctx = ServiceContext(session, clock, Actor.system("escalation"))
        open_ids = list(
            session.scalars(
                skip_locked(
                    sa.select(Escalation.id)
                    .where(Escalation.acknowledged_at.is_(None), Escalation.closed_at.is_(None))
                    .order_by(Escalation.id)
                    .limit(limit),
                    session,
                )
            )
        )
        for esc_id in open_ids:
            notified += _advance(ctx, session.get_one(Escalation, esc_id))
        session.commit()
    return notified


def _start_chains(ctx: ServiceContext, limit: int) -> None:
    session, now = ctx.session, ctx.now()
    if session.scalar(sa.select(sa.func.count()).select_from(EscalationPolicy)) == 0:
        return
    open_statuses = sorted(s.value for s in OPEN_STATUSES if s is not WorkOrderStatus.ON_HOLD)
    for clock_name, risk_col, due_col, met_col in (
        ("respond", WorkOrder.respond_risk_at, WorkOrder.respond_by, WorkOrder.responded_at),
        ("resolve", WorkOrder.resolve_risk_at, WorkOrder.resolve_by, WorkOrder.resolved_at),
    ):
        started = sa.exists().where(
            Escalation.work_order_id == WorkOrder.id,
            Escalation.clock == clock_name,
            Escalation.risk_at == risk_col,
        )
        rows = session.execute(
            sa.select(WorkOrder.id, WorkOrder.priority, Contract.tier, risk_col, due_col)
            .outerjoin(Contract, Contract.id == WorkOrder.contract_id)
            .where(
                WorkOrder.status.in_(open_statuses),
                risk_col.is_not(None),
                risk_col <= now,
                met_col.is_(None),
                ~started,
            )
            .limit(limit)
        ).all()
        for wo_id, priority, tier, risk_at, due_at in rows:
            policy = _policy_for(session, tier, priority)
            if policy is None:
                continue
            esc_id = insert_ignore(
                session,
                Escalation,
                {
                    "work_order_id": wo_id,
                    "clock": clock_name,
                    "risk_at": risk_at,
                    "due_at": due_at,
                    "levels": policy.levels,
                    "started_at": now,
                },
            )
            if esc_id is not None:
                audit(
                    ctx,
                    "work_order",
                    wo_id,
                    "escalation_started",
                    data={"escalation_id": esc_id, "clock": clock_name},
                )


def _advance(ctx: ServiceContext, esc: Escalation) -> int:
    session, now = ctx.session, ctx.now()
    wo = session.get_one(WorkOrder, esc.work_order_id)
    met = wo.responded_at if esc.clock == "respond" else wo.resolved_at
    if met is not None or wo.status not in {s.value for s in OPEN_STATUSES}:
        esc.closed_at = now
        audit(
            ctx,
            "work_order",
            wo.id,
            "escalation_closed",
            data={"escalation_id": esc.id, "why": "clock stopped"},
        )
        return 0
    if wo.status == WorkOrderStatus.ON_HOLD:
        return 0
    done = set(session.scalars(sa.select(EscalationStep.level).where(EscalationStep.escalation_id == esc.id)))
    count = 0
    for index, level in enumerate(esc.levels):
        if index in done:
            continue
        basis = esc.risk_at if level.get("basis", "at_risk") == "at_risk" else esc.due_at
        if basis + timedelta(minutes=int(level.get("after_minutes", 0))) > now:
            break
        count += _notify_level(ctx, esc, wo, index, level, "reached its delay")
    return count


def _notify_level(
    ctx: ServiceContext, esc: Escalation, wo: WorkOrder, index: int, level: dict[str, Any], why: str
) -> int:
    session = ctx.session
    try:
        username: str | None = people.resolve(session, f"role:{level['role']}", wo)
    except people.Unresolvable:
        username = None
    step = insert_ignore(
        session,
        EscalationStep,
        {
            "escalation_id": esc.id,
            "level": index,
            "role": level["role"],
            "username": username,
            "notified_at": ctx.now(),
        },
    )
    if step is None:
        return 0
    clock_text = "响应 / response" if esc.clock == "respond" else "解决 / resolution"
    if username is not None:
        people.notify(
            ctx,
            username,
            f"升级 L{index + 1} / Escalation level {index + 1}: {wo.reference} {clock_text} SLA",
            f"{wo.reference} «{wo.title}»: the {esc.clock} SLA is at risk (due {esc.due_at.isoformat()}); "
            f"you are level {index + 1} ({level['role']}) — {why}. "
            f"Acknowledge at POST /escalations/{esc.id}/acknowledge.",
            source=f"escalation:{esc.id}:{index}",
            work_order_id=wo.id,
        )
    audit(
        ctx,
        "work_order",
        wo.id,
        "escalation_notified",
        reason=why,
        data={"escalation_id": esc.id, "level": index + 1, "role": level["role"], "username": username},
    )
    emit(
        ctx,
        "work_order.escalation_notified",
        "work_order",
        wo.id,
        {"escalation_id": esc.id, "level": index + 1, "role": level["role"], "username": username},
    )
    return 1


def escalate_next_level(ctx: ServiceContext, wo: WorkOrder, reason: str) -> int | None:
    """ "Escalate one level": notify the open chain's next level now (None when there is no open chain)."""
    esc = ctx.session.scalar(
        sa.select(Escalation)
        .where(
            Escalation.work_order_id == wo.id,
            Escalation.acknowledged_at.is_(None),
            Escalation.closed_at.is_(None),
        )
        .order_by(Escalation.id.desc())
        .limit(1)
    )
    if esc is None:
        return None
    done = set(
        ctx.session.scalars(sa.select(EscalationStep.level).where(EscalationStep.escalation_id == esc.id))
    )
    for index, level in enumerate(esc.levels):
        if index not in done:
            _notify_level(ctx, esc, wo, index, level, reason)
            return index + 1
    return None


# ---------------------------------------------------------------- the people's side


def acknowledge(ctx: ServiceContext, esc_id: int, note: str | None) -> Escalation:
    esc = get(ctx, esc_id)
    if esc.acknowledged_at is not None:
        raise Conflict(f"escalation {esc_id} was acknowledged by {esc.acknowledged_by}")
    esc.acknowledged_at, esc.acknowledged_by = ctx.now(), ctx.actor.name
    audit(
        ctx,
        "work_order",
        esc.work_order_id,
        "escalation_acknowledged",
        reason=note,
        data={"escalation_id": esc.id},
    )
    emit(
        ctx,
        "work_order.escalation_acknowledged",
        "work_order",
        esc.work_order_id,
        {"escalation_id": esc.id, "by": ctx.actor.name},
    )
    ctx.session.commit()
    return esc


def get(ctx: ServiceContext, esc_id: int) -> Escalation:
    esc = ctx.session.get(Escalation, esc_id)
    if esc is None:
        raise NotFound(f"escalation {esc_id} does not exist")
    return esc


def list_escalations(
    ctx: ServiceContext, open_only: bool, work_order_id: int | None, limit: int = 100
) -> list[Escalation]:
    query = sa.select(Escalation)
    if open_only:
        query = query.where(Escalation.acknowledged_at.is_(None), Escalation.closed_at.is_(None))
    if work_order_id is not None:
        query = query.where(Escalation.work_order_id == work_order_id)
    return list(ctx.session.scalars(query.order_by(Escalation.id.desc()).limit(limit)))


def escalation_out(ctx: ServiceContext, esc: Escalation) -> dict[str, Any]:
    steps = ctx.session.scalars(
        sa.select(EscalationStep).where(EscalationStep.escalation_id == esc.id).order_by(EscalationStep.level)
    )
    return plain(
        {
            "id": esc.id,
            "work_order_id": esc.work_order_id,
            "clock": esc.clock,
            "risk_at": esc.risk_at,
            "due_at": esc.due_at,
            "levels": esc.levels,
            "started_at": esc.started_at,
            "acknowledged_at": esc.acknowledged_at,
            "acknowledged_by": esc.acknowledged_by,
            "closed_at": esc.closed_at,
            "notified": [
                {"level": s.level + 1, "role": s.role, "username": s.username, "at": s.notified_at}
                for s in steps
            ],
        }
    )


_ = datetime
