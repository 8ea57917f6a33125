"""The work-order and visit state machines: every transition is checked here and nowhere else.

A work order's state follows its current visit (see `work_order_status_for`), so a visit transition
implies at most one work-order transition, and both are validated by the same tables.
"""

from __future__ import annotations

from enum import StrEnum


class WorkOrderStatus(StrEnum):
    NEW = "new"
    SCHEDULED = "scheduled"
    DISPATCHED = "dispatched"
    IN_PROGRESS = "in_progress"
    ON_HOLD = "on_hold"
    NEEDS_REVISIT = "needs_revisit"
    COMPLETED = "completed"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class VisitStatus(StrEnum):
    ASSIGNED = "assigned"
    ACCEPTED = "accepted"
    EN_ROUTE = "en_route"
    ON_SITE = "on_site"
    WORK_DONE = "work_done"
    SIGNED_OFF = "signed_off"
    DECLINED = "declined"
    CANCELLED = "cancelled"


W = WorkOrderStatus
V = VisitStatus

WORK_ORDER_TRANSITIONS: dict[WorkOrderStatus, frozenset[WorkOrderStatus]] = {
    W.NEW: frozenset({W.SCHEDULED, W.CANCELLED}),
    # Back to `new` when the planned visit is withdrawn or declined: the order needs planning again.
    W.SCHEDULED: frozenset({W.DISPATCHED, W.NEW, W.CANCELLED}),
    W.DISPATCHED: frozenset({W.IN_PROGRESS, W.NEW, W.CANCELLED}),
    W.IN_PROGRESS: frozenset({W.COMPLETED, W.ON_HOLD, W.NEEDS_REVISIT}),
    W.ON_HOLD: frozenset({W.IN_PROGRESS, W.NEEDS_REVISIT, W.CANCELLED}),
    W.NEEDS_REVISIT: frozenset({W.SCHEDULED, W.CANCELLED}),
    # A completed order may be reopened when the fix did not hold (it then counts against first-time fix).
    W.COMPLETED: frozenset({W.CLOSED, W.NEEDS_REVISIT}),
    W.CLOSED: frozenset(),
    W.CANCELLED: frozenset(),
}

VISIT_TRANSITIONS: dict[VisitStatus, frozenset[VisitStatus]] = {
    V.ASSIGNED: frozenset({V.ACCEPTED, V.DECLINED, V.CANCELLED}),
    V.ACCEPTED: frozenset({V.EN_ROUTE, V.DECLINED, V.CANCELLED}),
    V.EN_ROUTE: frozenset({V.ON_SITE, V.CANCELLED}),
    # The office may end a visit at any point before sign-off (its timestamps keep what did happen).
    V.ON_SITE: frozenset({V.WORK_DONE, V.CANCELLED}),
    V.WORK_DONE: frozenset({V.SIGNED_OFF, V.CANCELLED}),
    V.SIGNED_OFF: frozenset(),
    V.DECLINED: frozenset(),
    V.CANCELLED: frozenset(),
}

# Transitions a person must justify: they are what a customer or an auditor asks about later.
REASON_REQUIRED: frozenset[WorkOrderStatus] = frozenset({W.CANCELLED, W.ON_HOLD, W.NEEDS_REVISIT})

OPEN_STATUSES: frozenset[WorkOrderStatus] = frozenset(
    s for s in WorkOrderStatus if s not in {W.COMPLETED, W.CLOSED, W.CANCELLED}
)
# Work the optimizer may (re)place.
PLANNABLE_STATUSES: frozenset[WorkOrderStatus] = frozenset({W.NEW, W.NEEDS_REVISIT})
ACTIVE_VISIT_STATUSES: frozenset[VisitStatus] = frozenset(
    {V.ASSIGNED, V.ACCEPTED, V.EN_ROUTE, V.ON_SITE, V.WORK_DONE}
)


class IllegalTransition(Exception):
    """A requested move that the lifecycle does not allow (HTTP 409)."""

    def __init__(self, subject: str, current: str, target: str, allowed: frozenset[str]) -> None:
        self.subject, self.current, self.target = subject, current, target
        self.allowed = sorted(allowed)
        allowed_text = ", ".join(self.allowed) or "none: it is final"
        super().__init__(f"{subject} cannot go from {current} to {target} (allowed: {allowed_text})")


class ReasonRequired(Exception):
    def __init__(self, target: str) -> None:
        self.target = target
        super().__init__(f"moving a work order to {target} needs a reason")


def check_work_order_transition(
    current: WorkOrderStatus, target: WorkOrderStatus, reason: str | None
) -> None:
    allowed = WORK_ORDER_TRANSITIONS[current]
    if target not in allowed:
        raise IllegalTransition("work order", current, target, frozenset(allowed))
    if target in REASON_REQUIRED and not (reason and reason.strip()):
        raise ReasonRequired(target)


def check_visit_transition(current: VisitStatus, target: VisitStatus) -> None:
    allowed = VISIT_TRANSITIONS[current]
    if target not in allowed:
        raise IllegalTransition("visit", current, target, frozenset(allowed))


# What the work order becomes when its current visit enters a state; None = the visit alone moves.
_FOLLOWS_VISIT: dict[VisitStatus, WorkOrderStatus | None] = {
    V.ASSIGNED: W.SCHEDULED,
    V.ACCEPTED: None,
    V.EN_ROUTE: None,
    V.ON_SITE: W.IN_PROGRESS,
    V.WORK_DONE: None,
    V.SIGNED_OFF: W.COMPLETED,
    V.DECLINED: W.NEW,
    V.CANCELLED: W.NEW,
}


def work_order_status_for(visit_status: VisitStatus, current: WorkOrderStatus) -> WorkOrderStatus | None:
    """The work-order status implied by a visit entering `visit_status`, or None when it stays put.

    A visit withdrawn after work began sends the order to `needs_revisit` rather than back to `new`, so
    the first-time-fix history is not rewritten.
    """
    target = _FOLLOWS_VISIT[visit_status]
    if target is W.NEW and current in (W.IN_PROGRESS, W.ON_HOLD):
        return W.NEEDS_REVISIT
    if target is W.NEW and current is W.NEEDS_REVISIT:
        return None
    if target is W.SCHEDULED and current is W.NEEDS_REVISIT:
        return W.SCHEDULED
    if target is None or target == current:
        return None
    return target
