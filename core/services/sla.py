"""Choosing a work order's SLA: contract → tier → policy → calendar → due times."""

from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Session

from core.domain.calendar import BusinessCalendar
from core.domain.sla import SlaTargets, compute_targets
from core.store.models import Asset, Contract, SlaPolicy, Territory

# Customers without a contract are served under this tier's policy when one is defined.
DEFAULT_TIER = "standard"
AT_RISK_FRACTION = 0.75


def active_contract(session: Session, customer_id: int, asset: Asset | None, on: date) -> Contract | None:
    """The asset's own contract if it is in force, else the customer's most generous contract in force."""
    if (
        asset is not None
        and asset.contract is not None
        and asset.contract.starts_on <= on <= asset.contract.ends_on
    ):
        return asset.contract
    return session.scalars(
        sa.select(Contract)
        .where(Contract.customer_id == customer_id, Contract.starts_on <= on, Contract.ends_on >= on)
        .order_by(sa.func.coalesce(Contract.priority_floor, 9), Contract.starts_on.desc(), Contract.id)
        .limit(1)
    ).first()


def find_policy(session: Session, tier: str | None, priority: int) -> SlaPolicy | None:
    for candidate in dict.fromkeys([tier or DEFAULT_TIER, DEFAULT_TIER]):
        policy = session.scalars(
            sa.select(SlaPolicy).where(SlaPolicy.tier == candidate, SlaPolicy.priority == priority)
        ).first()
        if policy is not None:
            return policy
    return None


def calendar_for(territory: Territory, policy: SlaPolicy | None) -> BusinessCalendar:
    if policy is not None and policy.around_the_clock:
        return BusinessCalendar.around_the_clock(territory.timezone)
    return BusinessCalendar.from_dict(territory.calendar)


def targets_for(
    session: Session, territory: Territory, tier: str | None, priority: int, created_at: datetime
) -> SlaTargets | None:
    policy = find_policy(session, tier, priority)
    if policy is None:
        return None
    return compute_targets(
        created_at,
        policy.response_minutes,
        policy.resolution_minutes,
        calendar_for(territory, policy),
        AT_RISK_FRACTION,
    )
