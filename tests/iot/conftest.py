"""IoT fixtures: real brokers (the embedded amqtt on a free port, Mosquitto) and ingest workers."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest

from core.domain.clock import SystemClock
from fieldops.wiring import System
from iot.broker import EmbeddedBroker
from iot.ingest import IngestConfig, IngestWorker
from iot.mqtt import BrokerUrl
from iot.registry import INGEST_USER
from tests.iot.helpers import INGEST_PASSWORD, free_port, purge_session
from tests.services import MQTT_URL, tcp_reachable, unavailable


@pytest.fixture
def clock() -> SystemClock:
    """Brokers, devices and workers live in real time here."""
    return SystemClock()


@pytest.fixture
def embedded(system: System) -> Iterator[EmbeddedBroker]:
    broker = EmbeddedBroker(
        system.runtime.sessions, port=free_port(), service_accounts={INGEST_USER: INGEST_PASSWORD}
    )
    broker.start()
    yield broker
    broker.stop()


@pytest.fixture
def embedded_url(embedded: EmbeddedBroker) -> BrokerUrl:
    return BrokerUrl("127.0.0.1", embedded.port, None, None, False)


@pytest.fixture
def mosquitto_url() -> BrokerUrl:
    reason = tcp_reachable(MQTT_URL)
    if reason:
        unavailable("Mosquitto", reason)
    return BrokerUrl.parse(MQTT_URL)


WorkerFactory = Callable[..., IngestWorker]


@pytest.fixture
def ingest(system: System) -> Iterator[WorkerFactory]:
    started: list[IngestWorker] = []

    def start(
        broker: BrokerUrl, worker_id: str = "t1", *, v5: bool = False, **options: object
    ) -> IngestWorker:
        url = broker.with_credentials(INGEST_USER, INGEST_PASSWORD) if not v5 else broker
        worker = IngestWorker(
            system.runtime.sessions,
            system.runtime.clock,
            # On the embedded broker as `fieldops serve` runs it: acknowledged on receipt (iot.ingest).
            IngestConfig(broker=url, worker_id=worker_id, v5=v5, ack_on_receipt=not v5, **options),  # type: ignore[arg-type]
        )
        worker.start()
        assert worker.wait_connected(10), "the ingest worker did not connect"
        started.append(worker)
        return worker

    yield start
    for worker in started:
        worker.stop()
        if worker.config.v5:
            purge_session(worker.config.broker, worker.config.client_id)
