"""A dry run: what would this rule have fired over the last N days? Nothing is changed.

Event rules replay the outbox's events of the window; time rules replay the work orders' history (state
entries from the audit trail, creation, completion, SLA instants) and report when the condition held.
Conditions are judged on today's facts about each work order (plus the event's own fields).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from automation import definition
from automation.definition import RuleDef
from automation.facts import customer_facts, event_facts, work_order_facts
from automation.judge import compile_conditions
from automation.models import Firing
from core.domain.calendar import BusinessCalendar
from core.store.models import AuditEvent, OutboxEvent, Territory, WorkOrder


def dry_run(
    s: Session, rule: RuleDef, now: datetime, days: int = 30, rule_id: int | None = None
) -> list[dict[str, Any]]:
    since = now - timedelta(days=days)
    hits = _events(s, rule, now, since) if rule.trigger.kind == "event" else _times(s, rule, now, since)
    fired: set[tuple[str, int, str]] = set()
    if rule_id is not None:
        fired = {
            (t, i, o)
            for t, i, o in s.execute(
                sa.select(Firing.subject_type, Firing.subject_id, Firing.occurrence).where(
                    Firing.rule_id == rule_id
                )
            )
        }
    for hit in hits:
        hit["already_fired"] = (hit["subject_type"], hit["subject_id"], hit["occurrence"]) in fired
    return hits


def _events(s: Session, rule: RuleDef, now: datetime, since: datetime) -> list[dict[str, Any]]:
    types = sorted(t for t in definition.EVENT_TYPES if rule.trigger.matches_event(t))
    judge = compile_conditions(rule.conditions)  # the worker's judge: a dry run predicts the live run
    out = []
    events = s.scalars(
        sa.select(OutboxEvent)
        .where(OutboxEvent.type.in_(types), OutboxEvent.occurred_at >= since, OutboxEvent.occurred_at <= now)
        .order_by(OutboxEvent.seq)
    )
    for evt in events:
        data = evt.data or {}
        wo_id = evt.subject_id if evt.subject_type == "work_order" else data.get("work_order_id")
        wo = s.get(WorkOrder, wo_id) if isinstance(wo_id, int) else None
        facts = work_order_facts(s, wo, now) if wo is not None else customer_facts(s, data.get("customer_id"))
        facts.update(event_facts(evt.type, data))
        if judge(facts):
            subject = ("work_order", wo.id) if wo is not None else (evt.subject_type, evt.subject_id)
            out.append(_hit(subject, str(evt.event_id), evt.occurred_at, wo))
    return out


def _hit(subject: tuple[str, int], occurrence: str, at: datetime, wo: WorkOrder | None) -> dict[str, Any]:
    return {
        "subject_type": subject[0],
        "subject_id": subject[1],
        "reference": wo.reference if wo is not None else None,
        "occurrence": occurrence,
        "at": at.isoformat(),
    }


def _times(s: Session, rule: RuleDef, now: datetime, since: datetime) -> list[dict[str, Any]]:  # noqa: PLR0912 (one branch per case)
    trig = rule.trigger
    calendars: dict[int, BusinessCalendar] = {}

    def due(start: datetime, territory_id: int) -> datetime:
        if trig.delay is None:
            return start
        cal = None
        if trig.delay.business:
            cal = calendars.get(territory_id)
            if cal is None:
                cal = calendars[territory_id] = BusinessCalendar.from_dict(
                    s.get_one(Territory, territory_id).calendar
                )
        result: datetime = trig.delay.due(start, cal)
        return result

    candidates: list[tuple[WorkOrder, str, datetime]] = []  # (work order, occurrence, when it held)
    look_back = since - timedelta(days=400)
    if trig.in_state is not None:
        rows = s.execute(
            sa.select(AuditEvent.subject_id, AuditEvent.at, AuditEvent.from_state, AuditEvent.to_state)
            .where(
                AuditEvent.subject_type == "work_order",
                AuditEvent.action.in_(["created", "transitioned"]),
                AuditEvent.at >= look_back,
                sa.or_(AuditEvent.to_state == trig.in_state, AuditEvent.from_state == trig.in_state),
            )
            .order_by(AuditEvent.subject_id, AuditEvent.id)
        ).all()
        entered: dict[int, datetime] = {}
        spans: list[tuple[int, datetime, datetime | None]] = []
        for wo_id, at, from_state, to_state in rows:
            if from_state == trig.in_state and wo_id in entered:
                spans.append((wo_id, entered.pop(wo_id), at))
            if to_state == trig.in_state:
                entered[wo_id] = at
        spans.extend((wo_id, at, None) for wo_id, at in entered.items())
        for wo_id, start, end in spans:
            wo = s.get_one(WorkOrder, wo_id)
            when = due(start, wo.territory_id)
            if when <= now and (end is None or when < end):
                candidates.append((wo, start.astimezone(UTC).isoformat(), when))
    else:
        for wo in s.scalars(sa.select(WorkOrder).where(WorkOrder.created_at <= now).order_by(WorkOrder.id)):
            for prefix, begin, met in _sla_or_moment(trig, wo):
                if begin is None:
                    continue
                start = begin
                when = due(start, wo.territory_id)
                if when <= now and (met is None or met > when):
                    candidates.append((wo, prefix + start.isoformat(), when))
    out = []
    judge = compile_conditions(rule.conditions)
    for wo, occurrence, when in candidates:
        if when < since:
            continue
        if judge(work_order_facts(s, wo, now)):
            out.append(_hit(("work_order", wo.id), occurrence, when, wo))
    return out


def _sla_or_moment(
    trig: definition.Trigger, wo: WorkOrder
) -> list[tuple[str, datetime | None, datetime | None]]:
    stop = wo.cancelled_at
    if trig.after == "created":
        return [("", wo.created_at, None)]
    if trig.after == "completed":
        return [("", wo.resolved_at if wo.status in ("completed", "closed") else None, None)]
    responded = wo.responded_at or wo.resolved_at or stop
    resolved = wo.resolved_at or stop
    if trig.sla == "at_risk":
        return [("respond@", wo.respond_risk_at, responded), ("resolve@", wo.resolve_risk_at, resolved)]
    return [("respond@", wo.respond_by, responded), ("resolve@", wo.resolve_by, resolved)]
