"""At-least-once delivery, made exactly-once in storage, on both real brokers.

A killed worker's unacknowledged messages come back and are stored once; 10,000 hostile payloads are
dead-lettered while good telemetry keeps flowing; on Mosquitto, two workers share the subscription.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import sqlalchemy as sa

from fieldops.wiring import System
from iot import contract
from iot.broker import EmbeddedBroker
from iot.models import DeadLetter, IotWorker, TelemetryRow
from iot.mqtt import BrokerUrl
from iot.registry import INGEST_USER
from iot.simulator import _MALFORMED
from tests.iot.conftest import WorkerFactory
from tests.iot.helpers import (
    INGEST_PASSWORD,
    Publisher,
    count,
    purge_session,
    register,
    telemetry,
    unique,
    wait_until,
)
from tests.world import World

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(params=["embedded", pytest.param("mosquitto", marks=pytest.mark.mosquitto)])
def broker(request: pytest.FixtureRequest) -> Iterator[tuple[str, BrokerUrl, bool]]:
    """(kind, URL for the ingest account, MQTT 5?) of a real broker."""
    if request.param == "embedded":
        embedded: EmbeddedBroker = request.getfixturevalue("embedded")
        yield "embedded", BrokerUrl("127.0.0.1", embedded.port, INGEST_USER, INGEST_PASSWORD, False), False
    else:
        yield "mosquitto", request.getfixturevalue("mosquitto_url"), True


def _device_url(kind: str, url: BrokerUrl, device_id: str, password: str) -> BrokerUrl:
    return (
        url.with_credentials(device_id, password) if kind == "embedded" else url.with_credentials(None, None)
    )


def _db_url(system: System) -> str:
    return system.engine.url.render_as_string(hide_password=False)


def _spawn(
    system: System, url: BrokerUrl, worker_id: str, group: str, v5: bool, pause: float
) -> subprocess.Popen[str]:
    broker = (
        f"mqtt://{url.username}:{url.password}@{url.host}:{url.port}"
        if url.username
        else f"mqtt://{url.host}:{url.port}"
    )
    args = [
        sys.executable,
        "-m",
        "tests.iot.ingest_process",
        "--db",
        _db_url(system),
        "--broker",
        broker,
        "--worker-id",
        worker_id,
        "--group",
        group,
        "--pause-after-commit",
        str(pause),
    ]
    if v5:
        args.append("--v5")
    proc = subprocess.Popen(
        args,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env={**os.environ, "PYTHONPATH": str(ROOT)},
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().strip()
    assert line == "connected", line
    return proc


@pytest.mark.mosquitto
def test_a_killed_workers_messages_are_redelivered_and_stored_once(
    system: System, world: World, mosquitto_url: BrokerUrl, ingest: WorkerFactory
) -> None:
    """Mosquitto keeps a killed worker's unacknowledged messages with its session and delivers them again.

    (amqtt, the embedded broker, drops a message whose PUBACK is 5 s late or whose connection died; there
    the broker and the worker share the `fieldops serve` process, so they live and die together.)
    """
    kind, url, v5 = "mosquitto", mosquitto_url, True
    device_id = unique("dev")
    creds = register(system, device_id, world.ids["asset"])
    worker_id, group = unique("killed"), unique("grp")
    # A worker that holds each batch for a long time after committing it, before acknowledging.
    proc = _spawn(system, url, worker_id, group, v5, pause=60)
    device = Publisher(_device_url(kind, url, device_id, creds.password), device_id)
    assert device.connect()
    n = 600
    for i in range(n):
        device.publish(contract.telemetry_topic(device_id), telemetry(i), wait=False)
    assert proc.stdout is not None
    assert proc.stdout.readline().startswith("committed")  # one batch in the database, none acknowledged
    proc.send_signal(signal.SIGKILL)
    proc.wait(10)
    stored_before = count(system)
    assert 0 < stored_before < n
    # The same worker id comes back: its session, with everything unacknowledged, is waiting for it.
    worker = ingest(url, worker_id, v5=v5, share_group=group)
    device.close()
    wait_until(lambda: count(system) == n, timeout=30)
    wait_until(lambda: worker.counters.duplicate >= stored_before, timeout=10)
    time.sleep(0.5)
    assert count(system) == n
    with system.runtime.sessions() as s:
        seqs = list(s.scalars(sa.select(TelemetryRow.seq).order_by(TelemetryRow.seq)))
    assert seqs == list(range(n))
    if v5:
        purge_session(url, worker.config.client_id)


def test_messages_sent_while_the_worker_is_away_wait_for_it(
    system: System, world: World, broker: tuple[str, BrokerUrl, bool], ingest: WorkerFactory
) -> None:
    kind, url, v5 = broker
    device_id = unique("dev")
    creds = register(system, device_id, world.ids["asset"])
    worker_id, group = unique("away"), unique("grp")
    worker = ingest(url, worker_id, v5=v5, share_group=group)
    device = Publisher(_device_url(kind, url, device_id, creds.password), device_id)
    assert device.connect()
    for i in range(100):
        device.publish(contract.telemetry_topic(device_id), telemetry(i), wait=False)
    wait_until(lambda: count(system) == 100)
    worker.stop()  # the session stays with the broker
    if kind == "embedded":
        # amqtt drops (rather than requeues) a QoS 1 message it was sending to a subscriber at the very
        # moment that subscriber disconnected; let the disconnect finish first. Mosquitto has no such gap.
        time.sleep(1.0)
    for i in range(100, 400):
        device.publish(contract.telemetry_topic(device_id), telemetry(i), wait=False)
    device.publish(contract.telemetry_topic(device_id), telemetry(399), wait=True)  # and a duplicate
    assert count(system) == 100
    again = ingest(url, worker_id, v5=v5, share_group=group)
    wait_until(lambda: count(system) == 400)
    wait_until(lambda: again.counters.duplicate == 1)
    device.close()


def test_ten_thousand_hostile_payloads_are_dead_lettered_while_good_ones_flow(
    system: System, world: World, broker: tuple[str, BrokerUrl, bool], ingest: WorkerFactory
) -> None:
    kind, url, v5 = broker
    device_id = unique("dev")
    creds = register(system, device_id, world.ids["asset"])
    worker = ingest(url, unique("w"), v5=v5, share_group=unique("grp"))
    device = Publisher(_device_url(kind, url, device_id, creds.password), device_id)
    assert device.connect()
    topic = contract.telemetry_topic(device_id)
    now_ms = int(time.time() * 1000)
    hostile, good = 10_000, 1_000
    extra = [
        (contract.telemetry_topic("not-registered"), telemetry(1)),
        (contract.events_topic(device_id), b'{"ts": 1, "code": "E1"}'),  # 1970
        (contract.status_topic(device_id), b"sleeping"),
        (topic, b"\x00" * 20_000),  # too large
        (topic, contract.encode_json({"ts": now_ms, "metrics": {"t": 1}, "device": "someone-else"})),
    ]
    sent_good = 0
    for i in range(hostile):
        if i < len(extra):
            t, body = extra[i]
        else:
            t, body = topic, _MALFORMED[i % len(_MALFORMED)](now_ms)
        device.publish(t, body, wait=False)
        if i % 10 == 0:
            device.publish(topic, telemetry(sent_good, ts_ms=now_ms + sent_good), wait=False)
            sent_good += 1
        if i % 500 == 499:
            # Keep within what a broker with default limits queues per subscriber (Mosquitto:
            # max_queued_messages 1000; past it, it drops QoS 1 messages and logs "Outgoing messages are
            # being dropped"): this test is about the worker, not about the broker's queue depth.
            sent = i + 1 + sent_good

            def caught_up(sent: int = sent) -> bool:
                return worker.counters.received >= sent - 10

            wait_until(caught_up, timeout=60)
    device.publish(topic, telemetry(sent_good), wait=True)
    sent_good += 1
    assert sent_good == good + 1
    # The embedded broker itself refuses the publish on another device's topic; Mosquitto here is open.
    dead = hostile - 1 if kind == "embedded" else hostile
    wait_until(lambda: count(system, DeadLetter) == dead and count(system) == sent_good, timeout=90)
    with system.runtime.sessions() as s:
        reasons = dict(
            s.execute(sa.select(DeadLetter.reason, sa.func.count()).group_by(DeadLetter.reason))
            .tuples()
            .all()
        )
        row = s.get_one(IotWorker, worker.config.worker_id)
    expected = {"malformed", "invalid", "not_utf8", "ts_in_future", "ts_too_old", "too_large", "bad_status"}
    expected |= {"device_mismatch", "bad_encoding"} | ({"unknown_device"} if kind == "mosquitto" else set())
    assert expected <= set(reasons), reasons
    assert row.dead_lettered == dead and row.stored == sent_good
    device.close()


@pytest.mark.mosquitto
def test_two_workers_share_the_subscription_and_store_each_message_once(
    system: System, world: World, mosquitto_url: BrokerUrl, ingest: WorkerFactory
) -> None:
    group = unique("grp")
    a = ingest(mosquitto_url, unique("a"), v5=True, share_group=group, batch_size=100)
    b = ingest(mosquitto_url, unique("b"), v5=True, share_group=group, batch_size=100)
    devices = [unique("dev") for _ in range(4)]
    for d in devices:
        register(system, d, world.ids["asset"])
    pub = Publisher(mosquitto_url, unique("pub"), v5=True)
    assert pub.connect()
    n = 0
    for i in range(500):
        for d in devices:
            body = telemetry(i)
            pub.publish(contract.telemetry_topic(d), body, wait=False)
            n += 1
            if i % 10 == 0:  # a device resending: stored once
                pub.publish(contract.telemetry_topic(d), body, wait=False)
    pub.publish(contract.status_topic(devices[0]), b"online", wait=True)
    wait_until(lambda: count(system) == n, timeout=30)
    wait_until(lambda: a.counters.received + b.counters.received == n + 200 + 1, timeout=10)
    assert a.counters.received > 0 and b.counters.received > 0
    assert a.counters.duplicate + b.counters.duplicate == 200
    pub.close()
