"""SLA due times and state of a work order, counted in business time of the territory's calendar.

A work order has two clocks: *response* (until first response / on site) and *resolution*. Each has a due
instant and an at-risk instant (when a fixed fraction of its business-time budget is used up). The state
is ``ok → at_risk → breached`` and, for fixed response/resolution times, never moves backwards as time
passes.

``sla_state`` is deliberately plain comparisons of five timestamps with ``now`` so the persistence layer
can mirror it as a SQL expression; keep the two in step.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from enum import StrEnum

from core.domain.calendar import BusinessCalendar


class SlaState(StrEnum):
    OK = "ok"
    AT_RISK = "at_risk"
    BREACHED = "breached"


@dataclass(frozen=True, slots=True)
class SlaTargets:
    """Aware UTC instants: when each clock is due and when it turns at risk."""

    respond_by: datetime
    resolve_by: datetime
    respond_risk_at: datetime
    resolve_risk_at: datetime


def compute_targets(
    created_at: datetime,
    response_minutes: float,
    resolution_minutes: float,
    calendar: BusinessCalendar,
    at_risk_fraction: float = 0.75,
) -> SlaTargets:
    """Due and at-risk instants for a work order created at ``created_at``.

    Targets are business minutes counted from ``created_at`` (or the next opening, if created outside
    working hours). The at-risk instant is where ``at_risk_fraction`` of that business-time budget is used,
    so nights and weekends delay it just as they delay the deadline.
    """
    if not 0 < at_risk_fraction < 1:
        raise ValueError(f"at_risk_fraction must be between 0 and 1 (exclusive), got {at_risk_fraction!r}")
    add = calendar.add_business_minutes
    return SlaTargets(
        respond_by=add(created_at, response_minutes),
        resolve_by=add(created_at, resolution_minutes),
        respond_risk_at=add(created_at, response_minutes * at_risk_fraction),
        resolve_risk_at=add(created_at, resolution_minutes * at_risk_fraction),
    )


def sla_state(
    now: datetime,
    targets: SlaTargets,
    responded_at: datetime | None,
    resolved_at: datetime | None,
) -> SlaState:
    """The SLA state at ``now``.

    - A clock is *met* when its event happened at or before its due instant; resolving also counts as
      responding when ``responded_at`` is missing (SQL: ``coalesce(responded_at, resolved_at)``).
    - BREACHED: a clock was met late, or is still open and ``now`` is past its due instant (being exactly
      at the due instant is still on time).
    - AT_RISK: otherwise, a clock is still open and ``now`` is at or past its at-risk instant.
    - OK: otherwise.
    """
    response_at = responded_at if responded_at is not None else resolved_at
    if _missed(now, targets.respond_by, response_at) or _missed(now, targets.resolve_by, resolved_at):
        return SlaState.BREACHED
    if (response_at is None and now >= targets.respond_risk_at) or (
        resolved_at is None and now >= targets.resolve_risk_at
    ):
        return SlaState.AT_RISK
    return SlaState.OK


def _missed(now: datetime, due: datetime, done_at: datetime | None) -> bool:
    return done_at > due if done_at is not None else now > due


def extend_targets(
    targets: SlaTargets,
    paused_from: datetime,
    paused_until: datetime,
    calendar: BusinessCalendar,
    *,
    responded_at: datetime | None = None,
    resolved_at: datetime | None = None,
) -> SlaTargets:
    """Stop the open clocks for a pause (the work order sat ``on_hold``, waiting for the customer).

    Let *p* be the business minutes in ``[paused_from, paused_until)``. A clock was running during the
    pause unless it was met at or before ``paused_from`` (pass ``responded_at`` / ``resolved_at`` when
    known; ``None`` means not met). For a running clock, each of its instants (due and at-risk) that lies
    after ``paused_from`` moves ``p`` business minutes later, counted from the old instant; an instant at
    or before ``paused_from`` had already passed and stays put, so a pause never un-breaches a clock or
    clears an at-risk state that was reached before it. Met clocks keep their instants. Counting from the
    old instant gives the same result as counting the remaining budget from ``paused_until``, because
    business-minute addition is additive.
    """
    if paused_until < paused_from:
        raise ValueError("paused_until is before paused_from")
    paused = calendar.business_minutes_between(paused_from, paused_until)
    response_at = responded_at if responded_at is not None else resolved_at

    def shift(instant: datetime, met_at: datetime | None) -> datetime:
        running = met_at is None or met_at > paused_from
        # ``paused == 0`` must be a no-op: adding 0 to an interval end would jump to the next opening.
        if not running or instant <= paused_from or paused == 0:
            return instant
        return calendar.add_business_minutes(instant, paused)

    return replace(
        targets,
        respond_by=shift(targets.respond_by, response_at),
        respond_risk_at=shift(targets.respond_risk_at, response_at),
        resolve_by=shift(targets.resolve_by, resolved_at),
        resolve_risk_at=shift(targets.resolve_risk_at, resolved_at),
    )
