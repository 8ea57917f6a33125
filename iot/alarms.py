"""Alarms: raised (deduplicated) from detector signals, fault codes and silence; work orders from alarms.

Rules kept here and enforced by the database where they can be:
* at most one open (active or acknowledged) alarm per (asset, alarm type) — a partial unique index;
  a repeat bumps `count` and `last_seen_at` instead;
* at most one open work order per (asset, fault): a new alarm reuses the open work order of an earlier
  alarm of the same type rather than raising another;
* a raise and its work order commit together, with `alarm.raised` and `work_order.created` in the outbox.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import msgspec
import sqlalchemy as sa
import structlog
from sqlalchemy import event
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from core.domain.errors import Conflict, Invalid
from core.domain.lifecycle import OPEN_STATUSES
from core.domain.workorders import Kind, Priority, Source
from core.services import sla
from core.services.common import check_version, get_or_404
from core.services.context import ServiceContext
from core.services.events import audit, emit
from core.services.paging import Page
from core.services.workorders import PartNeed, SkillRequirement, WorkOrderInput, create_work_order
from core.store.models import Asset, OutboxEvent, Skill, WorkOrder
from iot.contract import Severity
from iot.models import Alarm, IotProfile
from iot.registry import FaultRule

log = structlog.get_logger(__name__)

ACTIVE, ACKNOWLEDGED, CLEARED = "active", "acknowledged", "cleared"
OPEN_STATES = (ACTIVE, ACKNOWLEDGED)

# Severity → priority before the contract has its say (P1 most urgent).
_PRIORITY_BY_SEVERITY = {
    Severity.CRITICAL: 1,
    Severity.MAJOR: 2,
    Severity.MINOR: 3,
    Severity.WARNING: 3,
    Severity.INFO: 4,
}
# Tiers that buy one step more urgency on top of the severity (the contract's floor still applies after).
_URGENT_TIERS = frozenset({"gold", "platinum"})


@dataclass(frozen=True, slots=True)
class Signal:
    """Something about an asset that should raise (or clear) an alarm of `alarm_type`."""

    asset_id: int
    alarm_type: str
    source: str  # detector | fault | offline
    severity: Severity
    message: str
    at: datetime
    device_id: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
    clear: bool = False


@dataclass(frozen=True, slots=True)
class Outcome:
    alarm: Alarm
    created: bool
    work_order_id: int | None


def priority_for(severity: Severity, tier: str | None) -> Priority:
    rank = _PRIORITY_BY_SEVERITY[severity]
    if tier in _URGENT_TIERS:
        rank = max(1, rank - 1)
    return Priority.of(rank)


def fault_rule(profile: IotProfile | None, alarm_type: str, source: str) -> FaultRule | None:
    """The profile's rule for this fault, falling back to `<family>:*` then `*`; defaults otherwise.

    Without a rule, detector and fault-code alarms become work orders and silence does not.
    """
    faults = profile.faults if profile is not None else {}
    family = alarm_type.split(":", 1)[0]
    for key in (alarm_type, f"{family}:*", "*"):
        if key in faults:
            return msgspec.convert(faults[key], FaultRule)
    if source == "offline":
        return None
    return FaultRule(title=alarm_type)


def raise_alarm(ctx: ServiceContext, signal: Signal) -> Outcome:
    """Raise (or repeat) an alarm and, for a new one, make sure one open work order covers it. Commits."""
    try:
        return _raise(ctx, signal)
    except IntegrityError:
        # Another worker opened the same alarm between our look and our insert: it is a repeat now.
        ctx.session.rollback()
        return _raise(ctx, signal)


def _raise(ctx: ServiceContext, signal: Signal) -> Outcome:
    session = ctx.session
    alarm = open_alarm(session, signal.asset_id, signal.alarm_type)
    if alarm is not None:
        alarm.count += 1
        alarm.last_seen_at = max(alarm.last_seen_at, signal.at)
        if signal.severity.rank > Severity(alarm.severity).rank:
            alarm.severity = signal.severity.value
        if signal.evidence:
            alarm.evidence = {**alarm.evidence, "latest": signal.evidence}
        session.commit()
        return Outcome(alarm, False, alarm.work_order_id)

    alarm = Alarm(
        asset_id=signal.asset_id,
        device_id=signal.device_id,
        alarm_type=signal.alarm_type,
        source=signal.source,
        severity=signal.severity.value,
        state=ACTIVE,
        message=signal.message[:500],
        first_seen_at=signal.at,
        last_seen_at=signal.at,
        count=1,
        evidence=signal.evidence,
    )
    session.add(alarm)
    session.flush()
    audit(
        ctx,
        "alarm",
        alarm.id,
        "raised",
        to_state=ACTIVE,
        data={"asset_id": alarm.asset_id, "type": alarm.alarm_type},
    )
    emit(ctx, "alarm.raised", "alarm", alarm.id, _event_data(alarm))

    asset = session.get_one(Asset, signal.asset_id)
    profile = session.get(IotProfile, asset.asset_model_id)
    rule = fault_rule(profile, signal.alarm_type, signal.source)
    existing = (
        _open_work_order(session, signal.asset_id, signal.alarm_type) if rule and rule.work_order else None
    )
    if rule is None or not rule.work_order:
        session.commit()
        return Outcome(alarm, True, None)
    if existing is not None:
        alarm.work_order_id = existing
        session.commit()
        return Outcome(alarm, True, existing)

    # create_work_order commits; the alarm must carry the new work order's id in that same commit.
    def link(sess: Session) -> None:
        for obj in sess.new:
            if isinstance(obj, OutboxEvent) and obj.type == "work_order.created":
                alarm.work_order_id = obj.subject_id

    event.listen(session, "before_commit", link, once=True)
    try:
        wo = create_work_order(ctx, _work_order_input(ctx, asset, alarm, rule, signal))
    except Invalid:
        event.remove(session, "before_commit", link)
        raise
    log.info("alarm_work_order", alarm_id=alarm.id, work_order=wo.reference, type=alarm.alarm_type)
    return Outcome(alarm, True, wo.id)


def _work_order_input(
    ctx: ServiceContext, asset: Asset, alarm: Alarm, rule: FaultRule, signal: Signal
) -> WorkOrderInput:
    session = ctx.session
    contract = sla.active_contract(session, asset.site.customer_id, asset, ctx.now().date())
    known = set(session.scalars(sa.select(Skill.code).where(Skill.code.in_([s.skill for s in rule.skills]))))
    kind = (
        Kind(rule.kind)
        if rule.kind
        else (Kind.PREDICTIVE if signal.source == "detector" else Kind.CORRECTIVE)
    )
    return WorkOrderInput(
        title=f"{rule.title} — {asset.name or asset.serial}"[:200],
        site_id=asset.site_id,
        asset_id=asset.id,
        description=_description(alarm, signal)[:20_000],
        source=Source.TELEMETRY,
        kind=kind,
        priority=priority_for(signal.severity, contract.tier if contract else None),
        estimated_minutes=rule.minutes,
        required_skills=[SkillRequirement(s.skill, s.min_level) for s in rule.skills if s.skill in known],
        required_parts=suggested_parts(session, asset, alarm.alarm_type, rule),
    )


def suggested_parts(session: Session, asset: Asset, alarm_type: str, rule: FaultRule) -> list[PartNeed]:
    """Parts for the job: the profile's rule first, then the inventory's fault → parts map for the model."""
    from inventory.models import FaultPart, Part

    parts = {p.sku: PartNeed(p.sku, p.quantity) for p in rule.parts}
    rows = session.execute(
        sa.select(Part.sku, FaultPart.quantity)
        .join(Part, Part.id == FaultPart.part_id)
        .where(
            FaultPart.asset_model_id == asset.asset_model_id,
            FaultPart.fault_code == alarm_type,
            Part.active.is_(True),
        )
        .order_by(Part.sku)
    )
    for sku, quantity in rows:
        parts.setdefault(sku, PartNeed(sku, quantity))
    return list(parts.values())


def _description(alarm: Alarm, signal: Signal) -> str:
    lines = [
        f"Raised from telemetry: {alarm.message}",
        f"Alarm #{alarm.id} ({alarm.alarm_type}, {alarm.severity})",
    ]
    ev = signal.evidence
    if "metric" in ev:
        lines.append(f"Metric: {ev['metric']} = {ev.get('value')} (limit {ev.get('limit')})")
    eta = ev.get("time_to_limit_s", ev.get("predicted_time_to_limit_s"))
    if eta is not None:
        lines.append(f"Predicted to reach the limit in {float(eta) / 3600:.1f} h")
    lines.append("Evidence and the chart series: GET /alarms?work_order_id=<this work order>")
    return "\n".join(lines)


def open_alarm(session: Session, asset_id: int, alarm_type: str) -> Alarm | None:
    return session.scalars(
        sa.select(Alarm).where(
            Alarm.asset_id == asset_id, Alarm.alarm_type == alarm_type, Alarm.state != CLEARED
        )
    ).first()


def _open_work_order(session: Session, asset_id: int, alarm_type: str) -> int | None:
    return session.scalar(
        sa.select(WorkOrder.id)
        .join(Alarm, Alarm.work_order_id == WorkOrder.id)
        .where(
            Alarm.asset_id == asset_id,
            Alarm.alarm_type == alarm_type,
            WorkOrder.status.in_(sorted(OPEN_STATUSES)),
        )
        .order_by(WorkOrder.id.desc())
        .limit(1)
    )


def clear_signal(ctx: ServiceContext, signal: Signal) -> Alarm | None:
    """The condition went away (a detector's hysteresis, a device back online): clear the open alarm."""
    alarm = open_alarm(ctx.session, signal.asset_id, signal.alarm_type)
    if alarm is None:
        return None
    _clear(ctx, alarm, f"{signal.source}", signal.message, signal.at)
    ctx.session.commit()
    return alarm


def _clear(ctx: ServiceContext, alarm: Alarm, by: str, reason: str | None, at: datetime) -> None:
    previous = alarm.state
    alarm.state = CLEARED
    alarm.cleared_at = at
    alarm.cleared_by = by
    alarm.clear_reason = reason
    audit(ctx, "alarm", alarm.id, "cleared", from_state=previous, to_state=CLEARED, reason=reason)
    emit(ctx, "alarm.cleared", "alarm", alarm.id, {**_event_data(alarm), "by": by, "reason": reason})


# ---------------------------------------------------------------- the dispatcher's side


def acknowledge(ctx: ServiceContext, alarm_id: int, expected_version: int | None) -> Alarm:
    alarm = get_or_404(ctx.session, Alarm, alarm_id, "alarm")
    check_version(alarm.version, expected_version)
    if alarm.state != ACTIVE:
        raise Conflict(f"alarm {alarm_id} is {alarm.state}; only an active alarm can be acknowledged")
    alarm.state = ACKNOWLEDGED
    alarm.acknowledged_at = ctx.now()
    alarm.acknowledged_by = ctx.actor.name
    audit(ctx, "alarm", alarm.id, "acknowledged", from_state=ACTIVE, to_state=ACKNOWLEDGED)
    emit(ctx, "alarm.acknowledged", "alarm", alarm.id, _event_data(alarm))
    ctx.session.commit()
    return alarm


def clear(ctx: ServiceContext, alarm_id: int, reason: str | None, expected_version: int | None) -> Alarm:
    alarm = get_or_404(ctx.session, Alarm, alarm_id, "alarm")
    check_version(alarm.version, expected_version)
    if alarm.state == CLEARED:
        raise Conflict(f"alarm {alarm_id} is already cleared")
    _clear(ctx, alarm, ctx.actor.name, reason, ctx.now())
    ctx.session.commit()
    return alarm


@dataclass(frozen=True, slots=True)
class AlarmFilter:
    states: frozenset[str] = frozenset()
    asset_id: int | None = None
    alarm_type: str | None = None
    work_order_id: int | None = None


def list_alarms(
    ctx: ServiceContext, flt: AlarmFilter, *, limit: int = 50, before: int | None = None
) -> Page[Alarm]:
    """Newest first; `before` is the id of the last alarm of the previous page."""
    query = sa.select(Alarm)
    if flt.states:
        query = query.where(Alarm.state.in_(sorted(flt.states)))
    for column, value in (
        (Alarm.asset_id, flt.asset_id),
        (Alarm.alarm_type, flt.alarm_type),
        (Alarm.work_order_id, flt.work_order_id),
    ):
        if value is not None:
            query = query.where(column == value)
    if before is not None:
        query = query.where(Alarm.id < before)
    rows = list(ctx.session.scalars(query.order_by(Alarm.id.desc()).limit(limit + 1)))
    next_cursor = str(rows[limit - 1].id) if len(rows) > limit else None
    return Page(rows[:limit], next_cursor)


def _event_data(alarm: Alarm) -> dict[str, Any]:
    return {
        "asset_id": alarm.asset_id,
        "device_id": alarm.device_id,
        "alarm_type": alarm.alarm_type,
        "severity": alarm.severity,
        "state": alarm.state,
        "work_order_id": alarm.work_order_id,
    }


def offline_signal(asset_id: int, device_id: str, since: datetime, now: datetime, grace: timedelta) -> Signal:
    return Signal(
        asset_id=asset_id,
        alarm_type="offline",
        source="offline",
        severity=Severity.MAJOR,
        message=f"device {device_id} offline since {since.isoformat()} "
        f"(grace {int(grace.total_seconds())} s)",
        at=now,
        device_id=device_id,
        evidence={"device_id": device_id, "offline_since": since.isoformat()},
    )
