"""Rules as data: save (validated, versioned), enable/disable, list; the two shipped defaults."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
import sqlalchemy as sa
from msgspec import Meta

from automation import definition
from automation.models import Cursor, Firing, Rule, RuleVersion
from automation.store import insert_ignore, plain
from core.domain.errors import Conflict, NotFound
from core.services.common import Input, Name, check_version
from core.services.context import ServiceContext
from core.services.events import emit


class RuleInput(Input):
    name: Name
    trigger: dict[str, Any]
    actions: list[Any]
    conditions: dict[str, Any] = msgspec.field(default_factory=lambda: {"all": []})
    description: Annotated[str, Meta(max_length=4000)] = ""
    enabled: bool = True


def _definition(rule: Rule) -> dict[str, Any]:
    return {
        "name": rule.name,
        "description": rule.description,
        "enabled": rule.enabled,
        "trigger": rule.trigger,
        "conditions": rule.conditions,
        "actions": rule.actions,
    }


def create_rule(ctx: ServiceContext, data: RuleInput) -> Rule:
    parsed = definition.parse(data.trigger, data.conditions, data.actions)
    _unique_name(ctx, data.name, None)
    now = ctx.now()
    rule = Rule(
        name=data.name,
        description=data.description,
        enabled=data.enabled,
        version=1,
        trigger=data.trigger,
        conditions=parsed.conditions,
        actions=parsed.actions,
        trigger_kind=parsed.trigger.kind,
        created_at=now,
        updated_at=now,
        updated_by=ctx.actor.name,
    )
    ctx.session.add(rule)
    ctx.session.flush()
    _keep_version(ctx, rule)
    ctx.session.commit()
    return rule


def update_rule(ctx: ServiceContext, rule_id: int, data: RuleInput, expected_version: int | None) -> Rule:
    rule = get_rule(ctx, rule_id)
    check_version(rule.version, expected_version)
    parsed = definition.parse(data.trigger, data.conditions, data.actions)
    _unique_name(ctx, data.name, rule.id)
    rule.name, rule.description, rule.enabled = data.name, data.description, data.enabled
    rule.trigger, rule.conditions, rule.actions = data.trigger, parsed.conditions, parsed.actions
    rule.trigger_kind = parsed.trigger.kind
    rule.version += 1
    rule.updated_at, rule.updated_by = ctx.now(), ctx.actor.name
    _keep_version(ctx, rule)
    ctx.session.commit()
    return rule


def set_enabled(ctx: ServiceContext, rule_id: int, enabled: bool, expected_version: int | None) -> Rule:
    rule = get_rule(ctx, rule_id)
    check_version(rule.version, expected_version)
    if rule.enabled != enabled:
        rule.enabled = enabled
        rule.version += 1
        rule.updated_at, rule.updated_by = ctx.now(), ctx.actor.name
        _keep_version(ctx, rule)
        ctx.session.commit()
    return rule


def _keep_version(ctx: ServiceContext, rule: Rule) -> None:
    ctx.session.add(
        RuleVersion(
            rule_id=rule.id,
            version=rule.version,
            definition=_definition(rule),
            saved_at=ctx.now(),
            saved_by=ctx.actor.name,
        )
    )
    emit(ctx, "automation.rule_saved", "rule", rule.id, {"version": rule.version, "enabled": rule.enabled})


def _unique_name(ctx: ServiceContext, name: str, own_id: int | None) -> None:
    other = ctx.session.scalar(sa.select(Rule.id).where(Rule.name == name))
    if other is not None and other != own_id:
        raise Conflict(f"a rule named {name!r} exists (rule {other})")


def get_rule(ctx: ServiceContext, rule_id: int) -> Rule:
    rule = ctx.session.get(Rule, rule_id)
    if rule is None:
        raise NotFound(f"rule {rule_id} does not exist")
    return rule


def list_rules(ctx: ServiceContext) -> list[Rule]:
    return list(ctx.session.scalars(sa.select(Rule).order_by(Rule.id)))


def versions(ctx: ServiceContext, rule_id: int) -> list[RuleVersion]:
    get_rule(ctx, rule_id)
    return list(
        ctx.session.scalars(
            sa.select(RuleVersion).where(RuleVersion.rule_id == rule_id).order_by(RuleVersion.version)
        )
    )


def rule_out(rule: Rule) -> dict[str, Any]:
    return plain(
        {
            "id": rule.id,
            **_definition(rule),
            "version": rule.version,
            "trigger_kind": rule.trigger_kind,
            "created_at": rule.created_at,
            "updated_at": rule.updated_at,
            "updated_by": rule.updated_by,
        }
    )


def list_firings(
    ctx: ServiceContext,
    rule_id: int | None = None,
    status: str | None = None,
    work_order_id: int | None = None,
    limit: int = 100,
) -> list[Firing]:
    query = sa.select(Firing)
    if rule_id is not None:
        query = query.where(Firing.rule_id == rule_id)
    if status is not None:
        query = query.where(Firing.status == status)
    if work_order_id is not None:
        query = query.where(Firing.subject_type == "work_order", Firing.subject_id == work_order_id)
    return list(ctx.session.scalars(query.order_by(Firing.id.desc()).limit(limit)))


def firing_out(f: Firing) -> dict[str, Any]:
    return plain(
        {
            "id": f.id,
            "rule_id": f.rule_id,
            "rule_version": f.rule_version,
            "subject_type": f.subject_type,
            "subject_id": f.subject_id,
            "occurrence": f.occurrence,
            "status": f.status,
            "results": f.results,
            "attempts": f.attempts,
            "next_attempt_at": f.next_attempt_at,
            "last_error": f.last_error,
            "created_at": f.created_at,
            "finished_at": f.finished_at,
        }
    )


def retry_firing(ctx: ServiceContext, firing_id: int) -> Firing:
    """Give a failed firing another round of attempts (the actions already done stay done)."""
    firing = ctx.session.get(Firing, firing_id)
    if firing is None:
        raise NotFound(f"firing {firing_id} does not exist")
    if firing.status != "failed":
        raise Conflict(f"firing {firing_id} is {firing.status}; only a failed one is retried by hand")
    firing.status, firing.attempts, firing.next_attempt_at = "pending", 0, ctx.now()
    firing.lease_until = None
    ctx.session.commit()
    return firing


# ---------------------------------------------------------------- shipped defaults

URGENT_UNHANDLED = "urgent work order not handled for 2 business hours"
PROMOTER = "5-star rating: promoter and care call"

SEED_RULES: tuple[RuleInput, ...] = (
    RuleInput(
        name=URGENT_UNHANDLED,
        description="紧急工单 2 个工作小时内无人处理 → 标记升级并通知服务主管 "
        "(seed table: urgent work order not handled within 2 hours → escalated + supervisor notified)",
        trigger={"time": {"in_state": "new", "for": {"business_hours": 2}}},
        conditions={"all": [{"field": "work_order.priority", "op": "eq", "value": "P1"}]},
        actions=[
            {"type": "escalate", "reason": "urgent and not handled for 2 business hours"},
            {
                "type": "notify",
                "to": "role:supervisor",
                "message": "紧急工单 {work_order.reference} 已 2 个工作小时无人处理 / "
                "urgent work order {work_order.reference} ({work_order.title}) "
                "not handled for 2 business hours",
            },
        ],
    ),
    RuleInput(
        name=PROMOTER,
        description="客户五星好评 → 标记为推荐者并为客户经理创建 7 天后的回访任务 "
        "(seed table: customer gives 5 stars → tagged promoter + care call 7 days later)",
        trigger={"event": "survey.answered"},
        conditions={"all": [{"field": "event.rating", "op": "eq", "value": 5}]},
        actions=[
            {"type": "add_tag", "tag": "promoter", "on": "customer"},
            {
                "type": "create_task",
                "title": "回访 / care call: {customer.name} ({work_order.reference})",
                "kind": "care_call",
                "owner": "role:account_owner",
                "due_in": {"days": 7},
            },
        ],
    ),
)


def ensure_seeded(ctx: ServiceContext) -> bool:
    """Install the shipped rules once per database (later edits, renames and disabling are kept)."""
    marker = insert_ignore(
        ctx.session,
        Cursor,
        {"name": "seed:rules:v1", "tx_id": 0, "seq": 0, "updated_at": ctx.now()},
        Cursor.name,
    )
    if marker is None:
        ctx.session.rollback()
        return False
    for seed in SEED_RULES:
        if ctx.session.scalar(sa.select(Rule.id).where(Rule.name == seed.name)) is None:
            parsed = definition.parse(seed.trigger, seed.conditions, seed.actions)
            now = ctx.now()
            rule = Rule(
                name=seed.name,
                description=seed.description,
                enabled=True,
                version=1,
                trigger=seed.trigger,
                conditions=parsed.conditions,
                actions=parsed.actions,
                trigger_kind=parsed.trigger.kind,
                created_at=now,
                updated_at=now,
                updated_by="seed",
            )
            ctx.session.add(rule)
            ctx.session.flush()
            _keep_version(ctx, rule)
    ctx.session.commit()
    return True
