"""The automation feature's tables: rules and their firings, tasks, tags, escalations, webhooks, tokens, ERP.

Every "at most once" promise is a unique constraint here, never a property of there being one worker:
- a rule fires once per (rule, subject, trigger occurrence): `automation_firings`;
- an escalation level is notified once per escalation: `escalation_steps`;
- an event is delivered once per subscription (then retried until acknowledged): `webhook_deliveries`;
- an ERP confirmation is recorded once per document: `erp_confirmations`.
"""

from __future__ import annotations

import uuid
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from core.store.base import Base, IdType


def _pk() -> Mapped[int]:
    return mapped_column(IdType, primary_key=True, autoincrement=True)


def _ref(target: str, *, nullable: bool = True, index: bool = True) -> Mapped[Any]:
    return mapped_column(IdType, sa.ForeignKey(target), nullable=nullable, index=index)


# ---------------------------------------------------------------- rules


class Rule(Base):
    """A rule as data: trigger + conditions + actions. Every save bumps `version` and keeps a copy."""

    __tablename__ = "automation_rules"
    id: Mapped[int] = _pk()
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    description: Mapped[str] = mapped_column(sa.Text, default="")
    enabled: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    version: Mapped[int] = mapped_column(sa.Integer, default=1)
    # {"event": "survey.answered"} or {"time": {"in_state": "new", "for": {"business_hours": 2}}}
    trigger: Mapped[dict[str, Any]]
    # {"all": [...]} / {"any": [...]}, each {"field": "work_order.priority", "op": "in", "value": [...]}
    conditions: Mapped[dict[str, Any]]
    actions: Mapped[list[Any]]
    # "event" or "time": lets the worker find the rules it has to scan without parsing every trigger.
    trigger_kind: Mapped[str] = mapped_column(sa.String(8))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    updated_by: Mapped[str | None] = mapped_column(sa.String(120))


class RuleVersion(Base):
    """What a rule said at each version: firings name the version that fired."""

    __tablename__ = "automation_rule_versions"
    __table_args__ = (sa.UniqueConstraint("rule_id", "version"),)
    id: Mapped[int] = _pk()
    rule_id: Mapped[int] = _ref("automation_rules.id", nullable=False, index=False)
    version: Mapped[int] = mapped_column(sa.Integer)
    definition: Mapped[dict[str, Any]]
    saved_at: Mapped[datetime]
    saved_by: Mapped[str | None] = mapped_column(sa.String(120))


class Firing(Base):
    """One rule firing for one subject and one occurrence of its trigger; the unique key is the guarantee.

    `occurrence` is the event id for event triggers, or the instant the time condition started counting
    (e.g. when the work order entered the state), so re-entering a state is a new occurrence.
    Actions run under a lease (`lease_until`): a worker that dies mid-way leaves the lease to expire and
    another worker resumes with the actions not yet recorded in `results`.
    """

    __tablename__ = "automation_firings"
    __table_args__ = (
        sa.UniqueConstraint("rule_id", "subject_type", "subject_id", "occurrence"),
        sa.Index("ix_automation_firings_due", "status", "next_attempt_at"),
    )
    id: Mapped[int] = _pk()
    rule_id: Mapped[int] = _ref("automation_rules.id", nullable=False, index=False)
    rule_version: Mapped[int] = mapped_column(sa.Integer)
    subject_type: Mapped[str] = mapped_column(sa.String(32))
    subject_id: Mapped[int] = mapped_column(IdType)
    occurrence: Mapped[str] = mapped_column(sa.String(64))
    # The facts the conditions were judged on (and the actions use), frozen at firing time.
    facts: Mapped[dict[str, Any]]
    # pending → done | failed
    status: Mapped[str] = mapped_column(sa.String(16))
    # Per action index: {"0": {"ok": true, "at": iso, ...}}: a done action is never redone.
    results: Mapped[dict[str, Any]] = mapped_column(default=dict)
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    leased_by: Mapped[str | None] = mapped_column(sa.String(120))
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime]
    finished_at: Mapped[datetime | None]


class Cursor(Base):
    """Where a reader of the outbox stands (rules, webhook fan-out): (transaction id, seq)."""

    __tablename__ = "automation_cursors"
    name: Mapped[str] = mapped_column(sa.String(64), primary_key=True)
    tx_id: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    seq: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    updated_at: Mapped[datetime]


# ---------------------------------------------------------------- people, tags, notices, tasks


