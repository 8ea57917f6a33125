"""What a rule can do. Each action runs inside the transaction that records it as done on the firing."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from automation import people, tasks
from automation.definition import Duration, render
from core.domain.calendar import BusinessCalendar
from core.domain.errors import DomainError
from core.domain.lifecycle import WorkOrderStatus
from core.domain.workorders import Priority
from core.services import workorders
from core.services.context import ServiceContext
from core.services.events import audit, emit
from core.store.models import Territory, WorkOrder


class ActionFailed(Exception):
    """The action could not be done now (it is retried, then reported)."""


def perform(
    ctx: ServiceContext, action: dict[str, Any], facts: dict[str, Any], wo: WorkOrder | None, key: str
) -> dict[str, Any]:
    """Do one action; return what was done (kept on the firing). `key` makes created things unique."""
    kind = action["type"]
    try:
        return _ACTIONS[kind](ctx, action, facts, wo, key)
    except people.Unresolvable as exc:
        raise ActionFailed(str(exc)) from exc
    except DomainError as exc:
        raise ActionFailed(exc.detail) from exc


def _need_wo(wo: WorkOrder | None, kind: str) -> WorkOrder:
    if wo is None:
        raise ActionFailed(f"{kind} needs a work order and this subject has none")
    return wo


def _set_priority(
    ctx: ServiceContext, a: dict[str, Any], facts: dict[str, Any], wo: WorkOrder | None, key: str
) -> dict[str, Any]:
    wo = _need_wo(wo, "set_priority")
    # The core use case recomputes the SLA targets and commits (together with the firing's record).
    workorders.update_work_order(
        ctx, wo.id, workorders.WorkOrderPatch(priority=Priority(a["priority"])), None
    )
    return {"priority": a["priority"]}


def _set_status(
    ctx: ServiceContext, a: dict[str, Any], facts: dict[str, Any], wo: WorkOrder | None, key: str
) -> dict[str, Any]:
    wo = _need_wo(wo, "set_status")
    target = WorkOrderStatus(a["status"])
    if wo.status != target:
        reason = render(a.get("reason") or f"rule: {facts.get('rule.name', '')}", facts)
        workorders.transition_work_order(ctx, wo.id, target, reason, None)
    return {"status": target.value}


def _subject(a: dict[str, Any], wo: WorkOrder | None, facts: dict[str, Any]) -> tuple[str, int]:
    on = a.get("on", "work_order")
    if on == "customer":
        customer_id = wo.customer_id if wo is not None else facts.get("customer.id")
        if customer_id is None:
            raise ActionFailed("no customer to tag")
        return "customer", int(customer_id)
    return "work_order", _need_wo(wo, "tagging").id


def _add_tag(
    ctx: ServiceContext, a: dict[str, Any], facts: dict[str, Any], wo: WorkOrder | None, key: str
) -> dict[str, Any]:
    subject_type, subject_id = _subject(a, wo, facts)
    added = people.add_tag(ctx, subject_type, subject_id, a["tag"])
    return {"tag": a["tag"], "on": subject_type, "id": subject_id, "added": added}


def _remove_tag(
    ctx: ServiceContext, a: dict[str, Any], facts: dict[str, Any], wo: WorkOrder | None, key: str
) -> dict[str, Any]:
    subject_type, subject_id = _subject(a, wo, facts)
    removed = people.remove_tag(ctx, subject_type, subject_id, a["tag"])
    return {"tag": a["tag"], "on": subject_type, "id": subject_id, "removed": removed}


def _assign_queue(
    ctx: ServiceContext, a: dict[str, Any], facts: dict[str, Any], wo: WorkOrder | None, key: str
) -> dict[str, Any]:
    wo = _need_wo(wo, "assign_queue")
    for tag in people.tags_of(ctx.session, "work_order", wo.id):
        if tag.startswith("queue:") and tag != f"queue:{a['queue']}":
            people.remove_tag(ctx, "work_order", wo.id, tag)
    people.add_tag(ctx, "work_order", wo.id, f"queue:{a['queue']}")
    return {"queue": a["queue"]}


def _add_comment(
    ctx: ServiceContext, a: dict[str, Any], facts: dict[str, Any], wo: WorkOrder | None, key: str
) -> dict[str, Any]:
    wo = _need_wo(wo, "add_comment")
    text = render(a["text"], facts)
    audit(ctx, "work_order", wo.id, "comment", reason=text, data={"by_rule": facts.get("rule.id")})
    emit(ctx, "work_order.commented", "work_order", wo.id, {"text": text, "author": ctx.actor.name})
    return {"text": text}


def _create_task(
    ctx: ServiceContext, a: dict[str, Any], facts: dict[str, Any], wo: WorkOrder | None, key: str
) -> dict[str, Any]:
    customer_id = wo.customer_id if wo is not None else facts.get("customer.id")
    owner = people.resolve(ctx.session, a["owner"], wo, customer_id)
    due = ctx.now()
    if "due_in" in a:
        duration = Duration.parse(a["due_in"], "due_in")
        calendar = _calendar(ctx, wo) if duration.business else None
        due = duration.due(due, calendar)
    task = tasks.new_task(
        ctx,
        title=render(a["title"], facts),
        kind=a.get("kind", "follow_up"),
        owner=owner,
        due_at=due,
        customer_id=customer_id,
        work_order_id=wo.id if wo is not None else None,
        notes=render(a.get("notes", ""), facts),
        dedupe_key=key,
    )
    return {"task_id": task.id if task else None, "owner": owner, "due_at": due.isoformat()}


def _notify(
    ctx: ServiceContext, a: dict[str, Any], facts: dict[str, Any], wo: WorkOrder | None, key: str
) -> dict[str, Any]:
    customer_id = wo.customer_id if wo is not None else facts.get("customer.id")
    username = people.resolve(ctx.session, a["to"], wo, customer_id)
    message = render(a["message"], facts)
    n = people.notify(
        ctx,
        username,
        message.split("\n", 1)[0],
        message,
        source=f"rule:{facts.get('rule.id')}",
        work_order_id=wo.id if wo is not None else None,
        channel=a.get("channel", "in_app"),
    )
    return {"to": username, "notification_id": n.id}


def _escalate(
    ctx: ServiceContext, a: dict[str, Any], facts: dict[str, Any], wo: WorkOrder | None, key: str
) -> dict[str, Any]:
    from automation import escalation

    wo = _need_wo(wo, "escalate")
    reason = render(a.get("reason") or "escalated by a rule", facts)
    people.add_tag(ctx, "work_order", wo.id, "escalated")
    audit(ctx, "work_order", wo.id, "escalated", reason=reason, data={"by_rule": facts.get("rule.id")})
    emit(ctx, "work_order.escalated", "work_order", wo.id, {"reason": reason, "reference": wo.reference})
    level = escalation.escalate_next_level(ctx, wo, reason)
    return {"flag": "escalated", "level_notified": level}


def _send_survey(
    ctx: ServiceContext, a: dict[str, Any], facts: dict[str, Any], wo: WorkOrder | None, key: str
) -> dict[str, Any]:
    wo = _need_wo(wo, "send_survey")
    # Surveys belong to the service desk; it (or any integration) acts on this event.
    emit(
        ctx,
        "automation.survey_requested",
        "work_order",
        wo.id,
        {"kind": a.get("kind", "csat"), "customer_id": wo.customer_id},
    )
    return {"requested": a.get("kind", "csat")}


def _calendar(ctx: ServiceContext, wo: WorkOrder | None) -> BusinessCalendar:
    if wo is None:
        raise ActionFailed("business time needs a work order's territory")
    territory = ctx.session.get_one(Territory, wo.territory_id)
    return BusinessCalendar.from_dict(territory.calendar)


_ACTIONS = {
    "set_priority": _set_priority,
    "set_status": _set_status,
    "add_tag": _add_tag,
    "remove_tag": _remove_tag,
    "assign_queue": _assign_queue,
    "add_comment": _add_comment,
    "create_task": _create_task,
    "notify": _notify,
    "escalate": _escalate,
    "send_survey": _send_survey,
}

_ = timedelta
