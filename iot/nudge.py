"""The engineers' nudge: `fieldops/v1/engineers/{engineer_id}/assignments`, "your plan changed, sync".

The body is deliberately small and carries no plan (the app fetches that from `/mobile/v1` with its own
token): `{"v": 1, "id", "at", "reasons": [event types], "work_order_ids": [...]}`.

Published with QoS 1 and **retained**: the message means "something changed after `at`", so only the
newest one matters. Retained, an app that connects later (phone asleep, app killed, first start) gets
the newest nudge at once and compares `at` with its last sync; nothing piles up in a queue the way a
persistent session's backlog would, and the broker keeps one small message per engineer.

How the app listens: signed in to the API, it asks `GET /iot/nudge-access` for its broker account
(`engineer-<id>`, a password derived from the server's secret key, the topic), connects to the broker
with it (MQTT 3.1.1 or 5, any client id) and subscribes to its own topic with QoS 1. Both brokers let
that account read exactly that topic: the embedded one by rule (`iot.broker`), Mosquitto by the ACL
`fieldops iot acl` writes. The password is stable until FIELDOPS_SECRET_KEY changes (then rerun
`fieldops iot acl`); a deactivated engineer loses the account on the embedded broker at once and on
Mosquitto at the next `fieldops iot acl` + SIGHUP.

Bus handlers only enqueue: resolving engineers (a database read for `work_order.updated`) and
publishing happen on the nudger's own thread, so a slow, failing or absent broker never delays or breaks
the request whose commit caused the event. Events arriving together are coalesced per engineer.
"""

from __future__ import annotations

import queue
import threading
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import msgspec
import paho.mqtt.client as mqtt
import sqlalchemy as sa
import structlog
from sqlalchemy.orm import Session, sessionmaker

from core.domain.clock import Clock
from core.domain.events import DomainEvent
from core.domain.lifecycle import VisitStatus
from core.services.events import EventBus
from core.store.models import Visit
from iot import contract
from iot.mqtt import BrokerUrl, make_client

log = structlog.get_logger(__name__)

EVENTS = ("visit.assigned", "visit.cancelled", "visit.declined", "work_order.updated", "plan.committed")
# A work order's visits that an engineer still has on their plan.
_LIVE_VISITS = tuple(
    s.value for s in (VisitStatus.ASSIGNED, VisitStatus.ACCEPTED, VisitStatus.EN_ROUTE, VisitStatus.ON_SITE)
)


class NudgeBody(msgspec.Struct, kw_only=True):
    v: int = 1
    id: str
    at: str
    reasons: list[str]
    work_order_ids: list[int]


@dataclass(slots=True)
class _Pending:
    reasons: set[str] = field(default_factory=set)
    work_orders: set[int] = field(default_factory=set)


class Nudger:
    """Subscribes to the bus; publishes nudges from a background thread once `start`ed."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        *,
        client_id: str,
        max_pending: int = 10_000,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.client_id = client_id
        self._queue: queue.Queue[DomainEvent | None] = queue.Queue(max_pending)
        self.client: mqtt.Client | None = None
        self._thread: threading.Thread | None = None
        self.sent = 0
        self.dropped = 0

    def subscribe(self, bus: EventBus) -> None:
        for event_type in EVENTS:
            bus.subscribe(event_type, self.handle)

    def handle(self, evt: DomainEvent) -> None:
        """The bus handler: never blocks and never raises into the committing request."""
        if self._thread is None:
            return  # not started (tests, CLI commands): nobody to publish
        try:
            self._queue.put_nowait(evt)
        except queue.Full:
            self.dropped += 1

    def start(self, broker: BrokerUrl) -> None:
        """Publish through `broker` (fieldops' own account, which may write the assignments topics)."""
        self.client = make_client(broker, self.client_id, v5=False)
        # Published while disconnected: kept (bounded) and sent on reconnect.
        self.client.max_queued_messages_set(1000)
        # connect_async: an absent broker is retried in the background, not an error at start-up.
        self.client.connect_async(broker.host, broker.port, keepalive=30)
        self.client.loop_start()
        self._thread = threading.Thread(target=self._run, name="iot-nudge", daemon=True)
        self._thread.start()

    def stop(self, timeout: float = 5.0) -> None:
        if self._thread is None:
            return
        self._queue.put(None)
        self._thread.join(timeout)
        self._thread = None
        if self.client is not None:
            self.client.disconnect()
            self.client.loop_stop()

    def _run(self) -> None:
        while True:
            first = self._queue.get()
            if first is None:
                return
            batch = [first]
            while True:  # coalesce what is already waiting
                try:
                    nxt = self._queue.get_nowait()
                except queue.Empty:
                    break
                if nxt is None:
                    self._flush(batch)
                    return
                batch.append(nxt)
            self._flush(batch)

    def _flush(self, events: list[DomainEvent]) -> None:
        try:
            per_engineer = self._resolve(events)
            for engineer_id, pending in sorted(per_engineer.items()):
                self._publish(engineer_id, pending)
        except Exception:
            log.exception("nudge_failed", events=len(events))

    def _resolve(self, events: Iterable[DomainEvent]) -> dict[int, _Pending]:
        out: dict[int, _Pending] = {}

        def add(engineer_id: Any, reason: str, work_order_id: Any) -> None:
            if not isinstance(engineer_id, int):
                return
            pending = out.setdefault(engineer_id, _Pending())
            pending.reasons.add(reason)
            if isinstance(work_order_id, int):
                pending.work_orders.add(work_order_id)

        updated: dict[int, str] = {}
        for evt in events:
            data = evt.data
            if evt.type == "plan.committed":
                for engineer_id in data.get("engineer_ids") or []:
                    add(engineer_id, evt.type, None)
            elif evt.type == "work_order.updated":
                updated[evt.subject_id] = evt.type
            else:
                add(data.get("engineer_id"), evt.type, data.get("work_order_id"))
        if updated:
            with self.sessions() as session:
                rows = session.execute(
                    sa.select(Visit.engineer_id, Visit.work_order_id).where(
                        Visit.work_order_id.in_(sorted(updated)), Visit.status.in_(_LIVE_VISITS)
                    )
                )
                for engineer_id, work_order_id in rows:
                    add(engineer_id, updated[work_order_id], work_order_id)
        return out

    def _publish(self, engineer_id: int, pending: _Pending) -> None:
        body = NudgeBody(
            id=str(uuid.uuid4()),
            at=self.clock.now().isoformat(),
            reasons=sorted(pending.reasons),
            work_order_ids=sorted(pending.work_orders),
        )
        assert self.client is not None  # started before anything is queued
        info = self.client.publish(
            contract.assignments_topic(engineer_id), contract.encode_json(body), qos=1, retain=True
        )
        if info.rc in (mqtt.MQTT_ERR_SUCCESS, mqtt.MQTT_ERR_NO_CONN):
            # NO_CONN: paho keeps it (QoS 1) and sends it once connected again.
            self.sent += 1
        else:
            self.dropped += 1
            log.warning("nudge_not_sent", engineer_id=engineer_id, rc=info.rc)


@dataclass(frozen=True, slots=True)
class IotFeature:
    """`runtime.features["iot"]`: the nudger, and the secret the engineers' broker passwords derive from."""

    nudger: Nudger
    engineer_secret: str
