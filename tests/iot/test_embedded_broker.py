"""The embedded broker end to end: devices sign in with registry credentials, telemetry is stored once."""

from __future__ import annotations

import time
from datetime import UTC, datetime

from fieldops.wiring import System
from iot import contract
from iot.mqtt import BrokerUrl
from tests.iot.conftest import WorkerFactory
from tests.iot.helpers import Publisher, count, register, wait_until
from tests.world import World


def test_device_telemetry_is_stored(
    system: System, world: World, embedded_url: BrokerUrl, ingest: WorkerFactory
) -> None:
    creds = register(system, "dev-1", world.ids["asset"])
    worker = ingest(embedded_url)
    device = Publisher(embedded_url.with_credentials("dev-1", creds.password), "dev-1")
    assert device.connect()
    now = int(datetime.now(UTC).timestamp() * 1000)
    for i in range(50):
        body = contract.encode_json({"ts": now + i, "seq": i, "metrics": {"temp": 20.0 + i}})
        device.publish(contract.telemetry_topic("dev-1"), body)
    device.close()
    wait_until(lambda: count(system) == 50)
    time.sleep(0.2)
    assert worker.counters.stored == 50
