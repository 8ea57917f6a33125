"""The ingest worker: MQTT in, validated batches into the database, acknowledgements only after commit.

Delivery is at least once end to end:

* the worker keeps a persistent session under a stable client id (MQTT 5 `clean_start=False` with a
  session expiry, or MQTT 3.1.1 `clean_session=False`) and subscribes with QoS 1, so the broker queues
  what arrives while the worker is away;
* it acknowledges (PUBACK, paho `manual_ack=True`) only after the batch holding the message has
  committed: a worker killed mid-batch leaves its messages unacknowledged, and the broker delivers them
  again when the worker's session reconnects;
* storage is idempotent on (device, ts, seq), so what is delivered twice is stored once.

The exception is the embedded broker (`ack_on_receipt`): amqtt gives up on a QoS 1 delivery whose PUBACK
has not come within 5 s (hard-coded) and drops the message, so a commit slowed by a busy SQLite file would
lose telemetry. There the worker acknowledges on receipt; that costs nothing, because amqtt keeps its
queues in memory in the same `fieldops serve` process: whatever would kill the unwritten batch kills the
broker's queue with it. The writer still drains everything received before the worker stops.

On Mosquitto, workers subscribe with MQTT 5 shared subscriptions (`$share/fieldops-ingest/…`) and split
the load; on the embedded amqtt broker (MQTT 3.1.1, no shared subscriptions) one worker subscribes plainly.
"""

from __future__ import annotations

import os
import socket
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import paho.mqtt.client as mqtt
import sqlalchemy as sa
import structlog
from sqlalchemy.exc import DataError, DBAPIError, IntegrityError, OperationalError, ProgrammingError
from sqlalchemy.orm import Session, sessionmaker

from core.domain.clock import Clock
from iot import contract, store
from iot.models import Device
from iot.mqtt import BrokerUrl, connect, content_type, make_client

log = structlog.get_logger(__name__)

Message = mqtt.MQTTMessage
# A batch is written once no message has arrived for this long (or it is full, or batch_wait_s is up).
_IDLE_S = 0.005


@dataclass(frozen=True, slots=True)
class IngestConfig:
    broker: BrokerUrl
    worker_id: str
    # MQTT 5 with shared subscriptions (Mosquitto) or MQTT 3.1.1 with plain ones (the embedded broker).
    v5: bool = True
    batch_size: int = 2000
    batch_wait_s: float = 0.05
    limits: contract.Limits = field(default_factory=contract.Limits)
    session_expiry_s: int = 7 * 86400
    # How many unacknowledged messages the broker may have in flight to us (MQTT 5 Receive Maximum).
    receive_maximum: int = 20_000
    # A device's last_seen_at is written when it moved on by at least this much.
    seen_granularity: timedelta = timedelta(seconds=10)
    device_cache_s: float = 30.0
    share_group: str = contract.SHARE_GROUP
    # Shared subscriptions: on by default with MQTT 5. Mosquitto also honours `$share` from MQTT 3.1.1
    # clients (an extension), which spares paho's costly MQTT 5 property decoding (see bench/ingest).
    shared: bool | None = None
    # Acknowledge when received instead of after commit: for the embedded amqtt broker only (see above).
    ack_on_receipt: bool = False
    # With ack_on_receipt nothing bounds what the broker sends us: past this many waiting messages the
    # network thread waits for the writer (TCP back-pressure on the broker).
    max_buffered: int = 50_000

    @property
    def uses_shared(self) -> bool:
        return self.v5 if self.shared is None else self.shared

    @property
    def client_id(self) -> str:
        return f"fieldops-ingest-{self.worker_id}"


@dataclass(slots=True)
class Counters:
    received: int = 0
    stored: int = 0
    duplicate: int = 0
    dead_lettered: int = 0
    events: int = 0
    batches: int = 0

    def as_dict(self) -> dict[str, int]:
        return {
            "received": self.received,
            "stored": self.stored,
            "duplicate": self.duplicate,
            "dead_lettered": self.dead_lettered,
            "events": self.events,
            "batches": self.batches,
        }


