"""The SLA state as SQL, mirroring core.domain.sla.sla_state so lists can filter on it in the database."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.sql.elements import ColumnElement

from core.domain.sla import SlaState
from core.store.models import WorkOrder as W


def _effective_now(now: datetime) -> ColumnElement[datetime]:
    # Clocks stand still while on hold and stop for good at cancellation.
    return sa.func.coalesce(W.cancelled_at, W.on_hold_since, sa.literal(now, W.created_at.type))


def _missed(
    at: sa.SQLColumnExpression[datetime], due: sa.SQLColumnExpression[Any], done: sa.SQLColumnExpression[Any]
) -> ColumnElement[bool]:
    return sa.case((done.is_not(None), done > due), else_=at > due)


def _breached(now: datetime) -> ColumnElement[bool]:
    at = _effective_now(now)
    response_at = sa.func.coalesce(W.responded_at, W.resolved_at)
    return sa.or_(_missed(at, W.respond_by, response_at), _missed(at, W.resolve_by, W.resolved_at))


def _at_risk(now: datetime) -> ColumnElement[bool]:
    at = _effective_now(now)
    response_at = sa.func.coalesce(W.responded_at, W.resolved_at)
    return sa.and_(
        sa.not_(_breached(now)),
        sa.or_(
            sa.and_(response_at.is_(None), at >= W.respond_risk_at),
            sa.and_(W.resolved_at.is_(None), at >= W.resolve_risk_at),
        ),
    )


def in_state(state: SlaState, now: datetime) -> ColumnElement[bool]:
    """Work orders in `state` at `now`. Orders without SLA targets are in none of the states."""
    has_sla = sa.and_(W.respond_by.is_not(None), W.resolve_by.is_not(None))
    if state is SlaState.BREACHED:
        return sa.and_(has_sla, _breached(now))
    if state is SlaState.AT_RISK:
        return sa.and_(has_sla, _at_risk(now))
    return sa.and_(has_sla, sa.not_(_breached(now)), sa.not_(_at_risk(now)))