class Assignee(Base):
    """Who holds a role for escalations and notices: a supervisor per territory, an account owner per
    customer, a service manager for everyone (territory and customer NULL)."""

    __tablename__ = "automation_assignees"
    __table_args__ = (sa.UniqueConstraint("role", "territory_id", "customer_id"),)
    id: Mapped[int] = _pk()
    role: Mapped[str] = mapped_column(sa.String(32))
    territory_id: Mapped[int | None] = _ref("territories.id", index=False)
    customer_id: Mapped[int | None] = _ref("customers.id", index=False)
    username: Mapped[str] = mapped_column(sa.String(64))


class Tag(Base):
    """A label on a work order or a customer (escalated, promoter, …)."""

    __tablename__ = "automation_tags"
    __table_args__ = (sa.UniqueConstraint("subject_type", "subject_id", "tag"),)
    id: Mapped[int] = _pk()
    subject_type: Mapped[str] = mapped_column(sa.String(32))
    subject_id: Mapped[int] = mapped_column(IdType)
    tag: Mapped[str] = mapped_column(sa.String(64))
    added_at: Mapped[datetime]
    added_by: Mapped[str | None] = mapped_column(sa.String(120))


class Notification(Base):
    """A notice to a person (in-app inbox; e-mailed when outgoing mail is configured)."""

    __tablename__ = "automation_notifications"
    __table_args__ = (sa.Index("ix_automation_notifications_user", "username", "id"),)
    id: Mapped[int] = _pk()
    username: Mapped[str] = mapped_column(sa.String(64))
    channel: Mapped[str] = mapped_column(sa.String(16))
    subject: Mapped[str] = mapped_column(sa.String(300))
    body: Mapped[str] = mapped_column(sa.Text, default="")
    work_order_id: Mapped[int | None] = mapped_column(IdType)
    # What caused it: "rule:3", "escalation:7:1", "webhook:2".
    source: Mapped[str] = mapped_column(sa.String(64))
    created_at: Mapped[datetime]
    read_at: Mapped[datetime | None]


class Task(Base):
    """A follow-up for a person: care call (回访), care visit, callback, reminder."""

    __tablename__ = "automation_tasks"
    __table_args__ = (sa.Index("ix_automation_tasks_owner", "owner", "status", "due_at"),)
    id: Mapped[int] = _pk()
    title: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(sa.String(32))
    owner: Mapped[str] = mapped_column(sa.String(64))
    due_at: Mapped[datetime]
    customer_id: Mapped[int | None] = _ref("customers.id", index=False)
    work_order_id: Mapped[int | None] = _ref("work_orders.id", index=False)
    notes: Mapped[str] = mapped_column(sa.Text, default="")
    # open → done | cancelled; "overdue" is open and past due (a function of the clock, not stored).
    status: Mapped[str] = mapped_column(sa.String(16))
    # Set when a machine makes the task, so it is made once (e.g. "rule:4:17:evt").
    dedupe_key: Mapped[str | None] = mapped_column(sa.String(200), unique=True)
    created_by: Mapped[str | None] = mapped_column(sa.String(120))
    created_at: Mapped[datetime]
    done_at: Mapped[datetime | None]
    done_by: Mapped[str | None] = mapped_column(sa.String(120))


# ---------------------------------------------------------------- escalation


class EscalationPolicy(Base):
    """Per contract tier × priority: levels notified at a delay after SLA at-risk or breach."""

    __tablename__ = "escalation_policies"
    __table_args__ = (sa.UniqueConstraint("tier", "priority"),)
    id: Mapped[int] = _pk()
    # "*" matches any tier (and work orders without a contract).
    tier: Mapped[str] = mapped_column(sa.String(32))
    priority: Mapped[int] = mapped_column(sa.SmallInteger)
    # [{"role": "engineer", "basis": "at_risk", "after_minutes": 0}, …] in order.
    levels: Mapped[list[Any]]
    updated_at: Mapped[datetime]


class Escalation(Base):
    """One work order's chain for one SLA clock going at risk; acknowledgement stops it."""

    __tablename__ = "escalations"
    __table_args__ = (sa.UniqueConstraint("work_order_id", "clock", "risk_at"),)
    id: Mapped[int] = _pk()
    work_order_id: Mapped[int] = _ref("work_orders.id", nullable=False)
    # "respond" or "resolve"
    clock: Mapped[str] = mapped_column(sa.String(16))
    risk_at: Mapped[datetime]
    due_at: Mapped[datetime]
    levels: Mapped[list[Any]]
    started_at: Mapped[datetime]
    acknowledged_at: Mapped[datetime | None]
    acknowledged_by: Mapped[str | None] = mapped_column(sa.String(120))
    closed_at: Mapped[datetime | None]