@dataclass(slots=True)
class _DeviceCache:
    ttl_s: float
    entries: dict[str, tuple[int | None, float]] = field(default_factory=dict)

    def lookup(self, session: Session, device_ids: set[str]) -> dict[str, int | None]:
        """device → asset id, or None for unknown or disabled devices (cached too, against floods)."""
        now = time.monotonic()
        missing = [d for d in device_ids if d not in self.entries or self.entries[d][1] < now]
        if missing:
            if len(self.entries) > 200_000:
                self.entries.clear()
            rows = session.execute(
                sa.select(Device.id, Device.asset_id).where(Device.id.in_(missing), Device.active.is_(True))
            )
            found: dict[str, int] = dict(rows.tuples().all())
            for device_id in missing:
                self.entries[device_id] = (found.get(device_id), now + self.ttl_s)
        return {d: self.entries[d][0] for d in device_ids}


class IngestWorker:
    """One worker process's MQTT client plus its batch writer thread."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        clock: Clock,
        config: IngestConfig,
        *,
        on_stored: Callable[[], None] | None = None,
    ) -> None:
        self.sessions = sessions
        self.clock = clock
        self.config = config
        self.counters = Counters()
        self._on_stored = on_stored
        self._queue: deque[Message] = deque()
        self._cond = threading.Condition()
        self._running = False
        self._writer: threading.Thread | None = None
        self._devices = _DeviceCache(config.device_cache_s)
        self._seen: dict[str, datetime] = {}
        self._connected = threading.Event()
        self._last_log = time.monotonic()
        self.client = make_client(
            config.broker,
            config.client_id,
            v5=config.v5,
            persistent=True,
            manual_ack=not config.ack_on_receipt,
        )
        self.client.on_connect = self._on_connect
        self.client.on_disconnect = self._on_disconnect
        self.client.on_message = self._on_message
        self.client.on_subscribe = self._on_subscribe

    # ------------------------------------------------------------ lifecycle

    def start(self) -> None:
        """Connect; paho's network thread reads (and queues) while the writer thread commits batches.

        Reading never waits for the database, so the broker's per-client queue does not fill up during a
        slow commit: what has been sent to us waits here, unacknowledged, bounded by the MQTT 5 Receive
        Maximum (or the broker's max_inflight_messages on MQTT 3.1.1).
        """
        with self.sessions() as session:
            store.register_worker(
                session, self.config.worker_id, socket.gethostname(), os.getpid(), self.clock.now()
            )
        self._running = True
        self._writer = threading.Thread(target=self._write_loop, name="ingest-writer", daemon=True)
        self._writer.start()
        connect(
            self.client,
            self.config.broker,
            v5=self.config.v5,
            persistent=True,
            session_expiry_s=self.config.session_expiry_s,
            receive_maximum=self.config.receive_maximum,
        )
        self.client.loop_start()
        log.info(
            "ingest_started", worker=self.config.worker_id, broker=str(self.config.broker), v5=self.config.v5
        )

    def wait_connected(self, timeout: float = 10.0) -> bool:
        return self._connected.wait(timeout)

    def stop(self, timeout: float = 15.0) -> None:
        """Stop receiving, then write what has arrived. The broker keeps the session.

        Disconnecting first means nothing arrives that would be neither written nor acknowledged: what
        the writer still holds is committed (its acknowledgements can no longer be sent, so Mosquitto
        delivers those messages again next time, and they are recognised as duplicates).
        """
        self.client.disconnect()
        self.client.loop_stop()
        with self._cond:
            self._running = False
            self._cond.notify_all()
        if self._writer is not None:
            self._writer.join(timeout)
        log.info("ingest_stopped", worker=self.config.worker_id, **self.counters.as_dict())

    # ------------------------------------------------------------ paho callbacks (network thread)

    def _on_connect(self, client: mqtt.Client, _u: Any, flags: Any, reason: Any, _p: Any) -> None:
        if reason.is_failure:
            log.error("ingest_connect_refused", reason=str(reason))
            return
        # Subscribing again on a resumed session is harmless and covers a session the broker expired.
        filters = contract.subscriptions(shared=self.config.uses_shared, group=self.config.share_group)
        client.subscribe([(f, 1) for f in filters])
        log.info("ingest_connected", session_present=getattr(flags, "session_present", None))

    def _on_subscribe(self, _c: mqtt.Client, _u: Any, _mid: int, reasons: Any, _p: Any) -> None:
        refused = [r for r in reasons if getattr(r, "is_failure", False)]
        if refused:
            log.error("ingest_subscription_refused", reasons=[str(r) for r in refused])
            return
        self._connected.set()

    def _on_disconnect(self, _c: mqtt.Client, _u: Any, _f: Any, reason: Any, _p: Any) -> None:
        self._connected.clear()
        if self._running:
            log.warning("ingest_disconnected", reason=str(reason))

    def _on_message(self, _c: mqtt.Client, _u: Any, message: Message) -> None:
        with self._cond:
            while self._running and len(self._queue) >= self.config.max_buffered:
                self._cond.notify()
                self._cond.wait(0.1)
            self._queue.append(message)
            if len(self._queue) >= self.config.batch_size:
                self._cond.notify()

    # ------------------------------------------------------------ the writer thread

    def _take(self) -> list[Message]:
        cfg = self.config
        with self._cond:
            while self._running and not self._queue:
                self._cond.wait(0.5)
            if not self._queue:
                return []
            deadline = time.monotonic() + cfg.batch_wait_s
            while self._running and len(self._queue) < cfg.batch_size:
                left = deadline - time.monotonic()
                if left <= 0:
                    break
                before = len(self._queue)
                self._cond.wait(min(left, _IDLE_S))
                if len(self._queue) == before:
                    # Nothing more arriving: a quiet moment, or the broker's in-flight window (Receive
                    # Maximum / max_inflight_messages) is full and waits for our acknowledgements.
                    break
            n = min(len(self._queue), cfg.batch_size)
            return [self._queue.popleft() for _ in range(n)]

    def _write_loop(self) -> None:
        while True:
            messages = self._take()
            if not messages:
                if not self._running:
                    return
                continue
            while True:
                try:
                    self.process(messages)
                    break
                except Exception:
                    # Never lose the thread: the messages stay unacknowledged and are tried again.
                    log.exception("ingest_batch_failed", size=len(messages))
                    if not self._running:
                        return
                    time.sleep(1.0)
            if not self.config.ack_on_receipt:
                for message in messages:
                    if message.qos > 0:
                        self.client.ack(message.mid, message.qos)
            self._log_progress()

    def process(self, messages: list[Message]) -> store.Written:
        """Judge, write and commit one batch; retried until it commits (messages are acked after)."""
        attempt, maintained = 0, False
        while True:
            now = self.clock.now()
            try:
                with self.sessions() as session:
                    batch = self._build(session, messages, now)
                    written = store.write_batch(session, batch, self.config.worker_id, now)
                    session.commit()
                self._seen.update(batch.seen)
                break
            except IntegrityError as exc:
                if "no partition" in str(exc) and not maintained:
                    maintained = True
                    self._maintain(now)
                    continue
                log.exception("ingest_batch_refused_splitting", size=len(messages))
                return self._one_by_one(messages)
            except (DataError, ProgrammingError):
                # Validation let through something the database refuses: find it, dead-letter it.
                log.exception("ingest_batch_refused_splitting", size=len(messages))
                return self._one_by_one(messages)
            except (OperationalError, DBAPIError) as exc:
                attempt += 1
                if not self._running and attempt > 3:
                    # Shutting down with the database away: leave the messages unacknowledged.
                    raise
                log.warning("ingest_db_retry", attempt=attempt, error=str(exc).splitlines()[0])
                time.sleep(min(5.0, 0.2 * 2**attempt))
        self._count(len(messages), written)
        if self._on_stored is not None and (written.stored or written.events):
            self._on_stored()
        return written

    def _one_by_one(self, messages: list[Message]) -> store.Written:
        """A batch the database refused despite validation: find the culprit(s), dead-letter them."""
        total = store.Written(0, 0, 0, 0)
        for message in messages:
            now = self.clock.now()
            try:
                with self.sessions() as session:
                    written = store.write_batch(
                        session, self._build(session, [message], now), self.config.worker_id, now
                    )
                    session.commit()
            except (IntegrityError, DataError, ProgrammingError) as exc:
                with self.sessions() as session:
                    batch = store.Batch(received=1)
                    batch.add_dead(
                        message.topic,
                        message.payload,
                        "db_refused",
                        str(exc).splitlines()[0][:500],
                        None,
                        self.config.worker_id,
                        now,
                    )
                    written = store.write_batch(session, batch, self.config.worker_id, now)
                    session.commit()
            self._count(1, written)
            total = store.Written(
                total.stored + written.stored,
                total.duplicate + written.duplicate,
                total.events + written.events,
                total.dead_lettered + written.dead_lettered,
            )
        return total

    def _build(self, session: Session, messages: list[Message], now: datetime) -> store.Batch:
        cfg = self.config
        batch = store.Batch(received=len(messages))
        judged = [
            contract.judge(m.topic, m.payload, now, content_type=content_type(m), limits=cfg.limits)
            for m in messages
        ]
        device_ids = {j.device_id for j in judged if not isinstance(j, contract.Rejected)}
        assets = self._devices.lookup(session, device_ids)
        for message, j in zip(messages, judged, strict=True):
            if isinstance(j, contract.Rejected):
                batch.add_dead(
                    message.topic, message.payload, j.reason, j.detail, j.device_id, cfg.worker_id, now
                )
                continue
            asset_id = assets.get(j.device_id)
            if asset_id is None:
                batch.add_dead(
                    message.topic,
                    message.payload,
                    "unknown_device",
                    f"device {j.device_id!r} is not registered or is disabled",
                    j.device_id,
                    cfg.worker_id,
                    now,
                )
                continue
            if isinstance(j, contract.StatusMessage):
                batch.statuses[j.device_id] = (j.status.value, now)
                continue
            if isinstance(j, contract.TelemetryMessage):
                batch.add_telemetry(j.device_id, asset_id, j.ts, j.seq, j.metrics, now)
            else:
                batch.events.append(
                    {
                        "device_id": j.device_id,
                        "asset_id": asset_id,
                        "ts": j.ts,
                        "seq": j.seq if j.seq is not None else -1,
                        "code": j.code,
                        "severity": j.severity.value,
                        "detail": j.detail,
                        "received_at": now,
                    }
                )
            previous = self._seen.get(j.device_id)
            if previous is None or j.ts >= previous + cfg.seen_granularity:
                batch.seen[j.device_id] = max(j.ts, batch.seen.get(j.device_id, j.ts))
        return batch

    def _maintain(self, now: datetime) -> None:
        with self.sessions() as session:
            store.maintain_partitions(session, now)

    def _count(self, received: int, written: store.Written) -> None:
        c = self.counters
        c.received += received
        c.stored += written.stored
        c.duplicate += written.duplicate
        c.dead_lettered += written.dead_lettered
        c.events += written.events
        c.batches += 1

    def _log_progress(self) -> None:
        now = time.monotonic()
        if now - self._last_log >= 10:
            self._last_log = now
            log.info(
                "ingest_progress",
                worker=self.config.worker_id,
                **self.counters.as_dict(),
            )
