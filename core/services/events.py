"""Recording changes: the audit trail and domain events (outbox row + in-process bus after commit)."""

from __future__ import annotations

import fnmatch
from collections.abc import Callable
from typing import Any

import structlog
from sqlalchemy import event
from sqlalchemy.orm import Session, sessionmaker

from core.domain.events import DomainEvent
from core.services.context import ServiceContext
from core.store.models import AuditEvent, OutboxEvent

log = structlog.get_logger(__name__)

Handler = Callable[[DomainEvent], None]
_PENDING = "fieldops.pending_events"


class EventBus:
    """In-process subscribers, called after the change they describe has committed.

    This is the fast path inside one process; durable, at-least-once delivery to other processes reads
    the outbox table instead, so a crash between commit and publish loses nothing that matters.
    """

    def __init__(self) -> None:
        self._subscribers: list[tuple[str, Handler]] = []

    def subscribe(self, pattern: str, handler: Handler) -> None:
        """`pattern` is a glob over event types, e.g. `work_order.*` or `*`."""
        self._subscribers.append((pattern, handler))

    def publish(self, evt: DomainEvent) -> None:
        for pattern, handler in list(self._subscribers):
            if fnmatch.fnmatchcase(evt.type, pattern):
                try:
                    handler(evt)
                except Exception:
                    # One broken subscriber must not stop the others or fail the request that committed.
                    log.exception("event_subscriber_failed", event_type=evt.type, event_id=str(evt.id))

    def attach(self, sessions: sessionmaker[Session]) -> None:
        """Publish the events of every session from `sessions` when, and only when, it commits."""

        def after_commit(session: Session) -> None:
            for evt in session.info.pop(_PENDING, []):
                self.publish(evt)

        def after_rollback(session: Session) -> None:
            session.info.pop(_PENDING, None)

        event.listen(sessions, "after_commit", after_commit)
        event.listen(sessions, "after_soft_rollback", lambda session, _tx: after_rollback(session))


def emit(
    ctx: ServiceContext, type_: str, subject_type: str, subject_id: int, data: dict[str, Any]
) -> DomainEvent:
    """Record a domain event in the current transaction (outbox) and queue it for the bus."""
    evt = DomainEvent(
        type=type_,
        subject_type=subject_type,
        subject_id=subject_id,
        occurred_at=ctx.now(),
        data=data,
        actor=ctx.actor.name,
    )
    ctx.session.add(
        OutboxEvent(
            event_id=evt.id,
            type=evt.type,
            subject_type=subject_type,
            subject_id=subject_id,
            occurred_at=evt.occurred_at,
            actor=evt.actor,
            data=data,
        )
    )
    ctx.session.info.setdefault(_PENDING, []).append(evt)
    return evt


def audit(
    ctx: ServiceContext,
    subject_type: str,
    subject_id: int,
    action: str,
    *,
    from_state: str | None = None,
    to_state: str | None = None,
    reason: str | None = None,
    data: dict[str, Any] | None = None,
) -> None:
    ctx.session.add(
        AuditEvent(
            at=ctx.now(),
            actor=ctx.actor.name,
            subject_type=subject_type,
            subject_id=subject_id,
            action=action,
            from_state=from_state,
            to_state=to_state,
            reason=reason,
            data=data or {},
        )
    )
