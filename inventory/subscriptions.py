"""What inventory does when the rest of fieldops moves: reserve on assignment (and again when the job's
parts list changes), release when the job is reassigned, declined, cancelled or finished.

`subscribe(bus, sessions, clock)` is called once at start-up by the composition root. Each handler runs
in its own transaction and first records the event id (`inventory_processed_events`) in that same
transaction, so an event delivered twice (the bus, then the outbox relay; or two relays) acts once.
"""

from __future__ import annotations

import weakref
from collections.abc import Callable

from sqlalchemy.orm import Session, sessionmaker

from core.domain.clock import Clock
from core.domain.events import DomainEvent
from core.domain.lifecycle import WorkOrderStatus
from core.services.context import Actor, ServiceContext
from core.services.events import EventBus
from inventory import reservations
from inventory.locations import ensure_van
from inventory.models import ProcessedEvent

ACTOR = "inventory"
# A job in one of these states needs nothing more from the shelf.
_DONE = frozenset({WorkOrderStatus.CANCELLED, WorkOrderStatus.COMPLETED, WorkOrderStatus.CLOSED})
_wired: weakref.WeakSet[EventBus] = weakref.WeakSet()


class Handlers:
    def __init__(self, sessions: sessionmaker[Session], clock: Clock) -> None:
        self.sessions = sessions
        self.clock = clock

    def once(self, evt: DomainEvent, work: Callable[[ServiceContext], object]) -> bool:
        """Run `work` for this event unless it already ran; False when it had."""
        with self.sessions() as session:
            ctx = ServiceContext(session, self.clock, Actor.system(ACTOR))
            if session.get(ProcessedEvent, evt.id) is not None:
                return False
            session.add(ProcessedEvent(event_id=evt.id, type=evt.type, processed_at=ctx.now()))
            # Written first: a concurrent second delivery waits on this key, then fails, changing nothing.
            session.flush()
            work(ctx)
            session.commit()
        return True

    def visit_assigned(self, evt: DomainEvent) -> None:
        self.once(evt, lambda ctx: reservations.reserve_for_visit(ctx, evt.subject_id))

    def visit_ended(self, evt: DomainEvent) -> None:
        reason = f"visit {evt.subject_id} {evt.type.removeprefix('visit.')}"
        self.once(evt, lambda ctx: reservations.release_for_visit(ctx, evt.subject_id, reason))

    def work_order_transitioned(self, evt: DomainEvent) -> None:
        target = evt.data.get("to")
        if target not in _DONE:
            return
        reason = f"work order {target}"
        self.once(evt, lambda ctx: reservations.release_for_work_order(ctx, evt.subject_id, reason))

    def work_order_updated(self, evt: DomainEvent) -> None:
        if "required_parts" not in evt.data.get("changed", ()):
            return
        self.once(evt, lambda ctx: reservations.reserve_again(ctx, evt.subject_id))

    def engineer_created(self, evt: DomainEvent) -> None:
        self.once(evt, lambda ctx: ensure_van(ctx, evt.subject_id))


def subscribe(bus: EventBus, sessions: sessionmaker[Session], clock: Clock) -> Handlers:
    """Register the inventory handlers on `bus` (once per bus, however often it is called)."""
    handlers = Handlers(sessions, clock)
    if bus in _wired:
        return handlers
    _wired.add(bus)
    bus.subscribe("visit.assigned", handlers.visit_assigned)
    bus.subscribe("visit.cancelled", handlers.visit_ended)
    bus.subscribe("visit.declined", handlers.visit_ended)
    bus.subscribe("work_order.transitioned", handlers.work_order_transitioned)
    bus.subscribe("work_order.updated", handlers.work_order_updated)
    bus.subscribe("engineer.created", handlers.engineer_created)
    return handlers
