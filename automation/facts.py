"""The facts a rule's conditions are judged on: a flat dict {"work_order.priority": "P1", …}."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.orm import Session

from automation.models import Tag
from core.domain.lifecycle import ACTIVE_VISIT_STATUSES
from core.domain.sla import SlaTargets, sla_state
from core.domain.workorders import Priority
from core.store.models import Asset, AssetModel, Contract, Customer, Visit, WorkOrder


def work_order_facts(session: Session, wo: WorkOrder, now: datetime) -> dict[str, Any]:
    facts: dict[str, Any] = {
        "work_order.id": wo.id,
        "work_order.reference": wo.reference,
        "work_order.title": wo.title,
        "work_order.priority": Priority.of(wo.priority).value,
        "work_order.status": wo.status,
        "work_order.kind": wo.kind,
        "work_order.source": wo.source,
        "work_order.territory_id": wo.territory_id,
        "work_order.site_id": wo.site_id,
        "work_order.asset_id": wo.asset_id,
        "work_order.sla_state": _sla(wo, now),
        "work_order.has_engineer": any(v.status in ACTIVE_VISIT_STATUSES for v in wo.visits),
        "work_order.tags": _tags(session, "work_order", wo.id),
    }
    facts.update(customer_facts(session, wo.customer_id))
    contract = session.get(Contract, wo.contract_id) if wo.contract_id else None
    if contract is not None:
        facts["contract.tier"] = contract.tier
        facts["contract.number"] = contract.number
    asset = session.get(Asset, wo.asset_id) if wo.asset_id else None
    if asset is not None:
        model = session.get(AssetModel, asset.asset_model_id)
        facts["asset.serial"] = asset.serial
        facts["asset.model"] = model.code if model else None
        facts["asset.under_warranty"] = (
            asset.warranty_ends_on is not None and now.date() <= asset.warranty_ends_on
        )
    return facts


def customer_facts(session: Session, customer_id: int | None) -> dict[str, Any]:
    if customer_id is None:
        return {}
    customer = session.get(Customer, customer_id)
    if customer is None:
        return {}
    return {
        "customer.id": customer.id,
        "customer.code": customer.code,
        "customer.name": customer.name,
        "customer.tags": _tags(session, "customer", customer.id),
    }


def event_facts(event_type: str, data: dict[str, Any]) -> dict[str, Any]:
    facts: dict[str, Any] = {"event.type": event_type}
    for key in ("rating", "score", "kind", "source", "comment", "from", "to", "severity", "alarm_type"):
        if key in data:
            facts[f"event.{key}"] = data[key]
    return facts


def _tags(session: Session, subject_type: str, subject_id: int) -> list[str]:
    return list(
        session.scalars(
            sa.select(Tag.tag).where(Tag.subject_type == subject_type, Tag.subject_id == subject_id)
        )
    )


def _sla(wo: WorkOrder, now: datetime) -> str | None:
    if (
        wo.respond_by is None
        or wo.resolve_by is None
        or wo.respond_risk_at is None
        or wo.resolve_risk_at is None
    ):
        return None
    targets = SlaTargets(wo.respond_by, wo.resolve_by, wo.respond_risk_at, wo.resolve_risk_at)
    return sla_state(wo.cancelled_at or now, targets, wo.responded_at, wo.resolved_at).value


def facts_for_many(session: Session, wo_ids: list[int], now: datetime) -> dict[int, dict[str, Any]]:
    """The same facts as `work_order_facts` for many orders in a handful of queries (the worker's path)."""
    if not wo_ids:
        return {}
    out: dict[int, dict[str, Any]] = {}
    active = sorted(s.value for s in ACTIVE_VISIT_STATUSES)
    has_engineer = (
        sa.exists().where(Visit.work_order_id == WorkOrder.id, Visit.status.in_(active)).label("has_engineer")
    )
    rows = session.execute(
        sa.select(
            WorkOrder,
            has_engineer,
            Customer.code,
            Customer.name,
            Contract.tier,
            Contract.number,
            Asset.serial,
            Asset.warranty_ends_on,
            AssetModel.code,
        )
        .join(Customer, Customer.id == WorkOrder.customer_id)
        .outerjoin(Contract, Contract.id == WorkOrder.contract_id)
        .outerjoin(Asset, Asset.id == WorkOrder.asset_id)
        .outerjoin(AssetModel, AssetModel.id == Asset.asset_model_id)
        .where(WorkOrder.id.in_(wo_ids))
        .execution_options(populate_existing=False)
    ).all()
    customers = {r[0].customer_id for r in rows}
    tags: dict[tuple[str, int], list[str]] = {}
    for subject_type, ids in (("work_order", wo_ids), ("customer", sorted(customers))):
        for sid, tag in session.execute(
            sa.select(Tag.subject_id, Tag.tag)
            .where(Tag.subject_type == subject_type, Tag.subject_id.in_(ids))
            .order_by(Tag.id)
        ):
            tags.setdefault((subject_type, sid), []).append(tag)
    for wo, engaged, c_code, c_name, tier, number, serial, warranty, model in rows:
        facts: dict[str, Any] = {
            "work_order.id": wo.id,
            "work_order.reference": wo.reference,
            "work_order.title": wo.title,
            "work_order.priority": Priority.of(wo.priority).value,
            "work_order.status": wo.status,
            "work_order.kind": wo.kind,
            "work_order.source": wo.source,
            "work_order.territory_id": wo.territory_id,
            "work_order.site_id": wo.site_id,
            "work_order.asset_id": wo.asset_id,
            "work_order.sla_state": _sla(wo, now),
            "work_order.has_engineer": bool(engaged),
            "work_order.tags": tags.get(("work_order", wo.id), []),
            "customer.id": wo.customer_id,
            "customer.code": c_code,
            "customer.name": c_name,
            "customer.tags": tags.get(("customer", wo.customer_id), []),
        }
        if tier is not None:
            facts["contract.tier"], facts["contract.number"] = tier, number
        if serial is not None:
            facts["asset.serial"], facts["asset.model"] = serial, model
            facts["asset.under_warranty"] = warranty is not None and now.date() <= warranty
        out[wo.id] = facts
    return out