class EscalationStep(Base):
    __tablename__ = "escalation_steps"
    __table_args__ = (sa.UniqueConstraint("escalation_id", "level"),)
    id: Mapped[int] = _pk()
    escalation_id: Mapped[int] = _ref("escalations.id", nullable=False, index=False)
    level: Mapped[int] = mapped_column(sa.SmallInteger)
    role: Mapped[str] = mapped_column(sa.String(32))
    username: Mapped[str | None] = mapped_column(sa.String(64))
    notified_at: Mapped[datetime]


# ---------------------------------------------------------------- webhooks


class WebhookSubscription(Base):
    __tablename__ = "webhook_subscriptions"
    id: Mapped[int] = _pk()
    name: Mapped[str] = mapped_column(sa.String(200))
    url: Mapped[str] = mapped_column(sa.String(2000))
    # The HMAC key: stored (it signs every delivery), shown to the caller only when created.
    secret: Mapped[str] = mapped_column(sa.String(200))
    # Globs over event types: ["work_order.*", "stock.consumed"].
    event_types: Mapped[list[Any]]
    active: Mapped[bool] = mapped_column(sa.Boolean, default=True)
    disabled_reason: Mapped[str | None] = mapped_column(sa.Text)
    # Outbox events before this cursor are not for this subscription (it did not exist yet).
    start_tx: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    start_seq: Mapped[int] = mapped_column(sa.BigInteger, default=0)
    failing_since: Mapped[datetime | None]
    consecutive_failures: Mapped[int] = mapped_column(sa.Integer, default=0)
    created_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(sa.String(120))


class WebhookDelivery(Base):
    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        sa.UniqueConstraint("subscription_id", "event_id"),
        sa.Index("ix_webhook_deliveries_due", "status", "next_attempt_at"),
    )
    id: Mapped[int] = _pk()
    subscription_id: Mapped[int] = _ref("webhook_subscriptions.id", nullable=False, index=False)
    event_id: Mapped[uuid.UUID] = mapped_column(sa.Uuid)
    event_seq: Mapped[int] = mapped_column(sa.BigInteger)
    event_type: Mapped[str] = mapped_column(sa.String(64))
    # pending → delivered | dead (gave up, or the subscription was disabled)
    status: Mapped[str] = mapped_column(sa.String(16))
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0)
    next_attempt_at: Mapped[datetime]
    lease_until: Mapped[datetime | None]
    last_status_code: Mapped[int | None] = mapped_column(sa.SmallInteger)
    last_error: Mapped[str | None] = mapped_column(sa.Text)
    created_at: Mapped[datetime]
    delivered_at: Mapped[datetime | None]


class WebhookAttempt(Base):
    """The delivery log: every try with its response code (or the error) and how long it took."""

    __tablename__ = "webhook_attempts"
    id: Mapped[int] = _pk()
    delivery_id: Mapped[int] = _ref("webhook_deliveries.id", nullable=False)
    at: Mapped[datetime]
    status_code: Mapped[int | None] = mapped_column(sa.SmallInteger)
    error: Mapped[str | None] = mapped_column(sa.Text)
    duration_ms: Mapped[int] = mapped_column(sa.Integer)


# ---------------------------------------------------------------- integrations


class ApiToken(Base):
    """A token for an integration: only its SHA-256 is kept; shown once; scoped; revocable."""

    __tablename__ = "api_tokens"
    id: Mapped[int] = _pk()
    name: Mapped[str] = mapped_column(sa.String(200))
    prefix: Mapped[str] = mapped_column(sa.String(16))
    token_hash: Mapped[str] = mapped_column(sa.String(64), unique=True)
    scopes: Mapped[list[Any]]
    created_at: Mapped[datetime]
    created_by: Mapped[str | None] = mapped_column(sa.String(120))
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]


class ErpConfirmation(Base):
    """The ERP's answer for one exported document (stock issue or invoice draft); recorded once."""

    __tablename__ = "erp_confirmations"
    __table_args__ = (sa.UniqueConstraint("document_id"),)
    id: Mapped[int] = _pk()
    document_id: Mapped[str] = mapped_column(sa.String(64))
    kind: Mapped[str] = mapped_column(sa.String(32))
    erp_reference: Mapped[str] = mapped_column(sa.String(200))
    status: Mapped[str] = mapped_column(sa.String(16))
    message: Mapped[str] = mapped_column(sa.Text, default="")
    confirmed_at: Mapped[datetime]
    token_id: Mapped[int | None] = mapped_column(IdType)


# The care feature's tables live beside their code; imported here so the schema is whole wherever the
# automation models are (migrations, tests, `fieldops.models`).
from automation.care import models as care_models  # noqa: E402

__all__ = ["care_models"]
